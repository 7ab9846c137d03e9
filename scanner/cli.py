"""The command line: thin. Build Settings, call the pipeline, write reports, return an exit code.

`main(argv) -> int` is what tests call; `entrypoint(started)` is the console script's work once
`scanner.launch` fixed the hash seed. The commands live in `scanner.commands`, one module each;
the options they share are declared once there.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Sequence

import click

from scanner import __version__
from scanner.commands.baseline import baseline_group
from scanner.commands.merge import merge_command
from scanner.commands.options import CLOCK
from scanner.commands.rules import rules
from scanner.commands.scan import scan
from scanner.gate import ExitCode


class DefaultScanGroup(click.Group):
    """`idp-scan PATH` is `idp-scan scan PATH`."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["scan", *args]
        return super().resolve_command(ctx, args)


@click.group(cls=DefaultScanGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="idp-scan")
def cli() -> None:
    """idp-scan: prove that infrastructure changes stay on the platform's paved road."""


for _command in (scan, merge_command, baseline_group, rules):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None, started: float | None = None) -> int:
    """Run the command line; return the exit code instead of exiting."""
    CLOCK.started = started
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


def entrypoint(started: float) -> None:
    """The console script's work; the budget counts from `started`, the first process's start."""
    code = main(started=started)
    # Skip the interpreter's teardown: with checkov loaded it takes seconds, and the budget's
    # promise is an exit within two seconds of the deadline. Every report is written by now.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
