"""The project's whole suite on head, bounded when the change makes tests hang.

Every test runs once under a per-test limit (a tenth of the suite's timeout). A test that runs past it
fails there (codegrad's watchdog raises in it). When the hung test ran a changed function, the run
stops: other tests that call the function would hang too. Base then runs the hung tests and the ones
head had not reached, which tells whether the hang is pre-existing and how long each test takes; head
runs the rest under limits derived from those durations, so each further hanging test ends within
seconds. A hang elsewhere does not stop the run: base reruns only the hung tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from codegrad.model import Target
from codegrad.verify import sandbox
from codegrad.verify.checks import suite_log
from codegrad.verify.checks import testselect as ts
from codegrad.verify.checks.base import CheckContext
from codegrad.verify.checks.pytest_runs import (
    RunFiles,
    Watching,
    on_base,
    rerun_log,
    run_pytest,
    scan_tree,
    timed_out,
    tree_options,
    usage_error,
)

EXIT_STUCK = 86  # suite_watch.EXIT_STUCK: a test ignored the watchdog and the process was ended
BASE_LIMIT_FACTOR = (
    3.0  # base gets this many first limits per test: long enough to tell slow from hung
)


@dataclass(frozen=True)
class SuiteRun:
    """The suite on head (one run, or a run stopped at a hang plus the rest) and what base told."""

    process: sandbox.RunResult  # the first head run
    log: suite_log.SuiteLog  # every test's last result on head
    files: RunFiles  # the first run's files (hang dump, scrubbing)
    clear_addopts: bool
    timeout: float  # seconds the first run was given
    first_limit: float  # seconds each test had in the first run
    base: Mapping[str, ts.CaseResult] = field(default_factory=dict)  # base results already known
    limits: Mapping[str, float] = field(default_factory=dict)  # per-test limits from base
    stopped: bool = False  # the first run stopped at a hang in a changed function
    recorded: str = ""  # what the recorder wrote in the first run, when it ran there

    @property
    def cases(self) -> tuple[ts.CaseResult, ...]:
        return self.log.cases

    @property
    def cases_by_id(self) -> dict[str, ts.CaseResult]:
        return {c.nodeid: c for c in self.log.cases}

    @property
    def output(self) -> str:
        return self.process.stdout + "\n" + self.process.stderr


def watched(targets: Sequence[Target], root: Path) -> tuple[dict[str, object], ...]:
    """The changed functions the plugin marks (those in test modules are pytest's to load)."""
    return tuple(
        {"key": t.key, "file": str(root / t.path), "line": t.lineno}
        for t in targets
        if not ts.is_test_file(t.path)
    )


def run_suite(
    command: ts.ProjectCommand,
    targets: Sequence[Target],
    ctx: CheckContext,
    root: Path,
    extra: Sequence[str] = (),
    record: Mapping[str, object] | None = None,
) -> SuiteRun:
    """The whole suite on head; without the project's addopts if they break it; hangs checked on base.
    With `record` (the recorder's spec) the first run also records the changed functions' calls."""
    functions = watched(targets, root)
    first = suite_log.first_limit(ctx.settings.test_timeout)
    args = [*ts.run_all_options(command.pytest_args), "--continue-on-collection-errors"]
    watching = Watching(functions, first, stop_on_hang=True)
    for clear in (False, True):
        run = run_pytest(
            command, args, ctx, root, tag="head", clear_addopts=clear, extra=extra,
            watching=watching, dump=True, record=record,
        )  # fmt: skip
        if clear or not usage_error(run.process):
            break
    suite = SuiteRun(
        run.process, run.log, run.files, clear, run.timeout, first, recorded=run.recorded
    )
    if timed_out(run.process) or not run.log.hangs:
        return suite
    return _after_hangs(suite, command, ctx, root, args, extra, functions)


def _after_hangs(
    suite: SuiteRun,
    command: ts.ProjectCommand,
    ctx: CheckContext,
    root: Path,
    args: Sequence[str],
    extra: Sequence[str],
    functions: tuple[dict[str, object], ...],
) -> SuiteRun:
    """Base for the hung tests (and, after a stop, the rest); head again under base-derived limits."""
    log = suite.log
    hung = sorted(log.hangs)
    stopped = suite.process.returncode == EXIT_STUCK or any(log.entered.get(n) for n in hung)
    finished = list(log.finished)
    cap = ctx.settings.test_timeout
    base = _base_results(suite, command, ctx, args, hung, finished, stopped)
    limits = suite_log.limits_from(base.values(), cap)
    again = [n for n in hung if n in limits]  # base finished them: does head, given as long?
    later: suite_log.SuiteLog | None
    if stopped:
        skip = tuple(n for n in finished if n not in again)
        watching = Watching(functions, suite.first_limit, limits, skip=skip)
        later = run_pytest(
            command, args, ctx, root, tag="head-rest", clear_addopts=suite.clear_addopts,
            extra=extra, watching=watching,
        ).log  # fmt: skip
    elif again:
        watching = Watching(functions, suite.first_limit, limits)
        later = rerun_log(
            command, again, ctx, root, clear_addopts=suite.clear_addopts, tag="head-hung",
            extra=extra, watching=watching,
        )  # fmt: skip
    else:
        later = None
    merged = log if later is None else suite_log.merge(log, later)
    return replace(suite, log=merged, base=base, limits=limits, stopped=stopped)


def _base_results(
    suite: SuiteRun,
    command: ts.ProjectCommand,
    ctx: CheckContext,
    args: Sequence[str],
    hung: Sequence[str],
    finished: Sequence[str],
    stopped: bool,
) -> dict[str, ts.CaseResult]:
    """Base's results for the hung tests, and after a stop for every test head had not reached."""
    base_root = ctx.workspace.base_root
    if base_root is None:
        return {}
    base_root = base_root.resolve()
    limit = min(ctx.settings.test_timeout, BASE_LIMIT_FACTOR * suite.first_limit)
    extra = tree_options(scan_tree(base_root))
    if stopped:
        skip = tuple(n for n in finished if n not in suite.log.hangs)
        log = run_pytest(
            command, args, ctx, base_root, tag="base-rest", clear_addopts=suite.clear_addopts,
            extra=extra, watching=Watching(default_limit=limit, skip=skip),
        ).log  # fmt: skip
    else:
        present = [n for n in hung if on_base(base_root, n)]
        found = rerun_log(
            command, present, ctx, base_root, clear_addopts=suite.clear_addopts, tag="base-hung",
            extra=extra, watching=Watching(default_limit=limit),
        ) if present else None  # fmt: skip
        log = found or suite_log.SuiteLog()
    return {c.nodeid: c for c in log.cases}
