"""The docstring-examples check: run each changed function's examples and report the ones that fail."""

from __future__ import annotations

import ast
import builtins
import dataclasses
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegrad.model import CheckResult, Finding, Kind, Target
from codegrad.runners import values
from codegrad.runners.loader import module_name_for
from codegrad.verify import embedded
from codegrad.verify.checks.base import CheckContext, run_runner
from codegrad.verify.inputs.examples import Example, Unparsed, find_docstring, scan
from codegrad.verify.sandbox import RunResult

RUNNER = "docstrings"
MAYBE_WRONG = (
    "The example itself may be wrong: if the code does what it should, correct the docstring "
    "instead of the code."
)
_RAN = ("ok", "fail", "error", "timeout", "running")
_TEXT = 300


@dataclass(frozen=True)
class Plan:
    """One target with the examples found in its docstring and where that docstring starts."""

    target: Target
    examples: tuple[Example, ...]
    first_line: int  # file line of the docstring's line 1 (its opening quotes)
    unparsed: tuple[Unparsed, ...] = ()  # examples whose stated output cannot be read

    def file_line(self, example: Example) -> int:
        return self.first_line + example.line - 1


# ---------------------------------------------------------------------------------------------
# Pure steps: plans, specs, findings, reproducers


def plan_for(target: Target) -> Plan | tuple[str, int]:
    """The target's examples, or the reason it has none to run (and how many were unreadable)."""
    if target.kind == "nested":
        return "nested functions cannot be called from outside their enclosing function", 0
    site = find_docstring(target.source, target.name)
    if site is None:
        return "no docstring", 0
    found = scan(site.text, target.name, params=site.params)
    source_start = target.decorator_lineno or target.lineno
    first_line = source_start + site.line - 1
    if not found.examples:
        return _none_readable(found.unparsed, first_line), len(found.unparsed)
    return Plan(target, found.examples, first_line, found.unparsed)


def _none_readable(unparsed: Sequence[Unparsed], first_line: int) -> str:
    if not unparsed:
        return "no examples in the docstring"
    where = ", ".join(f"line {first_line + u.line - 1} ({u.reason})" for u in unparsed[:3])
    more = f" and {len(unparsed) - 3} more" if len(unparsed) > 3 else ""
    return f"no example whose output can be read: skipped {where}{more}"


def runner_spec(
    root: Path, items: Sequence[tuple[str, str, Sequence[Example]]], call_timeout: float
) -> dict[str, Any]:
    """The runner's spec: (path, qualname, examples) per target under one root."""
    return {
        "root": str(root),
        "call_timeout": call_timeout,
        "targets": [
            {
                "path": path,
                "qualname": qualname,
                "examples": [dataclasses.asdict(e) for e in examples],
            }
            for path, qualname, examples in items
        ],
    }


def _short(text: str | None, limit: int = _TEXT) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def expected_text(example: Example) -> str:
    """What the example says should happen, for messages and the finding's `expected`."""
    if example.expects_exception:
        return example.expected or example.expects_exception
    if example.form == "doctest" and not (example.expected or "").strip():
        return "None (no output)"
    return example.expected or ""


def _stopped(process: RunResult) -> str:
    if process.timed_out:
        return f"the run was stopped after {process.seconds:.0f}s"
    tail = process.stderr.strip().splitlines()[-1:] or [f"exit code {process.returncode}"]
    return f"the process died ({_short(tail[0], 200)})"


def finding_for(
    plan: Plan,
    example: Example,
    outcome: dict[str, Any],
    process: RunResult,
    reproducer: str | None,
    call_timeout: float,
) -> Finding | None:
    """The finding for one example's outcome (None when it passed or could not run)."""
    status = outcome.get("status")
    call = _short(example.call)
    expected = expected_text(example)
    actual = outcome.get("actual")
    if status == "fail":
        kind = Kind.BUG
        message = f"docstring example {call} expected {_short(expected)}, got {_short(actual)}"
    elif status == "error":
        kind = Kind.CRASH
        message = f"docstring example {call} raised {_short(actual)}"
        if example.expects_exception:
            message += f" (expected {_short(expected)})"
    elif status == "timeout":
        kind = Kind.TIMEOUT
        actual = f"did not finish within {call_timeout:g}s"
        message = f"docstring example {call} {actual}"
    elif status == "running" and process.timed_out:
        kind = Kind.TIMEOUT
        actual = f"did not finish; {_stopped(process)}"
        message = f"docstring example {call} {actual}"
    elif status == "running":
        kind = Kind.CRASH
        actual = _stopped(process)
        message = f"docstring example {call}: {actual} while it ran"
    else:
        return None
    target = plan.target
    details: dict[str, Any] = {
        "form": example.form,
        "docstring_line": example.line,
        "note": MAYBE_WRONG,
    }
    if example.setup:
        details["setup"] = list(example.setup)
    if outcome.get("stdout"):
        details["stdout"] = outcome["stdout"]
    if outcome.get("reason"):
        details["reason"] = outcome["reason"]
    return Finding(
        path=target.path,
        function=target.qualname,
        line=plan.file_line(example),
        check=RUNNER,
        kind=kind,
        message=message,
        input=example.call,
        expected=expected,
        actual=actual,
        traceback=tuple(outcome.get("traceback") or ()),
        reproduces=True,
        reproducer=reproducer,
        details=details,
    )


def error_finding(plan: Plan, message: str) -> Finding:
    """One Kind.ERROR finding for a target whose examples could not be run at all."""
    target = plan.target
    return Finding(
        path=target.path,
        function=target.qualname,
        line=target.lineno,
        check=RUNNER,
        kind=Kind.ERROR,
        message=f"docstring examples of {target.qualname} could not run: {_short(message, 500)}",
        reproduces=True,
    )


def same_failure(head: dict[str, Any], base: dict[str, Any] | None) -> bool | None:
    """Does base fail the way head does? None when base could not tell (e.g. the function is missing)."""
    if base is None or base.get("status") not in _RAN:
        return None
    status = head.get("status")
    if status == "running":
        status = "timeout"
    if status == "fail":
        return base.get("status") == "fail" and base.get("actual") == head.get("actual")
    if status == "error":
        same_type = (base.get("exception") or {}).get("type") == (head.get("exception") or {}).get(
            "type"
        )
        return base.get("status") == "error" and same_type
    if status == "timeout":
        return base.get("status") in ("timeout", "running")
    return None


# ----- reproducers


def module_for_path(path: str) -> str:
    """A best guess at the import name of a repo-relative file ("src/pkg/mod.py" -> "pkg.mod")."""
    parts = path.removesuffix(".py").split("/")
    if parts[0] in ("src", "lib") and len(parts) > 1:
        parts = parts[1:]
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


_BUILTINS = frozenset(dir(builtins))


def _names(sources: Sequence[str]) -> tuple[set[str], set[str]]:
    """(names the sources read, names they bind)."""
    loaded: set[str] = set()
    bound: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                bound.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(node.name)
    return loaded, bound


def _literal(text: str) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def _wants_approx(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, (list, tuple)) and value:
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        return numeric and any(isinstance(v, float) for v in value)
    return False


def _is_expression(text: str) -> bool:
    try:
        ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class _Assertion:
    """The test's body and what it needs: pytest, capsys, helpers copied from the sandbox."""

    body: list[str]
    pytest: bool = False
    capsys: bool = False
    helpers: tuple[str, ...] = ()


def _assertion(example: Example, *, copy: bool = True) -> _Assertion:
    """The check of one example; a value that is no literal (an object, maybe without `__eq__`)
    is compared with the runner's `equivalent`, copied in (unless `copy` is off)."""
    call = example.call.strip()
    expected = (example.expected or "").strip()
    if example.expects_exception:
        return _Assertion(
            [f"with pytest.raises({example.expects_exception}):", f"    {call}"], True
        )
    if example.form == "doctest" and not expected:
        return _Assertion([f"assert {call} is None"])
    if call.startswith("print(") or (example.form == "doctest" and not _is_expression(expected)):
        if call.startswith("print("):
            out = expected + chr(10)
            return _Assertion([call, f"assert capsys.readouterr().out == {out!r}"], capsys=True)
        masked = values.without_addresses(expected)
        if copy and masked != expected:
            check = f"assert without_addresses(repr({call})) == {masked!r}"
            return _Assertion([check], helpers=("without_addresses",))
        return _Assertion([f"assert repr({call}) == {expected!r}"])
    ok, value = _literal(expected)
    if ok and _wants_approx(value):
        return _Assertion([f"assert {call} == pytest.approx({expected})"], True)
    if not ok and copy:
        return _Assertion([f"assert equivalent({call}, {expected})"], helpers=("equivalent",))
    return _Assertion([f"assert {call} == {expected}"])


def reproducer_for_example(
    target: Target, example: Example, *, module: str | None = None, line: int | None = None
) -> str:
    """A pytest test (source text) that runs the example against the target's module."""
    module = module or module_for_path(target.path)
    check = _assertion(example)
    owner = target.qualname.split(".")[0]
    copied = embedded.helpers(check.helpers) if check.helpers else None
    if copied is not None:
        theirs = _names([*example.setup, example.call, example.expected or ""])
        if copied.names & (theirs[0] | theirs[1] | {owner}):  # the project's names win
            check, copied = _assertion(example, copy=False), None
    loaded, bound = _names([*example.setup, "\n".join(check.body)])
    ours = copied.names if copied else frozenset()
    imports = sorted(
        {owner} | {n for n in loaded - bound - _BUILTINS - ours if n not in ("pytest", "capsys")}
    )
    where = f"{target.path}:{line}" if line else target.path
    test_name = f"test_{target.qualname.replace('.', '_')}_docstring_example_{line or example.line}"
    lines = [f'"""The docstring example of {target.qualname} at {where}, as a test."""', ""]
    if copied is not None:
        lines += [*copied.imports, ""]
    if check.pytest:
        lines += ["import pytest", ""]
    lines += [f"from {module} import {', '.join(imports)}", "", ""]
    lines.append(f"def {test_name}({'capsys' if check.capsys else ''}):")
    for source in example.setup:
        lines += [f"    {text}" if text.strip() else "" for text in source.splitlines()]
    lines += [f"    {text}" for text in check.body]
    if copied is not None:
        lines += ["", "", embedded.NOTE, copied.body.rstrip("\n")]
    return "\n".join(lines) + "\n"


def _compiled_reproducer(plan: Plan, example: Example, module: str) -> str | None:
    source = reproducer_for_example(
        plan.target, example, module=module, line=plan.file_line(example)
    )
    try:
        ast.parse(source)
    except SyntaxError:
        return None
    return source


# ---------------------------------------------------------------------------------------------
# The check (I/O: runs the sandboxed runner)


@dataclass
class _Tally:
    findings: list[Finding] = dataclasses.field(default_factory=list)
    failing: list[tuple[Plan, int, dict[str, Any], int]] = dataclasses.field(default_factory=list)
    checked: list[str] = dataclasses.field(default_factory=list)
    skipped: dict[str, str] = dataclasses.field(default_factory=dict)
    statuses: Counter[str] = dataclasses.field(default_factory=Counter)


class DocstringsCheck:
    """Runs the examples in the changed functions' docstrings; a failing one is a finding."""

    name = "docstrings"

    def run(self, targets: Sequence[Target], ctx: CheckContext) -> CheckResult:
        started = time.monotonic()
        tally = _Tally()
        plans: list[Plan] = []
        unparsed = 0
        for target in targets:
            planned = plan_for(target)
            if isinstance(planned, Plan):
                plans.append(planned)
                unparsed += len(planned.unparsed)
            else:
                tally.skipped[target.key], skipped_unparsed = planned
                unparsed += skipped_unparsed
        plans.sort(key=lambda p: (p.target.path, p.target.lineno))
        if plans:
            self._run_head(plans, ctx, tally)
            self._compare_with_base(ctx, tally)
        forms = Counter(e.form for p in plans for e in p.examples)
        stats = {
            "examples": sum(len(p.examples) for p in plans),
            "unparsed": unparsed,
            "forms": dict(forms),
            "outcomes": dict(tally.statuses),
        }
        return CheckResult(
            check=self.name,
            findings=tuple(tally.findings),
            checked=tuple(tally.checked),
            skipped=tally.skipped,
            seconds=time.monotonic() - started,
            stats=stats,
        )

    def _run_head(self, plans: Sequence[Plan], ctx: CheckContext, tally: _Tally) -> None:
        root = ctx.workspace.head_root
        call_timeout = ctx.settings.call_timeout
        items = [(p.target.path, p.target.qualname, p.examples) for p in plans]
        output = run_runner(
            RUNNER,
            runner_spec(root, items, call_timeout),
            ctx=ctx,
            cwd=root,
            timeout=ctx.settings.function_timeout * len(plans),
        )
        entries = (output.data or {}).get("targets") or []
        for index, plan in enumerate(plans):
            entry = entries[index] if index < len(entries) else None
            self._judge_target(plan, entry, output.process, root, call_timeout, tally)

    def _judge_target(
        self,
        plan: Plan,
        entry: dict[str, Any] | None,
        process: RunResult,
        root: Path,
        call_timeout: float,
        tally: _Tally,
    ) -> None:
        key = plan.target.key
        status = entry.get("status") if entry else None
        if entry is None or status == "pending":
            if process.timed_out:
                tally.skipped[key] = "the time budget ran out before its examples ran"
            else:
                tally.findings.append(
                    error_finding(plan, f"the runner failed: {_stopped(process)}")
                )
            return
        if status == "loading":
            tally.findings.append(
                error_finding(plan, f"importing {plan.target.path}: {_stopped(process)}")
            )
            return
        if status == "load-error":
            tally.findings.append(error_finding(plan, str(entry.get("error"))))
            return
        if status == "not-found":
            tally.skipped[key] = f"not reachable by name: {entry.get('error')}"
            return
        module = module_name_for(root, plan.target.path)[0]
        outcomes = entry.get("examples") or []
        for outcome in outcomes:
            tally.statuses[str(outcome.get("status"))] += 1
            index = int(outcome.get("index", -1))
            if not 0 <= index < len(plan.examples):
                continue
            example = plan.examples[index]
            finding = finding_for(plan, example, outcome, process, None, call_timeout)
            if finding is not None:
                reproducer = _compiled_reproducer(plan, example, module)
                finding = dataclasses.replace(finding, reproducer=reproducer)
                tally.failing.append((plan, index, outcome, len(tally.findings)))
                tally.findings.append(finding)
        if any(o.get("status") in _RAN for o in outcomes):
            tally.checked.append(key)
        elif outcomes:
            reasons = {str(o.get("reason")) for o in outcomes if o.get("reason")}
            tally.skipped[key] = "its examples could not run: " + "; ".join(sorted(reasons))[:300]
        elif process.timed_out:
            tally.skipped[key] = "the time budget ran out before its examples ran"

    def _compare_with_base(self, ctx: CheckContext, tally: _Tally) -> None:
        base_root = ctx.workspace.base_root
        if base_root is None or not base_root.is_dir():
            return
        by_target: dict[str, list[tuple[Plan, int, dict[str, Any], int]]] = {}
        for item in tally.failing:
            if item[0].target.base_source is not None:
                by_target.setdefault(item[0].target.key, []).append(item)
        if not by_target or ctx.remaining() <= 1.0:
            return
        groups = list(by_target.values())
        items = [
            (
                g[0][0].target.base_path or g[0][0].target.path,
                g[0][0].target.qualname,
                [g_item[0].examples[g_item[1]] for g_item in g],
            )
            for g in groups
        ]
        output = run_runner(
            RUNNER,
            runner_spec(base_root, items, ctx.settings.call_timeout),
            ctx=ctx,
            cwd=base_root,
            timeout=ctx.settings.function_timeout * len(groups),
        )
        entries = (output.data or {}).get("targets") or []
        for g_index, group in enumerate(groups):
            entry = entries[g_index] if g_index < len(entries) else None
            base_outcomes = (entry or {}).get("examples") or []
            for position, (_plan, _index, head_outcome, finding_index) in enumerate(group):
                base = base_outcomes[position] if position < len(base_outcomes) else None
                if (
                    base is not None
                    and base.get("status") == "running"
                    and not output.process.timed_out
                ):
                    base = None
                verdict = same_failure(head_outcome, base)
                finding = tally.findings[finding_index]
                changes: dict[str, Any] = {"base_fails_same": verdict}
                if verdict:
                    changes["kind"] = Kind.PRE_EXISTING
                    changes["details"] = {**finding.details, "head_kind": finding.kind.value}
                tally.findings[finding_index] = dataclasses.replace(finding, **changes)
