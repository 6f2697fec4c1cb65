"""Head's suite runs once for the recorded and project-tests checks, and each reports as it does alone."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from codegrad.model import CheckResult, Outcome
from codegrad.review import review
from codegrad.settings import build
from codegrad.verify import sandbox
from codegrad.verify.checks.pytest_plugin import PLUGIN_MODULE
from helpers_git import make_repo

BASE = """
def halve(x):
    return x // 2


def total(values):
    return sum(values)
"""

HEAD = BASE.replace(
    "return x // 2", "if x < 0:\n        raise ValueError('negative')\n    return x // 2"
)

TESTS = """
from pkg.calc import halve, total


def test_halve():
    assert halve(4) == 2


def test_halve_negative():
    assert halve(-4) == -2


def test_total_of_a_long_iterator():
    assert total(iter(range(5000))) == sum(range(5000))


def test_total_of_a_generator_that_raises():
    def broken():
        yield 1
        raise KeyError("item")

    try:
        total(broken())
    except KeyError:
        return
    raise AssertionError("the generator's error did not reach the test")
"""


def suite_runs(calls: Sequence[Sequence[str]]) -> int:
    """How many of the sandboxed commands ran the project's suite under codegrad's plugin."""
    return sum(1 for argv in calls if PLUGIN_MODULE in argv)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    made = make_repo(tmp_path_factory.mktemp("shared"))
    made.write("pkg/__init__.py", "")
    made.write("pkg/calc.py", textwrap.dedent(BASE))
    made.write("tests/test_calc.py", textwrap.dedent(TESTS))
    base = made.commit("base")
    made.write("pkg/calc.py", textwrap.dedent(HEAD))
    return made.path, base, made.commit("head")


def reviewed(
    repo: tuple[Path, str, str], checks: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Outcome, list[list[str]]]:
    path, base, head = repo
    calls: list[list[str]] = []
    real = sandbox.run

    def counting(argv: Sequence[str], **kwargs: Any) -> sandbox.RunResult:
        calls.append(list(argv))
        return real(argv, **kwargs)

    monkeypatch.setattr(sandbox, "run", counting)
    settings = build(
        path, {"base": base, "head": head, "checks": checks, "max_examples": 20}, env={}
    )
    return review(settings), calls


def result(outcome: Outcome, check: str) -> CheckResult:
    (found,) = [r for r in outcome.evidence.results if r.check == check]
    return found


def same(found: CheckResult) -> dict[str, Any]:
    """What must not change when the suite is shared: findings, mapping, counts (not timings)."""
    stats = {k: v for k, v in found.stats.items() if "seconds" not in k}
    return {
        "findings": [(f.kind, f.function, f.message, f.actual, f.details) for f in found.findings],
        "checked": found.checked,
        "skipped": found.skipped,
        "stats": stats,
    }


def test_the_suite_runs_once_and_both_checks_report_as_they_do_alone(
    repo: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    both, calls = reviewed(repo, "recorded,project-tests", monkeypatch)
    assert suite_runs(calls) == 1 + 2  # head's suite; the failing test again on head and on base
    alone_tests, _ = reviewed(repo, "project-tests", monkeypatch)
    alone_recorded, _ = reviewed(repo, "recorded", monkeypatch)
    assert same(result(both, "project-tests")) == same(result(alone_tests, "project-tests"))
    assert same(result(both, "recorded")) == same(result(alone_recorded, "recorded"))
    tests = result(both, "project-tests")
    (failure,) = tests.findings
    assert failure.function == "halve" and "recorder" not in (failure.actual or "")
    assert tests.stats["passed"] == 3  # the iterators reached total() whole
    assert result(both, "recorded").stats["recorded"]["pkg/calc.py::halve"] == 2


def test_without_project_tests_the_recorder_runs_the_suite_itself(
    repo: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    outcome, calls = reviewed(repo, "recorded", monkeypatch)
    assert suite_runs(calls) == 0
    assert sum(1 for argv in calls if any("--codegrad-record" in a for a in argv)) == 1
    assert result(outcome, "recorded").stats["recorded"]["pkg/calc.py::halve"] == 2
