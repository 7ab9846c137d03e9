"""Input kinds: how a path becomes artifacts. The registry is a literal tuple, checked in order.

A kind claims a directory (a `cdk.out`, say) or a file (by name and first bytes); its loader
turns the claimed unit into artifacts, and every failure to do so into a finding.
Loaders import their heavy parsers lazily.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from scanner.failures import failure
from scanner.inputs import accounts, cdk, cfn, terraform, tfplan
from scanner.model import Artifact, Finding, Location, Resource

MAX_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Unit:
    """One thing to load: a file, or a directory that is loaded as a whole."""

    kind: str
    path: Path
    uri: str
    options: Mapping[str, Any] = field(default_factory=dict)  # the run's settings.options


@dataclass(frozen=True)
class Loaded:
    artifacts: tuple[Artifact, ...] = ()
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class InputKind:
    """`per_directory`: a claimed file stands for its whole directory (one unit per directory).
    `prune`: once discovery is done, the kind may drop some of its own units (a Terraform
    module that another scanned module calls is checked through its caller).
    `reads`: files and directories outside the unit's own path that its loader reads (a
    Terraform root's `../modules/x`, its var files): a change there changes the unit."""

    name: str
    load: Callable[[Unit], Loaded]
    claims_file: Callable[[Path, str], bool] | None = None
    claims_dir: Callable[[Path], bool] | None = None
    resources: Callable[[Artifact], Iterator[Resource]] = field(default=lambda _a: iter(()))
    artifact_kinds: tuple[str, ...] = ()  # kinds of the artifacts it makes, when not just `name`
    per_directory: bool = False
    prune: Callable[[list[Unit]], list[Unit]] | None = None
    reads: Callable[[Unit], tuple[Path, ...]] | None = None
    # Imports the loader's heavy parser; called once before worker processes are forked,
    # so that they all start warm instead of each paying the import.
    prepare: Callable[[], None] | None = None


def read_text(path: Path) -> str:
    """Text of a file, honouring a UTF-8 or UTF-16 byte-order mark; raises on other encodings."""
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    return raw.decode("utf-8-sig")


def _claims_cfn(path: Path, head: str) -> bool:
    return path.suffix.lower() in cfn.SUFFIXES and cfn.looks_like_template(head)


def _load_cfn(unit: Unit) -> Loaded:
    try:
        text = read_text(unit.path)
    except (OSError, UnicodeDecodeError) as exc:
        return Loaded(findings=(failure("IDP001", f"Template could not be read: {exc}", Location(unit.uri)),))
    artifact, findings = cfn.load_text(text, unit.path, unit.uri)
    return Loaded(artifacts=(artifact,) if artifact else (), findings=tuple(findings))


def _load_cdk(unit: Unit) -> Loaded:
    artifacts, findings = cdk.load_assembly(unit.path, unit.uri)
    return Loaded(artifacts=tuple(artifacts), findings=tuple(findings))


def _load_accounts(unit: Unit) -> Loaded:
    try:
        text = read_text(unit.path)
    except (OSError, UnicodeDecodeError) as exc:
        return Loaded(findings=(failure("IDP070", f"Account file could not be read: {exc}", Location(unit.uri)),))
    artifact, findings = accounts.load(unit.path, unit.uri, text)
    return Loaded(artifacts=(artifact,) if artifact else (), findings=tuple(findings))


def input_kinds() -> tuple[InputKind, ...]:
    """The bundled input kinds, most specific first."""
    return (
        InputKind(name=cdk.KIND, load=_load_cdk, claims_dir=cdk.claims_dir),
        InputKind(name=tfplan.KIND, load=_load_tfplan, claims_file=tfplan.claims_file, resources=tfplan.resources),
        InputKind(name=cfn.KIND, load=_load_cfn, claims_file=_claims_cfn, resources=cfn.resources, prepare=cfn.prepare),
        InputKind(
            name=terraform.KIND,
            load=_load_terraform,
            claims_file=_claims_terraform,
            resources=terraform.resources,
            per_directory=True,
            prune=_prune_terraform,
            reads=_terraform_reads,
        ),
        InputKind(
            name=accounts.INPUT_KIND,
            load=_load_accounts,
            claims_file=accounts.claims_file,
            resources=accounts.resources,
            artifact_kinds=accounts.KINDS,
        ),
    )


def _load_tfplan(unit: Unit) -> Loaded:
    artifact, findings = tfplan.load_file(unit.path, unit.uri)
    return Loaded(artifacts=(artifact,) if artifact else (), findings=tuple(findings))


def _claims_terraform(path: Path, _head: str) -> bool:
    return path.suffix == terraform.SUFFIX


def _load_terraform(unit: Unit) -> Loaded:
    var_files = [Path(f) for f in unit.options.get("terraform", {}).get("var_files", ())]
    artifact, findings = terraform.load_directory(unit.path, unit.uri, var_files)
    return Loaded(artifacts=(artifact,) if artifact else (), findings=tuple(findings))


def _terraform_reads(unit: Unit) -> tuple[Path, ...]:
    var_files = [Path(f) for f in unit.options.get("terraform", {}).get("var_files", ())]
    return (*sorted(terraform.local_module_dirs(unit.path)), *var_files)


def unit_reads(unit: Unit) -> tuple[Path, ...]:
    """What a unit's loader reads outside the unit's path (for --changed-since and the cache)."""
    for kind in input_kinds():
        if kind.name == unit.kind and kind.reads is not None:
            return kind.reads(unit)
    return ()


def _prune_terraform(units: list[Unit]) -> list[Unit]:
    """Drop module directories that another scanned module calls: they are evaluated there,
    with their caller's inputs, and would otherwise be reported twice under two addresses."""
    called: set[Path] = set()
    for unit in units:
        called |= terraform.local_module_calls(unit.path) - {unit.path.resolve()}
    return [u for u in units if u.path.resolve() not in called]


def resources_of(artifact: Artifact) -> Iterator[Resource]:
    for kind in input_kinds():
        if artifact.kind in (kind.artifact_kinds or (kind.name,)):
            return kind.resources(artifact)
    return iter(())
