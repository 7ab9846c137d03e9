"""Reporters are pure functions `render(result, options) -> str`, looked up by format name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from scanner.model import ScanResult


@dataclass(frozen=True)
class ReportOptions:
    color: bool = False
    include_suppressed: bool = False
    quiet: bool = False  # text: only blocking findings, and no explanations
    stats: bool = False  # timings make output differ between runs, so only on request
    link_base: str = ""  # markdown: prefix that turns a repo-relative path into a link


Renderer = Callable[[ScanResult, ReportOptions], str]


def renderers() -> dict[str, Renderer]:
    from scanner.reports import github, json_report, junit, markdown, sarif, text

    return {
        "text": text.render,
        "json": json_report.render,
        "sarif": sarif.render,
        "junit": junit.render,
        "github": github.render,
        "markdown": markdown.render,
    }


FORMATS = ("text", "json", "sarif", "junit", "github", "markdown")
