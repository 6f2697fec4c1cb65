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
    """Git's credentials for origin from the token input alone, never from a header the checkout
    saved (actions/checkout's persist-credentials): those are reset for the server and origin."""
    origin = git(repo, "remote", "get-url", "origin").stdout.decode("utf-8", "replace").strip()
    return auth_env(token, server_url, origin)


def auth_env(token: str, server_url: str, *urls: str) -> dict[str, str]:
    """Git config (as environment, never argv) that authenticates fetches and pushes with this token
    only: for the server and each of `urls` (the remote's own URL, the most specific match) every
    saved `http.<url>.extraheader` (actions/checkout's persisted token) and credential helper is
    reset first; with no token nothing else is sent."""
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    pairs = [("credential.helper", ""), ("http.extraheader", "")]
    for url in dict.fromkeys([f"{server_url.rstrip('/')}/", *(u for u in urls if u)]):
        pairs.append((f"http.{url}.extraheader", ""))
        if token:
            pairs.append((f"http.{url}.extraheader", f"AUTHORIZATION: basic {basic}"))
    env = {"GIT_CONFIG_COUNT": str(len(pairs))}
    for i, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
    return env


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
