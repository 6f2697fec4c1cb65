"""The efficiency check: how a changed function's cost grows with input size, against base and a stated bound."""

from __future__ import annotations

import ast
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codegrad import complexity, strategies
from codegrad.checks import batching
from codegrad.checks.base import CheckContext
from codegrad.complexity import Bound, Comparison, Stop
from codegrad.model import CheckResult, Finding, Kind, Severity, Target
from codegrad.reproducer import module_name, test_name
from codegrad.sizing import InputPlan, builder_source, plan_inputs

NAME = "efficiency"
RUNNER = "efficiency"
# 4, 6, 8, 12, 16, ... 49152, 65536: about x1.4 per step, enough points for small and large costs
SIZES = tuple(sorted(n for k in range(15) for n in (4 << k, 6 << k) if n <= 65536))
RUN_CAP = 200_000  # stop growing n before a run is predicted to cost more units than this
ABORT_CAP = 2_000_000  # a run is stopped at this many units (head: or slowdown x base, if more)
COST_MEASURE = (
    "units: executed lines of Python plus the elements built-in operations touch "
    "(`x in list`, `a + b` of sequences, slices, sorted(), list.index(), ...)"
)
_SLACK = 2.5  # the reproducer allows this factor over the base version's measured growth


# ---------------------------------------------------------------- pure: the runner's spec


@dataclass(frozen=True)
class Limits:
    """Time and cost limits per target, from the settings."""

    run_seconds: float
    side_seconds: float
    slowdown: float

    @classmethod
    def of(cls, function_timeout: float, slowdown: float) -> Limits:
        per_function = max(2.0, function_timeout)
        return cls(
            run_seconds=min(5.0, max(1.0, per_function / 6)),
            side_seconds=max(1.0, per_function * 0.35),
            slowdown=slowdown,
        )

    @property
    def per_target(self) -> float:
        """The most one target can take in the runner: per side its budget, a warm-up call and a
        last traced and untraced run that start just before the budget ends; plus start-up."""
        return 2 * (self.side_seconds + 3 * self.run_seconds + 2.0) + 5.0


def spec_common(roots: Sequence[Path], limits: Limits, seed: int) -> dict[str, Any]:
    return {
        "seed": seed,
        "sizes": list(SIZES),
        "run_cap": RUN_CAP,
        "abort_cap": ABORT_CAP,
        "slowdown": limits.slowdown,
        "run_seconds": limits.run_seconds,
        "side_seconds": limits.side_seconds,
        "roots": [str(r) for r in roots],
    }


def target_spec(
    target: Target, plan: InputPlan, head_root: Path, base_root: Path | None
) -> dict[str, Any]:
    sides = []
    if base_root is not None and target.base_source is not None:
        sides.append(
            {"name": "base", "root": str(base_root), "path": target.base_path or target.path}
        )
    sides.append({"name": "head", "root": str(head_root), "path": target.path})
    return {
        "key": target.key,
        "qualname": target.qualname,
        "construct": plan.construct,
        "builders": plan.builders(),
        "sides": sides,
    }


# ---------------------------------------------------------------- pure: findings


@dataclass(frozen=True)
class Series:
    """One side's measured sizes and costs, how it stopped, and its line profile."""

    sizes: tuple[int, ...]
    costs: tuple[int, ...]
    stop: Stop | None = None
    profile: Mapping[str, Any] = field(default_factory=dict)  # the largest finished run
    wall: tuple[float, ...] = ()  # untraced seconds per size
    seconds: tuple[float, ...] = ()  # traced seconds per size
    ran_out: int | None = None  # the size at which the side's time budget ended the series

    @classmethod
    def of(cls, data: Mapping[str, Any] | None, hung_at: int | None = None) -> Series | None:
        if not data:
            return None
        stop = None
        raw = data.get("stop") or {}
        profile = data.get("profile") or {}
        if hung_at is not None:
            stop = Stop(
                "timeout", hung_at, "the runner was stopped (a call ignored the time limit)"
            )
        elif raw.get("reason") in ("cost-cap", "timeout", "error"):
            stop = Stop(str(raw["reason"]), int(raw["size"]), str(raw.get("detail", "")))
            profile = raw.get("profile") or profile
        return cls(
            sizes=tuple(int(n) for n in data.get("sizes", [])),
            costs=tuple(int(c) for c in data.get("costs", [])),
            stop=stop,
            profile=profile,
            wall=tuple(float(w) for w in data.get("wall", [])),
            seconds=tuple(float(s) for s in data.get("seconds", [])),
            ran_out=int(raw["size"]) if raw.get("reason") == "time-budget" else None,
        )


def slow_to_budget(base: Series, head: Series, slowdown: float) -> Series:
    """A head whose time budget ran out at a size base finished, after spending more than
    `slowdown` times base's time on the same sizes, did not finish that size (time-based, so
    only with a wide margin): native code that sleeps or blocks costs no units but still hangs."""
    if head.ran_out is None or head.stop is not None or head.ran_out not in base.sizes:
        return head
    spent = sum(head.seconds)
    if spent <= slowdown * max(sum(base.seconds[: len(head.sizes)]), 0.01):
        return head
    detail = f"its time budget ran out after {spent:.1f} s of runs"
    return replace(head, stop=Stop("timeout", head.ran_out, detail))


@dataclass(frozen=True)
class HotLine:
    """The target's line where most of the largest run's cost went (callees included)."""

    line: int
    units: int
    share: float
    code: str


def hot_line(series: Series, target: Target, file_text: str | None) -> HotLine | None:
    lines = {int(k): int(v) for k, v in (series.profile.get("target_lines") or {}).items()}
    inside = {k: v for k, v in lines.items() if target.lineno <= k <= target.end_lineno}
    if not inside:
        return None
    line = max(sorted(inside), key=lambda k: inside[k])
    total = max(int(series.profile.get("units") or 0), 1)
    text = file_text.splitlines() if file_text else []
    code = text[line - 1].strip() if 0 < line <= len(text) else ""
    return HotLine(line, inside[line], inside[line] / total, code)


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


@dataclass(frozen=True)
class Judged:
    """What the check concluded for one target: findings, or why it could not conclude."""

    findings: tuple[Finding, ...] = ()
    skipped: str | None = None
    stats: Mapping[str, Any] = field(default_factory=dict)


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
            findings.append(_regression(target, plan, comparison, base, head, hot, seed))
    if bound is not None:
        made = _bound_finding(target, plan, bound, base, head, hot, comparison, seed)
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


def _regression(
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


def _bound_finding(
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


# ---------------------------------------------------------------- pure: the reproducer


def _identity(x: float) -> float:
    return x


def _leading(klass: str, n: float) -> float:
    growth: dict[str, Callable[[float], float]] = {
        complexity.CONSTANT: lambda x: 1.0,
        complexity.LOG: lambda x: math.log2(x + 1),
        complexity.LINEAR: lambda x: x,
        complexity.LINEARITHMIC: lambda x: x * math.log2(x + 1),
        complexity.QUADRATIC: lambda x: x * x,
        complexity.QUADRATIC_LOG: lambda x: x * x * math.log2(x + 1),
        complexity.CUBIC: lambda x: x**3,
        complexity.EXPONENTIAL: lambda x: 2.0**x,
    }
    rule: Callable[[float], float] = growth.get(klass, _identity)
    return rule(n)


def reproducer_sizes(
    sizes: Sequence[int], costs: Sequence[float] | None, expected: str
) -> tuple[int, int, float, str] | None:
    """(small n, large n, expected time growth between them, where that expectation comes from).

    With a known class the test goes 8x past the largest size measured, where wall time shows
    what the cost units predicted (built-ins are fast per element, so small sizes hide them);
    without one it stays inside the measured sizes and expects the base's measured growth.
    """
    if not sizes:
        return None
    if expected in complexity.RANK:
        small = sizes[-1]
        large = 8 * small
        growth = _leading(expected, large) / max(_leading(expected, small), 1e-9)
        return small, large, min(growth, 1e6), expected
    if costs is None or len(sizes) < 2:
        return None
    large = sizes[-1]
    small = max((n for n in sizes if n * 8 <= large), default=sizes[0])
    growth = costs[sizes.index(large)] / max(costs[sizes.index(small)], 1)
    return small, large, growth, "the base version's measured growth"


def growth_test(
    target: Target,
    plan: InputPlan,
    *,
    sizes: Sequence[int],
    costs: Sequence[float] | None,
    expected: str,
    seed: int,
) -> str | None:
    """A pytest test that times the function at a small and a large n and fails when the time grows
    much faster than expected (the base version's class, or the stated bound's)."""
    chosen = reproducer_sizes(sizes, costs, expected)
    if chosen is None:
        return None
    small, large, growth, source = chosen
    limit_factor = round(max(1.5, _SLACK * growth), 2)
    subject_import = target.qualname.split(".", 1)[0]
    callee = f"{plan.construct}().{target.name}" if plan.construct else target.qualname
    builder = builder_source(plan, "spread")
    name = test_name(target.qualname, f"grows_no_faster_than_{_slug(source)}")
    lines = [
        f'"""The efficiency of {target.qualname} ({target.path}) as a test, written by codegrad.',
        "",
        f"It times the function at n={small} and n={large} (best of 3) and fails when the time grows",
        f"more than {_SLACK}x faster than {source} ({growth:.1f}x).",
        '"""',
        "",
        "import random",
        "import signal",
        "import time",
        "",
        f"from {module_name(target.path)} import {subject_import}",
        "",
        f"SEED = {seed}",
        "",
        "",
        builder.rstrip("\n"),
        "",
        "",
        "class _TooSlow(Exception):",
        "    pass",
        "",
        "",
        "def _stop(signum, frame):",
        "    raise _TooSlow()",
        "",
        "",
        "def _seconds(n, limit=None):",
        '    """Best of 3 wall-clock times of one call at size n (inf once a call passes `limit`)."""',
        "    best = float('inf')",
        "    for _ in range(3):",
        "        args, kwargs = build(n, random.Random(f'{SEED}:{n}'))",
        "        previous = signal.signal(signal.SIGALRM, _stop)",
        "        if limit is not None:",
        "            signal.setitimer(signal.ITIMER_REAL, 2 * limit + 0.1)",
        "        started = time.perf_counter()",
        "        try:",
        f"            result = {callee}(*args, **kwargs)",
        "            if hasattr(result, '__next__'):",
        "                for _ in result:",
        "                    pass",
        "        except _TooSlow:",
        "            return float('inf')",
        "        finally:",
        "            signal.setitimer(signal.ITIMER_REAL, 0)",
        "            signal.signal(signal.SIGALRM, previous)",
        "        best = min(best, time.perf_counter() - started)",
        "    return best",
        "",
        "",
        f"def {name}():",
        f"    small = _seconds({small})",
        f"    limit = max(0.005, {limit_factor} * small)",
        f"    large = _seconds({large}, limit)",
        f"    assert large < limit, f'n={large} took {{large:.4f}}s, n={small} took {{small:.4f}}s: grows faster than {source}'",
    ]
    source_text = "\n".join(lines) + "\n"
    try:
        ast.parse(source_text)
    except SyntaxError:
        return None
    return source_text


def _slug(klass: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in klass).strip("_").replace("__", "_")


# ---------------------------------------------------------------- I/O: the runner and the check


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
    node = strategies.parse_def(target.source)
    return ast.get_docstring(node) if node is not None else None
