"""checkov's graph checks run without threads, with the same results."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from scanner.engines import checkov_setup
from scanner.engines.checkov_engine import CheckovEngine
from scanner.engines.checkov_threads import InlineExecutor
from scanner.engines.limits import EngineTimeout
from scanner.inputs import cfn

CERTIFICATES = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Wildcard:
    Type: AWS::CertificateManager::Certificate
    Properties: {DomainName: "*.example.com", ValidationMethod: DNS}
  Exact:
    Type: AWS::CertificateManager::Certificate
    Properties: {DomainName: www.example.com, ValidationMethod: DNS}
  WildcardAlternative:
    Type: AWS::CertificateManager::Certificate
    Properties: {DomainName: example.com, SubjectAlternativeNames: [a.example.com, "*.example.com"], ValidationMethod: DNS}
"""


def test_a_task_runs_at_once_and_its_failure_waits_in_its_future() -> None:
    executor = InlineExecutor(max_workers=4)
    ran: list[int] = []
    done = executor.submit(ran.append, 1)
    failed = executor.submit(lambda: 1 / 0)
    assert ran == [1] and done.result() is None
    assert isinstance(failed.exception(), ZeroDivisionError)  # kept, as a pool's worker keeps it
    assert list(executor.map(pow, [2, 3], [2, 2])) == [4, 9]
    with InlineExecutor() as pooled:
        assert pooled.submit(len, "abc").result() == 3


def test_the_engines_time_limit_is_not_kept_in_a_future() -> None:
    def expire() -> None:
        raise EngineTimeout("did not finish")

    with pytest.raises(EngineTimeout):
        InlineExecutor().submit(expire)


def test_graph_checks_start_no_thread_and_find_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []
    start = threading.Thread.start

    def counted(thread: threading.Thread) -> None:
        started.append(thread.name)
        start(thread)

    path = tmp_path / "certificates.yaml"
    path.write_text(CERTIFICATES)
    artifact, _ = cfn.load_text(CERTIFICATES, path, "certificates.yaml")
    assert artifact is not None
    checkov_setup.runner_class("cloudformation")
    monkeypatch.setattr(threading.Thread, "start", counted)
    found = {(f.rule_id, f.location.start_line) for f in CheckovEngine().scan([artifact]) if f.rule_id == "CKV2_AWS_71"}
    assert found == {("CKV2_AWS_71", 3), ("CKV2_AWS_71", 9)}  # the wildcard names, not the exact one
    assert started == []
