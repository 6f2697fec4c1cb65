"""Whole-repository targets: discovery with include/exclude, risk priority and the budget cut (pure)."""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from codegrad import funcsource
from codegrad.diff import changes
from codegrad.model import Finding, Target

SKIPPED_KINDS = frozenset({"nested"})  # inner defs cannot be imported and called on their own
_OVERLOAD = frozenset({"overload"})
DEFAULT_ESTIMATE = 2.0  # seconds one function costs when nothing is known about it

# weights of the risk score (higher runs first)
W_KNOWN = 4.0  # had findings the last time it was verified
W_UNCOVERED = 3.0  # no test of the project runs it
W_UNKNOWN_COVERAGE = 1.0  # no coverage data at all for it
W_COMPLEXITY = 1.0  # times log2(1 + cyclomatic complexity)
W_CHURN = 1.0  # times log2(1 + commits that touched the file recently)


# ---------------------------------------------------------------- discovery


def is_python(path: str) -> bool:
    return path.endswith(".py")


def wanted(path: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Whether a repo-relative path is a Python file the include/exclude globs select."""
    return is_python(path) and changes.matches(path, include) and not changes.matches(path, exclude)


def _is_overload(target: Target) -> bool:
    node = funcsource.parse_def(target.source)
    if node is None:
        return False
    return any(_last_name(d) in _OVERLOAD for d in node.decorator_list)


def _last_name(node: ast.expr) -> str:
    """`typing.overload` -> overload; calls are looked through."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def discover(
    files: Mapping[str, str], *, include: Sequence[str], exclude: Sequence[str]
) -> tuple[list[Target], list[Finding]]:
    """Every function worth verifying in the selected files, and SYNTAX findings for files that do
    not parse. Nested defs and @overload stubs are left out; a repeated qualname keeps its first def."""
    found: list[Target] = []
    broken: list[Finding] = []
    for path in sorted(files):
        if not wanted(path, include, exclude):
            continue
        try:
            functions = changes.all_functions(path, files[path])
        except SyntaxError:
            finding = changes.syntax_finding(path, files[path])
            broken += [finding] if finding else []
            continue
        seen: set[str] = set()
        for target in functions:
            if target.kind in SKIPPED_KINDS or target.qualname in seen or _is_overload(target):
                continue
            seen.add(target.qualname)
            found.append(target)
    return found, broken


# ---------------------------------------------------------------- risk signals


_BRANCHES = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.IfExp,
    ast.ExceptHandler,
    ast.With,
    ast.AsyncWith,
    ast.Assert,
    ast.comprehension,
)


def complexity(source: str) -> int:
    """McCabe-style cyclomatic complexity of a function's source (1 when it does not parse)."""
    node = funcsource.parse_def(source)
    if node is None:
        return 1
    score = 1
    for sub in ast.walk(node):
        if isinstance(sub, _BRANCHES):
            score += 1
            if isinstance(sub, ast.comprehension):
                score += len(sub.ifs)
        elif isinstance(sub, ast.BoolOp):
            score += len(sub.values) - 1
        elif isinstance(sub, ast.match_case):
            score += 1
    return score


def churn_counts(log: str) -> dict[str, int]:
    """Commits per path from `git log --format=%x00 --name-only` output (one NUL line per commit)."""
    counts: dict[str, int] = {}
    for commit in log.split("\0"):
        for path in {line.strip() for line in commit.splitlines() if line.strip()}:
            counts[path] = counts.get(path, 0) + 1
    return counts


def coverage_from_json(data: Mapping[str, object], targets: Iterable[Target]) -> dict[str, int]:
    """Target key -> how many tests run it, from a coverage.py JSON report (`coverage json
    --show-contexts`); without contexts, 1 when any body line ran, else 0. Keys of functions in
    files the report does not know are left out (unknown, not uncovered)."""
    files = data.get("files")
    if not isinstance(files, Mapping):
        return {}
    by_path = {str(p).replace("\\", "/").removeprefix("./"): v for p, v in files.items()}
    out: dict[str, int] = {}
    for target in targets:
        entry = _coverage_entry(by_path, target.path)
        if entry is None:
            continue
        first, last = _body_lines(target)
        contexts = entry.get("contexts")
        if isinstance(contexts, Mapping) and contexts:
            tests: set[str] = set()
            for line, names in contexts.items():
                if first <= int(line) <= last and isinstance(names, list):
                    tests.update(str(n) for n in names if n)
            out[target.key] = len(tests)
        else:
            executed = entry.get("executed_lines") or []
            ran = isinstance(executed, list) and any(first <= int(n) <= last for n in executed)
            out[target.key] = 1 if ran else 0
    return out


def _coverage_entry(by_path: Mapping[str, object], path: str) -> Mapping[str, object] | None:
    for known, entry in by_path.items():
        if (known == path or known.endswith("/" + path)) and isinstance(entry, Mapping):
            return entry
    return None


def _body_lines(target: Target) -> tuple[int, int]:
    """The lines after the def line (the def line itself runs at import time)."""
    first = target.lineno + 1 if target.end_lineno > target.lineno else target.lineno
    return first, target.end_lineno


# ---------------------------------------------------------------- priority


@dataclass(frozen=True)
class Risk:
    """Why a target runs early: the signals and the score made of them."""

    key: str
    score: float
    complexity: int
    churn: int
    tests: int | None  # covering tests; None when no coverage data knows the function
    known_findings: bool

    def reasons(self) -> list[str]:
        out = []
        if self.known_findings:
            out.append("had findings before")
        if self.tests == 0:
            out.append("no covering test")
        elif self.tests is None:
            out.append("coverage unknown")
        out.append(f"complexity {self.complexity}")
        if self.churn:
            out.append(f"{self.churn} recent commit(s)")
        return out


def risk(
    target: Target,
    *,
    tests: Mapping[str, int],
    churn: Mapping[str, int],
    known: Iterable[str] = (),
) -> Risk:
    """The risk score of one target from coverage, complexity, churn and earlier findings."""
    count = tests.get(target.key)
    cyclomatic = complexity(target.source)
    commits = churn.get(target.path, 0)
    had = target.key in set(known)
    score = (
        (W_KNOWN if had else 0.0)
        + (W_UNCOVERED if count == 0 else W_UNKNOWN_COVERAGE if count is None else 0.0)
        + W_COMPLEXITY * math.log2(1 + cyclomatic)
        + W_CHURN * math.log2(1 + commits)
    )
    return Risk(target.key, round(score, 6), cyclomatic, commits, count, had)


def rank(
    targets: Sequence[Target],
    *,
    tests: Mapping[str, int] | None = None,
    churn: Mapping[str, int] | None = None,
    known: Iterable[str] = (),
) -> list[tuple[Target, Risk]]:
    """Targets riskiest first; ties by path and line so every shard sees the same order."""
    known_set = set(known)
    scored = [(t, risk(t, tests=tests or {}, churn=churn or {}, known=known_set)) for t in targets]
    return sorted(scored, key=lambda tr: (-tr[1].score, tr[0].path, tr[0].lineno, tr[0].qualname))


# ---------------------------------------------------------------- budget


@dataclass(frozen=True)
class Cut:
    """What fits the budget, and why the rest does not."""

    chosen: tuple[Target, ...]
    dropped: dict[str, str]  # target key -> why it was left for a later run


def cut(
    ranked: Sequence[Target],
    *,
    max_functions: int | None = None,
    budget_seconds: float | None = None,
    estimate: Mapping[str, float] | None = None,
    overhead: float = 0.0,
    default_estimate: float = DEFAULT_ESTIMATE,
) -> Cut:
    """Keep the riskiest targets within a function count and an estimated time (seconds per target
    from `estimate`, else `default_estimate`, after a fixed `overhead`); the first always fits."""
    chosen: list[Target] = []
    dropped: dict[str, str] = {}
    spent = overhead
    for target in ranked:
        if max_functions is not None and len(chosen) >= max_functions:
            dropped[target.key] = f"over the budget of {max_functions} function(s) per run"
            continue
        cost = (estimate or {}).get(target.key, default_estimate)
        if budget_seconds is not None and chosen and spent + cost > budget_seconds:
            dropped[target.key] = f"over the time budget of {budget_seconds:g} s per run"
            continue
        chosen.append(target)
        spent += cost
    return Cut(tuple(chosen), dropped)
