"""The markdown report (GitHub-flavoured; the default when stdout is not a terminal): verdict, gradients, fixes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from codegrad import gradient, markup
from codegrad.gradient import FunctionReport, inline_code, plural
from codegrad.model import Finding, Fix, Kind, Outcome
from codegrad.render.scope import compared, unverified

DETAIL_LIMIT = 1000  # characters kept of one value inside the collapsible findings


def render(outcome: Outcome) -> str:
    """The whole report as markdown text ending in a newline."""
    reports = gradient.per_function(outcome)
    flagged = [r for r in reports if r.findings]
    clean = [r for r in reports if not r.findings]
    blocks = [_header(outcome, reports)]
    blocks.extend(_function_section(r) for r in flagged)
    if clean and flagged:
        blocks.append(_clean_section(clean))
    if outcome.fixes:
        blocks.append(_fixes_section(outcome.fixes))
    notes = _notes(outcome)
    if notes:
        blocks.append("### Notes\n\n" + "\n".join(f"- {n}" for n in notes))
    return "\n\n".join(blocks).rstrip() + "\n"


# --- header -------------------------------------------------------------------------------------


def _header(outcome: Outcome, reports: Sequence[FunctionReport]) -> str:
    findings = outcome.findings
    counts = gradient.counts_by_severity(findings)
    if findings:
        title = ", ".join(plural(n, sev) for sev, n in counts.items() if n)
    else:
        title = "nothing checked" if outcome.nothing_checked else "no findings"
    flagged = sum(1 for r in reports if r.findings)
    facts = [
        f"{plural(len(outcome.targets), 'function')} checked in {compared(outcome, inline_code)}",
        f"{outcome.seconds:.1f} s",
        f"loss {gradient.loss(findings).total:.2f}",
    ]
    if outcome.fixes:
        verified = sum(1 for x in outcome.fixes if x.verified)
        facts.append(f"{plural(len(outcome.fixes), 'fix', 'fixes')} ({verified} verified)")
    lines = [f"## codegrad: {title}", "", " · ".join(facts)]
    missed = unverified(outcome)
    if missed:
        names = ", ".join(inline_code(k) for k in missed)
        lines += ["", f"Not verified by any check (their reasons are in the notes): {names}."]
    if not findings:
        why = outcome.nothing_checked
        lines += ["", f"Nothing was checked: {_escape(why)}." if why else gradient.CLEAN]
        return "\n".join(lines)
    lines += ["", f"{flagged} of {plural(len(reports), 'function')} with findings:", ""]
    lines += _table(
        ["function", "loss", "error", "warning", "note"],
        [
            [
                inline_code(r.target.key),
                f"{r.loss.total:.2f}",
                *(str(n) for n in gradient.counts_by_severity(r.findings).values()),
            ]
            for r in reports
            if r.findings
        ],
        right=(1, 2, 3, 4),
    )
    return "\n".join(lines)


def _escape(text: str) -> str:
    """Plain text that markdown shows as written (paths from the change may hold markup)."""
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~@])", r"\\\1", gradient.one_line(text))


def _table(head: list[str], rows: Iterable[list[str]], right: tuple[int, ...] = ()) -> list[str]:
    rule = ["---:" if i in right else "---" for i in range(len(head))]
    return ["| " + " | ".join(_cell(c) for c in row) + " |" for row in ([*[head], rule, *rows])]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# --- per function -------------------------------------------------------------------------------


def _function_section(report: FunctionReport) -> str:
    t = report.target
    span = f"lines {t.lineno}–{t.end_lineno}" if t.end_lineno > t.lineno else f"line {t.lineno}"
    pairs: dict[tuple[str, str], int] = {}
    for f in report.findings:
        pairs[(f.check, f.kind.value)] = pairs.get((f.check, f.kind.value), 0) + 1
    rows = [[check, kind, str(n)] for (check, kind), n in sorted(pairs.items())]
    rows.append(["**total**", f"loss {report.loss.total:.2f}", f"**{report.loss.count}**"])
    parts = [
        f"### {inline_code(t.key)} ({span})",
        "\n".join(_table(["check", "kind", "findings"], rows, right=(2,))),
        report.gradient,
        _findings_details(report.findings),
    ]
    return "\n\n".join(parts)


def _findings_details(findings: Sequence[Finding]) -> str:
    with_repro = sum(1 for f in findings if f.reproducer)
    summary = f"{plural(len(findings), 'finding')}, {with_repro} with a pytest reproducer"
    body = "\n\n".join(_finding_block(i, f) for i, f in enumerate(findings, 1))
    return f"<details>\n<summary>{summary}</summary>\n\n{body}\n\n</details>"


def _finding_block(number: int, f: Finding) -> str:
    lines = [
        f"#### {number}. [{f.level.value}] {f.check} / {f.kind.value}, line {f.line}",
        "",
        gradient.value(f.message.strip(), DETAIL_LIMIT) if f.message.strip() else "(no message)",
        "",
    ]
    change = f.kind is Kind.BEHAVIOUR_CHANGE
    labels = ("input", "base", "head") if change else ("input", "expected", "actual")
    for label, raw in zip(labels, (f.input, f.expected, f.actual), strict=True):
        if raw is not None:
            lines.append(f"- {label}: {gradient.value(raw, DETAIL_LIMIT)}")
    lines.append(f"- reproduces: {_yes_no(f.reproduces)}")
    if not change:
        lines.append(f"- base fails the same way: {_base(f.base_fails_same)}")
    lines.append(f"- fingerprint: {inline_code(f.fingerprint)}")
    if f.traceback:
        lines += ["", "Traceback inside the target:", "", fenced("\n".join(f.traceback), "text")]
    if f.reproducer:
        lines += ["", "Reproducer:", "", fenced(f.reproducer.rstrip("\n"), "python")]
    return "\n".join(lines)


def _yes_no(flag: bool | None) -> str:
    return {True: "yes", False: "no", None: "not checked"}[flag]


def _base(flag: bool | None) -> str:
    return {
        True: "yes (pre-existing)",
        False: "no (introduced by this change)",
        None: "not compared",
    }[flag]


def fenced(text: str, lang: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run inside the text."""
    return markup.fence(text, lang)


def _clean_section(reports: Sequence[FunctionReport]) -> str:
    items = "\n".join(f"- {inline_code(r.target.key)}" for r in reports)
    return f"### Clean functions\n\n{gradient.CLEAN}\n\n{items}"


# --- fixes and notes ----------------------------------------------------------------------------


def _fixes_section(fixes: Sequence[Fix]) -> str:
    ordered = sorted(fixes, key=lambda x: (x.path, x.function))
    return "### Fixes\n\n" + "\n\n".join(_fix_block(x) for x in ordered)


def _fix_block(fix: Fix) -> str:
    status = "verified" if fix.verified else "NOT verified (do not apply as is)"
    facts = [
        status,
        plural(fix.iterations, "iteration"),
        f"{fix.tokens} tokens",
        f"${fix.cost_usd:.4f}",
    ]
    if fix.stop_reason:
        facts.append(f"stopped: {markup.text(fix.stop_reason)}")
    lines = [f"#### Fix for {inline_code(f'{fix.path}::{fix.function}')}", "", " · ".join(facts)]
    for label, group in (("Fixed", fix.fixed), ("Remaining", fix.remaining), ("New", fix.added)):
        if group or label != "New":
            lines += ["", f"{label} ({len(group)}):"]
            lines += [f"- {_finding_line(f)}" for f in gradient.sort_findings(group)] or ["- none"]
    lines += ["", fenced(fix.diff.rstrip("\n"), "diff") if fix.diff.strip() else "(no diff)"]
    if fix.tests:
        tests = fenced(fix.tests.rstrip("\n"), "python")
        lines += ["", f"<details>\n<summary>Regression tests</summary>\n\n{tests}\n\n</details>"]
    return "\n".join(lines)


def _finding_line(f: Finding) -> str:
    where = f" on {gradient.value(f.input, 120)}" if f.input else ""
    message = gradient.value(f.message.strip(), 200)
    return f"[{f.level.value}] {f.check} / {f.kind.value}{where}: {message}"


def reach_note(check: str, stats: dict[str, object]) -> str | None:
    """How many calls a comparing check made and how many executed the changed lines."""
    if "reached" not in stats:
        return None
    calls = stats.get("calls", 0)
    text = (
        f"{check}: {calls} call(s), {stats.get('in_domain', 0)} inside base's domain, "
        f"{stats.get('reached', 0)} reached the changed lines"
    )
    if stats.get("grown_calls"):
        text += f"; {stats['grown_calls']} grown from them, {stats.get('grown_reached', 0)} reached"
    return text


def _notes(outcome: Outcome) -> list[str]:
    notes = [markup.text(n) for n in outcome.notes]
    for result in sorted(outcome.evidence.results, key=lambda r: r.check):
        reached = reach_note(result.check, result.stats)
        if reached:
            notes.append(reached)
    for result in sorted(outcome.evidence.results, key=lambda r: r.check):
        notes.extend(
            f"{result.check} skipped {inline_code(key)}: {markup.text(why)}"
            for key, why in sorted(result.skipped.items())
        )
    return notes
