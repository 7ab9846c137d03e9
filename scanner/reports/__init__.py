"""Reporters are pure functions `render(result, options) -> str`, looked up by format name."""

from __future__ import annotations

import importlib
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


_MODULES = {"text": "text", "json": "json_report", "sarif": "sarif", "junit": "junit", "github": "github", "markdown": "markdown"}


def renderers() -> dict[str, Renderer]:
    """Each reporter is imported when used: a text-only pre-commit run never loads sarif-om."""
    return {name: _lazy(module) for name, module in _MODULES.items()}


def _lazy(module_name: str) -> Renderer:
    def render(result: ScanResult, options: ReportOptions) -> str:
        module = importlib.import_module(f"scanner.reports.{module_name}")
        rendered: str = module.render(result, options)
        return rendered

    return render


FORMATS = ("text", "json", "sarif", "junit", "github", "markdown")
