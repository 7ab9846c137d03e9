"""The GitHub Action's pull-request comment: one sticky comment per category, updated in place.

    python -P -m scanner.github_comment   # in the Action, after the scan step

It reads idp-scan's JSON report, renders it with the Markdown reporter (links at the pull
request's head commit), and creates, updates or resolves the comment that starts with this
category's hidden marker. Standard-library HTTP against `GITHUB_API_URL` with `GITHUB_TOKEN`.
The comment is a report, never the verdict: a token without `pull-requests: write` (403), an
event that is not a pull request or an unreachable API gives a warning and exit code 0.

Inputs (environment): INPUT_COMMENT (true | false | on-failure), INPUT_CATEGORY, INPUT_REPORT
(the JSON report), EXIT_CODE (the scan's), INPUT_POLICY_SOURCE, INPUT_REVIEW_COMMENTS (at most
this many review comments, on changed lines, for blocking findings not commented before; 0: none),
and the runner's GITHUB_*.
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from scanner import failures
from scanner.model import Finding, Location, ResourceId, ScanResult, Severity, Status
from scanner.reports import ReportOptions
from scanner.reports import markdown

MAX_BODY = 65_536  # GitHub's limit on a comment body, in characters; we count UTF-8 bytes (never fewer)
MODES = ("true", "false", "on-failure")
NOT_SCANNED_ROWS = 20
RESOLVED = "## :white_check_mark: idp-scan: resolved"
HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
FINDING_MARKER = re.compile(r"<!-- idp-scan:finding (\w+) -->")


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


@dataclass(frozen=True)
class PullRequest:
    repository: str
    number: int
    head_sha: str


@dataclass(frozen=True)
class Context:
    """What the runner tells the step: where the API is, which run, which pull request."""

    api_url: str
    server_url: str
    token: str
    repository: str
    run_url: str
    event_name: str
    pull_request: PullRequest | None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Context:
        server = environ.get("GITHUB_SERVER_URL", "https://github.com")
        repository = environ.get("GITHUB_REPOSITORY", "")
        run_url = f"{server}/{repository}/actions/runs/{environ.get('GITHUB_RUN_ID', '')}"
        if environ.get("GITHUB_RUN_ATTEMPT"):
            run_url += f"/attempts/{environ['GITHUB_RUN_ATTEMPT']}"
        return cls(
            api_url=environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
            server_url=server,
            token=environ.get("GITHUB_TOKEN", ""),
            repository=repository,
            run_url=run_url,
            event_name=environ.get("GITHUB_EVENT_NAME", ""),
            pull_request=_pull_request(repository, environ.get("GITHUB_EVENT_PATH", "")),
        )


def _pull_request(repository: str, event_path: str) -> PullRequest | None:
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8")) if event_path else {}
        pull = event["pull_request"]
        return PullRequest(repository, int(pull["number"]), str(pull["head"]["sha"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


class GitHub:
    """The REST calls the comment and the review need, with urllib."""

    def __init__(self, api_url: str, token: str, timeout: float = 30.0) -> None:
        self.api_url, self.token, self.timeout = api_url, token, timeout

    def request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.api_url}{path}", data=data, method=method, headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "idp-scan-action",
            **({"Content-Type": "application/json"} if data is not None else {}),
        })
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            raise ApiError(exc.code, _error_message(exc.read())) from exc
        return json.loads(payload) if payload else None

    def pages(self, path: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in range(1, 51):  # 5,000 items: far beyond any pull request
            batch = self.request("GET", f"{path}?per_page=100&page={page}")
            found += batch
            if len(batch) < 100:
                break
        return found

    def comments(self, pull: PullRequest) -> list[dict[str, Any]]:
        return self.pages(f"/repos/{pull.repository}/issues/{pull.number}/comments")

    def changed_lines(self, pull: PullRequest) -> dict[str, set[int]]:
        """The lines each file of the pull request adds: where a review comment can stand."""
        files = self.pages(f"/repos/{pull.repository}/pulls/{pull.number}/files")
        return {str(f["filename"]): added_lines(str(f.get("patch", ""))) for f in files}

    def review_comments(self, pull: PullRequest) -> list[dict[str, Any]]:
        return self.pages(f"/repos/{pull.repository}/pulls/{pull.number}/comments")

    def review(self, pull: PullRequest, body: str, comments: list[dict[str, Any]]) -> Any:
        return self.request("POST", f"/repos/{pull.repository}/pulls/{pull.number}/reviews",
                            {"commit_id": pull.head_sha, "event": "COMMENT", "body": body, "comments": comments})

    def create(self, pull: PullRequest, body: str) -> Any:
        return self.request("POST", f"/repos/{pull.repository}/issues/{pull.number}/comments", {"body": body})

    def update(self, pull: PullRequest, comment_id: int, body: str) -> Any:
        return self.request("PATCH", f"/repos/{pull.repository}/issues/comments/{comment_id}", {"body": body})


def _error_message(payload: bytes) -> str:
    try:
        return str(json.loads(payload).get("message", ""))
    except (ValueError, AttributeError):
        return payload.decode(errors="replace")[:200]


def added_lines(patch: str) -> set[int]:
    """The new-side lines a unified diff adds."""
    lines: set[int] = set()
    line = 0
    for text in patch.split("\n"):
        hunk = HUNK.match(text)
        if hunk:
            line = int(hunk.group(1))
        elif text.startswith("+"):
            lines.add(line)
            line += 1
        elif text.startswith(" "):
            line += 1
    return lines


def marker(category: str) -> str:
    return f"<!-- idp-scan:comment category={category} -->"


def result_from_report(document: Mapping[str, Any]) -> ScanResult:
    """A ScanResult from idp-scan's JSON report, enough for the Markdown reporter."""
    findings = tuple(_finding(f) for f in document["findings"])
    return ScanResult(findings=findings, rules={}, scanned=tuple(document.get("scanned", ())),
                      complete=bool(document.get("complete", True)),
                      fail_on=_fail_on(findings, int(document.get("blocking", 0))))


def _finding(data: Mapping[str, Any]) -> Finding:
    where, resource = data["location"], data.get("resource")
    return Finding(
        rule_id=data["rule_id"], engine=data.get("engine", ""), severity=Severity(data["severity"]),
        message=data.get("message", ""),
        location=Location(where["uri"], int(where.get("start_line", 1)), int(where.get("end_line", 1))),
        resource=None if resource is None else ResourceId(
            resource["kind"], resource["name"], resource.get("type", ""), resource.get("logical_id", ""), resource.get("stack", "")),
        status=Status(data.get("status", "open")), status_reason=data.get("status_reason", ""),
    )


def report_fingerprints(document: Mapping[str, Any]) -> dict[tuple[object, ...], str]:
    """Each finding's fingerprint as the report gives it (the scanner's own identity of the
    violation instance), by the finding's sort key."""
    return {_finding(f).sort_key: str(f["fingerprint"]) for f in document["findings"] if f.get("fingerprint")}


def _fail_on(findings: Sequence[Finding], blocking: int) -> Severity | None:
    """The report gives the blocking count; the thresholds give nested sets, so the count names one."""
    for severity in Severity:
        if sum(1 for f in findings if f.status is Status.OPEN and f.severity.rank >= severity.rank) == blocking > 0:
            return severity
    return None


def not_scanned(result: ScanResult) -> list[str]:
    """What the scanner could not check (its own failures, not the gate's), and an unfinished run."""
    failed = [f for f in result.findings if failures.is_failure_rule(f.rule_id) and not failures.is_gate_rule(f.rule_id)]
    if not failed and result.complete:
        return []
    out = ["### Not scanned", ""]
    if not result.complete:
        out += ["The time budget ran out before the scan finished: what was not scanned was not proven compliant.", ""]
    if failed:
        out += ["| file | rule | why |", "| --- | --- | --- |"]
        out += [f"| `{markdown.cell(f.location.uri)}:{f.location.start_line}` | {f.rule_id} | {markdown.cell(f.message)} |"
                for f in failed[:NOT_SCANNED_ROWS]]
        if len(failed) > NOT_SCANNED_ROWS:
            out.append(f"\n… and {len(failed) - NOT_SCANNED_ROWS} more.")
        out.append("")
    return out


def fit(body: str, tail: str, limit: int = MAX_BODY) -> str:
    """BODY whole if it fits, else its leading lines and TAIL, within LIMIT (UTF-8 bytes)."""
    if len(body.encode()) <= limit:
        return body
    room = limit - len(tail.encode()) - 1
    kept: list[str] = []
    for line in body.split("\n"):
        cost = len(line.encode()) + 1
        if cost > room:
            break
        kept.append(line)
        room -= cost
    return "\n".join(kept) + "\n" + tail


@dataclass(frozen=True)
class Comment:
    category: str
    context: Context
    policy_source: str = ""

    def footer(self, sha: str) -> str:
        policy = f" · policy from {self.policy_source}" if self.policy_source else ""
        return (f"<sub>idp-scan · category `{self.category}` · commit {sha[:12]}{policy} · "
                f"[job summary]({self.context.run_url})</sub>\n")

    def findings(self, result: ScanResult, pull: PullRequest) -> str:
        link_base = f"{self.context.server_url}/{pull.repository}/blob/{pull.head_sha}/"
        body = "\n".join([marker(self.category), markdown.render(result, ReportOptions(link_base=link_base)),
                          *not_scanned(result), self.footer(pull.head_sha)])
        # After a blank line: GitHub's Markdown would read a line right below a table as a row.
        tail = (f"\n… truncated to fit GitHub's comment limit: the full summary is in the [job summary]({self.context.run_url}).\n\n"
                + self.footer(pull.head_sha))
        return fit(body, tail)

    def failed_to_run(self, code: int, pull: PullRequest) -> str:
        return (f"{marker(self.category)}\n## :x: idp-scan could not run (exit code {code})\n\n"
                f"See the [job log]({self.context.run_url}) for the error.\n\n{self.footer(pull.head_sha)}")

    def resolved(self, pull: PullRequest) -> str:
        return (f"{marker(self.category)}\n{RESOLVED}\n\n"
                f"Nothing open at {pull.head_sha[:12]}: what this comment listed before is fixed, suppressed "
                f"or baselined.\n\n{self.footer(pull.head_sha)}")


def wanted(mode: str, code: int, result: ScanResult | None) -> bool:
    """Is there something to say? `on-failure`: only when the gate fails; `true`: also open findings."""
    if code != 0:
        return True
    return mode == "true" and result is not None and (bool(result.open_findings) or not result.complete)


def publish(github: GitHub, comment: Comment, pull: PullRequest, body: str | None) -> str:
    """Create, update or resolve this category's comment; BODY None means the pull request is clean."""
    mine = [c for c in github.comments(pull) if str(c.get("body", "")).startswith(marker(comment.category))]
    if body is None:
        if not mine:
            return "no comment: nothing to report"
        if RESOLVED in str(mine[0].get("body", "")):
            return f"comment {mine[0]['id']} already resolved"
        github.update(pull, int(mine[0]["id"]), comment.resolved(pull))
        return f"comment {mine[0]['id']} marked resolved"
    if mine:
        github.update(pull, int(mine[0]["id"]), body)
        return f"comment {mine[0]['id']} updated"
    created = github.create(pull, body)
    return f"comment {created.get('id')} created"


def review(github: GitHub, pull: PullRequest, result: ScanResult, cap: int,
           fingerprints: Mapping[tuple[object, ...], str]) -> str:
    """Review comments on the changed lines of blocking findings, each once, at most CAP a run."""
    changed = github.changed_lines(pull)
    candidates = [f for f in result.blocking if f.location.start_line in changed.get(f.location.uri, set())]
    posted = {m for c in github.review_comments(pull) for m in FINDING_MARKER.findall(str(c.get("body", "")))} if candidates else set()
    identity = {f: fingerprints.get(f.sort_key, f.fingerprint) for f in candidates}
    new = [f for f in candidates if identity[f] not in posted]
    if not new:
        return f"no new review comments ({len(candidates)} blocking finding(s) on changed lines)"
    comments = [{"path": f.location.uri, "line": f.location.start_line, "side": "RIGHT",
                 "body": f"<!-- idp-scan:finding {identity[f]} -->\n**{f.rule_id}** ({f.severity.value}): {f.message}"}
                for f in new[:cap]]
    more = f" ({len(new) - cap} more in the summary comment)" if len(new) > cap else ""
    github.review(pull, f"idp-scan: {len(comments)} blocking finding(s) on lines this pull request changes{more}.", comments)
    return f"review with {len(comments)} comment(s) on changed lines{more}"


def run(environ: Mapping[str, str]) -> str:
    """One comment step; returns what happened, for the log. Raises ApiError and OSError."""
    mode = environ.get("INPUT_COMMENT", "false").strip().lower()
    if mode not in MODES:
        return f"comment: {mode!r} is not one of {', '.join(MODES)}; no comment"
    if mode == "false":
        return "comment: false"
    context = Context.from_environment(environ)
    pull = context.pull_request
    if pull is None:
        return f"no comment: the {context.event_name or 'unknown'} event is not a pull request"
    code_text = environ.get("EXIT_CODE", "").strip()
    code = int(code_text) if code_text.isdigit() else 2
    report = Path(environ.get("INPUT_REPORT", "").strip() or "-")
    document = json.loads(report.read_text(encoding="utf-8")) if report.is_file() else None
    result = result_from_report(document) if document is not None else None
    comment = Comment(environ.get("INPUT_CATEGORY", "").strip() or "idp-scan", context, environ.get("INPUT_POLICY_SOURCE", "").strip())
    body: str | None = None
    if wanted(mode, code, result):
        body = comment.findings(result, pull) if result is not None else comment.failed_to_run(code, pull)
    github = GitHub(context.api_url, context.token)
    done = publish(github, comment, pull, body)
    cap_text = environ.get("INPUT_REVIEW_COMMENTS", "").strip()
    if document is not None and result is not None and cap_text.isdigit() and int(cap_text) > 0 and result.blocking:
        done += "; " + review(github, pull, result, int(cap_text), report_fingerprints(document))
    return done


def main(environ: Mapping[str, str] | None = None) -> int:
    """Never fails the job: the gate step decides."""
    try:
        print(f"idp-scan: {run(os.environ if environ is None else environ)}")
    except ApiError as exc:
        if exc.status in (401, 403, 404):
            print(f"::warning title=idp-scan::cannot comment on the pull request ({exc}). The token needs "
                  "`permissions: pull-requests: write`; a pull request from a fork gets a read-only token.")
        else:
            print(f"::warning title=idp-scan::cannot comment on the pull request ({exc})")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"::warning title=idp-scan::cannot comment on the pull request ({type(exc).__name__}: {exc})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
