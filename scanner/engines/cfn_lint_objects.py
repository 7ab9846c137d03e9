"""cfn-lint's validators, contexts and paths, made without its repeated work (measured on the
three CloudFormation corpora, 846 templates, with `python -m benchmarks.profile_engines` and
py-spy):

- `Validator.extend` builds a new validator *class* (a dataclass: `exec` of its generated
  methods) for every extension, 15,000 times on the corpora (12% of cfn-lint's time): the class
  is memoized by what defines it (its keyword functions, its function filter's settings, its
  function resolvers). Each such class also built and threw away an empty `Template` (with its
  graph) per extension: `BaseJsonSchema.extend_validator` now builds the validator it returns
  directly, with the same fields.
- Each property a schema descends into gets a new `Path`, `Context` and `Validator` (370,000
  descents, 1.4 million copies on the corpora), each through `evolve`, which asks
  `dataclasses.fields()` for the fields and then runs the class's generated `__init__` (for the
  frozen `Context`, an `object.__setattr__` per field): a fifth of cfn-lint's time. The copies
  are now made directly (`_copier`): the same fields, in the same order, with the same values,
  `__post_init__` run where the class has one; anything unusual goes through `__init__`.

Every change replaces a method at run time, in this process (cfn-lint's files are untouched);
`cfn_lint_speedups.install()` installs them once.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import Any, Callable, Mapping

_PATH_FIELDS = ("path", "value_path", "cfn_path")  # cfn-lint's `Path`, in its order


def install() -> None:
    _memoize_validator_classes()
    _fast_context_evolve()
    _direct_extend_validator()


def _copier(cls: type) -> Callable[..., Any]:
    """`copy(obj, **changes)`: the instance `type(obj)(**{every init field of obj, **changes})`
    would give, made without running the dataclass's generated `__init__`."""
    fields = dataclasses.fields(cls)
    names = frozenset(f.name for f in fields if f.init)
    plan: tuple[tuple[str, Callable[[], Any] | None], ...] = tuple(
        (f.name, None if f.init else f.default_factory) for f in fields)  # type: ignore[misc]  # MISSING: by_init below
    post_init = getattr(cls, "__post_init__", None)

    def by_init(obj: Any, **changes: Any) -> Any:
        for name in names:
            if name not in changes:
                changes[name] = getattr(obj, name)
        return obj.__class__(**changes)

    if not _plain_dataclass(cls) or any(not (f.init or callable(f.default_factory)) for f in fields):
        return by_init

    factories = tuple((name, factory) for name, factory in plan if factory is not None)
    count = len(plan)

    def copy(obj: Any, **changes: Any) -> Any:
        if type(obj) is not cls or not changes.keys() <= names:
            return by_init(obj, **changes)  # `__init__` raises or fills in, as before
        new = object.__new__(cls)
        values = new.__dict__
        values.update(obj.__dict__)
        if len(values) != count:  # more than the fields (a cached property), or fewer
            values.clear()
            try:
                for name, _ in plan:  # in field order, as `__init__` assigns them
                    values[name] = obj.__dict__[name]
            except KeyError:
                return by_init(obj, **changes)
        values.update(changes)
        for name, factory in factories:
            values[name] = factory()
        if post_init is not None:
            post_init(new)
        return new

    return copy


def _plain_dataclass(cls: type) -> bool:
    """Whether `__init__` does nothing but set the fields in `__dict__`: no slots, no init-only
    or class variables, no `__setattr__` of its own (a frozen class's only refuses changes)."""
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__slots__"):
        return False
    frozen = getattr(getattr(cls, "__dataclass_params__", None), "frozen", False)
    own_setattr = any("__setattr__" in vars(base) for base in cls.__mro__[:-1])
    declared = getattr(cls, "__dataclass_fields__", {})
    return (frozen or not own_setattr) and len(declared) == len(dataclasses.fields(cls))


def _identity(value: Any) -> tuple[Any, ...]:
    """A keyword function as a cache key: bound methods are new objects at each lookup."""
    owner = getattr(value, "__self__", None)
    function = getattr(value, "__func__", None)
    if owner is not None and function is not None:
        return ("method", id(owner), function)
    return ("object", id(value))


def _filter_key(function_filter: Any) -> tuple[Any, ...]:
    values = (getattr(function_filter, f.name) for f in dataclasses.fields(function_filter))
    return (type(function_filter), *(tuple(v) if isinstance(v, list) else v for v in values))


def _memoize_validator_classes() -> None:
    from cfnlint.jsonschema import validators as module
    from cfnlint.jsonschema._filter import FunctionFilter

    original = module.create
    classes: dict[tuple[Any, ...], Any] = {}  # values keep the keyed objects alive (ids stay valid)

    def create(validators: Mapping[str, Any] | None = None, function_filter: Any = None,
               fn_resolvers: Mapping[str, Any] | None = None) -> Any:
        chosen_filter = function_filter or FunctionFilter()
        key = (
            tuple((name, _identity(v)) for name, v in (validators or {}).items()),
            _filter_key(chosen_filter),
            tuple((name, _identity(v)) for name, v in (fn_resolvers or {}).items()),
        )
        cls = classes.get(key)
        if cls is None:
            cls = original(validators=validators, function_filter=chosen_filter, fn_resolvers=fn_resolvers)
            cls.evolve = _copier(cls)
            classes[key] = cls
        return cls

    module.create = create  # `Validator.extend` calls the module's `create`
    for cls in (module.CfnTemplateValidator, module.StandardValidator):
        cls.evolve = _copier(cls)


def _fast_context_evolve() -> None:
    """`Context.evolve` and `Path.descend`, as cfn-lint defines them, with the copy made by `_copier`."""
    from cfnlint.context.context import Context, Path
    from cfnlint.helpers import FUNCTIONS

    copy_context, copy_path = _copier(Context), _copier(Path)

    def evolve(self: Any, **kwargs: Any) -> Any:
        if "ref_values" in kwargs:
            ref_values = self.ref_values.copy()
            ref_values.update(kwargs["ref_values"])
            kwargs["ref_values"] = ref_values
        return copy_context(self, **kwargs)

    def descend(self: Any, **kwargs: Any) -> Any:
        if kwargs.get("cfn_path") in FUNCTIONS:
            raise ValueError(f"{kwargs['cfn_path']!r} cannot be in 'cfn_path'")
        elif isinstance(kwargs.get("cfn_path"), int):
            raise ValueError(f"{kwargs['cfn_path']!r} cannot be an integer")
        for name in _PATH_FIELDS:
            if kwargs.get(name) is not None:
                kwargs[name] = getattr(self, name) + deque([kwargs[name]])
            else:
                kwargs[name] = getattr(self, name)
        return copy_path(self, **kwargs)

    setattr(Context, "evolve", evolve)
    if tuple(f.name for f in dataclasses.fields(Path)) == _PATH_FIELDS:
        setattr(Path, "descend", descend)


def _direct_extend_validator() -> None:
    """cfn-lint builds `cls(schema=schema)` (with a throwaway empty Template, its context and a
    resolver) and then evolves it with the real template, context and resolver: build that one."""
    from cfnlint.rules.jsonschema.Base import BaseJsonSchema
    from cfnlint.schema.resolver import RefResolver

    def extend_validator(self: Any, validator: Any, schema: Any, context: Any,
                         validators: dict[str, Any] | None = None) -> Any:
        all_validators = self._get_validators()
        if validators:
            all_validators.update(validators)
        cls = validator.extend(validators=all_validators)
        return cls(schema=schema, cfn=validator.cfn, context=context, resolver=RefResolver.from_schema(schema))

    setattr(BaseJsonSchema, "extend_validator", extend_validator)
