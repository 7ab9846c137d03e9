"""Terraform plan JSON (`terraform show -json plan.out`): the most accurate view of Terraform.

Resources come from `planned_values` (root and child modules, recursively); what
`resource_changes[].change.after_unknown` marks is `UNKNOWN`; references between resources
come from the `configuration` section's expressions. A finding points at the resource's block
in its `.tf` file when the plan sits in its root module's directory and the file is there (the
plan's configuration has module sources but no positions); otherwise at the plan file's line
of the resource's address.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator, Mapping

from scanner.failures import failure
from scanner.model import Artifact, Finding, Location, PropertyPath, Resource, ResourceId
from scanner.inputs.terraform.files import argument_lines
from scanner.rule import UNKNOWN
from scanner.terraform_helpers import base_address

KIND = "terraform-plan"
_PLAN_KEYS = ('"planned_values"', '"resource_changes"')


def claims_file(path: Path, head: str) -> bool:
    if path.suffix.lower() != ".json":
        return False
    if any(key in head for key in _PLAN_KEYS):
        return '"format_version"' in head or '"configuration"' in head
    return '"format_version"' in head and '"terraform_version"' in head


def decode(raw: bytes) -> str:
    """Plans written on Windows come as UTF-16 or with a BOM; CRLF is plain JSON whitespace."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if len(raw) > 1 and raw[0] == 0 and raw[1] != 0:
        return raw.decode("utf-16-be")
    if len(raw) > 1 and raw[1] == 0 and raw[0] != 0:
        return raw.decode("utf-16-le")
    return raw.decode("utf-8-sig")


def load_file(path: Path, uri: str) -> tuple[Artifact | None, list[Finding]]:
    try:
        text = decode(path.read_bytes())
        plan = json.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        return None, [failure("IDP001", f"Terraform plan could not be read: {exc}", Location(uri))]
    except json.JSONDecodeError as exc:
        return None, [failure("IDP001", f"Terraform plan is not valid JSON: {exc.msg}", Location(uri, exc.lineno, exc.lineno))]
    if not isinstance(plan, dict) or not isinstance(plan.get("planned_values", plan.get("resource_changes")), (dict, list)):
        what = "a state file, not a plan" if isinstance(plan, dict) and "values" in plan else "not a plan"
        return None, [failure("IDP001", f"Terraform JSON has no `planned_values` or `resource_changes` ({what}), so nothing in it was checked.", Location(uri))]
    return build_artifact(plan, text, path, uri), []


def build_artifact(plan: Mapping[str, Any], text: str, path: Path, uri: str) -> Artifact:
    unknown = _after_unknown(plan)
    references = _configuration_references(plan.get("configuration"))
    sources = _module_sources(plan.get("configuration"))
    resources: dict[str, dict[str, Any]] = {}
    lines: dict[PropertyPath, tuple[int, int]] = {}
    files: dict[PropertyPath, str] = {}
    address_lines = _address_lines(text)
    for entry in _planned_resources(plan):
        address = str(entry.get("address", ""))
        if not address or address in resources:
            continue
        mode = entry.get("mode", "managed")
        type_ = str(entry.get("type", ""))
        values = entry.get("values") if isinstance(entry.get("values"), Mapping) else {}
        resources[address] = {
            "type": ("data." if mode == "data" else "") + type_,
            "mode": mode,
            "module": address.rsplit(f".{'data.' if mode == 'data' else ''}{type_}.", 1)[0] if address.startswith("module.") else "",
            "properties": _overlay_unknown(_without_nulls(values), unknown.get(address)),
            "references": references.get(base_address(address), {}),
        }
        located = _tf_block(path, uri, address, mode, type_, str(entry.get("name", "")), sources)
        if located is not None:
            files[("resources", address)] = located[0]
            lines[("resources", address)] = (located[1], located[1])
            # A finding lands on the argument's line in the .tf file, where its comments are.
            for argument, span in argument_lines(located[2], located[1]).items():
                lines[("resources", address, "properties", *argument)] = span
        else:
            line = address_lines.get(address, 1)
            lines[("resources", address)] = (line, line)
    providers = _providers(plan.get("configuration"), plan.get("variables"))
    blocks = _provider_blocks(providers, text, lines)
    return Artifact(
        kind=KIND,
        path=str(path),
        uri=uri,
        data={"resources": resources, "providers": providers, "blocks": blocks},
        lines=lines,
        files=files,
        context={"providers": providers, "terraform_version": plan.get("terraform_version", "")},
    )


def _planned_resources(plan: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    planned = plan.get("planned_values")
    stack = [planned.get("root_module")] if isinstance(planned, Mapping) else []
    while stack:
        module = stack.pop(0)
        if not isinstance(module, Mapping):
            continue
        for resource in module.get("resources", []) or []:
            if isinstance(resource, Mapping):
                yield resource
        stack.extend(module.get("child_modules", []) or [])
    # A plan without planned_values still lists what it will create or update.
    for change in plan.get("resource_changes", []) or []:
        if not isinstance(change, Mapping) or not isinstance(change.get("change"), Mapping):
            continue
        if "delete" in (change["change"].get("actions") or []) and change["change"].get("after") is None:
            continue
        after = change["change"].get("after")
        yield {**change, "values": after if isinstance(after, Mapping) else {}}


def _after_unknown(plan: Mapping[str, Any]) -> dict[str, Any]:
    unknown: dict[str, Any] = {}
    for change in plan.get("resource_changes", []) or []:
        if isinstance(change, Mapping) and isinstance(change.get("change"), Mapping):
            marks = change["change"].get("after_unknown")
            if marks:
                unknown[str(change.get("address", ""))] = marks
    return unknown


def _without_nulls(value: Any) -> Any:
    """Null means "not set" in Terraform; HCL leaves unset arguments out, and so do we."""
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _overlay_unknown(values: Any, marks: Any) -> Any:
    """Values with UNKNOWN wherever `after_unknown` says so (true, or true deeper inside)."""
    if marks is True:
        return UNKNOWN
    if isinstance(marks, Mapping):
        result = dict(values) if isinstance(values, Mapping) else {}
        for key, mark in marks.items():
            if mark is True or isinstance(mark, (Mapping, list)):
                result[key] = _overlay_unknown(result.get(key), mark)
        return result if isinstance(values, Mapping) or result else values
    if isinstance(marks, list):
        items = list(values) if isinstance(values, list) else []
        for index, mark in enumerate(marks):
            if index < len(items):
                items[index] = _overlay_unknown(items[index], mark)
            elif mark is True:
                items.append(UNKNOWN)
        return items
    return values


def _walk_configuration(configuration: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(module prefix, module) for the root and every module call, recursively."""
    root = configuration.get("root_module") if isinstance(configuration, Mapping) else None
    stack: list[tuple[str, Any]] = [("", root)]
    while stack:
        prefix, module = stack.pop(0)
        if not isinstance(module, Mapping):
            continue
        yield prefix, module
        for name, call in (module.get("module_calls") or {}).items():
            if isinstance(call, Mapping):
                stack.append((f"{prefix}module.{name}.", call.get("module")))


def _configuration_references(configuration: Any) -> dict[str, dict[str, list[str]]]:
    """Base address -> argument -> referenced base addresses (module-absolute)."""
    result: dict[str, dict[str, list[str]]] = {}
    for prefix, module in _walk_configuration(configuration):
        for resource in module.get("resources", []) or []:
            if not isinstance(resource, Mapping) or not isinstance(resource.get("expressions"), Mapping):
                continue
            refs: dict[str, list[str]] = {}
            for argument, expression in resource["expressions"].items():
                found = sorted({_reference_address(prefix, r) for r in _expression_refs(expression)} - {""})
                refs[argument] = found
            result[f"{prefix}{resource.get('address', '')}"] = refs
    return result


def _expression_refs(expression: Any) -> Iterator[str]:
    if isinstance(expression, Mapping):
        for ref in expression.get("references", []) or []:
            yield str(ref)
        for key, value in expression.items():
            if key != "references":
                yield from _expression_refs(value)
    elif isinstance(expression, list):
        for item in expression:
            yield from _expression_refs(item)


def _reference_address(prefix: str, reference: str) -> str:
    """`aws_s3_bucket.b.id` -> `aws_s3_bucket.b`; `data.x.y.json` -> `data.x.y`; else ""."""
    parts = base_address(reference).split(".")
    if parts[0] in ("var", "local", "each", "count", "path", "terraform", "self", "module"):
        return ""
    size = 3 if parts[0] == "data" else 2
    return f"{prefix}{'.'.join(parts[:size])}" if len(parts) >= size else ""


def _module_sources(configuration: Any) -> dict[str, str]:
    """Module prefix (`module.a.module.b.`) -> its source relative to the root module."""
    sources: dict[str, str] = {"": "."}
    root = configuration.get("root_module") if isinstance(configuration, Mapping) else None
    stack: list[tuple[str, str, Any]] = [("", ".", root)]
    while stack:
        prefix, directory, module = stack.pop(0)
        if not isinstance(module, Mapping):
            continue
        for name, call in (module.get("module_calls") or {}).items():
            if not isinstance(call, Mapping):
                continue
            source = str(call.get("source", ""))
            if source.startswith(("./", "../")):
                child_prefix = f"{prefix}module.{name}."
                sources[child_prefix] = f"{directory}/{source}"
                stack.append((child_prefix, f"{directory}/{source}", call.get("module")))
    return sources


def _tf_block(plan_path: Path, plan_uri: str, address: str, mode: str, type_: str, name: str, sources: Mapping[str, str]) -> tuple[str, int, Path] | None:
    """(uri, line, file) of the block that declares a resource, when its `.tf` file is beside the plan."""
    base = base_address(address)
    declared = f"{'data.' if mode == 'data' else ''}{type_}.{name}"
    prefix = base[: -len(declared)] if base.endswith(declared) else None
    if prefix is None or prefix not in sources:
        return None
    directory = (plan_path.parent / sources[prefix]).resolve()
    keyword = "data" if mode == "data" else "resource"
    pattern = re.compile(rf'^[ \t]*{keyword}\s+"{re.escape(type_)}"\s+"{re.escape(name)}"\s*\{{', re.MULTILINE)
    for tf in sorted(directory.glob("*.tf")) if directory.is_dir() else []:
        try:
            text = tf.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            continue
        match = pattern.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            relative = Path(_relpath(tf, plan_path.parent)).as_posix()
            uri = _join(plan_uri.rsplit("/", 1)[0] if "/" in plan_uri else ".", relative)
            return (uri, line, tf) if not uri.startswith("../") else None
    return None


def _relpath(path: Path, start: Path) -> str:
    import os

    return os.path.relpath(path.resolve(), start.resolve())


def _join(directory: str, relative: str) -> str:
    import posixpath

    return posixpath.normpath(posixpath.join(directory, relative))


def _address_lines(text: str) -> dict[str, int]:
    """First line of each `"address": "..."` in the plan text (planned_values come first)."""
    lines: dict[str, int] = {}
    for match in re.finditer(r'"address"\s*:\s*"((?:[^"\\]|\\.)*)"', text):
        address = json.loads(f'"{match.group(1)}"')
        lines.setdefault(address, text.count("\n", 0, match.start()) + 1)
    return lines


def _providers(configuration: Any, variables: Any) -> list[dict[str, Any]]:
    """Provider configurations; a root provider's `region = var.x` takes the plan's value of x."""
    values = {k: v.get("value") for k, v in (variables or {}).items() if isinstance(v, Mapping)}
    providers = []
    config = configuration.get("provider_config") if isinstance(configuration, Mapping) else None
    for key, provider in (config or {}).items():
        if not isinstance(provider, Mapping):
            continue
        region = (provider.get("expressions") or {}).get("region", {})
        region = region if isinstance(region, Mapping) else {}
        refs = region.get("references") or []
        value = region.get("constant_value", UNKNOWN)
        if value is UNKNOWN and len(refs) == 1 and refs[0].startswith("var.") and not provider.get("module_address"):
            value = values.get(refs[0][4:], UNKNOWN)
        providers.append({
            "key": str(key),
            "name": provider.get("name", key),
            "alias": provider.get("alias"),
            "region": UNKNOWN if value is None else value,
            "module": provider.get("module_address", ""),
        })
    return providers


def _provider_blocks(providers: list[dict[str, Any]], text: str, lines: dict[PropertyPath, tuple[int, int]]) -> dict[str, Any]:
    """Provider configurations as the pseudo-resources an HCL module has (`provider.aws.us`,
    `module.x.provider.aws`), so the rules about provider settings (IDP-REGION-001) read a
    plan too; each at its line in the plan's `provider_config`."""
    blocks: dict[str, Any] = {}
    section = text.find('"provider_config"')
    for provider in providers:
        module, _, local = provider["key"].rpartition(":")
        address = f"{module + '.' if module else ''}provider.{local}"
        blocks[address] = {"type": "provider", "module": module, "properties": {"region": provider["region"]}}
        found = re.compile(rf'"{re.escape(provider["key"])}"\s*:\s*\{{').search(text, max(section, 0))
        line = text.count("\n", 0, found.start()) + 1 if found else 1
        lines[("blocks", address)] = (line, line)
    return blocks


def resources(artifact: Artifact) -> Iterator[Resource]:
    body = artifact.data.get("resources", {}) if isinstance(artifact.data, Mapping) else {}
    for address, resource in body.items():
        properties = resource["properties"]
        yield Resource(
            id=ResourceId("terraform", address, resource["type"]),
            type=resource["type"],
            properties=properties if isinstance(properties, Mapping) else {},
            path=("resources", address, "properties"),
            metadata={"references": resource.get("references", {}), "mode": resource["mode"], "module": resource["module"]},
        )
    # Provider configurations, as pseudo-resources of type `provider` (see `_provider_blocks`).
    blocks = artifact.data.get("blocks", {}) if isinstance(artifact.data, Mapping) else {}
    for address, block in blocks.items():
        yield Resource(
            id=ResourceId("terraform", address, "provider"),
            type="provider",
            properties=block["properties"],
            path=("blocks", address, "properties"),
            metadata={"mode": "configuration", "module": block["module"]},
        )
