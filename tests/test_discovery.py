"""Discovery classifies by content, not extension, and skips what is not the user's code."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

TEMPLATE = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties: {AccessControl: PublicRead}\n"


def test_templates_found_by_content_and_skipped_dirs_ignored(scan, tmp_path):
    (tmp_path / ".git").mkdir()
    files = {
        "infra/plain.yaml": TEMPLATE,
        "infra/no-version.template": "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties: {AccessControl: PublicRead}\n",
        "infra/json-template.json": json.dumps({"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"AccessControl": "PublicRead"}}}}),
        "infra/bom.yml": "\ufeff" + TEMPLATE,
        "node_modules/pkg/t.yaml": TEMPLATE,
        ".venv/pyvenv.cfg": "home = /usr\n",
        ".venv/t.yaml": TEMPLATE,
        "venv2/pyvenv.cfg": "home = /usr\n",
        "venv2/t.yaml": TEMPLATE,
        "cdk.out/manifest.json": json.dumps({"version": "55.0.0", "artifacts": {}}),
        "cdk.out/asset.1234/t.yaml": TEMPLATE,
        "k8s/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\n",
        "docs/readme.md": TEMPLATE,
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    code, report = scan(tmp_path, "--engines", "native")
    assert code == 1
    assert report["scanned"] == ["infra/bom.yml", "infra/json-template.json", "infra/no-version.template", "infra/plain.yaml"]
    assert {(f["location"]["uri"], f["location"]["start_line"]) for f in report["findings"]} == {
        ("infra/bom.yml", 5), ("infra/json-template.json", 1), ("infra/no-version.template", 4), ("infra/plain.yaml", 5)
    }


def test_explicit_file_in_a_skipped_dir_is_scanned(scan, tmp_path):
    (tmp_path / ".git").mkdir()
    target = tmp_path / "node_modules" / "t.yaml"
    target.parent.mkdir()
    target.write_text(TEMPLATE)
    code, report = scan(target, "--engines", "native")
    assert (code, report["scanned"]) == (1, ["node_modules/t.yaml"])


def test_importing_scanner_and_a_native_run_never_import_the_engines(tmp_path):
    probe = (
        "import sys\n"
        "from scanner.cli import main\n"
        f"code = main(['scan', {str(REPO / 'fixtures/examples/compliant')!r}, '--engines', 'native', '-o', {str(tmp_path / 'o.txt')!r}])\n"
        "print(code, 'checkov' in sys.modules, any(m.startswith('checkov') for m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", "False", "False"]
