"""Findings from a project test run: regression, pre-existing or flaky verdicts, collection errors, timeouts, runs that failed to start."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegrad.model import Finding, Kind, Severity, Target
from codegrad.verify import sandbox
from codegrad.verify.checks import blame as blaming
from codegrad.verify.checks import testselect as ts
from codegrad.verify.checks.suite_run import SuiteRun

NAME = "project-tests"
REPO_PATH = "."  # findings about the whole test run, not one file
COMMAND_FUNCTION = "<test command>"
MODULE_FUNCTION = "<module>"
MESSAGE_LIMIT = 1500
TAIL_LINES = 40


def _source_line(root: Path, path: str, line: int) -> str:
    try:
        lines = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def _clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 15] + " ...[truncated]"


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return _clip("\n".join(text.strip().splitlines()[-lines:]), 4000)


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
    took = f" in {on_base.seconds:.2f}s" if case.hung and not on_base.failed else ""
    note = f"{on_base.outcome} on base{took}" + (
        f": {_clip(on_base.message, 300)}" if on_base.message else ""
    )
    return Verdict(Kind.REGRESSION, False, reproduces, note)


def _case_message(case: ts.CaseResult, root: Path) -> str:
    message = case.message.strip() or ts.error_lines(case.text, str(root)) or case.outcome
    return _clip(message)


def _failure_message(case: ts.CaseResult, verdict: Verdict, root: Path) -> str:
    if not case.hung:
        return f"test {case.nodeid} failed: {_case_message(case, root)}"
    why = _case_message(case, root).split(": ", 1)[-1]  # without the exception's type
    return f"test {case.nodeid} hung: {why}" + (
        f"; {verdict.base_note}" if verdict.base_note else ""
    )


def failure_findings(
    case: ts.CaseResult,
    verdict: Verdict,
    targets: Sequence[Target],
    ran: Sequence[Target],
    root: Path,
    functions_in: blaming.FunctionsIn,
) -> list[Finding]:
    """Findings for one failing test, on the function blame picks (see blame.py), else on the test."""
    entries = ts.parse_traceback(case.text, str(root))
    blamed = blaming.blame(entries, case.path, targets, ran, functions_in)
    message = _case_message(case, root)
    kind = Kind.TIMEOUT if case.hung and verdict.kind is Kind.REGRESSION else verdict.kind
    details: dict[str, Any] = {
        "test": case.nodeid,
        "outcome": "hung" if case.hung else case.outcome,
        "base": verdict.base_note,
        "flaky": verdict.reproduces is False,
        "test_traceback": [e.render() for e in entries][-12:],
    }
    details["blame"] = blamed.how
    if blamed.failed_in is not None and ran:
        details["changed_functions_run"] = [t.qualname for t in ran]
    common: dict[str, Any] = {
        "check": NAME,
        "kind": kind,
        "message": _failure_message(case, verdict, root),
        "severity": Severity.WARNING if verdict.reproduces is False else None,
        "input": case.nodeid,
        "actual": message,
        "reproduces": verdict.reproduces,
        "base_fails_same": verdict.base_fails_same,
        "reproducer": ts.rerun_command(case.nodeid),
        "details": details,
    }
    if not blamed.functions:
        own = tuple(e.render() for e in entries if e.path == case.path)
        return [
            Finding(
                path=case.path, function=case.function, line=case.line or 1, traceback=own, **common
            )
        ]
    paths = {t.path for t in (*targets, *blamed.functions)}
    in_code = tuple(e.render() for e in entries if e.path in paths)
    findings = []
    for function in blamed.functions:
        lines = [e.line for e in entries if blaming.inside(e, function)]
        findings.append(
            Finding(
                path=function.path,
                function=function.qualname,
                line=lines[-1] if lines else function.lineno,
                traceback=in_code,
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
        text = ts.error_lines(case.text, str(root)) or tail(case.text, 5)
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
                if blaming.inside(entry, target):
                    return target, entry
    return None


def timeout_finding(suite: SuiteRun, targets: Sequence[Target], root: Path) -> Finding:
    """A TIMEOUT finding: where it hung (the changed function, else the running test) and what finished."""
    seconds = suite.timeout
    threads = ts.parse_faulthandler(suite.files.read(suite.files.dump), str(root))
    hung = _hang_frame(threads, targets)
    running = suite.log.running
    finished = len(suite.log.finished)
    failed = sorted(n for n, o in suite.log.finished.items() if o in ("failed", "error"))
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
    errors = ts.error_lines(text) or tail(text)
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
