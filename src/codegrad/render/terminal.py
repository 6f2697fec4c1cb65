"""The terminal report: one line per finding, its input and expected/actual below, a summary line.

Colours only when asked (the caller decides: a terminal, and no NO_COLOR). Everything that came
from the change (messages, values, paths) is shown with control characters escaped, so a value
cannot move the cursor, retitle the window or hide text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from codegrad import gradient
from codegrad.gradient import FunctionReport, plural
from codegrad.model import Finding, Fix, Kind, Outcome
from codegrad.render.scope import compared, unverified

VALUE_LIMIT = 160  # characters kept of one input / expected / actual value
MESSAGE_LIMIT = 300
INDENT = "    "

_RESET = "\x1b[0m"
_STYLES = {
    "error": "\x1b[1;31m",
    "warning": "\x1b[33m",
    "note": "\x1b[36m",
    "path": "\x1b[1m",
    "dim": "\x1b[2m",
    "clean": "\x1b[32m",
}


@dataclass(frozen=True)
class Style:
    """How to paint: colours on or off, and whether to add gradients, tracebacks and reproducers."""

    color: bool = False
    verbose: bool = False

    def paint(self, text: str, style: str) -> str:
        return f"{_STYLES[style]}{text}{_RESET}" if self.color else text


def render(outcome: Outcome, style: Style | None = None) -> str:
    """The whole report as terminal text ending in a newline."""
    style = style or Style()
    reports = gradient.per_function(outcome)
    lines: list[str] = []
    for report in reports:
        if report.findings:
            lines += _function_lines(report, style)
    for fix in sorted(outcome.fixes, key=lambda x: (x.path, x.function)):
        lines += _fix_lines(fix, style)
    for note in _notes(outcome, style):
        lines.append(style.paint("note: ", "dim") + safe(note))
    if lines:
        lines.append("")
    lines.append(_summary(outcome, reports, style))
    return "\n".join(lines) + "\n"


def safe(text: str) -> str:
    """One line of text, every control, format, separator or unassigned character shown as
    \\uXXXX (line breaks as \\n): markup.one_line's escaping, and whatever it lets through."""
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _UNSAFE else ch
        for ch in gradient.one_line(text)
    )


_UNSAFE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def _clip(text: str, limit: int) -> str:
    return gradient.clip(safe(text), limit)


# --- findings -----------------------------------------------------------------------------------


def _function_lines(report: FunctionReport, style: Style) -> list[str]:
    lines: list[str] = []
    for f in gradient.sort_findings(report.findings):
        lines += _finding_lines(f, style)
    if style.verbose:
        lines.append(style.paint(f"{INDENT}gradient:", "dim"))
        lines += [INDENT * 2 + safe(line) for line in report.gradient.splitlines() if line.strip()]
    return lines


def _finding_lines(f: Finding, style: Style) -> list[str]:
    where = style.paint(f"{safe(f.path)}:{f.line}:", "path")
    level = style.paint(f"[{f.level.value}]", f.level.value)
    message = _clip(f.message.strip(), MESSAGE_LIMIT) or "(no message)"
    lines = [f"{where} {safe(f.function)}: {level} {f.check}/{f.kind.value}: {message}"]
    detail = _values(f)
    if detail:
        lines.append(INDENT + detail)
    if style.verbose:
        lines += _verbose_lines(f, style)
    return lines


def _values(f: Finding) -> str:
    change = f.kind is Kind.BEHAVIOUR_CHANGE
    labels = ("input", "base", "head") if change else ("input", "expected", "actual")
    parts = [
        f"{label}: {_clip(raw, VALUE_LIMIT)}"
        for label, raw in zip(labels, (f.input, f.expected, f.actual), strict=True)
        if raw is not None
    ]
    if not change and f.base_fails_same is not None:
        parts.append("pre-existing" if f.base_fails_same else "new in this change")
    return " · ".join(parts)


def _verbose_lines(f: Finding, style: Style) -> list[str]:
    lines: list[str] = []
    if f.traceback:
        lines.append(style.paint(f"{INDENT}traceback inside the function:", "dim"))
        lines += [INDENT * 2 + safe(line) for line in f.traceback]
    if f.reproducer:
        lines.append(style.paint(f"{INDENT}reproducer:", "dim"))
        lines += [(INDENT * 2 + safe(line)).rstrip() for line in f.reproducer.rstrip().splitlines()]
    return lines


# --- fixes, notes, summary ----------------------------------------------------------------------


def _fix_lines(fix: Fix, style: Style) -> list[str]:
    status = (
        style.paint("verified fix", "clean")
        if fix.verified
        else style.paint("fix NOT verified", "warning")
    )
    counts = [f"fixes {len(fix.fixed)}", f"{len(fix.remaining)} remaining"]
    if fix.added:
        counts.append(f"{len(fix.added)} new")
    head = f"{style.paint(safe(fix.path) + ':', 'path')} {safe(fix.function)}: {status}"
    lines = [f"{head} ({', '.join(counts)})"]
    if style.verbose and fix.diff.strip():
        lines += [(INDENT + safe(line)).rstrip() for line in fix.diff.rstrip().splitlines()]
    return lines


def _notes(outcome: Outcome, style: Style) -> list[str]:
    notes = list(outcome.notes)
    if style.verbose:
        for result in sorted(outcome.evidence.results, key=lambda r: r.check):
            notes += [
                f"{result.check} skipped {key}: {why}"
                for key, why in sorted(result.skipped.items())
            ]
    return notes


def _summary(outcome: Outcome, reports: Sequence[FunctionReport], style: Style) -> str:
    scope = safe(compared(outcome))
    seconds = f"{outcome.seconds:.1f} s"
    findings = outcome.findings
    if outcome.nothing_checked and not findings:
        text = f"nothing checked: {safe(outcome.nothing_checked)} · {scope}"
        return style.paint(text, "warning")
    checked = plural(len(outcome.targets), "function")
    missed = unverified(outcome)
    if missed:
        why = "" if style.verbose else ", -v says why"
        checked += f" ({len(missed)} not verified by any check{why})"
    if not findings:
        return style.paint(f"no findings in {checked} · {scope} · {seconds}", "clean")
    counts = gradient.counts_by_severity(findings)
    worst = next(sev for sev, n in counts.items() if n)
    flagged = sum(1 for r in reports if r.findings)
    said = ", ".join(plural(n, sev) for sev, n in counts.items() if n)
    text = f"{said} in {flagged} of {checked} · {scope} · {seconds}"
    return style.paint(text, worst)
