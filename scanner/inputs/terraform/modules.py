"""One evaluated instance of a Terraform module: what its names mean (variables, locals, other
resources, module outputs, providers) while its blocks are evaluated."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from scanner.inputs.terraform.conform import conform
from scanner.inputs.terraform.expressions import Scope, evaluate, reference_text
from scanner.inputs.terraform.files import Block, ModuleFiles, attributes
from scanner.inputs.terraform.functions import jsonencode
from scanner.inputs.terraform.hcl import Tree
from scanner.inputs.terraform.values import step_into
from scanner.rule import UNKNOWN
from scanner.terraform_helpers import policy_from_data_source

if TYPE_CHECKING:
    from scanner.inputs.terraform.loader import TreeLoader


class ModuleInstance:
    """One evaluated instance of a module: `prefix` is its address (`module.net.` or "")."""

    def __init__(self, tree: TreeLoader, files: ModuleFiles, prefix: str, inputs: Mapping[str, Any],
                 ancestors: tuple[Path, ...] = (), providers: Mapping[str, str] | None = None) -> None:
        self.tree, self.files, self.prefix = tree, files, prefix
        self.ancestors = (*ancestors, files.directory)  # module directories from the root down
        # Provider references (`aws`, `aws.use1`) -> the configuration they mean (its address).
        self.providers = {**(providers or {}), **self._own_providers()}
        self.variables = self._variables(inputs)
        self._locals = {name: attr for b in files.of("locals") for name, attr in attributes(b.body).items()}
        self._local_values: dict[str, Any] = {}
        self._evaluating: set[str] = set()
        self._instances: dict[tuple[str, str, str], dict[str, Any] | None] = {}
        self._children: dict[str, list[tuple[str, ModuleInstance | None]]] = {}

    # ---- providers ---------------------------------------------------------------------
    def _own_providers(self) -> dict[str, str]:
        own: dict[str, str] = {}
        for block in self.files.of("provider"):
            if block.labels:
                reference = provider_reference(block, Scope(lambda _root, _steps, _scope: UNKNOWN))
                own[reference] = f"{self.prefix}provider.{reference}"
        return own

    def provider_for(self, reference: str) -> str:
        """The configuration a reference means; one nobody configured is the root's implicit one."""
        return self.providers.get(reference, f"provider.{reference}")

    def resource_provider(self, block: Block) -> str:
        declared = attributes(block.body)
        reference = reference_text(declared["provider"].children[1]) if "provider" in declared else None
        return self.provider_for(reference or block.labels[0].split("_", 1)[0])

    def passed_providers(self, call: Block) -> dict[str, str]:
        """What a module call hands its child: `providers = {aws = aws.use1}`, or else every
        default (unaliased) configuration, as Terraform does."""
        declared = attributes(call.body)
        if "providers" not in declared:
            return {reference: address for reference, address in self.providers.items() if "." not in reference}
        mapping = _unwrap_object(declared["providers"].children[1])
        passed: dict[str, str] = {}
        for element in mapping:
            child, parent = reference_text(element.children[0]), reference_text(element.children[-1])
            if child and parent:
                passed[child] = self.provider_for(parent)
        return passed

    # ---- names -------------------------------------------------------------------------
    def _variables(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for block in self.files.of("variable"):
            name = block.labels[0] if block.labels else ""
            declared = attributes(block.body)
            if name in inputs:
                values[name] = inputs[name]
            elif "default" in declared:
                values[name] = evaluate(declared["default"].children[1], self.scope())
            else:
                values[name] = UNKNOWN
                if not self.prefix:
                    self.tree.note_unknown_variable(name, block)
            if "type" in declared:
                values[name] = conform(declared["type"].children[1], values[name], self.scope())
        return values

    def scope(self) -> Scope:
        return Scope(self.resolve)

    def resolve(self, root: str, steps: list[Any], scope: Scope) -> Any:
        if root == "var":
            return step_into(self.variables.get(str(steps[0]), UNKNOWN), steps[1:]) if steps else UNKNOWN
        if root == "local":
            return step_into(self._local(str(steps[0])), steps[1:]) if steps else UNKNOWN
        if root == "module":
            return self._module_output(steps)
        if root == "path":
            return self.tree.relative_dir(self.files.directory) if steps[:1] == ["module"] else UNKNOWN
        if root == "data" and len(steps) >= 2:
            return self._resource_value("data", str(steps[0]), str(steps[1]), steps[2:], scope)
        if root in ("each", "count", "self", "terraform") or not steps:
            return UNKNOWN
        return self._resource_value("managed", root, str(steps[0]), steps[1:], scope)

    def _local(self, name: str) -> Any:
        if name in self._local_values:
            return self._local_values[name]
        if name not in self._locals or name in self._evaluating:
            return UNKNOWN
        self._evaluating.add(name)
        value = evaluate(self._locals[name].children[1], self.scope())
        self._evaluating.discard(name)
        self._local_values[name] = value
        return value

    def _module_output(self, steps: list[Any]) -> Any:
        if len(steps) < 2:
            return UNKNOWN
        children = self.children(str(steps[0]))
        # Outputs of a counted module (module.x[0].out) are not modelled.
        if len(children) != 1 or children[0][1] is None or children[0][0] != f"{self.prefix}module.{steps[0]}":
            return UNKNOWN
        child = children[0][1]
        outputs = {b.labels[0]: attributes(b.body) for b in child.files.of("output") if b.labels}
        value_node = outputs.get(str(steps[1]), {}).get("value")
        return step_into(evaluate(value_node.children[1], child.scope()), steps[2:]) if value_node is not None else UNKNOWN

    def _resource_value(self, mode: str, type_: str, name: str, steps: list[Any], scope: Scope) -> Any:
        address = f"{self.prefix}{'data.' if mode == 'data' else ''}{type_}.{name}"
        scope.refs.add(address)
        block = self._block(mode, type_, name)
        instances = self.resource_instances(block) if block is not None else None
        if not instances:
            return UNKNOWN
        keyed = dict(instances)
        if address in keyed:
            entry = keyed[address]
        elif steps and f"{address}[{_key_text(steps[0])}]" in keyed:
            entry, steps = keyed[f"{address}[{_key_text(steps[0])}]"], steps[1:]
        else:
            return UNKNOWN
        if entry is None or not steps:
            return UNKNOWN
        properties = entry["properties"]
        if mode == "data" and type_ == "aws_iam_policy_document" and steps[0] == "json":
            return jsonencode(policy_from_data_source(properties))
        return step_into(properties, steps)

    def _block(self, mode: str, type_: str, name: str) -> Block | None:
        kind = "data" if mode == "data" else "resource"
        return next((b for b in self.files.of(kind) if b.labels[:2] == (type_, name)), None)

    # ---- resources ---------------------------------------------------------------------
    def resource_instances(self, block: Block) -> list[tuple[str, dict[str, Any] | None]] | None:
        """(address, properties) of each instance; None when count/for_each is unknown."""
        key = (block.type, *block.labels[:2])
        cache_key = (key[0], key[1], key[2] if len(key) > 2 else "")
        if cache_key in self._instances:
            cached = self._instances[cache_key]
            return None if cached is None else list(cached.items())
        self._instances[cache_key] = {}  # a reference cycle sees no instances
        base = f"{self.prefix}{'data.' if block.type == 'data' else ''}{block.labels[0]}.{block.labels[1]}"
        expansion = self.tree.expansion(block, self.scope(), base)
        if expansion is None:
            self._instances[cache_key] = None
            return None
        result: dict[str, Any] = {}
        for address, bindings in expansion:
            result[address] = self.tree.evaluate_body(block, self.scope().child(**bindings), address)
        self._instances[cache_key] = result
        return list(result.items())

    def children(self, name: str) -> list[tuple[str, ModuleInstance | None]]:
        if name not in self._children:
            block = next((b for b in self.files.of("module") if b.labels[:1] == (name,)), None)
            self._children[name] = self.tree.instantiate_module(self, block) if block is not None else []
        return self._children[name]


def provider_reference(block: Block, scope: Scope) -> str:
    """How a `provider` block is referred to: `aws`, or `aws.use1` with an alias."""
    declared = attributes(block.body)
    alias = evaluate(declared["alias"].children[1], scope) if "alias" in declared else None
    return block.labels[0] + (f".{alias}" if isinstance(alias, str) else "")


def _unwrap_object(node: Tree) -> list[Tree]:
    while getattr(node, "data", None) == "expr_term" and len(node.children) == 1:
        node = node.children[0]
    return list(node.children) if getattr(node, "data", None) == "object" else []


def _key_text(key: Any) -> str:
    return str(key) if isinstance(key, int) and not isinstance(key, bool) else f'"{key}"'
