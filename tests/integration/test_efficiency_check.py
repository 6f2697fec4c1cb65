"""The efficiency check end to end: real modules in tmp dirs, the real sandboxed cost runner."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from codegrad.diff import changes
from codegrad.errors import UsageError
from codegrad.model import CheckResult, Finding, Kind, Severity, Target, Workspace
from codegrad.refine import loop as refine
from codegrad.runners.cost_rewrite import instrument
from codegrad.settings import Settings
from codegrad.verify.checks import sizing
from codegrad.verify.checks.base import CheckContext
from codegrad.verify.checks.docstrings import DocstringsCheck
from codegrad.verify.checks.efficiency import EfficiencyCheck

FAST = Settings(function_timeout=12.0)

LINEAR = '''
def dedupe(items: list[int]) -> list[int]:
    """Items in first-seen order without repeats.

    >>> dedupe([3, 1, 3, 2, 1])
    [3, 1, 2]
    """
    seen = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
'''
QUADRATIC = '''
def dedupe(items: list[int]) -> list[int]:
    """Items in first-seen order without repeats.

    >>> dedupe([3, 1, 3, 2, 1])
    [3, 1, 2]
    """
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out
'''
RENAMED = '''
def dedupe(items: list[int]) -> list[int]:
    """Items in first-seen order without repeats.

    >>> dedupe([3, 1, 3, 2, 1])
    [3, 1, 2]
    """
    already = set()
    result = []
    for candidate in items:
        if candidate not in already:
            already.add(candidate)
            result.append(candidate)
    return result
'''
WRONG = LINEAR.replace("out.append(item)", "out.insert(0, item)")  # correctness bug, still O(n)-ish


def write(root: Path, source: str, name: str = "mod.py") -> str:
    root.mkdir(parents=True, exist_ok=True)
    text = textwrap.dedent(source).lstrip("\n")
    (root / name).write_text(text, encoding="utf-8")
    return text


def targets_for(head_text: str, base_text: str | None) -> list[Target]:
    targets = changes.all_functions("mod.py", head_text)
    if base_text is None:
        return targets
    old = {t.qualname: t for t in changes.all_functions("mod.py", base_text)}
    return [
        replace(t, base_path="mod.py", base_source=old[t.qualname].source)
        if t.qualname in old
        else t
        for t in targets
    ]


def context(tmp_path: Path, settings: Settings, base: bool) -> CheckContext:
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    return CheckContext(
        settings=settings,
        workspace=Workspace(
            head_root=tmp_path / "head", base_root=tmp_path / "base" if base else None
        ),
        scratch=scratch,
        deadline=time.monotonic() + 300,
    )


def run_check(
    tmp_path: Path, head: str, base: str | None = None, settings: Settings = FAST
) -> tuple[CheckResult, list[Target]]:
    head_text = write(tmp_path / "head", head)
    base_text = write(tmp_path / "base", base) if base is not None else None
    targets = targets_for(head_text, base_text)
    return EfficiencyCheck().run(targets, context(tmp_path, settings, base is not None)), targets


def only(result: CheckResult, kind: Kind) -> Finding:
    found = [f for f in result.findings if f.kind is kind]
    assert len(found) == 1, [f.message for f in result.findings]
    return found[0]


@pytest.fixture(scope="module")
def regression(tmp_path_factory: pytest.TempPathFactory) -> tuple[CheckResult, CheckResult]:
    """The O(n) -> O(n^2) dedupe, checked twice (for repeatability)."""
    first = run_check(tmp_path_factory.mktemp("one"), QUADRATIC, LINEAR)[0]
    second = run_check(tmp_path_factory.mktemp("two"), QUADRATIC, LINEAR)[0]
    return first, second


def test_list_membership_in_a_loop_is_a_performance_regression(
    regression: tuple[CheckResult, CheckResult],
) -> None:
    result = regression[0]
    finding = only(result, Kind.PERFORMANCE_REGRESSION)
    assert finding.level is Severity.ERROR
    assert finding.check == "efficiency"
    assert finding.details["base_class"] == "O(n)"
    assert finding.details["head_class"] == "O(n^2)"
    assert finding.details["section"] == "Efficiency"
    hot = finding.details["hot_line"]
    assert hot["code"] == "if item not in out:"
    assert finding.line == hot["line"] == 9
    assert hot["share"] > 0.9
    sizes = finding.details["sizes"]
    base_costs, head_costs = finding.details["base_costs"], finding.details["head_costs"]
    assert len(sizes) == len(base_costs) == len(head_costs) >= 8
    assert head_costs[-1] > 20 * base_costs[-1]
    assert f"at n={sizes[-1]}" in finding.message
    assert "O(n^2) (fit error" in finding.message and "O(n) (fit error" in finding.message
    assert "line 9: `if item not in out:`" in finding.message
    assert finding.input == "items: list of n ints"
    assert finding.base_fails_same is False and finding.reproduces
    assert result.checked == ("mod.py::dedupe",)


def test_the_same_inputs_give_the_same_costs_and_verdict(
    regression: tuple[CheckResult, CheckResult],
) -> None:
    first, second = (only(r, Kind.PERFORMANCE_REGRESSION) for r in regression)
    for key in ("sizes", "base_costs", "head_costs", "base_class", "head_class", "hot_line"):
        assert first.details[key] == second.details[key]
    assert first.fingerprint == second.fingerprint


def test_the_reproducer_fails_on_head_and_passes_on_base(
    regression: tuple[CheckResult, CheckResult], tmp_path: Path
) -> None:
    source = only(regression[0], Kind.PERFORMANCE_REGRESSION).reproducer
    assert source is not None
    ast.parse(source)
    assert "from mod import dedupe" in source
    outcomes = {}
    for side, code in (("base", LINEAR), ("head", QUADRATIC)):
        write(tmp_path / side, code)
        (tmp_path / side / "test_growth.py").write_text(source, encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_growth.py"],
            cwd=tmp_path / side,
            capture_output=True,
            text=True,
            timeout=120,
        )
        outcomes[side] = proc.returncode
    assert outcomes == {"base": 0, "head": 1}


def test_a_rename_only_change_is_clean(tmp_path: Path) -> None:
    result, _ = run_check(tmp_path, RENAMED, LINEAR)
    assert result.findings == ()
    assert result.checked == ("mod.py::dedupe",)
    assert result.stats["targets"]["mod.py::dedupe"]["head_class"] == "O(n)"


def test_a_stated_bound_that_a_new_function_exceeds(tmp_path: Path) -> None:
    head = '''
    def closest_gap(values: list[int]) -> int:
        """The smallest difference between two values, in O(n log n) time."""
        best = None
        for i, a in enumerate(values):
            for b in values[i + 1 :]:
                gap = abs(a - b)
                if best is None or gap < best:
                    best = gap
        return 0 if best is None else best
    '''
    result, _ = run_check(tmp_path, head)
    finding = only(result, Kind.COMPLEXITY_BOUND)
    assert finding.level is Severity.WARNING
    assert finding.details["bound"] == {
        "class": "O(n log n)",
        "text": "O(n log n)",
        "source": "docstring",
    }
    assert finding.details["head_class"] == "O(n^2)"
    assert finding.details["base_costs"] is None
    assert "its docstring states O(n log n)" in finding.message
    assert finding.base_fails_same is None


def test_a_configured_bound_and_one_that_holds(tmp_path: Path) -> None:
    head = """
    def total(values: list[int]) -> int:
        acc = 0
        for v in values:
            acc += v
        return acc


    def pairs(values: list[int]) -> int:
        return sum(1 for a in values for b in values if a < b)
    """
    settings = replace(FAST, complexity_bounds={"total": "O(n)", "mod.py::pairs": "linear"})
    result, _ = run_check(tmp_path, head, settings=settings)
    finding = only(result, Kind.COMPLEXITY_BOUND)
    assert finding.function == "pairs"
    assert finding.details["bound"]["source"] == "config"
    assert "[tool.codegrad] complexity-bounds gives linear (O(n))" in finding.message
    assert set(result.checked) == {"mod.py::total", "mod.py::pairs"}


def test_an_unreadable_configured_bound_is_a_usage_error(tmp_path: Path) -> None:
    settings = replace(FAST, complexity_bounds={"dedupe": "snappy"})
    with pytest.raises(UsageError, match="'snappy'"):
        run_check(tmp_path, LINEAR, LINEAR, settings=settings)


def test_a_function_that_hangs_on_large_inputs_is_flagged_within_budget(tmp_path: Path) -> None:
    head = LINEAR.replace(
        "    for item in items:\n",
        "    while len(items) > 100:  # forgets to stop on large inputs\n"
        "        pass\n"
        "    for item in items:\n",
    )
    started = time.monotonic()
    result, _ = run_check(tmp_path, head, LINEAR)
    finding = only(result, Kind.PERFORMANCE_REGRESSION)
    assert time.monotonic() - started < FAST.function_timeout * 2
    assert finding.details["censored_at"] == 128
    assert finding.details["head_class"].startswith("worse than")
    # a Python-level loop hits the cost cap, or on a slow machine the time limit first
    assert re.search(
        r"head did not finish within its (cost cap|time limit) while base did", finding.message
    )
    assert (
        finding.details["hot_line"]["code"]
        == "while len(items) > 100:  # forgets to stop on large inputs"
    )


def test_a_call_that_blocks_past_the_time_limit(tmp_path: Path) -> None:
    head = LINEAR.replace(
        "    seen = set()\n",
        "    import time\n    time.sleep(len(items) / 1000)\n    seen = set()\n",
    )
    settings = Settings(function_timeout=6.0)  # one run may take 1 s
    result, _ = run_check(tmp_path, head, LINEAR, settings=settings)
    finding = only(result, Kind.PERFORMANCE_REGRESSION)
    assert "head did not finish within its time limit" in finding.message
    assert finding.details["reasons"][0] == "budget"


def test_a_runner_killed_by_native_code_keeps_what_it_measured(tmp_path: Path) -> None:
    """The head ignores the time limit's signal and blocks: the runner is killed; the verdict
    comes from the sizes it wrote before, and the next target runs in a fresh runner."""
    blocking = LINEAR.replace(
        "    seen = set()\n",
        "    import signal, time\n"
        "    if len(items) > 50:\n"
        "        signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "        time.sleep(60)\n"
        "    seen = set()\n",
    )
    second = "\n\ndef total(values: list[int]) -> int:\n    return sum(values)\n"
    base = textwrap.dedent(LINEAR) + second.replace("sum(values)", "sum(values) + 0")
    settings = Settings(function_timeout=6.0)
    started = time.monotonic()
    result, _ = run_check(tmp_path, textwrap.dedent(blocking) + second, base, settings=settings)
    assert time.monotonic() - started < 30
    finding = only(result, Kind.PERFORMANCE_REGRESSION)
    assert finding.function == "dedupe"
    assert finding.details["censored_at"] == 64
    assert finding.details["sizes"][-1] == 48
    assert "did not finish within its time limit" in finding.message
    assert set(result.checked) == {"mod.py::dedupe", "mod.py::total"}


def test_targets_without_sizes_or_base_are_skipped_with_reasons(tmp_path: Path) -> None:
    head = """
    def scale(x: float, factor: float = 2.0) -> float:
        return x * factor


    def brand_new(values: list[int]) -> int:
        return len(values)
    """
    base = """
    def scale(x: float, factor: float = 2.0) -> float:
        return factor * x
    """
    result, _ = run_check(tmp_path, head, base)
    assert result.findings == ()
    assert result.checked == ()
    assert "no size-bearing parameter" in result.skipped["mod.py::scale"]
    assert "new function with no stated bound" in result.skipped["mod.py::brand_new"]


def test_methods_and_int_sizes(tmp_path: Path) -> None:
    base = """
    class Maths:
        def triangle(self, n: int) -> int:
            return n * (n + 1) // 2
    """
    head = """
    class Maths:
        def triangle(self, n: int) -> int:
            total = 0
            for k in range(n + 1):
                total += k
            return total
    """
    result, _ = run_check(tmp_path, head, base)
    finding = only(result, Kind.PERFORMANCE_REGRESSION)
    assert (finding.details["base_class"], finding.details["head_class"]) == ("O(1)", "O(n)")
    assert finding.input == "n: int n"
    assert "Maths().triangle(*args, **kwargs)" in (finding.reproducer or "")


def test_the_gate_rejects_a_candidate_that_trades_a_bug_for_a_regression(
    tmp_path: Path,
    regression: tuple[CheckResult, CheckResult],
) -> None:
    """before: the wrong-but-linear candidate (a docstring failure); after: right but quadratic."""
    head_text = write(tmp_path / "head", WRONG)
    write(tmp_path / "base", LINEAR)
    before = DocstringsCheck().run(targets_for(head_text, LINEAR), context(tmp_path, FAST, True))
    assert [f.kind for f in before.findings] == [Kind.BUG]
    after = [f for f in regression[0].findings]
    assert [f.kind for f in after] == [Kind.PERFORMANCE_REGRESSION]
    accepted, why = refine.judge(before.findings, after)
    assert not accepted
    assert why.startswith("new failure (efficiency/performance-regression)")
    # the correctness fix alone, with no efficiency finding, is accepted
    assert refine.judge(before.findings, [])[0]


# ---------------------------------------------------------------- planning sized inputs (pure)


def plan(source: str) -> sizing.InputPlan | str:
    target = changes.all_functions("mod.py", textwrap.dedent(source).lstrip("\n"))[0]
    return sizing.plan_inputs(target, textwrap.dedent(source))


def test_plans_from_annotations_examples_and_names() -> None:
    annotated = plan("def f(words: list[str], k: int = 3) -> list[str]:\n    return words[:k]\n")
    assert isinstance(annotated, sizing.InputPlan)
    assert annotated.sized == ("words",)
    assert annotated.describe() == "words: list of n strings"
    assert [p.name for p in annotated.params] == ["words"]  # k is left to its default
    examples = plan(
        'def rotate(xs, k):\n    """\n    >>> rotate([1, 2, 3], 1)\n    [2, 3, 1]\n    """\n'
        "    return xs[k:] + xs[:k]\n"
    )
    assert isinstance(examples, sizing.InputPlan)
    assert examples.sized == ("xs",)
    assert examples.params[1].spread == "1"  # the example's k, held fixed
    assert set(examples.builders()) == {"spread", "shape"}
    by_name = plan("def count_vowels(text):\n    return sum(c in 'aeiou' for c in text)\n")
    assert isinstance(by_name, sizing.InputPlan)
    assert by_name.describe() == "text: str of length n"
    only_int = plan("def fib(n: int) -> int:\n    return n\n")
    assert isinstance(only_int, sizing.InputPlan) and only_int.describe() == "n: int n"


def test_builders_are_deterministic_source() -> None:
    made = plan("def f(grid: list[list[int]], rows: dict[str, int]) -> int:\n    return 0\n")
    assert isinstance(made, sizing.InputPlan)
    namespace: dict[str, object] = {}
    exec(made.builders()["spread"], namespace)
    import random

    build = namespace["build"]
    first = build(5, random.Random("0:5"))  # type: ignore[operator]
    again = build(5, random.Random("0:5"))  # type: ignore[operator]
    assert first == again
    (grid, rows), _ = first
    assert len(grid) == 5 and all(isinstance(row, list) and len(row) <= 6 for row in grid)
    assert len(rows) == 5 and all(isinstance(k, str) for k in rows)


def test_unplannable_targets_say_why() -> None:
    assert "no size-bearing parameter" in str(plan("def f(x: float) -> float:\n    return x\n"))
    assert "cannot build a value" in str(
        plan("def f(xs: list[int], thing) -> int:\n    return 0\n")
    )
    assert "async" in str(plan("async def f(xs: list[int]) -> int:\n    return 0\n"))


# ---------------------------------------------------------------- instrumentation keeps meaning


SEMANTICS = """
from __future__ import annotations
import collections

class Box:
    items = [1, 2]
    items += [3]
    label: str | None = None

def grow(n: int) -> list[int]:
    acc = []
    for i in range(n):
        acc += [i]
        acc = acc + [i * 2]
    return acc[1:4] + acc[-2:]

def counter():
    total = 0
    def bump(k):
        nonlocal total
        total += k
        return total
    return bump

def checks(s: str, xs: list[int]) -> tuple:
    found = "b" in s and 2 in xs and 9 not in xs and 1 < 2 in xs
    words = sorted(s.split(), key=len)
    joined = "-".join(w.upper() for w in words)
    q = collections.deque(xs)
    q.rotate(1)
    match xs:
        case [1, *rest]:
            shape = ("one", rest[:1])
        case _:
            shape = ("other", [])
    return found, joined, list(q), shape, max(xs), sum(xs[::2]), f"{xs[1:]!r}"

class Picky:
    def __getattr__(self, name):
        raise RuntimeError(f"no attribute {name}")

    def __call__(self, *args, **kwargs):
        return ("called", args, sorted(kwargs))


class Holder:
    index = Picky()


options = {}
options.update(func=1, self=2)
bump = counter()
RESULT = (
    Box.items,
    grow(5),
    bump(2),
    bump(3),
    checks("a bb c", [1, 2, 3]),
    {1, 2} | {3},
    Holder().index(3, func=4),
    options,
)
"""


def test_instrumented_code_computes_the_same_values() -> None:
    from codegrad.runners import cost_hooks, cost_meter, cost_rewrite

    plain: dict[str, object] = {"__name__": "plain"}
    exec(compile(SEMANTICS, "plain.py", "exec"), plain)
    code = instrument(SEMANTICS, "instrumented.py")
    assert code is not None
    hooked: dict[str, object] = {
        "__name__": "hooked",
        cost_rewrite.HELPER: cost_hooks.Costs(cost_meter.Meter()),
    }
    exec(code, hooked)
    assert hooked["RESULT"] == plain["RESULT"]
    assert hooked["Box"].__annotations__ == plain["Box"].__annotations__  # type: ignore[attr-defined]
