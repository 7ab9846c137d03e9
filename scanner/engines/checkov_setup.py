"""checkov's set-up, once per process: offline switches, the runner of each framework, and the
patches that make repeated in-process scans cheap and a hostile HCL file linear (each described
where it is installed; the graph checks' thread pools in `checkov_threads`, the Terraform parse
memo in `checkov_terraform_memo`).

Offline: the environment switches below are set before checkov is first imported (no version
check, no guideline download, no Prisma/Bridgecrew API, no module download), and checkov's own
process pool is turned off (and its graph checks' thread pools replaced) so that the worker
layer owns concurrency.
"""

from __future__ import annotations

import importlib
import os
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, Mapping

from scanner.engines.checkov_threads import run_graph_checks_inline
from scanner.engines.checkov_terraform_memo import reuse_expression_parses, reuse_file_parses

NAME = "checkov"

# Set before checkov is imported; `setdefault` leaves a user's explicit choice alone.
OFFLINE_ENV: Mapping[str, str] = {
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",  # importing checkov.main asks PyPI for a newer version
    "BC_SKIP_MAPPING": "TRUE",  # every scan without an API key downloads guidelines
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    "CHECKOV_PARALLELIZATION_TYPE": "none",  # no fork pool inside our own worker processes
    "ANSI_COLORS_DISABLED": "1",
}

# Artifact kind -> (checkov framework, runner class). Terraform kinds arrive with the Terraform
# inputs; an artifact's `path` is the file (or module directory) checkov reads.
FRAMEWORKS: Mapping[str, tuple[str, str]] = {
    "cloudformation": ("cloudformation", "checkov.cloudformation.runner:Runner"),
    "terraform": ("terraform", "checkov.terraform.runner:Runner"),
    "terraform-plan": ("terraform_plan", "checkov.terraform.plan_runner:Runner"),
}


def prepare_offline() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


@lru_cache(maxsize=1)
def _harden_hcl_parser() -> None:
    """checkov parses HCL with hcl2's shared Lark instance, whose string terminals backtrack
    exponentially on an unclosed string; give it the linear grammar our own loader uses."""
    from hcl2 import parser as hcl2_parser
    from lark import Lark

    from scanner.inputs.terraform.hcl import linear_grammar

    grammar = linear_grammar(hcl2_parser.LARK_GRAMMAR)
    hcl2_parser.Hcl2.lark_parser = Lark(grammar=grammar, parser="lalr", propagate_positions=True, cache=True)


@lru_cache(maxsize=1)
def _reuse_jsonpath_tables() -> None:
    """checkov's graph parses every distinct attribute path with jsonpath-ng, which builds its
    PLY parse tables from scratch on each parse (~0.1 s): half of checkov's time on a corpus of
    templates. The tables depend only on the grammar (the parser class and start symbol), and a
    PLY parser is reusable, so each is built once per process."""
    import ply.yacc
    from bc_jsonpath_ng import parser as jsonpath_parser

    built: dict[tuple[type, str], Any] = {}

    def yacc(**options: Any) -> Any:
        key = (type(options["module"]), options.get("start", ""))
        if key not in built:
            built[key] = ply.yacc.yacc(**options)
        return built[key]

    # Only jsonpath-ng's own module sees the memoized builder; PLY itself is untouched.
    setattr(jsonpath_parser, "ply", SimpleNamespace(yacc=SimpleNamespace(yacc=yacc)))


@lru_cache(maxsize=1)
def _reuse_expression_interpreter() -> None:
    """checkov evaluates Terraform expressions with a new asteval interpreter each time, and
    building one (scanning its whole symbol table) costs more than the evaluation: 54,000 of
    them, 12 s, in one eks example. One interpreter per process, its evaluation state reset
    before each use, as a new one would have it; the symbol table was shared all along."""
    from checkov.terraform.graph_builder.variable_rendering import safe_eval_functions

    interpreter = safe_eval_functions.get_asteval()

    def get_asteval() -> Any:
        interpreter.error, interpreter.error_msg, interpreter.code_text = [], None, []
        interpreter.retval, interpreter._interrupt, interpreter._calldepth = None, None, 0
        return interpreter

    setattr(safe_eval_functions, "get_asteval", get_asteval)
    reuse_expression_parses(interpreter)


@lru_cache(maxsize=1)
def _memoize_iam_action_queries() -> None:
    """checkov's IAM checks (cloudsplaining) ask policy_sentry, for every statement of every
    policy and every check, which of its actions match an access level and which can be
    restricted to ARNs: 5.3 million lookups, two thirds of checkov's time on the CloudFormation
    corpora. The answers depend only on the action list (and the level) and on policy_sentry's
    bundled database, so each distinct question is answered once per process. Callers extend
    the lists they get, so each gets its own copy."""
    from cloudsplaining.scan import statement_detail
    from cloudsplaining.shared import utils

    by_level = _memoized(getattr(statement_detail, "remove_actions_not_matching_access_level"))
    restrictable = _memoized(getattr(statement_detail, "remove_wildcard_only_actions"))
    setattr(statement_detail, "remove_actions_not_matching_access_level", by_level)
    setattr(statement_detail, "remove_wildcard_only_actions", restrictable)
    setattr(utils, "remove_actions_not_matching_access_level", by_level)


def _memoized(function: Any) -> Any:
    @lru_cache(maxsize=65536)
    def answer(actions: tuple[Any, ...], *rest: Any) -> tuple[Any, ...]:
        return tuple(function(list(actions), *rest))

    def ask(actions: Any, *rest: Any) -> Any:
        try:
            return list(answer(tuple(actions), *rest))
        except TypeError:  # an action that is not a string (a malformed policy): ask directly
            return function(actions, *rest)

    return ask


@lru_cache(maxsize=1)
def _reuse_cloudsplaining_answers() -> None:
    """checkov's five cloudsplaining IAM checks ask their question of a policy twice in a row (to
    mark the offending actions, then to decide): the second time the check gets the first
    answer (a copy) when the policy object is the same. A policy document's answers depend only
    on its statements."""
    base = importlib.import_module("checkov.cloudformation.checks.resource.BaseCloudsplainingIAMCheck")
    for check_class in _subclasses(base.BaseCloudsplainingIAMCheck):
        if "cloudsplaining_analysis" in vars(check_class):
            setattr(check_class, "cloudsplaining_analysis", _ask_once(vars(check_class)["cloudsplaining_analysis"]))


def _subclasses(cls: type) -> list[type]:
    direct: list[type] = cls.__subclasses__()
    return [found for sub in direct for found in (sub, *_subclasses(sub))]


def _ask_once(analysis: Any) -> Any:
    def answer(check: Any, policy: Any) -> Any:
        last = check.__dict__.get(_LAST_ANSWER)
        if last is not None and last[0] is policy:
            return list(last[1])
        result = analysis(check, policy)
        check.__dict__[_LAST_ANSWER] = (policy, list(result)) if isinstance(result, list) else None
        return result

    return answer


_LAST_ANSWER = "_idp_scan_last_answer"


# checkov's SAM `Globals` sections apply to resources of these types (cfn_utils).
_GLOBALS_TYPES = frozenset(f"AWS::Serverless::{kind}" for kind in ("Api", "Function", "HttpApi", "SimpleTable", "StateMachine"))


@lru_cache(maxsize=1)
def _enrich_only_sam_templates() -> None:
    """checkov deep-copies every template it parses (pickle round trip, a tenth of its time on
    the CloudFormation corpora) to merge SAM `Globals` into serverless resources of the copy;
    the copy is all it keeps. A template with no such resource comes out of the copy unchanged
    (equal, same node classes and marks), so it is kept as parsed; any other goes through
    checkov's own function."""
    from checkov.cloudformation import cfn_utils

    enrich = getattr(cfn_utils, "enrich_resources_with_globals")

    def enrich_sam_only(template: dict[str, Any]) -> dict[str, Any]:
        return enrich(template) if _has_globals_types(template) else template

    setattr(cfn_utils, "enrich_resources_with_globals", enrich_sam_only)


def _has_globals_types(template: dict[str, Any]) -> bool:
    """Whether checkov's merge could change anything. Where its loop would raise (a resource
    that is not a mapping, an unhashable type), it returns the template as parsed: so does this,
    unless a serverless resource came first (then checkov's function decides)."""
    resources = template.get("Resources", {})
    try:
        for name, details in resources.items():
            if name != "__file__" and details.get("Type", "") in _GLOBALS_TYPES:
                return True
    except Exception:  # noqa: BLE001 - checkov's own loop catches the same and keeps the template
        return False
    return False


def runner_class(framework_kind: str) -> Any:
    prepare_offline()
    _reuse_jsonpath_tables()
    _memoize_iam_action_queries()
    run_graph_checks_inline()
    if framework_kind == "cloudformation":
        _enrich_only_sam_templates()
    if framework_kind == "terraform":
        _harden_hcl_parser()
        _reuse_expression_interpreter()
        reuse_file_parses()
    module_name, _, attribute = FRAMEWORKS[framework_kind][1].partition(":")
    runner = getattr(importlib.import_module(module_name), attribute)
    if framework_kind == "cloudformation":
        _reuse_cloudsplaining_answers()  # the checks exist once the runner's module is imported
    return runner
