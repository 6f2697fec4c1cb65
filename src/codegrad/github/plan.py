"""Pure publishing logic: findings and fixes -> inline review comments, suggestions and the summary body."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codegrad.gradient import feedback
from codegrad.model import Finding, Fix, Outcome, Severity, Target

SUMMARY_MARKER = "<!-- codegrad:summary -->"
REVIEW_MARKER = "<!-- codegrad:review -->"
INLINE_MARKER = "<!-- codegrad:inline key="
GITHUB_LIMIT = 65536  # GitHub's limit for one comment or review body, in characters
MAX_BODY = GITHUB_LIMIT - 1536  # room for markers and characters GitHub counts twice
MAX_INLINE = 40  # inline comments per review; the rest go to the summary
TRUNCATED = "\n\n… (truncated to fit GitHub's comment size; the full report is in the job summary and the report artifact)\n"
PLAN_VERSION = 1

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_INLINE_KEY = re.compile(r"<!-- codegrad:inline key=([0-9a-f]{16}) -->")
_ICON = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.NOTE: "ℹ️"}


# --- the diff: which head lines GitHub accepts comments on --------------------------------------


@dataclass(frozen=True)
class Hunk:
    """Head-side lines start..end (inclusive) of one hunk; every one of them is commentable."""

    start: int
    end: int

    def __contains__(self, line: object) -> bool:
        return isinstance(line, int) and self.start <= line <= self.end


@dataclass(frozen=True)
class DiffFile:
    """One file of the pull request as GitHub sees it: its path and the hunks of its patch."""

    path: str
    hunks: tuple[Hunk, ...] = ()

    def hunk_of(self, line: int) -> Hunk | None:
        return next((h for h in self.hunks if line in h), None)

    def commentable(self, line: int) -> bool:
        return self.hunk_of(line) is not None


def parse_patch(patch: str | None) -> tuple[Hunk, ...]:
    """The head-side line ranges of a PR file's `patch` (hunks only; None for binary/huge files)."""
    hunks = []
    for text in (patch or "").splitlines():
        match = _HUNK.match(text)
        if match:
            start, count = int(match.group(1)), int(match.group(2) or "1")
            if count > 0:
                hunks.append(Hunk(start, start + count - 1))
    return tuple(hunks)


def diff_files(files: Iterable[tuple[str, str | None]]) -> dict[str, DiffFile]:
    """(path, patch) pairs -> DiffFile by path."""
    return {path: DiffFile(path, parse_patch(patch)) for path, patch in files}


# --- comments and the plan ---------------------------------------------------------------------


@dataclass(frozen=True)
class InlineComment:
    """One inline review comment on head lines start_line..line (one line when start_line is None)."""

    path: str
    line: int
    body: str
    start_line: int | None = None

    @property
    def key(self) -> str:
        raw = "\x1f".join([self.path, str(self.start_line or ""), str(self.line), self.body])
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    @property
    def full_body(self) -> str:
        return f"{self.body}\n\n{INLINE_MARKER}{self.key} -->"

    def api(self) -> dict[str, Any]:
        """The review-comment object of GitHub's "create a review" call."""
        data: dict[str, Any] = {
            "path": self.path,
            "line": self.line,
            "side": "RIGHT",
            "body": self.full_body,
        }
        if self.start_line is not None and self.start_line < self.line:
            data["start_line"] = self.start_line
            data["start_side"] = "RIGHT"
        return data


@dataclass(frozen=True)
class Plan:
    """What to post: inline comments, plus markdown sections that could not be placed inline."""

    comments: tuple[InlineComment, ...] = ()
    leftovers: tuple[str, ...] = ()
    suggested: tuple[str, ...] = ()  # target keys whose verified fix is offered inline

    def without_inline(self) -> Plan:
        """The same content with every inline comment moved to the summary (422 fallback)."""
        moved = tuple(f"**`{c.path}` line {c.line}**\n\n{c.body}" for c in self.comments)
        return Plan(comments=(), leftovers=moved + self.leftovers, suggested=())


def plan_review(
    outcome: Outcome,
    files: Mapping[str, DiffFile],
    *,
    committed: Iterable[str] = (),
    max_inline: int = MAX_INLINE,
) -> Plan:
    """Place each finding and each verified fix on the diff, or leave it for the summary."""
    targets = {t.key: t for t in outcome.targets}
    done = frozenset(committed)
    comments: list[InlineComment] = []
    leftovers: list[str] = []
    suggested: list[str] = []
    for (path, line), group in _anchored(outcome.findings, targets, files):
        body = truncate("\n\n---\n\n".join(finding_section(f) for f in group))
        if line is None:
            leftovers.append(body)
        else:
            comments.append(InlineComment(path, line, body))
    for fix in outcome.fixes:
        key = f"{fix.path}::{fix.function}"
        if not fix.verified or key in done:
            continue
        placed = suggestion_comment(fix, targets.get(key), files.get(fix.path))
        if placed is None:
            leftovers.append(truncate(fix_diff_section(fix)))
        else:
            comments.append(placed)
            if "```suggestion" in placed.body:
                suggested.append(key)
    extra = comments[max_inline:]
    leftovers.extend(f"**`{c.path}` line {c.line}**\n\n{c.body}" for c in extra)
    return Plan(tuple(comments[:max_inline]), tuple(leftovers), tuple(suggested))


def _anchored(
    findings: Sequence[Finding], targets: Mapping[str, Target], files: Mapping[str, DiffFile]
) -> list[tuple[tuple[str, int | None], list[Finding]]]:
    """Findings grouped by the diff line they go on (None: no line in the diff), in input order."""
    groups: dict[tuple[str, int | None], list[Finding]] = {}
    seen: set[str] = set()
    for finding in findings:
        if finding.fingerprint in seen:
            continue
        seen.add(finding.fingerprint)
        line = anchor_line(
            finding, targets.get(f"{finding.path}::{finding.function}"), files.get(finding.path)
        )
        groups.setdefault((finding.path, line), []).append(finding)
    return list(groups.items())


def anchor_line(finding: Finding, target: Target | None, diff: DiffFile | None) -> int | None:
    """The finding's own line if it is in the diff, else a changed line of its function, else None."""
    if diff is None:
        return None
    if finding.line > 0 and diff.commentable(finding.line):
        return finding.line
    if target is None:
        return None
    preferred = [n for n in target.changed_lines if diff.commentable(n)]
    if preferred:
        return preferred[0]
    first = target.decorator_lineno or target.lineno
    return next((n for n in range(first, target.end_lineno + 1) if diff.commentable(n)), None)


def replaced_range(target: Target, fix: Fix) -> tuple[int, int, list[str]] | None:
    """Head lines a..b the fix replaces and the new lines, trimmed to what actually changes."""
    old = target.source.splitlines()
    new = fix.source.splitlines()
    first = target.decorator_lineno or target.lineno
    if not old or first + len(old) - 1 != target.end_lineno or old == new:
        return None
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    lo, hi = prefix, len(old) - suffix  # old[lo:hi] is replaced by new[lo:len(new)-suffix]
    if lo == hi:  # a pure insertion: anchor it on the line before (or after) it
        lo, hi = (lo - 1, hi) if lo > 0 else (lo, hi + 1)
    return first + lo, first + hi - 1, new[lo : len(new) - (len(old) - hi)]


def suggestion_comment(
    fix: Fix, target: Target | None, diff: DiffFile | None
) -> InlineComment | None:
    """A one-click suggestion when the replaced lines lie in one hunk; a diff comment on a changed
    line of the function otherwise; None when the function has no line in the diff at all."""
    if target is None or diff is None:
        return None
    head = fix_heading(fix)
    span = replaced_range(target, fix)
    if span is not None:
        a, b, lines = span
        hunk = diff.hunk_of(a)
        if hunk is not None and b in hunk:
            text = "\n".join(lines)
            body = f"{head}\n\n{fence(text, 'suggestion')}{fix_tests_section(fix)}"
            if len(body) <= MAX_BODY:
                return InlineComment(fix.path, b, body, start_line=a if a < b else None)
    line = next(
        (
            n
            for n in range(target.decorator_lineno or target.lineno, target.end_lineno + 1)
            if diff.commentable(n)
        ),
        None,
    )
    if line is None:
        return None
    return InlineComment(fix.path, line, truncate(fix_diff_section(fix)))


# --- markdown pieces ----------------------------------------------------------------------------


def fence(text: str, lang: str = "") -> str:
    """A fenced code block that survives backtick runs inside text."""
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    ticks = "`" * (longest + 1)
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def finding_section(finding: Finding) -> str:
    """One finding as markdown: headline, the self-contained feedback, and its reproducer."""
    icon = _ICON[finding.level]
    head = (
        f"{icon} **codegrad · {finding.level.value} · {finding.kind.value}** in "
        f"`{finding.function}` (check: `{finding.check}`)"
    )
    parts = [head, feedback(finding)]
    if finding.reproducer:
        parts.append(details("Reproducer (pytest)", fence(finding.reproducer, "python")))
    return "\n\n".join(parts)


def fix_heading(fix: Fix) -> str:
    count = len(fix.fixed)
    what = f"fixes {count} finding{'s' if count != 1 else ''}" if count else "verified"
    return (
        f"🛠️ **codegrad · verified fix** for `{fix.function}` ({what}, "
        f"{fix.iterations} iteration{'s' if fix.iterations != 1 else ''}): every check passes on it."
    )


def fix_tests_section(fix: Fix) -> str:
    if not fix.tests:
        return ""
    return "\n\n" + details("Regression tests that prove the fix", fence(fix.tests, "python"))


def fix_diff_section(fix: Fix) -> str:
    """A verified fix whose lines are not all in the diff: shown as a diff to apply by hand."""
    return f"{fix_heading(fix)}\n\n{fence(fix.diff, 'diff')}{fix_tests_section(fix)}"


def details(summary: str, body: str) -> str:
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def truncate(body: str, limit: int = MAX_BODY) -> str:
    """Body cut to at most `limit` characters, with a note saying where the rest is."""
    if len(body) <= limit:
        return body
    keep = body[: max(0, limit - len(TRUNCATED))]
    if keep.count("```") % 2:  # close an open code fence so the rest still renders
        keep = keep[: max(0, len(keep) - 4)] + "\n```"
    return keep + TRUNCATED


def table_cell(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ").replace("|", "\\|")


# --- the summary --------------------------------------------------------------------------------


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
    icon = _ICON[max((f.level for f in findings), key=lambda s: s.rank)]
    return f"{icon} codegrad: {len(findings)} finding{'s' if len(findings) != 1 else ''} ({spelled}) in {len(outcome.targets)} changed function(s)"


def summary_body(
    outcome: Outcome,
    plan: Plan,
    *,
    status: Sequence[str] = (),
    footer: str = "",
) -> str:
    """The sticky summary comment: marker, verdict, table, what is not inline, fixes, status lines."""
    base = (outcome.base or "")[:12] or "(none)"
    parts = [
        SUMMARY_MARKER,
        f"## {headline(outcome)}",
        f"Reviewed `{base}`..`{outcome.head[:12]}` in {outcome.seconds:.1f} s.",
    ]
    if outcome.findings:
        parts.append(_findings_table(outcome.findings))
    if plan.comments:
        parts.append(
            f"{len(plan.comments)} inline comment(s) are on the changed lines of this pull request."
        )
    fixes = _fixes_section(outcome.fixes, plan)
    if fixes:
        parts.append(fixes)
    if status:
        parts.append("\n".join(f"- {line}" for line in status))
    if outcome.notes:
        parts.append(
            "<details><summary>Notes</summary>\n\n"
            + "\n".join(f"- {table_cell(n)}" for n in outcome.notes)
            + "\n\n</details>"
        )
    if plan.leftovers:
        parts.append("### Not on a changed line\n\n" + "\n\n---\n\n".join(plan.leftovers))
    if footer:
        parts.append(f"<sub>{footer}</sub>")
    return truncate("\n\n".join(parts))


def _findings_table(findings: Sequence[Finding]) -> str:
    rows = ["| | Where | Function | Kind | Check | Message |", "|---|---|---|---|---|---|"]
    for f in findings[:100]:
        message = table_cell(f.message)
        message = message if len(message) <= 160 else message[:157] + "…"
        rows.append(
            f"| {_ICON[f.level]} | `{table_cell(f.path)}:{f.line}` | `{table_cell(f.function)}` | "
            f"{f.kind.value} | {f.check} | {message} |"
        )
    if len(findings) > 100:
        rows.append(f"| | … | {len(findings) - 100} more | | | |")
    return "\n".join(rows)


def _fixes_section(fixes: Sequence[Fix], plan: Plan) -> str:
    if not fixes:
        return ""
    lines = ["### Fixes"]
    for fix in fixes:
        key = f"{fix.path}::{fix.function}"
        if not fix.verified:
            why = f" ({table_cell(fix.stop_reason)})" if fix.stop_reason else ""
            lines.append(f"- `{fix.function}` in `{fix.path}`: no verified fix{why}")
        elif key in plan.suggested:
            lines.append(
                f"- `{fix.function}` in `{fix.path}`: verified fix offered as a one-click suggestion"
            )
        else:
            lines.append(
                f"- `{fix.function}` in `{fix.path}`: verified fix ({len(fix.fixed)} finding(s) fixed)"
            )
    return "\n".join(lines)


def review_body(plan: Plan) -> str:
    count = len(plan.comments)
    return f"{REVIEW_MARKER}\ncodegrad: {count} comment{'s' if count != 1 else ''} on the changed lines; the summary comment has the full picture."


SUPERSEDED = f"{REVIEW_MARKER}\ncodegrad: superseded by a later run; see the summary comment."


# --- reruns: keep what still applies, remove what does not ---------------------------------------


def inline_key(body: str) -> str | None:
    """The key codegrad stamped on an inline comment body, or None for someone else's comment."""
    match = _INLINE_KEY.search(body)
    return match.group(1) if match else None


def reconcile(
    planned: Sequence[InlineComment], existing: Sequence[tuple[int, str]]
) -> tuple[list[InlineComment], list[int]]:
    """(comments to create, ids of earlier codegrad comments to delete); identical ones are kept."""
    wanted = {c.key for c in planned}
    have: dict[str, int] = {}
    delete: list[int] = []
    for comment_id, body in existing:
        key = inline_key(body)
        if key is None:
            continue
        if key in wanted and key not in have:
            have[key] = comment_id
        else:
            delete.append(comment_id)
    return [c for c in planned if c.key not in have], delete


# --- the plan as data (the fork artifact that the workflow_run companion posts) -------------------


def plan_to_dict(plan: Plan, *, number: int, head_sha: str, summary: str) -> dict[str, Any]:
    return {
        "version": PLAN_VERSION,
        "pull_request": number,
        "head_sha": head_sha,
        "summary": summary,
        "comments": [
            {"path": c.path, "line": c.line, "start_line": c.start_line, "body": c.body}
            for c in plan.comments
        ],
    }


def plan_from_dict(data: Any) -> tuple[int, str, str, Plan]:
    """(PR number, head sha, summary, plan) from an artifact; untrusted, so every field is checked."""
    if not isinstance(data, dict) or data.get("version") != PLAN_VERSION:
        raise ValueError("not a codegrad review plan (version 1)")
    number, head, summary = data.get("pull_request"), data.get("head_sha"), data.get("summary")
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise ValueError("pull_request must be a positive integer")
    if not isinstance(head, str) or not re.fullmatch(r"[0-9a-f]{40}", head):
        raise ValueError("head_sha must be a 40-character commit sha")
    if not isinstance(summary, str):
        raise ValueError("summary must be text")
    comments = []
    raw = data.get("comments", [])
    if not isinstance(raw, list):
        raise ValueError("comments must be a list")
    for item in raw[:MAX_INLINE]:
        if not isinstance(item, dict):
            raise ValueError("each comment must be an object")
        path, line, start, body = (
            item.get("path"),
            item.get("line"),
            item.get("start_line"),
            item.get("body"),
        )
        if not (isinstance(path, str) and isinstance(line, int) and isinstance(body, str)):
            raise ValueError("each comment needs path (text), line (integer) and body (text)")
        if start is not None and not isinstance(start, int):
            raise ValueError("start_line must be an integer or null")
        comments.append(InlineComment(path, line, truncate(body), start))
    if not summary.startswith(SUMMARY_MARKER):
        summary = f"{SUMMARY_MARKER}\n{summary}"
    return number, head, truncate(summary), Plan(comments=tuple(comments))
