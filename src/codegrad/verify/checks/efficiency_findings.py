"""The efficiency check's findings: a performance regression or an exceeded bound, explained (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from codegrad.model import Finding, Kind, Severity, Target
from codegrad.verify.checks import complexity
from codegrad.verify.checks.complexity import Bound, Comparison
from codegrad.verify.checks.efficiency_reproducer import growth_test
from codegrad.verify.checks.efficiency_series import HotLine, Series
from codegrad.verify.checks.sizing import InputPlan

NAME = "efficiency"
COST_MEASURE = (
    "units: executed lines of Python plus the elements built-in operations touch "
    "(`x in list`, `a + b` of sequences, slices, sorted(), list.index(), ...)"
)


def _units(value: float) -> str:
    return f"{value:,.0f}"


def _fit_text(fit: complexity.Fit | None) -> str:
    return fit.describe() if fit else "unknown (too few sizes)"


def _fit_json(fit: complexity.Fit | None) -> dict[str, Any] | None:
    if fit is None:
        return None
    return {"class": fit.klass, "error": round(fit.error, 4), "r2": round(fit.r2, 4)}


def _hot_text(hot: HotLine | None) -> str:
    if hot is None:
        return ""
    return f"; {hot.share:.0%} of it on line {hot.line}: `{hot.code}`"


def _hot_json(hot: HotLine | None, path: str) -> dict[str, Any] | None:
    if hot is None:
        return None
    return {
        "path": path,
        "line": hot.line,
        "code": hot.code,
        "units": hot.units,
        "share": round(hot.share, 3),
    }


def _wall_text(base: Series, head: Series, index: int) -> str:
    if index >= min(len(base.wall), len(head.wall)):
        return ""
    return (
        f" (untraced wall time {base.wall[index] * 1e3:.2f} ms vs {head.wall[index] * 1e3:.2f} ms)"
    )


def regression_message(
    target: Target, c: Comparison, base: Series, head: Series, hot: HotLine | None
) -> str:
    """One paragraph: classes with fit quality, costs at the largest common size, the hot line."""
    head_growth = c.head_class if c.censored_at is not None else _fit_text(c.head_fit)
    parts = [
        f"{target.qualname} grows {'' if c.censored_at else 'as '}{head_growth} on head"
        f" vs {_fit_text(c.base_fit)} on base"
    ]
    if c.sizes:
        n = c.sizes[-1]
        parts.append(
            f"at n={n} head costs {_units(c.head_costs[-1])} units vs {_units(c.base_costs[-1])} "
            f"on base ({c.ratio:.1f}x){_wall_text(base, head, len(c.sizes) - 1)}"
        )
    if c.censored_at is not None and head.stop is not None:
        why = "its cost cap" if head.stop.reason == "cost-cap" else "its time limit"
        parts.append(f"at n={c.censored_at} head did not finish within {why} while base did")
    return "; ".join(parts) + _hot_text(hot)


def _details(
    target: Target,
    sizes: Sequence[int],
    base: Sequence[float] | None,
    head: Sequence[float],
    base_fit: complexity.Fit | None,
    head_fit: complexity.Fit | None,
    head_class: str,
    hot: HotLine | None,
    plan: InputPlan,
) -> dict[str, Any]:
    return {
        "section": "Efficiency",
        "sizes": list(sizes),
        "base_costs": list(base) if base is not None else None,
        "head_costs": list(head),
        "base_class": complexity.class_name(base_fit) if base is not None else None,
        "head_class": head_class,
        "base_fit": _fit_json(base_fit),
        "head_fit": _fit_json(head_fit),
        "hot_line": _hot_json(hot, target.path),
        "inputs": plan.describe(),
        "cost_measure": COST_MEASURE,
    }


def regression_finding(
    target: Target,
    plan: InputPlan,
    c: Comparison,
    base: Series,
    head: Series,
    hot: HotLine | None,
    seed: int,
) -> Finding:
    details = _details(
        target, c.sizes, c.base_costs, c.head_costs, c.base_fit, c.head_fit, c.head_class, hot, plan
    )
    details.update(
        ratio=round(c.ratio, 3) if c.ratio is not None else None,
        reasons=list(c.reasons),
        censored_at=c.censored_at,
        base_wall=list(base.wall[: len(c.sizes)]),
        head_wall=list(head.wall[: len(c.sizes)]),
    )
    return Finding(
        path=target.path,
        function=target.qualname,
        line=hot.line if hot else target.lineno,
        check=NAME,
        kind=Kind.PERFORMANCE_REGRESSION,
        message=regression_message(target, c, base, head, hot),
        input=plan.describe(),
        expected=f"growth like base: {_fit_text(c.base_fit)}",
        actual=f"{c.head_class}"
        + (f", {c.ratio:.1f}x base cost at n={c.sizes[-1]}" if c.sizes else ""),
        reproduces=True,
        base_fails_same=False,
        reproducer=growth_test(
            target, plan, sizes=c.sizes, costs=c.base_costs, expected=c.base_class, seed=seed
        ),
        details=details,
    )


def bound_finding(
    target: Target,
    plan: InputPlan,
    bound: Bound,
    base: Series | None,
    head: Series,
    hot: HotLine | None,
    comparison: Comparison | None,
    seed: int,
) -> Finding | None:
    censored = head.stop is not None and head.stop.censored and bool(head.sizes)
    over, fit = complexity.exceeds(head.sizes, head.costs, bound.klass, censored=censored)
    if not over:
        return None
    measured = fit.klass if fit is not None and not fit.poor else bound.klass
    head_class = (
        complexity.worse_than(max(measured, bound.klass, key=complexity.RANK.__getitem__))
        if censored
        else complexity.class_name(fit)
    )
    base_over = None
    if base is not None and base.sizes and target.base_source is not None:
        base_censored = base.stop is not None and base.stop.censored
        base_over = complexity.exceeds(base.sizes, base.costs, bound.klass, censored=base_censored)[
            0
        ]
    where = (
        "its docstring states"
        if bound.source == "docstring"
        else "[tool.codegrad] complexity-bounds gives"
    )
    n = head.sizes[-1]
    message = (
        f"{target.qualname}: {where} {bound.text} ({bound.klass}), but its cost grows as "
        f"{head_class if censored else _fit_text(fit)}; at n={n} it costs {_units(head.costs[-1])} units"
    )
    if censored and head.stop is not None:
        message += f" and at n={head.stop.size} it did not finish within its budget"
    details = _details(
        target,
        head.sizes,
        base.costs[: len(head.sizes)]
        if base is not None and target.base_source is not None
        else None,
        head.costs,
        comparison.base_fit if comparison else None,
        fit,
        head_class,
        hot,
        plan,
    )
    details["bound"] = {"class": bound.klass, "text": bound.text, "source": bound.source}
    return Finding(
        path=target.path,
        function=target.qualname,
        line=hot.line if hot else target.lineno,
        check=NAME,
        kind=Kind.COMPLEXITY_BOUND,
        message=message + _hot_text(hot),
        severity=Severity.NOTE if base_over else None,
        input=plan.describe(),
        expected=f"at most {bound.klass} ({bound.source})",
        actual=head_class,
        reproduces=True,
        base_fails_same=base_over,
        reproducer=growth_test(
            target, plan, sizes=head.sizes, costs=None, expected=bound.klass, seed=seed
        ),
        details=details,
    )
