"""The two trees a review compares, exported: base and head commits, or base and the working tree or index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codegrad.diff import gitops, trusted_config, worktree
from codegrad.diff.empty import name_list
from codegrad.diff.worktree import COMMIT

NO_COMMIT = "the repository has no commit yet: every function is new, compared with an empty tree"


@dataclass(frozen=True)
class Compared:
    """Base and head, their exported files, the diff between them, and what the reader should know."""

    base: str  # a commit (the empty tree when the repository has no commit yet)
    head: str  # the head commit, or the one the working tree or index sits on ("": none yet)
    tree: str  # worktree.COMMIT, WORKTREE or INDEX: what head_root holds
    diff: str
    head_root: Path
    base_root: Path
    notes: tuple[str, ...] = ()


def compare(
    repo: Path,
    *,
    base: str | None,
    head: str,
    tree: str,
    include: Sequence[str],
    exclude: Sequence[str],
    dest: Path,
) -> Compared:
    """Resolve base and head, diff them and export both under dest (the repository is not touched)."""
    if tree == COMMIT:
        return _commits(repo, base=base, head=head, include=include, exclude=exclude, dest=dest)
    if tree not in worktree.TREES:
        raise ValueError(f"unknown tree {tree!r}; expected one of {worktree.TREES}")
    snap = worktree.snapshot(repo, tree, include=include, exclude=exclude, scratch=dest / "git")
    head_sha = gitops.commit_or_none(repo, "HEAD")
    found, notes = _local(repo, base, head_sha)
    base_sha = found or worktree.empty_tree(repo)
    if snap.untracked:
        notes.append(
            f"untracked files included (new Python files in scope): {name_list(snap.untracked)}"
        )
    return Compared(
        base=base_sha,
        head=head_sha or "",  # "": no commit yet
        tree=tree,
        diff=gitops.diff(repo, base_sha, snap.tree, env=snap.env),
        head_root=gitops.export_treeish(repo, snap.tree, dest / "head", env=snap.env),
        base_root=gitops.export_treeish(repo, base_sha, dest / "base"),
        notes=tuple(notes),
    )


def review_base(repo: Path, *, base: str | None, head: str, tree: str) -> str | None:
    """The commit the review will diff from (the one its trusted settings come from), without
    exporting anything; None before the repository's first commit (nothing to trust yet)."""
    if tree == COMMIT:
        return trusted_config.review_base(repo, base, head)
    return _local(repo, base, gitops.commit_or_none(repo, "HEAD"))[0]


def _local(repo: Path, base: str | None, head: str | None) -> tuple[str | None, list[str]]:
    """The base commit of a working-tree or index review (None: the empty tree), with notes."""
    if head is None and (not base or base == "HEAD"):  # no commit yet (a hook's `--base HEAD`)
        return None, [NO_COMMIT]
    if base:
        # like a pull request's diff: from the merge-base of base and HEAD, not from base's tip
        given = gitops.resolve(repo, base)
        return (gitops.merge_base(repo, given, head) if head else None) or given, []
    assert head is not None
    return local_base(repo, head)


def local_base(repo: Path, head: str) -> tuple[str, list[str]]:
    """The merge-base of HEAD with the default branch: HEAD itself when the branch has no commits
    of its own (only the uncommitted changes are reviewed); HEAD with a note when no default
    branch shares its history."""
    for _name, tip in gitops.default_branch_tips(repo):
        found = gitops.merge_base(repo, head, tip)
        if found is not None:
            return found, []
    return head, [
        f"no default branch ({gitops.CANDIDATES}) shares history with HEAD, so only the uncommitted"
        " changes were reviewed, against HEAD; pass --base <ref> to include the branch's commits"
    ]


def _commits(
    repo: Path,
    *,
    base: str | None,
    head: str,
    include: Sequence[str],
    exclude: Sequence[str],
    dest: Path,
) -> Compared:
    head_sha = gitops.resolve(repo, head)
    base_sha = trusted_config.review_base(repo, base, head)
    notes: list[str] = []
    if head_sha == gitops.commit_or_none(repo, "HEAD"):
        dirty = worktree.dirty_python(repo, head_sha, include, exclude)
        if dirty:
            notes.append(
                f"uncommitted changes to {name_list(dirty)} were not reviewed: this review is of commit"
                f" {head_sha[:7]} (outside CI and without --head, codegrad reviews the working tree)"
            )
    return Compared(
        base=base_sha,
        head=head_sha,
        tree=COMMIT,
        diff=gitops.diff(repo, base_sha, head_sha),
        head_root=gitops.export_tree(repo, head_sha, dest / "head"),
        base_root=gitops.export_tree(repo, base_sha, dest / "base"),
        notes=tuple(notes),
    )
