"""The efficiency check's reproducer: a pytest test that times the function at a small and a large n (pure)."""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Sequence

from codegrad.model import Target
from codegrad.verify.checks import complexity
from codegrad.verify.checks.sizing import InputPlan, builder_source
from codegrad.verify.reproducer import module_name, test_name

_SLACK = 2.5  # the reproducer allows this factor over the base version's measured growth


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
