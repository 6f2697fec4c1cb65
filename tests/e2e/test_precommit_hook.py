"""The pre-commit hook as a user adds it: `pre-commit try-repo` against a real repository.

pre-commit builds the hook's own virtual environment by installing this repository (and its
dependencies, from the package index) once per test session; later runs reuse it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers_git import GitRepo, make_repo

ROOT = Path(__file__).resolve().parents[2]
DOUBLE = 'def double(x: int) -> int:\n    """Twice x.\n\n    >>> double(2)\n    4\n    """\n    return {body}\n'


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's files as they are now (committed or not), as one commit in a fresh repo."""
    dest = tmp_path_factory.mktemp("hook") / "codegrad"
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        src = ROOT / rel
        if src.is_file() and not src.is_symlink():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    repo = GitRepo(dest)
    repo.git("init", "-q", "-b", "main")
    repo.commit("codegrad as it is in this checkout")
    return dest


def hook_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "CI", "GITHUB_"))}
    env.update(PRE_COMMIT_HOME=str(home), HOME=str(home), NO_COLOR="1")
    return env


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=840, check=False
    )


def test_the_manifest_declares_a_staged_fast_hook() -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "codegrad" and hook["language"] == "python"
    assert hook["pass_filenames"] is False and hook["types"] == ["python"]
    assert hook["entry"].split()[:2] == ["codegrad", "review"]
    assert {"--staged", "--fast", "--base"} <= set(hook["entry"].split())


@pytest.mark.timeout(900)
def test_try_repo_runs_the_hook_on_the_staged_change(tmp_path: Path, hook_repo: Path) -> None:
    """`pre-commit try-repo` (a fresh hook environment every time: one run only)."""
    project = make_repo(tmp_path, "project")
    project.write("calc.py", DOUBLE.format(body="x * 2"))
    project.commit("base")
    project.write("calc.py", DOUBLE.format(body="x + 3"))
    project.git("add", "calc.py")
    project.write("calc.py", DOUBLE.format(body="x * 2"))  # fixed on disk, the bug is staged
    home = tmp_path / "home"
    proc = run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "codegrad"],
        project.path,
        hook_env(home),
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "calc.py:4: double: [error] docstrings/bug: docstring example double(2)" in out
    assert "..the staged changes (HEAD " in out and "\x1b[" not in out


def git_commit(
    repo: GitRepo, env: dict[str, str], message: str
) -> subprocess.CompletedProcess[str]:
    """`git commit` as a user types it: hooks on (GitRepo.git turns them off)."""
    return run(
        ["git", "-c", "user.name=U", "-c", "user.email=u@example.com", "commit", "-m", message],
        repo.path,
        env,
    )


@pytest.mark.timeout(900)
def test_installed_hook_blocks_a_breaking_commit_and_lets_good_ones_through(
    tmp_path: Path, hook_repo: Path
) -> None:
    """The README's setup: .pre-commit-config.yaml, `pre-commit install`, then `git commit`."""
    sha = GitRepo(hook_repo).sha()
    config = f"repos:\n  - repo: {hook_repo}\n    rev: {sha}\n    hooks:\n      - id: codegrad\n"
    env = hook_env(tmp_path / "home")
    fresh = make_repo(tmp_path, "fresh")  # before its first commit
    project = make_repo(tmp_path, "project")
    for repo in (fresh, project):
        repo.write(".pre-commit-config.yaml", config)
        installed = run([sys.executable, "-m", "pre_commit", "install"], repo.path, env)
        assert installed.returncode == 0, installed.stdout + installed.stderr

    fresh.write("calc.py", DOUBLE.format(body="x + 3"))
    fresh.git("add", "-A")
    first = git_commit(fresh, env, "first")  # installs the hook environment (once)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "calc.py:4: double: [error] docstrings/bug" in first.stderr  # git shows hooks on stderr
    assert "..the staged changes (no commit yet)" in first.stderr

    project.write("calc.py", DOUBLE.format(body="x * 2"))
    project.git("add", "-A")
    assert git_commit(project, env, "base").returncode == 0
    project.write("calc.py", DOUBLE.format(body="x + 3"))
    project.git("add", "calc.py")
    bad = git_commit(project, env, "break it")
    assert bad.returncode == 1 and "[error] docstrings/bug" in bad.stderr
    assert project.git("log", "--format=%s") == "base\n"  # the commit was refused

    project.write("calc.py", DOUBLE.format(body="x + x"))
    project.git("add", "calc.py")
    good = git_commit(project, env, "refactor")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "codegrad (verify the changed functions)" in good.stderr and "Passed" in good.stderr

    project.write("README.md", "docs only\n")
    project.git("add", "README.md")
    docs = git_commit(project, env, "docs")
    assert docs.returncode == 0 and "(no files to check)Skipped" in docs.stderr
    assert project.git("log", "--format=%s") == "docs\nrefactor\nbase\n"
