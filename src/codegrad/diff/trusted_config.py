"""The review's `[tool.codegrad]` comes from the base commit: a change cannot configure its own review.

Reviewing base..head, the table is read from the base commit's pyproject.toml (or the config file
named by a flag or input, when that file lies inside the repository). When head's table differs,
the review says so in a note: the new settings take effect once the change is merged. A config
file outside the repository is the user's own and is read from disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codegrad.diff import gitops
from codegrad.errors import UsageError
from codegrad.settings import Config, parse_config, read_config_file

PYPROJECT = "pyproject.toml"


def review_base(repo: Path, base: str | None, head: str) -> str:
    """The commit a review diffs from: the merge-base of base (or the default branch) and head."""
    head_sha = gitops.resolve(repo, head)
    if base:
        given = gitops.resolve(repo, base)
        return gitops.merge_base(repo, given, head_sha) or given
    return gitops.default_base(repo, head_sha)


def for_review(repo: Path, *, base: str, head: str, config: str | None = None) -> Config:
    """The base commit's `[tool.codegrad]` table, with a note when head changes it."""
    relative = _in_repo(repo, config)
    if relative is None:  # a file of the user's own, outside the repository
        return read_config_file(repo, config)
    where = f"{relative} at the base commit {base[:12]}"
    trusted = _table_at(repo, base, relative, where)
    proposed = _proposed(repo, head, relative)
    notes: list[str] = []
    if trusted is None and config:
        notes.append(
            f"the config file {relative} is not in the base commit {base[:12]}; the review used "
            "the default settings"
        )
    if proposed != (trusted or {}):
        notes.append(
            f"this change edits the [tool.codegrad] settings in {relative}; the review used "
            f"the base commit's ({base[:12]}), the new ones take effect once it is merged"
        )
    return Config(trusted or {}, where, tuple(notes))


def _in_repo(repo: Path, config: str | None) -> str | None:
    """The config file's path inside the repository (POSIX), or None for a file outside it."""
    if not config:
        return PYPROJECT
    root = gitops.toplevel(repo).resolve()
    path = Path(config)
    if not path.is_absolute():
        path = Path.cwd() / path
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return None


def _table_at(repo: Path, sha: str, relative: str, where: str) -> dict[str, Any] | None:
    """The table in the file at sha (None when the file is absent); a bad file is a UsageError."""
    text = gitops.read_file(repo, sha, relative)
    return None if text is None else parse_config(text, where)


def _proposed(repo: Path, sha: str, relative: str) -> Any:
    """Head's table, for comparison only: an unreadable one counts as a change, never an error."""
    text = gitops.read_file(repo, sha, relative)
    if text is None:
        return {}
    try:
        return parse_config(text, relative)
    except UsageError:
        return ("unparsable", text)


def noting_working_tree(repo: Path, trusted: Config, *, config: str | None = None) -> Config:
    """For a review of the working tree or index: also say when the file on disk holds another
    table than the one used (an uncommitted settings edit takes effect once it is merged too)."""
    relative = _in_repo(repo, config)
    if relative is None or any("edits the [tool.codegrad] settings" in n for n in trusted.notes):
        return trusted
    path = gitops.toplevel(repo) / relative
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
    try:
        on_disk: Any = {} if text is None else parse_config(text, relative)
    except UsageError:
        on_disk = ("unparsable", text)
    if on_disk == dict(trusted.table):
        return trusted
    note = (
        f"your uncommitted changes edit the [tool.codegrad] settings in {relative}; the review "
        f"used the base commit's ({trusted.where}), the new ones take effect once merged"
    )
    return Config(trusted.table, trusted.where, (*trusted.notes, note))
