"""Run git for codegrad's bot commits: no hooks, no fsmonitor, no signing, C locale, no inherited GIT_*."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from codegrad.redaction import redact

SAFE = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "commit.gpgsign=false",
)


def git(
    repo: Path, *args: str, env: Mapping[str, str] | None = None, input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run git in repo with the safe options; env adds to (and overrides) the cleaned environment."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    full.update({"LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", **(env or {})})
    return subprocess.run(
        ["git", "-C", str(repo), *SAFE, *args],
        input=input,
        capture_output=True,
        env=full,
        check=False,
    )


def out(
    repo: Path, *args: str, env: Mapping[str, str] | None = None, input: bytes | None = None
) -> str:
    """git's stdout; RuntimeError (redacted) when git fails."""
    proc = git(repo, *args, env=env, input=input)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(redact(f"git {' '.join(args[:2])} failed: {err}"))
    return proc.stdout.decode("utf-8", "surrogateescape")


def blob(repo: Path, sha: str, path: str) -> str | None:
    """The text of path at sha (None when it is not a file there)."""
    proc = git(repo, "cat-file", "blob", f"{sha}:{path}")
    return proc.stdout.decode("utf-8", "surrogateescape") if proc.returncode == 0 else None
