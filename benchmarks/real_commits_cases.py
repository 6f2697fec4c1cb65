"""Real-commit benchmark cases: the manifest, where each project's history lives, and the PR commits.

A case names a commit of a library. A `fix` case becomes two pull requests that put the bug back
("kept": the fix's tests stay; "removed": the tests the fix changed are as they were before it),
a `correct` case one pull request (base = the commit's parent, head = the commit). The commits are
built with git plumbing in a clone of the project, so nothing is checked out and the same case
gives the same commit ids on every run.
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib

KINDS = ("fix", "correct")
VARIANTS = {"fix": ("kept", "removed"), "correct": ("correct",)}
ALL_VARIANTS = ("kept", "removed", "correct")
# Paths that hold tests (the same shapes codegrad leaves out of its targets by default).
TEST_GLOBS = (
    "tests/*",
    "test/*",
    "*/tests/*",
    "*/test/*",
    "test_*.py",
    "*/test_*.py",
    "*_test.py",
    "conftest.py",
    "*/conftest.py",
)
_SHA = re.compile(r"^[0-9a-f]{40}$")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
# Fixed identity and dates: a case's commits get the same ids on every run and every machine.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "real-commits-bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "real-commits-bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00+0000",
    "GIT_COMMITTER_DATE": "2000-01-01T00:00:00+0000",
}


class BenchError(Exception):
    """A problem with the manifest, a mirror or a case, said in words (exit 2, no traceback)."""


@dataclass(frozen=True)
class Project:
    name: str
    url: str
    test_deps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    id: str
    project: str
    kind: str
    commit: str
    note: str = ""


@dataclass(frozen=True)
class Unit:
    """One pull request to review: a case in one variant."""

    case: Case
    variant: str

    @property
    def name(self) -> str:
        return f"{self.case.id}.{self.variant}"


@dataclass(frozen=True)
class Manifest:
    projects: Mapping[str, Project]
    cases: tuple[Case, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PullRequest:
    """The commits of one unit in the project's clone, and what the PR changed."""

    base: str
    head: str
    source_paths: tuple[str, ...]  # library files the PR changes
    test_paths: tuple[str, ...]  # test files the fix changed (kept or removed by the variant)


# ---------------------------------------------------------------- the manifest (pure)


def _need(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise BenchError(f"{where}: '{key}' must be a non-empty string, got {value!r}")
    return value


def parse_manifest(data: Mapping[str, Any]) -> Manifest:
    """Validate the manifest's tables; every mistake is named with the case or project it is in."""
    projects: dict[str, Project] = {}
    for name, table in dict(data.get("projects", {})).items():
        where = f"[projects.{name}]"
        deps = table.get("test-deps", [])
        if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            raise BenchError(f"{where}: 'test-deps' must be a list of pip requirements")
        projects[name] = Project(name, _need(table, "url", where), tuple(deps))
    cases: list[Case] = []
    seen: set[str] = set()
    for n, table in enumerate(data.get("cases", []), 1):
        where = f"case {n} ({table.get('id', '?')!r})"
        case = Case(
            id=_need(table, "id", where),
            project=_need(table, "project", where),
            kind=_need(table, "kind", where),
            commit=_need(table, "commit", where),
            note=str(table.get("note", "")),
        )
        if not _ID.match(case.id) or case.id in seen:
            raise BenchError(f"{where}: id must be unique, lower-case letters, digits, . _ -")
        if case.project not in projects:
            raise BenchError(f"{where}: unknown project {case.project!r}; add [projects.NAME]")
        if case.kind not in KINDS:
            raise BenchError(f"{where}: kind {case.kind!r} is not one of {', '.join(KINDS)}")
        if not _SHA.match(case.commit):
            raise BenchError(f"{where}: commit {case.commit!r} must be a full 40-digit sha")
        seen.add(case.id)
        cases.append(case)
    return Manifest(projects, tuple(cases))


def load_manifest(path: Path) -> Manifest:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BenchError(f"cannot read the manifest {path}: {exc}") from exc
    return parse_manifest(data)


def select_units(
    cases: Iterable[Case], patterns: Sequence[str], variants: Sequence[str]
) -> list[Unit]:
    """Units whose case id (or `id.variant`) matches a pattern, in manifest order."""
    pats = list(patterns) or ["*"]
    units = []
    for case in cases:
        for variant in VARIANTS[case.kind]:
            if variant not in variants:
                continue
            unit = Unit(case, variant)
            if any(fnmatch.fnmatchcase(x, p) for p in pats for x in (case.id, unit.name)):
                units.append(unit)
    return units


def is_test_path(path: str) -> bool:
    return any(fnmatch.fnmatchcase(path, glob) for glob in TEST_GLOBS)


def split_paths(paths: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(library .py files, test files) among the paths a commit changed; other files are neither."""
    source = tuple(p for p in paths if p.endswith(".py") and not is_test_path(p))
    tests = tuple(p for p in paths if is_test_path(p))
    return source, tests


# ---------------------------------------------------------------- git (I/O)


def git(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV, **(env or {})},
        check=False,
    )
    if proc.returncode != 0:
        raise BenchError(f"git {' '.join(args)} failed in {repo}: {proc.stderr.strip()[-500:]}")
    return proc.stdout.strip()


def has_commit(repo: Path, sha: str) -> bool:
    proc = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "-e", f"{sha}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


def _git_dirs(root: Path) -> list[Path]:
    """root itself if it is a git repository, else the repositories one or two levels below it."""

    def is_repo(p: Path) -> bool:
        return (p / ".git").exists() or ((p / "HEAD").is_file() and (p / "objects").is_dir())

    if is_repo(root):
        return [root]
    found = [p for p in sorted(root.glob("*")) if p.is_dir() and is_repo(p)]
    found += [p for p in sorted(root.glob("*/*")) if p.is_dir() and is_repo(p)]
    return found


def find_mirrors(
    roots: Sequence[Path], manifest: Manifest, projects: Iterable[str]
) -> dict[str, Path]:
    """For each project, a repository under the --mirror folders that holds all its case commits."""
    candidates = [d for root in roots for d in _git_dirs(root)]
    found: dict[str, Path] = {}
    for name in projects:
        commits = [c.commit for c in manifest.cases if c.project == name]
        for repo in candidates:
            if all(has_commit(repo, sha) for sha in commits):
                found[name] = repo
                break
        else:
            url = manifest.projects[name].url
            raise BenchError(
                f"no clone of {name} with its {len(commits)} case commits under "
                f"{', '.join(map(str, roots)) or '(no --mirror given)'}; run "
                f"`git clone {url} DIR` and pass --mirror DIR"
            )
    return found


def ensure_clone(mirror: Path, dest: Path) -> Path:
    """A non-bare clone of the mirror without a checkout (codegrad reads commits, not the tree)."""
    if not (dest / ".git").is_dir():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".partial")
        if tmp.exists():
            subprocess.run(["rm", "-rf", str(tmp)], check=True)
        subprocess.run(
            ["git", "clone", "-q", "--no-checkout", str(mirror), str(tmp)],
            check=True,
            capture_output=True,
        )
        tmp.rename(dest)
    return dest


def changed_paths(repo: Path, parent: str, commit: str) -> list[str]:
    out = git(repo, "diff", "--name-only", "--no-renames", parent, commit)
    return [line for line in out.splitlines() if line]


def _tree_with(repo: Path, start: str, source: str, paths: Sequence[str], index: Path) -> str:
    """The tree of `start` with `paths` as they are in `source` (absent there: removed)."""
    env = {"GIT_INDEX_FILE": str(index)}
    git(repo, "read-tree", start, env=env)
    for path in paths:
        entry = git(repo, "ls-tree", source, "--", path)
        if entry:
            mode, _kind, rest = entry.split(" ", 2)
            sha = rest.split("\t", 1)[0]
            git(repo, "update-index", "--add", "--cacheinfo", f"{mode},{sha},{path}", env=env)
        else:
            git(repo, "update-index", "--force-remove", "--", path, env=env)
    return git(repo, "write-tree", env=env)


def _commit(repo: Path, tree: str, parent: str, message: str) -> str:
    return git(repo, "commit-tree", tree, "-p", parent, "-m", message)


def build_pull_request(repo: Path, unit: Unit, scratch: Path) -> PullRequest:
    """Make (or remake: the ids are fixed) the base and head commits of one unit."""
    commit = unit.case.commit
    parents = git(repo, "rev-list", "--parents", "-n", "1", commit).split()[1:]
    if len(parents) != 1:
        raise BenchError(
            f"{unit.case.id}: {commit} has {len(parents)} parents; pick a non-merge commit"
        )
    parent = parents[0]
    source, tests = split_paths(changed_paths(repo, parent, commit))
    if unit.variant == "correct":
        return PullRequest(parent, commit, source, tests)
    if not source:
        raise BenchError(f"{unit.case.id}: the fix {commit[:12]} changes no library .py file")
    scratch.mkdir(parents=True, exist_ok=True)
    index = scratch / f"index-{unit.name}"
    try:
        if unit.variant == "kept":
            base = commit
        else:  # the fix without its tests: the tests as they were before it
            tree = _tree_with(repo, commit, parent, tests, index)
            base = _commit(repo, tree, parent, f"{unit.case.id}: the fix without its tests")
        tree = _tree_with(repo, base, parent, source, index)
        head = _commit(repo, tree, base, f"{unit.case.id}: put the bug back ({unit.variant})")
    finally:
        index.unlink(missing_ok=True)
    git(repo, "update-ref", f"refs/bench/{unit.name}/base", base)
    git(repo, "update-ref", f"refs/bench/{unit.name}/head", head)
    return PullRequest(base, head, source, tests)


def export(repo: Path, sha: str, dest: Path) -> Path:
    """The tree of sha written to dest (for the project's own pytest run)."""
    dest.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(["git", "-C", str(repo), "archive", sha], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
        tar.extractall(dest, filter="data")
    if proc.wait() != 0:
        raise BenchError(f"git archive {sha} failed in {repo}")
    return dest
