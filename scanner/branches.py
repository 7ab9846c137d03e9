"""`Fn::If` checked per branch, for every rule (Python or YAML) without the rule knowing.

A value under `Fn::If` is unknown to a rule (`resolve_cfn` gives UNKNOWN), so a violating
branch would pass unseen. The native engine therefore also checks each resource once per
condition and outcome, with every `Fn::If` on that condition replaced by the branch it
takes (`AWS::NoValue` removes the key or list item); a violation found only there is reported
with the condition named. Ifs on other conditions stay unknown in that variant, so variants
grow linearly with the number of conditions (two per condition), never combinatorially.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from scanner.model import Resource

IF = "Fn::If"
NO_VALUE = {"Ref": "AWS::NoValue"}
MAX_CONDITIONS = 16  # a resource with more distinct conditions is checked on the first 16
_DROP = object()


def _if_arguments(value: Any) -> list[Any] | None:
    if isinstance(value, Mapping) and len(value) == 1 and IF in value:
        argument = value[IF]
        if isinstance(argument, list) and len(argument) == 3 and isinstance(argument[0], str):
            return argument
    return None


def condition_names(value: Any) -> list[str]:
    """The conditions `Fn::If` tests anywhere inside a value, in document order."""
    names: dict[str, None] = {}

    def walk(node: Any) -> None:
        arguments = _if_arguments(node)
        if arguments is not None:
            names.setdefault(arguments[0])
        if isinstance(node, Mapping):
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(value)
    return list(names)


def choose(value: Any, condition: str, outcome: bool) -> Any:
    """The value as deployed when `condition` evaluates to `outcome`."""
    arguments = _if_arguments(value)
    if arguments is not None and arguments[0] == condition:
        branch = arguments[1] if outcome else arguments[2]
        return _DROP if branch == NO_VALUE else choose(branch, condition, outcome)
    if isinstance(value, Mapping):
        chosen = {key: choose(child, condition, outcome) for key, child in value.items()}
        return {key: child for key, child in chosen.items() if child is not _DROP}
    if isinstance(value, list):
        return [item for item in (choose(child, condition, outcome) for child in value) if item is not _DROP]
    return value


def variants(resource: Resource) -> Iterator[tuple[str, Resource]]:
    """(label, resource as deployed) for each condition outcome the properties depend on."""
    for name in condition_names(resource.properties)[:MAX_CONDITIONS]:
        for outcome in (True, False):
            properties = choose(resource.properties, name, outcome)
            if not isinstance(properties, Mapping):
                properties = {}
            yield f"when condition `{name}` is {str(outcome).lower()}", Resource(
                id=resource.id, type=resource.type, properties=properties, path=resource.path, metadata=resource.metadata
            )


def with_label(message: str, label: str) -> str:
    """'X allows SSH.' + label -> 'X allows SSH when condition `C` is true.'"""
    return f"{message.rstrip().rstrip('.')} {label}."
