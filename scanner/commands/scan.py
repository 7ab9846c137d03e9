"""`idp-scan scan`: build Settings, run the pipeline, write the reports, exit with the gate's code."""

from __future__ import annotations

from pathlib import Path

import click

from scanner import collector
from scanner.commands.options import (PolicyChoice, ReportChoice, ScanChoice, configure_logging, grouped, load_settings,
                                      outputs, run_scan, shared, with_options, write_reports)
from scanner.gate import exit_code
from scanner.reports import FORMATS

_OPTIONS = with_options(
    shared("format", help=f"Output format: {', '.join(FORMATS)}. Repeatable."),
    shared("output"),
    shared("config", help="Configuration file (default: .idp-scan.yaml at the root)."),
    click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path),
                 help="Directory every reported path is relative to (default: the git repository, else the working directory)."),
    shared("fail_on"),
    shared("engines", help="Comma-separated engines to run (default: all installed)."),
    click.option("--select", multiple=True, help="Rule id prefixes to report (repeatable)."),
    click.option("--ignore", multiple=True, help="Rule id prefixes to leave out (repeatable)."),
    click.option("--budget", type=click.FloatRange(min=0, min_open=True), help="Deadline for the whole run, in seconds."),
    click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes (default: every core)."),
    click.option("--changed-since", metavar="GIT_REF", help="Scan only what changed since this git ref."),
    click.option("--var-file", "var_files", multiple=True, metavar="[ROOT=]FILE",
                 help="Terraform variables file: ROOT=FILE for the root module in directory ROOT only, a bare FILE for every root "
                      "module (repeatable; after terraform.tfvars and *.auto.tfvars, later files win)."),
    click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
                 help="The date expiry checks count from (default: today), for reproducible gates."),
    shared("baseline", help="Baseline file: findings it lists are BASELINED, not blocking."),
    shared("no_suppressions", help="Audit: ignore every suppression, waiver and the baseline."),
    click.option("--shard", metavar="K/N", help="Scan only the K-th of N deterministic slices of the inputs (CI fan-out)."),
    shared("include_suppressed"),
    click.option("--stats", is_flag=True, help="Include timings in the reports (and on stderr with text output)."),
    click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache."),
    click.option("--quiet", "-q", is_flag=True, help="Print only blocking findings and the summary."),
    click.option("--debug", is_flag=True, help="Log what happens, with tracebacks."),
)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_OPTIONS
@grouped(report=ReportChoice, policy=PolicyChoice, choice=ScanChoice)
def scan(paths: tuple[Path, ...], config_path: Path | None, debug: bool, report: ReportChoice, policy: PolicyChoice,
         choice: ScanChoice) -> None:
    """Scan PATHS (default: the current directory) and block on non-compliant infrastructure."""
    configure_logging(debug)
    targets = outputs(report.formats, report.output)
    settings = load_settings(list(paths), config_path, {**policy.values(), **choice.values()})
    with collector.settled():  # the run's imports and loaded files are no garbage
        result = run_scan(settings, debug)
        with collector.settled():  # nor, while the reports are built, its findings
            write_reports(result, targets, report, shard=settings.shard is not None)
    raise SystemExit(int(exit_code(result)))
