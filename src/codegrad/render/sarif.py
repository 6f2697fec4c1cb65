"""SARIF 2.1.0 for GitHub code scanning: one run, one rule per check and kind, one result per finding."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import codegrad
from codegrad import gradient
from codegrad.model import DEFAULT_SEVERITY, Finding, Kind, Outcome, Severity
from codegrad.settings import CHECKS

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
MAX_RESULTS = 5000  # GitHub keeps at most this many results per run (most severe first)
MAX_MESSAGE = 4000  # characters of one result message
MAX_DESCRIPTION = 1024  # GitHub's limit for rule descriptions
FINGERPRINT_KEY = "codegradFingerprint/v1"

KIND_DESCRIPTION: dict[Kind, str] = {
    Kind.BUG: "A stated expectation (docstring example, annotation or property) is violated.",
    Kind.REGRESSION: "A project test that passes on the base revision fails on the head revision.",
    Kind.PRE_EXISTING: "A failure that the base revision shows the same way; not introduced by the change.",
    Kind.CRASH: "An unexpected exception on valid input.",
    Kind.TIMEOUT: "The function did not finish within the time budget.",
    Kind.SYNTAX: "The changed file no longer parses.",
    Kind.BEHAVIOUR_CHANGE: "Base and head give different results on the same input.",
    Kind.PERFORMANCE_REGRESSION: "The cost grows faster with input size than on the base revision.",
    Kind.COMPLEXITY_BOUND: "The measured growth of cost exceeds the stated complexity bound.",
    Kind.BAD_TEST: "A generated test that known-good evidence contradicts; likely the test is wrong.",
    Kind.ERROR: "The check could not run on this function (import error or harness failure).",
}

_PRECISION = {
    Kind.BUG: "high",
    Kind.REGRESSION: "high",
    Kind.CRASH: "high",
    Kind.SYNTAX: "very-high",
    Kind.TIMEOUT: "medium",
    Kind.PRE_EXISTING: "high",
    Kind.BEHAVIOUR_CHANGE: "medium",
    Kind.PERFORMANCE_REGRESSION: "medium",
    Kind.COMPLEXITY_BOUND: "medium",
    Kind.BAD_TEST: "low",
    Kind.ERROR: "low",
}
_PROBLEM_SEVERITY = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.NOTE: "recommendation",
}
_LINK_CHARS = re.compile(r"[\\\[\]]")
_TRACEBACK_LINE = re.compile(r"^\s*(?P<path>[^:\n]+):(?P<line>\d+)(?::|$)")


def render(outcome: Outcome, *, repo_root_uri: str | None = None) -> str:
    """The SARIF log as indented JSON text ending in a newline."""
    return json.dumps(to_dict(outcome, repo_root_uri=repo_root_uri), indent=2) + "\n"


def to_dict(outcome: Outcome, *, repo_root_uri: str | None = None) -> dict[str, Any]:
    """The SARIF log as data: rules sorted by id, results most severe first (at most MAX_RESULTS)."""
    ordered = sorted(outcome.findings, key=_result_order)
    kept = ordered[:MAX_RESULTS]
    rules = _rules(kept)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    lines = {t.key: t.lineno for t in outcome.targets}
    occurrences: dict[str, int] = {}
    results = []
    for finding in kept:
        fp = finding.fingerprint
        occurrences[fp] = occurrences.get(fp, 0) + 1
        results.append(_result(finding, index, lines, occurrences[fp]))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "codegrad",
                "version": codegrad.__version__,
                "rules": rules,
            }
        },
        "invocations": [_invocation(outcome, dropped=len(ordered) - len(kept))],
        "results": results,
        "properties": {"base": outcome.base, "head": outcome.head, "tree": outcome.tree},
    }
    if outcome.nothing_checked:
        run["properties"]["nothingChecked"] = outcome.nothing_checked
    if repo_root_uri:
        root = repo_root_uri if repo_root_uri.endswith("/") else f"{repo_root_uri}/"
        run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": root}}
    return {"$schema": SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def plain(text: str) -> str:
    """Message text that holds no embedded link: SARIF reads `[text](target)` in a plain-text
    message as a link (to a location or any URI), so brackets and backslashes are escaped."""
    return _LINK_CHARS.sub(r"\\\g<0>", text)


def rule_id(finding: Finding) -> str:
    """The rule a finding reports under: one per check and kind, e.g. "docstrings/bug"."""
    return f"{finding.check}/{finding.kind.value}"


def _result_order(f: Finding) -> tuple[int, str, int, str, str, str, str]:
    return (-f.level.rank, f.path, f.line, f.function, rule_id(f), f.input or "", f.message)


def _rules(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    pairs = sorted({(f.check, f.kind) for f in findings}, key=lambda p: (p[0], p[1].value))
    return [_rule(check, kind) for check, kind in pairs]


def _rule(check: str, kind: Kind) -> dict[str, Any]:
    what = CHECKS.get(check, f"the {check} check")
    short = f"{gradient.KIND_TITLE[kind]} ({check})"
    full = f"{KIND_DESCRIPTION[kind]} Evidence from {what}."
    level = DEFAULT_SEVERITY[kind]
    return {
        "id": f"{check}/{kind.value}",
        "name": f"{_camel(check)}{_camel(kind.value)}",
        "shortDescription": {"text": short[:MAX_DESCRIPTION]},
        "fullDescription": {"text": full[:MAX_DESCRIPTION]},
        "help": {
            "text": f"{full} The result message gives the minimal input, expected and actual "
            "values, the traceback inside the function and whether the base revision fails "
            "the same way; the JSON report carries a pytest reproducer."
        },
        "defaultConfiguration": {"level": level.value},
        "properties": {
            "tags": ["correctness", check, kind.value],
            "precision": _PRECISION[kind],
            "problem.severity": _PROBLEM_SEVERITY[level],
        },
    }


def _camel(text: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def _result(
    finding: Finding, index: dict[str, int], lines: dict[str, int], occurrence: int
) -> dict[str, Any]:
    rid = rule_id(finding)
    line = (
        finding.line if finding.line >= 1 else lines.get(f"{finding.path}::{finding.function}", 1)
    )
    result: dict[str, Any] = {
        "ruleId": rid,
        "ruleIndex": index[rid],
        "level": finding.level.value,
        "message": {"text": plain(gradient.clip(gradient.feedback(finding), MAX_MESSAGE))},
        "locations": [_location(finding.path, max(1, line))],
        "partialFingerprints": {
            "primaryLocationLineHash": f"{finding.fingerprint}:{occurrence}",
            FINGERPRINT_KEY: finding.fingerprint,
        },
        "properties": {
            "function": finding.function,
            "check": finding.check,
            "kind": finding.kind.value,
        },
    }
    related = _related(finding)
    if related:
        result["relatedLocations"] = related
    return result


def _location(path: str, line: int, message: str | None = None) -> dict[str, Any]:
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": quote(path, safe="/"), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": line},
        }
    }
    if message is not None:
        location["message"] = {"text": message}
    return location


def _related(finding: Finding) -> list[dict[str, Any]]:
    """Traceback lines in the finding's own file, as related locations (innermost last)."""
    related: list[dict[str, Any]] = []
    for text in finding.traceback:
        match = _TRACEBACK_LINE.match(text)
        if match and match["path"].strip() == finding.path and int(match["line"]) >= 1:
            location = _location(
                finding.path, int(match["line"]), plain(gradient.clip(text.strip(), 200))
            )
            location["id"] = len(related) + 1
            related.append(location)
    return related


def _invocation(outcome: Outcome, *, dropped: int) -> dict[str, Any]:
    notes = list(outcome.notes)
    if dropped:
        notes.append(
            f"{dropped} less severe results left out (GitHub keeps {MAX_RESULTS} per run)."
        )
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notes:
        invocation["toolExecutionNotifications"] = [
            {"level": "note", "message": {"text": plain(note)}} for note in notes
        ]
    return invocation
