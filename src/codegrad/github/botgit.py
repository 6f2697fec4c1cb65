"""git for the bot in the action's workspace: its commits, reads at a commit, fetching missing
commits and push credentials from the token input; every call through gitops' one safe runner."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from codegrad.diff import gitops
from codegrad.errors import UsageError


def git(
    repo: Path, *args: str, env: Mapping[str, str] | None = None, input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run git in repo (safe options, cleaned environment); env adds to it; never raises on exit."""
    return gitops.run(repo, args, env=env, input=input, check=False)


def out(
    repo: Path, *args: str, env: Mapping[str, str] | None = None, input: bytes | None = None
) -> str:
    """git's stdout; GitError (a RuntimeError, message redacted) when git fails."""
    proc = gitops.run(repo, args, env=env, input=input)
    return proc.stdout.decode("utf-8", "surrogateescape")


def blob(repo: Path, sha: str, path: str) -> str | None:
    """The text of path at sha (None when it is not a file there)."""
    proc = git(repo, "cat-file", "blob", f"{sha}:{path}")
    return proc.stdout.decode("utf-8", "surrogateescape") if proc.returncode == 0 else None


def has_commit(repo: Path, sha: str) -> bool:
    return git(repo, "cat-file", "-e", f"{sha}^{{commit}}").returncode == 0


def push_env(repo: Path, token: str, server_url: str) -> dict[str, str]:
    """Token auth for git over HTTPS, unless the checkout already persisted its own credentials."""
    configured = git(repo, "config", "--get-regexp", r"^http\..*\.extraheader$")
    if configured.stdout.strip() or not token:
        return {}
    return auth_env(token, server_url)


def auth_env(token: str, server_url: str) -> dict[str, str]:
    """Git config (as environment, never argv) that sends the token to the server for pushes."""
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"http.{server_url.rstrip('/')}/.extraheader",
        "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {basic}",
    }


def ensure_commits(repo: Path, shas: Sequence[str], env: Mapping[str, str]) -> None:
    """Fetch base and head from origin when the checkout lacks them; UsageError when that fails."""
    missing = [s for s in shas if not has_commit(repo, s)]
    if not missing:
        return
    git(repo, "fetch", "--no-tags", "--quiet", "--depth=1", "origin", *missing, env=env)
    still = [s for s in missing if not has_commit(repo, s)]
    if still:
        raise UsageError(
            f"commit {still[0][:12]} is not in the checkout at {repo} and could not be fetched; "
            "check out the repository first (actions/checkout with fetch-depth: 0)"
        )


def head_message(repo: Path, sha: str) -> str | None:
    proc = git(repo, "log", "-1", "--format=%B", sha)
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else None
