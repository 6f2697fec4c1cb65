"""Snapshot the working tree or the index as a git tree without touching the repository.

The snapshot is written through a copy of the index into a temporary object store that borrows
the repository's objects (git alternates): the user's index, refs, HEAD, files and `.git/objects`
stay exactly as they were, and a read-only checkout works too.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codegrad.diff import gitops
from codegrad.diff.changes import matches

COMMIT = "commit"  # head is a commit (--head REV, CI, the action)
WORKTREE = "worktree"  # head is the files on disk: committed + staged + unstaged (+ new .py files)
INDEX = "index"  # head is what is staged (what `git commit` would record)
TREES = (COMMIT, WORKTREE, INDEX)


@dataclass(frozen=True)
class Snapshot:
    """A tree id readable with `env`, and the untracked files that went into it."""

    tree: str
    env: dict[str, str]
    untracked: tuple[str, ...] = ()


def _git_path(repo: Path, name: str) -> Path:
    """An absolute path inside the repository's git folder (per-worktree aware)."""
    out = gitops.git(repo, "rev-parse", "--git-path", name).strip()
    path = Path(out)
    return path if path.is_absolute() else (repo / path).resolve()


def object_env(repo: Path, scratch: Path) -> dict[str, str]:
    """Git environment that writes new objects under scratch and reads the repository's too."""
    objects = scratch / "objects"
    objects.mkdir(parents=True, exist_ok=True)
    return {
        "GIT_OBJECT_DIRECTORY": str(objects),
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(_git_path(repo, "objects")),
    }


def untracked_python(repo: Path, include: Sequence[str], exclude: Sequence[str]) -> list[str]:
    """Untracked, not ignored .py files (toplevel-relative) that include/exclude put in scope."""
    out = gitops.git(
        gitops.toplevel(repo), "ls-files", "--others", "--exclude-standard", "-z", "--", "*.py"
    )
    paths = [p for p in out.split("\0") if p.endswith(".py")]
    return sorted(p for p in paths if matches(p, include) and not matches(p, exclude))


def snapshot(
    repo: Path,
    which: str,
    *,
    include: Sequence[str],
    exclude: Sequence[str],
    scratch: Path,
) -> Snapshot:
    """The index (INDEX) or the working tree (WORKTREE) as a tree, plus the env that can read it.

    WORKTREE: the staged and unstaged edits of tracked files (deletions included), and untracked
    .py files in scope; other untracked files are left out (`git add -N` one to include it).
    """
    if which not in (WORKTREE, INDEX):
        raise ValueError(f"snapshot of {which!r}: expected {WORKTREE!r} or {INDEX!r}")
    top = gitops.toplevel(repo)
    env = object_env(top, scratch)
    index = scratch / "index"
    real_index = _git_path(top, "index")
    if real_index.is_file():
        # The copy keeps git's stat cache (`add -u` hashes only edited files) and, with copy2,
        # the index's mtime: entries edited in the second they were staged stay "racily clean"
        # to git, which then compares their content instead of trusting size and mtime.
        shutil.copy2(real_index, index)
    with_index = {**env, "GIT_INDEX_FILE": str(index)}
    untracked: list[str] = []
    if which == WORKTREE:
        gitops.git(top, "add", "--update", env=with_index)
        untracked = untracked_python(top, include, exclude)
        if untracked:
            gitops.git(top, "--literal-pathspecs", "add", "--", *untracked, env=with_index)
    tree = gitops.git(top, "write-tree", env=with_index).strip()
    return Snapshot(tree=tree, env=env, untracked=tuple(untracked))


def empty_tree(repo: Path) -> str:
    """The id of the empty tree in this repository's hash function (no object is written)."""
    return gitops.git(repo, "hash-object", "-t", "tree", "--stdin", input="").strip()


def dirty_python(
    repo: Path, head: str, include: Sequence[str], exclude: Sequence[str]
) -> list[str]:
    """Tracked .py files in scope whose staged or working copy differs from commit head."""
    out = gitops.git(gitops.toplevel(repo), "diff", "--name-only", "--no-renames", "-z", head, "--")
    paths = [p for p in out.split("\0") if p.endswith(".py")]
    return sorted(p for p in paths if matches(p, include) and not matches(p, exclude))
