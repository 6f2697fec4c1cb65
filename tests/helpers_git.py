"""Build real throwaway git repositories for tests: write files, commit, branch, run git."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}


@dataclass
class GitRepo:
    """A git work tree in a temp dir; every method runs real git."""

    path: Path

    def git(self, *args: str) -> str:
        """Run `git <args>` here and return stdout; raises CalledProcessError with stderr on failure."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(_ENV, HOME=str(self.path.parent))
        proc = subprocess.run(
            ["git", "-c", "core.hooksPath=/dev/null", *args],
            cwd=self.path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise subprocess.CalledProcessError(
                proc.returncode, proc.args, proc.stdout, proc.stderr
            )
        return proc.stdout

    def write(self, relpath: str, text: str | bytes) -> Path:
        """Write a file (bytes as-is, text without newline translation), creating folders."""
        target = self.path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text, encoding="utf-8", newline="")
        return target

    def commit(self, msg: str = "change") -> str:
        """Stage everything in the work tree, commit (even if empty) and return the new sha."""
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", msg)
        return self.sha("HEAD")

    def sha(self, ref: str = "HEAD") -> str:
        """The full sha of ref."""
        return self.git("rev-parse", "--verify", f"{ref}^{{commit}}").strip()

    def branch(self, name: str) -> None:
        """Create branch name at HEAD and switch to it."""
        self.git("checkout", "-q", "-b", name)

    def checkout(self, name: str) -> None:
        """Switch to an existing branch or commit."""
        self.git("checkout", "-q", name)


def make_repo(tmp_path: Path, name: str = "repo", branch: str = "main") -> GitRepo:
    """A fresh repository at tmp_path/name whose initial branch is `branch` (no commits yet)."""
    path = tmp_path / name
    path.mkdir(parents=True, exist_ok=True)
    repo = GitRepo(path)
    repo.git("init", "-q", "-b", branch)
    repo.git("config", "commit.gpgsign", "false")
    repo.git("config", "core.autocrlf", "false")
    return repo


def make_pr_repo(tmp_path: Path, relpath: str, base: str, head: str, message: str) -> GitRepo:
    """A repository whose `main` commits `relpath` as base and whose checked-out branch `feature`
    changes it to head (a pull request of one file)."""
    repo = make_repo(tmp_path)
    repo.write(relpath, base)
    repo.commit("base")
    repo.branch("feature")
    repo.write(relpath, head)
    repo.commit(message)
    return repo
