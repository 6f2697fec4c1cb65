"""Findings grouped by root cause: one problem seen by several checks is one item, evidence listed once.

Within one function, findings are one cause when they share the input (a wrong value from the
docstring example and the behaviour change on that same call), when they are hangs (one loop that
never ends shows up in every check that calls the function), or when they are the same exception
raised at the same line. The primary finding (most severe, then the most direct evidence) speaks
for the cause; the others are listed as evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from codegrad.model import Finding, Kind, Severity

# Most direct evidence first: a stated expectation, a test, a generated property, a comparison.
KIND_ORDER = (
    Kind.SYNTAX,
    Kind.BUG,
    Kind.REGRESSION,
    Kind.CRASH,
    Kind.TIMEOUT,
    Kind.PERFORMANCE_REGRESSION,
    Kind.COMPLEXITY_BOUND,
    Kind.PRE_EXISTING,
    Kind.ERROR,
    Kind.BEHAVIOUR_CHANGE,
    Kind.BAD_TEST,
)
CHECK_ORDER = (
    "docstrings",
    "project-tests",
    "properties",
    "llm-checks",
    "differential",
    "efficiency",
)
_RAISED = re.compile(
    r"^\s*(?:raised|raises)?\s*([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)\b)"
)


@dataclass(frozen=True)
class Cause:
    """Findings on one function that share a root cause; the primary one first."""

    findings: tuple[Finding, ...]

    @property
    def primary(self) -> Finding:
        return self.findings[0]

    @property
    def evidence(self) -> tuple[Finding, ...]:
        return self.findings[1:]

    @property
    def level(self) -> Severity:
        return max((f.level for f in self.findings), key=lambda s: s.rank)

    @property
    def path(self) -> str:
        return self.primary.path

    @property
    def function(self) -> str:
        return self.primary.function

    def base_result(self) -> str | None:
        """What base does on the primary input, when a comparison in this cause says so."""
        for f in self.findings:
            if f.check == "differential" and f.expected and f.input == self.primary.input:
                return f.expected
        return None


def importance(finding: Finding) -> tuple[int, int, int, int]:
    """Sort key for the primary finding: most severe, then the most direct kind and check."""
    kind = KIND_ORDER.index(finding.kind) if finding.kind in KIND_ORDER else len(KIND_ORDER)
    check = CHECK_ORDER.index(finding.check) if finding.check in CHECK_ORDER else len(CHECK_ORDER)
    return (-finding.level.rank, kind, check, finding.line)


def raised_type(finding: Finding) -> str | None:
    """The exception class a crash reports ("ZeroDivisionError"), or None."""
    if finding.kind is not Kind.CRASH or not finding.actual:
        return None
    match = _RAISED.match(finding.actual)
    return match.group(1) if match else None


def _keys(finding: Finding) -> list[str]:
    """What ties a finding to others of the same function: its input, a hang, a raise site."""
    keys = []
    if finding.input:
        keys.append("input:" + " ".join(finding.input.split()))
    if finding.kind is Kind.TIMEOUT:
        keys.append("hang")
    raised = raised_type(finding)
    if raised and finding.traceback:
        keys.append(f"raise:{raised}:{finding.traceback[-1].strip()}")
    return keys


def root_causes(findings: Iterable[Finding]) -> list[Cause]:
    """Causes in the order of their first finding; duplicates (same fingerprint) dropped."""
    unique: list[Finding] = []
    seen: set[str] = set()
    for f in findings:
        if f.fingerprint not in seen:
            seen.add(f.fingerprint)
            unique.append(f)
    parent = list(range(len(unique)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[tuple[str, str, str], int] = {}
    for i, f in enumerate(unique):
        for key in _keys(f):
            j = owner.setdefault((f.path, f.function, key), i)
            parent[find(i)] = find(j)
    groups: dict[int, list[Finding]] = {}  # in the order of each cause's first finding
    for i, f in enumerate(unique):
        groups.setdefault(find(i), []).append(f)
    return [Cause(tuple(sorted(group, key=importance))) for group in groups.values()]


def checks_of(findings: Sequence[Finding]) -> list[str]:
    """The distinct checks among findings, in the order they first appear."""
    return list(dict.fromkeys(f.check for f in findings))
