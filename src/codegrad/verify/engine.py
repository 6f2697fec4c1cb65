"""The use cases wired from the pieces: `review()` a change, `verify()` targets in a workspace."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from codegrad.diff import changes, gitops
from codegrad.errors import UsageError
from codegrad.model import CheckResult, Evidence, Finding, Fix, Kind, Outcome, Target, Workspace
from codegrad.progress import Progress, Silent
from codegrad.settings import DEFAULT_CHECKS, Settings
from codegrad.verify import reprocheck
from codegrad.verify.checks.base import Check, CheckContext

log = logging.getLogger(__name__)


def make_checks(names: Sequence[str]) -> list[Check]:
    """The check objects for the configured names, in a cheap-first order."""
    from codegrad.verify.checks.differential import DifferentialCheck
    from codegrad.verify.checks.docstrings import DocstringsCheck
    from codegrad.verify.checks.efficiency import EfficiencyCheck
    from codegrad.verify.checks.llm_checks import LLMChecksCheck
    from codegrad.verify.checks.project_tests import ProjectTestsCheck
    from codegrad.verify.checks.properties import PropertiesCheck
    from codegrad.verify.checks.recorded import RecordedCheck

    available: dict[str, type] = {
        "docstrings": DocstringsCheck,
        "properties": PropertiesCheck,
        "differential": DifferentialCheck,
        "efficiency": EfficiencyCheck,
        "project-tests": ProjectTestsCheck,
        "recorded": RecordedCheck,  # after project-tests: both run the project's suite
        "llm-checks": LLMChecksCheck,  # last: it waits on the LLM; builds its client from the settings
    }
    order = list(available)
    return [available[name]() for name in order if name in names and name in available]


def run_checks(
    checks: Sequence[Check], targets: Sequence[Target], ctx: CheckContext, progress: Progress
) -> tuple[list[CheckResult], list[str]]:
    """Run each check over the targets; a check that breaks becomes a note, not a crash."""
    results: list[CheckResult] = []
    broken: list[str] = []
    for check in checks:
        if ctx.remaining() <= 0:
            broken.append(f"time budget spent before the {check.name} check ran")
            continue
        progress.step(f"{check.name}: {len(targets)} function(s)")
        started = time.monotonic()
        try:
            result = check.run(targets, ctx)
        except UsageError:
            raise  # the user's mistake (e.g. a bad test command): exit 2 with its message
        except Exception as exc:
            log.exception("check %s failed", check.name)
            broken.append(f"internal error in the {check.name} check: {type(exc).__name__}: {exc}")
            continue
        log.info("%s done in %.1fs", check.name, time.monotonic() - started)
        results.append(result)
    return results, broken


def verify(
    targets: Sequence[Target],
    *,
    settings: Settings,
    workspace: Workspace,
    scratch: Path,
    deadline: float,
    progress: Progress | None = None,
    checks: Sequence[Check] | None = None,
) -> tuple[Evidence, list[str]]:
    """All checks over targets in one workspace: the evidence, plus notes on what could not run."""
    progress = progress or Silent()
    ctx = CheckContext(settings=settings, workspace=workspace, scratch=scratch, deadline=deadline)
    chosen = list(checks) if checks is not None else make_checks(settings.checks)
    results, notes = run_checks(chosen, targets, ctx, progress)
    return Evidence(targets=tuple(targets), results=tuple(results)), notes


def _syntax_result(findings: Sequence[Finding]) -> CheckResult:
    return CheckResult(check="syntax", findings=tuple(findings))


def review(settings: Settings, *, progress: Progress | None = None) -> Outcome:
    """Review the functions changed between base and head of settings.repo."""
    if settings.llm_configured and tuple(settings.checks) == DEFAULT_CHECKS:
        # the LLM-derived checks are on by default once an LLM is configured (fix or not)
        settings = settings.replace(checks=(*settings.checks, "llm-checks"))
    progress = progress or Silent()
    started = time.monotonic()
    deadline = started + settings.budget_seconds
    repo = settings.repo
    head = gitops.resolve(repo, settings.head)
    if settings.base:
        # like a pull request's diff: from the merge-base of base and head, not from base's tip
        given = gitops.resolve(repo, settings.base)
        base = gitops.merge_base(repo, given, head) or given
    else:
        base = gitops.default_base(repo, head)
    progress.step(f"diff {base[:10]}..{head[:10]}")
    diff_text = gitops.diff(repo, base, head)
    with tempfile.TemporaryDirectory(prefix="codegrad-") as tmp:
        tmp_path = Path(tmp)
        head_root = gitops.export_tree(repo, head, tmp_path / "head")
        base_root = gitops.export_tree(repo, base, tmp_path / "base")
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        targets, syntax = changes.changed_functions(
            diff_text,
            head_source=lambda p: _read(head_root, p),
            base_source=lambda p: _read(base_root, p),
            include=settings.include,
            exclude=settings.exclude,
        )
        progress.step(f"{len(targets)} changed function(s)")
        workspace = Workspace(head_root=head_root, base_root=base_root, repo_root=repo)
        evidence, notes = verify(
            targets,
            settings=settings,
            workspace=workspace,
            scratch=scratch,
            deadline=deadline,
            progress=progress,
        )
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
            from codegrad.refine import loop as refine

            fixes = tuple(
                refine.refine_all(
                    evidence,
                    settings=settings,
                    workspace=workspace,
                    scratch=scratch,
                    progress=progress,
                )
            )
            notes.extend(refine.last_notes())
        elif settings.fix:
            notes.append(
                "--fix asked for, but no LLM is configured (set OPENAI_API_KEY or --llm-base-url)"
            )
    progress.done()
    return Outcome(
        base=base,
        head=head,
        targets=tuple(targets),
        evidence=evidence,
        fixes=fixes,
        notes=tuple(notes),
        seconds=time.monotonic() - started,
    )


def _read(root: Path, relpath: str) -> str | None:
    path = root / relpath
    if not path.is_file():
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return path.read_bytes().decode("utf-8", errors="surrogateescape")


def exit_status(outcome: Outcome, fail_on: str) -> int:
    """1 when a finding is at or above the fail level, else 0."""
    from codegrad.model import Severity

    if fail_on == "never":
        return 0
    threshold = Severity(fail_on).rank
    return 1 if any(f.level.rank >= threshold for f in outcome.findings) else 0


__all__ = ["Kind", "exit_status", "review", "verify"]
