"""gitops against real git repositories in temp dirs, with a bare "origin" for default_base."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codegrad.diff import gitops
from codegrad.diff.gitops import GitError
from codegrad.errors import UsageError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers_git import GitRepo, make_repo


def with_origin(tmp_path: Path, repo: GitRepo, *branches: str) -> Path:
    """Create a bare origin next to repo, push branches to it and fetch them back."""
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    repo.git("remote", "add", "origin", str(bare))
    repo.git("push", "-q", "origin", *branches)
    repo.git("fetch", "-q", "origin")
    return bare


def snapshot(repo: GitRepo) -> tuple[str, str, str, str]:
    """Everything export/read must leave alone: status, HEAD, refs and the index bytes."""
    index = hashlib.sha256((repo.path / ".git" / "index").read_bytes()).hexdigest()
    refs = repo.git("for-each-ref", "--format=%(refname) %(objectname)")
    return (
        repo.git("status", "--porcelain=v1", "--untracked-files=all"),
        repo.sha("HEAD"),
        refs,
        index,
    )


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = make_repo(tmp_path)
    r.write("pkg/mod.py", "def f():\n    return 1\n")
    r.commit("first")
    return r


# ---------------------------------------------------------------- errors


def test_not_a_repository_is_a_usage_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(UsageError, match="not a git repository"):
        gitops.git(plain, "status")
    with pytest.raises(UsageError, match="not a directory"):
        gitops.git(tmp_path / "missing", "status")


def test_other_failures_raise_git_error_with_command_and_stderr(repo: GitRepo) -> None:
    with pytest.raises(GitError) as info:
        gitops.git(repo.path, "cat-file", "-p", "0" * 40)
    assert info.value.command[:3] == ["git", "cat-file", "-p"]
    assert "0" * 40 in str(info.value) and info.value.stderr


def test_resolve_refs_and_bad_ref(repo: GitRepo) -> None:
    sha = repo.sha()
    repo.git("tag", "v1")
    assert gitops.resolve(repo.path, "main") == sha
    assert gitops.resolve(repo.path, "v1") == sha
    assert gitops.resolve(repo.path, sha[:8]) == sha
    with pytest.raises(UsageError, match=r"'no-such-branch'.*git fetch origin no-such-branch"):
        gitops.resolve(repo.path, "no-such-branch")
    with pytest.raises(UsageError, match="'--all'"):
        gitops.resolve(repo.path, "--all")  # an option-looking ref is a ref, not an option


def test_option_looking_revisions_are_not_options(repo: GitRepo, tmp_path: Path) -> None:
    planted = tmp_path / "planted.txt"
    with pytest.raises(GitError):
        gitops.diff(repo.path, f"--output={planted}", "HEAD")
    assert not planted.exists()


def test_redirecting_environment_is_ignored(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_repo(tmp_path, "other")
    other.write("x.py", "X = 1\n")
    other.commit("other")
    monkeypatch.setenv("GIT_DIR", str(other.path / ".git"))
    assert gitops.resolve(repo.path, "HEAD") == repo.sha()


# ---------------------------------------------------------------- default_base


def test_default_base_is_merge_base_with_origin_head(repo: GitRepo, tmp_path: Path) -> None:
    fork_point = repo.sha()
    with_origin(tmp_path, repo, "main")
    repo.git("remote", "set-head", "origin", "main")
    repo.branch("feature")
    repo.write("pkg/mod.py", "def f():\n    return 2\n")
    repo.commit("feature work")
    repo.checkout("main")
    repo.write("other.py", "X = 1\n")
    repo.commit("main moves on")
    repo.git("push", "-q", "origin", "main")
    repo.git("fetch", "-q", "origin")
    assert gitops.default_base(repo.path, "feature") == fork_point


def test_default_base_follows_origin_head_to_a_non_main_branch(
    repo: GitRepo, tmp_path: Path
) -> None:
    repo.write("a.py", "A = 1\n")
    develop_point = repo.commit("on develop")
    repo.branch("develop")
    with_origin(tmp_path, repo, "main", "develop")
    repo.git("remote", "set-head", "origin", "develop")
    repo.git("update-ref", "refs/remotes/origin/main", repo.sha("HEAD~1"))
    repo.branch("feature")
    repo.write("b.py", "B = 1\n")
    repo.commit("feature")
    assert gitops.default_base(repo.path, "HEAD") == develop_point


def test_default_base_without_origin_head_uses_origin_master(repo: GitRepo, tmp_path: Path) -> None:
    first = repo.sha()
    repo.git("branch", "-m", "main", "master")
    with_origin(tmp_path, repo, "master")
    assert "origin/HEAD" not in repo.git("branch", "-r")
    repo.branch("topic")
    repo.write("t.py", "T = 1\n")
    repo.commit("topic")
    assert gitops.default_base(repo.path, "topic") == first


def test_default_base_falls_back_to_local_main_and_uses_parent_on_tip(repo: GitRepo) -> None:
    first = repo.sha()
    repo.write("two.py", "Y = 2\n")
    second = repo.commit("second")
    assert gitops.default_base(repo.path, "main") == first  # head is main's tip: review its commit
    repo.branch("feature")
    repo.write("three.py", "Z = 3\n")
    repo.commit("third")
    assert gitops.default_base(repo.path, "feature") == second


def test_default_base_without_a_fit_asks_for_base(repo: GitRepo, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--base"):
        gitops.default_base(repo.path, "HEAD")  # the only commit on main: no parent
    repo.git("checkout", "-q", "--orphan", "island")
    repo.write("island.py", "I = 1\n")
    repo.commit("unrelated history")
    with pytest.raises(UsageError, match="--base"):
        gitops.default_base(repo.path, "island")
    lonely = make_repo(tmp_path, "lonely", branch="trunk")
    lonely.write("a.py", "A = 1\n")
    lonely.commit("a")
    lonely.write("a.py", "A = 2\n")
    lonely.commit("b")
    with pytest.raises(UsageError, match="pass --base"):
        gitops.default_base(lonely.path, "trunk")


# ---------------------------------------------------------------- diff and read_file


def test_diff_detects_renames_and_ignores_user_diff_config(repo: GitRepo) -> None:
    base = repo.sha()
    body = "".join(f"def f{i}():\n    return {i}\n\n\n" for i in range(10))
    repo.write("pkg/mod.py", body)
    base = repo.commit("bigger")
    repo.git("mv", "pkg/mod.py", "pkg/renamed.py")
    repo.write("pkg/renamed.py", body.replace("return 3", "return 33"))
    head = repo.commit("rename and edit")
    repo.git("config", "color.ui", "always")
    repo.git("config", "diff.noprefix", "true")
    repo.git("config", "diff.external", "false")
    repo.write(".gitattributes", "*.py diff=weird\n")
    repo.git("config", "diff.weird.textconv", "false")
    out = gitops.diff(repo.path, base, head)
    assert "rename from pkg/mod.py\nrename to pkg/renamed.py\n" in out
    assert "--- a/pkg/mod.py\n+++ b/pkg/renamed.py\n" in out
    assert "-    return 3\n+    return 33\n" in out
    assert "\x1b[" not in out


def test_read_file_present_absent_and_bad_commit(repo: GitRepo) -> None:
    sha = repo.sha()
    repo.write("raw.py", b"X = '\xff'\r\n")
    raw_sha = repo.commit("raw bytes")
    assert gitops.read_file(repo.path, sha, "pkg/mod.py") == "def f():\n    return 1\n"
    assert gitops.read_file(repo.path, sha, "raw.py") is None
    assert gitops.read_file(repo.path, sha, "pkg") is None  # a folder is not a file
    text = gitops.read_file(repo.path, raw_sha, "raw.py")
    assert text is not None and text.encode("utf-8", "surrogateescape") == b"X = '\xff'\r\n"
    with pytest.raises(UsageError, match="cannot resolve"):
        gitops.read_file(repo.path, "f" * 40, "pkg/mod.py")


def test_works_from_a_subdirectory(repo: GitRepo) -> None:
    sub = repo.path / "pkg"
    sha = repo.sha()
    assert gitops.read_file(sub, sha, "pkg/mod.py") == "def f():\n    return 1\n"
    assert gitops.toplevel(sub) == repo.path.resolve()


# ---------------------------------------------------------------- export_tree


def test_export_tree_content_modes_and_user_state_untouched(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("run.sh", "#!/bin/sh\necho hi\n")
    (repo.path / "run.sh").chmod(0o755)
    repo.write("docs/notes.txt", "old notes\n")
    repo.write(".gitattributes", "docs/** export-ignore\n")
    os.symlink("pkg/mod.py", repo.path / "link.py")
    sha = repo.commit("exec, symlink, attributes")
    repo.write("pkg/mod.py", "def f():\n    return 'dirty'\n")  # unstaged change
    repo.write("staged.py", "S = 1\n")
    repo.git("add", "staged.py")  # staged change
    repo.write("untracked.py", "U = 1\n")
    before = snapshot(repo)

    dest = gitops.export_tree(repo.path, "HEAD", tmp_path / "export" / "head")

    assert snapshot(repo) == before
    assert (dest / "pkg/mod.py").read_text() == "def f():\n    return 1\n"
    assert (dest / "docs/notes.txt").read_text() == "old notes\n"  # export-ignore does not apply
    assert os.stat(dest / "run.sh").st_mode & stat.S_IXUSR
    assert not os.stat(dest / "pkg/mod.py").st_mode & stat.S_IXUSR
    assert os.readlink(dest / "link.py") == "pkg/mod.py"
    assert not (dest / "staged.py").exists() and not (dest / "untracked.py").exists()
    assert not (dest / ".git").exists()
    assert gitops.export_tree(repo.path, sha, tmp_path / "again") == (tmp_path / "again").resolve()


def test_export_tree_of_an_older_commit_and_speed(repo: GitRepo, tmp_path: Path) -> None:
    first = repo.sha()
    for i in range(500):
        repo.write(f"pkg/m{i // 50}/f{i}.py", f"def f{i}():\n    return {i}\n")
    repo.commit("many files")
    old = gitops.export_tree(repo.path, first, tmp_path / "old")
    assert sorted(p.relative_to(old).as_posix() for p in old.rglob("*") if p.is_file()) == [
        "pkg/mod.py"
    ]
    start = time.perf_counter()
    new = gitops.export_tree(repo.path, "HEAD", tmp_path / "new")
    seconds = time.perf_counter() - start
    assert (new / "pkg/m9/f499.py").read_text() == "def f499():\n    return 499\n"
    assert seconds < 5, seconds


# ---------------------------------------------------------------- dirty paths, ancestry, branch


def test_is_ancestor_head_branch_and_merge_base(repo: GitRepo) -> None:
    first = repo.sha()
    repo.write("x.py", "X = 1\n")
    second = repo.commit("second")
    assert gitops.is_ancestor(repo.path, first, second)
    assert not gitops.is_ancestor(repo.path, second, first)
    assert gitops.merge_base(repo.path, first, second) == first
    assert gitops.head_branch(repo.path) == "main"
    repo.checkout(first)
    assert gitops.head_branch(repo.path) is None
