"""Whole-repository targets: discovery, risk signals, ranking and the budget cut."""

from __future__ import annotations

from codegrad.harden import targets
from codegrad.model import Kind, Target
from codegrad.settings import DEFAULT_EXCLUDE

INCLUDE = ("**/*.py", "*.py")

MODULE = '''"""A module."""
import typing


def plain(x):
    return x


@typing.overload
def over(x: int) -> int: ...
@typing.overload
def over(x: str) -> str: ...
def over(x):
    return x


def outer(n):
    def inner(m):
        return m + n
    return inner(1)


class Box:
    def get(self):
        return 1

    @staticmethod
    def make():
        return Box()


if typing.TYPE_CHECKING:
    def plain(x):  # a second def of the same name: the first one is kept
        return x
'''


def _target(
    key_path: str, name: str, source: str = "def f():\n    return 1\n", line: int = 1
) -> Target:
    return Target(path=key_path, qualname=name, lineno=line, end_lineno=line + 1, source=source)


def test_discover_keeps_callable_defs_and_skips_nested_overloads_and_repeats() -> None:
    found, broken = targets.discover({"pkg/mod.py": MODULE}, include=INCLUDE, exclude=())

    assert [t.qualname for t in found] == ["plain", "over", "outer", "Box.get", "Box.make"]
    assert found[1].lineno == 13  # the implementation, not an @overload stub
    assert found[0].lineno == 5  # the first `plain`
    assert broken == []


def test_discover_applies_include_and_exclude_globs_and_reports_broken_files() -> None:
    files = {
        "pkg/a.py": "def a():\n    return 1\n",
        "pkg/b.py": "def b(:\n",
        "tests/test_a.py": "def test_a():\n    pass\n",
        "docs/conf.py": "def setup(app):\n    pass\n",
        "vendor/lib.py": "def v():\n    pass\n",
        "README.md": "def not_python(): pass\n",
    }

    found, broken = targets.discover(
        files, include=INCLUDE, exclude=(*DEFAULT_EXCLUDE, "vendor/**")
    )

    assert [t.key for t in found] == ["pkg/a.py::a"]
    [syntax] = broken
    assert syntax.path == "pkg/b.py" and syntax.kind is Kind.SYNTAX


def test_complexity_counts_branches_and_boolean_operators() -> None:
    flat = "def f(x):\n    return x\n"
    branchy = (
        "def g(xs):\n"
        "    total = 0\n"
        "    for x in xs:\n"
        "        if x > 0 and x < 10:\n"
        "            total += x\n"
        "        elif x < 0:\n"
        "            total -= x\n"
        "    return [y for y in xs if y]\n"
    )
    assert targets.complexity(flat) == 1
    # for, if, elif (an If), `and`, the comprehension and its `if`
    assert targets.complexity(branchy) == 1 + 1 + 1 + 1 + 1 + 2
    assert targets.complexity("not python (") == 1


def test_churn_counts_commits_per_file() -> None:
    log = "\0\npkg/a.py\npkg/b.py\n\0\npkg/a.py\n\0\n"
    assert targets.churn_counts(log) == {"pkg/a.py": 2, "pkg/b.py": 1}


def test_coverage_from_json_counts_tests_per_function_and_ignores_the_def_line() -> None:
    a = _target("pkg/a.py", "a", line=1)  # body is line 2
    b = _target("pkg/a.py", "b", line=4)  # body is line 5
    c = _target("pkg/other.py", "c")
    with_contexts = {
        "files": {
            "pkg/a.py": {
                "executed_lines": [1, 2, 4],
                "contexts": {"1": [""], "2": ["t1|run", "t2|run"], "4": [""], "5": []},
            }
        }
    }
    assert targets.coverage_from_json(with_contexts, [a, b, c]) == {
        "pkg/a.py::a": 2,
        "pkg/a.py::b": 0,
    }
    lines_only = {"files": {"/ci/work/pkg/a.py": {"executed_lines": [1, 2, 4]}}}
    assert targets.coverage_from_json(lines_only, [a, b]) == {"pkg/a.py::a": 1, "pkg/a.py::b": 0}
    assert targets.coverage_from_json({"meta": {}}, [a]) == {}


def test_rank_puts_earlier_findings_then_untested_complex_churned_code_first() -> None:
    simple = _target("pkg/a.py", "simple", line=1)
    complex_src = "def hard(x):\n    if x:\n        if x > 1:\n            return 2\n    return 0\n"
    hard = _target("pkg/a.py", "hard", complex_src, line=10)
    untested = _target("pkg/b.py", "untested", line=1)
    known = _target("pkg/c.py", "known", line=1)
    tests = {simple.key: 3, hard.key: 3, untested.key: 0, known.key: 3}

    order = [
        t.qualname
        for t, _ in targets.rank([simple, hard, untested, known], tests=tests, known=[known.key])
    ]

    assert order == ["known", "untested", "hard", "simple"]
    churned = targets.rank([simple, untested], tests={}, churn={"pkg/a.py": 7})
    assert [t.qualname for t, _ in churned] == ["simple", "untested"]
    risk = churned[0][1]
    assert risk.churn == 7 and risk.tests is None and "coverage unknown" in risk.reasons()


def test_rank_breaks_ties_by_path_and_line_whatever_the_input_order() -> None:
    items = [_target(f"pkg/m{i % 3}.py", f"f{i}", line=i + 1) for i in range(9)]
    first = [t.key for t, _ in targets.rank(items)]
    second = [t.key for t, _ in targets.rank(list(reversed(items)))]
    assert first == second


def test_cut_keeps_the_riskiest_within_the_function_count_and_the_time_budget() -> None:
    items = [_target("pkg/a.py", f"f{i}", line=i) for i in range(5)]

    by_count = targets.cut(items, max_functions=2)
    assert [t.qualname for t in by_count.chosen] == ["f0", "f1"]
    assert set(by_count.dropped) == {t.key for t in items[2:]}
    assert "2 function(s)" in by_count.dropped[items[4].key]

    estimate = {items[0].key: 4.0, items[1].key: 10.0}
    by_time = targets.cut(
        items, budget_seconds=10.0, estimate=estimate, overhead=1.0, default_estimate=2.0
    )
    assert [t.qualname for t in by_time.chosen] == ["f0", "f2", "f3"]  # 1 + 4 + 2 + 2 <= 10
    assert "time budget" in by_time.dropped[items[1].key]

    too_small = targets.cut(items, budget_seconds=0.5)
    assert [t.qualname for t in too_small.chosen] == ["f0"]  # the first always runs
