"""The shared vocabulary: targets, findings, evidence, loss, candidates and outcomes."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

INTERNAL_NOTE = "internal error"  # a run-level note that starts so is a break in codegrad itself
NO_LLM_NOTE = "--fix asked for, but no LLM is configured (set OPENAI_API_KEY or --llm-base-url)"
# An LLM endpoint that failed for the whole run (unreachable, 5xx/429 after every retry, timeouts,
# a refused key or model): stop reasons and notes about it start so; the findings stand without it.
LLM_OUTAGE = "LLM unavailable"
LLM_BUDGET_NOTE = "LLM budget reached"


class Severity(str, enum.Enum):
    """How much a finding matters; `fail_on` compares against this order."""

    NOTE = "note"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.NOTE: 1, Severity.WARNING: 2, Severity.ERROR: 3}


class Kind(str, enum.Enum):
    """What a finding says about the code."""

    BUG = "bug"  # a stated expectation (docstring example, annotation, property) is violated
    REGRESSION = "regression"  # a project test that passes on base fails on head
    PRE_EXISTING = "pre-existing"  # fails on base the same way; not introduced by the change
    CRASH = "crash"  # unexpected exception on valid input
    TIMEOUT = "timeout"  # did not finish within the time budget
    SYNTAX = "syntax"  # the changed file no longer parses
    BEHAVIOUR_CHANGE = "behaviour-change"  # base and head differ on the same input
    PERFORMANCE_REGRESSION = "performance-regression"
    COMPLEXITY_BOUND = "complexity-bound"
    BAD_TEST = "bad-test"  # a generated or proposed test contradicted by known-good evidence
    ERROR = "error"  # the check itself could not run (import error, harness failure)


DEFAULT_SEVERITY: dict[Kind, Severity] = {
    Kind.BUG: Severity.ERROR,
    Kind.REGRESSION: Severity.ERROR,
    Kind.PRE_EXISTING: Severity.WARNING,
    Kind.CRASH: Severity.ERROR,
    Kind.TIMEOUT: Severity.ERROR,
    Kind.SYNTAX: Severity.ERROR,
    Kind.BEHAVIOUR_CHANGE: Severity.NOTE,
    Kind.PERFORMANCE_REGRESSION: Severity.ERROR,
    Kind.COMPLEXITY_BOUND: Severity.WARNING,
    Kind.BAD_TEST: Severity.NOTE,
    Kind.ERROR: Severity.WARNING,
}


@dataclass(frozen=True)
class Target:
    """One function that the change touched, with its head and (if any) base source."""

    path: str  # repo-relative POSIX path in head
    qualname: str  # "func", "Class.method", "outer.inner"
    lineno: int  # first line of the def (decorators excluded) in head, 1-based
    end_lineno: int
    source: str  # the function's source in head, decorators included, as in the file
    changed_lines: tuple[int, ...] = ()  # head line numbers inside the function that changed
    base_path: str | None = None  # repo-relative path in base (differs when renamed)
    base_source: str | None = None  # None when the function is new
    base_lineno: int | None = None
    decorator_lineno: int | None = None  # first decorator line, if decorated
    is_async: bool = False
    kind: str = "function"  # function | method | staticmethod | classmethod | property | nested
    class_name: str | None = None
    docstring: str | None = None

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]

    @property
    def is_new(self) -> bool:
        return self.base_source is None

    @property
    def key(self) -> str:
        return f"{self.path}::{self.qualname}"


@dataclass(frozen=True)
class Finding:
    """One verified problem (or note) about one target, with everything needed to act on it."""

    path: str
    function: str
    line: int
    check: str
    kind: Kind
    message: str
    severity: Severity | None = None  # None -> DEFAULT_SEVERITY[kind]
    input: str | None = None  # the minimal input as a call, e.g. "f([1, 2], k=0)"
    expected: str | None = None
    actual: str | None = None
    traceback: tuple[str, ...] = ()  # traceback lines inside the target ("file:line: code")
    reproduces: bool | None = None
    base_fails_same: bool | None = None
    reproducer: str | None = None  # a pytest test as source text
    details: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def level(self) -> Severity:
        return self.severity if self.severity is not None else DEFAULT_SEVERITY[self.kind]

    @property
    def fingerprint(self) -> str:
        """Stable identity across runs and candidates: what failed, not where the lines moved."""
        raw = "\x1f".join(
            [
                self.path,
                self.function,
                self.check,
                self.kind.value,
                self.input or "",
                self.message if self.input is None else "",
            ]
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        data["severity"] = self.level.value
        data["traceback"] = list(self.traceback)
        data["fingerprint"] = self.fingerprint
        return data


@dataclass(frozen=True)
class Workspace:
    """Checked-out trees to verify: head always, base when the change has one."""

    head_root: Path
    base_root: Path | None = None
    repo_root: Path | None = None  # the user's repository (never written to)

    @property
    def trees(self) -> tuple[Path, ...]:
        """The exported trees that sandboxed runs read (never the user's repository)."""
        return (self.head_root,) if self.base_root is None else (self.head_root, self.base_root)


@dataclass(frozen=True)
class CheckResult:
    """What one check produced for a batch of targets, plus what it could not decide."""

    check: str
    findings: tuple[Finding, ...] = ()
    checked: tuple[str, ...] = ()  # target keys this check actually verified
    skipped: dict[str, str] = field(default_factory=dict)  # target key -> why not
    seconds: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Evidence:
    """All check results for one change."""

    targets: tuple[Target, ...]
    results: tuple[CheckResult, ...]

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for r in self.results for f in r.findings)

    def for_target(self, target: Target) -> tuple[Finding, ...]:
        return tuple(
            f for f in self.findings if f.path == target.path and f.function == target.qualname
        )


@dataclass(frozen=True)
class Loss:
    """Counts of findings by check and kind, plus the weighted total the loop minimises."""

    total: float
    by_check: dict[str, int]
    by_kind: dict[str, int]
    count: int

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> Loss:
        by_check: dict[str, int] = {}
        by_kind: dict[str, int] = {}
        total = 0.0
        count = 0
        for f in findings:
            by_check[f.check] = by_check.get(f.check, 0) + 1
            by_kind[f.kind.value] = by_kind.get(f.kind.value, 0) + 1
            total += LOSS_WEIGHT[f.level]
            count += 1
        return cls(total=total, by_check=by_check, by_kind=by_kind, count=count)


LOSS_WEIGHT = {Severity.ERROR: 1.0, Severity.WARNING: 0.25, Severity.NOTE: 0.05}


@dataclass(frozen=True)
class Fix:
    """A refined version of one target function, with what it fixed and what remains."""

    path: str
    function: str
    verified: bool
    diff: str
    source: str
    iterations: int
    fixed: tuple[Finding, ...] = ()
    remaining: tuple[Finding, ...] = ()
    added: tuple[Finding, ...] = ()
    tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    stop_reason: str = ""
    tests: str | None = None  # regression tests proving the fix, as pytest source
    file_sha256: str | None = None  # the reviewed file the fix was made for; --apply checks it

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "function": self.function,
            "verified": self.verified,
            "diff": self.diff,
            "source": self.source,
            "iterations": self.iterations,
            "fixed": [f.to_dict() for f in self.fixed],
            "remaining": [f.to_dict() for f in self.remaining],
            "added": [f.to_dict() for f in self.added],
            "tokens": self.tokens,
            "cost_usd": round(self.cost_usd, 6),
            "calls": self.calls,
            "stop_reason": self.stop_reason,
            "tests": self.tests,
            "file_sha256": self.file_sha256,
        }


@dataclass(frozen=True)
class Outcome:
    """The result of a review: what was checked, what was found, what was fixed."""

    base: str | None  # resolved base commit (None for whole-repo hardening without base)
    head: str
    targets: tuple[Target, ...]
    evidence: Evidence
    fixes: tuple[Fix, ...] = ()
    notes: tuple[str, ...] = ()  # run-level notes: budget hits, skipped files, ...
    seconds: float = 0.0
    tree: str = "commit"  # what head is: "commit", "worktree" (files on disk) or "index" (staged)
    nothing_checked: str | None = None  # why no function was checked, when none was

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.evidence.findings

    @property
    def internal_errors(self) -> tuple[str, ...]:
        """The notes that report a break in codegrad itself (they make the exit status 3)."""
        return tuple(n for n in self.notes if n.startswith(INTERNAL_NOTE))

    @property
    def llm_failures(self) -> tuple[str, ...]:
        """The notes that say the LLM failed or its budget ran out (only fixes were lost)."""
        return tuple(n for n in self.notes if LLM_OUTAGE in n or LLM_BUDGET_NOTE in n)


def worst(findings: Sequence[Finding]) -> Severity | None:
    """The highest severity among findings, or None when there are none."""
    return max((f.level for f in findings), key=lambda s: s.rank, default=None)
