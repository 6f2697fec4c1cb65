"""Sandbox runner: a function's deterministic cost (executed lines + elements built-ins touch) per input size."""

from __future__ import annotations

import ast
import collections
import copy
import faulthandler
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import json
import math
import operator
import os
import random
import signal
import sys
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegrad.runners import guard, loader

HELPER = "__codegrad_cost__"  # the global name instrumented code calls; ends in __: never mangled
_THIS_FILES = frozenset({__file__, os.path.abspath(__file__), os.path.realpath(__file__)})
_SKIP_DIRS = ("site-packages", "dist-packages", "/.venv/", "/venv/", "/.tox/", "/.nox/")


# ---------------------------------------------------------------- instrumentation (pure: AST -> AST)

_OPS: dict[type[ast.operator], str] = {
    ast.Add: "add",
    ast.Mult: "mul",
    ast.Sub: "sub",
    ast.BitOr: "or_",
    ast.BitAnd: "and_",
    ast.BitXor: "xor",
}
# Calls whose cost grows with their arguments or result although no Python line runs for it.
SIZED_NAMES = frozenset(
    [
        "sorted",
        "sum",
        "min",
        "max",
        "any",
        "all",
        "list",
        "tuple",
        "set",
        "frozenset",
        "dict",
        "str",
        "repr",
        "bytes",
        "bytearray",
        "heapify",
        "insort",
        "insort_left",
        "insort_right",
        "bisect",
        "bisect_left",
        "bisect_right",
        "prod",
        "fsum",
    ]
)
SIZED_METHODS = frozenset(
    [
        "sort",
        "index",
        "count",
        "remove",
        "insert",
        "pop",
        "copy",
        "reverse",
        "extend",
        "join",
        "replace",
        "find",
        "rfind",
        "rindex",
        "split",
        "rsplit",
        "splitlines",
        "strip",
        "lstrip",
        "rstrip",
        "lower",
        "upper",
        "title",
        "casefold",
        "translate",
        "encode",
        "decode",
        "update",
        "union",
        "intersection",
        "difference",
        "symmetric_difference",
        "issubset",
        "issuperset",
        "isdisjoint",
        "intersection_update",
        "difference_update",
        "symmetric_difference_update",
        "rotate",
        "heapify",
        "insort",
        "insort_left",
        "insort_right",
        "bisect",
        "bisect_left",
        "bisect_right",
        "prod",
        "fsum",
        "values",
        "items",
        "fromkeys",
    ]
)


def _helper(method: str, node: ast.AST, *args: ast.expr) -> ast.Call:
    func = ast.Attribute(ast.Name(HELPER, ast.Load()), method, ast.Load())
    return ast.copy_location(ast.Call(func, list(args), []), node)


def _numeric(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float, complex)


class Instrument(ast.NodeTransformer):
    """Route size-dependent built-in work (`in` on sequences, `+` of sequences, slices, sorted(),
    list.index(), ...) through the cost helper; everything else is left as it was."""

    def visit_arg(self, node: ast.arg) -> ast.arg:
        return node  # annotations are not executed work

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        return self._function(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        returns = node.returns
        node.returns = None
        self.generic_visit(node)
        node.returns = returns
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is not None:
            node.value = self.visit(node.value)
        return node

    def visit_match_case(self, node: ast.match_case) -> ast.AST:
        if node.guard is not None:
            node.guard = self.visit(node.guard)
        node.body = [self.visit(stmt) for stmt in node.body]
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        node.comparators = [
            _helper("contains", c, c) if isinstance(op, (ast.In, ast.NotIn)) else c
            for op, c in zip(node.ops, node.comparators, strict=True)
        ]
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        name = _OPS.get(type(node.op))
        if name is None or (_numeric(node.left) and _numeric(node.right)):
            return node
        if name != "mul" and (_numeric(node.left) or _numeric(node.right)):
            return node
        return _helper("binop", node, ast.Constant(name), node.left, node.right)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        name = _OPS.get(type(node.op))
        if name is None or not isinstance(node.target, ast.Name):
            return node
        if name != "mul" and _numeric(node.value):
            return node
        load = ast.copy_location(ast.Name(node.target.id, ast.Load()), node.target)
        call = _helper("inplace", node, ast.Constant(name), load, node.value)
        return ast.copy_location(ast.Assign([node.target], call), node)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load) and isinstance(node.slice, ast.Slice):
            return _helper("sized", node, node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        name = (
            func.id
            if isinstance(func, ast.Name)
            else func.attr
            if isinstance(func, ast.Attribute)
            else None
        )
        if name is None or name not in (
            SIZED_NAMES if isinstance(func, ast.Name) else SIZED_METHODS
        ):
            return node
        new = ast.Call(
            ast.Attribute(ast.Name(HELPER, ast.Load()), "call", ast.Load()),
            [func, *node.args],
            node.keywords,
        )
        return ast.copy_location(new, node)


def instrument(source: str | bytes, filename: str) -> types.CodeType | None:
    """The module compiled with cost hooks (None when the rewrite does not compile)."""
    try:
        tree = ast.parse(source, filename)
        tree = ast.fix_missing_locations(Instrument().visit(tree))
        code: types.CodeType = compile(tree, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, TypeError, RecursionError):
        return None
    return code


# ---------------------------------------------------------------- the meter (deterministic cost)


class OverBudget(BaseException):
    """The run's cost passed its cap: stop it (a BaseException so `except Exception` cannot swallow it)."""


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add,
    "mul": operator.mul,
    "sub": operator.sub,
    "or_": operator.or_,
    "and_": operator.and_,
    "xor": operator.xor,
}
_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.iadd,
    "mul": operator.imul,
    "sub": operator.isub,
    "or_": operator.ior,
    "and_": operator.iand,
    "xor": operator.ixor,
}
_SCANNED: tuple[type, ...] = (
    list,
    tuple,
    str,
    bytes,
    bytearray,
    collections.deque,
    type({}.values()),
)
_SIZED: tuple[type, ...] = (*_SCANNED, set, frozenset, dict)
_HASHED = (set, frozenset, dict)


def _size(value: Any) -> int:
    """The number of elements of a built-in container (0 for anything else)."""
    # no typing.cast here: a Python-level call from a hook would be counted as the target's cost
    return len(value) if isinstance(value, _SIZED) else 0  # type: ignore[arg-type]


def _log_cost(n: int) -> int:
    return max(1, math.ceil(math.log2(n + 1)))


def _sort_cost(n: int) -> int:
    return n * _log_cost(n) if n > 1 else n


@dataclass
class Meter:
    """Counts cost while a run is traced: one unit per executed line of Python (any file but this
    runner) plus the elements that sized built-in operations touch (charged by the helper)."""

    target: types.CodeType | None = None
    cap: float = math.inf
    box: list[int] = field(default_factory=lambda: [0])  # the units so far, shared with the tracer
    per_code: dict[types.CodeType, dict[int, int]] = field(default_factory=dict)  # line events
    charged: dict[tuple[str, int], int] = field(default_factory=dict)  # built-in work per line
    inclusive: dict[int, int] = field(default_factory=dict)  # target line -> units while on it
    outer: types.FrameType | None = None
    _current: int = 0
    _mark: int = 0
    active: bool = False

    @property
    def units(self) -> int:
        return self.box[0]

    @property
    def lines(self) -> int:
        return sum(sum(counts.values()) for counts in self.per_code.values())

    def exclusive(self) -> dict[tuple[str, int], int]:
        """Units per (file, line): its executed lines plus the built-in work charged to it."""
        out = dict(self.charged)
        for code, counts in self.per_code.items():
            for line, count in counts.items():
                key = (code.co_filename, line)
                out[key] = out.get(key, 0) + count
        return out

    def begin(self, cap: float) -> None:
        self.cap, self.box, self.per_code, self.charged = cap, [0], {}, {}
        self.inclusive, self._current, self._mark, self.outer = {}, 0, 0, None
        self.active = True

    def end(self) -> None:
        self.active = False
        self._move(0)
        self.outer = None

    def _move(self, line: int) -> None:
        if self._current:
            self.inclusive[self._current] = (
                self.inclusive.get(self._current, 0) + self.units - self._mark
            )
        self._current, self._mark = line, self.units

    def _over(self) -> None:
        self.active = False
        raise OverBudget()

    def charge(self, units: int, depth: int = 2) -> None:
        """Add the cost of built-in work, attributed to the calling line of repository code."""
        if not self.active or units <= 0:
            return
        frame = sys._getframe(depth)
        key = (frame.f_code.co_filename, frame.f_lineno)
        self.charged[key] = self.charged.get(key, 0) + units
        self.box[0] += units
        if self.box[0] > self.cap:
            self._over()

    def tracer(self) -> Callable[..., Any]:
        """The trace function for one run (after begin): lean per-line counting, plus the
        inclusive line attribution for the measured function's own frames."""
        per_code, box, cap, target, meter = self.per_code, self.box, self.cap, self.target, self

        def on_target(frame: types.FrameType, event: str, arg: Any) -> Any:
            if event == "line":
                line = frame.f_lineno
                counts = per_code[frame.f_code]
                counts[line] = counts.get(line, 0) + 1
                box[0] += 1
                if meter.outer is None or frame is meter.outer:
                    meter.outer = frame  # recursion: the outermost call's line carries the cost
                    meter._move(line)
                if box[0] > cap:
                    meter._over()
            return on_target

        def start(frame: types.FrameType, event: str, arg: Any) -> Any:
            code = frame.f_code
            if code.co_filename in _THIS_FILES:
                return None
            counts = per_code.get(code)
            if counts is None:
                counts = per_code[code] = {}
            if code is target:
                return on_target

            def local(frame: types.FrameType, event: str, arg: Any) -> Any:
                if event == "line":
                    line = frame.f_lineno
                    counts[line] = counts.get(line, 0) + 1
                    box[0] += 1
                    if box[0] > cap:
                        meter._over()
                return local

            return local

        return start


class Costs:
    """The helper instrumented code calls; each method does the original operation and charges it."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter
        builtin_rules: dict[Any, Callable[[tuple[Any, ...], Any], int]] = {
            sorted: lambda a, r: _sort_cost(_size(r)),
            sum: _sum_cost,
            min: lambda a, r: _size(a[0]) if len(a) == 1 else len(a),
            max: lambda a, r: _size(a[0]) if len(a) == 1 else len(a),
            any: lambda a, r: _size(a[0]) if a else 0,
            all: lambda a, r: _size(a[0]) if a else 0,
            str: lambda a, r: len(r) if a and isinstance(a[0], _SIZED) else 0,
            repr: lambda a, r: len(r) if a and isinstance(a[0], _SIZED) else 0,
        }
        for kind in (list, tuple, set, frozenset, dict, bytes, bytearray):
            builtin_rules[kind] = lambda a, r: _size(r)
        self._modules(builtin_rules)
        self.rules = {id(k): v for k, v in builtin_rules.items()}

    @staticmethod
    def _modules(rules: dict[Any, Callable[[tuple[Any, ...], Any], int]]) -> None:
        import bisect
        import heapq

        def first(a: tuple[Any, ...], r: Any) -> int:
            return _size(a[0]) if a else 0

        def log_first(a: tuple[Any, ...], r: Any) -> int:
            return _log_cost(_size(a[0])) if a else 0

        linear: tuple[Any, ...] = (
            heapq.heapify,
            bisect.insort,
            bisect.insort_left,
            bisect.insort_right,
            math.prod,
            math.fsum,
        )
        searches: tuple[Any, ...] = (bisect.bisect, bisect.bisect_left, bisect.bisect_right)
        rules.update(dict.fromkeys(linear, first))
        rules.update(dict.fromkeys(searches, log_first))

    # ----- the hooks
    def contains(self, container: Any) -> Any:
        if isinstance(container, _SCANNED) and not isinstance(container, _HASHED):
            self.meter.charge(_size(container))
        return container

    def binop(self, op: str, left: Any, right: Any) -> Any:
        result = _BINOPS[op](left, right)
        if isinstance(result, _SIZED):
            both = _size(left) + _size(right)
            self.meter.charge(
                max(_size(result), both) if isinstance(result, _HASHED) else _size(result)
            )
        return result

    def inplace(self, op: str, left: Any, right: Any) -> Any:
        before = _size(left)
        result = _INPLACE[op](left, right)
        if isinstance(result, _SIZED):
            # in place (list +=, set |=): the added elements; a new object (str +=): all of it
            self.meter.charge(_size(right) if result is left else max(_size(result), before))
        return result

    def sized(self, value: Any) -> Any:
        self.meter.charge(_size(value))
        return value

    def call(self, func: Any, /, *args: Any, **kwargs: Any) -> Any:
        # only built-in methods are inspected: touching a user object's attributes could run its code
        owner = func.__self__ if type(func) is types.BuiltinMethodType else None
        before = _size(owner)
        result = func(*args, **kwargs)
        if not self.meter.active:
            return result
        rule = self.rules.get(id(func))
        if rule is not None:
            self.meter.charge(rule(args, result))
        elif isinstance(owner, _SIZED):
            self.meter.charge(_method_cost(owner, func.__name__, args, result, before))
        return result


def _sum_cost(args: tuple[Any, ...], result: Any) -> int:
    """sum() over numbers reads each once; sum(rows, []) copies the growing total at every step."""
    count = _size(args[0]) if args else 0
    if isinstance(result, (list, tuple)):
        return count + count * len(result) // 2
    return count


def _method_cost(owner: Any, name: str, args: tuple[Any, ...], result: Any, before: int) -> int:
    """Elements a built-in container method touches (0 for the O(1) ones)."""
    after = _size(owner)
    if name == "sort":
        return _sort_cost(after)
    if name in ("append", "add", "get", "keys", "setdefault", "discard", "popitem"):
        return 0
    if name == "pop":
        if isinstance(owner, list) and args and isinstance(args[0], int):
            index = args[0] if args[0] >= 0 else before + args[0]
            return max(0, before - index - 1)
        return 0
    if name == "insert" and args and isinstance(args[0], int):
        index = min(max(args[0] if args[0] >= 0 else before + args[0], 0), before)
        return before - index
    if name in ("extend", "update", "intersection_update", "difference_update"):
        return max(after - before, _size(args[0]) if args else 0)
    if name == "join":
        return max(_size(result), _size(args[0]) if args else 0)
    if name in ("union", "intersection", "difference", "symmetric_difference", "fromkeys"):
        return before + sum(_size(a) for a in args)
    if name in ("values", "items"):
        return 0  # views: iterating them runs lines or a charged built-in
    return max(before, _size(result))


# ---------------------------------------------------------------- importing repository code instrumented


class _InstrumentingLoader(importlib.machinery.SourceFileLoader):
    """Compiles a repository module with cost hooks and never reads or writes cached bytecode."""

    costs: Costs | None = None

    def get_code(self, fullname: str) -> types.CodeType:
        path = self.get_filename(fullname)
        source = self.get_data(path)
        code = instrument(source, path)
        if code is None:
            return compile(source, path, "exec", dont_inherit=True)
        return code

    def exec_module(self, module: types.ModuleType) -> None:
        module.__dict__[HELPER] = self.costs
        super().exec_module(module)


class _Finder(importlib.abc.MetaPathFinder):
    """Hands modules under the checked-out roots to the instrumenting loader."""

    def __init__(self, roots: Sequence[Path], costs: Costs) -> None:
        self.roots = [str(r.resolve()) + os.sep for r in roots]
        self.costs = costs

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            return spec
        if not self._ours(spec.origin):
            return spec
        loader_ = _InstrumentingLoader(fullname, spec.origin)
        loader_.costs = self.costs
        spec.loader = loader_
        return spec

    def _ours(self, origin: str) -> bool:
        full = os.path.abspath(origin)
        return any(full.startswith(r) for r in self.roots) and not any(
            d in full for d in _SKIP_DIRS
        )


@dataclass
class Loaded:
    """The callable to measure, how to call it, and the module it lives in."""

    fn: Callable[..., Any]
    module: types.ModuleType
    code: types.CodeType | None
    construct: Callable[[], Any] | None
    instrumented: bool


def _by_path(root: Path, relpath: str, costs: Costs) -> types.ModuleType:
    path = (root / relpath).resolve()
    name = f"_codegrad_efficiency_{abs(hash((str(root), relpath)))}"
    loader_ = _InstrumentingLoader(name, str(path))
    loader_.costs = costs
    spec = importlib.util.spec_from_file_location(name, path, loader=loader_)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader_.exec_module(module)
    return module


def load(root: Path, relpath: str, qualname: str, construct: str | None, costs: Costs) -> Loaded:
    """Import relpath under root instrumented (re-importing by path if the name resolved elsewhere)."""
    module = loader.load_module(root, relpath)
    if module.__dict__.get(HELPER) is not costs:
        try:
            module = _by_path(root, relpath, costs)
        except BaseException as exc:
            raise loader.LoadError(
                f"importing {relpath} failed: {type(exc).__name__}: {exc}"
            ) from exc
    fn, bound = loader.callable_for(module, qualname)
    make = None
    if bound == "method":
        if construct is None:
            raise loader.LoadError(
                f"{qualname} is an instance method and no constructor was planned"
            )
        owner = loader.resolve(module, construct)
        make = owner
    code = getattr(inspect.unwrap(fn), "__code__", None)
    return Loaded(fn, module, code, make, module.__dict__.get(HELPER) is costs)


# ---------------------------------------------------------------- one run


@dataclass
class Run:
    """One call at one size: how it ended and what it cost."""

    status: str  # ok | cost-cap | timeout | error
    units: int = 0
    lines: int = 0
    seconds: float = 0.0
    detail: str = ""
    exclusive: dict[tuple[str, int], int] = field(default_factory=dict)
    inclusive: dict[int, int] = field(default_factory=dict)


def _clear_caches(loaded: Loaded) -> None:
    """Forget memoised results (functools caches) so every size is measured from scratch."""
    for value in [loaded.fn, *list(vars(loaded.module).values())]:
        clear = getattr(value, "cache_clear", None)
        if callable(clear) and hasattr(value, "cache_info"):
            try:
                clear()
            except Exception:  # noqa: BLE001 - a cache that cannot be cleared stays as it is
                continue


def _consume(value: Any) -> None:
    if isinstance(value, types.GeneratorType | map | filter | zip):
        for _ in value:
            pass


def call_once(
    loaded: Loaded,
    args: list[Any],
    kwargs: dict[str, Any],
    meter: Meter | None,
    *,
    cap: float,
    seconds: float,
) -> Run:
    """Call the target once (traced when a meter is given) under a cost cap and a time limit."""
    _clear_caches(loaded)
    instance = loaded.construct() if loaded.construct is not None else None
    fn = loaded.fn if instance is None else types.MethodType(loaded.fn, instance)
    previous = signal.signal(signal.SIGALRM, guard.on_alarm)
    started = time.perf_counter()
    status, detail = "ok", ""
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        with guard.quiet():
            if meter is None:
                _consume(fn(*args, **kwargs))
            else:
                meter.begin(cap)
                sys.settrace(meter.tracer())
                try:
                    _consume(fn(*args, **kwargs))
                finally:
                    sys.settrace(None)
                    meter.end()
    except OverBudget:
        status = "cost-cap"
    except guard.Alarm:
        status = "timeout"
    except RecursionError as exc:
        status, detail = "error", f"RecursionError: {str(exc)[:200]}"
    except Exception as exc:  # noqa: BLE001 - the target's own failure ends its series
        status, detail = "error", f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    elapsed = time.perf_counter() - started
    if meter is None:
        return Run(status, seconds=elapsed, detail=detail)
    return Run(
        status,
        units=meter.units,
        lines=meter.lines,
        seconds=elapsed,
        detail=detail,
        exclusive=meter.exclusive(),
        inclusive=dict(meter.inclusive),
    )


# ---------------------------------------------------------------- a series of sizes


def make_builder(source: str) -> Callable[[int, random.Random], tuple[list[Any], dict[str, Any]]]:
    """Compile the check's input builder: `build(n, rng) -> (args, kwargs)`."""
    namespace: dict[str, Any] = {"__name__": "codegrad_inputs"}
    exec(compile(source, "<codegrad inputs>", "exec"), namespace)
    built: Callable[[int, random.Random], tuple[list[Any], dict[str, Any]]] = namespace["build"]
    return built


class Inputs:
    """The same inputs for base and head at each size: built once (seeded by seed and size only),
    handed out as deep copies so a function that mutates its input cannot change the next run."""

    def __init__(self, source: str, seed: int) -> None:
        self.build = make_builder(source)
        self.seed = seed
        self.cache: dict[int, tuple[list[Any], dict[str, Any]]] = {}

    def __call__(self, n: int) -> tuple[list[Any], dict[str, Any]]:
        if n not in self.cache:
            self.cache[n] = self.build(n, random.Random(f"{self.seed}:{n}"))
        args, kwargs = copy.deepcopy(self.cache[n])
        return args, kwargs


def predict(sizes: Sequence[int], costs: Sequence[int], n: int) -> float:
    """The cost at size n extrapolated from the last few points: a power law at least linear, its
    exponent the log-log slope of the running maximum over up to four points (an odd size that
    exits early cannot swing it)."""
    if not costs:
        return 0.0
    envelope = [max(costs[: i + 1]) for i in range(len(costs))]  # a dip is an early exit
    points = [
        (math.log(s), math.log(max(c, 1))) for s, c in zip(sizes[-4:], envelope[-4:], strict=True)
    ]
    slope = 1.0
    if len(points) >= 2:
        mx = sum(x for x, _ in points) / len(points)
        my = sum(y for _, y in points) / len(points)
        sxx = sum((x - mx) ** 2 for x, _ in points)
        if sxx > 0:
            slope = max(1.0, sum((x - mx) * (y - my) for x, y in points) / sxx)
    return float(max(envelope[-1], 1) * (n / sizes[-1]) ** slope)


@dataclass
class Side:
    """What one version (base or head) measured."""

    sizes: list[int] = field(default_factory=list)
    costs: list[int] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    stop: dict[str, Any] | None = None
    profile: dict[str, Any] | None = None
    instrumented: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "sizes": self.sizes,
            "costs": self.costs,
            "lines": self.lines,
            "seconds": [round(s, 4) for s in self.seconds],
            "wall": [round(s, 6) for s in self.wall],
            "stop": self.stop,
            "profile": self.profile,
            "instrumented": self.instrumented,
        }


def _where(filename: str, root: Path) -> str:
    try:
        return Path(filename).resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return f"<{Path(filename).name}>"


def profile_of(run: Run, root: Path, top: int = 5) -> dict[str, Any]:
    """The line-level profile of one run: the target's lines (inclusive) and the costliest lines."""
    ranked = sorted(run.exclusive.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return {
        "units": run.units,
        "target_lines": {
            str(line): units for line, units in sorted(run.inclusive.items()) if line and units
        },
        "top": [[_where(f, root), line, units] for (f, line), units in ranked],
    }


@dataclass
class Plan:
    """How a side is measured: which sizes, caps per size, limits, and where progress is written."""

    sizes: list[int]
    caps: list[float]  # a run is stopped (censored) past this many units
    limits: list[float]  # the series stops before a size predicted to cost more than this
    run_seconds: float
    side_seconds: float
    hard_seconds: float


def measure(
    loaded: Loaded,
    meter: Meter,
    builder: Inputs,
    plan: Plan,
    root: Path,
    progress: Callable[[int, Side], None],
) -> Side:
    """Cost at each size until the plan's sizes end, the predicted cost passes the cap, or a run stops."""
    side = Side(instrumented=loaded.instrumented)
    meter.target = loaded.code
    started = time.monotonic()
    last: Run | None = None
    for n, cap, limit in zip(plan.sizes, plan.caps, plan.limits, strict=True):
        if predict(side.sizes, side.costs, n) > limit:
            break
        if time.monotonic() - started > plan.side_seconds:
            side.stop = {"reason": "time-budget", "size": n, "detail": ""}
            break
        progress(n, side)
        args, kwargs = builder(n)
        faulthandler.dump_traceback_later(plan.hard_seconds, exit=True)
        try:
            run = call_once(loaded, args, kwargs, meter, cap=cap, seconds=plan.run_seconds)
        finally:
            faulthandler.cancel_dump_traceback_later()
        if run.status != "ok":
            side.stop = {"reason": run.status, "size": n, "detail": run.detail, "units": run.units}
            if run.status in ("cost-cap", "timeout"):  # where the cost went when it ran away
                side.stop["profile"] = profile_of(run, root)
            break
        args, kwargs = builder(n)
        untraced = call_once(loaded, args, kwargs, None, cap=math.inf, seconds=plan.run_seconds)
        side.sizes.append(n)
        side.costs.append(run.units)
        side.lines.append(run.lines)
        side.seconds.append(run.seconds)
        side.wall.append(untraced.seconds)
        last = run
    if last is not None:
        side.profile = profile_of(last, root)
    return side


# ---------------------------------------------------------------- the runner's I/O


class Progress:
    """Results written after every size, so a killed run still leaves what it measured."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {"results": {}, "current": None}

    def at(
        self, key: str, side: str, size: int | None, partial: dict[str, Any] | None = None
    ) -> None:
        self.data["current"] = {"key": key, "side": side, "size": size, "partial": partial}
        self._write()

    def done(self, key: str, result: dict[str, Any]) -> None:
        self.data["results"][key] = result
        self.data["current"] = None
        self._write()

    def _write(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, default=str), encoding="utf-8")
        os.replace(tmp, self.path)


def _first_call(
    loaded: Loaded, builders: dict[str, str], seed: int, n: int, seconds: float
) -> tuple[str, Inputs] | str:
    """The input mode whose smallest input the function accepts (a warm-up call), or why none."""
    reasons = []
    for mode, source in builders.items():
        try:
            built = Inputs(source, seed)
            args, kwargs = built(n)
        except Exception as exc:  # noqa: BLE001 - a builder that cannot build is reported
            reasons.append(f"{mode} inputs could not be built: {type(exc).__name__}: {exc}")
            continue
        run = call_once(loaded, args, kwargs, None, cap=math.inf, seconds=seconds)
        if run.status == "ok":
            return mode, built
        reasons.append(f"{mode} inputs of size {n}: {run.detail or run.status}")
    return "; ".join(reasons)


def run_target(spec: dict[str, Any], target: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Measure the driving side (base if it runs, else head) with predictive stops, then head at
    the same sizes with a cost cap per size of at least `slowdown` times the base cost."""
    key = target["key"]
    seed = int(spec["seed"])
    smallest = int(spec["sizes"][0])
    run_seconds = float(spec["run_seconds"])
    result: dict[str, Any] = {"status": "ok", "sides": {}, "notes": []}
    driver: Side | None = None
    chosen: tuple[str, Inputs] | None = None
    meter = _METER
    for side in target["sides"]:
        name, root = side["name"], Path(side["root"])
        progress.at(key, name, None, result)
        try:
            loaded = load(root, side["path"], target["qualname"], target.get("construct"), _COSTS)
        except loader.LoadError as exc:
            result["notes"].append(f"{name}: {exc}")
            continue
        if chosen is None:
            found = _first_call(loaded, target["builders"], seed, smallest, run_seconds)
            if isinstance(found, str):
                result["notes"].append(f"{name}: {found}")
                continue
            chosen = found
            result["mode"] = found[0]
        else:  # warm-up: imports and caches the first call fills are not part of the cost
            args, kwargs = chosen[1](smallest)
            call_once(loaded, args, kwargs, None, cap=math.inf, seconds=run_seconds)

        def report(n: int, partial: Side, name: str = name) -> None:
            progress.at(
                key, name, n, {**result, "sides": {**result["sides"], name: partial.to_json()}}
            )

        measured = measure(loaded, meter, chosen[1], _plan(spec, driver), root, report)
        result["sides"][name] = measured.to_json()
        driver = driver or measured
    if not result["sides"]:
        return {"status": "skipped", "reason": "; ".join(result["notes"]) or "nothing could run"}
    return result


def _plan(spec: dict[str, Any], driver: Side | None) -> Plan:
    """The driver runs every size until a run is predicted past run_cap; head (the follower) runs
    base's sizes until it is predicted past both run_cap and slowdown x base's cost there."""
    run_cap, abort_cap = float(spec["run_cap"]), float(spec["abort_cap"])
    run_seconds = float(spec["run_seconds"])
    timing = {
        "run_seconds": run_seconds,
        "side_seconds": float(spec["side_seconds"]),
        "hard_seconds": 2 * run_seconds + 1.0,
    }
    if driver is None:
        sizes = [int(n) for n in spec["sizes"]]
        return Plan(sizes, [abort_cap] * len(sizes), [run_cap] * len(sizes), **timing)
    sizes = list(driver.sizes)
    allowed = [float(spec["slowdown"]) * cost * 1.05 + 1 for cost in driver.costs]
    caps = [min(10 * abort_cap, max(abort_cap, a)) for a in allowed]
    limits = [max(run_cap, a) for a in allowed]
    if driver.stop and driver.stop.get("reason") in ("cost-cap", "timeout"):
        sizes.append(int(driver.stop["size"]))
        caps.append(abort_cap)
        limits.append(abort_cap)
    return Plan(sizes, caps, limits, **timing)


_METER = Meter()
_COSTS = Costs(_METER)


def main() -> int:
    """`python -m codegrad.runners.efficiency SPEC RESULT`."""
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    progress = Progress(Path(sys.argv[2]))
    sys.dont_write_bytecode = True
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 6000))
    sys.meta_path.insert(0, _Finder([Path(r) for r in spec["roots"]], _COSTS))
    for target in spec["targets"]:
        started = time.monotonic()
        try:
            result = run_target(spec, target, progress)
        except loader.LoadError as exc:
            result = {"status": "skipped", "reason": str(exc)}
        except Exception as exc:  # noqa: BLE001 - one broken target must not hide the others
            result = {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
        result["seconds"] = round(time.monotonic() - started, 3)
        progress.done(target["key"], result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
