"""`idp-scan merge`: combine the SARIF of CI shards, re-apply the gate, exit accordingly."""

from __future__ import annotations

from pathlib import Path

import click

from scanner.commands.options import PolicyChoice, ReportChoice, grouped, load_settings, outputs, shared, with_options, write_reports
from scanner.gate import exit_code
from scanner.settings import ConfigError

_OPTIONS = with_options(
    shared("format", help="Output format (default: sarif). Repeatable."),
    shared("output"),
    shared("config", help="Configuration file (waivers, baseline, fail_on)."),
    shared("fail_on"),
    shared("baseline", help="Baseline file to apply to the merged findings."),
    shared("no_suppressions", help="Audit: ignore the central waivers and the baseline."),
    shared("include_suppressed"),
)


@click.command("merge")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_OPTIONS
@grouped(report=ReportChoice, policy=PolicyChoice)
def merge_command(files: tuple[Path, ...], config_path: Path | None, report: ReportChoice, policy: PolicyChoice) -> None:
    """Combine the SARIF of CI shards (FILES), de-duplicate, re-apply the gate, exit accordingly."""
    from scanner.shards import merge_shards

    targets = outputs(report.formats, report.output, default="sarif")
    # The repository (for repo-relative policy files) is the one holding the configuration, else the working directory's.
    settings = load_settings([config_path.parent if config_path else Path(".")], config_path, policy.values())
    try:
        result = merge_shards(files, settings)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    write_reports(result, targets, report)
    raise SystemExit(int(exit_code(result)))
