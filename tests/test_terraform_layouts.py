"""Terraform as platform teams lay it out: `envs/{dev,prod}` roots calling `modules/app`, a root
at the top of the repository where `terraform init` left a `.terraform/` directory, per-root
variable files, provider aliases and suppressions inside shared modules. Each test builds the
repository (a real git repository) and asserts the exact findings."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import finding_set, scan_json

APP = '''variable "name" {
  type = string
}

variable "ssh_cidr" {
  type = string
}

resource "aws_security_group" "ssh" {
  name = var.name
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [var.ssh_cidr]
  }
  tags = { owner = "team-app", cost-center = "CC-1234" }
}
'''

ENV = '''variable "ssh_cidr" {
  type = string
}

module "app" {
  source   = "../../modules/app"
  name     = "app-{env}"
  ssh_cidr = var.ssh_cidr
}
'''

TOP = '''resource "aws_s3_bucket" "state" {
  bucket = "corp-terraform-state"
  tags   = { owner = "platform", cost-center = "CC-0001" }
}
'''

SG = "module.app.aws_security_group.ssh"
APP_LINE = 15  # `cidr_blocks = [var.ssh_cidr]` in modules/app/main.tf
BIG = 8 * 1024 * 1024  # the dummy provider binary `terraform init` would have downloaded


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                          check=True, capture_output=True, text=True)
    return done.stdout


def layout(root: Path, files: dict[str, str] | None = None) -> Path:
    """The repository: envs/dev (world-open SSH in its terraform.tfvars), envs/prod (closed SSH
    in prod.tfvars, which nothing loads unless told), modules/app, and a root at the top."""
    tree = {
        "main.tf": TOP,
        "envs/dev/main.tf": ENV.replace("{env}", "dev"),
        "envs/dev/terraform.tfvars": 'ssh_cidr = "0.0.0.0/0"\n',
        "envs/prod/main.tf": ENV.replace("{env}", "prod"),
        "envs/prod/prod.tfvars": 'ssh_cidr = "10.0.0.0/8"\n',
        "modules/app/main.tf": APP,
        "README.md": "# infra\n",
        ".gitignore": ".terraform/\n.idp-scan-cache/\n",
        **(files or {}),
    }
    for name, text in tree.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    plugin = root / ".terraform" / "providers" / "registry.terraform.io" / "hashicorp" / "aws" / "terraform-provider-aws"
    plugin.parent.mkdir(parents=True)
    plugin.write_bytes(b"\0" * BIG)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "base")
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return layout(tmp_path / "repo")


def run(tmp_path: Path, *args: str | Path) -> tuple[int, dict[str, Any]]:
    return scan_json(*args, "--engines", "native", tmp_path=tmp_path)


def test_the_layout_as_is(tmp_path: Path, repo: Path) -> None:
    code, report = run(tmp_path, repo)
    assert (code, finding_set(report)) == (1, {
        ("IDP-NET-001", "modules/app/main.tf", APP_LINE, SG),
        ("IDP051", "envs/prod/main.tf", 1, ""),
    })


# ---- 1. a variables file that does not parse ----------------------------------------------

def test_a_broken_tfvars_is_idp001_at_its_line_and_the_rest_of_the_file_list_still_counts(tmp_path: Path) -> None:
    repo = layout(tmp_path / "repo", {
        "envs/dev/terraform.tfvars": 'ssh_cidr = "10.0.0.0/8"\n',
        "envs/dev/zz.auto.tfvars": '\npublic_bucket = tru e\n',
        "envs/dev/zzz.auto.tfvars": 'ssh_cidr = "0.0.0.0/0"\n',
    })
    code, report = run(tmp_path, repo / "envs" / "dev")
    assert (code, finding_set(report)) == (1, {
        ("IDP001", "envs/dev/zz.auto.tfvars", 2, ""),
        ("IDP-NET-001", "modules/app/main.tf", APP_LINE, SG),
    })


def test_the_values_of_a_broken_tfvars_that_do_parse_still_count(tmp_path: Path) -> None:
    repo = layout(tmp_path / "repo", {
        "envs/dev/terraform.tfvars": 'public_bucket = tru e\nssh_cidr = "0.0.0.0/0"\nnames = [\n  "a",\n  "b"\n]\nbad = {\n  x = \n}\n',
    })
    code, report = run(tmp_path, repo / "envs" / "dev")
    assert (code, finding_set(report)) == (1, {
        ("IDP001", "envs/dev/terraform.tfvars", 1, ""),
        ("IDP001", "envs/dev/terraform.tfvars", 8, ""),
        ("IDP-NET-001", "modules/app/main.tf", APP_LINE, SG),
    })


def test_a_broken_var_file_on_the_command_line_is_idp001(tmp_path: Path, repo: Path) -> None:
    broken = repo / "envs" / "prod" / "broken.tfvars"
    broken.write_text('name = "x"\nssh_cidr =\n')
    code, report = run(tmp_path, repo / "envs" / "prod", "--var-file", broken)
    assert (code, finding_set(report)) == (1, {
        ("IDP001", "envs/prod/broken.tfvars", 2, ""),
        ("IDP051", "envs/prod/main.tf", 1, ""),
    })


def test_a_broken_tfvars_json_is_idp001_at_its_line(tmp_path: Path) -> None:
    repo = layout(tmp_path / "repo", {"envs/prod/terraform.tfvars.json": '{\n  "ssh_cidr": "10.0.0.0/8",\n}\n'})
    code, report = run(tmp_path, repo / "envs" / "prod")
    assert (code, finding_set(report)) == (1, {
        ("IDP001", "envs/prod/terraform.tfvars.json", 3, ""),
        ("IDP051", "envs/prod/main.tf", 1, ""),
    })


# ---- 2. variable files per root ------------------------------------------------------------

def test_a_bare_var_file_applies_to_every_root_after_their_own_tfvars(tmp_path: Path, repo: Path) -> None:
    code, report = run(tmp_path, repo, "--var-file", repo / "envs" / "prod" / "prod.tfvars")
    # Today's meaning: dev's own terraform.tfvars loses to a file given on the command line.
    assert (code, finding_set(report)) == (0, set())


def test_root_equals_file_gives_the_file_to_that_root_only(tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    code, report = run(tmp_path, ".", "--var-file", "envs/prod=envs/prod/prod.tfvars")
    assert (code, finding_set(report)) == (1, {("IDP-NET-001", "modules/app/main.tf", APP_LINE, SG)})
    assert {f["resource"]["name"] for f in report["findings"]} == {SG}


def test_var_files_per_root_in_the_configuration_are_relative_to_the_root(tmp_path: Path) -> None:
    repo = layout(tmp_path / "repo", {
        ".idp-scan.yaml": "terraform:\n  var_files:\n    envs/prod: [prod.tfvars]\n    envs/dev: [../../shared/extra.tfvars]\n",
        "shared/extra.tfvars": 'ssh_cidr = "10.1.0.0/16"\n',
    })
    assert finding_set(run(tmp_path, repo / "envs" / "prod")[1]) == set()
    # dev's file from the configuration comes after its own terraform.tfvars: later wins.
    assert finding_set(run(tmp_path, repo / "envs" / "dev")[1]) == set()
    (repo / ".idp-scan.yaml").write_text("terraform:\n  var_files:\n    envs/prod: [prod.tfvars, ../../shared/extra.tfvars]\n")
    (repo / "shared" / "extra.tfvars").write_text('ssh_cidr = "0.0.0.0/0"\n')
    assert finding_set(run(tmp_path, repo / "envs" / "prod")[1]) == {("IDP-NET-001", "modules/app/main.tf", APP_LINE, SG)}
    assert finding_set(run(tmp_path, repo / "envs" / "dev")[1]) == {("IDP-NET-001", "modules/app/main.tf", APP_LINE, SG)}


def test_an_unknown_root_in_var_files_is_a_usage_error(tmp_path: Path, repo: Path) -> None:
    code, _ = run(tmp_path, repo, "--var-file", f"{repo / 'envs' / 'prod'}=nope.tfvars")
    assert code == 2


# ---- 3. naming a variables file --------------------------------------------------------------

def test_naming_a_tfvars_file_scans_its_module_directory(tmp_path: Path, repo: Path) -> None:
    code, report = run(tmp_path, repo / "envs" / "dev" / "terraform.tfvars")
    assert (code, finding_set(report), report["scanned"]) == (1, {("IDP-NET-001", "modules/app/main.tf", APP_LINE, SG)}, ["envs/dev", "modules/app/main.tf"])


def test_naming_a_var_file_scans_every_root_it_is_given_to(tmp_path: Path) -> None:
    repo = layout(tmp_path / "repo", {
        ".idp-scan.yaml": "terraform:\n  var_files:\n    envs/prod: [../../vars/prod.tfvars]\n",
        "vars/prod.tfvars": 'ssh_cidr = "0.0.0.0/0"\n',
    })
    code, report = run(tmp_path, repo / "vars" / "prod.tfvars")
    assert (code, finding_set(report), report["scanned"]) == (1, {("IDP-NET-001", "modules/app/main.tf", APP_LINE, SG)}, ["envs/prod", "modules/app/main.tf"])


# ---- 4. optional() defaults, try(), can(), lookup() ------------------------------------------

OPTIONAL = '''variable "cfg" {
  type = object({
    ssh_cidr = optional(string, "0.0.0.0/0")
    name     = optional(string)
    rules = optional(list(object({
      port = number
      cidr = optional(string, "0.0.0.0/0")
    })), [{ port = 3389 }])
    extra = optional(map(object({ cidr = optional(string, "10.0.0.0/8") })), {})
  })
  default = {}
}

variable "given" {
  type = object({ rules = list(object({ port = number, cidr = optional(string, "0.0.0.0/0") })) })
  default = { rules = [{ port = 22 }, { port = 443, cidr = "10.0.0.0/8" }] }
}

variable "unknown" {
  type = object({ cidr = optional(string, "10.0.0.0/8") })
}

locals {
  known = { a = "x" }
}

resource "aws_security_group" "optional" {
  for_each = { for r in var.cfg.rules : tostring(r.port) => r }
  name     = coalesce(var.cfg.name, "sg")
  ingress {
    from_port   = each.value.port
    to_port     = each.value.port
    protocol    = "tcp"
    cidr_blocks = [var.cfg.ssh_cidr, each.value.cidr]
  }
}

resource "aws_security_group" "given" {
  for_each = { for r in var.given.rules : tostring(r.port) => r }
  ingress {
    from_port   = each.value.port
    to_port     = each.value.port
    protocol    = "tcp"
    cidr_blocks = [each.value.cidr]
  }
}

resource "aws_s3_bucket" "functions" {
  bucket = try(local.known.missing, lookup(local.known, "b", "fallback"))
  tags = {
    found    = try(local.known.a, "no")
    can_miss = can(local.known.missing)
    can_have = can(local.known.a)
    unknown  = try(var.unknown.cidr, "guess")
    can_unk  = can(aws_s3_bucket.other.arn)
    resource = try(aws_s3_bucket.other.arn, "guess")
    lookup   = lookup(var.cfg.extra, "k", "default")
  }
}
'''


def test_optional_defaults_fill_objects_at_every_depth_and_unknowns_stay_unknown(tmp_path: Path) -> None:
    from scanner.inputs.terraform.loader import load_directory
    from scanner.rule import UNKNOWN

    (tmp_path / "main.tf").write_text(OPTIONAL)
    artifact, findings = load_directory(tmp_path, "m")
    assert artifact is not None
    resources = artifact.data["resources"]
    ingress = {address: r["properties"]["ingress"][0] for address, r in resources.items() if r["type"] == "aws_security_group"}
    assert {address: (i["from_port"], i["cidr_blocks"]) for address, i in ingress.items()} == {
        'aws_security_group.optional["3389"]': (3389, ["0.0.0.0/0", "0.0.0.0/0"]),
        'aws_security_group.given["22"]': (22, ["0.0.0.0/0"]),
        'aws_security_group.given["443"]': (443, ["10.0.0.0/8"]),
    }
    assert resources['aws_security_group.optional["3389"]']["properties"]["name"] == "sg"  # optional without default: null
    bucket = resources["aws_s3_bucket.functions"]["properties"]
    assert bucket["bucket"] == "fallback"
    assert bucket["tags"] == {"found": "x", "can_miss": False, "can_have": True, "unknown": UNKNOWN, "can_unk": UNKNOWN,
                              "resource": UNKNOWN, "lookup": "default"}
    assert {f.rule_id for f in findings} == {"IDP051"}  # var.unknown only; no IDP053


def test_optional_default_opens_ssh_end_to_end(tmp_path: Path) -> None:
    repo = layout(tmp_path / "repo", {"modules/app/main.tf": APP.replace('''variable "ssh_cidr" {
  type = string
}''', '''variable "ssh_cidr" {
  type = string
}

variable "cfg" {
  type    = object({ ssh_cidr = optional(string, "0.0.0.0/0") })
  default = {}
}''').replace("cidr_blocks = [var.ssh_cidr]", "cidr_blocks = [var.cfg.ssh_cidr]")})
    code, report = run(tmp_path, repo / "envs" / "prod", "--var-file", f"{repo / 'envs' / 'prod'}={repo / 'envs' / 'prod' / 'prod.tfvars'}")
    assert (code, finding_set(report)) == (1, {("IDP-NET-001", "modules/app/main.tf", APP_LINE + 5, SG)})


# ---- 5. providers by alias ---------------------------------------------------------------------

PROVIDERS = '''provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "use1"
  region = "us-east-1"
}

provider "aws" {
  alias  = "tagged"
  region = "eu-west-2"
  default_tags {
    tags = { owner = "edge", cost-center = "CC-0002" }
  }
}

resource "aws_s3_bucket" "default" {}

resource "aws_s3_bucket" "use1" {
  provider = aws.use1
}

resource "aws_s3_bucket" "tagged" {
  provider = aws.tagged
}

module "east" {
  source    = "../../modules/bucket"
  providers = { aws = aws.use1 }
}

module "edge" {
  source    = "../../modules/bucket"
  providers = { aws = aws.tagged }
}

module "inherits" {
  source = "../../modules/bucket"
}
'''


def test_default_tags_and_regions_come_from_the_provider_configuration_each_resource_uses(tmp_path: Path) -> None:
    repo = layout(tmp_path / "repo", {
        "envs/prod/providers.tf": PROVIDERS,
        "modules/bucket/main.tf": 'resource "aws_s3_bucket" "this" {}\n',
        ".idp-scan.yaml": "regions:\n  allowed: [eu-west-1, eu-west-2]\n",
    })
    code, report = run(tmp_path, repo / "envs" / "prod", "--var-file", f"{repo / 'envs' / 'prod'}={repo / 'envs' / 'prod' / 'prod.tfvars'}")
    assert (code, finding_set(report)) == (1, {
        # The default configuration has no default_tags; aws.tagged has them, aws.use1 does not.
        ("IDP-TAG-001", "envs/prod/providers.tf", 18, "aws_s3_bucket.default"),
        ("IDP-TAG-001", "envs/prod/providers.tf", 20, "aws_s3_bucket.use1"),
        ("IDP-TAG-001", "modules/bucket/main.tf", 1, "module.east.aws_s3_bucket.this"),
        ("IDP-TAG-001", "modules/bucket/main.tf", 1, "module.inherits.aws_s3_bucket.this"),
        ("IDP-REGION-001", "envs/prod/providers.tf", 7, "provider.aws.use1"),
    })


def test_an_alias_without_default_tags_does_not_inherit_the_default_configurations(tmp_path: Path) -> None:
    tagged_default = PROVIDERS.replace('region = "eu-west-1"\n', 'region = "eu-west-1"\n  default_tags {\n    tags = { owner = "p", cost-center = "CC-0003" }\n  }\n', 1)
    repo = layout(tmp_path / "repo", {"envs/prod/providers.tf": tagged_default, "modules/bucket/main.tf": 'resource "aws_s3_bucket" "this" {}\n'})
    code, report = run(tmp_path, repo / "envs" / "prod", "--var-file", f"{repo / 'envs' / 'prod'}={repo / 'envs' / 'prod' / 'prod.tfvars'}")
    assert (code, finding_set(report)) == (0, {
        ("IDP-TAG-001", "envs/prod/providers.tf", 23, "aws_s3_bucket.use1"),
        ("IDP-TAG-001", "modules/bucket/main.tf", 1, "module.east.aws_s3_bucket.this"),
    })


# ---- 6. comments in shared modules; plan findings on argument lines --------------------------

IGNORE = '# idp-scan:ignore IDP-NET-001 reason="bastion behind the corporate VPN"'


def statuses(report: dict[str, Any]) -> set[tuple[str, str, int, str, str]]:
    return {(f["rule_id"], f["location"]["uri"], f["location"]["start_line"], (f["resource"] or {}).get("name", ""), f["status"])
            for f in report["findings"]}


@pytest.mark.parametrize("where", ["above the resource", "end of the argument line"])
def test_a_comment_in_a_shared_module_applies_where_the_module_is_called(tmp_path: Path, where: str) -> None:
    if where == "above the resource":
        app = APP.replace('resource "aws_security_group" "ssh" {', f'{IGNORE}\nresource "aws_security_group" "ssh" {{')
    else:
        app = APP.replace("cidr_blocks = [var.ssh_cidr]", f"cidr_blocks = [var.ssh_cidr] {IGNORE}")
    line = APP_LINE + (where == "above the resource")
    repo = layout(tmp_path / "repo", {"modules/app/main.tf": app})
    code, report = run(tmp_path, repo / "envs" / "dev")
    assert (code, statuses(report)) == (0, {("IDP-NET-001", "modules/app/main.tf", line, SG, "suppressed")})


def test_a_comment_in_a_module_file_without_findings_is_still_read(tmp_path: Path) -> None:
    """Comments are read with the root that loads the module, not from the files findings
    happen to stand in: one that waives nothing is reported (IDP034) as in the root's own files."""
    app = APP.replace('resource "aws_security_group" "ssh" {', f'{IGNORE}\nresource "aws_security_group" "ssh" {{')
    repo = layout(tmp_path / "repo", {"modules/app/main.tf": app})
    code, report = run(tmp_path, repo / "envs" / "prod")
    assert (code, statuses(report)) == (0, {("IDP051", "envs/prod/main.tf", 1, "", "open"), ("IDP034", "modules/app/main.tf", 9, "", "open")})


def test_a_new_group_next_to_a_waived_one_in_a_shared_module_blocks_and_a_deleted_file_takes_its_comment(tmp_path: Path) -> None:
    """The comment waives the group it heads, read with the calling root (through the cache on the
    second run): a group added below it in the same file stays open; once the commented file is
    gone, so is its waiver."""
    waived = APP.replace('resource "aws_security_group" "ssh" {', f'{IGNORE}\nresource "aws_security_group" "ssh" {{')
    added = APP[APP.index('resource "aws_security_group"'):].replace('"ssh" {', '"ssh_new" {')
    lines = (waived + "\n" + added).splitlines()
    repo = layout(tmp_path / "repo", {"modules/app/main.tf": "\n".join(lines) + "\n"})
    first = run(tmp_path, repo / "envs" / "dev")
    second = run(tmp_path, repo / "envs" / "dev")
    new_line = [n for n, line in enumerate(lines, start=1) if "cidr_blocks = [var.ssh_cidr]" in line][1]
    expected = {("IDP-NET-001", "modules/app/main.tf", APP_LINE + 1, SG, "suppressed"),
                ("IDP-NET-001", "modules/app/main.tf", new_line, SG + "_new", "open")}
    assert (first[0], statuses(first[1])) == (second[0], statuses(second[1])) == (1, expected)
    (repo / "modules" / "app" / "main.tf").unlink()
    (repo / "modules" / "app" / "groups.tf").write_text(APP)
    code, report = run(tmp_path, repo / "envs" / "dev")
    assert (code, statuses(report)) == (1, {("IDP-NET-001", "modules/app/groups.tf", APP_LINE, SG, "open")})


def test_a_plan_finding_honours_the_comment_on_the_tf_argument_line(tmp_path: Path) -> None:
    from tests.conftest import FIXTURES

    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "terraform" / "tree", repo / "infra")
    main = repo / "infra" / "main.tf"
    main.write_text(main.read_text().replace("storage_encrypted = var.encrypt_db",
                                             'storage_encrypted = var.encrypt_db # idp-scan:ignore IDP-DATA-002 reason="a scratch database, no data"'))
    shutil.copy(FIXTURES / "terraform" / "plans" / "tree.tfplan.json", repo / "infra" / "plan.json")
    git(repo, "init", "-q")
    code, report = run(tmp_path, repo / "infra" / "plan.json", "--select", "IDP-DATA-002")
    assert (code, statuses(report)) == (0, {("IDP-DATA-002", "infra/main.tf", 55, "aws_db_instance.orders", "suppressed")})


# ---- 7. IDP-TAG-001: once per block; every type the AWS provider tags ------------------------

TAGS = '''variable "azs" {
  default = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

resource "aws_subnet" "private" {
  count             = length(var.azs)
  vpc_id            = "vpc-1"
  availability_zone = var.azs[count.index]
  tags              = { owner = "net", cost-center = count.index == 1 ? "CC-0001" : "" }
}

resource "aws_apigatewayv2_api" "http" {
  name          = "http"
  protocol_type = "HTTP"
}

resource "aws_iam_policy" "read" {
  name   = "read"
  policy = "{}"
}

resource "aws_iam_role_policy_attachment" "untaggable" {
  role       = "r"
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_sqs_queue" "each" {
  for_each = toset(["a", "b"])
  name     = each.key
}
'''


def test_tags_are_reported_once_per_block_and_for_every_type_that_takes_tags(tmp_path: Path) -> None:
    repo = layout(tmp_path / "repo", {"envs/prod/tags.tf": TAGS})
    code, report = run(tmp_path, repo / "envs" / "prod", "--var-file", f"{repo / 'envs' / 'prod'}={repo / 'envs' / 'prod' / 'prod.tfvars'}")
    assert (code, finding_set(report)) == (0, {
        ("IDP-TAG-001", "envs/prod/tags.tf", 9, "aws_subnet.private[0]"),
        ("IDP-TAG-001", "envs/prod/tags.tf", 12, "aws_apigatewayv2_api.http"),
        ("IDP-TAG-001", "envs/prod/tags.tf", 17, "aws_iam_policy.read"),
        ("IDP-TAG-001", "envs/prod/tags.tf", 27, 'aws_sqs_queue.each["a"]'),
    })
    messages = {f["resource"]["name"]: f["message"] for f in report["findings"]}
    assert messages["aws_subnet.private[0]"] == (
        "aws_subnet.private lacks the required tags: cost-center (2 of its 3 instances: aws_subnet.private[0], aws_subnet.private[2]).")
    assert messages['aws_sqs_queue.each["a"]'] == ('aws_sqs_queue.each lacks the required tags: owner, cost-center '
                                                   '(2 of its 2 instances: aws_sqs_queue.each["a"], aws_sqs_queue.each["b"]).')


# ---- 8. the cache and --changed-since read only what Terraform reads -------------------------

def stats(tmp_path: Path, *args: str | Path) -> dict[str, float]:
    code, report = scan_json(*args, "--engines", "native", "--stats", "--jobs", "1", tmp_path=tmp_path)
    assert code in (0, 1)
    return {k: v for k, v in report["timings"].items() if k.startswith("cache.load")}


def test_the_sources_of_a_root_are_what_terraform_reads(tmp_path: Path) -> None:
    from scanner.inputs import Unit, unit_sources

    repo = layout(tmp_path / "repo", {
        "modules/app/policy.tf": 'locals {\n  p = file("${path.module}/policy.json")\n  t = templatefile("templates/user_data.tpl", {})\n}\n',
        "modules/app/policy.json": "{}\n",
        "envs/dev/templates/user_data.tpl": "#!/bin/sh\n",
        "envs/dev/extra.auto.tfvars.json": "{}\n",
        "envs/dev/unused.tfvars": 'ssh_cidr = "1.1.1.1/32"\n',
        "envs/dev/node_modules/left-pad/index.js": "//\n",
        "envs/dev/notes.md": "notes\n",
    })
    dev = Unit("terraform", repo / "envs" / "dev", "envs/dev")
    assert {p.relative_to(repo).as_posix() for p in unit_sources(dev) or ()} == {
        "envs/dev/main.tf", "envs/dev/terraform.tfvars", "envs/dev/extra.auto.tfvars.json", "envs/dev/templates/user_data.tpl",
        "modules/app/main.tf", "modules/app/policy.tf", "modules/app/policy.json",
    }
    top = Unit("terraform", repo, ".")
    assert {p.relative_to(repo).as_posix() for p in unit_sources(top) or ()} == {"main.tf"}


def test_a_root_at_the_top_of_the_repository_is_served_from_the_cache_after_terraform_init(
        tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IDP_SCAN_CACHE_DIR")  # the default: .idp-scan-cache at the repository root
    monkeypatch.chdir(repo)
    assert stats(tmp_path, ".") == {"cache.load.misses": 3.0}
    assert (repo / ".idp-scan-cache").is_dir()
    assert stats(tmp_path, ".") == {"cache.load.hits": 3.0}
    plugin = next((repo / ".terraform").rglob("terraform-provider-aws"))
    plugin.write_bytes(b"\1" * 16)  # `terraform init -upgrade`
    (repo / "README.md").write_text("# infra, documented\n")
    (repo / "node_modules" / "x").mkdir(parents=True)
    (repo / "node_modules" / "x" / "main.tf").write_text("# vendored\n")
    assert stats(tmp_path, ".") == {"cache.load.hits": 3.0}
    (repo / "modules" / "app" / "main.tf").write_text(APP.replace("22", "2222"))
    assert stats(tmp_path, ".") == {"cache.load.hits": 1.0, "cache.load.misses": 2.0}


def test_changed_since_rescans_only_roots_whose_terraform_files_changed(tmp_path: Path) -> None:
    repo = layout(tmp_path / "repo", {".idp-scan.yaml": "terraform:\n  var_files:\n    envs/prod: [prod.tfvars]\n"})
    git(repo, "checkout", "-q", "-b", "feature")

    def scanned() -> list[str]:
        code, report = run(tmp_path, repo, "--changed-since", "main")
        return report["scanned"]

    (repo / "README.md").write_text("# infra, documented\n")
    (repo / "envs" / "dev" / "notes.md").write_text("dev notes\n")
    next((repo / ".terraform").rglob("terraform-provider-aws")).write_bytes(b"\1")
    git(repo, "commit", "-qam", "docs")
    assert scanned() == []
    (repo / "envs" / "prod" / "prod.tfvars").write_text('ssh_cidr = "10.2.0.0/16"\n')
    assert scanned() == ["envs/prod", "modules/app/main.tf"]
    (repo / "modules" / "app" / "main.tf").write_text(APP + "\n")
    assert scanned() == ["envs/dev", "envs/prod", "modules/app/main.tf"]


def test_help_says_what_a_bare_var_file_means(capsys: pytest.CaptureFixture[str]) -> None:
    from scanner.cli import main

    assert main(["scan", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--var-file [ROOT=]FILE" in help_text
    assert "ROOT=FILE for the root module in directory ROOT only, a bare FILE for every root module" in help_text


def test_a_plan_checks_the_region_of_every_provider_configuration_as_hcl_does(tmp_path: Path) -> None:
    from tests.conftest import FIXTURES

    config = tmp_path / "regions.yaml"
    config.write_text("regions:\n  allowed: [eu-west-1]\n")
    plan = FIXTURES / "terraform" / "plans" / "tree.tfplan.json"
    code, report = run(tmp_path, plan, "--config", config, "--select", "IDP-REGION")
    assert (code, finding_set(report)) == (1, {("IDP-REGION-001", "fixtures/terraform/plans/tree.tfplan.json", 319, "provider.aws.us")})
    code, report = run(tmp_path, FIXTURES / "terraform" / "tree", "--config", config, "--select", "IDP-REGION")
    assert (code, finding_set(report)) == (1, {("IDP-REGION-001", "fixtures/terraform/tree/main.tf", 7, "provider.aws.us")})
