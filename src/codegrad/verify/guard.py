"""Whether the project's code may run here: no weak isolation while secrets are around; the checkout hidden."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from codegrad.diff import gitops
from codegrad.errors import UsageError
from codegrad.redaction import MIN_SECRET_LEN, SECRET_NAME, TOKEN_SHAPES
from codegrad.verify import fsview
from codegrad.verify.isolation import LEVELS, Isolation, isolation

log = logging.getLogger("codegrad.verify.sandbox")

STRICT = "strict"
ALLOW_WEAK = "allow-weak"
POLICIES = (STRICT, ALLOW_WEAK)
ENV_POLICY = "CODEGRAD_ISOLATION"


def held_secrets(env: Mapping[str, str], extra: Sequence[str] = ()) -> list[str]:
    """Names (never values) of the credentials this process holds: variables with a secret-looking
    name or a token-shaped value, and `extra` (e.g. "the LLM API key") (pure)."""
    names = [
        key
        for key, value in env.items()
        if (SECRET_NAME.search(key) and len(value) >= MIN_SECRET_LEN) or TOKEN_SHAPES.search(value)
    ]
    return sorted(names) + [e for e in extra if e]


def policy(value: str | None, source: str) -> str:
    """A validated isolation policy (default strict); UsageError naming the bad value and its source."""
    chosen = (value or "").strip().lower() or STRICT
    if chosen not in POLICIES:
        raise UsageError(f"{source}: {value!r} is not one of {', '.join(POLICIES)}")
    return chosen


def weak_isolation(iso: Isolation, *, secrets: Sequence[str], strict: bool) -> str | None:
    """Why running the project's code at this isolation level would expose a secret, or None (pure).

    `strict` (the GitHub Action): any level below namespaces, secrets or not, since a job's token and
    the runner's files are always there."""
    if iso.level == LEVELS[-1] or not (strict or secrets):
        return None
    held = ", ".join(secrets[:6]) + (", ..." if len(secrets) > 6 else "")
    why = f" ({iso.reason})" if iso.reason else ""
    return (
        f"refusing to run the project's code at sandbox isolation {iso.level!r}{why} "
        f"{'while ' + held + ' are present' if secrets else 'in GitHub Actions'}: without namespaces "
        "that code can read this process's environment, every file this user can read (the "
        "checkout's .git, HOME, the runner's temp folder) and the network. Allow user namespaces "
        "(Ubuntu 24.04: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0; the action "
        "does it with enable-userns: true), run without the secrets, or accept the risk with the "
        f"action input `isolation: {ALLOW_WEAK}` (CLI: --isolation {ALLOW_WEAK}, or "
        f"{ENV_POLICY}={ALLOW_WEAK})"
    )


def checkout_paths(repo: Path) -> list[Path]:
    """The work tree that holds repo (repo may be a folder inside it) and its git folders."""
    try:
        out = gitops.git(
            repo,
            "rev-parse",
            "--path-format=absolute",
            "--show-toplevel",
            "--git-dir",
            "--git-common-dir",
        )
    except (gitops.GitError, OSError):
        return [repo]  # git itself failed: hide at least the folder
    return [repo, *(Path(line) for line in out.splitlines() if line.strip())]


def admit(
    repo: Path,
    *,
    chosen: str,
    strict: bool,
    env: Mapping[str, str] | None = None,
    extra_secrets: Sequence[str] = (),
) -> Isolation:
    """Before the project's code runs: hide the checkout from the sandbox, and refuse (UsageError) an
    isolation level that would expose a secret, unless the policy is allow-weak (then warn)."""
    for path in checkout_paths(repo):
        fsview.conceal(path)
    iso = isolation()
    secrets = held_secrets(os.environ if env is None else env, extra_secrets)
    problem = weak_isolation(iso, secrets=secrets, strict=strict)
    if problem and chosen != ALLOW_WEAK:
        raise UsageError(problem)
    if problem:
        log.warning("isolation: %s: running anyway; %s", ALLOW_WEAK, problem.split(": ", 1)[1])
    return iso
