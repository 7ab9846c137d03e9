"""Terraform end to end: a multi-module HCL tree, the plan JSON of the same resources,
what cannot be evaluated, and the real plan corpus."""

from __future__ import annotations

# Scans here pass `--ignore IDP-TAG`: these fixtures carry no tags, and the pack's hygiene
# warning about that is not what these tests are about.

import shutil
from pathlib import Path

import pytest

from scanner.inputs.terraform import plan as tfplan
from scanner.inputs.terraform.loader import load_directory
from scanner.rule import UNKNOWN
from tests.conftest import FIXTURES, SHARED, finding_set, needs_shared

TREE = "fixtures/terraform/tree"
PLAN = FIXTURES / "terraform" / "plans" / "tree.tfplan.json"

TREE_FINDINGS = {
    ("IDP-IAM-001", f"{TREE}/main.tf", 48, "aws_iam_role_policy.deploy"),
    ("IDP-DATA-002", f"{TREE}/main.tf", 55, "aws_db_instance.orders"),
    ("IDP-ECS-001", f"{TREE}/main.tf", 63, "aws_ecs_service.api"),
    ("IDP-NET-001", f"{TREE}/modules/network/main.tf", 24, "module.network.aws_security_group.this"),
    ("IDP-DATA-001", f"{TREE}/modules/storage/main.tf", 16, "module.storage.aws_s3_bucket_public_access_block.this"),
}


def concerns(report: dict) -> set[tuple[str, str]]:
    return {(rule, resource) for rule, _, _, resource in finding_set(report)}


def test_module_tree_yields_exact_findings_at_lines_and_addresses(scan):
    code, report = scan(FIXTURES / "terraform" / "tree", "--engines", "native", "--ignore", "IDP-TAG")
    assert (code, finding_set(report)) == (1, TREE_FINDINGS)
    # Child modules are evaluated through their caller only: one artifact, not three.
    assert report["scanned"] == [TREE]


def test_plan_of_the_same_resources_yields_the_same_concerns_by_address(scan):
    code, report = scan(PLAN, "--engines", "native", "--ignore", "IDP-TAG")
    assert code == 1
    assert concerns(report) == {(rule, resource) for rule, _, _, resource in TREE_FINDINGS}
    assert {uri for _, uri, _, _ in finding_set(report)} == {"fixtures/terraform/plans/tree.tfplan.json"}


def test_plan_beside_its_configuration_points_at_the_tf_blocks(tmp_path, scan):
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "terraform" / "tree", repo / "infra")
    (repo / ".git").mkdir()
    shutil.copy(PLAN, repo / "infra" / "plan.json")
    _, report = scan(repo / "infra" / "plan.json", "--engines", "native", "--ignore", "IDP-TAG")
    assert finding_set(report) == {
        # The argument's line, as for the HCL scan (a dynamic block's content: the resource's line).
        ("IDP-IAM-001", "infra/main.tf", 48, "aws_iam_role_policy.deploy"),
        ("IDP-DATA-002", "infra/main.tf", 55, "aws_db_instance.orders"),
        ("IDP-ECS-001", "infra/main.tf", 63, "aws_ecs_service.api"),
        ("IDP-NET-001", "infra/modules/network/main.tf", 14, "module.network.aws_security_group.this"),
        ("IDP-DATA-001", "infra/modules/storage/main.tf", 16, "module.storage.aws_s3_bucket_public_access_block.this"),
    }


def test_configuration_and_its_plan_scanned_together_report_each_concern_once(tmp_path, scan):
    """The same resources read from `.tf` files and from a plan beside them: one finding per
    concern, at the argument's line that the configuration gives (the plan gives the block's)."""
    shutil.copytree(FIXTURES / "terraform" / "tree", tmp_path / "infra")
    (tmp_path / ".git").mkdir()
    shutil.copy(PLAN, tmp_path / "infra" / "plan.json")
    _, report = scan(tmp_path, "--engines", "native", "--ignore", "IDP-TAG")
    assert finding_set(report) == {(rule, uri.replace(TREE, "infra"), line, name) for rule, uri, line, name in TREE_FINDINGS}
    assert len(report["findings"]) == len(TREE_FINDINGS)


def test_address_is_the_sarif_logical_location_and_in_the_message(scan):
    _, report = scan(FIXTURES / "terraform" / "tree", "--engines", "native", "--ignore", "IDP-TAG")
    finding = next(f for f in report["findings"] if f["rule_id"] == "IDP-NET-001")
    assert finding["resource"]["name"] == "module.network.aws_security_group.this"
    assert finding["resource"]["kind"] == "terraform"
    assert finding["message"].startswith("module.network.aws_security_group.this ")


def test_unknowns_give_notes_and_no_false_error(scan):
    code, report = scan(FIXTURES / "terraform" / "unknowns", "--engines", "native", "--ignore", "IDP-TAG")
    uri = "fixtures/terraform/unknowns/main.tf"
    assert (code, finding_set(report)) == (0, {
        ("IDP051", uri, 1, ""),
        ("IDP051", uri, 5, ""),
        ("IDP051", uri, 9, ""),
        ("IDP052", uri, 13, ""),
        ("IDP053", uri, 29, ""),
    })
    messages = {f["rule_id"]: f["message"] for f in report["findings"]}
    assert "terraform-aws-modules/vpc/aws" in messages["IDP052"] and "module.vpc" in messages["IDP052"]
    assert "aws_vpc_security_group_ingress_rule.per_rule" in messages["IDP053"]
    assert all(f["severity"] == "note" for f in report["findings"])


def test_a_child_module_scanned_alone_is_its_own_root(scan):
    code, report = scan(FIXTURES / "terraform" / "tree" / "modules" / "network", "--engines", "native", "--ignore", "IDP-TAG")
    # allowed_ssh_cidr comes from the caller; alone it is unknown, so SSH is not judged.
    assert (code, finding_set(report)) == (0, {
        ("IDP051", f"{TREE}/modules/network/main.tf", 1, ""),
        ("IDP051", f"{TREE}/modules/network/main.tf", 5, ""),
    })


def test_one_tf_file_given_scans_its_module(scan):
    _, report = scan(FIXTURES / "terraform" / "tree" / "variables.tf", "--engines", "native", "--ignore", "IDP-TAG")
    assert report["scanned"] == [TREE]
    assert finding_set(report) == TREE_FINDINGS


def test_tfvars_precedence_and_providers(tmp_path):
    artifact, findings = load_directory(FIXTURES / "terraform" / "tree", TREE)
    assert findings == [] and artifact is not None
    resources = artifact.data["resources"]
    # terraform.tfvars says encrypt_db = true; prod.auto.tfvars (read later) says false.
    assert resources["aws_db_instance.orders"]["properties"]["storage_encrypted"] is False
    assert resources["module.storage.aws_s3_bucket.this"]["properties"]["bucket"] == "shop-prod-assets"
    assert resources["module.storage.aws_s3_bucket_public_access_block.this"]["references"]["bucket"] == ["module.storage.aws_s3_bucket.this"]
    assert [(p["alias"], p["region"], p["line"]) for p in artifact.context["providers"]] == [(None, "eu-west-1", 1), ("us", "us-east-1", 5)]


def test_syntax_error_and_missing_local_module_are_findings(tmp_path, scan):
    (tmp_path / ".git").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "x"\n  acl = \n}\n')
    (tmp_path / "caller").mkdir()
    (tmp_path / "caller" / "main.tf").write_text('module "gone" {\n  source = "./modules/gone"\n}\n')
    code, report = scan(tmp_path, "--engines", "native", "--ignore", "IDP-TAG")
    found = {(rule, uri, line) for rule, uri, line, _ in finding_set(report)}
    assert code == 1
    assert found == {("IDP001", "broken/main.tf", 3), ("IDP050", "caller/main.tf", 1)}


@pytest.mark.parametrize("variant", ["crlf", "bom", "utf-16"])
def test_plan_encodings(tmp_path, scan, variant):
    text = PLAN.read_text()
    target = tmp_path / "plan.json"
    (tmp_path / ".git").mkdir()
    if variant == "crlf":
        target.write_bytes(text.replace("\n", "\r\n").encode())
    elif variant == "bom":
        target.write_bytes(b"\xef\xbb\xbf" + text.encode())
    else:
        target.write_bytes(text.encode("utf-16"))
    code, report = scan(target, "--engines", "native", "--ignore", "IDP-TAG")
    assert code == 1
    assert concerns(report) == {(rule, resource) for rule, _, _, resource in TREE_FINDINGS}


@needs_shared
def test_every_real_plan_loads_without_a_crash():
    corpus = sorted((SHARED / "corpus" / "tfplan").glob("*.json"))
    assert len(corpus) >= 50
    failed = {}
    for path in corpus:
        artifact, findings = tfplan.load_file(path, path.name)
        if artifact is None:
            failed[path.name] = [f.rule_id for f in findings]
        else:
            assert findings == [], path.name
    assert failed == {"runner__resources__plan__corrupted-tfplan.json": ["IDP001"]}
    artifact, _ = tfplan.load_file(SHARED / "corpus" / "tfplan" / "parser__resources__plan_after_unknown__tfplan.json", "p.json")
    assert artifact is not None
    logging = artifact.data["resources"]["aws_cloudfront_distribution.cloudfront"]["properties"]["logging_config"]
    assert logging == [{"include_cookies": False, "prefix": "cloudfront", "bucket": UNKNOWN}]


@needs_shared
def test_real_plans_scan_end_to_end(tmp_path, scan):
    code, report = scan(SHARED / "corpus" / "tfplan", "--engines", "native", "--ignore", "IDP-TAG")
    assert code == 1
    crashes = [f for f in report["findings"] if f["rule_id"] in ("IDP002", "IDP005")]
    assert crashes == []
    parse = {f["location"]["uri"].rsplit("/", 1)[-1] for f in report["findings"] if f["rule_id"] == "IDP001"}
    assert parse == {"runner__resources__plan__corrupted-tfplan.json"}


def test_var_file_on_the_command_line_wins_over_auto_tfvars(tmp_path, scan):
    var_file = tmp_path / "fixed.tfvars"
    var_file.write_text('encrypt_db = true\nblock_public_policy = true\nadmin_cidr = "10.0.0.0/8"\n')
    code, report = scan(FIXTURES / "terraform" / "tree", "--engines", "native", "--ignore", "IDP-TAG", "--var-file", var_file)
    assert (code, concerns(report)) == (1, {("IDP-IAM-001", "aws_iam_role_policy.deploy"), ("IDP-ECS-001", "aws_ecs_service.api")})


def test_var_files_from_the_configuration_are_relative_to_it(tmp_path, scan):
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "terraform" / "tree", repo / "infra")
    (repo / ".git").mkdir()
    (repo / "env").mkdir()
    (repo / "env" / "prod.tfvars.json").write_text('{"encrypt_db": true}')
    (repo / ".idp-scan.yaml").write_text("terraform:\n  var_files: [env/prod.tfvars.json]\n")
    _, report = scan(repo / "infra", "--engines", "native", "--ignore", "IDP-TAG")
    assert ("IDP-DATA-002", "aws_db_instance.orders") not in concerns(report)
    assert ("IDP-DATA-001", "module.storage.aws_s3_bucket_public_access_block.this") in concerns(report)


def test_a_missing_var_file_is_a_usage_error(tmp_path, scan):
    code, _ = scan(FIXTURES / "terraform" / "tree", "--var-file", tmp_path / "nope.tfvars")
    assert code == 2


def test_importing_the_inputs_does_not_load_the_hcl_parser():
    import subprocess
    import sys

    probe = "import sys, scanner.cli, scanner.inputs; print(any(m.split('.')[0] in ('lark', 'hcl2') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split() == ["False"]


def test_hostile_modules_end_in_findings_not_in_exhaustion(tmp_path, scan):
    (tmp_path / ".git").mkdir()
    (tmp_path / "main.tf").write_text(
        'module "self" {\n  source = "./"\n  count  = 2\n}\n'
        'resource "aws_s3_bucket" "many" {\n  count = 100000000\n}\n'
        'locals {\n  big = range(100000000)\n  x   = local.y\n  y   = local.x\n}\n'
        'resource "aws_s3_bucket" "r" {\n  count  = length(local.big)\n  bucket = local.x\n}\n'
    )
    code, report = scan(tmp_path, "--engines", "native", "--ignore", "IDP-TAG")
    assert (code, finding_set(report)) == (1, {
        ("IDP050", "main.tf", 1, ""),
        ("IDP053", "main.tf", 6, ""),
        ("IDP053", "main.tf", 14, ""),
    })


def test_plan_collects_providers_with_their_regions():
    artifact, _ = tfplan.load_file(PLAN, "plan.json")
    assert artifact is not None
    assert [(p["alias"], p["region"]) for p in artifact.context["providers"]] == [(None, "eu-west-1"), ("us", "us-east-1")]


@pytest.mark.parametrize("source", ["hcl", "plan"])
def test_helpers_link_resources_by_reference_in_both_formats(source):
    from scanner.inputs import resources_of
    from scanner.rule import RuleContext
    from scanner.terraform_helpers import linked, referencing

    if source == "hcl":
        artifact, _ = load_directory(FIXTURES / "terraform" / "tree", TREE)
    else:
        artifact, _ = tfplan.load_file(PLAN, "plan.json")
    assert artifact is not None
    resources = {r.id.name: r for r in resources_of(artifact)}
    ctx = RuleContext(artifact, list(resources.values()))
    bucket = resources["module.storage.aws_s3_bucket.this"]
    block = resources["module.storage.aws_s3_bucket_public_access_block.this"]
    assert [r.id.name for r in linked(block, "bucket", ("aws_s3_bucket",), ctx)] == [bucket.id.name]
    assert [r.id.name for r in referencing(bucket, ("aws_s3_bucket_public_access_block",), "bucket", ctx)] == [block.id.name]
    policy = resources["aws_iam_role_policy.deploy"]
    assert [r.id.name for r in linked(policy, "policy", ("data.aws_iam_policy_document",), ctx)] == ["data.aws_iam_policy_document.deploy"]


SG_MODULE = '''variable "cidr" {}
resource "aws_security_group" "this" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [var.cidr]
  }
}
'''


def module_outside_root(root: Path) -> Path:
    """envs/prod calls ../../modules/sg: a module outside the root's own directory."""
    (root / "modules" / "sg").mkdir(parents=True)
    (root / "modules" / "sg" / "main.tf").write_text(SG_MODULE)
    (root / "envs" / "prod").mkdir(parents=True)
    (root / "envs" / "prod" / "main.tf").write_text('module "sg" {\n  source = "../../modules/sg"\n  cidr   = "10.0.0.0/8"\n}\n')
    return root / "modules" / "sg" / "main.tf"


def test_a_changed_module_outside_the_root_is_not_served_from_the_cache(tmp_path, monkeypatch):
    from scanner.pipeline import run
    from scanner.settings import build_settings

    monkeypatch.setenv("IDP_SCAN_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    module = module_outside_root(root)

    def scan_ids() -> set[tuple[str, str]]:
        result = run(build_settings([root / "envs"], cli={"engines": ["native"], "jobs": 1, "ignore": ["IDP-TAG"]}))
        return {(f.rule_id, f.resource.name if f.resource else "") for f in result.findings}

    assert scan_ids() == scan_ids() == set()
    module.write_text(SG_MODULE.replace("[var.cidr]", '["0.0.0.0/0"]'))
    assert scan_ids() == {("IDP-NET-001", "module.sg.aws_security_group.this")}


def test_changed_since_rescans_the_roots_of_a_changed_module(tmp_path):
    import json
    import subprocess

    from scanner.cli import main

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args], check=True, capture_output=True)

    root = tmp_path / "repo"
    root.mkdir()
    module = module_outside_root(root)
    git("init", "-q", "-b", "main")
    git("add", ".")
    git("commit", "-q", "-m", "base")
    module.write_text(SG_MODULE.replace("[var.cidr]", '["0.0.0.0/0"]'))
    out = tmp_path / "r.json"
    assert main(["scan", str(root), "--engines", "native", "--ignore", "IDP-TAG", "--changed-since", "main", "--format", f"json={out}"]) == 1
    report = json.loads(out.read_text())
    assert report["scanned"] == ["envs/prod", "modules/sg/main.tf"]  # the module it reads, judged too
    assert finding_set(report) == {("IDP-NET-001", "modules/sg/main.tf", 7, "module.sg.aws_security_group.this")}


def test_for_expressions_keep_what_their_condition_keeps(scan, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "main.tf").write_text(
        'locals {\n'
        '  ports = [for p in [8080, 22, 443] : p if p < 1000]\n'
        '  m     = {for k, v in {a = 3389, b = 22} : "port" => v if v == 3389}\n'
        '}\n'
        'resource "aws_security_group_rule" "listed_fail" {\n'
        '  type = "ingress"\n  security_group_id = "sg-1"\n  protocol = "tcp"\n'
        '  from_port = local.ports[0]\n  to_port = local.ports[0]\n  cidr_blocks = ["0.0.0.0/0"]\n}\n'
        'resource "aws_security_group_rule" "mapped_fail" {\n'
        '  type = "ingress"\n  security_group_id = "sg-1"\n  protocol = "tcp"\n'
        '  from_port = local.m["port"]\n  to_port = local.m["port"]\n  cidr_blocks = ["0.0.0.0/0"]\n}\n'
    )
    code, report = scan(tmp_path, "--engines", "native", "--select", "IDP-NET-001")
    messages = sorted(f["message"] for f in report["findings"])
    assert code == 1 and messages == [
        "aws_security_group_rule.listed_fail allows SSH (22) from 0.0.0.0/0.",
        "aws_security_group_rule.mapped_fail allows RDP (3389) from 0.0.0.0/0.",
    ]


def test_quoted_strings_inside_interpolations_are_evaluated_not_refused(scan, tmp_path):
    """terraform-aws-eks writes `"[${join(", ", formatlist("\"%s\"", ...))}]"`: escapes belong to
    the literal parts, the interpolation keeps its own strings."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "main.tf").write_text(
        'locals {\n'
        '  ips   = "[${join(", ", formatlist("\\"%s\\"", ["10.0.0.1"]))}]"\n'
        '  port  = "${format("%d", 22)}"\n'
        '}\n'
        'resource "aws_security_group_rule" "ssh_fail" {\n'
        '  type = "ingress"\n  security_group_id = "sg-1"\n  protocol = "tcp"\n'
        '  description = "${local.ips} \\"${local.port}\\""\n'
        '  from_port = local.port\n  to_port = local.port\n  cidr_blocks = ["0.0.0.0/0"]\n}\n'
    )
    code, report = scan(tmp_path, "--engines", "native", "--select", "IDP-NET-001", "--select", "IDP0")
    assert code == 1 and finding_set(report) == {
        ("IDP-NET-001", "main.tf", 12, "aws_security_group_rule.ssh_fail"),
    }
    assert [f["message"] for f in report["findings"]] == ["aws_security_group_rule.ssh_fail allows SSH (22) from 0.0.0.0/0."]


def test_a_fixed_finding_in_a_module_outside_the_root_leaves_the_baseline(tmp_path, scan):
    """Scanning envs/prod judges modules/sg too: its baseline entry is stale once fixed, and a
    rewrite drops it (before, only files under the root's own directory were in scope)."""
    import json

    from scanner.cli import main

    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    module = module_outside_root(root)
    module.write_text(SG_MODULE.replace("[var.cidr]", '["0.0.0.0/0"]'))
    (root / ".idp-scan.yaml").write_text("ignore: [IDP-TAG]\n")  # no other finding puts the module in scope
    prod = root / "envs" / "prod"

    def entries() -> set[tuple[str, str, str]]:
        return {(e["rule_id"], e["uri"], e["resource"]) for e in json.loads((root / "bl.json").read_text())["findings"]}

    concern = ("IDP-NET-001", "envs/prod", "module.sg.aws_security_group.this")  # the root module is the artifact
    assert main(["baseline", "write", str(root / "bl.json"), str(prod), "--engines", "native"]) == 0
    assert concern in entries()
    module.write_text(SG_MODULE)  # fixed
    code, report = scan(prod, "--engines", "native", "--baseline", root / "bl.json")
    stale = [f for f in report["findings"] if f["rule_id"] == "IDP036"]
    assert len(stale) == 1 and "IDP-NET-001 on module.sg.aws_security_group.this in envs/prod" in stale[0]["message"]
    assert main(["baseline", "write", str(root / "bl.json"), str(prod), "--engines", "native"]) == 0
    assert concern not in entries()


def _at_depth(frames: int, work):  # type: ignore[no-untyped-def]
    return work() if frames == 0 else _at_depth(frames - 1, work)


def test_how_far_evaluation_gets_does_not_depend_on_the_callers_depth(tmp_path: Path) -> None:
    """Evaluation that recurses past Python's limit gives a value up (IDP053). `idp-scan` and
    `python -m scanner` (the Action) call the loader at different depths, and once gave
    different findings on terraform-aws-modules/terraform-aws-s3-bucket."""
    chain = "".join(f"  l{i} = local.l{i - 1} + 1\n" for i in range(1, 91))
    (tmp_path / "main.tf").write_text(
        f"locals {{\n  l0 = 1\n{chain}}}\n"
        'resource "aws_s3_bucket" "b" {\n  count  = local.l90 > 0 ? 1 : 0\n  bucket = "logs"\n}\n')

    def load() -> tuple[set[str], list[str]]:
        artifact, findings = load_directory(tmp_path, "main")
        assert artifact is not None
        return set(artifact.data["resources"]), [f.rule_id for f in findings]

    shallow, deep = load(), _at_depth(300, load)
    assert shallow == deep == ({"aws_s3_bucket.b[0]"}, [])
