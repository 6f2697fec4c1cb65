"""Evidence -> loss and the textual pseudo-gradient: per-function reports and precise feedback."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from codegrad import markup
from codegrad.model import Finding, Kind, Loss, Outcome, Severity, Target

CORRECTNESS = "Correctness"
FORMAT = "Input/output format"
EDGES = "Edge cases and invariants"
EFFICIENCY = "Efficiency"
SECTIONS = (CORRECTNESS, FORMAT, EDGES, EFFICIENCY)

CLEAN = "No findings: nothing to change."
VALUE_LIMIT = 240  # characters kept of one input / expected / actual value
MESSAGE_LIMIT = 400  # characters kept of a finding's message
TRACEBACK_LINES = 6  # innermost traceback lines kept
PER_CHECK_LIMIT = 5  # findings spelled out per check in one section; the rest are counted

KIND_TITLE: dict[Kind, str] = {
    Kind.BUG: "Bug",
    Kind.REGRESSION: "Regression",
    Kind.PRE_EXISTING: "Pre-existing failure",
    Kind.CRASH: "Crash",
    Kind.TIMEOUT: "Timeout",
    Kind.SYNTAX: "Syntax error",
    Kind.BEHAVIOUR_CHANGE: "Behaviour change",
    Kind.PERFORMANCE_REGRESSION: "Performance regression",
    Kind.COMPLEXITY_BOUND: "Complexity bound exceeded",
    Kind.BAD_TEST: "Doubtful generated test",
    Kind.ERROR: "Check error",
}

_EFFICIENCY_KINDS = frozenset({Kind.PERFORMANCE_REGRESSION, Kind.COMPLEXITY_BOUND})
_FORMAT_WORDS = re.compile(
    r"\b(types?|format|shape|schema|signature|encoding|annotation|return[- ]type)\b"
)
_INVARIANT_WORDS = re.compile(
    r"(idempot|round[- ]?trip|invariant|commut|monoton|symmetr|edge|boundary|empty|no[- ]crash)"
)


@dataclass(frozen=True)
class FunctionReport:
    """One target with its loss and its findings, most severe first."""

    target: Target
    loss: Loss
    findings: tuple[Finding, ...]

    @property
    def gradient(self) -> str:
        return textual_gradient(self.target, self.findings)


def loss(findings: Iterable[Finding]) -> Loss:
    """Counts by check and kind plus the weighted total the refinement loop minimises."""
    return Loss.of(findings)


def finding_order(finding: Finding) -> tuple[int, int, str, str, str, str]:
    """Sort key: most severe first, then by line, then stable tie-breakers."""
    return (
        -finding.level.rank,
        finding.line,
        finding.check,
        finding.kind.value,
        finding.input or "",
        finding.message,
    )


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Findings most severe first, then by line (deterministic)."""
    return tuple(sorted(findings, key=finding_order))


def per_function(
    source: Outcome | tuple[Sequence[Target], Sequence[Finding]],
) -> list[FunctionReport]:
    """One report per target (in path and line order); findings on no known target get their own."""
    targets: Sequence[Target]
    findings: Sequence[Finding]
    if isinstance(source, Outcome):
        targets, findings = source.targets, source.findings
    else:
        targets, findings = source
    by_key: dict[str, list[Finding]] = {}
    for finding in findings:
        by_key.setdefault(f"{finding.path}::{finding.function}", []).append(finding)
    known = {t.key: t for t in targets}
    for key, group in by_key.items():
        if key not in known:
            known[key] = _placeholder_target(group[0])
    reports = [
        FunctionReport(
            target=t, loss=loss(by_key.get(k, ())), findings=sort_findings(by_key.get(k, ()))
        )
        for k, t in known.items()
    ]
    return sorted(reports, key=lambda r: (r.target.path, r.target.lineno, r.target.qualname))


def _placeholder_target(finding: Finding) -> Target:
    """A stand-in target for findings whose function is not among the checked targets."""
    line = max(1, finding.line)
    return Target(
        path=finding.path, qualname=finding.function, lineno=line, end_lineno=line, source=""
    )


def counts_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    """Counts for every severity (zeros included), most severe first."""
    counts = {s.value: 0 for s in sorted(Severity, key=lambda s: -s.rank)}
    for f in findings:
        counts[f.level.value] += 1
    return counts


def verdict(findings: Iterable[Finding]) -> str:
    """ "clean" when there are no findings, otherwise the worst severity ("error", "warning", "note")."""
    ranked = [f.level for f in findings]
    if not ranked:
        return "clean"
    return max(ranked, key=lambda s: s.rank).value


def section_of(finding: Finding) -> str:
    """Which gradient section a finding belongs to.

    An explicit `details["section"]` naming one of SECTIONS wins; efficiency kinds go to
    Efficiency; a property or category about types/format goes to Input/output format;
    property-based evidence, invariants and doubtful generated tests go to Edge cases and
    invariants; everything else is Correctness.
    """
    explicit = finding.details.get("section")
    if isinstance(explicit, str) and explicit in SECTIONS:
        return explicit
    if finding.kind in _EFFICIENCY_KINDS:
        return EFFICIENCY
    label = " ".join(str(finding.details.get(key, "")) for key in ("property", "category")).lower()
    generated = finding.check in ("properties", "llm-checks")
    if _FORMAT_WORDS.search(label) or (generated and _FORMAT_WORDS.search(finding.message.lower())):
        return FORMAT
    if generated or finding.kind is Kind.BAD_TEST or _INVARIANT_WORDS.search(label):
        return EDGES
    return CORRECTNESS


# --- text helpers -------------------------------------------------------------------------------


def one_line(text: str) -> str:
    """Line breaks shown as \\n (and control characters as \\uXXXX) so that a value stays on one line."""
    return markup.one_line(text)


def clip(text: str, limit: int = VALUE_LIMIT) -> str:
    """Text of at most about `limit` characters: head … tail, with the original length noted."""
    return markup.clip(text, limit)


def inline_code(text: str) -> str:
    """A one-line markdown code span that survives backticks and line breaks inside the text."""
    return markup.code(text)


def value(text: str, limit: int = VALUE_LIMIT) -> str:
    """A value (input, expected, actual) as a clipped one-line code span."""
    return markup.code(text, limit)


def plural(n: int, word: str, many: str | None = None) -> str:
    """ "1 error", "2 errors"; `many` for irregular plurals."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def result_phrase(text: str, *, verb: str = "returns", limit: int = VALUE_LIMIT) -> str:
    """A recorded result as a verb phrase: "raises `E: m`", "returns `3`", "does not finish …".

    Checks record results as "returned 3", "raised ValueError: bad n" or "did not finish in time";
    a bare value takes `verb` ("returns" unless the caller knows better).
    """
    stripped = text.strip()
    for prefix, present in (("returned ", "returns"), ("raised ", "raises")):
        if stripped.startswith(prefix):
            return f"{present} {value(stripped[len(prefix) :], limit)}"
    if stripped.startswith("did not finish"):
        rest = stripped[len("did not finish") :].strip(" ;,")
        return "does not finish" + (f" ({markup.text(rest, limit)})" if rest else "")
    return f"{verb} {value(stripped, limit)}"


# --- feedback -----------------------------------------------------------------------------------


def feedback(finding: Finding) -> str:
    """One self-contained paragraph that says what failed, on what input, and where to look."""
    parts = [_lead(finding)]
    if finding.input:
        parts.append(f"Minimal input: {value(finding.input)}.")
    parts.extend(_expected_actual(finding))
    if finding.traceback:
        parts.append(_traceback_sentence(finding.traceback))
    parts.extend(s for s in (_base_sentence(finding), _reproduces_sentence(finding)) if s)
    parts.append(f"Hint: {_hint(finding)}")
    return " ".join(parts)


def _lead(f: Finding) -> str:
    message = value(f.message.strip(), MESSAGE_LIMIT) if f.message.strip() else "(no message)"
    where = f"{inline_code(f.function)} ({inline_code(f'{f.path}:{f.line}')})"
    return f"[{f.level.value}] {KIND_TITLE[f.kind]} in {where}, found by {f.check}: {message}."


def _expected_actual(f: Finding) -> list[str]:
    if f.kind is Kind.BEHAVIOUR_CHANGE and f.expected is not None and f.actual is not None:
        return [f"Base {result_phrase(f.expected)}; head {result_phrase(f.actual)}."]
    out = []
    if f.expected is not None:
        out.append(f"Expected: {value(f.expected)}.")
    if f.actual is not None:
        out.append(f"Actual: {value(f.actual)}.")
    return out


def _traceback_sentence(lines: Sequence[str]) -> str:
    kept = list(lines[-TRACEBACK_LINES:])
    skipped = len(lines) - len(kept)
    shown = "; ".join(value(line.strip(), 160) for line in kept)
    more = f" ({skipped} outer lines omitted)" if skipped else ""
    return f"Traceback inside the target, innermost last{more}: {shown}."


def _base_sentence(f: Finding) -> str:
    if f.kind is Kind.BEHAVIOUR_CHANGE:
        return "This is a behaviour change against base, not necessarily a bug."
    if f.base_fails_same is True:
        return "Base fails the same way: pre-existing, not introduced by this change."
    if f.base_fails_same is False:
        return "Base does not fail this way: introduced by this change."
    return ""


def _reproduces_sentence(f: Finding) -> str:
    if f.reproduces is True:
        return "It reproduces on a re-run."
    if f.reproduces is False:
        return "It did not reproduce on a re-run (flaky or environment-dependent)."
    return ""


def _hint(f: Finding) -> str:
    """What to look at, by kind; phrased with the finding's own values where it has them."""
    call = value(f.input) if f.input else "the failing input"
    got = value(f.actual) if f.actual is not None else "a different result"
    does = result_phrase(f.actual, verb="raises") if f.actual is not None else "raises"
    gives = result_phrase(f.actual) if f.actual is not None else "gives a different result"
    want = value(f.expected) if f.expected is not None else "the stated result"
    innermost = value(f.traceback[-1].strip(), 160) if f.traceback else ""
    if f.kind is Kind.BUG and f.check == "docstrings":
        return f"the function returned {got} for {call}; the docstring example says {want}."
    hints: dict[Kind, str] = {
        Kind.BUG: f"for {call} the function {gives} where {want} is expected; follow that input through the changed lines.",
        Kind.REGRESSION: f"this passes on base and fails on head; compare what the change did to the path {call} takes.",
        Kind.PRE_EXISTING: "base fails the same way; fixing it is welcome but not required by this change.",
        Kind.CRASH: f"valid input {call} {does}"
        + (f" at {innermost}" if innermost else "")
        + "; handle that case instead of letting it raise.",
        Kind.TIMEOUT: f"{call} does not finish in time; look for a loop that never ends or grows too fast.",
        Kind.SYNTAX: f"the file no longer parses; fix the syntax at line {f.line} first, nothing else can run.",
        Kind.BEHAVIOUR_CHANGE: "keep the new behaviour if it is intended (and update the docs and tests), otherwise restore base's.",
        Kind.PERFORMANCE_REGRESSION: f"cost grows faster than on base ({got} vs {want}); look for nested loops or repeated work added by the change.",
        Kind.COMPLEXITY_BOUND: f"measured growth {got} exceeds the stated bound {want}; reduce the work per element.",
        Kind.BAD_TEST: "known-good evidence contradicts this generated test, so the test is likely wrong; do not change the code for it alone.",
        Kind.ERROR: "the check could not run; if the change caused it (import error, missing name), fix that first.",
    }
    return hints[f.kind]


# --- the gradient -------------------------------------------------------------------------------


def textual_gradient(target: Target, findings: Sequence[Finding]) -> str:
    """The whole gradient for one function: one section per kind of evidence, empty ones omitted."""
    if not findings:
        return CLEAN
    ordered = sort_findings(findings)
    total = loss(ordered)
    counts = ", ".join(plural(n, s) for s, n in counts_by_severity(ordered).items() if n)
    blocks = [
        f"Gradient for {inline_code(target.qualname)} ({inline_code(f'{target.path}:{target.lineno}')}): "
        f"loss {total.total:.2f} from {plural(total.count, 'finding')} ({counts})."
    ]
    for name in SECTIONS:
        members = [f for f in ordered if section_of(f) == name]
        if members:
            blocks.append(_section(name, members))
    return "\n\n".join(blocks)


def _section(name: str, findings: Sequence[Finding]) -> str:
    by_check: dict[str, list[Finding]] = {}
    for f in findings:
        by_check.setdefault(f.check, []).append(f)
    lines = [f"**{name}**"]
    for check in sorted(by_check, key=lambda c: (finding_order(by_check[c][0]), c)):
        group = by_check[check]
        lines.append("")
        lines.append(f"*{check}* ({len(group)}):")
        lines.extend(f"- {feedback(f)}" for f in group[:PER_CHECK_LIMIT])
        if len(group) > PER_CHECK_LIMIT:
            lines.append(f"- … and {len(group) - PER_CHECK_LIMIT} more from {check} like these.")
    return "\n".join(lines)
