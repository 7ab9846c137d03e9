"""Input kinds: how a path becomes artifacts. The registry is a literal tuple, checked in order.

A kind claims a directory (a `cdk.out`, say) or a file (by name and first bytes); its loader
turns the claimed unit into artifacts, and every failure to do so into a finding.
Loaders import their heavy parsers lazily.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping

from scanner.failures import failure
from scanner.inputs import accounts, cfn
from scanner.inputs.cdk import assembly as cdk_assembly
from scanner.inputs.terraform import files as tf_files, loader as tf_loader, plan as tfplan, reads as tf_reads
from scanner.inputs.terraform.duplicates import duplicate_attributes
from scanner.inputs.uris import uri_maker
from scanner.inputs.guard import Limits, Rejected, json_depth, over_size, read_checked, yaml_shape
from scanner.model import Artifact, FileComments, Finding, Location, Resource
from scanner.config_sections import TerraformSettings

MAX_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Unit:
    """One thing to load: a file, or a directory that is loaded as a whole."""

    kind: str
    path: Path
    uri: str
    terraform: TerraformSettings = TerraformSettings()  # set by the pipeline: var files per root
    limits: Limits = Limits()  # set by the pipeline from the configuration


@dataclass(frozen=True)
class Loaded:
    artifacts: tuple[Artifact, ...] = ()
    findings: tuple[Finding, ...] = ()
    comments: tuple[FileComments, ...] = ()  # of every file the unit read (`inputs.comments`)


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
    # Every file the loader reads for a directory unit, inside it and out: when set, these
    # alone decide whether the unit changed (the cache, --changed-since), not all under it.
    sources: Callable[[Unit], tuple[Path, ...]] | None = None
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
    return path.suffix.lower() in cfn.SUFFIXES and (cfn.looks_like_template(head) or cfn.named_like_template(path))


def _load_cfn(unit: Unit) -> Loaded:
    try:
        text = read_checked(unit.path, unit.uri, unit.limits)
    except Rejected as rejected:
        return Loaded(findings=(rejected.finding,))
    artifacts, findings = cfn.load_variants(text, unit.path, unit.uri, limits=unit.limits)
    if artifacts and not cfn.looks_like_template(text) and not any(cfn.is_template(a.data) for a in artifacts):
        if any(isinstance(a.data, Mapping) and ("Resources" in a.data or "Transform" in a.data) for a in artifacts):
            return Loaded(findings=(failure("IDP007", "Named like a template, with `Resources` or `Transform`, but its resources are not typed CloudFormation resources (a macro's input?): nothing in it was checked.", Location(unit.uri)),))
        return Loaded()  # claimed by its name (`issue_template.yml`), but valid YAML that is not a template
    if not artifacts and _in_helm_chart(unit) and any(f.rule_id in ("IDP001", "IDP010") for f in findings):
        why = "; ".join(f.message for f in findings)
        return Loaded(findings=(failure("IDP018", f"Skipped: part of a Helm chart and not valid YAML before rendering ({why})", Location(unit.uri)),))
    return Loaded(artifacts=tuple(artifacts), findings=tuple(findings))


def _in_helm_chart(unit: Unit) -> bool:
    """A `Chart.yaml` beside the file or above it, inside the scanned repository."""
    folders = [unit.path.parent, *unit.path.parent.parents][: len(Path(unit.uri).parts)]
    return any((folder / "Chart.yaml").is_file() for folder in folders)


def _load_nothing(unit: Unit) -> Loaded:
    return Loaded()


def _load_cdk(unit: Unit) -> Loaded:
    artifacts, findings = cdk_assembly.load_assembly(unit.path, unit.uri)
    return Loaded(artifacts=tuple(artifacts), findings=tuple(findings))


def _load_accounts(unit: Unit) -> Loaded:
    try:
        text = read_checked(unit.path, unit.uri, unit.limits)
    except Rejected as rejected:
        return Loaded(findings=(rejected.finding,))
    over_limit = yaml_shape(text, unit.uri, unit.limits, check_tags=False)  # accounts only compose: no tag runs
    if over_limit is not None:
        return Loaded(findings=(over_limit,))
    artifact, findings = accounts.load(unit.path, unit.uri, text)
    return Loaded(artifacts=(artifact,) if artifact else (), findings=tuple(findings))


def input_kinds() -> tuple[InputKind, ...]:
    """The bundled input kinds, most specific first."""
    return (
        InputKind(name=cdk_assembly.KIND, load=_load_cdk, claims_dir=cdk_assembly.claims_dir),
        InputKind(name=tfplan.KIND, load=_load_tfplan, claims_file=tfplan.claims_file, resources=tfplan.resources),
        InputKind(name=cfn.KIND, load=_load_cfn, claims_file=_claims_cfn, resources=cfn.resources, prepare=cfn.prepare),
        # Produced by the CloudFormation loader beside a template with duplicate keys; claims nothing.
        InputKind(name=cfn.SHADOW_KIND, load=_load_nothing, resources=cfn.resources),
        InputKind(
            name=tf_files.KIND,
            load=_load_terraform,
            claims_file=_claims_terraform,
            resources=tf_loader.resources,
            per_directory=True,
            prune=_prune_terraform,
            reads=_terraform_reads,
            sources=_terraform_sources,
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
    refused = _plan_refused(unit)
    if refused is not None:
        return Loaded(findings=(refused,))
    artifact, findings = tfplan.load_file(unit.path, unit.uri)
    return Loaded(artifacts=(artifact,) if artifact else (), findings=tuple(findings))


def _plan_refused(unit: Unit) -> Finding | None:
    """Over the plan size limit, or nested deeper than the limit (json.loads would recurse)."""
    too_big = over_size(unit.path, unit.uri, unit.limits.max_plan_bytes, "max_plan_bytes")
    if too_big is not None:
        return too_big
    try:
        text = tfplan.decode(unit.path.read_bytes())
    except (OSError, UnicodeDecodeError):
        return None  # the plan loader reports it in its own words
    return json_depth(text, unit.uri, unit.limits)


def _claims_terraform(path: Path, _head: str) -> bool:
    """A `.tf` file, or a variables file beside one (it stands for its module directory)."""
    if path.suffix == tf_files.SUFFIX:
        return True
    return path.name.endswith(tf_files.VAR_SUFFIXES) and any(path.parent.glob(f"*{tf_files.SUFFIX}"))


def _load_terraform(unit: Unit) -> Loaded:
    uri_of = uri_maker(unit.path, unit.uri)
    files = sorted(unit.path.glob(f"*{tf_files.SUFFIX}"))
    too_big = [f for f in (over_size(p, uri_of(p), unit.limits.max_file_bytes) for p in files) if f]
    if too_big:  # the module is not evaluated without all of its files
        return Loaded(findings=tuple(too_big))
    # Deep bracket nesting makes the HCL parser crawl for minutes (found by the property tests).
    too_deep = [f for f in (_hcl_depth(p, uri_of(p), unit.limits) for p in files) if f]
    if too_deep:
        return Loaded(findings=tuple(too_deep))
    try:
        artifact, findings = tf_loader.load_directory(unit.path, unit.uri, _var_files(unit))
    except Exception as exc:  # a defect in the evaluator: the module was not checked, and says so
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return Loaded(findings=(failure("IDP001", f"Terraform module could not be evaluated: {type(exc).__name__}: {first}", Location(unit.uri)),))
    findings = [*findings, *duplicate_attributes(unit.path, uri_of, tf_files.SUFFIX)]
    return Loaded(artifacts=(artifact,) if artifact else (), findings=tuple(findings))


def _hcl_depth(path: Path, uri: str, limits: Limits) -> Finding | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None  # unreadable files are the loader's to report
    return json_depth(text, uri, limits)


def _var_files(unit: Unit) -> list[Path]:
    """The var files given to this root (or to every root), in order of precedence."""
    return unit.terraform.files_for(unit.path.resolve())


def _terraform_sources(unit: Unit) -> tuple[Path, ...]:
    return tuple(tf_reads.sources(unit.path, _var_files(unit)))


def _terraform_reads(unit: Unit) -> tuple[Path, ...]:
    """The files outside the root's directory it reads (local modules' files, var files)."""
    inside = unit.path.resolve()
    return tuple(p for p in _terraform_sources(unit) if p.resolve().parent != inside)


def unit_sources(unit: Unit) -> tuple[Path, ...] | None:
    """Every file a directory unit's loader reads, when its kind knows them; else None."""
    for kind in input_kinds():
        if kind.name == unit.kind and kind.sources is not None:
            return kind.sources(unit)
    return None


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
        called |= tf_reads.local_module_calls(unit.path) - {unit.path.resolve()}
    return [u for u in units if u.path.resolve() not in called]


def resources_of(artifact: Artifact) -> Iterator[Resource]:
    for kind in input_kinds():
        if artifact.kind in (kind.artifact_kinds or (kind.name,)):
            return kind.resources(artifact)
    return iter(())
