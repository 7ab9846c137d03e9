"""What the commands share: options declared once, the groups they fill, settings, the run, reports.

A command lists its options in `--help` order; an option two commands take is declared here
once (`shared`), each command giving it its own help text. The values of a group of options
reach the command as one frozen object (`grouped`), not as a parameter each.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

import click

from scanner.catalogue import CatalogueError
from scanner.engines import EngineError
from scanner.model import ScanResult
from scanner.reports import FORMATS, ReportOptions, renderers
from scanner.settings import ConfigError, Settings, build_settings

FAIL_ON = ("error", "warning", "note", "never")

Command = TypeVar("Command", bound=Callable[..., Any])

# name -> (declarations, attributes) of the options several commands take.
_SHARED: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "format": (("--format", "formats"), {"multiple": True, "metavar": "FORMAT[=FILE]"}),
    "output": (("--output", "-o"), {"help": "Write the (first) report to this file instead of standard output."}),
    "config": (("--config", "config_path"), {"type": click.Path(path_type=Path)}),
    "fail_on": (("--fail-on",), {"type": click.Choice(FAIL_ON), "help": "Lowest severity that blocks (default: error)."}),
    "baseline": (("--baseline",), {"type": click.Path(path_type=Path)}),
    "no_suppressions": (("--no-suppressions",), {"is_flag": True}),
    "include_suppressed": (("--include-suppressed",), {"is_flag": True, "help": "Also show suppressed and baselined findings."}),
    "engines": (("--engines",), {}),
}


def shared(name: str, help: str | None = None) -> Callable[[Command], Command]:
    """The shared option `name`, with this command's help text when it has its own."""
    declarations, attributes = _SHARED[name]
    return click.option(*declarations, **{**attributes, **({"help": help} if help is not None else {})})


def with_options(*decorators: Callable[[Command], Command]) -> Callable[[Command], Command]:
    """Apply option decorators listed in `--help` order."""
    def decorate(command: Command) -> Command:
        for decorator in reversed(decorators):
            command = decorator(command)
        return command
    return decorate


def grouped(**groups: type[Any]) -> Callable[[Command], Command]:
    """Hand the command each group's options as one object: `grouped(report=ReportChoice)`
    turns the keyword arguments named by ReportChoice's fields into `report=ReportChoice(...)`."""
    def decorate(command: Command) -> Command:
        @functools.wraps(command)
        def with_groups(**values: Any) -> Any:
            for name, group in groups.items():
                fields = [f.name for f in dataclasses.fields(group) if f.name in values]
                values[name] = group(**{field: values.pop(field) for field in fields})
            return command(**values)
        return with_groups  # type: ignore[return-value]
    return decorate


@dataclass(frozen=True)
class ReportChoice:
    """Which reports to write, where, and what they show."""

    formats: tuple[str, ...] = ()
    output: str | None = None
    include_suppressed: bool = False
    quiet: bool = False
    stats: bool = False


@dataclass(frozen=True)
class PolicyChoice:
    """The gate's options that `scan` and `merge` share."""

    fail_on: str | None = None
    baseline: Path | None = None
    no_suppressions: bool = False

    def values(self) -> dict[str, Any]:
        """As command-line values for `build_settings` (None: not given)."""
        return {"fail_on": self.fail_on, "baseline": str(self.baseline) if self.baseline else None,
                "no_suppressions": self.no_suppressions or None}


@dataclass(frozen=True)
class ScanChoice:
    """What `scan` alone takes: where, what and how much to scan."""

    root: Path | None = None
    engines: str | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    budget: float | None = None
    jobs: int | None = None
    changed_since: str | None = None
    var_files: tuple[str, ...] = ()
    as_of: datetime.datetime | None = None
    shard: str | None = None
    no_cache: bool = False

    def values(self) -> dict[str, Any]:
        """As command-line values for `build_settings` (None: not given)."""
        return {
            "engines": engine_list(self.engines),
            "select": list(self.select) or None,
            "ignore": list(self.ignore) or None,
            "budget": self.budget,
            "jobs": self.jobs,
            "changed_since": self.changed_since,
            "as_of": self.as_of.date() if self.as_of else None,
            "shard": self.shard,
            "cache": False if self.no_cache else None,
            "var_files": list(self.var_files) or None,
            "root": str(self.root) if self.root else None,
        }


def engine_list(text: str | None) -> list[str] | None:
    """`--engines a,b` as a list; None when not given."""
    return [e.strip() for e in text.split(",") if e.strip()] if text else None


def outputs(formats: Sequence[str], output: str | None, default: str = "text") -> list[tuple[str, str | None]]:
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


def link_base() -> str:
    """Where file:line links in the Markdown summary point: the commit on GitHub, when known."""
    server, repo, sha = (os.environ.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))
    return f"{server}/{repo}/blob/{sha}/" if server and repo and sha else ""


def write_reports(result: ScanResult, targets: Sequence[tuple[str, str | None]], report: ReportChoice, shard: bool = False) -> None:
    """Render each (format, file); a shard's SARIF keeps every result, since `merge` re-applies the gate."""
    color = "NO_COLOR" not in os.environ
    for name, target in targets:
        options = ReportOptions(
            color=color and target is None and sys.stdout.isatty() and name == "text",
            include_suppressed=report.include_suppressed or (shard and name == "sarif"),
            quiet=report.quiet,
            stats=report.stats,
            link_base=link_base(),
        )
        rendered = renderers()[name](result, options)
        if target is None:
            click.echo(rendered, nl=False)
        else:
            Path(target).write_text(rendered, encoding="utf-8")
    if report.stats and any(name == "text" for name, _ in targets):
        from scanner.reports.text import render_stats

        click.echo(render_stats(result), err=True, nl=False)


# The engines' libraries log what they also report to us (cfn-lint: "Template file not found" for
# every nested stack it cannot open); each becomes a finding, so their log lines are noise in a
# CI log unless --debug asks for them.
QUIET_LIBRARIES = ("cfnlint", "checkov", "samtranslator")


def configure_logging(debug: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not debug:
        for name in QUIET_LIBRARIES:
            logging.getLogger(name).setLevel(logging.CRITICAL)


def load_settings(paths: list[Path], config_path: Path | None, cli_values: dict[str, Any]) -> Settings:
    try:
        return build_settings(paths, config_path, cli_values)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


@dataclass
class _Clock:
    started: float | None = None  # when this command started; None: when the pipeline starts


CLOCK = _Clock()


def run_scan(settings: Settings, debug: bool) -> ScanResult:
    from scanner.pipeline import run

    progress = _Progress(enabled=sys.stderr.isatty())
    try:
        return run(settings, progress, started=CLOCK.started)
    except (ConfigError, EngineError, CatalogueError) as exc:
        if debug:
            raise
        raise click.UsageError(str(exc)) from exc
    finally:
        progress.clear()
