"""CDK cloud assemblies: construct paths, source lines, nested stacks, plumbing, waivers, failures.

The app under fixtures/cdk/app was synthesized by the real toolchain (fixtures/cdk/regenerate.sh);
its stack traces name /build/app, not this checkout, so the source lines below prove that frames
are found again relative to the app directory wherever the assembly was synthesized.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.engines.cdk_validation import property_path, severity_of
from scanner.inputs import cfn
from scanner.findings import source_lines as cdk_source_lines
from scanner.inputs.cdk import assembly as cdk_assembly, sources as cdk_sources
from scanner.inputs.cdk import suppressions as cdk_suppressions, templates as cdk_templates
from scanner.model import Finding, Location, ResourceId, Severity, Suppression
from tests.conftest import FIXTURES, REPO, finding_set
from tests.sarif_validation import multitool, multitool_errors, schema_errors

APP = FIXTURES / "cdk" / "app"
PY_APP = FIXTURES / "cdk" / "python-app"
NAG_APP = FIXTURES / "cdk" / "nag-app"
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


PY_SOURCE = "fixtures/cdk/python-app/app.py"
PY_DEBUG_TEMPLATE = "fixtures/cdk/python-app/cdk.debug.out/LegacyPy.template.json"
PY_PLAIN_TEMPLATE = "fixtures/cdk/python-app/cdk.out/LegacyPy.template.json"


def test_python_app_synthesized_with_debug_points_at_its_app_py_lines(scan):
    # aws-cdk-lib 2.275 from PyPI, `cdk synth --debug`: jsii appends the Python frames
    # `__init__ (/build/python-app/app.py:14)` after `(no user code in 10 frames, ...)`
    code, report = scan(PY_APP / "cdk.debug.out", *ENGINES)
    assert code == 1
    assert all_findings(report) == {
        # bastion.add_ingress_rule(...): the assigning line; CloudFormation Validate's W2508 from the
        # validation report is the same concern, folded in (`also`)
        ("IDP-NET-001", PY_SOURCE, 14, "LegacyPy/BastionSg/Resource"),
        ("W3045", PY_SOURCE, 15, "LegacyPy/Uploads/Resource"),  # acknowledged by aws-cdk-lib itself: suppressed
    }
    assert {f["rule_id"] for f in report["findings"] if f["status"] == "suppressed"} == {"W3045"}
    net = by_resource(report, "IDP-NET-001", "LegacyPy/BastionSg/Resource")
    assert net["related"] == [{"uri": PY_DEBUG_TEMPLATE, "start_line": 16, "end_line": 16}]
    assert net["resource"]["logical_id"] == "BastionSg3D6BE75A"


def test_python_app_synthesized_without_debug_stays_on_the_template(scan):
    # without --debug jsii sends no Python frames: the creation stacks name no user code
    code, report = scan(PY_APP / "cdk.out", *ENGINES)
    assert code == 1
    assert all_findings(report) == {
        ("IDP-NET-001", PY_PLAIN_TEMPLATE, 16, "LegacyPy/BastionSg/Resource"),  # W2508 folded in
        ("W3045", PY_PLAIN_TEMPLATE, 38, "LegacyPy/Uploads/Resource"),
    }
    assert [f["related"] for f in report["findings"]] == [[], []]


def _toolchain_missing(script: Path) -> str | None:
    """Why the real CDK toolchain cannot run here, or None when it can."""
    if os.environ.get("IDP_SCAN_CDK_REGENERATE") != "1":
        return f"set IDP_SCAN_CDK_REGENERATE=1 to synthesize again with the pinned toolchain ({script.relative_to(REPO)} --check; minutes, npm and PyPI)"
    missing = [tool for tool in ("node", "npm", "python3") if shutil.which(tool) is None]
    return f"{', '.join(missing)} not installed" if missing else None


@pytest.mark.parametrize("app", ["python-app", "nag-app"])
def test_committed_assembly_is_what_the_pinned_toolchain_synthesizes(app):
    script = FIXTURES / "cdk" / app / "regenerate.sh"
    reason = _toolchain_missing(script)
    if reason is not None:
        pytest.skip(reason)
    done = subprocess.run(["bash", str(script), "--check"], capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]


def test_sarif_names_construct_paths_and_passes_the_validators(tmp_path):
    from scanner.cli import main

    out = tmp_path / "cdk.sarif"
    assert main(["scan", str(APP), str(PY_APP), str(NAG_APP), *ENGINES, "--format", f"sarif={out}"]) == 1
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
    artifacts, findings = cdk_assembly.load_assembly(PY_APP / "cdk.debug.out", "fixtures/cdk/python-app/cdk.debug.out")
    assert findings == []
    (template,) = [a for a in artifacts if a.kind == cfn.KIND]
    return template


@pytest.mark.parametrize(
    "path",
    [("Resources", "CDKMetadata"), ("Parameters", "BootstrapVersion"), ("Rules", "CheckBootstrapVersion"), ("Conditions", "CDKMetadataAvailable")],
)
def test_findings_on_cdk_plumbing_are_dropped_but_failures_stay(path):
    template = _py_template()
    where = template.locate(path)
    engine_finding = Finding("W9999", "cfn-lint", Severity.ERROR, "about plumbing", where)
    failure = Finding("IDP005", "idp-scan", Severity.ERROR, "rule crashed", where)
    assert [f.rule_id for f in cdk_source_lines.attach_sources([engine_finding, failure], [template])] == ["IDP005"]


def test_other_engines_findings_get_the_construct_path():
    template = _py_template()
    finding = Finding("CKV_AWS_24", "checkov", Severity.ERROR, "port 22 open", template.locate(("Resources", "BastionSg3D6BE75A", "Properties")),
                      ResourceId("cloudformation", "BastionSg3D6BE75A", "AWS::EC2::SecurityGroup", "BastionSg3D6BE75A"))
    (moved,) = cdk_source_lines.attach_sources([finding], [template])
    assert moved.resource == ResourceId("cdk", "LegacyPy/BastionSg/Resource", "AWS::EC2::SecurityGroup", "BastionSg3D6BE75A", "LegacyPy")
    assert moved.location == Location(PY_SOURCE, 13, 13)  # the whole Properties block: where the group was created


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
    artifacts, _ = cdk_assembly.load_assembly(APP / "cdk.out", "fixtures/cdk/app/cdk.out")
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
    found = cdk_suppressions.cdk_suppressions(template, [
        ("LegacyPy", "IDP-NET-001", "whole legacy stack"), ("LegacyPy", "AwsSolutions-S1", "not ours"), ("Elsewhere", "IDP-NET-001", "no resource here"),
    ])
    assert [(s.rule_id, s.resource, s.location.uri) for s in found] == [("IDP-NET-001", "LegacyPy", PY_DEBUG_TEMPLATE)]


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
        # jsii host frames of a Python app, after the JavaScript side's summary and marker (aws-cdk-lib 2.275, cdk synth --debug)
        (["...aws-cdk-lib, jsii runtime, node internals...", "(no user code in 10 frames, use --stack-trace-limit to capture more)",
          "__init__ (/build/python-app/app.py:13)", "<module> (/build/python-app/app.py:25)"], ("/build/python-app/app.py", 13)),
        # a validation report's stackTraces entry: the frames of one trace in one string
        (["    ...aws-cdk-lib, jsii runtime...\n    (no user code in 10 frames, use --stack-trace-limit to capture more)\n__init__ (/a/app.py:15)\n<module> (/a/app.py:25)"],
         ("/a/app.py", 15)),
        (["__init__ (/v/lib/python3.12/site-packages/aws_cdk/aws_s3/__init__.py:100)", "_run_code (/usr/lib/python3.11/runpy.py:88)",
          "<module> (/a/stacks/storage.py:7)"], ("/a/stacks/storage.py", 7)),
        (["    at /x/bin/app.js:9:1"], ("/x/bin/app.js", 9)),
        (["/x/bin/app.js:9:1"], ("/x/bin/app.js", 9)),
        (["at async Promise.all (index 0)", "new X (/home/me/app (copy)/lib/x.ts:5:1)"], ("/home/me/app (copy)/lib/x.ts", 5)),
        (["    at new Stack (file:///x/lib/stack.mjs:4:7)"], ("/x/lib/stack.mjs", 4)),
        # host frames as jsii writes them for .NET, Go and Java apps: `name (file:line)`
        (["Acme.AppStack..ctor (C:\\src\\Acme\\AppStack.cs:25)"], ("C:\\src\\Acme\\AppStack.cs", 25)),
        (["main.NewAppStack (/home/x/app/app.go:31)"], ("/home/x/app/app.go", 31)),
        (["<init> (/home/x/app/src/main/java/com/acme/AppStack.java:22)"], ("/home/x/app/src/main/java/com/acme/AppStack.java", 22)),
        (["stack traces disabled"], None),
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
    report["pluginReports"][0]["violations"].append({  # a construct of no stack in this assembly, and none at all
        "ruleName": "AwsSolutions-S2", "description": "The S3 Bucket does not have public access restricted and blocked.",
        "violatingConstructs": [{"constructPath": "Elsewhere/B/Resource"}, {"constructFqn": "x"}]})
    _assembly(tmp_path, {"version": "55.0.0", "artifacts": {"S": stack()}}, {"S.template.json": GOOD_TEMPLATE, "validation-report.json": json.dumps(report, indent=1)})
    code, result = scan(tmp_path, *ENGINES)
    assert code == 1
    assert all_findings(result) == {
        ("AwsSolutions-S1", "cdk.out/S.template.json", 1, "S/Gone/Resource"),  # no such resource: on its stack's template
        ("AwsSolutions-S10", "cdk.out/S.template.json", 3, "S/B/Resource"),
        ("AwsSolutions-S2", "cdk.out/validation-report.json", 41, "Elsewhere/B/Resource"),  # the report line naming it
        ("AwsSolutions-S2", "cdk.out/validation-report.json", 1, ""),
    }
    assert {f["rule_id"]: f["severity"] for f in result["findings"]} == {"AwsSolutions-S1": "error", "AwsSolutions-S10": "error", "AwsSolutions-S2": "error"}


NAG = "fixtures/cdk/nag-app/lib/media-stack.ts"
NAG_TEMPLATE = "fixtures/cdk/nag-app/cdk.out/Media.template.json"
IAM4 = "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]"
LOG_RETENTION = "Media/LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a"
NAG_FINDINGS = {
    # cdk-nag 3.0.2 AwsSolutions: the report names constructs only; placed by their construct path
    (IAM4, NAG, 22, "Media/Thumbnailer/ServiceRole/Resource"),
    (IAM4, NAG, 22, f"{LOG_RETENTION}/ServiceRole/Resource"),
    (IAM4, NAG, 29, "Media/BucketNotificationsHandler050a0587b7544547bf325f094a3db834/Role/Resource"),
    # its policy records no user frame: the nearest construct above it that does (the log-retention function)
    ("AwsSolutions-IAM5[Resource::*]", NAG, 22, f"{LOG_RETENTION}/ServiceRole/DefaultPolicy/Resource"),
    ("AwsSolutions-ECS4", NAG, 36, "Media/Cluster/Resource"),
    # AwsSolutions-L1 and CloudFormation Validate's W2531 (runtime) fold into IDP-LAMBDA-001 on the same
    # function, AwsSolutions-ECS7 (container logs) into IDP-ECS-002 on the same task (scanner/findings/concerns.py)
    # construct annotations (@aws-cdk/core:annotationsInValidationReport), each on its own construct
    ("Annotation::@aws-cdk/aws-ecs:minHealthyPercent", NAG, 39, "Media/Service"),
    ("Annotation::@aws-cdk/aws-ecs:shouldUseCircuitBreaker", NAG, 39, "Media/Service"),
    ("Annotation::media:public-ip", NAG, 39, "Media/Service"),
    # an imported subnet has no resource: its stack's template (line 1) is related, the trace of its warning gives the line
    ("Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId", NAG, 31, "Media/Vpc/PublicSubnet1"),
    # the pack's own rules
    ("IDP-LAMBDA-001", NAG, 22, "Media/Thumbnailer/Resource"),
    ("IDP-ECS-001", NAG, 39, "Media/Service/Service"),
    ("IDP-ECS-002", NAG, 37, "Media/Task/Resource"),
    # CDK's framework resources: what cdk-nag finds on them is marked, and the constructs whose options added them noted
    ("IDP064", NAG, 15, "Media/Uploads"),
    ("IDP064", NAG, 22, "Media/Thumbnailer"),
}
NAG_FRAMEWORK = {
    (IAM4, f"{LOG_RETENTION}/ServiceRole/Resource"),
    (IAM4, "Media/BucketNotificationsHandler050a0587b7544547bf325f094a3db834/Role/Resource"),
    ("AwsSolutions-IAM5[Resource::*]", f"{LOG_RETENTION}/ServiceRole/DefaultPolicy/Resource"),
}


def test_cdk_nag_v3_findings_carry_construct_template_and_source_lines(scan):
    code, report = scan(NAG_APP, *ENGINES)
    assert code == 1
    assert all_findings(report) == NAG_FINDINGS
    suppressed = {(f["rule_id"], f["resource"]["name"]): f["status_reason"] for f in report["findings"] if f["status"] == "suppressed"}
    assert set(suppressed) == NAG_FRAMEWORK
    assert by_resource(report, "IDP-LAMBDA-001", "Media/Thumbnailer/Resource")["also_reported_as"] == ["AwsSolutions-L1", "W2531"]
    assert by_resource(report, "IDP-ECS-002", "Media/Task/Resource")["also_reported_as"] == ["AwsSolutions-ECS7"]
    assert suppressed[("AwsSolutions-IAM5[Resource::*]", f"{LOG_RETENTION}/ServiceRole/DefaultPolicy/Resource")] == (
        "CDK framework resource: log-retention function (AwsSolutions-IAM5 is set by CDK, not by the app)")
    ecs4 = by_resource(report, "AwsSolutions-ECS4", "Media/Cluster/Resource")
    assert ecs4["related"] == [{"uri": NAG_TEMPLATE, "start_line": 561, "end_line": 574}]  # the whole resource
    assert ecs4["resource"] == {"kind": "cdk", "name": "Media/Cluster/Resource", "type": "AWS::ECS::Cluster", "logical_id": "ClusterEB0386A7", "stack": "Media"}
    severities = {f["rule_id"]: f["severity"] for f in report["findings"] if f["engine"] == "cdk-validation"}
    assert {r: s for r, s in severities.items() if r.startswith("AwsSolutions")} == dict.fromkeys([IAM4, "AwsSolutions-IAM5[Resource::*]", "AwsSolutions-ECS4"], "error")
    assert {s for r, s in severities.items() if not r.startswith("AwsSolutions")} == {"warning"}
    # cdk-nag left out the acknowledged AwsSolutions-S1 itself; nothing about it is reported
    assert not [f for f in report["findings"] if "S1" in f["rule_id"]]


def test_annotations_on_one_construct_are_apart_and_named_by_it(scan):
    _, report = scan(NAG_APP, *ENGINES)
    service = [f for f in report["findings"] if f["rule_id"].startswith("Annotation::") and f["resource"]["name"] == "Media/Service"]
    assert len(service) == 3 and len({f["fingerprint"] for f in service}) == 3
    assert {f["resource"]["logical_id"] for f in service} == {"ServiceD69D759B"}  # the ECS service the construct wraps
    minimum = by_resource(report, "Annotation::@aws-cdk/aws-ecs:minHealthyPercent", "Media/Service")
    assert minimum["message"].startswith("minHealthyPercent has not been configured")
    subnet = by_resource(report, "Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId", "Media/Vpc/PublicSubnet1")
    assert subnet["related"] == [{"uri": NAG_TEMPLATE, "start_line": 1, "end_line": 1}]
    assert subnet["resource"] == {"kind": "cdk", "name": "Media/Vpc/PublicSubnet1", "type": "", "logical_id": "", "stack": "Media"}


def test_acknowledged_violations_are_suppressed_in_every_engine_with_their_reason(scan):
    # aws-cdk-lib acknowledges CloudFormation-Validate::W3045 itself where `access_control` is set:
    # the report lists it under suppressedViolations, the metadata under aws:cdk:acknowledged-rules
    code, report = scan(PY_APP / "cdk.debug.out", "--engines", "cdk-validation,cfn-lint", "--select", "W3045", "--select", "W2508")
    reason = "acknowledged in CDK code at LegacyPy/Uploads (CloudFormation-Validate::W3045): accessControl is deprecated, but we are still using it for historical reasons."
    found = {(f["rule_id"], f["engine"], f["location"]["start_line"], f["resource"]["name"], f["status"], f["status_reason"]) for f in report["findings"]}
    assert found == {
        ("W3045", "cdk-validation", 15, "LegacyPy/Uploads/Resource", "suppressed", reason),
        ("W3045", "cfn-lint", 15, "LegacyPy/Uploads/Resource", "suppressed", reason),
        ("W2508", "cdk-validation", 14, "LegacyPy/BastionSg/Resource", "open", ""),
    }
    assert code == 0  # W2508 only warns
    _, audit = scan(PY_APP / "cdk.debug.out", "--engines", "cdk-validation,cfn-lint", "--select", "W3045", "--no-suppressions")
    assert {f["status"] for f in audit["findings"]} == {"open"}


def test_acknowledgements_that_match_nothing_are_no_finding(scan):
    # aws-cdk-lib acknowledges W3010 on every stack that reads availabilityZones; cfn-lint finds none here
    artifacts, _ = cdk_assembly.load_assembly(APP / "cdk.out", "fixtures/cdk/app/cdk.out")
    orders = next(a for a in artifacts if a.uri == TEMPLATE)
    assert orders.context["cdk"]["acknowledged"] == [["Orders", "CloudFormation-Validate::W3010", "W3010",
                                                       "Literal AZs in template are the result of accessing stack.availabilityZones, this is expected and safe"]]
    _, report = scan(APP, "--engines", "cfn-lint,cdk-validation")
    assert not [f for f in report["findings"] if "W3010" in f["rule_id"] + f["message"]]


@pytest.mark.parametrize(("ack_id", "expected"), [
    ("CloudFormation-Validate::W3045", "W3045"), ("CloudFormation-Validate::E3012", "E3012"),
    ("AwsSolutions::AwsSolutions-S1", None), ("Annotation::AwsSolutions-S1", None), ("W3045", None), ("CloudFormation-Validate::Wxyz", None),
])
def test_which_acknowledgements_name_a_cfn_lint_rule(ack_id, expected):
    assert cdk_suppressions.cfn_lint_rule(ack_id) == expected


# --- CDK's framework resources ---------------------------------------------------------------

from scanner.inputs.cdk import framework as cdk_framework  # noqa: E402


@pytest.mark.parametrize(("path", "expected"), [
    ("Media/Custom::S3AutoDeleteObjectsCustomResourceProvider/Handler", "S3 auto-delete-objects provider"),
    ("Repo/Custom::ECRAutoDeleteImagesCustomResourceProvider/Role", "ECR auto-delete-images provider"),
    ("Media/LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a/ServiceRole/DefaultPolicy/Resource", "log-retention function"),
    ("Media/BucketNotificationsHandler050a0587b7544547bf325f094a3db834/Role/Resource", "bucket-notifications handler"),
    ("Net/Custom::VpcRestrictDefaultSGCustomResourceProvider/Handler", "default-security-group restriction provider"),
    ("Site/Custom::CDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C/Resource", "bucket-deployment handler"),
    ("S/AWS679f53fac002430cb0da5b7982bd2287/Resource", "AwsCustomResource function"),
    ("S/Provider/framework-onEvent/Resource", "custom-resource provider framework"),
    ("S/Custom::CrossRegionExportWriterCustomResourceProvider/Handler", "custom-resource provider"),
    # lookalikes the user wrote
    ("Media/LogRetention/Resource", None), ("Media/Uploads/Notifications/Resource", None), ("S/MyCustom::Thing/Resource", None),
    ("S/BucketNotificationsHandler/Resource", None), ("S/framework-onEventually/Resource", None),
])
def test_framework_resources_are_recognised_by_construct_path(path, expected):
    entry = cdk_framework.framework_of(path)
    assert (entry.name if entry else None) == expected


def test_every_framework_entry_has_a_test_path():
    tested = {name for _, name in test_framework_resources_are_recognised_by_construct_path.pytestmark[0].args[1] if name}
    assert tested == {entry.name for entry in cdk_framework.FRAMEWORK}


@pytest.mark.parametrize(("path", "expected"), [
    ("Media/Uploads/AutoDeleteObjectsCustomResource/Default", ("Media/Uploads", "autoDeleteObjects: true")),
    ("Repo/Images/AutoDeleteImagesCustomResource/Default", ("Repo/Images", "emptyOnDelete: true")),
    ("Media/Thumbnailer/LogRetention/Resource", ("Media/Thumbnailer", "logRetention")),
    ("Media/Uploads/Notifications/Resource", ("Media/Uploads", "addEventNotification (or another bucket notification)")),
    ("Net/Vpc/RestrictDefaultSecurityGroupCustomResource/Default", ("Net/Vpc", "restrictDefaultSecurityGroup (the default of new VPCs)")),
    ("Site/Deploy/CustomResource/Default", ("Site/Deploy", "BucketDeployment")),
])
def test_framework_causes_name_the_users_construct_and_option(path, expected):
    found = [(path[:m.start()], e.option) for e in cdk_framework.FRAMEWORK if e.cause is not None and (m := e.cause.search(path))]
    assert found[0] == expected


def test_handler_metadata_marks_a_provider_of_any_name():
    handlers = cdk_framework.handler_paths({"/S/Custom::NewThingProvider": [{"type": "aws:cdk:is-custom-resource-handler-customResourceProvider", "data": True}],
                                            "/S/Mine": [{"type": "aws:cdk:logicalId", "data": "Mine"}]})
    assert handlers == ["S/Custom::NewThingProvider"]
    assert cdk_framework.framework_of("S/Custom::NewThingProvider/Handler", handlers) is cdk_framework.FRAMEWORK[-1]
    assert cdk_framework.framework_of("S/Mine/Resource", handlers) is None


@pytest.mark.parametrize(("rule_id", "name", "status", "reason"), [
    ("CKV_AWS_115", "S/Custom::S3AutoDeleteObjectsCustomResourceProvider/Handler", "suppressed",
     "CDK framework resource: S3 auto-delete-objects provider (CKV_AWS_115 is set by CDK, not by the app)"),
    ("AwsSolutions-IAM5[Resource::*]", "S/LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a/ServiceRole/DefaultPolicy/Resource", "suppressed",
     "CDK framework resource: log-retention function (AwsSolutions-IAM5 is set by CDK, not by the app)"),
    ("W3005", "S/Service/Service", "suppressed", "CDK framework resource: the DependsOn CDK generates (W3005)"),
    ("CKV_AWS_18", "S/Custom::S3AutoDeleteObjectsCustomResourceProvider/Handler", "open", ""),  # not a setting only CDK makes
    ("CKV_AWS_115", "S/Thumbnailer/Resource", "open", ""),  # the user's own function
])
def test_only_what_cdk_sets_on_its_own_resources_is_marked(rule_id, name, status, reason):
    finding = Finding(rule_id, "checkov", Severity.ERROR, "m", Location("cdk.out/S.template.json", 3), ResourceId("cdk", name, stack="S"))
    marked = cdk_source_lines.Framework([]).mark(finding)
    assert (marked.status.value, marked.status_reason) == (status, reason)


def test_framework_findings_are_marked_and_the_causing_constructs_noted(scan):
    code, report = scan(PY_APP / "cdk.debug.out", "--engines", "native,cdk-validation,cfn-lint,checkov")
    framework = {(f["rule_id"], f["resource"]["name"]) for f in report["findings"] if f["status_reason"].startswith("CDK framework resource")}
    handler, role = "LegacyPy/Custom::S3AutoDeleteObjectsCustomResourceProvider/Handler", "LegacyPy/Custom::S3AutoDeleteObjectsCustomResourceProvider/Role"
    assert framework == {("CKV_AWS_115", handler), ("CKV_AWS_116", handler), ("CKV_AWS_117", handler), ("IDP-OBS-001", handler),
                         ("IDP-TAG-001", handler), ("IDP-TAG-001", role), ("W3005", handler)}
    (note,) = [f for f in report["findings"] if f["rule_id"] == "IDP064"]
    assert (note["location"]["uri"], note["location"]["start_line"], note["resource"]["name"], note["severity"]) == (PY_SOURCE, 15, "LegacyPy/Uploads", "note")
    assert note["message"] == ("On LegacyPy/Uploads, `autoDeleteObjects: true` adds CDK's S3 auto-delete-objects provider. What is found on those "
                               "resources (CKV_AWS_115, CKV_AWS_116, CKV_AWS_117, IDP-OBS-001, IDP-TAG-001, W3005) only CDK can change, "
                               "so it is marked suppressed (CDK framework resource).")
    assert code == 1  # the bastion's open SSH is the user's
    _, audit = scan(PY_APP / "cdk.debug.out", "--engines", "native,cdk-validation,cfn-lint,checkov", "--no-suppressions")
    assert {(f["rule_id"], f["resource"]["name"]) for f in audit["findings"] if f["status"] == "open"} >= framework
    assert not [f for f in audit["findings"] if f["rule_id"] == "IDP064"]  # nothing marked, nothing to note


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
    artifacts, findings = cdk_assembly.load_assembly(out, "cdk.out")
    assert {f.rule_id for f in findings} <= {"IDP001", "IDP004", "IDP060", "IDP061", "IDP062", "IDP063"}
    for artifact in artifacts:
        cdk_source_lines.attach_sources([Finding("X", "native", Severity.ERROR, "m", artifact.locate(("Resources", "B")))], [artifact])


@pytest.mark.parametrize("template", sorted((APP / "cdk.out").rglob("*.template.json")) + [PY_APP / "cdk.out" / "LegacyPy.template.json", NAG_APP / "cdk.out" / "Media.template.json"], ids=lambda p: p.name)
def test_fast_json_path_maps_lines_as_the_template_decoder_does(template):
    text = template.read_text()
    fast = cdk_templates.load_template(text, template, "t.json")[0]
    slow = cfn.load_text(text, template, "t.json")[0]
    assert fast is not None and slow is not None
    assert (fast.data, dict(fast.lines)) == (slow.data, dict(slow.lines))


def test_fast_json_path_keeps_escaped_keys_and_falls_back_on_broken_json():
    data, lines = cdk_templates.json_with_lines('{\n "a\\"b": [1,\n  {"c": "x"}]\n}')
    assert data == {'a"b': [1, {"c": "x"}]}
    assert lines[('a"b',)] == (2, 3) and lines[('a"b', 1, "c")] == (3, 3)
    artifact, findings = cdk_templates.load_template('{"Resources": {', Path("t.json"), "t.json")
    assert artifact is None and [f.rule_id for f in findings] == ["IDP001"]


# --- stacks as a whole: where declared, where tagged ----------------------------------------------

from scanner.inputs.cdk import stacks as cdk_stacks  # noqa: E402


@pytest.mark.parametrize(("assembly", "template", "expected"), [
    (APP / "cdk.out", "fixtures/cdk/app/cdk.out/Orders.template.json",
     ("Orders", "Orders", cdk_sources.Frame("fixtures/cdk/app/bin/app.ts", 7, True), {}, None)),
    (APP / "cdk.out", "fixtures/cdk/app/cdk.out/OrdersReporting58986DD0.nested.template.json",  # a nested stack: its parent's
     ("Orders", "Orders", cdk_sources.Frame("fixtures/cdk/app/bin/app.ts", 7, True), {}, None)),
    (APP / "cdk.out", "fixtures/cdk/app/cdk.out/assembly-PreviewPr123/PreviewPr123ServiceBECCD267.template.json",  # in a Stage
     ("PreviewPr123-Service", "PreviewPr123/Service", cdk_sources.Frame("fixtures/cdk/app/lib/stacks.ts", 54, True),
      {"environment": "preview", "expires-at": "2026-12-31"}, Location("fixtures/cdk/app/cdk.out/assembly-PreviewPr123/manifest.json", 18, 18))),
    # Python: jsii's frames start in LegacyStack.__init__ (super().__init__, line 11); the stack is created at line 25
    (PY_APP / "cdk.debug.out", PY_DEBUG_TEMPLATE,
     ("LegacyPy", "LegacyPy", cdk_sources.Frame(PY_SOURCE, 25, True), {"owner": "team-legacy"},
      Location("fixtures/cdk/python-app/cdk.debug.out/manifest.json", 18, 18))),
    (PY_APP / "cdk.out", PY_PLAIN_TEMPLATE,  # without --debug: no Python frames
     ("LegacyPy", "LegacyPy", None, {"owner": "team-legacy"}, Location("fixtures/cdk/python-app/cdk.out/manifest.json", 18, 18))),
])
def test_stack_site_names_the_declaring_line_and_the_recorded_tags(assembly, template, expected):
    artifacts, _ = cdk_assembly.load_assembly(assembly, assembly.relative_to(REPO).as_posix())
    (artifact,) = [a for a in artifacts if a.uri == template]
    site = cdk_stacks.stack_site(artifact)
    assert site is not None and site.template == template
    assert (site.stack, site.construct_path, site.declared_at, dict(site.tags), site.tags_at) == expected


def test_stack_site_of_a_plain_template_is_none():
    artifact, _ = cfn.load_text('{"Resources": {}}', Path("t.json"), "t.json")
    assert artifact is not None and cdk_stacks.stack_site(artifact) is None


@pytest.mark.parametrize(("frames", "expected"), [
    (["(no user code in 10 frames, use --stack-trace-limit to capture more)", "__init__ (/a/app.py:11)", "<module> (/a/app.py:25)"], ("/a/app.py", 25)),
    (["__init__ (/a/stacks/base.py:9)", "__init__ (/a/stacks/web.py:14)", "build (/a/app.py:30)"], ("/a/app.py", 30)),
    (["__init__ (/a/app.py:11)"], ("/a/app.py", 11)),  # only a constructor frame: it
    (["<anonymous> (/b/bin/app.ts:7:1)"], ("/b/bin/app.ts", 7)),
    (["Acme.AppStack..ctor (/c/AppStack.cs:12)", "Acme.Program.Main (/c/Program.cs:8)"], ("/c/Program.cs", 8)),
    (["...aws-cdk-lib..."], None),
])
def test_stack_declaration_skips_constructor_frames(frames, expected):
    found = cdk_stacks.declaration(frames, cdk_sources.SourceFinder(Path("/nonexistent"), None))
    assert (None if found is None else (found.uri, found.line)) == expected


def test_resources_without_a_user_frame_take_the_nearest_constructs_inside_the_stack():
    vpc, subnet, table = cdk_sources.Frame("lib/net.ts", 10, True), cdk_sources.Frame("lib/net.ts", 99, True), cdk_sources.Frame("lib/net.ts", 12, True)
    paths = {"Vpc8378EB38": "S/Vpc/Resource", "VpcSubnet1": "S/Vpc/Public1/Subnet", "VpcRt1": "S/Vpc/Public1/RouteTable",
             "VpcGw": "S/Vpc/IGW", "Other": "S/Other/Resource", "Table": "S/Db/Table/Resource", "TablePolicy": "S/Db/Table/Policy/Resource"}
    sources = {"Vpc8378EB38": {"": vpc}, "VpcSubnet1": {"CidrBlock": subnet}, "Table": {"": table}}
    found = cdk_sources.inherit_sources(paths, sources, "S")
    assert found == {
        "Vpc8378EB38": {"": vpc}, "VpcSubnet1": {"CidrBlock": subnet, "": vpc}, "VpcRt1": {"": vpc}, "VpcGw": {"": vpc},
        "Table": {"": table}, "TablePolicy": {"": table},  # "Other" has nothing above it inside the stack: no source
    }
