"""`idp-scan baseline write`: accept today's findings when adopting the gate."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from scanner.commands.options import engine_list, load_settings, run_scan, shared


@click.group("baseline")
def baseline_group() -> None:
    """Baselines: accept today's findings when adopting the gate on an existing repository."""


@baseline_group.command("write")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@shared("config")
@shared("engines", help="Comma-separated engines to run (default: all installed).")
def write_baseline(file: Path, paths: tuple[Path, ...], config_path: Path | None, engines: str | None) -> None:
    """Record the fingerprints of today's findings in PATHS (default: .) in FILE.

    Rewriting merges: entries of files not scanned now are kept; those of scanned files are
    replaced by today's, so fixed findings drop out. Suppressed findings are not recorded.
    """
    from scanner.gate import baseline as baselines
    from scanner.gate import entry_judged, scanned_scope

    settings = replace(load_settings(list(paths), config_path, {"engines": engine_list(engines)}), baseline=None)
    try:
        previous = baselines.read(file) if file.exists() else []
    except baselines.BaselineError as exc:
        raise click.UsageError(str(exc)) from exc
    result = run_scan(settings, debug=False)
    scope = scanned_scope([], result.findings) + result.scanned
    entries, counts = baselines.merged(previous, result.findings, scope, entry_judged(settings, result.rules), settings.root)
    file.write_text(baselines.render(entries), encoding="utf-8")
    click.echo(baselines.summary(counts, str(file), len(entries)))
