"""--apply: write verified fixes into the user's files, only over the exact content that was reviewed.

A fix was verified against one version of its file (the commit, the index or the working tree
with the user's uncommitted edits). It is written only while the file on disk is still that
version, byte for byte, so no edit made before or during the review is lost; the write is atomic.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from codegrad.diff import changes, gitops
from codegrad.fileio import replace_if_unchanged, sha256_of
from codegrad.model import Fix, Outcome
from codegrad.refine import patch
from codegrad.settings import Settings

AGAIN = "run codegrad review --fix --apply again"


def apply_fixes(outcome: Outcome, settings: Settings) -> list[str]:
    """Write the verified fixes into the working tree (never commits); one message per file or fix."""
    verified = [f for f in outcome.fixes if f.verified]
    if not verified:
        return []
    root = gitops.toplevel(settings.repo)
    by_path: dict[str, list[Fix]] = {}
    for fix in verified:
        by_path.setdefault(fix.path, []).append(fix)
    messages: list[str] = []
    for relpath, fixes in sorted(by_path.items()):
        messages += apply_file(root, relpath, fixes)
    return messages


def apply_file(root: Path, relpath: str, fixes: Sequence[Fix]) -> list[str]:
    """Splice every fix into one file, if the file is still the version they were verified on."""
    path = root / relpath
    digests = {f.file_sha256 for f in fixes}
    if None in digests or len(digests) != 1:
        return [
            f"not applied to {relpath}: no record of the file version the fix was made for; {AGAIN}"
        ]
    expected = next(iter(digests))
    assert expected is not None
    if path.is_symlink() or not path.is_file() or not path.resolve().is_relative_to(root.resolve()):
        return [f"not applied to {relpath}: it is no longer a regular file in the repository"]
    if sha256_of(path) != expected:
        return [_changed(relpath)]
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return [f"not applied to {relpath}: it is not UTF-8 text"]
    new_text, messages = splice_all(relpath, text, fixes)
    if new_text == text:
        return messages
    if not replace_if_unchanged(path, expected, new_text):
        return [_changed(relpath)]
    return messages


def splice_all(relpath: str, text: str, fixes: Sequence[Fix]) -> tuple[str, list[str]]:
    """The file with each fix's function replaced (found again by name after every splice)."""
    messages: list[str] = []
    for fix in sorted(fixes, key=lambda f: f.function):
        target = next(
            (t for t in changes.all_functions(relpath, text) if t.qualname == fix.function), None
        )
        if target is None:
            messages.append(f"not applied: {fix.function} not found in {relpath}")
            continue
        text = patch.splice(text, target, fix.source)
        messages.append(f"applied the verified fix for {fix.function} to {relpath}")
    return text, messages


def _changed(relpath: str) -> str:
    return (
        f"not applied to {relpath}: it changed after it was reviewed (the fix was verified on"
        f" the earlier version; your edits are left as they are); {AGAIN}"
    )
