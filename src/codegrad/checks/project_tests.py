"""The project-tests check: run the repository's own tests and tie each failure to a changed function."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegrad import sandbox
from codegrad import testselect as ts
from codegrad.checks.base import CheckContext
from codegrad.model import CheckResult, Finding, Kind, Severity, Target

NAME = "project-tests"
REPO_PATH = "."  # findings about the whole test run, not one file
COMMAND_FUNCTION = "<test command>"
MODULE_FUNCTION = "<module>"
PLUGIN_MODULE = "codegrad_project_tests_plugin"
MESSAGE_LIMIT = 1500
TAIL_LINES = 40
NO_TESTS = "no tests"
NOT_COVERED = "no project test runs this function"

# Loaded into the project's pytest process (from the scratch dir, never the user's tree):
# switches coverage.py's dynamic context to each test's node id, logs progress line by line so a
# killed run still tells what finished, and asks faulthandler for a stack dump just before the kill.
PLUGIN_SOURCE = '''\
"""codegrad's pytest plugin for the project-tests check: per-test coverage contexts, progress, hang dump."""

import faulthandler
import json
import os
import time

import pytest

try:
    import coverage

    _COV = coverage.Coverage.current()
except Exception:
    _COV = None

_STATE = {"log": None, "dump": None, "outcomes": {}}


def _emit(record):
    log = _STATE["log"]
    if log is not None:
        log.write(json.dumps(record) + "\\n")
        log.flush()


def _switch(context):
    if _COV is not None:
        try:
            _COV.switch_context(context)
        except Exception:
            pass


def pytest_configure(config):
    path = os.environ.get("CODEGRAD_PROGRESS")
    if path:
        _STATE["log"] = open(path, "a", encoding="utf-8")
    dump, at = os.environ.get("CODEGRAD_DUMP_FILE"), os.environ.get("CODEGRAD_DUMP_AT")
    if dump and at:
        _STATE["dump"] = open(dump, "w", encoding="utf-8")
        faulthandler.dump_traceback_later(max(0.1, float(at) - time.time()), file=_STATE["dump"])


def pytest_unconfigure(config):
    faulthandler.cancel_dump_traceback_later()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    line = item.location[1]
    _emit({"event": "start", "nodeid": item.nodeid, "path": item.location[0],
           "line": None if line is None else line + 1})
    _switch(item.nodeid)
    yield
    _switch("")
    outcome = _STATE["outcomes"].pop(item.nodeid, "passed")
    _emit({"event": "end", "nodeid": item.nodeid, "outcome": outcome})


def pytest_runtest_logreport(report):
    outcomes = _STATE["outcomes"]
    if report.failed:
        outcomes[report.nodeid] = "failed" if report.when == "call" else "error"
    elif report.skipped and report.nodeid not in outcomes:
        outcomes[report.nodeid] = "skipped"
'''

COVERAGE_RC = """\
[run]
branch = False
relative_files = True
parallel = False
include =
{include}
disable_warnings = no-data-collected, module-not-imported, module-not-measured, couldnt-parse
"""

_PRUNE = frozenset({"node_modules", "__pycache__", "site-packages", "venv", "env", "build", "dist"})
_CONFIGS = ("pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini")


# ---------------------------------------------------------------- small I/O helpers


def _is_test_file(name: str) -> bool:
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


@dataclass(frozen=True)
class TreeScan:
    """What a cheap look at a tree tells before pytest starts."""

    has_tests: bool  # pytest could find tests by its default rules (or discovery is customised)
    uses_hypothesis: bool  # a test file, conftest or config mentions hypothesis


def scan_tree(root: Path, read_limit: int = 2000) -> TreeScan:
    """Walk the tree once (skipping hidden, virtualenv and build folders) and read test files."""
    found = hypothesis = False
    for name in _CONFIGS:
        config = root / name
        if config.is_file():
            text = config.read_text(encoding="utf-8", errors="replace")
            found = found or "python_files" in text or "doctest-modules" in text
            hypothesis = hypothesis or "hypothesis" in text
    read = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in _PRUNE]
        for name in filenames:
            if not (_is_test_file(name) or name == "conftest.py"):
                continue
            found = found or _is_test_file(name)
            if not hypothesis:
                read += 1
                hypothesis = read > read_limit or "hypothesis" in (Path(dirpath) / name).read_text(
                    encoding="utf-8", errors="replace"
                )
        if found and hypothesis:
            break
    return TreeScan(found, hypothesis)


def tree_options(scan: TreeScan) -> tuple[str, ...]:
    """pytest options a tree allows: hypothesis's plugin costs a second at start-up; unused, it stays off."""
    return () if scan.uses_hypothesis else ("-p", "no:hypothesispytest")


def on_base(base_root: Path, nodeid: str) -> bool:
    """Whether base has this test: its file, and (when the file parses) its top-level name."""
    path = base_root / ts.nodeid_path(nodeid)
    if not path.is_file():
        return False
    if path.suffix != ".py":
        return True
    names = ts.defined_names(path.read_text(encoding="utf-8", errors="replace"))
    first = ts.nodeid_name(nodeid).partition("[")[0].split(".", 1)[0]
    return names is None or not first or first in names


def _source_line(root: Path, path: str, line: int) -> str:
    try:
        lines = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def _clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 15] + " ...[truncated]"


def _tail(text: str, lines: int = TAIL_LINES) -> str:
    return _clip("\n".join(text.strip().splitlines()[-lines:]), 4000)


@dataclass(frozen=True)
class RunFiles:
    """The scratch files of one pytest run (plugin, coverage rc and data, junit, progress, dump)."""

    folder: Path

    @classmethod
    def create(cls, scratch: Path, tag: str) -> RunFiles:
        folder = scratch / f"project-tests-{tag}-{uuid.uuid4().hex[:8]}"
        folder.mkdir(parents=True)
        (folder / f"{PLUGIN_MODULE}.py").write_text(PLUGIN_SOURCE, encoding="utf-8")
        return cls(folder)

    @property
    def junit(self) -> Path:
        return self.folder / "junit.xml"

    @property
    def rc(self) -> Path:
        return self.folder / "coveragerc"

    @property
    def coverage(self) -> Path:
        return self.folder / "coverage.data"

    @property
    def progress(self) -> Path:
        return self.folder / "progress.jsonl"

    @property
    def dump(self) -> Path:
        return self.folder / "hang.txt"

    def read(self, path: Path) -> str:
        try:
            return sandbox.redact(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return ""

    def scrub(self, text: str, root: Path) -> str:
        return text.replace(str(self.folder), "<scratch>").replace(str(root) + "/", "")


def _env(root: Path, files: RunFiles, dump_at: float | None = None) -> dict[str, str]:
    paths = [str(files.folder)]
    if (root / "src").is_dir():
        paths.append(str(root / "src"))  # src layout: the tree's own package beats an installed one
    paths.append(str(root))
    env = {"PYTHONPATH": os.pathsep.join(paths), "PYTHONHASHSEED": "0"}
    env["CODEGRAD_PROGRESS"] = str(files.progress)
    if dump_at is not None:
        env.update(CODEGRAD_DUMP_FILE=str(files.dump), CODEGRAD_DUMP_AT=f"{dump_at:.3f}")
    return env


def _run(
    argv: Sequence[str],
    root: Path,
    env: Mapping[str, str],
    ctx: CheckContext,
    timeout: float | None = None,
) -> sandbox.RunResult:
    return sandbox.run(
        argv,
        cwd=root,
        timeout=timeout if timeout is not None else ctx.timeout(ctx.settings.test_timeout),
        limits=sandbox.Limits(memory_mb=ctx.settings.memory_mb),
        env=env,
        writable=[ctx.scratch],
    )


def _timed_out(process: sandbox.RunResult) -> bool:
    return process.timed_out or process.killed_by in ("timeout", "cpu")


# ---------------------------------------------------------------- running pytest


def _pytest_options(
    root: Path, files: RunFiles, clear_addopts: bool, extra: Sequence[str]
) -> list[str]:
    options = [
        f"--rootdir={root}",  # node ids relative to the tree, whatever ini file pytest picks
        f"--junitxml={files.junit}",
        "-o", "junit_family=xunit1",  # keeps the file attribute, so node ids can be rebuilt
        "--tb=short",
        "-o", f"cache_dir={files.folder / 'pytest-cache'}",  # nothing written into the tree
        "-o", "faulthandler_timeout=0",  # ours is the one pending stack dump
        "-p", PLUGIN_MODULE,
    ]  # fmt: skip
    if clear_addopts:
        options += ["-o", "addopts="]
    return [*options, *extra, *_plugin_overrides()]


def _plugin_overrides() -> list[str]:
    """Keep installed plugins from undoing the measurement: no second coverage, no worker processes."""
    overrides = []
    if importlib.util.find_spec("pytest_cov") is not None:
        overrides.append(
            "--no-cov"
        )  # it would start its own coverage and write .coverage into the tree
    if importlib.util.find_spec("xdist") is not None:
        overrides += ["-n", "0"]  # workers are processes our coverage contexts do not see
    return overrides


@dataclass(frozen=True)
class SuiteRun:
    """One run of the project's pytest suite and what it left behind."""

    process: sandbox.RunResult
    cases: tuple[ts.CaseResult, ...]
    progress: ts.Progress
    files: RunFiles
    clear_addopts: bool
    timeout: float  # seconds the run was given

    @property
    def output(self) -> str:
        return self.process.stdout + "\n" + self.process.stderr


def _usage_error(process: sandbox.RunResult) -> bool:
    text = process.stderr + process.stdout
    return process.returncode == 4 and (
        "unrecognized arguments" in text or "error: argument" in text
    )


def run_suite(
    command: ts.ProjectCommand,
    targets: Sequence[Target],
    ctx: CheckContext,
    root: Path,
    extra: Sequence[str] = (),
) -> SuiteRun:
    """The whole suite under coverage with per-test contexts; without the project's addopts if they break it."""
    files = RunFiles.create(ctx.scratch, "head")
    include = "\n".join(f"    {root / path}" for path in sorted({t.path for t in targets}))
    files.rc.write_text(COVERAGE_RC.format(include=include), encoding="utf-8")
    for clear in (False, True):
        timeout = ctx.timeout(ctx.settings.test_timeout)
        cov = ["-m", "coverage", "run", f"--rcfile={files.rc}", f"--data-file={files.coverage}"]
        argv = [*command.interpreter, *cov, "-m", "pytest", *command.pytest_args]
        argv += ["--continue-on-collection-errors", *_pytest_options(root, files, clear, extra)]
        dump_at = time.time() + timeout - min(2.0, timeout * 0.25)
        for stale in (files.junit, files.progress, files.dump, files.coverage):
            stale.unlink(missing_ok=True)
        process = _run(argv, root, _env(root, files, dump_at), ctx, timeout)
        if clear or not _usage_error(process):
            break
    cases = ts.merge_cases(ts.parse_junit(files.read(files.junit)))
    progress = ts.parse_progress(files.read(files.progress))
    return SuiteRun(process, tuple(cases), progress, files, clear, timeout)


def rerun(
    command: ts.ProjectCommand,
    nodeids: Sequence[str],
    ctx: CheckContext,
    root: Path,
    *,
    clear_addopts: bool,
    tag: str,
    extra: Sequence[str] = (),
) -> dict[str, ts.CaseResult] | None:
    """Run only these tests in root; node id (or module path, for a collection error) -> result.

    None when the rerun itself did not finish. Node ids that root does not have are left out.
    """
    files = RunFiles.create(ctx.scratch, tag)
    ids = list(nodeids)
    options = ts.rerun_options(command.pytest_args)
    for attempt in range(2):
        files.junit.unlink(missing_ok=True)
        argv = [*command.interpreter, "-m", "pytest", *options]
        argv += [*_pytest_options(root, files, clear_addopts, extra), "--", *ids]
        process = _run(argv, root, _env(root, files), ctx)
        if _timed_out(process):
            return None
        missing = ts.not_found(process.stdout + process.stderr, str(root))
        if process.returncode == 4 and missing and attempt == 0:
            ids = [i for i in ids if i not in missing]
            if not ids:
                return {}
            continue
        break
    return {c.nodeid: c for c in ts.merge_cases(ts.parse_junit(files.read(files.junit)))}


# ---------------------------------------------------------------- classification (pure)


@dataclass(frozen=True)
class Verdict:
    """How one failing test relates to base and to a second run."""

    kind: Kind
    base_fails_same: bool | None
    reproduces: bool | None
    base_note: str = ""


def classify(
    case: ts.CaseResult,
    again: Mapping[str, ts.CaseResult] | None,
    base: Mapping[str, ts.CaseResult] | None,
) -> Verdict:
    """REGRESSION unless base fails the same way; flaky when a second run passes."""
    reproduces: bool | None = None
    if again is not None and case.nodeid in again:
        reproduces = again[case.nodeid].failed
    on_base = None if base is None else base.get(case.nodeid) or base.get(case.path)
    if on_base is None:
        return Verdict(Kind.REGRESSION, None, reproduces, "not run on base")
    if on_base.collection:
        error = ts.error_lines(on_base.text).strip().splitlines()
        note = f"could not be collected on base: {_clip(error[-1] if error else 'error', 300)}"
        return Verdict(Kind.REGRESSION, False, reproduces, note)
    if ts.same_failure(case, on_base):
        return Verdict(
            Kind.PRE_EXISTING, True, reproduces, f"fails on base: {_clip(on_base.message, 300)}"
        )
    note = f"{on_base.outcome} on base" + (
        f": {_clip(on_base.message, 300)}" if on_base.message else ""
    )
    return Verdict(Kind.REGRESSION, False, reproduces, note)


def _inside(entry: ts.TbEntry, target: Target) -> bool:
    return entry.path == target.path and target.lineno <= entry.line <= target.end_lineno


def _case_message(case: ts.CaseResult, root: Path) -> str:
    message = case.message.strip() or ts.error_lines(case.text, str(root)) or case.outcome
    return _clip(message)


def failure_findings(
    case: ts.CaseResult,
    verdict: Verdict,
    targets: Sequence[Target],
    covered_by: Sequence[Target],
    root: Path,
) -> list[Finding]:
    """Findings for one failing test: on the changed functions it ran, else on the test itself."""
    entries = ts.parse_traceback(case.text, str(root))
    through = [t for t in targets if any(_inside(e, t) for e in entries)]
    attach = through or list(covered_by)
    message = _case_message(case, root)
    common: dict[str, Any] = {
        "check": NAME,
        "kind": verdict.kind,
        "message": f"test {case.nodeid} failed: {message}",
        "severity": Severity.WARNING if verdict.reproduces is False else None,
        "input": case.nodeid,
        "actual": message,
        "reproduces": verdict.reproduces,
        "base_fails_same": verdict.base_fails_same,
        "reproducer": ts.rerun_command(case.nodeid),
        "details": {
            "test": case.nodeid,
            "outcome": case.outcome,
            "base": verdict.base_note,
            "flaky": verdict.reproduces is False,
            "test_traceback": [e.render() for e in entries][-12:],
        },
    }
    if not attach:
        own = tuple(e.render() for e in entries if e.path == case.path)
        return [
            Finding(
                path=case.path, function=case.function, line=case.line or 1, traceback=own, **common
            )
        ]
    target_paths = {t.path for t in targets}
    in_targets = tuple(e.render() for e in entries if e.path in target_paths)
    findings = []
    for target in attach:
        lines = [e.line for e in entries if _inside(e, target)]
        line = lines[-1] if lines else target.lineno
        findings.append(
            Finding(
                path=target.path,
                function=target.qualname,
                line=line,
                traceback=in_targets,
                **common,
            )
        )
    return findings


def _error_summary(text: str) -> tuple[str, int | None]:
    """The last error line, plus the line a SyntaxError names (`File "x", line N`)."""
    last = next((ln.strip() for ln in reversed(text.splitlines()) if ln.strip()), "error")
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("File ") and ", line " in stripped:
            tail = stripped.rsplit(", line ", 1)[1].split(",", 1)[0]
            if tail.isdigit():
                return last, int(tail)
    return last, None


def collection_findings(cases: Sequence[ts.CaseResult], root: Path) -> list[Finding]:
    """One ERROR finding per distinct collection error (many modules failing on one import: one finding)."""
    groups: dict[str, list[ts.CaseResult]] = {}
    for case in cases:
        text = ts.error_lines(case.text, str(root)) or _tail(case.text, 5)
        groups.setdefault(text, []).append(case)
    findings = []
    for text, group in groups.items():
        first = group[0]
        last, syntax_line = _error_summary(text)
        module_lines = [
            e.line for e in ts.parse_traceback(first.text, str(root)) if e.path == first.path
        ]
        line = syntax_line or (module_lines[-1] if module_lines else 1)
        others = f" (and {len(group) - 1} more test modules)" if len(group) > 1 else ""
        findings.append(
            Finding(
                path=first.path,
                function=MODULE_FUNCTION,
                line=line,
                check=NAME,
                kind=Kind.ERROR,
                message=f"tests in {first.path}{others} could not be collected: {_clip(last, 300)}",
                actual=_clip(text, 4000),
                reproducer=ts.rerun_command(first.path),
                details={"modules": [c.path for c in group]},
            )
        )
    return findings


def _hang_frame(
    threads: Sequence[Sequence[ts.TbEntry]], targets: Sequence[Target]
) -> tuple[Target, ts.TbEntry] | None:
    for frames in threads:
        for entry in reversed(frames):  # innermost first
            for target in targets:
                if _inside(entry, target):
                    return target, entry
    return None


def timeout_finding(suite: SuiteRun, targets: Sequence[Target], root: Path) -> Finding:
    """A TIMEOUT finding: where it hung (the changed function, else the running test) and what finished."""
    seconds = suite.timeout
    threads = ts.parse_faulthandler(suite.files.read(suite.files.dump), str(root))
    hung = _hang_frame(threads, targets)
    running = suite.progress.running
    progress = suite.progress
    finished = len(progress.finished or {})
    failed = sorted(n for n, o in (progress.finished or {}).items() if o in ("failed", "error"))
    where = f"; {running[0]} was still running" if running else "; it hung before any test started"
    message = (
        f"the project's tests did not finish within {seconds:.0f}s{where}; "
        f"{finished} tests finished ({len(failed)} failed)"
    )
    ours = [e for frames in threads for e in frames if not e.path.startswith(("/", "<"))]
    traceback = tuple(
        ts.TbEntry(e.path, e.line, e.function, _source_line(root, e.path, e.line)).render()
        for e in ours
    )
    if hung is not None:
        path, function, line = hung[0].path, hung[0].qualname, hung[1].line
    elif running is not None:
        nodeid = running[0]
        path, line = ts.nodeid_path(nodeid), running[2] or 1
        function = ts.nodeid_name(nodeid).split("[", 1)[0]
    else:
        path, function, line = REPO_PATH, COMMAND_FUNCTION, 1
    return Finding(
        path=path,
        function=function or MODULE_FUNCTION,
        line=line,
        check=NAME,
        kind=Kind.TIMEOUT,
        message=message,
        input=running[0] if running else None,
        traceback=traceback[-12:],
        reproducer=ts.rerun_command(running[0]) if running else None,
        details={"finished": finished, "failed": failed[:50], "timeout_seconds": round(seconds, 1)},
    )


def run_error_finding(process: sandbox.RunResult, text: str, running: str | None) -> Finding:
    """The suite could not run at all (conftest import error, usage error, crash): ERROR, no traceback."""
    errors = ts.error_lines(text) or _tail(text)
    last, _ = _error_summary(errors)
    if process.killed_by == "memory":
        why = "ran out of memory"
    elif process.killed_by:
        why = f"was killed ({process.killed_by})" + (f" while running {running}" if running else "")
    else:
        why = f"exited with code {process.returncode}"
    return Finding(
        path=REPO_PATH,
        function=COMMAND_FUNCTION,
        line=1,
        check=NAME,
        kind=Kind.ERROR,
        message=f"the project's tests could not run: pytest {why}: {_clip(last, 300)}",
        actual=_clip(errors, 4000),
        details={"exit_code": process.returncode},
    )


# ---------------------------------------------------------------- the check


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


def _all_skipped(targets: Sequence[Target], why: str) -> dict[str, str]:
    return {t.key: why for t in targets}


class ProjectTestsCheck:
    """Run the repository's tests; failures that run a changed function become its findings."""

    name = NAME

    def run(self, targets: Sequence[Target], ctx: CheckContext) -> CheckResult:
        started = time.monotonic()
        command = ts.parse_test_command(ctx.settings.test_command, sys.executable)
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
        suite = run_suite(command, targets, ctx, root, extra)
        process = suite.process
        stats = _stats(ctx.settings.test_command, suite.cases, process)
        if _timed_out(process):
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
            running = suite.progress.running
            text = suite.files.scrub(suite.output, root)
            finding = run_error_finding(process, text, running[0] if running else None)
            return CheckResult(
                NAME,
                (finding,),
                skipped=_all_skipped(targets, "the project's tests could not run"),
                stats=stats,
            )
        covering = ts.covering_tests(suite.files.coverage, targets, str(root))
        findings = collection_findings([c for c in suite.cases if c.collection], root)
        findings += self._failures(command, suite, targets, covering, ctx, root, extra)
        checked = tuple(t.key for t in targets if covering.get(t.key))
        skipped = {t.key: NOT_COVERED for t in targets if not covering.get(t.key)}
        stats["tests_per_function"] = {key: len(ids) for key, ids in covering.items()}
        stats["flaky"] = sum(1 for f in findings if f.details.get("flaky"))
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
        ids = [c.nodeid for c in failing]
        clear = suite.clear_addopts
        again = rerun(command, ids, ctx, root, clear_addopts=clear, tag="again", extra=extra)
        base = None
        base_root = ctx.workspace.base_root
        if base_root is not None:
            base_root = base_root.resolve()
            present = [c.nodeid for c in failing if on_base(base_root, c.nodeid)]
            base = (
                rerun(
                    command,
                    present,
                    ctx,
                    base_root,
                    clear_addopts=clear,
                    tag="base",
                    extra=tree_options(scan_tree(base_root)),
                )
                if present
                else {}
            )
        findings: list[Finding] = []
        for case in failing:
            covered_by = [t for t in targets if case.nodeid in covering.get(t.key, ())]
            verdict = classify(case, again, base)
            findings += failure_findings(case, verdict, targets, covered_by, root)
        return findings

    def _custom(
        self, command: ts.ProjectCommand, targets: Sequence[Target], ctx: CheckContext, root: Path
    ) -> CheckResult:
        files = RunFiles.create(ctx.scratch, "custom")
        timeout = ctx.timeout(ctx.settings.test_timeout)
        process = _run(command.argv, root, _env(root, files), ctx, timeout)
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
            "actual": _tail(output),
            "reproducer": ctx.settings.test_command,
        }
        if _timed_out(process):
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
        process = _run(command.argv, base_root.resolve(), _env(base_root.resolve(), files), ctx)
        return None if _timed_out(process) else not process.ok
