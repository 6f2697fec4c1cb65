"""Opt-in fix commits: one bot commit per run with the verified fixes and their tests, pushed without force."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codegrad.github import botgit
from codegrad.model import Fix, Outcome, Target
from codegrad.redaction import redact

TRAILER = "Codegrad-Fix"
BOT_NAME = "codegrad[bot]"
BOT_EMAIL = "codegrad[bot]@users.noreply.github.com"
DEFAULT_CAP = 3
PATCH_NAME = "codegrad-fix.patch"
_TRAILER_LINE = re.compile(rf"^{TRAILER}:\s*\S+", re.M)
_REJECTED = ("[rejected]", "non-fast-forward", "fetch first", "stale info", "failed to update ref")


@dataclass(frozen=True)
class CommitResult:
    """What happened to the fix commit: pushed, moved (branch changed), skipped, or failed."""

    status: str
    message: str
    sha: str | None = None
    patch: Path | None = None
    keys: tuple[str, ...] = ()  # target keys whose fixes the commit carries

    @property
    def pushed(self) -> bool:
        return self.status == "pushed"


# --- pure rules --------------------------------------------------------------------------------


def has_trailer(message: str) -> bool:
    """True for a commit message that carries the `Codegrad-Fix:` trailer (the bot's own commit)."""
    return bool(_TRAILER_LINE.search(message))


def count_fix_commits(messages: Iterable[str]) -> int:
    return sum(1 for m in messages if has_trailer(m))


def verified_fixes(outcome: Outcome) -> list[Fix]:
    return [f for f in outcome.fixes if f.verified and f.source.strip()]


def blocker(
    *, same_repo: bool, branch: str, default_branch: str, fix_commits: int, cap: int, fixes: int
) -> str | None:
    """Why no fix commit may be pushed on this pull request, or None when one may."""
    if fixes == 0:
        return "no verified fixes to commit"
    if not same_repo:
        return "the head branch lives in a fork, so no fix commit is pushed there; the fixes are offered as suggestions"
    if not branch or branch == default_branch:
        return f"codegrad never pushes to the default branch ({default_branch or 'unknown'})"
    if fix_commits >= cap:
        return (
            f"this pull request already has {fix_commits} codegrad fix commit(s), the cap is {cap}"
        )
    return None


def splice(text: str, first: int, last: int, source: str) -> str:
    """text with its lines first..last (1-based, inclusive) replaced by source, line endings kept."""
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    new = [line + newline for line in source.splitlines()]
    if new and last == len(lines) and lines and not lines[-1].endswith(("\n", "\r")):
        new[-1] = new[-1].rstrip("\r\n")
    return "".join(lines[: first - 1] + new + lines[last:])


def matches(text: str, target: Target) -> bool:
    """True when the file still holds the target's source at the target's lines."""
    first = target.decorator_lineno or target.lineno
    lines = text.splitlines()[first - 1 : target.end_lineno]
    return lines == target.source.splitlines()


def test_path(fix: Fix, taken: set[str]) -> str:
    """A new file under tests/ for the fix's regression tests, unique among `taken` paths."""
    stem = re.sub(r"[^0-9A-Za-z]+", "_", f"{Path(fix.path).stem}_{fix.function}").strip("_").lower()
    path, n = f"tests/test_codegrad_{stem}.py", 2
    while path in taken:
        path, n = f"tests/test_codegrad_{stem}_{n}.py", n + 1
    return path


def commit_message(fixes: Sequence[Fix], run_id: str) -> str:
    lines = [f"codegrad: apply {len(fixes)} verified fix{'es' if len(fixes) != 1 else ''}", ""]
    for fix in fixes:
        lines.append(f"- {fix.path}::{fix.function}: fixes {len(fix.fixed)} finding(s)")
    lines += [
        "",
        "Every fix passed all of codegrad's checks; the regression tests that prove it are included.",
        "",
    ]
    lines.append(f"{TRAILER}: {run_id}")
    return "\n".join(lines) + "\n"


# --- git ---------------------------------------------------------------------------------------


def bot_identity() -> dict[str, str]:
    """The git author and committer variables of codegrad's commits."""
    return {
        "GIT_AUTHOR_NAME": BOT_NAME,
        "GIT_AUTHOR_EMAIL": BOT_EMAIL,
        "GIT_COMMITTER_NAME": BOT_NAME,
        "GIT_COMMITTER_EMAIL": BOT_EMAIL,
    }


def _mode(repo: Path, sha: str, path: str) -> str:
    listing = botgit.out(repo, "ls-tree", sha, "--", path).split()
    return listing[0] if listing else "100644"


def build_commit(repo: Path, outcome: Outcome, *, run_id: str) -> tuple[str, list[Fix]] | None:
    """A commit on top of outcome.head with the verified fixes and their tests, made with git
    plumbing (a private index): the checkout, its index and HEAD are never touched."""
    targets = {t.key: t for t in outcome.targets}
    files: dict[str, str] = {}
    used: list[Fix] = []
    for fix in sorted(
        verified_fixes(outcome),
        key=lambda f: -(targets[_key(f)].lineno if _key(f) in targets else 0),
    ):
        target = targets.get(_key(fix))
        text = (
            files.get(fix.path) if fix.path in files else botgit.blob(repo, outcome.head, fix.path)
        )
        if target is None or text is None or not matches(text, target):
            continue
        files[fix.path] = splice(
            text, target.decorator_lineno or target.lineno, target.end_lineno, fix.source
        )
        used.append(fix)
    if not used:
        return None
    taken = set(botgit.out(repo, "ls-tree", "-r", "--name-only", outcome.head).splitlines())
    for fix in used:
        if fix.tests:
            path = test_path(fix, taken)
            taken.add(path)
            files[path] = fix.tests if fix.tests.endswith("\n") else fix.tests + "\n"
    with tempfile.TemporaryDirectory(prefix="codegrad-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        botgit.out(repo, "read-tree", outcome.head, env=env)
        for path, text in sorted(files.items()):
            blob = botgit.out(
                repo, "hash-object", "-w", "--stdin", input=text.encode("utf-8", "surrogateescape")
            ).strip()
            mode = (
                _mode(repo, outcome.head, path)
                if botgit.blob(repo, outcome.head, path) is not None
                else "100644"
            )
            botgit.out(
                repo, "update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}", env=env
            )
        tree = botgit.out(repo, "write-tree", env=env).strip()
    message = commit_message(list(reversed(used)), run_id)
    sha = botgit.out(
        repo, "commit-tree", tree, "-p", outcome.head, env=bot_identity(), input=message.encode()
    ).strip()
    botgit.out(
        repo, "update-ref", f"refs/codegrad/fix-{re.sub(r'[^0-9A-Za-z._-]', '-', run_id)}", sha
    )
    return sha, list(reversed(used))


def _key(fix: Fix) -> str:
    return f"{fix.path}::{fix.function}"


def remote_sha(
    repo: Path, remote: str, branch: str, env: Mapping[str, str] | None = None
) -> str | None:
    """The sha the remote's branch points at now (None when it has no such branch)."""
    listing = botgit.out(repo, "ls-remote", remote, f"refs/heads/{branch}", env=env).split()
    return listing[0] if listing else None


def commit_and_push(
    repo: Path,
    outcome: Outcome,
    *,
    branch: str,
    run_id: str,
    patch_dir: Path,
    remote: str = "origin",
    env: Mapping[str, str] | None = None,
) -> CommitResult:
    """Commit the verified fixes on top of the reviewed head and push them to `branch` with a plain
    push, only when the branch still points at the reviewed head. The commit is kept under
    refs/codegrad/ and as a patch file whatever happens, so nothing is lost."""
    built = build_commit(repo, outcome, run_id=run_id)
    if built is None:
        return CommitResult(
            "skipped", "no verified fix applies cleanly to the reviewed head; nothing committed"
        )
    sha, fixes = built
    keys = tuple(_key(f) for f in fixes)
    patch_dir.mkdir(parents=True, exist_ok=True)
    patch = patch_dir / PATCH_NAME
    text = redact(botgit.out(repo, "format-patch", "-1", "--stdout", sha))
    patch.write_text(text, encoding="utf-8", errors="surrogateescape")
    kept = f"commit {sha[:12]} is kept as {patch.name} in the report"
    try:
        now = remote_sha(repo, remote, branch, env)
    except RuntimeError as exc:
        return CommitResult(
            "failed", f"could not read branch {branch}: {exc}; {kept}", sha, patch, keys
        )
    if now != outcome.head:
        moved = f"now at {now[:12]}" if now else "deleted"
        return CommitResult(
            "moved",
            f"branch {branch} moved ({moved}, reviewed {outcome.head[:12]}): fix commit not pushed; {kept}",
            sha,
            patch,
            keys,
        )
    proc = botgit.git(
        repo, "push", "--no-verify", "--porcelain", remote, f"{sha}:refs/heads/{branch}", env=env
    )
    if proc.returncode == 0:
        return CommitResult(
            "pushed",
            f"pushed fix commit {sha[:12]} to {branch} ({len(fixes)} fix(es))",
            sha,
            patch,
            keys,
        )
    text = redact((proc.stdout + proc.stderr).decode("utf-8", "replace").strip())
    if any(word in text for word in _REJECTED):
        return CommitResult(
            "moved",
            f"branch {branch} moved while codegrad ran: push rejected, not forced; {kept}",
            sha,
            patch,
            keys,
        )
    return CommitResult(
        "failed",
        f"push to {branch} failed: {text.splitlines()[-1] if text else 'no output'}; {kept}",
        sha,
        patch,
        keys,
    )
