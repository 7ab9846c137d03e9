"""`idp-scan rules`: list the catalogue, show one rule, write the reference, test fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from scanner.catalogue import CatalogueError
from scanner.commands.options import load_settings, shared
from scanner.engines import EngineError
from scanner.gate import ExitCode
from scanner.model import RuleMeta


@click.group()
def rules() -> None:
    """The rule catalogue: list rules, show one, test a rule directory's fixtures."""


def _rule_metas(config_path: Path | None, engines: str | None) -> dict[str, Any]:
    from scanner.engines import create_engines
    from scanner.pipeline import rule_metas

    cli_values = {"engines": [e.strip() for e in engines.split(",")] if engines else ["native"]}
    settings = load_settings([Path(".")], config_path, cli_values)
    try:
        return rule_metas(create_engines(settings))
    except (EngineError, CatalogueError) as exc:
        raise click.UsageError(str(exc)) from exc


@rules.command("list")
@shared("config")
@shared("engines", help="Engines whose rules to list (default: native).")
@click.option("--severity", type=click.Choice(("error", "warning", "note")), help="Only rules of this severity.")
@click.option("--tag", help="Only rules with this tag.")
def list_rules(config_path: Path | None, engines: str | None, severity: str | None, tag: str | None) -> None:
    """List the rules with their severity and title."""
    for meta in sorted(_rule_metas(config_path, engines).values(), key=lambda m: m.id):
        if severity and meta.severity.value != severity or tag and tag not in meta.tags:
            continue
        click.echo(f"{meta.id:<16} {meta.severity.value:<8} {meta.engine:<9} {meta.title}")


@rules.command("show")
@click.argument("rule_id")
@shared("config")
@shared("engines", help="Engines to look in (default: native, then the bundled engines).")
@click.option("--fixtures", "fixtures", type=click.Path(path_type=Path), default=Path("fixtures/rules"), show_default=True,
              help="Where the rule's example fixtures are.")
def show_rule(rule_id: str, config_path: Path | None, engines: str | None, fixtures: Path) -> None:
    """Show a rule's help (why it matters, how to fix it), aliases, where it applies and its examples."""
    native = _rule_metas(config_path, engines)
    meta = native.get(rule_id)
    if meta is None and engines is None:  # a checkov, cfn-lint or Guard id: look in every bundled engine
        meta = _rule_metas(config_path, "native,checkov,cfn-lint,guard").get(rule_id)
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

    return explain(meta, load_settings([Path(".")], config_path, {}).severity_overrides.get(meta.id))


def _native_details(rule_id: str, config_path: Path | None, fixtures: Path) -> list[str]:
    """Where a native rule applies, where it comes from, and its example fixtures."""
    from scanner.catalogue import build_catalogue
    from scanner.ruledocs import where_it_applies
    from scanner.ruletest import fixture_files

    settings = load_settings([Path(".")], config_path, {"engines": ["native"]})
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
@shared("config", help="Include the configured rule directories.")
def rules_docs(output: Path | None, config_path: Path | None) -> None:
    """Write the rule reference (markdown) generated from the catalogue."""
    from scanner.catalogue import build_catalogue
    from scanner.ruledocs import render

    settings = load_settings([Path(".")], config_path, {"engines": ["native"]})
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

    settings = load_settings([path], config_path, {"engines": ["guard"]})
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
