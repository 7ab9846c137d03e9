"""A Terraform repository after `terraform init`: does `.terraform/` cost the scan anything?

    python -m benchmarks.terraform_init                 # 400 MB provider binary, native engine
    python -m benchmarks.terraform_init --provider-mb 50 --engines native,checkov

Builds the layout platform teams use (a root module at the top of the repository, `envs/dev`
and `envs/prod` calling `modules/app`, a git repository), then times, each as a child process
(`benchmarks.run.measure`: wall, CPU, peak resident memory of the largest process):

- cold, before `terraform init` (no `.terraform/`);
- cold, after it: `.terraform/providers/.../terraform-provider-aws`, a dummy binary of the
  given size (the real one is ~400 MB), beside the root at the top;
- warm, the same again with the cache at its default place, `.idp-scan-cache/` in the
  repository (which a scan must not read either), and the cache hits it reported.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from benchmarks.run import Measurement, measure

FILES = {
    "main.tf": 'resource "aws_s3_bucket" "state" {\n  bucket = "corp-terraform-state"\n}\n',
    "modules/app/main.tf": (
        'variable "ssh_cidr" {\n  type = string\n}\n\n'
        'resource "aws_security_group" "ssh" {\n  ingress {\n    from_port   = 22\n    to_port     = 22\n'
        '    protocol    = "tcp"\n    cidr_blocks = [var.ssh_cidr]\n  }\n}\n'
    ),
    "envs/dev/main.tf": 'variable "ssh_cidr" {}\n\nmodule "app" {\n  source   = "../../modules/app"\n  ssh_cidr = var.ssh_cidr\n}\n',
    "envs/dev/terraform.tfvars": 'ssh_cidr = "0.0.0.0/0"\n',
    "envs/prod/main.tf": 'variable "ssh_cidr" {}\n\nmodule "app" {\n  source   = "../../modules/app"\n  ssh_cidr = var.ssh_cidr\n}\n',
    "envs/prod/terraform.tfvars": 'ssh_cidr = "10.0.0.0/8"\n',
    ".gitignore": ".terraform/\n.idp-scan-cache/\n",
}
PLUGIN = ".terraform/providers/registry.terraform.io/hashicorp/aws/5.0.0/linux_amd64/terraform-provider-aws"


def build(repo: Path) -> None:
    for name, text in FILES.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)


def terraform_init(repo: Path, megabytes: int) -> None:
    """Writes the dummy provider binary in 1 MiB chunks (not sparse: real bytes on disk)."""
    plugin = repo / PLUGIN
    plugin.parent.mkdir(parents=True, exist_ok=True)
    chunk = os.urandom(1024 * 1024)
    with plugin.open("wb") as handle:
        for _ in range(megabytes):
            handle.write(chunk)


def scan(name: str, repo: Path, engines: str, env: dict[str, str]) -> tuple[Measurement, dict[str, float]]:
    report = repo.parent / f"{name.replace(' ', '-')}.json"
    argv = [sys.executable, "-m", "scanner", "scan", ".", "--engines", engines, "--stats", "--jobs", "1",
            "--format", f"json={report}"]
    cwd = os.getcwd()
    os.chdir(repo)
    try:
        row = measure(name, argv, env)
    finally:
        os.chdir(cwd)
    timings = json.loads(report.read_text()).get("timings", {}) if report.is_file() else {}
    return row, {k: v for k, v in timings.items() if k.startswith("cache.load")}


def run(megabytes: int, engines: str) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="idp-scan-tfinit-"))
    repo = work / "repo"
    build(repo)
    fresh = {"IDP_SCAN_CACHE_DIR": str(work / "cache-before-init")}
    rows = [scan("cold, before terraform init", repo, engines, fresh)]
    terraform_init(repo, megabytes)
    default_cache = {"IDP_SCAN_CACHE_DIR": ""}  # empty: the default place, .idp-scan-cache/ in the repository
    rows.append(scan("cold, after terraform init", repo, engines, default_cache))
    rows.append(scan("warm, after terraform init", repo, engines, default_cache))
    return {"provider_mb": megabytes, "engines": engines,
            "rows": [{**asdict(row), "cache": cache} for row, cache in rows]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--provider-mb", type=int, default=400, help="size of the dummy provider binary")
    parser.add_argument("--engines", default="native", help="idp-scan --engines")
    parser.add_argument("--json", type=Path, help="also write the measurements as JSON")
    args = parser.parse_args(argv)
    os.environ.pop("IDP_SCAN_CACHE_DIR", None)
    report = run(args.provider_mb, args.engines)
    for row in report["rows"]:  # type: ignore[attr-defined]
        print(f"{row['name']:<30} {row['wall']:7.2f} s wall {row['cpu']:7.2f} s CPU {row['peak_mib']:7.0f} MiB  exit {row['exit_code']}  {row['cache']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
