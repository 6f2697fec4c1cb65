"""Pure publishing logic: root causes and fixes placed on the diff as inline comments and one-click
suggestions, what is left for the summary, and reconciling reruns with earlier comments."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codegrad import markup
from codegrad.github import comment_text as wording
from codegrad.github.comment_text import MAX_BODY as MAX_BODY
from codegrad.github.comment_text import REVIEW_MARKER as REVIEW_MARKER
from codegrad.github.comment_text import SUMMARY_MARKER as SUMMARY_MARKER
from codegrad.github.comment_text import SUPERSEDED as SUPERSEDED
from codegrad.model import Finding, Fix, Outcome, Target
from codegrad.render.causes import Cause, root_causes

INLINE_MARKER = "<!-- codegrad:inline key="
MAX_INLINE = 40  # inline comments per review; the rest go to the summary

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_INLINE_KEY = re.compile(r"<!-- codegrad:inline key=([0-9a-f]{16}) -->")


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
    inline: tuple[str, ...] = ()  # fingerprints of the primary findings of causes posted inline

    def without_inline(self) -> Plan:
        """The same content with every inline comment moved to the summary (422 fallback)."""
        moved = tuple(_leftover(c) for c in self.comments)
        return Plan(comments=(), leftovers=moved + self.leftovers, suggested=())


def _leftover(comment: InlineComment) -> str:
    return f"**{markup.code(comment.path)} line {comment.line}**\n\n{comment.body}"


def plan_review(
    outcome: Outcome,
    files: Mapping[str, DiffFile],
    *,
    committed: Iterable[str] = (),
    max_inline: int = MAX_INLINE,
    suggest: bool = True,
) -> Plan:
    """Place each root cause and each verified fix on the diff, or leave it for the summary.

    With `suggest` off (a fork's report posted by the companion) no fix is offered at all.
    """
    targets = {t.key: t for t in outcome.targets}
    done = frozenset(committed)
    comments: list[InlineComment] = []
    causes: dict[str, str] = {}  # inline comment key -> its cause's primary fingerprint
    leftovers: list[str] = []
    suggested: list[str] = []
    for cause in root_causes(outcome.findings):
        body = wording.truncate(wording.cause_section(cause))
        line = cause_line(
            cause, targets.get(f"{cause.path}::{cause.function}"), files.get(cause.path)
        )
        if line is None:
            leftovers.append(body)
        else:
            comments.append(InlineComment(cause.path, line, body))
            causes[comments[-1].key] = cause.primary.fingerprint
    for fix in outcome.fixes if suggest else ():
        key = f"{fix.path}::{fix.function}"
        if not fix.verified or key in done:
            continue
        placed = suggestion_comment(fix, targets.get(key), files.get(fix.path))
        if placed is None:
            leftovers.append(wording.truncate(wording.fix_diff_section(fix)))
        else:
            comments.append(placed)
            if "```suggestion" in placed.body:
                suggested.append(key)
    kept, extra = comments[:max_inline], comments[max_inline:]
    leftovers.extend(_leftover(c) for c in extra)
    inline = tuple(causes[c.key] for c in kept if c.key in causes)
    return Plan(tuple(kept), tuple(leftovers), tuple(suggested), inline)


def cause_line(cause: Cause, target: Target | None, diff: DiffFile | None) -> int | None:
    """The first of the cause's own lines that is in the diff, else a changed line of its function."""
    for finding in cause.findings:
        if diff is not None and finding.line > 0 and diff.commentable(finding.line):
            return finding.line
    return anchor_line(cause.primary, target, diff)


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
    span = replaced_range(target, fix)
    if span is not None:
        a, b, lines = span
        hunk = diff.hunk_of(a)
        if hunk is not None and b in hunk:
            body = wording.suggestion_body(fix, lines)
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
    return InlineComment(fix.path, line, wording.truncate(wording.fix_diff_section(fix)))


# --- the summary and the review body --------------------------------------------------------------


def summary_body(
    outcome: Outcome,
    plan: Plan,
    *,
    status: Sequence[str] = (),
    footer: str = "",
    notes: bool = True,
    origin: str = "",
) -> str:
    """The sticky summary comment for this plan (see comment_text.summary_body)."""
    return wording.summary_body(
        outcome,
        inline=len(plan.comments),
        listed=plan.inline,
        suggested=plan.suggested,
        leftovers=plan.leftovers,
        status=status,
        footer=footer,
        notes=notes,
        origin=origin,
    )


def review_body(plan: Plan) -> str:
    return wording.review_body(len(plan.comments))


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
