"""The command line: thin. Build Settings, call the pipeline, write reports, return an exit code.

`main(argv) -> int` is what tests call; `entrypoint()` is the console script.
"""

from __future__ import annotations

import time

IMPORTED = time.monotonic()  # the console script's budget counts from here, imports included

import datetime  # noqa: E402
import logging
import os
import sys
from pathlib import Path
from typing import Any, Sequence

import click

from scanner import __version__
from scanner.catalogue import CatalogueError
from scanner.engines import EngineError
from scanner.gate import ExitCode, exit_code
from scanner.model import RuleMeta, ScanResult
from scanner.reports import FORMATS, ReportOptions, renderers
from scanner.settings import ConfigError, Settings, build_settings

FAIL_ON = ("error", "warning", "note", "never")


class DefaultScanGroup(click.Group):
    """`idp-scan PATH` is `idp-scan scan PATH`."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["scan", *args]
        return super().resolve_command(ctx, args)


def _outputs(formats: Sequence[str], output: str | None, default: str = "text") -> list[tuple[str, str | None]]:
    """`--format sarif --output x` or `--format sarif=x --format text` -> [(format, file)].

    `--output` goes to the first format without a file; when every format names its file, it
    receives the command's default format (`merge --output all.sarif --format markdown=summary.md`)."""
    pairs: list[tuple[str, str | None]] = []
    for item in formats or (default,):
        name, _, file_name = item.partition("=")
        if name not in FORMATS:
            raise click.BadParameter(f"unknown format '{name}' (choose from {', '.join(FORMATS)})", param_hint="--format")
        pairs.append((name, file_name or None))
    if output:
        for index, (name, target) in enumerate(pairs):
            if target is None:
                pairs[index] = (name, output)
                break
        else:
            pairs.insert(0, (default, output))
    for _, target in pairs:  # before the scan, not after minutes of it
        if target is not None and not Path(target).resolve().parent.is_dir():
            raise click.BadParameter(f"cannot write {target}: its directory does not exist", param_hint="--format/--output")
    if sum(1 for _, target in pairs if target is None) > 1:
        raise click.BadParameter("only one format can go to standard output; give the others a file (FORMAT=FILE)", param_hint="--format")
    return pairs


class _Progress:
    """A one-line status on stderr when it is a terminal and the scan takes more than a moment."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, message: str) -> None:
        if self.enabled and time.monotonic() - self.started > 0.5:
            click.echo(f"\r\033[K{message[:100]}", err=True, nl=False)
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            click.echo("\r\033[K", err=True, nl=False)


@click.group(cls=DefaultScanGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="idp-scan")
def cli() -> None:
    """idp-scan: prove that infrastructure changes stay on the platform's paved road."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "formats", multiple=True, metavar="FORMAT[=FILE]", help=f"Output format: {', '.join(FORMATS)}. Repeatable.")
@click.option("--output", "-o", help="Write the (first) report to this file instead of standard output.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Configuration file (default: .idp-scan.yaml at the root).")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Directory every reported path is relative to (default: the git repository, else the working directory).")
@click.option("--fail-on", type=click.Choice(FAIL_ON), help="Lowest severity that blocks (default: error).")
@click.option("--engines", help="Comma-separated engines to run (default: all installed).")
@click.option("--select", multiple=True, help="Rule id prefixes to report (repeatable).")
@click.option("--ignore", multiple=True, help="Rule id prefixes to leave out (repeatable).")
@click.option("--budget", type=click.FloatRange(min=0, min_open=True), help="Deadline for the whole run, in seconds.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes (default: every core).")
@click.option("--changed-since", metavar="GIT_REF", help="Scan only what changed since this git ref.")
@click.option("--var-file", "var_files", multiple=True, metavar="[ROOT=]FILE",
              help="Terraform variables file: ROOT=FILE for the root module in directory ROOT only, a bare FILE for every root "
                   "module (repeatable; after terraform.tfvars and *.auto.tfvars, later files win).")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="The date expiry checks count from (default: today), for reproducible gates.")
@click.option("--baseline", type=click.Path(path_type=Path), help="Baseline file: findings it lists are BASELINED, not blocking.")
@click.option("--no-suppressions", is_flag=True, help="Audit: ignore every suppression, waiver and the baseline.")
@click.option("--shard", metavar="K/N", help="Scan only the K-th of N deterministic slices of the inputs (CI fan-out).")
@click.option("--include-suppressed", is_flag=True, help="Also show suppressed and baselined findings.")
@click.option("--stats", is_flag=True, help="Include timings in the reports (and on stderr with text output).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache.")
@click.option("--quiet", "-q", is_flag=True, help="Print only blocking findings and the summary.")
@click.option("--debug", is_flag=True, help="Log what happens, with tracebacks.")
def scan(paths: tuple[Path, ...], formats: tuple[str, ...], output: str | None, config_path: Path | None, root: Path | None, fail_on: str | None,
         engines: str | None, select: tuple[str, ...], ignore: tuple[str, ...], budget: float | None,
         jobs: int | None, changed_since: str | None, var_files: tuple[str, ...], as_of: datetime.datetime | None, baseline: Path | None,
         no_suppressions: bool, shard: str | None, include_suppressed: bool, stats: bool, no_cache: bool, quiet: bool,
         debug: bool) -> None:
    """Scan PATHS (default: the current directory) and block on non-compliant infrastructure."""
    _configure_logging(debug)
    outputs = _outputs(formats, output)
    cli_values: dict[str, Any] = {
        "fail_on": fail_on,
        "engines": [e.strip() for e in engines.split(",") if e.strip()] if engines else None,
        "select": list(select) or None,
        "ignore": list(ignore) or None,
        "budget": budget,
        "jobs": jobs,
        "changed_since": changed_since,
        "as_of": as_of.date() if as_of else None,
        "baseline": str(baseline) if baseline else None,
        "no_suppressions": no_suppressions or None,
        "shard": shard,
        "cache": False if no_cache else None,
        "var_files": list(var_files) or None,
        "root": str(root) if root else None,
    }
    settings = _settings(list(paths), config_path, cli_values)
    result = _run(settings, debug)
    write_reports(result, outputs, include_suppressed=include_suppressed, quiet=quiet, stats=stats, shard=settings.shard is not None)
    raise SystemExit(int(exit_code(result)))


def link_base() -> str:
    """Where file:line links in the Markdown summary point: the commit on GitHub, when known."""
    server, repo, sha = (os.environ.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))
    return f"{server}/{repo}/blob/{sha}/" if server and repo and sha else ""


def write_reports(result: ScanResult, outputs: Sequence[tuple[str, str | None]], include_suppressed: bool = False,
                  quiet: bool = False, stats: bool = False, shard: bool = False) -> None:
    """Render each (format, file); a shard's SARIF keeps every result, since `merge` re-applies the gate."""
    color = "NO_COLOR" not in os.environ
    for name, target in outputs:
        options = ReportOptions(
            color=color and target is None and sys.stdout.isatty() and name == "text",
            include_suppressed=include_suppressed or (shard and name == "sarif"),
            quiet=quiet,
            stats=stats,
            link_base=link_base(),
        )
        rendered = renderers()[name](result, options)
        if target is None:
            click.echo(rendered, nl=False)
        else:
            Path(target).write_text(rendered, encoding="utf-8")
    if stats and any(name == "text" for name, _ in outputs):
        from scanner.reports.text import render_stats

        click.echo(render_stats(result), err=True, nl=False)


def _configure_logging(debug: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def _settings(paths: list[Path], config_path: Path | None, cli_values: dict[str, Any]) -> Settings:
    try:
        return build_settings(paths, config_path, cli_values)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


def _run(settings: Settings, debug: bool) -> ScanResult:
    from scanner.pipeline import run

    progress = _Progress(enabled=sys.stderr.isatty())
    try:
        return run(settings, progress, started=_started)
    except (ConfigError, EngineError, CatalogueError) as exc:
        if debug:
            raise
        raise click.UsageError(str(exc)) from exc
    finally:
        progress.clear()


@cli.command("merge")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "formats", multiple=True, metavar="FORMAT[=FILE]", help="Output format (default: sarif). Repeatable.")
@click.option("--output", "-o", help="Write the (first) report to this file instead of standard output.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Configuration file (waivers, baseline, fail_on).")
@click.option("--fail-on", type=click.Choice(FAIL_ON), help="Lowest severity that blocks (default: error).")
@click.option("--baseline", type=click.Path(path_type=Path), help="Baseline file to apply to the merged findings.")
@click.option("--no-suppressions", is_flag=True, help="Audit: ignore the central waivers and the baseline.")
@click.option("--include-suppressed", is_flag=True, help="Also show suppressed and baselined findings.")
def merge_command(files: tuple[Path, ...], formats: tuple[str, ...], output: str | None, config_path: Path | None,
                  fail_on: str | None, baseline: Path | None, no_suppressions: bool, include_suppressed: bool) -> None:
    """Combine the SARIF of CI shards (FILES), de-duplicate, re-apply the gate, exit accordingly."""
    from scanner.merging import merge_logs

    outputs = _outputs(formats, output, default="sarif")
    cli_values = {"fail_on": fail_on, "baseline": str(baseline) if baseline else None, "no_suppressions": no_suppressions or None}
    # The repository (for repo-relative policy files) is the one holding the configuration, else the working directory's.
    settings = _settings([config_path.parent if config_path else Path(".")], config_path, cli_values)
    try:
        result = merge_logs(files, settings)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    write_reports(result, outputs, include_suppressed=include_suppressed)
    raise SystemExit(int(exit_code(result)))


@cli.group("baseline")
def baseline_group() -> None:
    """Baselines: accept today's findings when adopting the gate on an existing repository."""


@baseline_group.command("write")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--config", "config_path", type=click.Path(path_type=Path))
@click.option("--engines", help="Comma-separated engines to run (default: all installed).")
def write_baseline(file: Path, paths: tuple[Path, ...], config_path: Path | None, engines: str | None) -> None:
    """Record the fingerprints of today's findings in PATHS (default: .) in FILE.

    Rewriting merges: entries of files not scanned now are kept; those of scanned files are
    replaced by today's, so fixed findings drop out. Suppressed findings are not recorded.
    """
    from dataclasses import replace

    from scanner.gate import baseline as baselines
    from scanner.gate import entry_judged, scanned_scope

    cli_values = {"engines": [e.strip() for e in engines.split(",") if e.strip()] if engines else None}
    settings = replace(_settings(list(paths), config_path, cli_values), baseline=None)
    try:
        previous = baselines.read(file) if file.exists() else []
    except baselines.BaselineError as exc:
        raise click.UsageError(str(exc)) from exc
    result = _run(settings, debug=False)
    scope = scanned_scope([], result.findings) + result.scanned
    entries, counts = baselines.merged(previous, result.findings, scope, entry_judged(settings, result.rules), settings.root)
    file.write_text(baselines.render(entries), encoding="utf-8")
    click.echo(baselines.summary(counts, str(file), len(entries)))


@cli.group()
def rules() -> None:
    """The rule catalogue: list rules, show one, test a rule directory's fixtures."""


def _catalogue_metas(config_path: Path | None, engines: str | None) -> dict[str, Any]:
    from scanner.engines import create_engines
    from scanner.pipeline import catalogue

    cli_values = {"engines": [e.strip() for e in engines.split(",")] if engines else ["native"]}
    settings = _settings([Path(".")], config_path, cli_values)
    try:
        return catalogue(create_engines(settings))
    except (EngineError, CatalogueError) as exc:
        raise click.UsageError(str(exc)) from exc


@rules.command("list")
@click.option("--config", "config_path", type=click.Path(path_type=Path))
@click.option("--engines", help="Engines whose rules to list (default: native).")
@click.option("--severity", type=click.Choice(("error", "warning", "note")), help="Only rules of this severity.")
@click.option("--tag", help="Only rules with this tag.")
def list_rules(config_path: Path | None, engines: str | None, severity: str | None, tag: str | None) -> None:
    """List the rules with their severity and title."""
    for meta in sorted(_catalogue_metas(config_path, engines).values(), key=lambda m: m.id):
        if severity and meta.severity.value != severity or tag and tag not in meta.tags:
            continue
        click.echo(f"{meta.id:<16} {meta.severity.value:<8} {meta.engine:<9} {meta.title}")


@rules.command("show")
@click.argument("rule_id")
@click.option("--config", "config_path", type=click.Path(path_type=Path))
@click.option("--engines", help="Engines to look in (default: native, then the bundled engines).")
@click.option("--fixtures", "fixtures", type=click.Path(path_type=Path), default=Path("fixtures/rules"), show_default=True,
              help="Where the rule's example fixtures are.")
def show_rule(rule_id: str, config_path: Path | None, engines: str | None, fixtures: Path) -> None:
    """Show a rule's help (why it matters, how to fix it), aliases, where it applies and its examples."""
    native = _catalogue_metas(config_path, engines)
    meta = native.get(rule_id)
    if meta is None and engines is None:  # a checkov, cfn-lint or Guard id: look in every bundled engine
        meta = _catalogue_metas(config_path, "native,checkov,cfn-lint,guard").get(rule_id)
    covering = sorted(m.id for m in native.values() if rule_id in m.aliases)
    if meta is None and covering:  # an alias whose engine is not installed
        meta = native[covering[0]]
    if meta is None:
        raise click.UsageError(f"no rule {rule_id}")
    click.echo(f"{meta.id}  [{meta.severity.value}, engine {meta.engine}]\n{meta.title}\n")
    click.echo(_severity_line(meta, config_path))
    if meta.aliases:
        click.echo(f"Aliases: {', '.join(meta.aliases)}")
    if meta.tags:
        click.echo(f"Tags: {', '.join(meta.tags)}")
    if covering and meta.id not in covering:
        click.echo(f"Covered by native rule(s): {', '.join(covering)} (listed among their aliases)")
    for line in _native_details(meta.id, config_path, fixtures):
        click.echo(line)
    click.echo("")
    click.echo(meta.help_markdown)


def _severity_line(meta: RuleMeta, config_path: Path | None) -> str:
    """Why the rule has its severity: the policy's reason, or the configuration's override."""
    from scanner.engines.severity_policy import explain

    return explain(meta, _settings([Path(".")], config_path, {}).severity_overrides.get(meta.id))


def _native_details(rule_id: str, config_path: Path | None, fixtures: Path) -> list[str]:
    """Where a native rule applies, where it comes from, and its example fixtures."""
    from scanner.catalogue import build_catalogue
    from scanner.ruledocs import where_it_applies
    from scanner.ruletest import fixture_files

    settings = _settings([Path(".")], config_path, {"engines": ["native"]})
    try:
        entry = build_catalogue(settings.rule_dirs).get(rule_id)
    except CatalogueError as exc:
        raise click.UsageError(str(exc)) from exc
    if entry is None:
        return []
    lines = [f"Applies to ({fmt}): {', '.join(types)}" for fmt, types in where_it_applies(entry.rule).items()]
    lines.append(f"Source: {entry.source}")
    lines.extend(f"Example ({outcome}): {path}" for outcome, path in fixture_files(fixtures, rule_id))
    return lines


@rules.command("docs")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write to this file (default: standard output).")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Include the configured rule directories.")
def rules_docs(output: Path | None, config_path: Path | None) -> None:
    """Write the rule reference (markdown) generated from the catalogue."""
    from scanner.catalogue import build_catalogue
    from scanner.ruledocs import render

    settings = _settings([Path(".")], config_path, {"engines": ["native"]})
    try:
        text = render(build_catalogue(settings.rule_dirs, with_packs=config_path is not None))
    except CatalogueError as exc:
        raise click.UsageError(str(exc)) from exc
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@rules.command("test")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option("--fixtures", "fixtures", type=click.Path(path_type=Path),
              help="Fixture root holding <RULE-ID>/fail* and pass* (default: DIRECTORY/fixtures; fixtures/rules for the bundled pack).")
@click.option("--rule", "only", multiple=True, help="Only this rule id (repeatable).")
@click.option("--verbose", "-v", is_flag=True, help="Also print the findings of each fixture.")
def test_rules(directory: Path | None, fixtures: Path | None, only: tuple[str, ...], verbose: bool) -> None:
    """Run the fixtures of the rules in DIRECTORY (default: the bundled pack) and report what passed.

    A DIRECTORY (or file) of CloudFormation Guard rules runs their `*_tests.yml` with `cfn-guard test`."""
    from scanner.catalogue import bundled_entries, directory_entries
    from scanner.ruletest import describe, has_guard_rules, run_rule_tests

    if directory is not None and directory.exists() and has_guard_rules(directory):
        _test_guard_rules(directory, config_path=None)
    try:
        entries = directory_entries(directory) if directory else bundled_entries()
    except CatalogueError as exc:
        raise click.UsageError(str(exc)) from exc
    root = fixtures or (directory / "fixtures" if directory else Path("fixtures/rules"))
    if not root.is_dir():
        raise click.UsageError(f"fixture directory {root} does not exist (give --fixtures)")
    rule_ids = [e.rule.id for e in entries if not only or e.rule.id in only]
    if not rule_ids:
        raise click.UsageError("no rules to test" + (f" matching {', '.join(only)}" if only else ""))
    results, incomplete = run_rule_tests(rule_ids, root, (directory,) if directory else ())
    for result in results:
        click.echo(describe(result))
        if verbose:
            for finding in result.findings:
                click.echo(f"          line {finding.location.start_line}: {finding.message}")
    for rule_id in incomplete:
        click.echo(f"FAILED  {rule_id:<16} needs both a fail* and a pass* fixture in {root / rule_id}")
    failed = sum(r.status == "failed" for r in results) + len(incomplete)
    skipped = sum(r.status == "skipped" for r in results)
    click.echo(f"\n{len(rule_ids)} rule(s): {sum(r.status == 'ok' for r in results)} fixture(s) passed, {failed} failed, {skipped} skipped")
    raise SystemExit(int(ExitCode.BLOCKED if failed else ExitCode.OK))


def _test_guard_rules(path: Path, config_path: Path | None) -> None:
    """Guard rule test files, per case; exit 0 only when every case of every file passed."""
    from scanner.engines import cfn_guard
    from scanner.engines.cfn_guard_binary import GuardUnavailable, find_binary
    from scanner.ruletest import describe_guard, run_guard_tests

    settings = _settings([path], config_path, {"engines": ["guard"]})
    options = cfn_guard.create(settings).options
    try:
        binary = find_binary(options.binary, options.search_from)
    except GuardUnavailable as exc:
        click.echo(f"FAILED  {path}: {exc}")
        raise SystemExit(int(ExitCode.BLOCKED)) from exc
    results = run_guard_tests(path, binary)
    for result in results:
        for line in describe_guard(result):
            click.echo(line)
    passed = sum(case.passed for r in results for case in r.cases)
    failed = sum(r.failed for r in results)
    click.echo(f"\n{len(results)} Guard rule file(s) with tests: {passed} case(s) passed, {failed} failed")
    raise SystemExit(int(ExitCode.BLOCKED if failed or not results else ExitCode.OK))


_started: float | None = None  # when this command started; None: when the pipeline starts


def main(argv: Sequence[str] | None = None, started: float | None = None) -> int:
    """Run the command line; return the exit code instead of exiting."""
    global _started
    _started = started
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="idp-scan", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return int(ExitCode.USAGE)
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        return int(ExitCode.USAGE)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else int(ExitCode.USAGE)
    except Exception as exc:  # an internal error must block, never pass, and stay readable
        if "--debug" in (argv or sys.argv):
            raise
        click.echo(f"idp-scan: internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)", err=True)
        return int(ExitCode.BLOCKED)
    return int(ExitCode.OK)


def entrypoint() -> None:
    code = main(started=IMPORTED)
    # Skip the interpreter's teardown: with checkov loaded it takes seconds, and the budget's
    # promise is an exit within two seconds of the deadline. Every report is written by now.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
