"""checkov's Terraform work reused within a process: each caller still gets what a fresh parse
would give it, and nothing stale or shared leaks between callers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanner.engines import checkov_setup

pytest.importorskip("checkov")


def _patched() -> None:
    checkov_setup.runner_class("terraform")


def test_a_file_parsed_once_gives_each_caller_its_own_copy_and_a_change_is_seen(tmp_path: Path) -> None:
    from checkov.terraform import tf_parser

    _patched()
    load = getattr(tf_parser, "load_or_die_quietly")
    path = tmp_path / "main.tf"
    path.write_text('resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n')
    first = load(path, {})
    first["resource"].clear()  # checkov's callers rewrite what they get
    second = load(path, {})
    assert second["resource"][0]["aws_s3_bucket"]["logs"]["bucket"] == ["logs"]
    path.write_text('resource "aws_s3_bucket" "audit" {\n  bucket = "audit-trail"\n}\n')
    os.utime(path, ns=(1, 1))
    assert list(load(path, {})["resource"][0]["aws_s3_bucket"]) == ["audit"]


def test_a_file_that_does_not_parse_is_reported_to_every_caller(tmp_path: Path) -> None:
    from checkov.terraform import tf_parser

    _patched()
    load = getattr(tf_parser, "load_or_die_quietly")
    path = tmp_path / "broken.tf"
    path.write_text('resource "aws_s3_bucket" "logs" {\n  bucket = \n')
    for _ in range(2):
        errors: dict[str, Exception] = {}
        assert load(path, errors) is None
        assert list(errors) == [str(path)]


def test_an_expression_parsed_once_evaluates_alike_and_a_bad_one_fails_each_time() -> None:
    from checkov.terraform.graph_builder.variable_rendering import safe_eval_functions

    _patched()
    assert [safe_eval_functions.evaluate("max(3, 7) + 1") for _ in range(3)] == [8, 8, 8]
    for _ in range(2):
        with pytest.raises(ValueError):
            safe_eval_functions.evaluate("1 +")
