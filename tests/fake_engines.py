"""Engines for tests of the execution layer: slow, hanging and fatal on purpose.

A file named `hang*` makes the engine sleep for an hour; `die*` kills its process; every other
file costs `delay` seconds (option `sleepy_delay`) and gets one T-SLOW-001 finding.
"""

from __future__ import annotations

import os
import time
from pathlib import PurePosixPath
from typing import Iterable, Sequence

from scanner.engines import EngineBase
from scanner.model import Artifact, Finding, Location, RuleMeta, Severity
from scanner.settings import Settings


VERSION = "1"  # tests raise it to prove that a new engine version is not served old results


class SleepyEngine(EngineBase):
    name = "sleepy"

    def __init__(self, settings: Settings) -> None:
        self.delay = float(settings.options.get("sleepy_delay", 0.0))
        self.version = VERSION

    def rules(self) -> Sequence[RuleMeta]:
        return [RuleMeta("T-SLOW-001", self.name, Severity.WARNING, "Seen by the sleepy engine")]

    def accepts(self, artifact: Artifact) -> bool:
        return True

    def scan(self, artifacts: Sequence[Artifact]) -> Iterable[Finding]:
        for artifact in artifacts:
            name = PurePosixPath(artifact.uri).name
            if name.startswith("hang"):
                time.sleep(3600)
            if name.startswith("die"):
                os._exit(9)
            time.sleep(self.delay)
            yield Finding("T-SLOW-001", self.name, Severity.WARNING, f"seen by version {self.version}", Location(artifact.uri))


def create(settings: Settings) -> SleepyEngine:
    return SleepyEngine(settings)
