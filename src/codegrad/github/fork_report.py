"""The fork run's artifact (review.json): structured findings out, and back in, strictly checked.

A fork's `pull_request` run cannot post (read-only token), so it leaves its findings as data for
the `workflow_run` companion. That run executed the fork's code, and the fork can forge the whole
file, so the companion trusts nothing in it: every field is checked for type, range and size,
findings must name a file the pull request changes, and nothing rendered travels in the file
(no markdown, no suggestions, no fixes, no notes or status lines): the companion renders the
findings itself, with the same escaping as any review.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from codegrad.model import CheckResult, Evidence, Finding, Kind, Outcome, Severity, Target
from codegrad.settings import ALL_CHECKS

VERSION = 2
CHECKS = frozenset({*ALL_CHECKS, "syntax"})
REPOSITORY_PATH = "."  # findings about the whole test run
MAX_FINDINGS = 500
MAX_TARGETS = 500
MAX_TEXT = 2000  # characters of a message or value
MAX_REPRODUCER = 8000
MAX_LINE = 10_000_000

_SHA = re.compile(r"[0-9a-f]{40}")
_PROPERTY = re.compile(r"[A-Za-z0-9_-]{1,80}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BadReport(ValueError):
    """The artifact is not a codegrad fork report; the message says which field and why."""


# --- out: what the fork's run writes --------------------------------------------------------------


def to_dict(outcome: Outcome, *, number: int, head_sha: str) -> dict[str, Any]:
    """The findings and targets of a review as plain data (nothing rendered, no fixes or notes)."""
    return {
        "version": VERSION,
        "pull_request": number,
        "head_sha": head_sha,
        "base_sha": outcome.base,
        "seconds": round(outcome.seconds, 3),
        "targets": [
            {
                "path": t.path,
                "qualname": t.qualname,
                "lineno": t.lineno,
                "end_lineno": t.end_lineno,
                "decorator_lineno": t.decorator_lineno,
                "changed_lines": list(t.changed_lines),
            }
            for t in outcome.targets
        ],
        "findings": [_finding_out(f) for f in outcome.findings],
    }


def _finding_out(f: Finding) -> dict[str, Any]:
    prop = f.details.get("property")
    return {
        "path": f.path,
        "function": f.function,
        "line": f.line,
        "check": f.check,
        "kind": f.kind.value,
        "severity": f.level.value,
        "message": f.message,
        "input": f.input,
        "expected": f.expected,
        "actual": f.actual,
        "traceback": list(f.traceback),
        "reproduces": f.reproduces,
        "base_fails_same": f.base_fails_same,
        "reproducer": f.reproducer,
        "property": prop if isinstance(prop, str) else None,
    }


# --- in: what the companion accepts ---------------------------------------------------------------


def from_dict(data: Any, *, files: Collection[str]) -> tuple[int, str, Outcome, int]:
    """(PR number, head sha, the outcome, findings dropped for naming no file of the PR)."""
    if not isinstance(data, Mapping):
        raise BadReport("the report is not a JSON object")
    if data.get("version") != VERSION:
        raise BadReport(f"version {data.get('version')!r} is not {VERSION}")
    number = data.get("pull_request")
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise BadReport("pull_request must be a positive integer")
    head = _sha(data.get("head_sha"), "head_sha")
    base = None if data.get("base_sha") is None else _sha(data.get("base_sha"), "base_sha")
    seconds = data.get("seconds", 0)
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 <= seconds < 1e6:
        raise BadReport("seconds must be a number of seconds")
    allowed = set(files) | {REPOSITORY_PATH}
    targets = tuple(
        t
        for t in (
            _target(x, f"targets[{i}]") for i, x in enumerate(_items(data, "targets", MAX_TARGETS))
        )
        if t.path in allowed
    )
    findings = [
        _finding(x, f"findings[{i}]") for i, x in enumerate(_items(data, "findings", MAX_FINDINGS))
    ]
    kept = tuple(f for f in findings if f.path in allowed)
    by_check: dict[str, list[Finding]] = {}
    for f in kept:
        by_check.setdefault(f.check, []).append(f)
    evidence = Evidence(targets, tuple(CheckResult(c, tuple(fs)) for c, fs in by_check.items()))
    outcome = Outcome(base, head, targets, evidence, seconds=float(seconds))
    return number, head, outcome, len(findings) - len(kept)


def _items(data: Mapping[str, Any], key: str, limit: int) -> list[Any]:
    items = data.get(key, [])
    if not isinstance(items, list):
        raise BadReport(f"{key} must be a list")
    if len(items) > limit:
        raise BadReport(f"{key} has {len(items)} entries; at most {limit} are accepted")
    return items


def _sha(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _SHA.fullmatch(value):
        raise BadReport(f"{where} must be a 40-character commit sha")
    return value


def _text(value: Any, where: str, limit: int = MAX_TEXT, *, optional: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise BadReport(f"{where} must be text")
    text: str = value
    return text if len(text) <= limit else text[:limit] + "… (cut)"


def _name(value: Any, where: str) -> str:
    text = _text(value, where, 300, optional=False)
    assert text is not None
    if not text or _CONTROL.search(text):
        raise BadReport(f"{where} must be a non-empty name without control characters")
    return text


def _path(value: Any, where: str) -> str:
    path = _name(value, where)
    if path != REPOSITORY_PATH and (
        path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in path.split("/"))
    ):
        raise BadReport(f"{where} must be a path inside the repository")
    return path


def _line(value: Any, where: str, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_LINE:
        raise BadReport(f"{where} must be a line number")
    return value


def _flag(value: Any, where: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise BadReport(f"{where} must be true, false or null")
    return value


def _target(data: Any, where: str) -> Target:
    if not isinstance(data, Mapping):
        raise BadReport(f"{where} must be an object")
    lines = data.get("changed_lines", [])
    if not isinstance(lines, list) or len(lines) > 10_000:
        raise BadReport(f"{where}.changed_lines must be a list of line numbers")
    lineno = _line(data.get("lineno"), f"{where}.lineno")
    end = _line(data.get("end_lineno"), f"{where}.end_lineno")
    assert lineno is not None and end is not None
    return Target(
        path=_path(data.get("path"), f"{where}.path"),
        qualname=_name(data.get("qualname"), f"{where}.qualname"),
        lineno=lineno,
        end_lineno=end,
        source="",
        changed_lines=tuple(int(_line(n, f"{where}.changed_lines") or 0) for n in lines),
        decorator_lineno=_line(
            data.get("decorator_lineno"), f"{where}.decorator_lineno", optional=True
        ),
    )


def _finding(data: Any, where: str) -> Finding:
    if not isinstance(data, Mapping):
        raise BadReport(f"{where} must be an object")
    check = data.get("check")
    if check not in CHECKS:
        raise BadReport(f"{where}.check must be one of {', '.join(sorted(CHECKS))}")
    try:
        kind = Kind(data.get("kind"))
        severity = Severity(data.get("severity") or "")
    except ValueError:
        raise BadReport(f"{where}.kind or severity is not one codegrad reports") from None
    traceback = data.get("traceback", [])
    if not isinstance(traceback, list) or len(traceback) > 50:
        raise BadReport(f"{where}.traceback must be a list of at most 50 lines")
    prop = data.get("property")
    if prop is not None and (not isinstance(prop, str) or not _PROPERTY.fullmatch(prop)):
        raise BadReport(f"{where}.property must be a short name")
    line = _line(data.get("line"), f"{where}.line")
    assert line is not None
    return Finding(
        path=_path(data.get("path"), f"{where}.path"),
        function=_name(data.get("function"), f"{where}.function"),
        line=line,
        check=str(check),
        kind=kind,
        message=_text(data.get("message"), f"{where}.message", optional=False) or "",
        severity=severity,
        input=_text(data.get("input"), f"{where}.input"),
        expected=_text(data.get("expected"), f"{where}.expected"),
        actual=_text(data.get("actual"), f"{where}.actual"),
        traceback=tuple(
            _text(t, f"{where}.traceback", 300, optional=False) or "" for t in traceback
        ),
        reproduces=_flag(data.get("reproduces"), f"{where}.reproduces"),
        base_fails_same=_flag(data.get("base_fails_same"), f"{where}.base_fails_same"),
        reproducer=_text(data.get("reproducer"), f"{where}.reproducer", MAX_REPRODUCER),
        details={"property": prop} if prop else {},
    )
