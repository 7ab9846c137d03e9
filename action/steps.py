"""The GitHub Action's step logic, kept here (not inline in action.yml) so tests can run it.

    python action/steps.py prepare        # the pip cache directory and key for the action's own install
    python action/steps.py policy         # which commit the policy comes from (the base branch of a PR)
    python action/steps.py scan           # run idp-scan; write outputs, the job summary; never fail
    python action/steps.py upload-failed  # say in the summary that the SARIF upload failed
    python action/steps.py gate           # fail the job with the scan's exit code

Inputs arrive as environment variables (INPUT_*), never spliced into a shell line, so a pull
request cannot inject commands through a path or a ref. Outputs go to $GITHUB_OUTPUT, the
summary to $GITHUB_STEP_SUMMARY. Standard library only: it runs before and beside idp-scan.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shlex
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

CONFIG_NAMES = (".idp-scan.yaml", ".idp-scan.yml", "pyproject.toml")


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def set_outputs(**values: object) -> None:
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as handle:
        for key, value in values.items():
            handle.write(f"{key.replace('_', '-')}={value}\n")


def git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], capture_output=True, check=False)


def resolve(ref: str) -> str:
    """The commit of REF, fetching it from origin when the checkout does not have it (shallow clones)."""
    for candidate in (ref, f"origin/{ref}"):
        found = git("rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}")
        if found.returncode == 0:
            return found.stdout.decode().strip()
    fetched = git("fetch", "--no-tags", "--depth=1", "origin", ref)
    if fetched.returncode != 0:
        sys.exit(f"idp-scan: policy-ref {ref!r} cannot be found or fetched: {fetched.stderr.decode().strip()}")
    return git("rev-parse", "FETCH_HEAD").stdout.decode().strip()


def exists_at(commit: str, path: str) -> bool:
    return git("cat-file", "-e", f"{commit}:{path}").returncode == 0


def extract(commit: str, path: str, target: Path) -> None:
    """Copy PATH (file or directory) as it is at COMMIT into TARGET, keeping its relative path."""
    archive = git("archive", "--format=tar", commit, "--", path)
    if archive.returncode == 0:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(target, filter="data")


def config_at(commit: str, given: str) -> str | None:
    for name in ([given] if given else CONFIG_NAMES):
        if exists_at(commit, name):
            if name.endswith("pyproject.toml"):
                text = git("show", f"{commit}:{name}").stdout.decode()
                if "idp-scan" not in tomllib.loads(text).get("tool", {}):
                    continue
            return name
    return None


def policy_paths(config_file: Path) -> list[str]:
    """The files a configuration points at (rule directories, Guard rules, waivers, baseline), relative to it."""
    import yaml  # installed with idp-scan

    if config_file.name == "pyproject.toml":
        config = tomllib.loads(config_file.read_text()).get("tool", {}).get("idp-scan", {})
    else:
        config = yaml.safe_load(config_file.read_text()) or {}
    guard = config.get("guard") or {}
    named = [*config.get("rules", []), *guard.get("rules", []), config.get("waivers"), config.get("baseline")]
    return [str(p) for p in named if p]


PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")


def policy_ref() -> str:
    """The ref the policy is read from: the input; by default the base branch of a pull request
    (a pull request must not judge itself by its own policy); "" for the checkout."""
    ref = env("INPUT_POLICY_REF")
    if ref.lower() == "none":
        return ""
    if ref:
        return ref
    return env("GITHUB_BASE_REF") if env("GITHUB_EVENT_NAME") in PULL_REQUEST_EVENTS else ""


def policy() -> None:
    """The policy must not be weakened by the pull request it judges: take it from the base."""
    ref, given, baseline = policy_ref(), env("INPUT_CONFIG"), env("INPUT_BASELINE")
    if not ref:
        head = git("rev-parse", "--verify", "--quiet", "HEAD").stdout.decode().strip()
        reason = "policy-ref: none" if env("INPUT_POLICY_REF") else f"{env('GITHUB_EVENT_NAME') or 'no'} event"
        set_outputs(commit=head, source=f"the checkout ({reason}) at {head[:12] or 'an unknown commit'}")
        print(f"idp-scan: policy read from the checkout ({reason})")
        return
    target = Path(env("RUNNER_TEMP", "/tmp")) / "idp-scan-policy"
    target.mkdir(parents=True, exist_ok=True)
    commit = resolve(ref)
    name = config_at(commit, given)
    if name is None:
        config = target / ".idp-scan.yaml"
        config.write_text("{}\n")  # zero configuration, rather than the pull request's own
    else:
        extract(commit, name, target)
        config = target / name
        base = Path(name).parent
        for relative in policy_paths(config):
            extract(commit, (base / relative).as_posix(), target)
    outputs: dict[str, object] = {"config": config, "commit": commit, "source": f"`{ref}` at {commit[:12]}"}
    if baseline:
        extract(commit, baseline, target)
        outputs["baseline"] = target / baseline
    set_outputs(**outputs)
    print(f"idp-scan: policy read from {ref} ({commit[:12]}): {config}")


def counts(report: Path) -> dict[str, int]:
    document = json.loads(report.read_text())
    opened = [f for f in document["findings"] if f["status"] == "open"]
    return {
        "findings": len(opened),
        "blocking": int(document["blocking"]),
        "errors": sum(1 for f in opened if f["severity"] == "error"),
        "warnings": sum(1 for f in opened if f["severity"] == "warning"),
        "notes": sum(1 for f in opened if f["severity"] == "note"),
    }


def scan() -> None:
    temp = Path(env("RUNNER_TEMP", "/tmp"))
    sarif = Path(env("INPUT_SARIF_FILE", "idp-scan.sarif"))
    report, summary = temp / "idp-scan.json", temp / "idp-scan-summary.md"
    for stale in (sarif, report, summary):
        stale.unlink(missing_ok=True)
    command = [sys.executable, "-P", "-m", "scanner", "scan", *shlex.split(env("INPUT_PATHS", ".")),
               "--format", "github", "--format", f"sarif={sarif}", "--format", f"json={report}", "--format", f"markdown={summary}"]
    for flag, name in (("--config", "INPUT_CONFIG"), ("--fail-on", "INPUT_FAIL_ON"), ("--budget", "INPUT_BUDGET"),
                       ("--baseline", "INPUT_BASELINE"), ("--changed-since", "INPUT_CHANGED_SINCE")):
        if env(name):
            command += [flag, env(name)]
    code = subprocess.run(command, check=False).returncode
    outputs: dict[str, object] = {"exit_code": code, "sarif_file": sarif if sarif.is_file() else "",
                                  "json_report": report if report.is_file() else ""}
    if report.is_file():
        outputs.update(counts(report))
    set_outputs(**outputs)
    with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as handle:
        if summary.is_file():
            handle.write(summary.read_text())
        else:
            handle.write(f"## :x: idp-scan could not run (exit code {code})\n\nSee the step log for the error.\n")
        if env("INPUT_POLICY_SOURCE"):
            handle.write(f"\nPolicy (configuration, rule directories, waivers, baseline) read from {env('INPUT_POLICY_SOURCE')}.\n")


def prepare() -> None:
    """pip's cache for the action's own install, keyed by its pyproject.toml. setup-python's
    `cache: pip` cannot key on a file outside the workspace (actions/setup-python#361)."""
    project = Path(env("GITHUB_ACTION_PATH", str(Path(__file__).parent.parent))) / "pyproject.toml"
    found = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True, check=False)
    directory = found.stdout.strip() if found.returncode == 0 else str(Path.home() / ".cache" / "pip")
    digest = hashlib.sha256(project.read_bytes()).hexdigest()[:16] if project.is_file() else "none"
    version = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    set_outputs(pip_dir=directory, pip_key=f"idp-scan-pip-{sys.platform}-py{version}-{digest}")


def upload_failed() -> None:
    """The SARIF upload is a report, not the verdict: its failure is said, and the gate still decides."""
    with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as handle:
        handle.write(
            "\n> [!WARNING]\n> The SARIF upload to code scanning failed, so these findings are not in the "
            "Security tab. The usual cause: code scanning is not enabled for this repository (a private "
            "repository needs GitHub Code Security / Advanced Security), or the job lacks "
            "`permissions: security-events: write`. The findings are in this summary, the annotations and, "
            "with `comment: true`, the pull request; set `upload-sarif: false` to skip the upload. "
            "The job's result is the scan's, not the upload's.\n")
    print("::warning title=idp-scan::SARIF upload failed (is code scanning enabled for this repository?); "
          "the gate's verdict is the scan's exit code")


def gate() -> None:
    """Last step: after the upload and the summary, the job fails on the gate's exit code."""
    code = env("EXIT_CODE")
    if not code.isdigit():
        sys.exit("idp-scan: the scan step did not report an exit code; failing closed.")
    meaning = {0: "nothing blocking", 1: "blocking findings", 2: "usage or configuration error", 3: "time budget exhausted"}
    print(f"idp-scan: exit code {code} ({meaning.get(int(code), 'unexpected')})")
    sys.exit(int(code))


if __name__ == "__main__":
    steps = {"prepare": prepare, "policy": policy, "scan": scan, "upload-failed": upload_failed, "gate": gate}
    if len(sys.argv) != 2 or sys.argv[1] not in steps:
        sys.exit(f"usage: steps.py {'|'.join(steps)}")
    steps[sys.argv[1]]()
