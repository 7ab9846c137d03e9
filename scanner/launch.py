"""The console script: every run with one fixed hash seed, then the command line.

Python randomises string hashing per process, so a set's order differs from run to run, and
checkov's Terraform variable rendering follows that order (bridgecrewio/checkov#7680): on
aws-ia/terraform-aws-eks-blueprints-addons, `tests/complete`, CKV_AWS_356 was reported under
some seeds and not others, by checkov alone and inside idp-scan. A gate must give the same
findings for the same files, so a scan runs with PYTHONHASHSEED=0: started otherwise, the
script starts itself again once, before importing anything heavy. The price is the hash
randomisation's protection against crafted colliding keys: such a file can only slow its own
scan, which then stops at the budget and blocks (exit 3), never passes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

STARTED = time.monotonic()  # the budget counts from the first start, imports included
SEED = "0"
STARTED_AT = "IDP_SCAN_STARTED_AT"  # the first start, passed to the second


def entrypoint() -> None:
    if _must_restart():
        _restart()
    from scanner import cli

    cli.entrypoint(_first_start())


def _must_restart() -> bool:
    # With -E or -I Python ignores PYTHONHASHSEED: starting again would loop.
    return os.environ.get("PYTHONHASHSEED") != SEED and not sys.flags.ignore_environment and bool(sys.executable)


def _restart() -> None:
    """The same command line, interpreter options included: the Action runs `python -P -m
    scanner` so that a checkout's own `scanner/` directory is never imported."""
    env = {**os.environ, "PYTHONHASHSEED": SEED, STARTED_AT: repr(STARTED)}
    command = [sys.executable, *sys.orig_argv[1:]]
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execve(sys.executable, command, env)
    raise SystemExit(subprocess.call(command, env=env))


def _first_start() -> float:
    """When the first of the two processes started (time.monotonic() is the machine's clock)."""
    try:
        return min(float(os.environ.pop(STARTED_AT)), STARTED)
    except (KeyError, ValueError):
        return STARTED
