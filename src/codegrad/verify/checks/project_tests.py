"""The project-tests check: run the repository's own tests and tie each failure to a changed function."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from codegrad.diff.changes import all_functions
from codegrad.model import CheckResult, Finding, Kind, Target
from codegrad.verify import sandbox
from codegrad.verify.checks import blame as blaming
from codegrad.verify.checks import shared_suite
from codegrad.verify.checks import testselect as ts
from codegrad.verify.checks.base import CheckContext
from codegrad.verify.checks.pytest_runs import (
    RunFiles,
    Watching,
    on_base,
    project_command,
    rerun,
    run_env,
    run_sandboxed,
    scan_tree,
    timed_out,
    tree_options,
)
from codegrad.verify.checks.suite_findings import (
    COMMAND_FUNCTION,
    NAME,
    REPO_PATH,
    classify,
    collection_findings,
    failure_findings,
    run_error_finding,
    tail,
    timeout_finding,
)
from codegrad.verify.checks.suite_run import SuiteRun, run_suite

NO_TESTS = "no tests"
NOT_COVERED = "no project test runs this function"


def _stats(
    command: str, cases: Sequence[ts.CaseResult], process: sandbox.RunResult
) -> dict[str, Any]:
    tests = [c for c in cases if not c.collection]
    return {
        "command": command,
        "exit_code": process.returncode,
        "tests": len(tests),
        "passed": sum(1 for c in tests if c.outcome == "passed"),
        "failed": sum(1 for c in tests if c.outcome == "failed"),
        "errors": sum(1 for c in tests if c.outcome == "error"),
        "skipped": sum(1 for c in tests if c.outcome == "skipped"),
        "collection_errors": sum(1 for c in cases if c.collection),
        "seconds": round(process.seconds, 3),
    }


def _functions_in(root: Path) -> blaming.FunctionsIn:
    """Every function of a file in the tree (read once per file; none when it does not parse)."""
    cache: dict[str, list[Target]] = {}

    def functions(path: str) -> list[Target]:
        if path not in cache:
            try:
                cache[path] = all_functions(path, (root / path).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
                cache[path] = []
        return cache[path]

    return functions


def _all_skipped(targets: Sequence[Target], why: str) -> dict[str, str]:
    return {t.key: why for t in targets}


class ProjectTestsCheck:
    """Run the repository's tests; failures that run a changed function become its findings."""

    name = NAME

    def run(self, targets: Sequence[Target], ctx: CheckContext) -> CheckResult:
        started = time.monotonic()
        command = project_command(ctx)
        root = ctx.workspace.head_root.resolve()
        if not targets:
            result = CheckResult(NAME, stats={"tests": 0})
        elif not command.is_pytest:
            result = self._custom(command, targets, ctx, root)
        else:
            scan = scan_tree(root)
            if not command.paths and not scan.has_tests:
                result = CheckResult(
                    NAME, skipped=_all_skipped(targets, NO_TESTS), stats={"tests": 0}
                )
            else:
                result = self._pytest(command, targets, ctx, root, tree_options(scan))
        return dataclasses.replace(result, seconds=time.monotonic() - started)

    def _pytest(
        self,
        command: ts.ProjectCommand,
        targets: Sequence[Target],
        ctx: CheckContext,
        root: Path,
        extra: Sequence[str],
    ) -> CheckResult:
        suite = shared_suite.take(targets, ctx) or run_suite(command, targets, ctx, root, extra)
        process = suite.process
        stats = _stats(ctx.settings.test_command, suite.cases, process)
        if timed_out(process):
            finding = timeout_finding(suite, targets, root)
            return CheckResult(
                NAME,
                (finding,),
                skipped=_all_skipped(targets, "the project's tests timed out"),
                stats=stats,
            )
        if process.returncode == 5 and not any(c.failed for c in suite.cases):
            return CheckResult(NAME, skipped=_all_skipped(targets, NO_TESTS), stats=stats)
        if not suite.cases and process.returncode != 0:
            running = suite.log.running
            text = suite.files.scrub(suite.output, root)
            finding = run_error_finding(process, text, running[0] if running else None)
            return CheckResult(
                NAME,
                (finding,),
                skipped=_all_skipped(targets, "the project's tests could not run"),
                stats=stats,
            )
        covering = ts.covering_tests(suite.log.entered, suite.log.finished, targets)
        findings = collection_findings([c for c in suite.cases if c.collection], root)
        findings += self._failures(command, suite, targets, covering, ctx, root, extra)
        checked = tuple(t.key for t in targets if covering.get(t.key))
        skipped = {t.key: NOT_COVERED for t in targets if not covering.get(t.key)}
        stats["tests_per_function"] = {key: len(ids) for key, ids in covering.items()}
        stats["flaky"] = sum(1 for f in findings if f.details.get("flaky"))
        stats["hung"] = sorted(n for n, c in suite.log.finished.items() if n in suite.log.hangs)
        if suite.log.unmarked:
            stats["unmarked_files"] = list(suite.log.unmarked)
        return CheckResult(NAME, tuple(findings), checked, skipped, stats=stats)

    def _failures(
        self,
        command: ts.ProjectCommand,
        suite: SuiteRun,
        targets: Sequence[Target],
        covering: Mapping[str, Sequence[str]],
        ctx: CheckContext,
        root: Path,
        extra: Sequence[str],
    ) -> list[Finding]:
        failing = [c for c in suite.cases if c.failed and not c.collection]
        if not failing:
            return []
        again, base = self._reruns(command, suite, failing, ctx, root, extra)
        findings: list[Finding] = []
        functions_in = _functions_in(root)
        for case in failing:
            ran = [t for t in targets if case.nodeid in covering.get(t.key, ())]
            verdict = classify(case, again, base)
            findings += failure_findings(case, verdict, targets, ran, root, functions_in)
        return findings

    def _reruns(
        self,
        command: ts.ProjectCommand,
        suite: SuiteRun,
        failing: Sequence[ts.CaseResult],
        ctx: CheckContext,
        root: Path,
        extra: Sequence[str],
    ) -> tuple[dict[str, ts.CaseResult] | None, dict[str, ts.CaseResult] | None]:
        """The failing tests again on head (flaky?) and on base (pre-existing?), side by side."""
        clear = suite.clear_addopts
        first = Watching(default_limit=suite.first_limit)
        plain = [c.nodeid for c in failing if not c.hung]  # a hang is not run again for flakiness
        base_root = ctx.workspace.base_root.resolve() if ctx.workspace.base_root else None
        known = dict(suite.base)
        present = [
            c.nodeid
            for c in failing
            if base_root is not None and c.nodeid not in known and on_base(base_root, c.nodeid)
        ]

        def again_on_head() -> dict[str, ts.CaseResult] | None:
            if not plain:
                return {}
            return rerun(
                command, plain, ctx, root, clear_addopts=clear, tag="again", extra=extra,
                watching=first,
            )  # fmt: skip

        def on_base_tree() -> dict[str, ts.CaseResult] | None:
            if base_root is None or not present:
                return {}
            return rerun(
                command, present, ctx, base_root, clear_addopts=clear, tag="base",
                extra=tree_options(scan_tree(base_root)), watching=first,
            )  # fmt: skip

        with ThreadPoolExecutor(max_workers=2) as pool:  # two processes side by side
            again_future, base_future = pool.submit(again_on_head), pool.submit(on_base_tree)
            again, found = again_future.result(), base_future.result()
        if again is not None:
            again.update(
                {n: c for n, c in suite.cases_by_id.items() if c.hung and n in suite.limits}
            )
        base = None
        if base_root is not None:
            base = None if found is None and not known else {**known, **(found or {})}
        return again, base

    def _custom(
        self, command: ts.ProjectCommand, targets: Sequence[Target], ctx: CheckContext, root: Path
    ) -> CheckResult:
        files = RunFiles.create(ctx.scratch, "custom")
        timeout = ctx.timeout(ctx.settings.test_timeout)
        process = run_sandboxed(command.argv, root, run_env(root, files), ctx, timeout)
        stats: dict[str, Any] = {
            "command": ctx.settings.test_command,
            "exit_code": process.returncode,
            "seconds": round(process.seconds, 3),
        }
        skipped = _all_skipped(targets, "the test command is not pytest: no per-function mapping")
        if process.ok:
            return CheckResult(NAME, skipped=skipped, stats=stats)
        output = files.scrub(process.stdout + "\n" + process.stderr, root)
        common: dict[str, Any] = {
            "path": REPO_PATH,
            "function": COMMAND_FUNCTION,
            "line": 1,
            "check": NAME,
            "actual": tail(output),
            "reproducer": ctx.settings.test_command,
        }
        if timed_out(process):
            message = f"the test command did not finish within {timeout:.0f}s"
            return CheckResult(
                NAME,
                (Finding(kind=Kind.TIMEOUT, message=message, **common),),
                skipped=skipped,
                stats=stats,
            )
        base_same = self._custom_on_base(command, ctx, process.seconds)
        finding = Finding(
            kind=Kind.PRE_EXISTING if base_same else Kind.REGRESSION,
            message=f"the test command `{ctx.settings.test_command}` failed with exit code {process.returncode}",
            base_fails_same=base_same,
            **common,
        )
        return CheckResult(NAME, (finding,), skipped=skipped, stats=stats)

    def _custom_on_base(
        self, command: ts.ProjectCommand, ctx: CheckContext, seconds: float
    ) -> bool | None:
        """Whether the custom command fails on base too (None: no base, or no time to find out)."""
        base_root = ctx.workspace.base_root
        if base_root is None or ctx.remaining() < seconds * 1.5 + 1:
            return None
        files = RunFiles.create(ctx.scratch, "custom-base")
        process = run_sandboxed(
            command.argv, base_root.resolve(), run_env(base_root.resolve(), files), ctx
        )
        return None if timed_out(process) else not process.ok
