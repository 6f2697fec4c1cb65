"""git plumbing: the one safe way to run git, and read-only steps: refs, base, diff, files, trees."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from codegrad.errors import UsageError
from codegrad.redaction import redact

# Options on every call: no hooks, no fsmonitor daemon, no signing prompt, no pager, paths unquoted.
_SAFE_CONFIG = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "core.quotePath=false",
    "--no-pager",
)
_DIFF_OPTIONS = (
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-relative",
    "-M",
    "-U3",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)


class GitError(RuntimeError):
    """A git command failed for a reason the user did not cause directly; says which and why."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        self.command = ["git", *args]
        self.returncode = returncode
        self.stderr = stderr.strip()
        super().__init__(
            redact(f"`{' '.join(self.command)}` failed (exit {returncode}): {self.stderr}")
        )


def _env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """No inherited GIT_* variable (they could point git at another repository, index, work tree or
    config), C locale, never a prompt; `extra` (the caller's own GIT_INDEX_FILE, auth) goes on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"})
    env.update(extra or {})
    return env


def run(
    repo: Path,
    args: Sequence[str],
    *,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run git in repo with the safe options and environment, the one way codegrad runs git;
    'not a repository' and a missing git are UsageError, other failures GitError when check."""
    if not Path(repo).is_dir():
        raise UsageError(
            f"repository path {str(repo)!r} is not a directory; pass an existing git checkout"
        )
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), *_SAFE_CONFIG, *args],
            input=input,
            capture_output=True,
            env=_env(env),
            check=False,
        )
    except FileNotFoundError:
        raise UsageError(
            "git is not installed or not on PATH; install git to use codegrad"
        ) from None
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        if "not a git repository" in stderr:
            raise UsageError(
                f"{str(repo)!r} is not a git repository; run codegrad inside a git checkout or pass --repo"
            )
        if "dubious ownership" in stderr:
            raise UsageError(
                f"git refuses to read {str(repo)!r} (dubious ownership); run "
                f"`git config --global --add safe.directory {repo}` first"
            )
        if check:
            raise GitError(args, proc.returncode, stderr)
    return proc


def git(repo: Path, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> str:
    """Run `git <args>` in repo and return stdout as text (undecodable bytes kept as surrogates).

    env adds variables (a temporary index, extra object stores) to the scrubbed environment.
    """
    data = input.encode("utf-8", "surrogateescape") if input is not None else None
    return run(repo, args, input=data, env=env).stdout.decode("utf-8", "surrogateescape")


def _try_rev(repo: Path, spec: str) -> str | None:
    """The full sha spec names, or None when it names no commit."""
    proc = run(repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", spec], check=False)
    if proc.returncode != 0:
        return None
    return proc.stdout.decode().strip() or None


def resolve(repo: Path, ref: str) -> str:
    """The full commit sha ref names; UsageError naming the ref when there is none."""
    sha = _try_rev(repo, f"{ref}^{{commit}}")
    if sha is None:
        raise UsageError(
            f"cannot resolve ref {ref!r} to a commit in {str(repo)!r}; pass a valid branch, tag or sha"
            f" (in CI, fetch it first, e.g. `git fetch origin {ref}`, or check out with fetch-depth: 0)"
        )
    return sha


def commit_or_none(repo: Path, ref: str) -> str | None:
    """The full sha of the commit ref names, or None (an unborn HEAD, a missing branch)."""
    return _try_rev(repo, f"{ref}^{{commit}}")


def merge_base(repo: Path, a: str, b: str) -> str | None:
    """The best common ancestor of two commits, or None when their histories are unrelated."""
    proc = run(repo, ["merge-base", "--end-of-options", a, b], check=False)
    if proc.returncode == 1:
        return None
    if proc.returncode != 0:
        raise GitError(
            ["merge-base", a, b], proc.returncode, proc.stderr.decode("utf-8", "replace")
        )
    return proc.stdout.decode().strip()


def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    """Whether ancestor is reachable from descendant (a commit is its own ancestor)."""
    args = ["merge-base", "--is-ancestor", "--end-of-options", ancestor, descendant]
    proc = run(repo, args, check=False)
    if proc.returncode in (0, 1):
        return proc.returncode == 0
    raise GitError(args, proc.returncode, proc.stderr.decode("utf-8", "replace"))


def head_branch(repo: Path) -> str | None:
    """The short name of the checked-out branch, or None on a detached HEAD."""
    proc = run(repo, ["symbolic-ref", "--quiet", "--short", "HEAD"], check=False)
    if proc.returncode != 0:
        return None
    return proc.stdout.decode().strip() or None


def toplevel(repo: Path) -> Path:
    """The root of the work tree that contains repo."""
    return Path(git(repo, "rev-parse", "--show-toplevel").strip())


def _default_branch_refs(repo: Path) -> list[str]:
    """Candidate refs for the default branch, best first: origin/HEAD, origin/main|master, main|master."""
    refs: list[str] = []
    proc = run(repo, ["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"], check=False)
    if proc.returncode == 0 and proc.stdout.strip():
        refs.append(proc.stdout.decode().strip())
    refs += [
        "refs/remotes/origin/main",
        "refs/remotes/origin/master",
        "refs/heads/main",
        "refs/heads/master",
    ]
    return list(dict.fromkeys(refs))


def short_ref(ref: str) -> str:
    """refs/remotes/origin/main -> origin/main, refs/heads/main -> main."""
    for prefix in ("refs/remotes/", "refs/heads/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def default_branch_tips(repo: Path) -> list[tuple[str, str]]:
    """(short name, tip sha) of the default-branch candidates that exist, best first."""
    tips: list[tuple[str, str]] = []
    for ref in _default_branch_refs(repo):
        tip = _try_rev(repo, f"{ref}^{{commit}}")
        if tip is not None:
            tips.append((short_ref(ref), tip))
    return tips


CANDIDATES = "origin/HEAD, origin/main, origin/master, main or master"
_CI_HINT = " (in CI, check out with fetch-depth: 0 so the base branch is present)"


def default_base(repo: Path, head: str) -> str:
    """The merge-base of head with the default branch; head~1 when head is on that branch."""
    head_sha = resolve(repo, head)
    tips = default_branch_tips(repo)
    why_not: list[str] = []
    for name, tip in tips:
        base = merge_base(repo, head_sha, tip)
        if base is None:
            why_not.append(f"{name} shares no history with it")
            continue
        if base == head_sha:  # head is the branch tip (or behind it): review head's own commit
            parent = _try_rev(repo, f"{head_sha}^1")
            if parent is None:
                why_not.append(
                    f"it is on {name} (its tip or an ancestor) and is a root commit, so there is"
                    " no earlier commit to compare it with"
                )
                continue
            return parent
        return base
    if not tips:
        cause = f"no default branch to compare with: none of {CANDIDATES} exists in this repository"
    else:
        cause = "; ".join(dict.fromkeys(why_not))
    raise UsageError(f"cannot find a base for {head!r}: {cause}; pass --base <ref>{_CI_HINT}")


def diff(repo: Path, base: str, head: str, *, env: dict[str, str] | None = None) -> str:
    """The unified diff from base to head (commits or trees; env may name extra object stores)."""
    args = ["diff", *_DIFF_OPTIONS, "--end-of-options", base, head, "--"]
    return run(repo, args, env=env).stdout.decode("utf-8", "surrogateescape")


def read_file(repo: Path, sha: str, path: str) -> str | None:
    """The text of path at commit sha (undecodable bytes kept as surrogates), or None if absent."""
    proc = run(repo, ["cat-file", "blob", f"{sha}:{path}"], check=False)
    if proc.returncode == 0:
        return proc.stdout.decode("utf-8", "surrogateescape")
    resolve(repo, sha)  # a bad commit is the user's mistake, not an absent file
    return None


def export_tree(repo: Path, sha: str, dest: Path) -> Path:
    """Write the tree of sha into dest (modes kept) without touching the repo's index, HEAD or files."""
    return export_treeish(repo, resolve(repo, sha), dest)


def export_treeish(
    repo: Path, treeish: str, dest: Path, *, env: dict[str, str] | None = None
) -> Path:
    """Write a commit's or tree's files into dest through a temporary index (env: object stores)."""
    dest = Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="codegrad-index-") as tmp:
        index_env = {**(env or {}), "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        tree = ["--work-tree", str(dest), "-c", "core.sparseCheckout=false"]
        run(repo, [*tree, "read-tree", "--end-of-options", treeish], env=index_env)
        run(repo, [*tree, "checkout-index", "--all", "--force"], env=index_env)
    return dest
