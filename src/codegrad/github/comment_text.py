"""The markdown of review comments and the summary: one item per root cause, each fact once, and
every string that came from the pull request in a code span or fence, or escaped (markup.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from codegrad import markup
from codegrad.gradient import KIND_TITLE, result_phrase, value
from codegrad.model import Finding, Fix, Kind, Outcome, Severity
from codegrad.render.causes import Cause, checks_of, root_causes

SUMMARY_MARKER = "<!-- codegrad:summary -->"
REVIEW_MARKER = "<!-- codegrad:review -->"
GITHUB_LIMIT = 65536  # GitHub's limit for one comment or review body, in characters
MAX_BODY = GITHUB_LIMIT - 1536  # room for markers and characters GitHub counts twice
TRUNCATED = "\n\n… (truncated to fit GitHub's comment size; the full report is in the job summary and the report artifact)\n"
SUPERSEDED = f"{REVIEW_MARKER}\ncodegrad: superseded by a later run; see the summary comment."
ICON = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.NOTE: "ℹ️"}
VALUE = 160  # characters of one value in a sentence

# Checks whose findings carry the whole story in input / expected / actual (their message only
# repeats them); other findings are told by their message.
STRUCTURED = frozenset({"docstrings", "differential", "project-tests"})
STRUCTURED_PROPERTIES = frozenset({"crash", "timeout", "return-type"})

_FENCE_LINE = re.compile(r"^ {0,3}(`{3,})")


# --- blocks --------------------------------------------------------------------------------------


def details(summary: str, body: str) -> str:
    """A collapsed section; `summary` is our own text, `body` markdown already made safe."""
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def truncate(body: str, limit: int = MAX_BODY) -> str:
    """Body cut to at most `limit` characters at a line break, open fences and details closed, with
    a note saying where the rest is (a cut inside a line could end a code span early)."""
    if len(body) <= limit:
        return body
    keep = body[: max(0, limit - len(TRUNCATED) - 64)]
    keep = keep[: max(0, keep.rfind("\n"))]
    fence = _open_fence(keep)
    if fence:
        keep += f"\n{fence}"
    keep += "\n\n</details>" * max(0, keep.count("<details>") - keep.count("</details>"))
    return keep + TRUNCATED


def _open_fence(text: str) -> str | None:
    """The fence that is still open at the end of text, or None."""
    open_fence: str | None = None
    for line in text.splitlines():
        match = _FENCE_LINE.match(line)
        if not match:
            continue
        ticks = match.group(1)
        if open_fence is None:
            open_fence = ticks
        elif len(ticks) >= len(open_fence) and not line.strip().strip("`"):
            open_fence = None
    return open_fence


def table_cell(markdown: str) -> str:
    """Safe markdown fit for a table cell (one line, pipes escaped)."""
    return markup.cell(markdown)


# --- one root cause ------------------------------------------------------------------------------


def cause_section(cause: Cause) -> str:
    """One root cause: what goes wrong, whether the change introduced it, which checks saw it, and
    one reproducer; each fact stated once."""
    lead = cause.primary
    parts = [
        f"{ICON[cause.level]} **{KIND_TITLE[lead.kind]}** in {markup.code(lead.function)}: "
        f"{what(lead)}{_stuck(cause)}"
    ]
    status = _status(cause)
    if status:
        parts.append(status)
    parts.append(_found_by(cause))
    reproducer = next((f.reproducer for f in cause.findings if f.reproducer), None)
    if reproducer:
        parts.append(details("Reproducer (pytest)", markup.fence(reproducer, "python")))
    return "\n\n".join(parts)


def what(f: Finding) -> str:
    """The problem in one sentence: from the finding's input and results where a check records
    them in full, else the check's own message (as a code span)."""
    call = value(f.input, VALUE) if f.input else None
    structured = f.check in STRUCTURED or f.details.get("property") in STRUCTURED_PROPERTIES
    if not (call and structured):
        return _message(f)
    if f.kind is Kind.BEHAVIOUR_CHANGE and f.actual and f.expected:
        return f"{call} now {result_phrase(f.actual, limit=VALUE)}; base {result_phrase(f.expected, limit=VALUE)}."
    if f.kind is Kind.CRASH and f.actual:
        where = f" at {value(f.traceback[-1].strip(), VALUE)}" if f.traceback else ""
        return f"{call} {result_phrase(f.actual, verb='raises', limit=VALUE)}{where}."
    if f.kind is Kind.TIMEOUT:
        return f"{call} {result_phrase(f.actual or 'did not finish in time', limit=VALUE)}."
    if f.kind is Kind.BUG and f.actual is not None:
        said = "the docstring example says" if f.check == "docstrings" else "expected"
        want = f"; {said} {value(f.expected, VALUE)}" if f.expected is not None else ""
        return f"{call} {result_phrase(f.actual, limit=VALUE)}{want}."
    if f.kind in (Kind.REGRESSION, Kind.PRE_EXISTING):
        failure = f": {value(f.actual, VALUE)}" if f.actual else ""
        return f"the test {call} fails{failure}."
    return _message(f)


def _message(f: Finding) -> str:
    return f"{value(f.message.strip(), 400)}." if f.message.strip() else "(no message)."


def _stuck(cause: Cause) -> str:
    """Where a hang was stopped, when the primary finding does not say and another one does."""
    if cause.primary.kind is not Kind.TIMEOUT or cause.primary.traceback:
        return ""
    for f in cause.findings:
        inside = [line for line in f.traceback if line.strip().startswith(f"{cause.path}:")]
        if inside:
            return f" It was stopped at {value(inside[-1].strip(), VALUE)}."
    return ""


def _status(cause: Cause) -> str:
    """Introduced or pre-existing (with base's result when a comparison gave it), and reproduction."""
    lead = cause.primary
    facts = []
    base = cause.base_result()
    if lead.kind is Kind.BEHAVIOUR_CHANGE:
        facts.append("A behaviour change against base, not necessarily a bug.")
    elif lead.base_fails_same is True or lead.kind is Kind.PRE_EXISTING:
        facts.append("Pre-existing: base fails the same way.")
    elif lead.base_fails_same is False or base is not None:
        facts.append(f"Introduced by this change{_base_shown(lead, base)}.")
    reproduces = [f.reproduces for f in cause.findings if f.reproduces is not None]
    if reproduces and all(reproduces):
        facts.append("Reproduces on a re-run.")
    elif reproduces and not any(reproduces):
        facts.append("Did not reproduce on a re-run (flaky or environment-dependent).")
    return " ".join(facts)


def _base_shown(lead: Finding, base: str | None) -> str:
    """What base does, unless it is what the lead sentence already said was expected."""
    if base is None:
        return ""
    if lead.expected is not None and base.strip() in (lead.expected, f"returned {lead.expected}"):
        return ": base gets it right"
    return f": base {result_phrase(base, limit=VALUE)}"


def _found_by(cause: Cause) -> str:
    """Each check that saw the cause once, with what it adds (its line, another input)."""
    lead = cause.primary
    items = []
    for check in checks_of(cause.findings):
        members = [f for f in cause.findings if f.check == check]
        role = _role(members[0])
        inputs = [
            f.input
            for f in members
            if f.input and f.input != lead.input and f.check != "project-tests"
        ]
        also = (
            "; also on " + ", ".join(value(i, 80) for i in dict.fromkeys(inputs)) if inputs else ""
        )
        items.append(f"{markup.code(check)} ({role}{also})")
    if len(items) == 1:
        return f"Found by {items[0]}."
    return "Found by " + ", ".join(items[:-1]) + f" and {items[-1]}."


def _role(f: Finding) -> str:
    prop = f.details.get("property")
    named = prop and prop not in ("timeout", "crash", "no-crash")
    roles = {
        "docstrings": f"the docstring example on line {f.line}",
        "differential": "base and head run on the same input",
        "properties": f"the {markup.code(str(prop))} property" if named else "generated inputs",
        "project-tests": f"the test {value(f.input, 120)}" if f.input else "the project's tests",
        "efficiency": "cost measured at growing input sizes",
        "llm-checks": "a check proposed from the docstring and validated",
    }
    return roles.get(f.check, f"line {f.line}")


# --- fixes ---------------------------------------------------------------------------------------


def fix_heading(fix: Fix) -> str:
    count = len(fix.fixed)
    what_ = f"fixes {count} finding{'s' if count != 1 else ''}" if count else "verified"
    return (
        f"🛠️ **codegrad · verified fix** for {markup.code(fix.function)} ({what_}, "
        f"{fix.iterations} iteration{'s' if fix.iterations != 1 else ''}): every check passes on it."
    )


def fix_tests_section(fix: Fix) -> str:
    if not fix.tests:
        return ""
    return "\n\n" + details(
        "Regression tests that prove the fix", markup.fence(fix.tests, "python")
    )


def fix_diff_section(fix: Fix) -> str:
    """A verified fix whose lines are not all in the diff: shown as a diff to apply by hand."""
    return f"{fix_heading(fix)}\n\n{markup.fence(fix.diff, 'diff')}{fix_tests_section(fix)}"


def suggestion_body(fix: Fix, lines: Sequence[str]) -> str:
    """A one-click suggestion replacing the commented lines with `lines`."""
    return f"{fix_heading(fix)}\n\n{markup.fence(chr(10).join(lines), 'suggestion')}{fix_tests_section(fix)}"


# --- the summary ---------------------------------------------------------------------------------


def fails(findings: Iterable[Finding], fail_on: str) -> bool:
    """True when a finding is at or above the fail level ("never" never fails)."""
    if fail_on == "never":
        return False
    threshold = Severity(fail_on).rank
    return any(f.level.rank >= threshold for f in findings)


def headline(outcome: Outcome) -> str:
    findings = outcome.findings
    if not findings:
        return f"✅ codegrad: no findings in {len(outcome.targets)} changed function(s)"
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.level.value] = counts.get(f.level.value, 0) + 1
    spelled = ", ".join(
        f"{n} {lvl}{'s' if n != 1 else ''}"
        for lvl, n in sorted(counts.items(), key=lambda kv: -Severity(kv[0]).rank)
    )
    icon = ICON[max((f.level for f in findings), key=lambda s: s.rank)]
    return f"{icon} codegrad: {len(findings)} finding{'s' if len(findings) != 1 else ''} ({spelled}) in {len(outcome.targets)} changed function(s)"


def summary_body(
    outcome: Outcome,
    *,
    inline: int,
    listed: Sequence[str] = (),
    suggested: Sequence[str],
    leftovers: Sequence[str],
    status: Sequence[str] = (),
    footer: str = "",
    notes: bool = True,
    origin: str = "",
) -> str:
    """The sticky summary comment: marker, verdict, where the results come from, a table row for
    each root cause with an inline comment (`listed`: their primary findings' fingerprints), the
    causes that are not inline in full, fixes, status lines, notes. Each cause is told once here.
    Status lines and notes are escaped; `origin` and `footer` are our own markdown."""
    base = (outcome.base or "")[:12] or "(none)"
    parts = [SUMMARY_MARKER, f"## {headline(outcome)}"]
    if origin:
        parts.append(f"> {origin}")
    parts.append(
        f"Reviewed {markup.code(base)}..{markup.code(outcome.head[:12])} in {outcome.seconds:.1f} s."
    )
    rows = [c for c in root_causes(outcome.findings) if c.primary.fingerprint in set(listed)]
    if rows:
        parts.append(causes_table(rows))
    if inline:
        parts.append(f"{inline} inline comment(s) are on the changed lines of this pull request.")
    fixes = _fixes_section(outcome.fixes, suggested)
    if fixes:
        parts.append(fixes)
    if status:
        parts.append("\n".join(f"- {markup.text(line, 600)}" for line in status))
    if notes and outcome.notes:
        parts.append(details("Notes", "\n".join(f"- {markup.text(n, 600)}" for n in outcome.notes)))
    if leftovers:
        parts.append("### Not on a changed line\n\n" + "\n\n---\n\n".join(leftovers))
    if footer:
        parts.append(f"<sub>{footer}</sub>")
    return truncate("\n\n".join(parts))


def causes_table(causes: Sequence[Cause], limit: int = 100) -> str:
    """One row per root cause; what it is in full is in its inline comment."""
    rows = ["| | Where | Function | Problem | Found by |", "|---|---|---|---|---|"]
    for cause in causes[:limit]:
        lead = cause.primary
        where = markup.code(f"{lead.path}:{lead.line}")
        problem = KIND_TITLE[lead.kind]
        found = ", ".join(markup.code(c) for c in checks_of(cause.findings))
        rows.append(
            f"| {ICON[cause.level]} | {table_cell(where)} | {table_cell(markup.code(lead.function))} | "
            f"{table_cell(problem)} | {table_cell(found)} |"
        )
    if len(causes) > limit:
        rows.append(f"| | … | {len(causes) - limit} more | | |")
    return "\n".join(rows)


def _fixes_section(fixes: Sequence[Fix], suggested: Sequence[str]) -> str:
    if not fixes:
        return ""
    lines = ["### Fixes"]
    for fix in fixes:
        key = f"{fix.path}::{fix.function}"
        name = f"{markup.code(fix.function)} in {markup.code(fix.path)}"
        if not fix.verified:
            why = f" ({markup.text(fix.stop_reason, 300)})" if fix.stop_reason else ""
            lines.append(f"- {name}: no verified fix{why}")
        elif key in suggested:
            lines.append(f"- {name}: verified fix offered as a one-click suggestion")
        else:
            lines.append(f"- {name}: verified fix ({len(fix.fixed)} finding(s) fixed)")
    return "\n".join(lines)


def review_body(count: int) -> str:
    return f"{REVIEW_MARKER}\ncodegrad: {count} comment{'s' if count != 1 else ''} on the changed lines; the summary comment has the full picture."
