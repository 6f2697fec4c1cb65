"""Measuring one side: a call at one size under a cost cap and a time limit, then a series of sizes."""

from __future__ import annotations

import copy
import faulthandler
import math
import random
import signal
import sys
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegrad.runners import guard
from codegrad.runners.cost_import import Loaded
from codegrad.runners.cost_meter import Meter, OverBudget


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
