"""Why a review found no function to check, in words: from the diff and the include/exclude globs (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchedFile, PatchSet

from codegrad.diff.changes import matches

LIMIT = 5  # paths named in a reason; the rest are counted


def nothing_checked(diff_text: str, include: Sequence[str], exclude: Sequence[str]) -> str:
    """The reason a diff gave no changed function: no change, no Python change, all excluded, ..."""
    try:
        files = list(PatchSet(diff_text))
    except UnidiffParseError:
        return "the diff could not be read"
    if not files:
        return "no file differs between the two trees"
    python = [pf for pf in files if _path(pf).endswith(".py")]
    if not python:
        return f"no Python file changed (changed: {name_list([_path(pf) for pf in files])})"
    scoped = [pf for pf in python if _why_out(_path(pf), include, exclude) is None]
    if not scoped:
        out = [f"{_path(pf)} ({_why_out(_path(pf), include, exclude)})" for pf in python]
        return f"every changed Python file is out of scope: {name_list(out)}"
    if all(pf.is_removed_file for pf in scoped):
        return f"the change only deletes Python files: {name_list([_path(pf) for pf in scoped])}"
    kept = [_path(pf) for pf in scoped if not pf.is_removed_file]
    return (
        f"the changes to {name_list(kept)} touch no function body (module-level code, imports,"
        " class attributes or deleted functions only; those are not checked)"
    )


def _path(pf: PatchedFile) -> str:
    return str(pf.path)


def _why_out(path: str, include: Sequence[str], exclude: Sequence[str]) -> str | None:
    """Why include/exclude leave path out, or None when it is in scope."""
    if not matches(path, include):
        return "not matched by include"
    hit = next((glob for glob in exclude if matches(path, [glob])), None)
    return f"excluded by {hit!r}" if hit is not None else None


def name_list(items: Sequence[str]) -> str:
    """Up to LIMIT items joined with commas, and how many more."""
    shown = ", ".join(items[:LIMIT])
    more = len(items) - LIMIT
    return f"{shown} and {more} more" if more > 0 else shown
