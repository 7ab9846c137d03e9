"""cfn-lint's repeated work, done once per process instead of once per template or per value.

Measured on the three CloudFormation corpora (846 templates; `python -m benchmarks.profile_engines`),
work cfn-lint repeats without changing its answer (the rule runner and E1101's keyword index
are described where they are defined):

- Validators, contexts and paths: their classes built once, their copies made without the
  generated `__init__` (`cfn_lint_objects`).
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

import importlib
import os
from typing import Any, Callable, Iterator

from scanner.engines import cfn_lint_objects

_installed = False
_E3062 = "E3062"
_E1101 = "E1101"
_E3062_PROPERTIES = ("Engine", "EngineVersion", "DBInstanceClass")


def install() -> None:
    """Install every speed-up in this process (once)."""
    global _installed
    if _installed:
        return
    cfn_lint_objects.install()
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

    def fast(name: str) -> Callable[..., Any]:
        """`regex.match`, `fullmatch` or `search`, which take the same arguments in the same order."""
        original, method = getattr(regex, name), getattr(type(compile_pattern("")), name)

        def call(pattern: Any, string: Any, flags: int = 0, pos: Any = None, endpos: Any = None, partial: bool = False,
                 concurrent: Any = None, timeout: Any = None, ignore_unused: bool = False, **kwargs: Any) -> Any:
            if kwargs or type(pattern) is not str:
                return original(pattern, string, flags, pos, endpos, partial, concurrent, timeout, ignore_unused, **kwargs)
            return method(pattern_for(pattern, flags), string, pos, endpos, concurrent, partial, timeout)

        call.__name__ = f"fast_{name}"
        return call

    findall = regex.findall

    def fast_findall(pattern: Any, string: Any, flags: int = 0, pos: Any = None, endpos: Any = None, overlapped: bool = False,
                     concurrent: Any = None, timeout: Any = None, ignore_unused: bool = False, **kwargs: Any) -> Any:
        if kwargs or type(pattern) is not str:
            return findall(pattern, string, flags, pos, endpos, overlapped, concurrent, timeout, ignore_unused, **kwargs)
        return pattern_for(pattern, flags).findall(string, pos, endpos, overlapped, concurrent, timeout)

    regex.match, regex.fullmatch, regex.search = fast("match"), fast("fullmatch"), fast("search")
    regex.findall = fast_findall


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
    # Every enabled rule's use is recorded by now (the loop above ran each one), which is all
    # cfn-lint's resource loop would record for the rules a resource's type skips.
    rules_of_type: dict[str, list[tuple[str, Any]]] = {}
    for resource_name, resource_attributes in cfn.get_resources().items():
        resource_type = resource_attributes.get("Type")
        resource_properties = resource_attributes.get("Properties")
        if isinstance(resource_type, str) and isinstance(resource_properties, dict):
            path = ["Resources", resource_name, "Properties"]
            if resource_type not in rules_of_type:
                rules_of_type[resource_type] = [(rule_id, rule) for rule_id, rule in rules.data.items()
                                                if resource_type in rule.resource_property_types]
            for rule_id, rule in rules_of_type[resource_type]:
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
    whenever the child rules change (the rule's `child_rules` becomes a `_CountedDict`, which
    counts its changes); rules run in the same order, as often, as cfn-lint runs them."""

    def __init__(self, rule: Any) -> None:
        self.rule = rule
        rule.child_rules = _CountedDict(rule.child_rules)
        self.seen: tuple[_CountedDict | None, int] = (None, 0)  # the child rules indexed, at which count
        self.index: dict[str, list[Any]] = {}

    def rules_for(self, keyword: str) -> list[Any]:
        children = self.rule.child_rules
        if not isinstance(children, _CountedDict):  # replaced from outside: count from here
            children = self.rule.child_rules = _CountedDict(children)
        if self.seen[0] is not children or self.seen[1] != children.changes:
            index: dict[str, list[Any]] = {}
            for child in children.values():
                if child is None or not child.id:
                    continue
                for child_keyword in child.keywords:
                    index.setdefault(child_keyword, []).append(child)
            self.index, self.seen = index, (children, children.changes)
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


class _CountedDict(dict[str, Any]):
    """A dict that counts the calls that may change it (the index above is rebuilt on a new count)."""

    changes = 0

    def _changed(self) -> None:
        self.changes += 1

    def __setitem__(self, key: str, value: Any) -> None:
        self._changed()
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self._changed()
        super().__delitem__(key)

    def __ior__(self, other: Any) -> _CountedDict:  # type: ignore[override,misc]
        self._changed()
        return super().__ior__(other)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._changed()
        super().update(*args, **kwargs)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._changed()
        return super().setdefault(key, default)

    def pop(self, *args: Any) -> Any:
        self._changed()
        return super().pop(*args)

    def popitem(self) -> tuple[str, Any]:
        self._changed()
        return super().popitem()

    def clear(self) -> None:
        self._changed()
        super().clear()


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
