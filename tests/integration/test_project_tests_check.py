"""The project-tests check against real trees and real pytest subprocesses in the sandbox."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from codegrad.diff.changes import all_functions
from codegrad.model import CheckResult, Finding, Kind, Severity, Target, Workspace
from codegrad.settings import Settings
from codegrad.verify.checks import testselect as ts
from codegrad.verify.checks.base import CheckContext
from codegrad.verify.checks.project_tests import NO_TESTS, NOT_COVERED, ProjectTestsCheck
from codegrad.verify.checks.pytest_runs import TreeScan, scan_tree, tree_options
from codegrad.verify.checks.suite_findings import Verdict, classify

MOD_HEAD = """\
def add(a, b):
    return a - b


def mul(a, b):
    return a * b


def div(a, b):
    return a // b


def unrelated(x):
    return x
"""

MOD_BASE = MOD_HEAD.replace("return a - b", "return a + b")

TESTS = """\
from pkg.mod import add, div, mul


def test_add():
    assert add(2, 3) == 5


def test_mul():
    assert mul(2, 3) == 6


def test_div():
    assert div(1, 2) == 0.5


def test_plain():
    assert sorted([2, 1]) == [1, 2, 3]
"""

NEW_TEST = """

def test_new():
    assert "new" == "old"
"""

FLAKY = """\
import os

MARK = {mark!r}


def test_flaky():
    if not os.path.exists(MARK):
        open(MARK, "w").close()
        assert False, "fails on the first run only"
"""


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def targets_of(root: Path, *paths: str) -> list[Target]:
    return [t for p in paths for t in all_functions(p, (root / p).read_text(encoding="utf-8"))]


def run_check(
    head: Path, targets: list[Target], scratch: Path, base: Path | None = None, **settings: object
) -> CheckResult:
    scratch.mkdir(parents=True, exist_ok=True)
    ctx = CheckContext(
        settings=Settings(**settings),  # type: ignore[arg-type]
        workspace=Workspace(head_root=head, base_root=base),
        scratch=scratch,
        deadline=time.monotonic() + 120,
    )
    return ProjectTestsCheck().run(targets, ctx)


def on(result: CheckResult, path: str, function: str) -> list[Finding]:
    return [f for f in result.findings if f.path == path and f.function == function]


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    """One src-layout change reviewed once; the tests below each look at one aspect of it."""
    tmp = tmp_path_factory.mktemp("shared")
    common = {
        "src/pkg/__init__.py": "",
        "tests/test_flaky.py": FLAKY.format(
            mark=str(tmp / "head" / "flaky-mark")
        ),  # inside the writable tree
    }
    head = write_tree(
        tmp / "head",
        {
            **common,
            "src/pkg/mod.py": MOD_HEAD,
            "tests/test_mod.py": TESTS + NEW_TEST,  # test_new: not on base
            "tests/test_broken.py": "def f(:\n",
        },
    )
    base = write_tree(
        tmp / "base", {**common, "src/pkg/mod.py": MOD_BASE, "tests/test_mod.py": TESTS}
    )
    return run_check(head, targets_of(head, "src/pkg/mod.py"), tmp / "scratch", base)


def test_repo_without_tests_is_clean(tmp_path: Path) -> None:
    head = write_tree(tmp_path / "head", {"pkg/mod.py": "def f(x):\n    return x\n"})
    started = time.monotonic()
    result = run_check(head, targets_of(head, "pkg/mod.py"), tmp_path / "scratch")
    assert result.findings == ()
    assert result.skipped == {"pkg/mod.py::f": NO_TESTS}
    assert time.monotonic() - started < 1.0  # decided without starting pytest


def test_collected_nothing_is_no_tests(tmp_path: Path) -> None:
    head = write_tree(
        tmp_path / "head",
        {"pkg/mod.py": "def f(x):\n    return x\n", "tests/test_none.py": "X = 1\n"},
    )
    result = run_check(head, targets_of(head, "pkg/mod.py"), tmp_path / "scratch")
    assert result.findings == ()
    assert result.skipped == {"pkg/mod.py::f": NO_TESTS}


def test_passing_test_is_clean_and_checks_the_function(tmp_path: Path) -> None:
    head = write_tree(
        tmp_path / "head",
        {
            "calc.py": "def double(x):\n    return 2 * x\n",
            "tests/test_calc.py": "from calc import double\n\n\ndef test_double():\n    assert double(2) == 4\n",
            "pytest.ini": "[pytest]\naddopts = --no-such-plugin-option\n",  # unusable addopts: retried without
        },
    )
    result = run_check(head, targets_of(head, "calc.py"), tmp_path / "scratch")
    assert result.findings == ()
    assert result.checked == ("calc.py::double",)
    assert result.stats["tests"] == 1 and result.stats["passed"] == 1
    assert result.stats["tests_per_function"] == {"calc.py::double": 1}
    assert not (head / ".pytest_cache").exists() and not list(head.rglob("__pycache__"))


def test_regression_fails_on_head_passes_on_base(review: CheckResult) -> None:
    [finding] = on(review, "src/pkg/mod.py", "add")
    assert finding.kind is Kind.REGRESSION
    assert finding.base_fails_same is False
    assert finding.reproduces is True
    assert finding.level is Severity.ERROR
    assert finding.input == "tests/test_mod.py::test_add"
    assert finding.message.startswith("test tests/test_mod.py::test_add failed: assert -1 == 5")
    assert "where -1 = add(2, 3)" in (finding.actual or "")
    assert finding.reproducer == "python -m pytest 'tests/test_mod.py::test_add'"
    assert finding.line == 1  # the assertion is in the test: the function's def line


def test_failure_on_base_too_is_pre_existing(review: CheckResult) -> None:
    [finding] = on(review, "src/pkg/mod.py", "div")
    assert finding.kind is Kind.PRE_EXISTING
    assert finding.base_fails_same is True
    assert "assert 0 == 0.5" in finding.message
    assert "fails on base" in finding.details["base"]


def test_failure_maps_only_to_the_function_it_runs(review: CheckResult) -> None:
    assert on(review, "src/pkg/mod.py", "mul") == []
    assert on(review, "src/pkg/mod.py", "unrelated") == []
    assert "src/pkg/mod.py::mul" in review.checked
    assert review.skipped["src/pkg/mod.py::unrelated"] == NOT_COVERED
    by_test = {f.input for f in review.findings if f.path == "src/pkg/mod.py"}
    assert by_test == {"tests/test_mod.py::test_add", "tests/test_mod.py::test_div"}


def test_failure_touching_no_changed_function_is_reported_on_the_test(review: CheckResult) -> None:
    [finding] = on(review, "tests/test_mod.py", "test_plain")
    assert finding.kind is Kind.PRE_EXISTING
    assert finding.line == 16
    assert "assert [1, 2] == [1, 2, 3]" in finding.message


def test_new_test_missing_on_base_is_a_new_failure(review: CheckResult) -> None:
    [finding] = on(review, "tests/test_mod.py", "test_new")
    assert finding.kind is Kind.REGRESSION
    assert finding.base_fails_same is None
    assert finding.details["base"] == "not run on base"


def test_flaky_failure_is_a_warning_that_does_not_reproduce(review: CheckResult) -> None:
    [finding] = on(review, "tests/test_flaky.py", "test_flaky")
    assert finding.reproduces is False
    assert finding.level is Severity.WARNING
    assert finding.details["flaky"] is True
    assert review.stats["flaky"] == 1


def test_syntax_error_in_a_test_file_is_an_error_without_traceback(review: CheckResult) -> None:
    [finding] = on(review, "tests/test_broken.py", "<module>")
    assert finding.kind is Kind.ERROR
    assert "SyntaxError" in finding.message
    assert finding.line == 1
    text = finding.message + (finding.actual or "")
    assert "Traceback" not in text and "_pytest" not in text and "site-packages" not in text
    assert review.stats["collection_errors"] == 1
    assert review.stats["tests"] == 6  # the other modules still ran


def test_src_layout_package_is_imported_from_src(review: CheckResult) -> None:
    assert review.stats["tests_per_function"]["src/pkg/mod.py::add"] == 1
    assert len([f for f in review.findings if f.path == "src/pkg/mod.py"]) == 2


def test_hanging_test_is_a_timeout_inside_the_function(tmp_path: Path) -> None:
    head = write_tree(
        tmp_path / "head",
        {
            "slow.py": "def spin(n):\n    while True:\n        n += 1\n",
            "tests/test_a_fast.py": "def test_fast():\n    assert True\n",
            "tests/test_slow.py": "from slow import spin\n\n\ndef test_spin():\n    spin(0)\n",
        },
    )
    started = time.monotonic()
    result = run_check(head, targets_of(head, "slow.py"), tmp_path / "scratch", test_timeout=20)
    assert time.monotonic() - started < 12  # the per-test limit (2 s) ends it, not the suite's
    [finding] = result.findings
    assert finding.kind is Kind.TIMEOUT
    assert (finding.path, finding.function) == ("slow.py", "spin")
    assert finding.line in (2, 3)
    assert finding.input == "tests/test_slow.py::test_spin"
    assert finding.message.startswith("test tests/test_slow.py::test_spin hung: the test did not")
    assert finding.details["base"] == "not run on base"
    assert any(line.startswith("slow.py:") for line in finding.traceback)


def test_custom_command_failure_is_one_finding_with_the_output_tail(tmp_path: Path) -> None:
    head = write_tree(
        tmp_path / "head",
        {
            "mod.py": "def f():\n    return 1\n",
            "check.py": "print('checking')\nraise SystemExit('bad total')\n",
        },
    )
    base = write_tree(
        tmp_path / "base", {"mod.py": "def f():\n    return 1\n", "check.py": "print('ok')\n"}
    )
    result = run_check(
        head, targets_of(head, "mod.py"), tmp_path / "scratch", base, test_command="python check.py"
    )
    [finding] = result.findings
    assert finding.kind is Kind.REGRESSION and finding.base_fails_same is False
    assert "exit code 1" in finding.message
    assert "bad total" in (finding.actual or "")
    assert result.checked == ()


def test_broken_conftest_is_one_error_finding_without_traceback(tmp_path: Path) -> None:
    head = write_tree(
        tmp_path / "head",
        {
            "calc.py": "def double(x):\n    return 2 * x\n",
            "conftest.py": "import no_such_module_for_codegrad\n",
            "tests/test_calc.py": "def test_x():\n    assert True\n",
        },
    )
    result = run_check(head, targets_of(head, "calc.py"), tmp_path / "scratch")
    [finding] = result.findings
    assert finding.kind is Kind.ERROR
    assert "No module named 'no_such_module_for_codegrad'" in finding.message
    assert "Traceback" not in (finding.actual or "") and str(head) not in (finding.actual or "")
    assert result.skipped == {"calc.py::double": "the project's tests could not run"}


# ---------------------------------------------------------------- classification (pure)


def _case(outcome: str, message: str = "", nodeid: str = "tests/t.py::test_a") -> ts.CaseResult:
    return ts.CaseResult(nodeid, "tests/t.py", "test_a", 3, outcome, message)


def test_classify_against_base_and_second_run() -> None:
    head = _case("failed", "assert 1 == 2")
    nid = head.nodeid
    verdict = classify(head, {nid: _case("failed", "assert 1 == 2")}, {nid: _case("passed")})
    assert verdict == Verdict(Kind.REGRESSION, False, True, "passed on base")
    verdict = classify(head, {nid: _case("passed")}, {nid: _case("failed", "assert 3 == 2")})
    assert (verdict.kind, verdict.base_fails_same, verdict.reproduces) == (
        Kind.PRE_EXISTING,
        True,
        False,
    )
    verdict = classify(head, None, {nid: _case("error", "ImportError: no name f")})
    assert (verdict.kind, verdict.base_fails_same, verdict.reproduces) == (
        Kind.REGRESSION,
        False,
        None,
    )
    assert classify(head, {}, None).base_fails_same is None
    broken = ts.CaseResult(
        "tests/t.py",
        "tests/t.py",
        "",
        None,
        "error",
        "collection failure",
        "E   SyntaxError: x",
        collection=True,
    )
    verdict = classify(head, {}, {"tests/t.py": broken})
    assert verdict.base_note == "could not be collected on base: SyntaxError: x"


def test_scan_tree_finds_tests_and_hypothesis_use(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pkg/a.py": "import hypothesis\n",  # not a test file: its tests run fine without the plugin
            "tests/test_a.py": "def test_a():\n    pass\n",
            ".venv/lib/test_v.py": "import hypothesis\n",
            "node_modules/x/test_n.py": "import hypothesis\n",
        },
    )
    assert scan_tree(tmp_path) == TreeScan(has_tests=True, uses_hypothesis=False)
    assert tree_options(scan_tree(tmp_path)) == ("-p", "no:hypothesispytest")
    write_tree(tmp_path, {"tests/conftest.py": "from hypothesis import settings\n"})
    assert scan_tree(tmp_path) == TreeScan(has_tests=True, uses_hypothesis=True)
    assert tree_options(scan_tree(tmp_path)) == ()
    assert scan_tree(tmp_path / "pkg") == TreeScan(has_tests=False, uses_hypothesis=False)
