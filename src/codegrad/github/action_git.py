"""git in the action's workspace: token auth for pushing, fetching missing commits, a commit's message."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from codegrad.errors import UsageError
from codegrad.github import autofix


def _git(
    repo: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")
    }
    full.update({"GIT_TERMINAL_PROMPT": "0", **(env or {})})
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "core.hooksPath=/dev/null", *args],
        capture_output=True,
        text=True,
        env=full,
        check=False,
    )


def _has_commit(repo: Path, sha: str) -> bool:
    return _git(repo, "cat-file", "-e", f"{sha}^{{commit}}").returncode == 0


def push_env(repo: Path, token: str, server_url: str) -> dict[str, str]:
    """Git's credentials for origin from the token input alone, never from a header the checkout
    saved (actions/checkout's persist-credentials): those are reset for the server and origin."""
    origin = _git(repo, "remote", "get-url", "origin").stdout.strip()
    return autofix.auth_env(token, server_url, origin)


def ensure_commits(repo: Path, shas: Sequence[str], env: Mapping[str, str]) -> None:
    """Fetch base and head from origin when the checkout lacks them; UsageError when that fails."""
    missing = [s for s in shas if not _has_commit(repo, s)]
    if not missing:
        return
    _git(repo, "fetch", "--no-tags", "--quiet", "--depth=1", "origin", *missing, env=env)
    still = [s for s in missing if not _has_commit(repo, s)]
    if still:
        raise UsageError(
            f"commit {still[0][:12]} is not in the checkout at {repo} and could not be fetched; "
            "check out the repository first (actions/checkout with fetch-depth: 0)"
        )


def head_message(repo: Path, sha: str) -> str | None:
    proc = _git(repo, "log", "-1", "--format=%B", sha)
    return proc.stdout if proc.returncode == 0 else None
