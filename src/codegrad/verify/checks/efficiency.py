"""The efficiency check: how a changed function's cost grows with input size, against base and a stated bound."""

from __future__ import annotations

import ast
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from codegrad.funcsource import parse_def
from codegrad.model import CheckResult, Finding, Target
from codegrad.verify.checks import batching, complexity
from codegrad.verify.checks.base import CheckContext
from codegrad.verify.checks.complexity import Bound
from codegrad.verify.checks.efficiency_findings import COST_MEASURE, NAME
from codegrad.verify.checks.efficiency_judge import Judged, judge
from codegrad.verify.checks.efficiency_spec import Limits, spec_common, target_spec
from codegrad.verify.checks.sizing import InputPlan, plan_inputs

RUNNER = "efficiency"
Batch = batching.Batch[dict[str, Any]]  # a killed target keeps what it had measured


def run_batches(
    common: dict[str, Any],
    specs: Sequence[dict[str, Any]],
    ctx: CheckContext,
    cwd: Path,
    per_target: float,
) -> Batch:
    """All targets in one runner process; after a kill, go on with the rest in a new one."""

    def hang(current: Any, results: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
        return (str(current["key"]), current) if current.get("key") not in results else None

    return batching.run_batches(
        RUNNER, common, specs, ctx, cwd, per_target=per_target, slack=10, hang=hang
    )


def _read(root: Path | None, path: str | None) -> str | None:
    if root is None or path is None:
        return None
    try:
        return (root / path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


class EfficiencyCheck:
    """Measures the cost growth of changed functions on base and head; flags regressions and bounds."""

    name = NAME

    def run(self, targets: Sequence[Target], ctx: CheckContext) -> CheckResult:
        started = time.monotonic()
        settings = ctx.settings
        head_root, base_root = ctx.workspace.head_root, ctx.workspace.base_root
        skipped: dict[str, str] = {}
        planned: list[tuple[Target, InputPlan, Bound | None]] = []
        for target in targets:
            source = _read(head_root, target.path)
            bound = complexity.stated_bound(
                settings.complexity_bounds,
                target.path,
                target.qualname,
                target.docstring or _docstring(target),
            )
            if bound is None and (target.base_source is None or base_root is None):
                skipped[target.key] = (
                    "a new function with no stated bound: nothing to compare its growth with"
                )
                continue
            plan = plan_inputs(target, source)
            if isinstance(plan, str):
                skipped[target.key] = plan
                continue
            planned.append((target, plan, bound))
        limits = Limits.of(settings.function_timeout, settings.slowdown_factor)
        roots = [r for r in (base_root, head_root) if r is not None]
        specs = [target_spec(t, p, head_root, base_root) for t, p, _ in planned]
        batch = (
            run_batches(
                spec_common(roots, limits, settings.seed), specs, ctx, head_root, limits.per_target
            )
            if specs
            else Batch()
        )
        findings: list[Finding] = []
        checked: list[str] = []
        per_target: dict[str, Any] = {}
        for target, plan, bound in planned:
            judged = self._judge(target, plan, bound, batch, ctx, limits)
            if judged.skipped:
                skipped[target.key] = judged.skipped
                continue
            findings += judged.findings
            checked.append(target.key)
            per_target[target.key] = dict(judged.stats)
        return CheckResult(
            check=NAME,
            findings=tuple(findings),
            checked=tuple(checked),
            skipped=skipped,
            seconds=time.monotonic() - started,
            stats={"cost_measure": COST_MEASURE, "targets": per_target},
        )

    def _judge(
        self,
        target: Target,
        plan: InputPlan,
        bound: Bound | None,
        batch: Batch,
        ctx: CheckContext,
        limits: Limits,
    ) -> Judged:
        hung = batch.hung.get(target.key)
        result = batch.results.get(target.key)
        if result is None and hung is not None:
            result = hung.get("partial") or {}
        if result is None:
            why = (
                f"the runner failed: {batch.broken}"
                if batch.broken
                else "the time budget was spent"
            )
            return Judged(skipped=f"not measured: {why}")
        if result.get("status") in ("skipped", "error"):
            return Judged(skipped=f"not measured: {result.get('reason', 'could not run')}")
        judged = judge(
            target,
            plan,
            result,
            bound=bound,
            slowdown=limits.slowdown,
            hung=hung,
            file_text=_read(ctx.workspace.head_root, target.path),
            seed=ctx.settings.seed,
        )
        seconds = result.get("seconds")
        return Judged(judged.findings, judged.skipped, {**judged.stats, "seconds": seconds})


def _docstring(target: Target) -> str | None:
    node = parse_def(target.source)
    return ast.get_docstring(node) if node is not None else None
