"""The review use case: the functions a change touched, verified, refined when asked; and its exit status."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from codegrad.diff import changes, compare, empty
from codegrad.errors import ExitCode
from codegrad.model import (
    NO_LLM_NOTE,
    CheckResult,
    Evidence,
    Finding,
    Fix,
    Outcome,
    Severity,
    Workspace,
)
from codegrad.progress import Progress, Silent
from codegrad.refine import loop as refine
from codegrad.settings import DEFAULT_CHECKS, Settings
from codegrad.verify import engine, reprocheck


def review(settings: Settings, *, progress: Progress | None = None) -> Outcome:
    """Review the functions changed between base and head of settings.repo."""
    if settings.llm_configured and tuple(settings.checks) == DEFAULT_CHECKS:
        # the LLM-derived checks are on by default once an LLM is configured (fix or not)
        settings = settings.replace(checks=(*settings.checks, "llm-checks"))
    progress = progress or Silent()
    started = time.monotonic()
    deadline = started + settings.budget_seconds
    with tempfile.TemporaryDirectory(prefix="codegrad-") as tmp:
        tmp_path = Path(tmp)
        trees = compare.compare(
            settings.repo,
            base=settings.base,
            head=settings.head,
            tree=settings.tree,
            include=settings.include,
            exclude=settings.exclude,
            dest=tmp_path,
        )
        base, head, head_root, base_root = trees.base, trees.head, trees.head_root, trees.base_root
        progress.step(f"diff {base[:10]}..{head[:10] if trees.tree == 'commit' else trees.tree}")
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        targets, syntax = changes.changed_functions(
            trees.diff,
            head_source=lambda p: _read(head_root, p),
            base_source=lambda p: _read(base_root, p),
            include=settings.include,
            exclude=settings.exclude,
        )
        progress.step(f"{len(targets)} changed function(s)")
        workspace = Workspace(head_root=head_root, base_root=base_root, repo_root=settings.repo)
        evidence, broken = engine.verify(
            targets,
            settings=settings,
            workspace=workspace,
            scratch=scratch,
            deadline=deadline,
            progress=progress,
        )
        notes = [*trees.notes, *broken]
        evidence = Evidence(
            targets=evidence.targets, results=(_syntax_result(syntax), *evidence.results)
        )
        progress.step("reproducers: run on head and base")
        evidence = reprocheck.confirm(
            evidence,
            head_root=head_root,
            base_root=base_root,
            scratch=scratch,
            settings=settings,
            deadline=deadline,
        )
        fixes: tuple[Fix, ...] = ()
        if settings.fix and settings.llm_configured:
            found, refine_notes = refine.refine_all(
                evidence, settings=settings, workspace=workspace, scratch=scratch, progress=progress
            )
            fixes = tuple(found)
            notes.extend(refine_notes)
        elif settings.fix:
            notes.append(NO_LLM_NOTE)
    progress.done()
    return Outcome(
        base=base,
        head=head,
        targets=tuple(targets),
        evidence=evidence,
        fixes=fixes,
        notes=(
            *settings.notes,
            *notes,
        ),  # settings' own notes first (e.g. the config the PR changed)
        seconds=time.monotonic() - started,
        tree=trees.tree,
        nothing_checked=None
        if targets or syntax
        else empty.nothing_checked(trees.diff, settings.include, settings.exclude),
    )


def _syntax_result(findings: tuple[Finding, ...] | list[Finding]) -> CheckResult:
    return CheckResult(check="syntax", findings=tuple(findings))


def _read(root: Path, relpath: str) -> str | None:
    path = root / relpath
    if not path.is_file():
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return path.read_bytes().decode("utf-8", errors="surrogateescape")


def exit_status(outcome: Outcome, fail_on: str) -> int:
    """The one rule: 3 when codegrad itself broke, else 1 when a finding is at or above the fail
    level, else 0."""
    if outcome.internal_errors:
        return int(ExitCode.INTERNAL)
    if fail_on == "never":
        return int(ExitCode.OK)
    threshold = Severity(fail_on).rank
    failing = any(f.level.rank >= threshold for f in outcome.findings)
    return int(ExitCode.FINDINGS if failing else ExitCode.OK)
