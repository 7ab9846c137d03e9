"""Suppressions written in resource Metadata are read when the artifact is loaded; the gate only reads them."""

from __future__ import annotations

import datetime
import json
import textwrap
from pathlib import Path

from scanner.cache.codec import artifact_json, decode, encode
from scanner.gate import mark
from scanner.inputs import Loaded, Unit, cfn
from scanner.inputs.metadata_suppressions import with_metadata_suppressions
from scanner.model import Finding, Location, ResourceId, ResourceSuppression, Severity, Status, Suppression
from scanner.inputs.loading import load_unit
from scanner.settings import Settings
from tests.conftest import FIXTURES, REPO

GATE = "fixtures/gate/suppressed.yaml"
SAM = textwrap.dedent("""\
    AWSTemplateFormatVersion: "2010-09-09"
    Transform: AWS::Serverless-2016-10-31
    Resources:
      Fn:
        Type: AWS::Serverless::Function
        Metadata:
          idp-scan:
            suppress:
              - {id: IDP-LAMBDA-001, reason: "moving to 3.12 in JIRA-123"}
        Properties:
          Runtime: python3.8
          Handler: index.handler
          InlineCode: "def handler(e, c): pass"
    """)


def _written(rule_id: str, reason: str, uri: str, lines: tuple[int, int], resource: str, expires: datetime.date | None = None) -> Suppression:
    return Suppression(rule_id, reason, Location(uri, *lines), resource=resource, expires=expires)


def test_a_template_records_its_metadata_suppressions_when_loaded():
    loaded = load_unit(Unit("cloudformation", REPO / GATE, GATE))
    (artifact,) = loaded.artifacts
    assert artifact.metadata_suppressions == (
        ResourceSuppression(_written("IDP-NET-001", "bastion for the on-call team, see SEC-1234", GATE, (22, 22), "MetadataSg"), ("MetadataSg",)),
        ResourceSuppression(_written("CKV_AWS_24", "suppressed under the checkov id of the same concern", GATE, (32, 34), "AliasSg"), ("AliasSg",)),
        ResourceSuppression(_written("IDP-NET-001", "because", GATE, (43, 43), "NoReasonSg"), ("NoReasonSg",)),
    )
    assert artifact.metadata_problems == ()


def test_a_cdk_stack_records_its_metadata_suppressions_matched_in_any_file():
    """A CDK finding moves to the source line, so the suppression matches its construct path anywhere."""
    uri = "fixtures/cdk/app/cdk.out"
    loaded = load_unit(Unit("cdk", FIXTURES / "cdk" / "app" / "cdk.out", uri))
    recorded = {a.uri: a.metadata_suppressions for a in loaded.artifacts if a.metadata_suppressions}
    template = f"{uri}/Orders.template.json"
    path = "Orders/Waived/JumpHostSg/Resource"
    assert recorded == {template: (ResourceSuppression(
        _written("IDP-NET-001", "Incident jump host, closed by the runbook", template, (1251, 1255), path, datetime.date(2027, 3, 31)),
        (path,), anywhere=True),)}


def test_a_suppression_a_transform_copied_covers_the_copy_too(tmp_path):
    """SAM copies a function's Metadata to the role it generates: one suppression, both resources."""
    (tmp_path / "template.yaml").write_text(SAM)
    (artifact,) = load_unit(Unit("cloudformation", tmp_path / "template.yaml", "template.yaml")).artifacts
    assert artifact.metadata_suppressions == (
        ResourceSuppression(_written("IDP-LAMBDA-001", "moving to 3.12 in JIRA-123", "template.yaml", (9, 9), "Fn"), ("Fn", "FnRole")),
    )


def test_an_unreadable_metadata_suppression_is_recorded_as_a_finding_at_its_line(tmp_path):
    text = "Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Metadata:\n      idp-scan:\n        suppress:\n          - {reason: no rule id given here}\n"
    artifact, _ = cfn.load_text(text, tmp_path / "t.yaml", "t.yaml")
    assert artifact is not None
    recorded = with_metadata_suppressions(artifact)
    assert recorded.metadata_suppressions == ()
    assert [(f.rule_id, f.location.uri, f.location.start_line) for f in recorded.metadata_problems] == [("IDP030", "t.yaml", 7)]
    assert "must be a mapping with an `id`" in recorded.metadata_problems[0].message


def test_the_gate_reads_what_the_load_recorded_not_the_template(tmp_path):
    """An artifact nobody recorded suppressions on suppresses nothing: the gate no longer reads Metadata itself."""
    text = (REPO / GATE).read_text()
    artifact, _ = cfn.load_text(text, REPO / GATE, GATE)
    assert artifact is not None
    finding = Finding("IDP-NET-001", "native", Severity.ERROR, "ssh from anywhere", Location(GATE, 26, 26), ResourceId("cloudformation", "MetadataSg"))
    settings = Settings(paths=(tmp_path,), root=tmp_path)
    unrecorded = mark([finding], [artifact], settings, {})
    recorded = mark([finding], [with_metadata_suppressions(artifact)], settings, {})
    assert [(f.rule_id, f.status) for f in unrecorded if f.resource is not None] == [("IDP-NET-001", Status.OPEN)]
    assert [(f.rule_id, f.status) for f in recorded if f.resource is not None] == [("IDP-NET-001", Status.SUPPRESSED)]
    assert recorded[0].status_reason == "Metadata suppression at fixtures/gate/suppressed.yaml:22: bastion for the on-call team, see SEC-1234"


def test_recorded_suppressions_round_trip_through_the_cache(tmp_path):
    """The load cache stores artifacts with `artifact_json` and `encode`: the new fields come back equal."""
    text = "Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Metadata:\n      idp-scan:\n        suppress:\n          - {id: IDP-NET-001, reason: a reason long enough, expires: 2027-03-31}\n          - {id: X}\n          - 3\n"
    artifact, _ = cfn.load_text(text, tmp_path / "t.yaml", "t.yaml")
    assert artifact is not None
    recorded = with_metadata_suppressions(artifact)
    assert len(recorded.metadata_suppressions) == 2 and len(recorded.metadata_problems) == 1
    assert decode(json.loads(artifact_json(recorded))) == recorded
    loaded = Loaded(artifacts=(recorded,))
    assert decode(json.loads(json.dumps(encode(loaded)))) == loaded
