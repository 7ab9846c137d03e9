"""CDK cloud assemblies: construct paths, source lines, nested stacks, plumbing, waivers, failures.

The app under fixtures/cdk/app was synthesized by the real toolchain (fixtures/cdk/regenerate.sh);
its stack traces name /build/app, not this checkout, so the source lines below prove that frames
are found again relative to the app directory wherever the assembly was synthesized.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.engines.cdk_validation import property_path, severity_of
from scanner.inputs import cdk, cdk_sources, cfn
from scanner.model import Finding, Location, ResourceId, Severity, Suppression
from tests.conftest import FIXTURES, REPO, finding_set
from tests.sarif_validation import multitool, multitool_errors, schema_errors

APP = FIXTURES / "cdk" / "app"
PY_APP = FIXTURES / "cdk" / "python-app"
# The pack's hygiene and lifecycle rules (tags, tracing, preview TTL) are left out here: this
# file is about reading the cloud assembly; tests/test_pack_cdk.py covers those rules on it.
# The app's own configuration, named: a configuration below the root applies only when named.
ENGINES = ("--engines", "native,cdk-validation", "--ignore", "IDP-TAG", "--ignore", "IDP-OBS", "--ignore", "IDP-TTL",
           "--config", str(APP / ".idp-scan.yaml"))
LEGACY = "fixtures/cdk/app/lib/legacy-bastion.ts"
WAIVED = "fixtures/cdk/app/lib/waived-access.ts"
TEMPLATE = "fixtures/cdk/app/cdk.out/Orders.template.json"

EXPECTED = {
    ("IDP-NET-001", LEGACY, 22, "Orders/LegacyBastion/BastionSg/Resource"),
    ("IDP-IAM-001", LEGACY, 25, "Orders/LegacyBastion/AdminRole/DefaultPolicy/Resource"),
    ("IDP-DATA-001", LEGACY, 27, "Orders/LegacyBastion/PublicAssets/Resource"),
    ("IDP-ECS-001", LEGACY, 35, "Orders/LegacyBastion/Service/Service"),
    ("IDP-ECS-002", LEGACY, 33, "Orders/LegacyBastion/Task/Resource"),  # its container ships no logs
    ("IDP-DATA-002", "fixtures/cdk/app/lib/stacks.ts", 16, "Orders/Reporting/ReportsDb"),
}
# Waived in CDK code: idp-scan Metadata (JumpHostSg), Validations.acknowledge (RdpSg) and cdk-nag
# rules_to_suppress naming CKV_AWS_24, an alias of IDP-NET-001 (NagSg). CDK's own W2508 on the same
# group is folded into IDP-NET-001 (scanner/findings/concerns.py), so the waiver covers it too.
SUPPRESSED = {
    ("IDP-NET-001", WAIVED, 15, "Orders/Waived/JumpHostSg/Resource"),
    ("IDP-NET-001", WAIVED, 21, "Orders/Waived/RdpSg/Resource"),
    ("IDP-NET-001", WAIVED, 25, "Orders/Waived/NagSg/Resource"),
}
OPEN_WAIVED: set[tuple[str, str, int, str]] = set()


def all_findings(report: dict[str, Any]) -> set[tuple[str, str, int, str]]:
    return {
        (f["rule_id"], f["location"]["uri"], f["location"]["start_line"], (f["resource"] or {}).get("name", ""))
        for f in report["findings"]
    }


def by_resource(report: dict[str, Any], rule_id: str, name: str) -> dict[str, Any]:
    (found,) = [f for f in report["findings"] if f["rule_id"] == rule_id and (f["resource"] or {}).get("name") == name]
    return found


def test_fixture_app_blocks_on_the_legacy_construct_at_its_typescript_lines(scan):
    code, report = scan(APP, *ENGINES)
    assert code == 1
    assert finding_set(report) == EXPECTED | OPEN_WAIVED
    assert all_findings(report) == EXPECTED | OPEN_WAIVED | SUPPRESSED
    assert report["scanned"] == [
        "fixtures/cdk/app/cdk.out/Orders.template.json",
        "fixtures/cdk/app/cdk.out/OrdersReporting58986DD0.nested.template.json",
        "fixtures/cdk/app/cdk.out/assembly-PreviewPr123/PreviewPr123ServiceBECCD267.template.json",
        "fixtures/cdk/app/cdk.out/validation-report.json",
    ]


def test_finding_keeps_the_template_line_and_names_stack_and_logical_id(scan):
    _, report = scan(APP, *ENGINES)
    sg = by_resource(report, "IDP-NET-001", "Orders/LegacyBastion/BastionSg/Resource")
    assert sg["related"] == [{"uri": TEMPLATE, "start_line": 968, "end_line": 968}]  # the CidrIp line
    assert sg["resource"] == {
        "kind": "cdk", "name": "Orders/LegacyBastion/BastionSg/Resource", "type": "AWS::EC2::SecurityGroup",
        "logical_id": "LegacyBastionBastionSgDC82BC03", "stack": "Orders",
    }
    db = by_resource(report, "IDP-DATA-002", "Orders/Reporting/ReportsDb")  # inside the nested stack
    assert db["related"] == [{"uri": "fixtures/cdk/app/cdk.out/OrdersReporting58986DD0.nested.template.json", "start_line": 11, "end_line": 11}]


def test_property_assignment_frame_wins_over_the_creation_frame(scan):
    _, report = scan(APP, *ENGINES)
    # created at line 21 (new SecurityGroup), the world-open rule added at line 22 (addIngressRule)
    assert by_resource(report, "IDP-NET-001", "Orders/LegacyBastion/BastionSg/Resource")["location"]["start_line"] == 22
    # the bucket's offending properties were set by its constructor: the creation frame
    assert by_resource(report, "IDP-DATA-001", "Orders/LegacyBastion/PublicAssets/Resource")["location"]["start_line"] == 27


def test_paved_road_and_preview_environment_are_clean(scan):
    _, report = scan(APP, *ENGINES)
    names = {(f["resource"] or {}).get("name", "") for f in report["findings"]}
    assert not [n for n in names if n.startswith(("Orders/Orders/", "PreviewPr123/"))]
    assert not [n for n in names if "CDKMetadata" in n or "Bootstrap" in n]


def test_assembly_is_scanned_alike_wherever_it_sits(scan, tmp_path):
    copy = tmp_path / "elsewhere" / "service"
    for part in ("bin", "lib", "cdk.out"):
        shutil.copytree(APP / part, copy / part)
    (tmp_path / "elsewhere" / ".git").mkdir()
    code, report = scan(copy, *ENGINES)
    assert code == 1
    moved = {(r, u.replace("fixtures/cdk/app/", "service/"), line, n) for r, u, line, n in EXPECTED | OPEN_WAIVED}
    assert finding_set(report) == moved


def test_source_outside_the_repository_stays_in_the_template_and_is_named(scan, tmp_path):
    shutil.copytree(APP / "cdk.out", tmp_path / "cdk.out")  # no lib/ next to it
    (tmp_path / ".git").mkdir()
    _, report = scan(tmp_path, *ENGINES)
    sg = by_resource(report, "IDP-NET-001", "Orders/LegacyBastion/BastionSg/Resource")
    assert sg["location"] == {"uri": "cdk.out/Orders.template.json", "start_line": 968, "end_line": 968}
    assert sg["related"] == []
    assert sg["message"].endswith("(defined at /build/app/lib/legacy-bastion.ts:22)")


def test_template_given_twice_is_scanned_once(scan):
    _, together = scan(APP / "cdk.out" / "Orders.template.json", APP / "cdk.out", *ENGINES)
    _, alone = scan(APP / "cdk.out", *ENGINES)
    assert together["scanned"] == alone["scanned"]
    assert all_findings(together) == all_findings(alone)
    _, template_only = scan(APP / "cdk.out" / "Orders.template.json", *ENGINES)  # pre-commit passes files
    assert all_findings(template_only) == all_findings(alone)


def test_python_app_frames_old_style_trace_and_no_path_metadata(scan):
    code, report = scan(PY_APP, *ENGINES)
    assert code == 1
    assert all_findings(report) == {("IDP-NET-001", "fixtures/cdk/python-app/app.py", 11, "LegacyPy/BastionSg")}
    assert report["findings"][0]["related"] == [{"uri": "fixtures/cdk/python-app/cdk.out/LegacyPy.template.json", "start_line": 9, "end_line": 9}]


def test_sarif_names_construct_paths_and_passes_the_validators(tmp_path):
    from scanner.cli import main

    out = tmp_path / "cdk.sarif"
    assert main(["scan", str(APP), str(PY_APP), *ENGINES, "--format", f"sarif={out}"]) == 1
    log = json.loads(out.read_text())
    assert schema_errors(log) == []
    results = log["runs"][0]["results"]
    sg = next(r for r in results if r["ruleId"] == "IDP-NET-001" and "LegacyBastion" in r["message"]["text"])
    assert sg["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "Orders/LegacyBastion/BastionSg/Resource"
    assert sg["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == LEGACY
    assert sg["relatedLocations"][0]["message"]["text"] == "Synthesized CloudFormation template"
    tool = multitool()
    if tool is None:
        pytest.skip("Sarif.Multitool not installed")
    assert multitool_errors(out, tool) == []


# --- plumbing ------------------------------------------------------------------------------


def _py_template() -> Any:
    artifacts, findings = cdk.load_assembly(PY_APP / "cdk.out", "fixtures/cdk/python-app/cdk.out")
    assert findings == []
    (template,) = artifacts
    return template


@pytest.mark.parametrize(
    "path",
    [("Resources", "CDKMetadata"), ("Parameters", "BootstrapVersion"), ("Parameters", "AssetParameters8f2e1f0cS3BucketA1B2C3D4"),
     ("Rules", "CheckBootstrapVersion"), ("Conditions", "CDKMetadataAvailable")],
)
def test_findings_on_cdk_plumbing_are_dropped_but_failures_stay(path):
    template = _py_template()
    where = template.locate(path)
    engine_finding = Finding("W9999", "cfn-lint", Severity.ERROR, "about plumbing", where)
    failure = Finding("IDP005", "idp-scan", Severity.ERROR, "rule crashed", where)
    assert [f.rule_id for f in cdk_sources.attach_sources([engine_finding, failure], [template])] == ["IDP005"]


def test_other_engines_findings_get_the_construct_path():
    template = _py_template()
    finding = Finding("CKV_AWS_24", "checkov", Severity.ERROR, "port 22 open", template.locate(("Resources", "BastionSg", "Properties")),
                      ResourceId("cloudformation", "BastionSg", "AWS::EC2::SecurityGroup", "BastionSg"))
    (moved,) = cdk_sources.attach_sources([finding], [template])
    assert moved.resource == ResourceId("cdk", "LegacyPy/BastionSg", "AWS::EC2::SecurityGroup", "BastionSg", "LegacyPy")
    assert moved.location == Location("fixtures/cdk/python-app/app.py", 11, 11)


# --- waivers written in CDK code --------------------------------------------------------------


def test_waivers_written_in_cdk_code_suppress_at_the_gate(scan):
    _, report = scan(APP, *ENGINES)
    reasons = {(f["rule_id"], f["resource"]["name"]): f["status_reason"] for f in report["findings"] if f["status"] == "suppressed"}
    assert {(r, n) for r, _, _, n in SUPPRESSED} == set(reasons)
    assert reasons[("IDP-NET-001", "Orders/Waived/NagSg/Resource")].startswith("cdk-nag suppression at fixtures/cdk/app/cdk.out/Orders.template.json:")
    assert reasons[("IDP-NET-001", "Orders/Waived/RdpSg/Resource")].endswith("Vendor access until the VPN migration")
    code, audit = scan(APP, *ENGINES, "--no-suppressions")
    assert (code, finding_set(audit)) == (1, EXPECTED | OPEN_WAIVED | SUPPRESSED)


def test_cdk_nag_and_acknowledged_rules_become_suppressions():
    artifacts, _ = cdk.load_assembly(APP / "cdk.out", "fixtures/cdk/app/cdk.out")
    orders = next(a for a in artifacts if a.uri == TEMPLATE)
    suppressions = {(s.rule_id, s.resource, s.reason, s.origin, s.location.uri) for s in orders.context["suppressions"]}
    assert suppressions == {
        # cdk-nag rules_to_suppress naming an alias of IDP-NET-001 (AwsSolutions-EC23 names no idp-scan rule)
        ("CKV_AWS_24", "Orders/Waived/NagSg/Resource", "Vendor SFTP endpoint, restricted by the vendor firewall", "cdk-nag", TEMPLATE),
        # Validations.of(rdp).acknowledge({id: 'IDP-NET-001'}) is recorded as Annotation::IDP-NET-001
        ("IDP-NET-001", "Orders/Waived/RdpSg", "Vendor access until the VPN migration", "cdk-nag", TEMPLATE),
    }
    assert all(isinstance(s, Suppression) for s in orders.context["suppressions"])


def test_acknowledgement_is_one_waiver_for_its_construct_scope():
    template = _py_template()
    found = cdk.cdk_suppressions(template, [
        ("LegacyPy", "IDP-NET-001", "whole legacy stack"), ("LegacyPy", "AwsSolutions-S1", "not ours"), ("Elsewhere", "IDP-NET-001", "no resource here"),
    ])
    assert [(s.rule_id, s.resource, s.location.uri) for s in found] == [("IDP-NET-001", "LegacyPy", "fixtures/cdk/python-app/cdk.out/LegacyPy.template.json")]


# --- frames ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        (["...new Vpc2 in aws-cdk-lib...", "new OrdersStack (/build/app/lib/stacks.ts:28:17)"], ("/build/app/lib/stacks.ts", 28)),
        (["    at new Foo (/x/node_modules/aws-cdk-lib/core/lib/a.js:1:2)", "    at new Bar (/x/lib/bar.ts:5:3)"], ("/x/lib/bar.ts", 5)),
        (["Module.m._compile (/x/node_modules/ts-node/src/index.ts:1618:23)", "Module._compile (node:internal/modules/cjs/loader:1521:14)"], None),
        (["...aws-cdk-lib...", "(no user code in 10 frames, use --stack-trace-limit to capture more)"], None),
        (["Array.forEach (:)"], None),
        (["<anonymous> (C:\\src\\app\\bin\\app.ts:7:1)"], ("C:\\src\\app\\bin\\app.ts", 7)),
        (["Kernel._create (/tmp/tmp6bcq1n2z/lib/program.js:9964:29)", 'File "/home/dev/app/stacks.py", line 14, in __init__'], ("/home/dev/app/stacks.py", 14)),
        (['File "/v/lib/python3.11/site-packages/jsii/_kernel/__init__.py", line 334, in create'], None),
        ([42, None, {"not": "a frame"}], None),
    ],
)
def test_first_user_frame(frames, expected):
    assert cdk_sources.user_frame(frames) == expected


# --- broken assemblies are findings ------------------------------------------------------------


def _assembly(tmp_path: Path, manifest: Any, files: dict[str, str] | None = None) -> Path:
    out = tmp_path / "cdk.out"
    out.mkdir(parents=True)
    (tmp_path / ".git").mkdir(exist_ok=True)
    (out / "manifest.json").write_text(manifest if isinstance(manifest, str) else json.dumps(manifest, indent=1))
    for name, text in (files or {}).items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    return out


GOOD_TEMPLATE = json.dumps({"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {}, "Metadata": {"aws:cdk:path": "S/B/Resource"}}}}, indent=1)


def stack(template: str = "S.template.json", **extra: Any) -> dict[str, Any]:
    return {"type": "aws:cloudformation:stack", "properties": {"templateFile": template}, **extra}


@pytest.mark.parametrize(
    ("manifest", "files", "expected"),
    [
        ("{not json", {}, {("IDP060", "cdk.out/manifest.json", 1)}),
        ([], {}, {("IDP060", "cdk.out/manifest.json", 1)}),
        ({"version": "55.0.0", "artifacts": {"S": "oops"}}, {}, {("IDP060", "cdk.out/manifest.json", 4)}),
        ({"version": "55.0.0", "artifacts": {"S": stack()}}, {}, {("IDP061", "cdk.out/manifest.json", 4)}),
        ({"version": "55.0.0", "artifacts": {"S": {"type": "aws:cloudformation:stack", "properties": {}}}}, {}, {("IDP061", "cdk.out/manifest.json", 4)}),
        ({"version": "55.0.0", "artifacts": {"S": stack("../../etc/passwd")}}, {}, {("IDP061", "cdk.out/manifest.json", 4)}),
        ({"version": "55.0.0", "artifacts": {"St": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-St"}}}}, {}, {("IDP061", "cdk.out/manifest.json", 4)}),
        ({"version": "55.0.0", "artifacts": {"St": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-St"}}}},
         {"assembly-St/manifest.json": "[1]"}, {("IDP060", "cdk.out/assembly-St/manifest.json", 1)}),
        ({"version": "55.0.0", "artifacts": {"S": stack(additionalMetadataFile="S.metadata.json")}},
         {"S.template.json": GOOD_TEMPLATE}, {("IDP062", "cdk.out/manifest.json", 4)}),
        ({"version": "55.0.0", "artifacts": {"S": stack(additionalMetadataFile="S.metadata.json")}},
         {"S.template.json": GOOD_TEMPLATE, "S.metadata.json": "{"}, {("IDP062", "cdk.out/S.metadata.json", 1)}),
        ({"version": "55.0.0", "artifacts": {"S": stack()}},
         {"S.template.json": GOOD_TEMPLATE, "validation-report.json": "{]"}, {("IDP063", "cdk.out/validation-report.json", 1)}),
        ({"version": "55.0.0", "artifacts": {"S": stack()}}, {"S.template.json": '{"Resources": {'}, {("IDP001", "cdk.out/S.template.json", 2)}),
        ({"version": "55.0.0", "artifacts": {"S": stack(metadata={"/S/Nested": [{"type": "aws:cdk:templateFile", "data": "SNested.nested.template.json"}]})}},
         {"S.template.json": GOOD_TEMPLATE}, {("IDP061", "cdk.out/manifest.json", 4)}),
    ],
    ids=["json", "not-mapping", "artifact-not-mapping", "template-missing", "no-template-file", "escape", "nested-assembly-missing",
         "nested-assembly-broken", "metadata-missing", "metadata-broken", "report-broken", "template-broken", "nested-template-missing"],
)
def test_broken_assembly_is_a_finding_never_a_traceback(scan, tmp_path, manifest, files, expected):
    _assembly(tmp_path, manifest, files)
    code, report = scan(tmp_path, *ENGINES)
    failures = {(f["rule_id"], f["location"]["uri"], f["location"]["start_line"]) for f in report["findings"] if f["rule_id"].startswith("IDP0")}
    assert failures == expected
    expected_code = 0 if {e[0] for e in expected} == {"IDP062"} else 1  # missing metadata only warns
    assert code == expected_code


def test_pwa_manifest_is_not_a_cloud_assembly(scan, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "manifest.json").write_text(json.dumps({"name": "app", "icons": []}))
    code, report = scan(tmp_path, *ENGINES)
    assert (code, report["findings"], report["scanned"]) == (0, [], [])


# --- cdk-validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("violation", "conclusion", "expected"),
    [({"severity": "error"}, "success", Severity.ERROR), ({"severity": "High"}, "success", Severity.ERROR),
     ({"severity": "warning"}, "failure", Severity.WARNING), ({"severity": "info"}, "failure", Severity.NOTE),
     ({}, "failure", Severity.ERROR), ({}, "success", Severity.WARNING)],
)
def test_validation_severity(violation, conclusion, expected):
    assert severity_of(violation, conclusion) is expected


def test_validation_property_path():
    assert property_path("Properties.SecurityGroupIngress.0.CidrIp") == ("Properties", "SecurityGroupIngress", 0, "CidrIp")


def test_cdk_nag_violation_without_template_is_reported_at_the_report(scan, tmp_path):
    report = {"version": "55.0.0", "title": "Validation Report", "pluginReports": [{
        "pluginName": "cdk-nag", "conclusion": "failure", "violations": [{
            "ruleName": "AwsSolutions-S1", "description": "The S3 Bucket has server access logs disabled.", "severity": "error",
            "violatingConstructs": [{"constructPath": "S/Gone/Resource", "cloudFormationResource": {"templatePath": "Gone.template.json", "logicalId": "Gone"}}],
        }, {
            "ruleName": "AwsSolutions-S10", "description": "The S3 Bucket does not require SSL.",
            "violatingConstructs": [{"constructPath": "S/B/Resource", "cloudFormationResource": {"templatePath": "S.template.json", "logicalId": "B"}}],
        }],
    }]}
    _assembly(tmp_path, {"version": "55.0.0", "artifacts": {"S": stack()}}, {"S.template.json": GOOD_TEMPLATE, "validation-report.json": json.dumps(report)})
    code, result = scan(tmp_path, *ENGINES)
    assert code == 1
    assert all_findings(result) == {
        ("AwsSolutions-S1", "cdk.out/validation-report.json", 1, ""),
        ("AwsSolutions-S10", "cdk.out/S.template.json", 3, "S/B/Resource"),
    }
    assert {f["rule_id"]: f["severity"] for f in result["findings"]} == {"AwsSolutions-S1": "error", "AwsSolutions-S10": "error"}


def test_cdk_validation_is_a_default_engine():
    from scanner.settings import DEFAULT_ENGINES

    assert "cdk-validation" in DEFAULT_ENGINES
    assert cfn.KIND == "cloudformation" and REPO.is_dir()


def test_construct_paths_from_tree_json_when_path_metadata_is_off(scan, tmp_path):
    template = {"Resources": {"OpenSgA1B2": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
        "GroupDescription": "x", "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}]}}}}
    tree = {"version": "tree-0.1", "tree": {"id": "App", "path": "", "children": {"S": {"id": "S", "path": "S", "children": {
        "OpenSg": {"id": "OpenSg", "path": "S/OpenSg", "children": {"Resource": {
            "id": "Resource", "path": "S/OpenSg/Resource", "attributes": {"aws:cdk:cloudformation:logicalId": "OpenSgA1B2"}}}}}}}}}
    manifest = {"version": "55.0.0", "artifacts": {"Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}}, "S": stack()}}
    _assembly(tmp_path, manifest, {"S.template.json": json.dumps(template, indent=1), "tree.json": json.dumps(tree)})
    code, report = scan(tmp_path, *ENGINES)
    assert (code, all_findings(report)) == (1, {("IDP-NET-001", "cdk.out/S.template.json", 12, "S/OpenSg/Resource")})


def test_tokens_never_fail_a_resource(scan, tmp_path):
    ingress = [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": token} for token in (
        {"Fn::ImportValue": "Shared:AdminCidr"}, {"Fn::GetStackOutput": {"StackName": "Net", "OutputName": "Cidr"}},
        {"Ref": "AdminCidr"}, {"Fn::GetAtt": ["Vpc", "CidrBlock"]})]
    template = {"Parameters": {"AdminCidr": {"Type": "String"}},
                "Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "x", "SecurityGroupIngress": ingress}}}}
    _assembly(tmp_path, {"version": "55.0.0", "artifacts": {"S": stack()}}, {"S.template.json": json.dumps(template, indent=1)})
    code, report = scan(tmp_path, *ENGINES)
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
    assert code == 0


# --- hostile manifests ----------------------------------------------------------------------

_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12),
                     st.sampled_from(["S.template.json", "../x.json", "assembly-A", "aws:cloudformation:stack", "cdk:cloud-assembly", "cdk:tree"]))
_json = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=12)
_artifact = st.fixed_dictionaries(
    {"type": st.sampled_from(["aws:cloudformation:stack", "cdk:cloud-assembly", "cdk:tree", "other"])},
    optional={"properties": st.one_of(_json, st.fixed_dictionaries({}, optional={
        "templateFile": st.one_of(_scalars, st.just("S.template.json")), "directoryName": st.one_of(_scalars, st.just("assembly-A")),
        "file": st.just("tree.json")})),
        "metadata": _json, "additionalMetadataFile": st.one_of(_scalars, st.just("S.metadata.json")), "displayName": _scalars},
)
_manifest = st.one_of(_json, st.fixed_dictionaries({"version": st.just("55.0.0"), "artifacts": st.dictionaries(st.text(min_size=1, max_size=6), st.one_of(_artifact, _json), max_size=3)}))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(manifest=_manifest, metadata=_json, tree=_json)
def test_any_manifest_gives_findings_never_an_exception(tmp_path_factory, manifest, metadata, tree):
    out = tmp_path_factory.mktemp("asm") / "cdk.out"
    (out / "assembly-A").mkdir(parents=True)
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "assembly-A" / "manifest.json").write_text(json.dumps(manifest))  # a Stage that nests itself again
    (out / "S.template.json").write_text(GOOD_TEMPLATE)
    (out / "S.metadata.json").write_text(json.dumps(metadata))
    (out / "tree.json").write_text(json.dumps(tree))
    artifacts, findings = cdk.load_assembly(out, "cdk.out")
    assert {f.rule_id for f in findings} <= {"IDP001", "IDP004", "IDP060", "IDP061", "IDP062", "IDP063"}
    for artifact in artifacts:
        cdk_sources.attach_sources([Finding("X", "native", Severity.ERROR, "m", artifact.locate(("Resources", "B")))], [artifact])


@pytest.mark.parametrize("template", sorted((APP / "cdk.out").rglob("*.template.json")) + [PY_APP / "cdk.out" / "LegacyPy.template.json"], ids=lambda p: p.name)
def test_fast_json_path_maps_lines_as_the_template_decoder_does(template):
    text = template.read_text()
    fast = cdk.load_template(text, template, "t.json")[0]
    slow = cfn.load_text(text, template, "t.json")[0]
    assert fast is not None and slow is not None
    assert (fast.data, dict(fast.lines)) == (slow.data, dict(slow.lines))


def test_fast_json_path_keeps_escaped_keys_and_falls_back_on_broken_json():
    data, lines = cdk.json_with_lines('{\n "a\\"b": [1,\n  {"c": "x"}]\n}')
    assert data == {'a"b': [1, {"c": "x"}]}
    assert lines[('a"b',)] == (2, 3) and lines[('a"b', 1, "c")] == (3, 3)
    artifact, findings = cdk.load_template('{"Resources": {', Path("t.json"), "t.json")
    assert artifact is None and [f.rule_id for f in findings] == ["IDP001"]
