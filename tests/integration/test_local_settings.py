"""A local review's settings on real repositories: --fast, and the trusted config per tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegrad.cli import make_parser, review_settings
from codegrad.errors import UsageError
from codegrad.settings import Settings
from helpers_git import GitRepo, make_repo


def repo_with(tmp_path: Path, pyproject: str | None = None) -> GitRepo:
    repo = make_repo(tmp_path)
    repo.write("m.py", "def f():\n    return 1\n")
    if pyproject is not None:
        repo.write("pyproject.toml", pyproject)
    repo.commit("base")
    return repo


def settings(repo: GitRepo, *flags: str, env: dict[str, str] | None = None) -> Settings:
    args = make_parser().parse_args(["review", "--repo", str(repo.path), *flags])
    return review_settings(args, env or {})


def test_fast_keeps_the_quick_checks_and_lowers_the_limits(tmp_path: Path) -> None:
    s = settings(repo_with(tmp_path), "--fast")
    assert s.checks == ("docstrings", "properties", "differential")
    assert (s.max_examples, s.function_timeout, s.tree) == (25, 10.0, "worktree")


def test_fast_respects_the_configuration_and_explicit_flags(tmp_path: Path) -> None:
    config = '[tool.codegrad]\nchecks = ["docstrings", "efficiency"]\nmax-examples = 10\n'
    repo = repo_with(tmp_path, config)
    s = settings(repo, "--fast")
    assert s.checks == ("docstrings",) and s.max_examples == 10  # never adds, never raises
    s = settings(repo, "--fast", "--checks", "efficiency", "--max-examples", "200")
    assert s.checks == ("efficiency",) and s.max_examples == 200 and s.function_timeout == 10.0


def test_fast_with_nothing_left_to_run_is_a_usage_error(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, '[tool.codegrad]\nchecks = ["project-tests"]\n')
    with pytest.raises(UsageError, match=r"--fast leaves none of the configured checks"):
        settings(repo, "--fast")


def test_the_working_tree_review_uses_the_base_commits_config_and_says_so(
    tmp_path: Path,
) -> None:
    repo = repo_with(tmp_path, "[tool.codegrad]\nmax-examples = 7\n")
    repo.write("pyproject.toml", '[tool.codegrad]\nmax-examples = 7\nfail-on = "never"\n')
    s = settings(repo)
    assert s.tree == "worktree" and s.fail_on == "error" and s.max_examples == 7
    [note] = s.notes
    assert note.startswith("your uncommitted changes edit the [tool.codegrad] settings")
    repo.write("pyproject.toml", "[tool.codegrad]\nmax-examples = 7\n")
    assert settings(repo).notes == ()


def test_on_a_new_branch_off_a_root_commit_the_settings_need_no_base_flag(
    tmp_path: Path,
) -> None:
    repo = repo_with(tmp_path, "[tool.codegrad]\nmax-examples = 7\n")
    repo.branch("mywork")  # main's only commit: a commit review has no base here
    assert settings(repo).max_examples == 7
    with pytest.raises(UsageError, match="is a root commit"):
        settings(repo, env={"CI": "true"})


def test_before_the_first_commit_the_files_on_disk_configure_the_review(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "fresh")
    repo.write("pyproject.toml", "[tool.codegrad]\nmax-examples = 9\n")
    s = settings(repo, "--staged", "--base", "HEAD")
    assert s.tree == "index" and s.max_examples == 9
