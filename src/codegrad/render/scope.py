"""What a report covers, in words: the two trees compared, and why nothing was checked (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable

from codegrad.model import Outcome

TREE_WORDS = {"worktree": "the working tree", "index": "the staged changes"}


def short(rev: str | None) -> str:
    """A commit id shortened to 7 characters; symbolic refs unchanged."""
    if rev and re.fullmatch(r"[0-9a-f]{8,64}", rev):
        return rev[:7]
    return rev or "?"


def compared(outcome: Outcome, code: Callable[[str], str] = str) -> str:
    """ "abc1234..def5678", "abc1234..the working tree (HEAD def5678)", or the whole repository."""
    head = code(short(outcome.head))
    if outcome.base is None:
        return f"the whole repository at {head}"
    base = code(short(outcome.base))
    words = TREE_WORDS.get(outcome.tree)
    if words is None:
        return f"{base}..{head}"
    on = f"HEAD {head}" if outcome.head else "no commit yet"
    return f"{base}..{words} ({on})"


def unverified(outcome: Outcome) -> list[str]:
    """Keys of the changed functions that no check verified (every check skipped them)."""
    checked = {key for r in outcome.evidence.results for key in r.checked}
    return [t.key for t in outcome.targets if t.key not in checked]
