"""Terraform as platform teams lay it out: `envs/{dev,prod}` roots calling `modules/app`, a root
at the top of the repository where `terraform init` left a `.terraform/` directory, per-root
variable files, provider aliases and suppressions inside shared modules. Each test builds the
repository (a real git repository) and asserts the exact findings."""

from __future__ import annotations

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
        "envs/dev/terraform.tfvars": 'ssh_cidr = "0.0.0.0/0"\n',
        "envs/dev/zz.auto.tfvars": '\npublic_bucket = tru e\n',
    })
    code, report = run(tmp_path, repo / "envs" / "dev")
    assert (code, finding_set(report)) == (1, {
        ("IDP001", "envs/dev/zz.auto.tfvars", 2, ""),
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
