"""The Action's pull-request comment against a fake GitHub API (http.server on 127.0.0.1 that
records every request): created once, updated in place, resolved when clean, and never a
failure of the job when the token or the event does not allow a comment."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from scanner.cli import main as idp_scan
from scanner.github_comment import MAX_BODY, RESOLVED, fit, main, marker, result_from_report
from scanner.model import Finding, Location, ResourceId, Severity
from scanner.reports import ReportOptions
from scanner.reports.json_report import finding_to_dict
from scanner.reports.markdown import render
from tests.conftest import FIXTURES

HEAD = "0123456789abcdef0123456789abcdef01234567"
REPO = "acme/infra"


class FakeGitHub:
    """Issue comments of one repository, kept in memory; every request is recorded."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []
        self.comments: dict[int, dict[str, Any]] = {}
        self.next_id = 1000
        self.status = 0  # when set, every request answers with it
        self.files: list[dict[str, Any]] = []  # the pull request's files, with their patches
        self.review_comments: list[dict[str, Any]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def answer(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append((self.command, self.path, body))
                assert self.headers["Authorization"] == "Bearer t0ken"
                if fake.status:
                    return self.answer(fake.status, {"message": "Resource not accessible by integration"})
                status, payload = fake.route(self.command, self.path, body)
                self.answer(status, payload)

            do_GET = do_POST = do_PATCH = do_DELETE = handle_any

        return Handler

    def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        listing = f"/repos/{REPO}/issues/7/comments"
        if method == "GET" and path.startswith(listing + "?"):
            page = int(path.rsplit("page=", 1)[1])
            ordered = [self.comments[k] for k in sorted(self.comments)]
            return 200, ordered[(page - 1) * 100: page * 100]
        if method == "POST" and path == listing:
            self.next_id += 1
            self.comments[self.next_id] = {"id": self.next_id, "body": body["body"]}
            return 201, self.comments[self.next_id]
        if method == "PATCH" and path.startswith(f"/repos/{REPO}/issues/comments/"):
            comment = self.comments[int(path.rsplit("/", 1)[1])]
            comment["body"] = body["body"]
            return 200, comment
        pulls = f"/repos/{REPO}/pulls/7"
        if method == "GET" and path.startswith(pulls + "/"):
            page = int(path.rsplit("page=", 1)[1])
            items = self.files if path.startswith(pulls + "/files?") else self.review_comments
            return 200, items[(page - 1) * 100: page * 100]
        if method == "POST" and path == pulls + "/reviews":
            assert body["commit_id"] == HEAD and body["event"] == "COMMENT"
            self.review_comments += body["comments"]
            return 200, {"id": 1}
        return 404, {"message": "Not Found"}

    def writes(self) -> list[tuple[str, str]]:
        return [(method, path) for method, path, _ in self.requests if method != "GET"]


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def reports(tmp_path: Path) -> dict[str, Path]:
    """Real JSON reports of idp-scan: a pull request with an open security group, then fixed."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".idp-scan.yaml").write_text("engines: [native]\n")
    shutil.copy(FIXTURES / "examples" / "noncompliant" / "service.yaml", repo / "service.yaml")
    out = {"blocked": tmp_path / "blocked.json", "clean": tmp_path / "clean.json"}
    assert idp_scan(["scan", str(repo), "--no-cache", "--format", f"json={out['blocked']}"]) == 1
    (repo / "service.yaml").unlink()
    shutil.copy(FIXTURES / "examples" / "compliant" / "service.yaml", repo / "service.yaml")
    assert idp_scan(["scan", str(repo), "--no-cache", "--format", f"json={out['clean']}"]) == 0
    return out


def environment(github: FakeGitHub, tmp_path: Path, report: Path | None, code: int, event: str = "pull_request", **extra: str) -> dict[str, str]:
    payload = tmp_path / "event.json"
    pull = {"pull_request": {"number": 7, "head": {"sha": HEAD}}} if event.startswith("pull_request") else {"ref": "refs/heads/main"}
    payload.write_text(json.dumps(pull))
    return {"GITHUB_API_URL": github.url, "GITHUB_SERVER_URL": "https://github.example", "GITHUB_TOKEN": "t0ken",
            "GITHUB_REPOSITORY": REPO, "GITHUB_RUN_ID": "42", "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": str(payload),
            "INPUT_COMMENT": "true", "INPUT_CATEGORY": "idp-scan", "INPUT_REPORT": str(report or ""), "EXIT_CODE": str(code),
            "INPUT_POLICY_SOURCE": "`main` at 89abcdef0123", **extra}


def test_first_run_creates_second_updates_clean_run_resolves(github, reports, tmp_path, capsys):
    assert main(environment(github, tmp_path, reports["blocked"], 1)) == 0
    assert github.writes() == [("POST", f"/repos/{REPO}/issues/7/comments")]
    [(comment_id, comment)] = github.comments.items()
    body = comment["body"]
    assert body.startswith(marker("idp-scan") + "\n## :x: idp-scan: blocked")
    assert f"](https://github.example/{REPO}/blob/{HEAD}/service.yaml#L" in body, "links at the pull request's head"
    assert body.index("### Blocking findings") < body.index("<sub>idp-scan")
    assert "| error | 5 | 0 | 0 |" in body and "policy from `main` at 89abcdef0123" in body
    assert f"[job summary](https://github.example/{REPO}/actions/runs/42)" in body
    assert f"comment {comment_id} created" in capsys.readouterr().out

    assert main(environment(github, tmp_path, reports["blocked"], 1)) == 0
    assert github.writes()[1:] == [("PATCH", f"/repos/{REPO}/issues/comments/{comment_id}")]
    assert list(github.comments) == [comment_id]

    assert main(environment(github, tmp_path, reports["clean"], 0)) == 0
    assert github.writes()[2:] == [("PATCH", f"/repos/{REPO}/issues/comments/{comment_id}")]
    assert github.comments[comment_id]["body"].startswith(marker("idp-scan") + "\n" + RESOLVED)
    assert main(environment(github, tmp_path, reports["clean"], 0)) == 0
    assert len(github.writes()) == 3, "already resolved: left alone"


def test_other_categories_and_quoted_markers_are_not_touched(github, reports, tmp_path):
    github.comments = {1: {"id": 1, "body": "> " + marker("idp-scan") + " quoted by a reviewer"},
                       2: {"id": 2, "body": marker("idp-scan-accounts") + "\nanother job's comment"}}
    main(environment(github, tmp_path, reports["blocked"], 1))
    assert github.writes() == [("POST", f"/repos/{REPO}/issues/7/comments")]
    assert github.comments[1]["body"].endswith("quoted by a reviewer") and github.comments[2]["body"].endswith("another job's comment")


def test_a_clean_pull_request_without_a_comment_gets_none(github, reports, tmp_path):
    assert main(environment(github, tmp_path, reports["clean"], 0)) == 0
    assert github.writes() == []


def test_on_failure_comments_only_when_the_gate_fails(github, reports, tmp_path):
    main(environment(github, tmp_path, reports["blocked"], 0, INPUT_COMMENT="on-failure"))  # e.g. fail-on: never
    assert github.writes() == []
    main(environment(github, tmp_path, reports["blocked"], 1, INPUT_COMMENT="on-failure"))
    assert [m for m, _ in github.writes()] == ["POST"]


def test_a_scan_that_could_not_run_says_so(github, tmp_path):
    main(environment(github, tmp_path, None, 2))
    [comment] = github.comments.values()
    assert "idp-scan could not run (exit code 2)" in comment["body"]


def test_forbidden_token_warns_and_does_not_fail(github, reports, tmp_path, capsys):
    github.status = 403
    assert main(environment(github, tmp_path, reports["blocked"], 1)) == 0
    out = capsys.readouterr().out
    assert out.startswith("::warning title=idp-scan::cannot comment on the pull request (HTTP 403: Resource not accessible by integration)")
    assert "pull-requests: write" in out
    assert github.writes() == [] and len(github.requests) == 1


def test_not_a_pull_request_makes_no_request(github, reports, tmp_path, capsys):
    assert main(environment(github, tmp_path, reports["blocked"], 1, event="push")) == 0
    assert github.requests == []
    assert "no comment: the push event is not a pull request" in capsys.readouterr().out


def test_comment_false_makes_no_request(github, reports, tmp_path):
    assert main(environment(github, tmp_path, reports["blocked"], 1, INPUT_COMMENT="false")) == 0
    assert github.requests == []


def test_unreachable_api_warns_and_does_not_fail(reports, tmp_path, capsys):
    class Closed:
        url = "http://127.0.0.1:9"  # discard port: nothing listens

    assert main(environment(Closed(), tmp_path, reports["blocked"], 1)) == 0  # type: ignore[arg-type]
    assert capsys.readouterr().out.startswith("::warning title=idp-scan::cannot comment")


def many_findings(count: int) -> dict[str, Any]:
    findings = [Finding(f"IDP-NET-{i % 7:03d}", "native", Severity.ERROR, "wide open ingress " * 100,
                        Location(f"stacks/stack-{i % 300:03d}.yaml", i + 1, i + 1), ResourceId("cloudformation", f"SecurityGroup{i}"))
                for i in range(count)]
    return {"complete": True, "blocking": count, "scanned": [f"stacks/stack-{i:03d}.yaml" for i in range(300)],
            "findings": [finding_to_dict(f) for f in findings], "notifications": []}


def test_ten_thousand_findings_stay_under_the_limit_with_a_link_to_the_summary(github, tmp_path):
    report = tmp_path / "big.json"
    report.write_text(json.dumps(many_findings(10_000)))
    assert main(environment(github, tmp_path, report, 1)) == 0
    [comment] = github.comments.values()
    body = comment["body"]
    assert len(body.encode()) <= MAX_BODY
    assert "|\n\n… truncated to fit GitHub's comment limit: the full summary is in the [job summary](" in body
    assert body.startswith(marker("idp-scan")) and body.rstrip().endswith("</sub>")
    untruncated = render(result_from_report(many_findings(10_000)), ReportOptions(link_base="https://x/"))
    assert len(untruncated.encode()) > MAX_BODY, "the test input must need truncation"


def test_fit_counts_bytes_and_keeps_whole_lines():
    body = "\n".join(["é" * 10] * 10)  # 21 bytes a line with its newline
    assert fit(body, "TAIL", limit=1000) == body
    cut = fit(body, "TAIL", limit=50)
    assert cut == "é" * 10 + "\n" + "é" * 10 + "\n" + "TAIL" and len(cut.encode()) == 46


def test_the_fail_on_threshold_is_recovered_from_the_report(reports):
    document = json.loads(reports["blocked"].read_text())
    result = result_from_report(document)
    assert len(result.blocking) == document["blocking"] == 5
    assert result_from_report({**document, "blocking": 0}).blocking == []


def test_module_runs_as_the_action_calls_it(github, reports, tmp_path):
    env = {"PATH": "/usr/bin:/bin", **environment(github, tmp_path, reports["blocked"], 1)}
    done = subprocess.run([sys.executable, "-P", "-m", "scanner.github_comment"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "created" in done.stdout and len(github.comments) == 1


def test_not_scanned_lists_the_scanners_own_failures_not_the_gates():
    from scanner.github_comment import not_scanned

    found = [Finding("IDP001", "idp-scan", Severity.ERROR, "could not be parsed", Location("broken.yaml", 4, 4)),
             Finding("IDP033", "idp-scan", Severity.WARNING, "suppression expired", Location("waivers.yaml", 2, 2)),
             Finding("IDP-NET-001", "native", Severity.ERROR, "SSH open", Location("sg.yaml", 3, 3))]
    document = {"complete": False, "blocking": 2, "scanned": ["sg.yaml"], "findings": [finding_to_dict(f) for f in found]}
    section = not_scanned(result_from_report(document))
    assert [line for line in section if line.startswith("| `")] == ["| `broken.yaml:4` | IDP001 | could not be parsed |"]
    assert any("time budget ran out" in line for line in section)
    assert not_scanned(result_from_report({**document, "complete": True, "findings": document["findings"][2:]})) == []


def patch(first: int, last: int, added: set[int]) -> str:
    """A unified diff hunk over new lines FIRST..LAST that adds ADDED (and removes one old line)."""
    lines = [f"@@ -{first},{last - first + 1} +{first},{last - first + 1} @@", "-removed"]
    return "\n".join(lines + [("+" if n in added else " ") + f"line {n}" for n in range(first, last + 1)])


def test_added_lines_of_a_patch():
    from scanner.github_comment import added_lines

    assert added_lines(patch(10, 30, {12, 27})) == {12, 27}
    assert added_lines("@@ -1,2 +1,3 @@\n a\n-b\n+c\n+d\n\\ No newline at end of file\n@@ -40 +41,2 @@\n x\n+y") == {2, 3, 42}
    assert added_lines("") == set()


def test_review_comments_on_changed_lines_once_each_and_capped(github, reports, tmp_path):
    github.files = [{"filename": "service.yaml", "patch": patch(10, 30, {12, 27})}, {"filename": "README.md"}]
    env = environment(github, tmp_path, reports["blocked"], 1, INPUT_REVIEW_COMMENTS="1")
    assert main(env) == 0
    assert [(c["path"], c["line"], c["side"]) for c in github.review_comments] == [("service.yaml", 12, "RIGHT")]
    assert github.review_comments[0]["body"].split("\n")[1].startswith("**IDP-NET-001** (error): BastionSecurityGroup allows SSH")
    reported = {f["location"]["start_line"]: f["fingerprint"] for f in json.loads(reports["blocked"].read_text())["findings"]}
    assert github.review_comments[0]["body"].split("\n")[0] == f"<!-- idp-scan:finding {reported[12]} -->", "the report's own identity"
    main(env)
    assert [c["line"] for c in github.review_comments] == [12, 27], "the cap leaves the rest for the next run"
    main(env)
    assert [c["line"] for c in github.review_comments] == [12, 27], "never the same finding twice"
    assert [m for m, p in github.writes()].count("POST") == 3, "one summary comment and two reviews"


def test_no_review_comments_unless_asked(github, reports, tmp_path):
    github.files = [{"filename": "service.yaml", "patch": patch(1, 60, set(range(1, 61)))}]
    main(environment(github, tmp_path, reports["blocked"], 1))
    assert github.review_comments == [] and not any("/pulls/" in p for _, p, _ in github.requests)
