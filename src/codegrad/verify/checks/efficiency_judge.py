"""Judging one target: base and head's measured costs compared, and checked against a bound (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from codegrad.model import Finding, Target
from codegrad.verify.checks import complexity
from codegrad.verify.checks.complexity import Bound
from codegrad.verify.checks.efficiency_findings import bound_finding, regression_finding
from codegrad.verify.checks.efficiency_series import Series, hot_line, slow_to_budget
from codegrad.verify.checks.sizing import InputPlan


@dataclass(frozen=True)
class Judged:
    """What the check concluded for one target: findings, or why it could not conclude."""

    findings: tuple[Finding, ...] = ()
    skipped: str | None = None
    stats: Mapping[str, Any] = field(default_factory=dict)


def judge(
    target: Target,
    plan: InputPlan,
    result: Mapping[str, Any],
    *,
    bound: Bound | None,
    slowdown: float,
    hung: Mapping[str, Any] | None = None,
    file_text: str | None = None,
    seed: int = 0,
) -> Judged:
    """Findings for one target from the runner's result (pure)."""
    sides = result.get("sides") or {}
    hung_side = (hung or {}).get("side")
    hung_at = (hung or {}).get("size")
    base = Series.of(sides.get("base"), hung_at if hung_side == "base" else None)
    head = Series.of(sides.get("head"), hung_at if hung_side == "head" else None)
    if head is None:
        notes = "; ".join(result.get("notes") or []) or str(
            result.get("reason") or "head did not run"
        )
        return Judged(skipped=f"not measured: {notes}")
    findings: list[Finding] = []
    comparison = None
    if base is not None and target.base_source is not None and base.sizes:
        head = slow_to_budget(base, head, slowdown)
    hot = hot_line(head, target, file_text)
    if base is not None and target.base_source is not None and base.sizes:
        comparison = complexity.compare(
            base.sizes, base.costs, head.costs, slowdown=slowdown, head_stop=head.stop
        )
        if comparison.regression:
            findings.append(regression_finding(target, plan, comparison, base, head, hot, seed))
    if bound is not None:
        made = bound_finding(target, plan, bound, base, head, hot, comparison, seed)
        if made is not None:
            findings.append(made)
    stats = {
        "sizes": len(head.sizes),
        "largest": head.sizes[-1] if head.sizes else None,
        "head_class": comparison.head_class if comparison else _class_of(head),
        "base_class": comparison.base_class if comparison else None,
    }
    if not head.sizes and not findings:
        reason = head.stop.detail if head.stop else "no size could be measured"
        return Judged(skipped=f"not measured: {reason}", stats=stats)
    return Judged(findings=tuple(findings), stats=stats)


def _class_of(series: Series) -> str:
    return complexity.class_name(complexity.fit(series.sizes, series.costs))
