"""The efficiency check: how a changed function's cost grows with input size, against base and a stated bound."""

from __future__ import annotations

import ast
import math
import string
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codegrad import complexity, strategies
from codegrad.checks.base import CheckContext, run_runner
from codegrad.complexity import Bound, Comparison, Stop
from codegrad.model import CheckResult, Finding, Kind, Severity, Target
from codegrad.reproducer import module_name, test_name

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
_ALPHABET = string.ascii_letters + string.digits
_SLACK = 2.5  # the reproducer allows this factor over the base version's measured growth


# ---------------------------------------------------------------- pure: sized inputs


@dataclass(frozen=True)
class Param:
    """How one argument is built: an expression over `n` (the size) and `rng` per input mode."""

    name: str
    keyword: bool
    sized: bool
    spread: str  # element values spread with n (distinct values, like real data)
    shape: str  # element values within the range the docstring examples show
    what: str  # "list of n ints", for messages


@dataclass(frozen=True)
class InputPlan:
    """The arguments of one target at size n, and the instance to call it on (methods)."""

    params: tuple[Param, ...]
    construct: str | None = None

    @property
    def sized(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.sized)

    def describe(self) -> str:
        return ", ".join(f"{p.name}: {p.what}" for p in self.params if p.sized)

    def builders(self) -> dict[str, str]:
        """Builder source per input mode (one mode when both modes build the same values)."""
        spread, shape = builder_source(self, "spread"), builder_source(self, "shape")
        return {"spread": spread} if spread == shape else {"spread": spread, "shape": shape}


_UNIQUE = """def _unique(make, count):
    seen, out = set(), []
    for _ in range(20 * count + 20):
        if len(out) >= count:
            break
        value = make()
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out
"""


def builder_source(plan: InputPlan, mode: str) -> str:
    """`def build(n, rng) -> (args, kwargs)` as source text, deterministic for a seeded rng."""
    args = [getattr(p, mode) for p in plan.params if not p.keyword]
    kwargs = [f"{p.name!r}: {getattr(p, mode)}" for p in plan.params if p.keyword]
    body = [
        "def build(n, rng):",
        f"    args = [{', '.join(args)}]",
        f"    kwargs = {{{', '.join(kwargs)}}}",
        "    return args, kwargs",
    ]
    text = "\n".join(body) + "\n"
    return (_UNIQUE + "\n\n" + text) if "_unique(" in text else text


def _int_expr(shape: strategies.IntS, spread: bool) -> str:
    if not spread:
        return f"rng.randint({shape.lo}, {shape.hi})"
    if shape.lo >= 0:
        return f"rng.randint({shape.lo}, {shape.lo} + 4 * n)"
    return "rng.randint(-2 * n, 2 * n)"


def _float_expr(shape: strategies.FloatS, spread: bool) -> str:
    if not spread:
        return f"rng.uniform({shape.lo!r}, {shape.hi!r})"
    if shape.lo >= 0:
        return f"rng.uniform({shape.lo!r}, {shape.lo!r} + 4.0 * n)"
    return "rng.uniform(-2.0 * n, 2.0 * n)"


def _count(low: int, high: int, cap: int = 6) -> str:
    top = max(low, min(high, cap))
    return str(low) if top == low else f"rng.randint({low}, {top})"


def element(shape: strategies.Shape | None, spread: bool) -> str | None:
    """An expression for one small value of the shape (element of a sized container, or fixed)."""
    s = strategies
    if shape is None:
        return element(s.IntS(-1000, 1000), spread)
    if isinstance(shape, s.IntS):
        return _int_expr(shape, spread)
    if isinstance(shape, s.FloatS):
        return _float_expr(shape, spread)
    if isinstance(shape, s.BoolS):
        return "rng.random() < 0.5"
    if isinstance(shape, s.NoneS):
        return "None"
    if isinstance(shape, s.SampledS):
        return f"rng.choice([{', '.join(shape.values)}])"
    if isinstance(shape, s.NumTextS):
        inner = element(shape.number, False)
        return None if inner is None else f"str({inner})"
    if isinstance(shape, s.TupleS):
        items = [element(i, spread) for i in shape.items]
        if any(i is None for i in items):
            return None
        return f"({', '.join(str(i) for i in items)}{',' if len(items) == 1 else ''})"
    if isinstance(shape, s.OneOfS):
        return next((e for e in (element(o, spread) for o in shape.options) if e), None)
    return _collection(shape, None, spread)


def _collection(shape: strategies.Shape, count: str | None, spread: bool) -> str | None:
    """A container/text expression with `count` elements (None: a small random count)."""
    s = strategies
    if isinstance(shape, s.TextS):
        alphabet = shape.alphabet or _ALPHABET
        size = count or _count(shape.min_size, shape.max_size, 8)
        return f"''.join(rng.choice({alphabet!r}) for _ in range({size}))"
    if isinstance(shape, s.WordsS):
        size = count or _count(max(1, shape.min_size), shape.max_size)
        return f"{shape.sep!r}.join(rng.choice({list(shape.words)!r}) for _ in range({size}))"
    if isinstance(shape, s.BytesS):
        size = count or _count(0, shape.max_size, 8)
        return f"bytes(rng.randrange(256) for _ in range({size}))"
    if isinstance(shape, s.SeqS):
        return _sequence(shape, count, spread)
    if isinstance(shape, s.GridS):
        inner = element(shape.elem, spread)
        if inner is None:
            return None
        rows = count or _count(shape.rows[0], shape.rows[1], 4)
        cols = count if count and shape.square else _count(shape.cols[0], shape.cols[1], 4)
        return f"[[{inner} for _ in range({cols})] for _ in range({rows})]"
    if isinstance(shape, s.DictS):
        key, value = element(shape.key, spread), element(shape.value, spread)
        if key is None or value is None:
            return None
        size = count or _count(shape.min_size, shape.max_size, 4)
        return f"dict(zip(_unique(lambda: {key}, {size}), [{value} for _ in range({size})]))"
    return None


def _sequence(shape: strategies.SeqS, count: str | None, spread: bool) -> str | None:
    inner = element(shape.elem, spread)
    if inner is None:
        return None
    size = count or _count(shape.min_size, shape.max_size)
    unique = shape.unique or shape.container in ("set", "frozenset")
    text = f"_unique(lambda: {inner}, {size})" if unique else f"[{inner} for _ in range({size})]"
    if shape.ordered:
        text = f"sorted({text})"
    return text if shape.container == "list" else f"{shape.container}({text})"


_SIZED_SHAPES = (
    strategies.SeqS,
    strategies.GridS,
    strategies.TextS,
    strategies.WordsS,
    strategies.BytesS,
    strategies.DictS,
)


def sized_option(shape: strategies.Shape | None, *, ints: bool) -> strategies.Shape | None:
    """The part of a shape that can grow with n: a container or text (or an int when `ints`)."""
    if isinstance(shape, _SIZED_SHAPES) or (ints and isinstance(shape, strategies.IntS)):
        return shape
    if isinstance(shape, strategies.OneOfS):
        return next((o for o in shape.options if sized_option(o, ints=ints) is not None), None)
    return None


_NOUNS = {"int": "ints", "float": "floats", "str": "strings", "bool": "bools"}


def describe(shape: strategies.Shape) -> str:
    """ "list of n ints", "str of length n", "int n" for messages."""
    s = strategies
    if isinstance(shape, s.IntS):
        return "int n"
    if isinstance(shape, (s.TextS, s.BytesS)):
        return f"{'bytes' if isinstance(shape, s.BytesS) else 'str'} of length n"
    if isinstance(shape, s.WordsS):
        return "text of n words"
    if isinstance(shape, s.GridS):
        return "n x n grid" if shape.square else "grid of n rows"
    if isinstance(shape, s.DictS):
        return "dict of n entries"
    if isinstance(shape, s.SeqS):
        elem = shape.elem
        noun = {s.IntS: "ints", s.FloatS: "floats", s.TextS: "strings", s.BoolS: "bools"}.get(
            type(elem), "items"
        )
        return f"{shape.container} of n {noun}"
    return "size n"


def sized_expr(shape: strategies.Shape, spread: bool) -> str | None:
    """The expression for a parameter that grows with n."""
    if isinstance(shape, strategies.IntS):
        return "n"
    return _collection(shape, "n", spread)


# ----- parameters of a def


@dataclass(frozen=True)
class _Arg:
    name: str
    annotation: ast.expr | None
    default: ast.expr | None
    keyword: bool


def _arguments(node: strategies._FuncNode, drop_first: bool) -> list[_Arg]:
    a = node.args
    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults))
    defaults += list(a.defaults)
    out = [_Arg(p.arg, p.annotation, d, False) for p, d in zip(positional, defaults, strict=True)]
    if drop_first and out:
        out = out[1:]
    out += [
        _Arg(p.arg, p.annotation, d, True) for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)
    ]
    return out


def example_values(
    node: strategies._FuncNode, docstring: str | None, args: Sequence[_Arg]
) -> dict[str, list[Any]]:
    """Values the docstring examples (or, failing those, its prose) give each parameter."""
    names = [a.name for a in args]
    positional = [a.name for a in args if not a.keyword]
    found: dict[str, list[Any]] = {name: [] for name in names}
    for call, _expected, raises in strategies.example_calls(docstring, node.name, names):
        parsed = None if raises else strategies.parse_call(call, node.name)
        if parsed is None:
            continue
        try:
            values = [strategies.literal(v) for v in parsed.args]
            keywords = {k: strategies.literal(v) for k, v in parsed.kwargs}
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if len(values) > len(positional):
            continue
        for name, value in [*zip(positional, values, strict=False), *keywords.items()]:
            if name in found:
                found[name].append(value)
    if docstring and not any(found.values()):
        for name in names:
            found[name] = strategies.mined_values(docstring, name)
    return found


def _literal_default(node: ast.expr | None) -> tuple[bool, Any]:
    if node is None:
        return False, None
    try:
        return True, strategies.literal(ast.unparse(node))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


_TEXT_NAMES = {"s", "text", "string", "word", "line", "sentence", "txt", "st", "chars", "message"}
_INT_NAMES = {"n", "k", "m", "num", "number", "count", "size", "limit", "length", "depth"}
_LIST_NAMES = {"arr", "array", "lst", "seq", "data", "l", "a", "b", "nums", "values", "xs", "ys"}
_STR_LIST_NAMES = {"words", "strings", "names", "lines", "tokens", "keys"}


def guess_by_name(name: str) -> strategies.Shape | None:
    """A last-resort shape from a bare parameter's name: `s` text, `n` an int, `xs` a list."""
    small = strategies.IntS(-1000, 1000)
    if name in _TEXT_NAMES:
        return strategies.TextS(string.ascii_lowercase + " ", 0, 20)
    if name in _INT_NAMES:
        return strategies.IntS(0, 1000)
    if name in _STR_LIST_NAMES:
        return strategies.SeqS(strategies.TextS(string.ascii_lowercase, 1, 8), 0, 10)
    if name in _LIST_NAMES or (len(name) > 2 and name.endswith("s") and name.isidentifier()):
        return strategies.SeqS(small, 0, 10)
    return None


def _shape_of(arg: _Arg, values: list[Any], docstring: str | None) -> strategies.Shape | None:
    annotated = strategies.from_annotation(arg.annotation)
    has_default, default = _literal_default(arg.default)
    pool = [*values, default] if has_default and default is not None else list(values)
    if annotated is None and not pool:
        annotated = strategies.prose_shape(docstring, arg.name)
    if annotated is None and not pool and arg.default is None and arg.annotation is None:
        annotated = guess_by_name(arg.name)
    observed = strategies.infer(pool) if pool else None
    return strategies.narrow(annotated, observed)


def _source(value: Any) -> str | None:
    text = repr(value)
    try:
        same = strategies.literal(text) == value
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return text if same else None


def plan_inputs(target: Target, module_source: str | None) -> InputPlan | str:
    """How to build the target's arguments at size n, or why it cannot be measured."""
    if target.kind in ("nested", "property"):
        return f"{target.kind} functions are not called directly"
    if target.is_async:
        return "async functions are not measured"
    node = strategies.parse_def(target.source)
    if node is None:
        return "the function's source does not parse"
    construct = None
    if target.kind == "method":
        owner = target.class_name or target.qualname.rsplit(".", 1)[0]
        if module_source is None or not strategies.constructible(module_source, owner):
            return f"instance method of {owner}, which has no no-argument constructor"
        construct = owner
    docstring = target.docstring if target.docstring is not None else ast.get_docstring(node)
    args = _arguments(node, drop_first=target.kind in ("method", "classmethod"))
    values = example_values(node, docstring, args)
    shapes = {a.name: _shape_of(a, values[a.name], docstring) for a in args}
    grows = {a.name: sized_option(shapes[a.name], ints=False) for a in args}
    if not any(grows.values()):
        grows = {a.name: sized_option(shapes[a.name], ints=True) for a in args}
    if not any(grows.values()):
        return "no size-bearing parameter (a container, text or integer that can grow)"
    params: list[Param] = []
    keyword = False
    for arg in args:
        made = _param(arg, shapes[arg.name], grows[arg.name], values[arg.name], keyword)
        if isinstance(made, str):
            return made
        if made is None:
            keyword = True  # a skipped parameter: later ones must be passed by name
            continue
        params.append(made)
    return InputPlan(tuple(params), construct)


def _param(
    arg: _Arg,
    shape: strategies.Shape | None,
    grows: strategies.Shape | None,
    values: list[Any],
    keyword: bool,
) -> Param | str | None:
    """One parameter's plan; None: leave it out (its default applies); str: why it cannot be built."""
    by_name = keyword or arg.keyword
    if grows is not None:
        spread, narrow = sized_expr(grows, True), sized_expr(grows, False)
        if spread is not None and narrow is not None:
            return Param(arg.name, by_name, True, spread, narrow, describe(grows))
    fixed = next((s for s in (_source(v) for v in values) if s is not None), None)
    if fixed is not None:
        return Param(arg.name, by_name, False, fixed, fixed, repr(values[0]))
    if arg.default is not None:
        return None
    spread, narrow = element(shape, True), element(shape, False)
    if shape is None or spread is None or narrow is None:
        return (
            f"cannot build a value for parameter {arg.name!r} (no annotation, example or default)"
        )
    return Param(arg.name, by_name, False, spread, narrow, "a small value")


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


@dataclass
class Batch:
    """Results per target key, and the targets whose run was killed (with what they had measured)."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    hung: dict[str, dict[str, Any]] = field(default_factory=dict)
    broken: str | None = None


def run_batches(
    common: dict[str, Any],
    specs: Sequence[dict[str, Any]],
    ctx: CheckContext,
    cwd: Path,
    per_target: float,
) -> Batch:
    """All targets in one runner process; after a kill, go on with the rest in a new one."""
    batch = Batch()
    pending = list(specs)
    while pending and ctx.remaining() > 1:
        output = run_runner(
            RUNNER,
            {**common, "targets": pending},
            ctx=ctx,
            cwd=cwd,
            timeout=ctx.timeout(per_target * len(pending) + 10),
        )
        data = output.data or {}
        batch.results.update(data.get("results") or {})
        current = data.get("current")
        if current and current.get("key") not in batch.results:
            batch.hung[str(current["key"])] = current
        elif not data.get("results") and not output.process.ok:
            text = (output.process.stderr or output.process.stdout).strip()
            batch.broken = text[-600:] or "no output"
            break
        before = len(pending)
        pending = [
            s for s in pending if s["key"] not in batch.results and s["key"] not in batch.hung
        ]
        if len(pending) == before:
            break
    return batch


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
