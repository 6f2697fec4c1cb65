"""The verification engine: the configured checks, run over targets in one workspace, give the evidence."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from codegrad.errors import UsageError
from codegrad.model import INTERNAL_NOTE, CheckResult, Evidence, Target, Workspace
from codegrad.progress import Progress, Silent
from codegrad.settings import Settings
from codegrad.verify import intent
from codegrad.verify.checks.base import Check, CheckContext
from codegrad.verify.checks.differential import DifferentialCheck
from codegrad.verify.checks.docstrings import DocstringsCheck
from codegrad.verify.checks.efficiency import EfficiencyCheck
from codegrad.verify.checks.llm_checks import LLMChecksCheck
from codegrad.verify.checks.project_tests import ProjectTestsCheck
from codegrad.verify.checks.properties import PropertiesCheck
from codegrad.verify.checks.recorded import RecordedCheck

log = logging.getLogger(__name__)


# the one map from a check's name (settings.CHECKS) to its class
CHECK_CLASSES: dict[str, type[Check]] = {
    cls.name: cls
    for cls in (
        DocstringsCheck,
        RecordedCheck,  # before the generators: they plan parameters from the recorded values too
        PropertiesCheck,
        DifferentialCheck,
        EfficiencyCheck,
        ProjectTestsCheck,
        LLMChecksCheck,  # last: it waits on the LLM; builds its client from the settings
    )
}


# checks that read nothing another check makes: they run first, while the project's suite (started
# by the recorded check) runs in the background
RUN_FIRST = (DocstringsCheck.name, EfficiencyCheck.name)


def make_checks(names: Sequence[str]) -> list[Check]:
    """The check objects for the configured names, cheap first (llm-checks, which waits on the
    LLM, last)."""
    return [cls() for name, cls in CHECK_CLASSES.items() if name in names]


def run_checks(
    checks: Sequence[Check], targets: Sequence[Target], ctx: CheckContext, progress: Progress
) -> tuple[list[CheckResult], list[str]]:
    """Run each check over the targets; a check that breaks becomes a note, not a crash.

    Checks with background work (`start`) begin it first; those in RUN_FIRST run next; the results
    come back in the order of `checks`."""
    results: list[CheckResult] = []
    broken: list[str] = []
    _start_all(checks, targets, ctx)
    for check in sorted(checks, key=lambda c: c.name not in RUN_FIRST):
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
            broken.append(f"{INTERNAL_NOTE} in the {check.name} check: {type(exc).__name__}: {exc}")
            continue
        log.info("%s done in %.1fs", check.name, time.monotonic() - started)
        results.append(result)
        stopped = result.stats.get("stopped")
        if isinstance(stopped, str) and stopped:  # e.g. llm-checks when the LLM is down
            broken.append(f"{check.name} stopped early: {stopped}; the functions left were skipped")
    order = {check.name: index for index, check in enumerate(checks)}
    return sorted(results, key=lambda r: order.get(r.check, len(order))), broken


def _start_all(checks: Sequence[Check], targets: Sequence[Target], ctx: CheckContext) -> None:
    """Let each check that has background work begin it (a failure here is left to its run)."""
    for check in checks:
        start = getattr(check, "start", None)
        if start is None or ctx.remaining() <= 0:
            continue
        try:
            start(targets, ctx)
        except UsageError:
            raise
        except Exception:
            log.exception("starting check %s failed", check.name)


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
    return intent.grade(Evidence(targets=tuple(targets), results=tuple(results))), notes
