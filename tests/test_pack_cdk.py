"""The pack on the CDK fixture app: stack tags and environments from the cloud assembly manifest."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import FIXTURES

APP = FIXTURES / "cdk" / "app"


def ours(report: dict, prefix: str) -> list[dict]:
    """Findings of the rules under test (the gate's notes about unused waivers are not)."""
    return [f for f in report["findings"] if f["rule_id"].startswith(prefix)]


def config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return str(path)


def test_the_fixture_app_is_clean_under_its_configuration(scan):
    """The app's .idp-scan.yaml pins "now" to its synth date: the preview stack's expiry is fine."""
    code, report = scan(APP, "--engines", "native", "--select", "IDP-TTL", "--select", "IDP-TAG", "--select", "IDP-REGION",
                        "--config", APP / ".idp-scan.yaml")
    assert (code, ours(report, "IDP-")) == (0, [])


def test_preview_stack_expiry_too_far_ahead(scan, tmp_path):
    cfg = config(tmp_path, "ttl:\n  as_of: '2026-12-01'\n")
    code, report = scan(APP, "--engines", "native", "--select", "IDP-TTL", "--config", cfg)
    found = ours(report, "IDP-TTL")
    stacks = {f["resource"]["name"].split("/")[0] for f in found}
    messages = {f["message"].split(" expires at ")[1].split(" It holds")[0] for f in found}
    assert code == 1 and stacks == {"PreviewPr123"} and messages == {"2026-12-31, more than 14 days ahead."}
    # Every taggable resource of the preview stack inherits the stack's tag: one finding, for the stack.
    assert len(found) == 1 and found[0]["resource"]["type"] == "AWS::CloudFormation::Stack"
    assert "It holds for all 24 resources" in found[0]["message"]


def test_stack_tags_from_the_manifest_count_as_resource_tags(scan, tmp_path):
    cfg = config(tmp_path, "tags:\n  required: [expires-at]\n")
    _, report = scan(APP, "--engines", "native", "--select", "IDP-TAG", "--config", cfg)
    stacks = {f["resource"]["name"].split("/")[0] for f in ours(report, "IDP-TAG")}
    assert stacks == {"Orders"}  # the preview stack carries expires-at as a stack tag


def test_stack_environment_region_is_checked_once_per_stack(scan, tmp_path):
    cfg = config(tmp_path, "regions:\n  allowed: [us-east-1]\n")
    code, report = scan(APP, "--engines", "native", "--select", "IDP-REGION", "--config", cfg)
    regions = [f for f in ours(report, "IDP-REGION") if " deploys to eu-west-1" in f["message"]]
    stacks = sorted(f["resource"]["name"].split("/")[0] for f in regions)
    assert code == 1 and stacks == ["Orders", "Orders", "PreviewPr123"]  # Orders has a nested stack
    cfg = config(tmp_path, "regions:\n  allowed: [eu-west-1]\n")
    code, report = scan(APP, "--engines", "native", "--select", "IDP-REGION", "--config", cfg)
    assert (code, ours(report, "IDP-")) == (0, [])
