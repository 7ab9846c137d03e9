"""cfn-lint's repeated work, done once per process instead of once per template or per value.

Measured on the three CloudFormation corpora (846 templates; `python -m benchmarks.profile_engines`),
work cfn-lint repeats without changing its answer (the rule runner and E1101's keyword index
are described where they are defined):

- `Validator.extend` builds a new validator *class* (a dataclass: `exec` of its generated
  methods) for every extension, 15,000 times on the corpora (12% of cfn-lint's time): the class
  is memoized by what defines it (its keyword functions, its function filter's settings, its
  function resolvers). Each such class also built and threw away an empty `Template` (with its
  graph) per extension: `BaseJsonSchema.extend_validator` now builds the validator it returns
  directly, with the same fields.
- `Validator.evolve` and `Context.evolve` ask `dataclasses.fields()` for the same fields 2.7
  million times (10%): the names are computed once per class.
- E3062 (`DbInstanceDbInstanceClassWithEngine`) checks every `DBInstance` against 924
  if/then pairs, one per engine and version (17% of cfn-lint's time on the corpora, 60% on
  generated templates); 858 of them cannot apply to a written engine name. When `Engine`,
  `EngineVersion` and `DBInstanceClass` are plain values (no function, nothing unknown), the
  pairs of other engines are left out: their `if` fails on `Engine` alone and yields no error
  at all, known or unknown. Any other instance gets the full schema.
- `regex.search(pattern, value)` and its kin look the compiled pattern up in regex's own cache
  on every call, at about 15 µs a lookup (an import statement, locale and named-list checks,
  a key of six parts): 144,000 calls on 619 templates, 5% of cfn-lint's time. A string pattern
  without named lists is compiled once per (pattern, flags) and its method called with the
  same arguments; anything else goes to regex's own function.
- SAM's translator validates its bundled policy templates against their JSON Schema on every
  translation (60 ms a template): the processor of the bundled templates is built once. It
  also builds a boto3 session (30 ms) to read one setting, the region, which cfn-lint sets in
  the environment before each translation: one session per region setting.

Every change replaces a function or method at run time, in this process, with one that gives
the same result (cfn-lint's and SAM's files are untouched); `install()` is idempotent. The
tests compare findings with and without them on the corpora.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from typing import Any, Callable, Iterator, Mapping

_installed = False
_E3062 = "E3062"
_E1101 = "E1101"
_E3062_PROPERTIES = ("Engine", "EngineVersion", "DBInstanceClass")


def install() -> None:
    """Install every speed-up in this process (once)."""
    global _installed
    if _installed:
        return
    _memoize_validator_classes()
    _fast_context_evolve()
    _direct_extend_validator()
    _reuse_sam_policy_templates()
    _reuse_sam_sessions()
    _memoize_regex_patterns()
    _installed = True


# -- regex ----------------------------------------------------------------------------------
_REGEX_MEMO_SIZE = 8192  # patterns kept compiled; past that, regex's own cache as before


def _memoize_regex_patterns() -> None:
    regex: Any = importlib.import_module("regex")
    compiled: dict[tuple[str, int], Any] = {}
    compile_pattern = regex.compile

    def pattern_for(pattern: str, flags: int) -> Any:
        if flags & regex.DEBUG:  # regex compiles (and prints) these every time
            return compile_pattern(pattern, flags)
        key = (pattern, flags)
        found = compiled.get(key)
        if found is None:
            found = compile_pattern(pattern, flags)  # raises as regex's function would, and caches nothing
            if len(compiled) < _REGEX_MEMO_SIZE:
                compiled[key] = found
        return found

    match, fullmatch, search, findall = regex.match, regex.fullmatch, regex.search, regex.findall

    def fast_match(pattern: Any, string: Any, flags: int = 0, pos: Any = None, endpos: Any = None, partial: bool = False,
                   concurrent: Any = None, timeout: Any = None, ignore_unused: bool = False, **kwargs: Any) -> Any:
        if kwargs or type(pattern) is not str:
            return match(pattern, string, flags, pos, endpos, partial, concurrent, timeout, ignore_unused, **kwargs)
        return pattern_for(pattern, flags).match(string, pos, endpos, concurrent, partial, timeout)

    def fast_fullmatch(pattern: Any, string: Any, flags: int = 0, pos: Any = None, endpos: Any = None, partial: bool = False,
                       concurrent: Any = None, timeout: Any = None, ignore_unused: bool = False, **kwargs: Any) -> Any:
        if kwargs or type(pattern) is not str:
            return fullmatch(pattern, string, flags, pos, endpos, partial, concurrent, timeout, ignore_unused, **kwargs)
        return pattern_for(pattern, flags).fullmatch(string, pos, endpos, concurrent, partial, timeout)

    def fast_search(pattern: Any, string: Any, flags: int = 0, pos: Any = None, endpos: Any = None, partial: bool = False,
                    concurrent: Any = None, timeout: Any = None, ignore_unused: bool = False, **kwargs: Any) -> Any:
        if kwargs or type(pattern) is not str:
            return search(pattern, string, flags, pos, endpos, partial, concurrent, timeout, ignore_unused, **kwargs)
        return pattern_for(pattern, flags).search(string, pos, endpos, concurrent, partial, timeout)

    def fast_findall(pattern: Any, string: Any, flags: int = 0, pos: Any = None, endpos: Any = None, overlapped: bool = False,
                     concurrent: Any = None, timeout: Any = None, ignore_unused: bool = False, **kwargs: Any) -> Any:
        if kwargs or type(pattern) is not str:
            return findall(pattern, string, flags, pos, endpos, overlapped, concurrent, timeout, ignore_unused, **kwargs)
        return pattern_for(pattern, flags).findall(string, pos, endpos, overlapped, concurrent, timeout)

    regex.match, regex.fullmatch, regex.search, regex.findall = fast_match, fast_fullmatch, fast_search, fast_findall


# -- validator classes ----------------------------------------------------------------------
def _evolve_for(cls: type) -> Callable[..., Any]:
    """`Validator.evolve` (copy with changes) without asking dataclasses for the fields each time."""
    names = tuple(f.name for f in dataclasses.fields(cls) if f.init)

    def evolve(self: Any, **kwargs: Any) -> Any:
        for name in names:
            if name not in kwargs:
                kwargs[name] = getattr(self, name)
        return self.__class__(**kwargs)

    return evolve


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
            cls.evolve = _evolve_for(cls)
            classes[key] = cls
        return cls

    module.create = create  # `Validator.extend` calls the module's `create`
    for cls in (module.CfnTemplateValidator, module.StandardValidator):
        cls.evolve = _evolve_for(cls)


def _fast_context_evolve() -> None:
    from cfnlint.context.context import Context

    names = tuple(f.name for f in dataclasses.fields(Context) if f.init)

    def evolve(self: Any, **kwargs: Any) -> Any:
        if "ref_values" in kwargs:
            ref_values = self.ref_values.copy()
            ref_values.update(kwargs["ref_values"])
            kwargs["ref_values"] = ref_values
        for name in names:
            if name not in kwargs:
                kwargs[name] = getattr(self, name)
        return self.__class__(**kwargs)

    setattr(Context, "evolve", evolve)


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


# -- the rule runner ------------------------------------------------------------------------
def run_rules(rules: Any, filename: str, cfn: Any, config: Any) -> Iterator[Any]:
    """cfn-lint's `Rules.run` (1.51-1.53), with its two loops over every rule made direct:
    linking a child rule tests `key in data` (cfn-lint compares the key with every rule id, for
    every child of every rule, for every template: 47 million comparisons on the corpora), and a
    resource is handed only to the rules that check its type (cfn-lint starts every rule's
    check on every resource, and the check returns at once for other types). Same rules, same
    order, same matches; a rule's use is recorded as cfn-lint records it."""
    enabled_rule_ids = set()
    for rule_id, rule in rules.data.items():
        rule.configure(config.configure_rules.get(rule_id, None), config.include_experimental)
        rule.initialize(cfn)
        if rules.is_rule_enabled(rule_id, config):
            enabled_rule_ids.add(rule_id)
    for rule_id, rule in rules.data.items():
        for key in rule.child_rules.keys():
            if key in rules.data:
                rule.child_rules[key] = rules.data.get(key)
        for parent_rule in rule.parent_rules:
            if parent_rule in rules.data:
                rules.data[parent_rule].child_rules[rule_id] = rule
    for rule_id, rule in rules.data.items():
        yield from rules._filter_matches(enabled_rule_ids, rules.run_check(
            rule.matchall, filename, rule_id, config, enabled_rule_ids, filename, cfn))
    for resource_name, resource_attributes in cfn.get_resources().items():
        resource_type = resource_attributes.get("Type")
        resource_properties = resource_attributes.get("Properties")
        if isinstance(resource_type, str) and isinstance(resource_properties, dict):
            path = ["Resources", resource_name, "Properties"]
            for rule_id, rule in rules.data.items():
                if resource_type not in rule.resource_property_types:
                    if rule_id in enabled_rule_ids:
                        rules._used_rules[rule_id] = rule  # as run_check records it
                    continue
                yield from rules._filter_matches(enabled_rule_ids, rules.run_check(
                    rule.matchall_resource_properties, filename, rule_id, config, enabled_rule_ids, filename, cfn,
                    resource_properties, resource_type, path))


# -- E3062 ----------------------------------------------------------------------------------
def tune_rules(rules: Any) -> None:
    """Per-rule speed-ups on a loaded rule set: E3062 checks only the if/then pairs of the
    written engine; E1101 finds the rules of a keyword in an index."""
    rule = rules.data.get(_E3062)
    if rule is not None and not isinstance(rule.__dict__.get("validate"), _ClassByEngine):
        rule.validate = _ClassByEngine(rule)
    dispatcher = rules.data.get(_E1101)
    if dispatcher is not None and not isinstance(dispatcher.__dict__.get("cfnLint"), _IndexedKeywords):
        dispatcher.cfnLint = _IndexedKeywords(dispatcher)


class _IndexedKeywords:
    """E1101's `cfnLint` keyword: each keyword's rules from an index, not a scan of every child
    rule's keywords (73,000 scans on the corpora, 8% of cfn-lint's time). The index is rebuilt
    whenever the child rules change; rules run in the same order, as often, as cfn-lint runs them."""

    def __init__(self, rule: Any) -> None:
        self.rule = rule
        self.signature: tuple[int, ...] = ()
        self.index: dict[str, list[Any]] = {}

    def rules_for(self, keyword: str) -> list[Any]:
        children = self.rule.child_rules
        signature = tuple(map(id, children.values()))
        if signature != self.signature:
            index: dict[str, list[Any]] = {}
            for child in children.values():
                if child is None or not child.id:
                    continue
                for child_keyword in child.keywords:
                    index.setdefault(child_keyword, []).append(child)
            self.index, self.signature = index, signature
        return self.index.get(keyword, [])

    def __call__(self, validator: Any, keywords: Any, instance: Any, schema: Any) -> Iterator[Any]:
        from cfnlint.jsonschema._utils import Unset

        validator = validator.evolve(function_filter=validator.function_filter.evolve(add_cfn_lint_keyword=False))
        for keyword in keywords:
            for rule in self.rules_for(keyword):
                for err in rule.validate(validator, keyword, instance, schema):
                    if err.rule is None and isinstance(err.validator, Unset):
                        err.rule = rule
                    yield err


class _ClassByEngine:
    """E3062's `validate` with the if/then pairs of the written engine only (see the module doc)."""

    def __init__(self, rule: Any) -> None:
        self.rule = rule
        self.original = rule.validate  # the bound method
        self.full: dict[str, Any] = rule._schema
        self.by_engine: dict[str, dict[str, Any]] = {}
        rule._use_schema_arg = True  # cfn-lint then validates with the schema passed in

    def __call__(self, validator: Any, keywords: Any, instance: Any, schema: Any) -> Iterator[Any]:
        yield from self.original(validator, keywords, instance, self.schema_for(instance))

    def schema_for(self, instance: Any) -> dict[str, Any]:
        if not isinstance(instance, dict) or not isinstance(instance.get("Engine"), str):
            return self.full
        if any(isinstance(instance.get(name), (dict, list)) for name in _E3062_PROPERTIES):
            return self.full  # a function: its value (or unknown) decides
        engine = instance["Engine"].lower()
        if engine in ("true", "false"):
            return self.full  # cfn-lint compares these as booleans
        if engine not in self.by_engine:
            self.by_engine[engine] = {**self.full, "allOf": [p for p in self.full["allOf"] if _may_apply(p, engine)]}
        return self.by_engine[engine]


def _may_apply(pair: Any, engine: str) -> bool:
    """False only for a pair whose `if` requires another constant engine."""
    try:
        const = pair["if"]["properties"]["Engine"]["const"]
    except (KeyError, TypeError):
        return True
    return not isinstance(const, str) or const == engine


# -- SAM ------------------------------------------------------------------------------------
def _reuse_sam_policy_templates() -> None:
    # Through importlib: SAM's modules are typed as untyped for mypy.
    plugin: Any = importlib.import_module("samtranslator.plugins.policies.policy_templates_plugin")
    templates: Any = importlib.import_module("samtranslator.policy_template_processor.processor")
    translator: Any = importlib.import_module("samtranslator.translator.translator")
    PolicyTemplatesProcessor = templates.PolicyTemplatesProcessor

    processor: list[Any] = []

    def make_policy_template_for_function_plugin() -> Any:
        if not processor:
            processor.append(PolicyTemplatesProcessor(PolicyTemplatesProcessor.get_default_policy_templates_json()))
        return plugin.PolicyTemplatesForResourcePlugin(processor[0])

    setattr(translator, "make_policy_template_for_function_plugin", make_policy_template_for_function_plugin)


_SESSION_SETTINGS = ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


def _reuse_sam_sessions() -> None:
    parameter: Any = importlib.import_module("samtranslator.sdk.parameter")
    values_class = parameter.SamParameterValues
    original = values_class.add_pseudo_parameter_values
    sessions: dict[tuple[str | None, ...], Any] = {}

    def add_pseudo_parameter_values(self: Any, session: Any = None) -> None:
        if session is None:
            key = tuple(os.environ.get(name) for name in _SESSION_SETTINGS)
            if key not in sessions:
                sessions[key] = parameter.boto3.session.Session()
            session = sessions[key]
        original(self, session)

    setattr(values_class, "add_pseudo_parameter_values", add_pseudo_parameter_values)
