"""Snapshots of the working tree and index, and the trees a review compares, on real git repositories."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from codegrad.diff import compare, gitops, worktree
from codegrad.errors import UsageError
from codegrad.settings import DEFAULT_EXCLUDE
from helpers_git import GitRepo, make_repo

INCLUDE = ("**/*.py", "*.py")


def state(repo: GitRepo) -> tuple[str, str, str, str, list[str]]:
    """What a snapshot must leave alone: status, HEAD, refs, index bytes and the object files."""
    git_dir = repo.path / ".git"
    index = hashlib.sha256((git_dir / "index").read_bytes()).hexdigest()
    objects = sorted(str(p.relative_to(git_dir)) for p in (git_dir / "objects").rglob("*"))
    return (
        repo.git("status", "--porcelain=v1", "--untracked-files=all"),
        repo.sha("HEAD"),
        repo.git("for-each-ref", "--format=%(refname) %(objectname)"),
        index,
        objects,
    )


def files(repo: GitRepo, snap: worktree.Snapshot) -> dict[str, str]:
    """path -> text of every file in the snapshot's tree, read with its object store."""
    listing = gitops.git(repo.path, "ls-tree", "-r", "-z", "--name-only", snap.tree, env=snap.env)
    return {
        p: gitops.git(repo.path, "cat-file", "blob", f"{snap.tree}:{p}", env=snap.env)
        for p in listing.split("\0")
        if p
    }


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = make_repo(tmp_path)
    r.write("pkg/mod.py", "def f():\n    return 1\n")
    r.write("pkg/gone.py", "def g():\n    return 1\n")
    r.write("staged.py", "S = 1\n")
    r.write(".gitignore", "ignored.py\n")
    r.commit("first")
    return r


def dirty(repo: GitRepo) -> None:
    repo.write("pkg/mod.py", "def f():\n    return 2\n")  # unstaged
    repo.write("staged.py", "S = 2\n")
    repo.git("add", "staged.py")  # staged
    (repo.path / "pkg/gone.py").unlink()  # deleted, not staged
    repo.write("new.py", "def n():\n    return 1\n")  # untracked, in scope
    repo.write("tests/test_new.py", "def test_n():\n    pass\n")  # untracked, excluded
    repo.write("notes.txt", "not python\n")  # untracked, not Python
    repo.write("ignored.py", "I = 1\n")  # ignored
    repo.write("planned.py", "P = 1\n")
    repo.git("add", "-N", "planned.py")  # intent to add


def test_worktree_snapshot_holds_every_edit_and_leaves_the_repository_alone(
    repo: GitRepo, tmp_path: Path
) -> None:
    dirty(repo)
    before = state(repo)
    snap = worktree.snapshot(
        repo.path,
        worktree.WORKTREE,
        include=INCLUDE,
        exclude=DEFAULT_EXCLUDE,
        scratch=tmp_path / "s",
    )
    assert state(repo) == before
    assert files(repo, snap) == {
        ".gitignore": "ignored.py\n",
        "new.py": "def n():\n    return 1\n",
        "pkg/mod.py": "def f():\n    return 2\n",
        "planned.py": "P = 1\n",
        "staged.py": "S = 2\n",
    }
    assert snap.untracked == ("new.py",)
    with pytest.raises(gitops.GitError):  # the new objects live only in the scratch store
        gitops.git(repo.path, "cat-file", "-e", snap.tree)


def test_an_edit_git_can_only_see_by_content_is_in_the_snapshot(
    repo: GitRepo, tmp_path: Path
) -> None:
    """An edit with the staged entry's size and mtime, made in the instant the index was written:
    git treats the entry as "racily clean" (by the index file's mtime) and compares content."""
    repo.git("config", "core.trustctime", "false")
    path = repo.path / "pkg/mod.py"
    then = path.stat().st_mtime_ns - 100 * 10**9
    os.utime(path, ns=(then, then))
    repo.git("update-index", "--refresh")  # the entry now records that mtime, not smudged
    path.write_text("def f():\n    return 9\n")  # same size as `return 1`
    os.utime(path, ns=(then, then))
    os.utime(repo.path / ".git" / "index", ns=(then, then))
    assert repo.git("diff", "--name-only") == "pkg/mod.py\n"  # git itself sees it
    snap = worktree.snapshot(
        repo.path, worktree.WORKTREE, include=INCLUDE, exclude=(), scratch=tmp_path / "s"
    )
    assert files(repo, snap)["pkg/mod.py"] == "def f():\n    return 9\n"


def test_index_snapshot_is_what_git_commit_would_record(repo: GitRepo, tmp_path: Path) -> None:
    dirty(repo)
    before = state(repo)
    snap = worktree.snapshot(
        repo.path, worktree.INDEX, include=INCLUDE, exclude=DEFAULT_EXCLUDE, scratch=tmp_path / "s"
    )
    assert state(repo) == before
    got = files(repo, snap)
    assert got["staged.py"] == "S = 2\n" and got["pkg/mod.py"] == "def f():\n    return 1\n"
    assert "pkg/gone.py" in got and "new.py" not in got
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "all")
    committed = repo.git("rev-parse", "HEAD^{tree}").strip()
    snap = worktree.snapshot(
        repo.path, worktree.INDEX, include=INCLUDE, exclude=DEFAULT_EXCLUDE, scratch=tmp_path / "t"
    )
    assert snap.tree == committed


def test_snapshot_from_a_subdirectory_and_a_linked_worktree(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("pkg/mod.py", "def f():\n    return 3\n")
    snap = worktree.snapshot(
        repo.path / "pkg", worktree.WORKTREE, include=INCLUDE, exclude=(), scratch=tmp_path / "a"
    )
    assert files(repo, snap)["pkg/mod.py"] == "def f():\n    return 3\n"
    linked = tmp_path / "linked"
    repo.git("worktree", "add", "-q", "-b", "side", str(linked))
    (linked / "pkg" / "mod.py").write_text("def f():\n    return 4\n")
    snap = worktree.snapshot(
        linked, worktree.WORKTREE, include=INCLUDE, exclude=(), scratch=tmp_path / "b"
    )
    assert files(repo, snap)["pkg/mod.py"] == "def f():\n    return 4\n"  # its own index and files


def review_trees(repo: Path, tmp_path: Path, **kw: object) -> compare.Compared:
    args: dict[str, object] = {
        "base": None,
        "head": "HEAD",
        "tree": worktree.WORKTREE,
        "include": INCLUDE,
        "exclude": DEFAULT_EXCLUDE,
        "dest": tmp_path / "trees",
        **kw,
    }
    return compare.compare(repo, **args)  # type: ignore[arg-type]


def test_on_the_default_branch_the_base_is_head(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("pkg/mod.py", "def f():\n    return 2\n")
    trees = review_trees(repo.path, tmp_path)
    assert trees.base == trees.head == repo.sha("HEAD") and trees.tree == "worktree"
    assert "+    return 2" in trees.diff and "pkg/mod.py" in trees.diff
    assert (trees.head_root / "pkg/mod.py").read_text() == "def f():\n    return 2\n"
    assert (trees.base_root / "pkg/mod.py").read_text() == "def f():\n    return 1\n"
    assert trees.notes == ()


def test_on_a_branch_the_base_is_the_fork_point(repo: GitRepo, tmp_path: Path) -> None:
    fork = repo.sha()
    repo.branch("feature")
    repo.write("pkg/mod.py", "def f():\n    return 2\n")
    repo.commit("committed on the branch")
    repo.write("staged.py", "S = 3\n")
    trees = review_trees(repo.path, tmp_path)
    assert trees.base == fork and trees.head == repo.sha("HEAD")
    assert "+    return 2" in trees.diff and "+S = 3" in trees.diff  # committed + uncommitted
    clean = review_trees(repo.path, tmp_path / "2", tree=worktree.INDEX)
    assert "+S = 3" not in clean.diff and "+    return 2" in clean.diff


def test_no_default_branch_falls_back_to_head_with_a_note(tmp_path: Path) -> None:
    lonely = make_repo(tmp_path, "lonely", branch="trunk")
    lonely.write("a.py", "A = 1\n")
    lonely.commit("a")
    lonely.write("a.py", "A = 2\n")
    trees = review_trees(lonely.path, tmp_path)
    assert trees.base == lonely.sha("HEAD") and "+A = 2" in trees.diff
    [note] = trees.notes
    assert "no default branch" in note and "pass --base" in note


def test_before_the_first_commit_the_base_is_the_empty_tree(tmp_path: Path) -> None:
    fresh = make_repo(tmp_path, "fresh")
    fresh.write("m.py", "def f():\n    return 1\n")
    fresh.git("add", "m.py")
    for base in (None, "HEAD"):  # `--base HEAD` is what the pre-commit hook passes
        trees = review_trees(fresh.path, tmp_path / str(base), tree=worktree.INDEX, base=base)
        assert trees.base == worktree.empty_tree(fresh.path) and trees.head == ""
        assert "+def f():" in trees.diff and "no commit yet" in trees.notes[0]
        assert list(trees.base_root.iterdir()) == []


def test_commit_review_notes_uncommitted_edits_it_did_not_look_at(
    repo: GitRepo, tmp_path: Path
) -> None:
    repo.write("pkg/mod.py", "def f():\n    return 2\n")
    repo.commit("second")
    repo.write("pkg/mod.py", "def f():\n    return 3\n")
    trees = review_trees(repo.path, tmp_path, tree=worktree.COMMIT)
    assert trees.base == repo.sha("HEAD~1") and "+    return 2" in trees.diff
    assert "return 3" not in trees.diff
    [note] = trees.notes
    assert note.startswith("uncommitted changes to pkg/mod.py were not reviewed")


def test_cannot_find_a_base_names_the_real_cause(repo: GitRepo, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        gitops.default_base(repo.path, "HEAD")  # main's only commit
    assert "it is on main (its tip or an ancestor) and is a root commit" in str(info.value)
    assert "shares history" not in str(info.value)
    repo.git("checkout", "-q", "--orphan", "island")
    repo.write("island.py", "I = 1\n")
    repo.commit("unrelated")
    with pytest.raises(UsageError, match="main shares no history with it; pass --base"):
        gitops.default_base(repo.path, "island")
    lonely = make_repo(tmp_path, "lonely", branch="trunk")
    lonely.write("a.py", "A = 1\n")
    lonely.commit("a")
    lonely.commit("b")
    with pytest.raises(UsageError, match=r"none of origin/HEAD, .* exists in this repository"):
        gitops.default_base(lonely.path, "trunk")
