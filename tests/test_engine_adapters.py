"""The checkov and cfn-lint adapters called directly, as a worker process would call them."""

from __future__ import annotations

import datetime
import json
import os
import pickle
from pathlib import Path

import pytest

from scanner.engines import cfn_lint, checkov_engine
from scanner.engines.cfn_lint import CfnLintEngine
from scanner.engines.checkov_checks import severity_table
from scanner.engines.checkov_engine import CheckovEngine
from scanner.inputs import cfn
from scanner.model import Artifact, Severity

LAMBDA = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Worker:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.9
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/worker
      Code:
        ZipFile: "def handler(event, context): return None"
"""

CDK_STACK = """\
{
  "Resources": {
    "VpcPublicSubnet1Subnet5C2D37C4": {
      "Type": "AWS::EC2::Subnet",
      "Properties": {"VpcId": "vpc-123", "CidrBlock": "10.0.0.0/24", "AvailabilityZone": "dummy1a"}
    },
    "OrdersQueue4E3B9A7C": {"Type": "AWS::SQS::Queue", "Properties": {}}
  }
}
"""
CONSTRUCTS = {"VpcPublicSubnet1Subnet5C2D37C4": "App/Vpc/PublicSubnet1/Subnet", "OrdersQueue4E3B9A7C": "App/Orders/Queue/Resource"}


def artifact(tmp_path: Path, name: str, text: str, **context: object) -> Artifact:
    path = tmp_path / name
    path.write_text(text)
    loaded, problems = cfn.load_text(text, path, name, context)
    assert loaded is not None and problems == []
    return loaded


@pytest.fixture(scope="module")
def cfn_lint_engine() -> CfnLintEngine:
    return CfnLintEngine(regions=["eu-west-1"])


def python39_lifecycle() -> dict[str, datetime.date]:
    """cfn-lint's own dates for the runtime (they move between cfn-lint releases)."""
    from cfnlint.data import AdditionalSpecs
    from cfnlint.helpers import load_resource

    dates = load_resource(AdditionalSpecs, "LmbdRuntimeLifecycle.json")["python3.9"]
    return {k: datetime.date.fromisoformat(dates[k]) for k in ("deprecated", "create-block", "update-block")}


def expected_on(day: datetime.date) -> set[str]:
    life = python39_lifecycle()
    if day >= life["update-block"]:
        return {"E2533"}
    if day >= life["create-block"]:
        return {"E2531"}
    return {"W2531"} if day >= life["deprecated"] else set()


@pytest.mark.parametrize("moment", ["deprecated", "create-block", "update-block"])
def test_as_of_date_makes_date_dependent_rules_reproducible(tmp_path, moment):
    day = python39_lifecycle()[moment]
    for as_of in (day - datetime.timedelta(days=1), day):
        engine = CfnLintEngine(regions=["eu-west-1"], as_of_date=as_of)
        found = {f.rule_id for f in engine.scan([artifact(tmp_path, "lambda.yaml", LAMBDA)])}
        assert found & set(cfn_lint.DATE_RULES) == expected_on(as_of), as_of


def test_without_an_as_of_date_the_rules_judge_by_today(tmp_path, cfn_lint_engine):
    with cfn_lint.as_of(datetime.date(2020, 1, 1), cfn_lint_engine._runner()[1]):
        pass  # patched and restored: the engine below must see today again
    found = {f.rule_id for f in cfn_lint_engine.scan([artifact(tmp_path, "lambda.yaml", LAMBDA)])}
    assert found & set(cfn_lint.DATE_RULES) == expected_on(datetime.date.today())


def test_placeholder_availability_zones_are_no_finding_for_cdk_out(tmp_path, cfn_lint_engine):
    plain = artifact(tmp_path, "plain.json", CDK_STACK)
    synthesized = artifact(tmp_path, "App.template.json", CDK_STACK, construct_paths=CONSTRUCTS, stack="App")
    assert "W3010" in {f.rule_id for f in cfn_lint_engine.scan([plain])}
    assert "W3010" not in {f.rule_id for f in cfn_lint_engine.scan([synthesized])}


def test_findings_on_cdk_out_carry_the_construct_path(tmp_path):
    synthesized = artifact(tmp_path, "App.template.json", CDK_STACK, construct_paths=CONSTRUCTS, stack="App")
    (queue,) = [f for f in CheckovEngine().scan([synthesized]) if f.rule_id == "CKV_AWS_27"]
    assert queue.resource is not None
    assert (queue.resource.kind, queue.resource.name, queue.resource.logical_id) == ("cdk", "App/Orders/Queue/Resource", "OrdersQueue4E3B9A7C")


def test_cfn_lint_timeout_becomes_a_finding_naming_the_file(tmp_path):
    engine = CfnLintEngine(time_limit_per_file=0.0001)
    (finding,) = engine.scan([artifact(tmp_path, "lambda.yaml", LAMBDA)])
    assert (finding.rule_id, finding.location.uri) == ("IDP021", "lambda.yaml")
    assert finding.message.startswith("cfn-lint did not finish lambda.yaml")


def test_checkov_timeout_becomes_a_finding_per_file(tmp_path):
    files = [artifact(tmp_path, "a.yaml", LAMBDA), artifact(tmp_path, "b.yaml", LAMBDA)]
    found = list(CheckovEngine(time_limit_per_file=0.0001).scan(files))
    assert {(f.rule_id, f.location.uri) for f in found} == {("IDP021", "a.yaml"), ("IDP021", "b.yaml")}


def test_engines_work_on_any_subset_and_their_inputs_and_outputs_pickle(tmp_path):
    a, b = artifact(tmp_path, "a.yaml", LAMBDA), artifact(tmp_path, "b.json", CDK_STACK)
    engine = pickle.loads(pickle.dumps(CheckovEngine()))
    together = sorted(engine.scan(pickle.loads(pickle.dumps([a, b]))), key=lambda f: f.sort_key)
    apart = sorted([*engine.scan([b]), *engine.scan([a])], key=lambda f: f.sort_key)
    assert together == apart and together
    assert pickle.loads(pickle.dumps(together)) == together


def test_files_with_a_suffix_checkov_skips_are_still_checked(tmp_path):
    found = CheckovEngine().scan([artifact(tmp_path, "queue.cfn", CDK_STACK)])
    assert ("CKV_AWS_27", "queue.cfn") in {(f.rule_id, f.location.uri) for f in found}


def test_terraform_artifacts_run_checkov_terraform_checks(tmp_path):
    main_tf = tmp_path / "main.tf"
    main_tf.write_text('resource "aws_sqs_queue" "orders" {\n  name = "orders"\n  sqs_managed_sse_enabled = false\n}\n')
    tf = Artifact(kind="terraform", path=str(main_tf), uri="main.tf", data={})
    found = {(f.rule_id, f.resource.name if f.resource else "") for f in CheckovEngine().scan([tf])}
    assert ("CKV_AWS_27", "aws_sqs_queue.orders") in found


def test_every_bundled_checkov_check_has_a_severity(tmp_path):
    table = severity_table()
    metas = CheckovEngine().rules()
    assert len(metas) > 900
    assert [m.id for m in metas if m.id not in table.checks] == []
    assert table.rate("CKV_AWS_24").severity is Severity.ERROR and table.rate("CKV_AWS_18").severity is Severity.NOTE
    assert table.rate("CKV_NEW_999") == table.default and table.default.severity is Severity.WARNING


def test_severity_file_is_what_the_generator_writes():
    data = json.loads((Path(checkov_engine.__file__).parent / "checkov_severity.json").read_text())
    assert data["default"] == ["warning", 5.0]
    assert all(v[0] in ("error", "warning", "note") and 0.1 <= v[1] <= 10.0 for v in data["checks"].values())


@pytest.mark.parametrize(("no_suppressions", "mandatory", "status"), [
    (False, (), "suppressed"), (True, (), "open"), (False, ("CKV_AWS_1",), "open"), (False, ("CKV_AWS_2",), "suppressed"),
])
def test_engine_suppressions_reopen_in_an_audit_and_for_mandatory_rules(tmp_path, no_suppressions, mandatory, status):
    from dataclasses import replace as with_fields

    from scanner.gate import engine_suppressions
    from scanner.model import Finding, Location, Status
    from scanner.settings import Settings

    skipped = Finding("CKV_AWS_18", "checkov", Severity.NOTE, "m", Location("t.yaml")).with_status(Status.SUPPRESSED, "checkov: log target")
    settings = with_fields(Settings(paths=(tmp_path,), root=tmp_path), no_suppressions=no_suppressions, mandatory=mandatory)
    (marked,) = engine_suppressions([skipped], settings)
    assert marked.status.value == status


def test_a_set_that_cfn_lint_prints_is_in_sorted_order_whatever_the_hash_seed():
    """E3019 prints `seen.resources`, a Python set: its order follows the hash seed of the
    process, and the message is part of the finding's key (its fingerprint)."""
    from scanner.engines.cfn_lint import stable_message

    one = "Primary identifiers {'RoleName': 'a'} should have unique values across the resources {'RootRole6', 'RootRole4'}"
    other = "Primary identifiers {'RoleName': 'a'} should have unique values across the resources {'RootRole4', 'RootRole6'}"
    assert stable_message(one) == stable_message(other) == other
    assert stable_message("{'only'} and {'RoleName': 'a'}") == "{'only'} and {'RoleName': 'a'}"
    scenario = 'Parameter "A" is not specified when condition "IsUsWest2" is True and when condition "IsUsEast1" is False'
    assert stable_message(scenario) == (
        'Parameter "A" is not specified when condition "IsUsEast1" is False and when condition "IsUsWest2" is True')


def test_cfn_lint_findings_are_the_same_in_every_process(tmp_path):
    import subprocess
    import sys

    roles = "".join(
        f"  Role{n}:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: shared\n"
        f"      AssumeRolePolicyDocument: {{Version: '2012-10-17', Statement: []}}\n" for n in range(1, 5))
    (tmp_path / ".git").mkdir()
    (tmp_path / "roles.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n" + roles)
    reports = []
    for seed in ("1", "2", "3"):
        out = tmp_path / f"seed{seed}.json"
        subprocess.run([sys.executable, "-m", "scanner", "scan", "roles.yaml", "--engines", "cfn-lint", "--no-cache",
                        "--format", f"json={out}"], cwd=tmp_path, env={**os.environ, "PYTHONHASHSEED": seed}, check=False)
        reports.append(out.read_text())
    assert "E3019" in reports[0]
    assert reports[0] == reports[1] == reports[2]


def test_iam_action_questions_are_answered_once_and_each_caller_gets_its_own_list():
    from cloudsplaining.scan import statement_detail

    from scanner.engines import checkov_setup

    original = statement_detail.remove_actions_not_matching_access_level
    asked: list[tuple[str, ...]] = []

    def counting(actions, level):
        asked.append(tuple(actions))
        return original(actions, level)

    memoized = checkov_setup._memoized(counting)
    actions = ["s3:PutObject", "s3:GetObject", "iam:PassRole"]
    first = memoized(actions, "Write")
    first.append("changed by the caller")
    second = memoized(list(actions), "Write")
    assert second == original(actions, "Write") == ["s3:PutObject"]
    assert asked == [tuple(actions)]
    with pytest.raises(AttributeError):  # unhashable (a malformed policy): asked directly, failing as it did
        memoized([{"not": "an action"}], "Write")
    assert asked[-1] == ({"not": "an action"},)


SAM_GLOBALS = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    ReservedConcurrentExecutions: 5
Resources:
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: "def handler(event, context): return None"
"""


def test_checkov_copies_a_template_only_to_merge_sam_globals(tmp_path):
    from checkov.cloudformation import cfn_utils
    from checkov.cloudformation.parser import parse

    from scanner.engines import checkov_setup

    checkov_setup.runner_class("cloudformation")  # installs the shortcut
    enrich = cfn_utils.enrich_resources_with_globals
    (tmp_path / "lambda.yaml").write_text(LAMBDA)
    (tmp_path / "sam.yaml").write_text(SAM_GLOBALS)
    plain, _ = parse(str(tmp_path / "lambda.yaml"))
    sam, _ = parse(str(tmp_path / "sam.yaml"))
    assert enrich(plain) is plain  # no serverless resource: checkov's copy would be equal
    merged = enrich(sam)
    assert merged is not sam and merged["Resources"]["Worker"]["Properties"]["ReservedConcurrentExecutions"] == 5
    assert "ReservedConcurrentExecutions" not in sam["Resources"]["Worker"]["Properties"]
    # Where checkov's own loop would raise, it keeps the template as parsed, and so does the shortcut.
    odd = {"Resources": {"List": ["not", "a", "mapping"], "Fn": {"Type": "AWS::Serverless::Function"}}}
    unhashable = {"Resources": {"Typed": {"Type": {"Ref": "Kind"}}}}
    assert not checkov_setup._has_globals_types(odd) and not checkov_setup._has_globals_types(unhashable)
    assert checkov_setup._has_globals_types({"Resources": {"Fn": {"Type": "AWS::Serverless::Function"}, "List": []}})
    # End to end: the Globals still reach checkov's checks (CKV_AWS_115, function-level concurrency).
    found = {f.rule_id for f in CheckovEngine().scan([artifact(tmp_path, "sam2.yaml", SAM_GLOBALS)])}
    assert "CKV_AWS_115" not in found and "CKV_AWS_116" in found
    bare = SAM_GLOBALS.replace("    ReservedConcurrentExecutions: 5\n", "    Timeout: 3\n")
    assert "CKV_AWS_115" in {f.rule_id for f in CheckovEngine().scan([artifact(tmp_path, "sam3.yaml", bare)])}


ADMIN_ROLE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Admin:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}]
      Policies:
        - PolicyName: everything
          PolicyDocument:
            Statement: [{Effect: Allow, Action: ["iam:*", "s3:*"], Resource: "*"}]
"""


def test_a_cloudsplaining_check_asks_its_question_of_a_policy_once(tmp_path, monkeypatch):
    from cloudsplaining.scan.policy_document import PolicyDocument

    from scanner.engines import checkov_setup

    checkov_setup.runner_class("cloudformation")
    asked: list[int] = []
    question = PolicyDocument.allows_privilege_escalation

    def counting(policy):
        asked.append(id(policy))
        return question.fget(policy)

    monkeypatch.setattr(PolicyDocument, "allows_privilege_escalation", property(counting))
    found = {f.rule_id for f in CheckovEngine().scan([artifact(tmp_path, "admin.yaml", ADMIN_ROLE)])}
    assert {"CKV_AWS_107", "CKV_AWS_108", "CKV_AWS_109", "CKV_AWS_110", "CKV_AWS_111"} <= found
    assert len(asked) == 1  # checkov asks twice: to mark the actions, then to decide
    from checkov.cloudformation.checks.resource.aws.IAMPrivilegeEscalation import check

    statements = {"Statement": [{"Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"}]}
    policy = PolicyDocument(statements)
    first = check.cloudsplaining_analysis(policy)
    first.append("changed by the caller")
    assert check.cloudsplaining_analysis(policy) == first[:-1] != []
    assert len(asked) == 2  # the same policy object: answered once
    assert check.cloudsplaining_analysis(PolicyDocument(statements)) == first[:-1] and len(asked) == 3
