"""Template `Transform`s: SAM and LanguageExtensions are expanded as cfn-lint does; any other
macro is reported as not evaluable (IDP015, a warning) and the written resources are checked.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Mapping

from scanner.failures import failure
from scanner.model import Finding, Location, PropertyPath

log = logging.getLogger(__name__)

SAM = "AWS::Serverless-2016-10-31"
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
EXPANDED = (SAM, LANGUAGE_EXTENSIONS)
REGION = "us-east-1"  # SAM needs one to build ARNs; the value does not change what rules see


def declared(template: Any) -> list[str]:
    """Transform names as written: a string, a list, or `{Name: AWS::Include, ...}` entries."""
    if not isinstance(template, Mapping):
        return []
    value = template.get("Transform")
    items = value if isinstance(value, list) else [value] if value is not None else []
    names = []
    for item in items:
        name = item.get("Name", item) if isinstance(item, Mapping) else item
        names.append(str(name))
    return names


def expand(decoded: Any, path: Path, uri: str) -> tuple[Any, list[Finding]]:
    """The template as deployed, where we know how; findings for what we could not expand."""
    names = declared(decoded)
    if not names:
        return decoded, []
    line = _line_of(decoded, "Transform")
    unknown = [n for n in names if n not in EXPANDED]
    findings = []
    if unknown:
        findings.append(failure(
            "IDP015",
            f"Transform {', '.join(f'`{n}`' for n in unknown)} is a macro idp-scan cannot expand: it may change the "
            "template at deploy time, so the resources checked here may not be the ones deployed.",
            Location(uri, line, line),
        ))
    if not any(n in EXPANDED for n in names):
        return decoded, findings
    expanded, errors = _cfn_lint_transform(decoded, path)
    if errors:
        findings.append(failure("IDP019", f"Transform failed: {'; '.join(errors)}", Location(uri, line, line)))
        return decoded, findings
    return expanded, findings


def _cfn_lint_transform(decoded: Any, path: Path) -> tuple[Any, list[str]]:
    """cfn-lint's own expansion. As in a cfn-lint run, a nested stack's local `TemplateURL` is
    read (as YAML data, relative to the template) to learn its outputs."""
    from cfnlint.template import Template
    from cfnlint.template.transforms.transform import Transform

    from scanner.engines import cfn_lint_speedups

    cfn_lint_speedups.install()
    saved = os.environ.get("AWS_DEFAULT_REGION")  # cfn-lint's SAM wrapper sets it for the translator
    cfn_lint_log = logging.getLogger("cfnlint")
    level = cfn_lint_log.level
    cfn_lint_log.setLevel(logging.CRITICAL)  # its errors become our finding; its log lines are noise
    try:
        template = Template(str(path), decoded, [REGION])
        matches = Transform().transform(template)
    except Exception as exc:  # the translator's own failure is the template's problem, reported
        log.debug("transform failed", exc_info=True)
        return decoded, [f"{type(exc).__name__}: {exc}"]
    finally:
        cfn_lint_log.setLevel(level)
        if saved is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = saved
    if matches:
        return decoded, sorted({str(getattr(m, "message", m)) for m in matches})
    return template.template, []


GENERATED_FROM = "generated_from"  # context key: generated logical id -> the written one it came from


def generated_sources(written: Mapping[PropertyPath, tuple[int, int]], data: Any) -> dict[str, str]:
    """Resources a transform generated, each with the written resource it came from: `FnRole`
    and `FnHourlyRole` come from `Fn` (the longest written logical id that prefixes them)."""
    resources = data.get("Resources") if isinstance(data, Mapping) else None
    written_ids = sorted((str(p[1]) for p in written if len(p) == 2 and p[0] == "Resources"), key=lambda i: (-len(i), i))
    out: dict[str, str] = {}
    for logical_id in map(str, resources or {}):
        if ("Resources", logical_id) in written:
            continue
        source = next((w for w in written_ids if logical_id.startswith(w)), None)
        if source is not None:
            out[logical_id] = source
    return out


def relocate_generated(
    lines: Mapping[PropertyPath, tuple[int, int]],
    written: Mapping[PropertyPath, tuple[int, int]],
    data: Any,
    sources: Mapping[str, str],
) -> dict[PropertyPath, tuple[int, int]]:
    """Lines for an expanded template: a generated resource points at the resource it came from
    (`sources`, see `generated_sources`); the translator's copies carry arbitrary positions.
    A generated resource no written one prefixes points at `Resources`."""
    resources = data.get("Resources") if isinstance(data, Mapping) else None
    generated = [i for i in (resources or {}) if ("Resources", i) not in written]
    out = {p: span for p, span in lines.items() if not (len(p) >= 2 and p[0] == "Resources" and p[1] in generated)}
    for logical_id in generated:
        source = sources.get(str(logical_id))
        span = written.get(("Resources", source)) if source is not None else written.get(("Resources",))
        if span is not None:
            out[("Resources", logical_id)] = span
    # Written resources keep their own positions, but their expanded bodies may not match them.
    for path, span in written.items():
        if len(path) >= 2 and path[0] == "Resources" and path in out:
            out[path] = span
    return out


def _line_of(decoded: Any, key: str) -> int:
    for candidate in getattr(decoded, "keys", lambda: [])():
        if candidate == key and getattr(candidate, "start_mark", None) is not None:
            return int(candidate.start_mark.line) + 1
    return 1
