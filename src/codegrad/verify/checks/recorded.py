"""The recorded check: replay the calls the project's tests make on base and head, then grow from them."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from codegrad.funcsource import FuncNode, parse_def
from codegrad.model import CheckResult, Finding, Target
from codegrad.verify import interpreter, reproducer
from codegrad.verify.checks import recording
from codegrad.verify.checks import testselect as ts
from codegrad.verify.checks.base import CheckContext
from codegrad.verify.checks.differential import comparable
from codegrad.verify.checks.properties import Batch, budgets, raised_types, run_batched
from codegrad.verify.checks.pytest_runs import on_base, scan_tree
from codegrad.verify.checks.recorded_findings import NAME, recorded_finding
from codegrad.verify.inputs import recorded_calls, strategies, widening

Recorded = tuple[recorded_calls.Recording, list[recording.RecordRun]]
NOT_PYTEST = "the test command is not pytest: calls cannot be recorded"
NO_TESTS = "no tests to record calls from"
NO_CALLS = "no project test calls this function"
NONE_REACHED = "none of "  # how the reason starts when no call reached the changed lines
# per target: calls of head's tests whose result changed (a sign the change is intended)
SHOWN_STAT = "changed_in_head_tests"


def calls_json(
    calls: Sequence[recorded_calls.Call], head_root: Path | None = None
) -> list[dict[str, Any]]:
    """Each distinct call once, base's first, marked with the sides whose tests made it; a call
    only base's tests made is marked `test_gone` when head no longer has that test at all."""
    sides: dict[str, set[str]] = {}
    for call in calls:
        sides.setdefault(call.text, set()).add(call.side)
    out = []
    for call in recorded_calls.merged(calls):
        entry = call.to_json()
        entry["side"] = "both" if len(sides[call.text]) > 1 else call.side
        if entry["side"] == "base" and head_root is not None and call.test:
            entry["test_gone"] = not on_base(head_root, call.test)
        out.append(entry)
    return out


def _positional_names(node: FuncNode) -> tuple[list[str], str | None]:
    a = node.args
    return [p.arg for p in (*a.posonlyargs, *a.args)], a.vararg.arg if a.vararg else None


def grow_plan(target: Target, calls: Sequence[recorded_calls.Call]) -> dict[str, Any] | None:
    """Per parameter: a strategy (recorded plain values, docstring examples, defaults) or a pool of
    recorded encodings only the sandbox can rebuild (`self`, objects); None when growing cannot work."""
    node = parse_def(target.source)
    if node is None or target.kind in ("property", "nested") or not calls:
        return None
    names, star = _positional_names(node)
    if target.kind == "classmethod":
        names = names[1:]
    receiver = target.kind == "method"
    plain: dict[str, list[Any]] = {}
    pools: dict[str, list[Any]] = {}
    for call in calls:
        for name, value in recorded_calls.bound_values(call, names, star).items():
            plain.setdefault(name, []).append(value)
        for name, encoded in recorded_calls.encoded_values(call, names).items():
            if not recorded_calls.is_plain(encoded) or (receiver and name == names[0]):
                pools.setdefault(name, []).append(encoded)
    made = strategies.plan_def(node, target.docstring, drop_first=receiver, extra=plain)
    if isinstance(made, strategies.ArgPlan):
        made = widening.for_comparison(made, target, drop_first=receiver, more=plain)
    planned = {p.name: p for p in made.params} if isinstance(made, strategies.ArgPlan) else {}
    pool: list[Any] = []
    params: list[dict[str, Any]] = []
    order = names if star is None else [*names, star]
    kwonly = [p.arg for p in node.args.kwonlyargs]
    for name in [*order, *kwonly]:
        entry = {"name": name, "keyword": name in kwonly, "star": name == star}
        if name in pools and (name not in planned or planned[name].origin == "guess"):
            entry["pool"] = list(range(len(pool), len(pool) + len(pools[name])))
            pool += pools[name]
        elif name in planned and planned[name].origin != "guess":
            entry["strategy"] = planned[name].wide
        else:
            continue  # left to its default
        params.append(entry)
    if (receiver and not params) or (receiver and params[0]["name"] != names[0]):
        return None  # an instance method needs a recorded self
    return {"params": params, "pool": pool} if params else None


def target_spec(
    target: Target, calls: list[dict[str, Any]], grow: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "key": target.key,
        "path": target.path,
        "qualname": target.qualname,
        "base_path": target.base_path or target.path,
        "import_name": reproducer.module_name(target.path),
        "changed_lines": list(target.changed_lines),
        "base_allowed": list(raised_types(target.base_source or "")),
        "calls": calls,
        "grow": grow,
    }


def _why_none(summary: dict[str, Any]) -> str:
    """Why a target has no recorded call, from the recorders' summaries."""
    if not summary:
        return NO_CALLS
    reasons = [s.get("why_not") for s in summary.values() if s.get("why_not")]
    if reasons:
        return f"cannot record its calls: {reasons[0]}"
    seen = sum(int(s.get("seen", 0)) for s in summary.values())
    if not seen:
        return NO_CALLS
    unrecordable: dict[str, int] = {}
    for s in summary.values():
        for reason, count in (s.get("unrecordable") or {}).items():
            unrecordable[reason] = unrecordable.get(reason, 0) + count
    top = max(unrecordable, key=lambda k: unrecordable[k], default="")
    return f"the tests call it {seen} time(s) but its arguments cannot be recorded" + (
        f" ({top})" if top else ""
    )


class RecordedCheck:
    """Record the changed functions' calls in the project's tests, replay them on base and head."""

    name = NAME

    def __init__(self) -> None:
        self._started: tuple[CheckContext, tuple[str, ...], Future[Recorded]] | None = None

    def start(self, targets: Sequence[Target], ctx: CheckContext) -> None:
        """Begin the recording (the project's suite) in the background: the checks that do not
        need it run meanwhile."""
        recordable = [t for t in targets if t.kind != "nested"]
        if not recordable or self._cannot_record(ctx) is not None:
            return
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="codegrad-recording")
        future = pool.submit(recording.record_cached, recordable, ctx, targets)
        pool.shutdown(wait=False)
        self._started = (ctx, tuple(t.key for t in targets), future)

    def _recorded(
        self, targets: Sequence[Target], recordable: Sequence[Target], ctx: CheckContext
    ) -> Recorded:
        """The recording start() began for this verification, or one made now."""
        started, self._started = self._started, None
        if (
            started is not None
            and started[0] is ctx
            and started[1] == tuple(t.key for t in targets)
        ):
            return started[2].result()
        return recording.record_cached(recordable, ctx, suite_targets=targets)

    def run(self, targets: Sequence[Target], ctx: CheckContext) -> CheckResult:
        started = time.monotonic()
        skipped: dict[str, str] = {}
        # every function a test can call is recorded (the properties check plans new functions'
        # parameters from the recorded values too); only those with a comparable base are replayed
        recordable = [t for t in targets if t.kind != "nested"]
        skipped.update(
            {
                t.key: "nested functions are not called directly"
                for t in targets
                if t.kind == "nested"
            }
        )
        candidates = []
        for target in recordable:
            reason = comparable(target, ctx)
            if reason is not None:
                skipped[target.key] = reason
            else:
                candidates.append(target)
        if not recordable:
            return self._result([], [], skipped, started, {})
        why = self._cannot_record(ctx)
        if why is not None:
            skipped.update(dict.fromkeys((t.key for t in candidates), why))
            return self._result([], [], skipped, started, {})
        found, runs = self._recorded(targets, recordable, ctx)
        stats: dict[str, Any] = {
            "recorded": {t.key: len(found.for_key(t.key)) for t in recordable},
            "record_seconds": round(sum(r.process.seconds for r in runs if r.process), 3),
            "record_timed_out": [r.side for r in runs if r.timed_out],
        }
        specs, by_key = [], {}
        for target in candidates:
            calls = found.for_key(target.key)
            if not calls:
                skipped[target.key] = _why_none(found.summary.get(target.key, {}))
                continue
            spec = target_spec(
                target, calls_json(calls, ctx.workspace.head_root), grow_plan(target, calls)
            )
            specs.append(spec)
            by_key[target.key] = target
        batch = self._replay(specs, ctx, ctx.workspace.head_root.resolve())
        findings, checked = self._collect(batch, by_key, skipped, stats)
        return self._result(findings, checked, skipped, started, stats)

    def _cannot_record(self, ctx: CheckContext) -> str | None:
        """Why no call can be recorded in this tree (None when the suite can run with the recorder)."""
        command = ts.parse_test_command(ctx.settings.test_command, interpreter.project_python())
        if not command.is_pytest:
            return NOT_PYTEST
        if not command.paths and not scan_tree(ctx.workspace.head_root.resolve()).has_tests:
            return NO_TESTS
        return None

    def _replay(self, specs: list[dict[str, Any]], ctx: CheckContext, root: Path) -> Batch:
        if not specs or ctx.workspace.base_root is None:
            return Batch()
        common = {
            "root": str(root),
            "base_root": str(ctx.workspace.base_root.resolve()),
            "max_examples": ctx.settings.max_examples,
            "seed": ctx.settings.seed,
            **budgets(ctx),
        }
        return run_batched("replay", common, specs, ctx, root)

    def _collect(
        self,
        batch: Batch,
        by_key: dict[str, Target],
        skipped: dict[str, str],
        stats: dict[str, Any],
    ) -> tuple[list[Finding], list[str]]:
        findings: list[Finding] = []
        checked: list[str] = []
        totals = {"calls": 0, "in_domain": 0, "reached": 0, "grown_calls": 0, "grown_reached": 0}
        shown: dict[str, int] = {}
        for key, target in by_key.items():
            result = batch.results.get(key)
            if key in batch.hung or result is None:
                skipped[key] = (
                    "the replay did not finish"
                    if key in batch.hung
                    else (
                        f"not run: {batch.broken}"
                        if batch.broken
                        else "not run: the time budget was spent"
                    )
                )
                continue
            if result.get("status") in ("skipped", "error"):
                skipped[key] = str(result.get("reason", "could not run"))
                continue
            grown = result.get("grown") or {}
            for name in ("calls", "in_domain", "reached"):
                totals[name] += int(result.get(name, 0))
            totals["grown_calls"] += int(grown.get("calls", 0))
            totals["grown_reached"] += int(grown.get("reached", 0))
            reached = int(result.get("reached", 0)) + int(grown.get("reached", 0))
            if reached:
                checked.append(key)
            else:
                skipped[key] = (
                    f"{NONE_REACHED}{result.get('calls', 0)} recorded call(s) ({result.get('in_domain', 0)} in "
                    f"the domain) and {grown.get('calls', 0)} grown one(s) reached the changed lines"
                )
            findings += [recorded_finding(target, f) for f in result.get("failures", [])]
            shown[key] = int(result.get(SHOWN_STAT, 0))
        stats.update(totals)
        stats[SHOWN_STAT] = shown
        return findings, checked

    def _result(
        self,
        findings: list[Finding],
        checked: list[str],
        skipped: dict[str, str],
        started: float,
        stats: dict[str, Any],
    ) -> CheckResult:
        return CheckResult(
            check=NAME,
            findings=tuple(findings),
            checked=tuple(checked),
            skipped=skipped,
            seconds=time.monotonic() - started,
            stats=stats,
        )
