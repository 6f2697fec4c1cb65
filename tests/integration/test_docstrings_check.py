"""The docstrings check end to end: real files in a temp tree, the real sandboxed runner."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from codegrad.model import CheckResult, Finding, Kind, Target, Workspace
from codegrad.settings import Settings
from codegrad.verify.checks.base import CheckContext
from codegrad.verify.checks.docstrings import DocstringsCheck

CALC = '''\
import time


def add(a, b):
    """Add two numbers (wrongly when a == 1).

    Examples:
        add(1, 2) == 3
        add(2, 2) -> 4
    """
    return a + b + (1 if a == 1 else 0)


def third(x):
    """A third of x.

    >>> third(0.9)
    0.3
    >>> third(1)
    0.33
    """
    return x / 3


def ratio(a, b):
    """
    >>> ratio(1, 0)
    0
    """
    return a / b


def stall(n):
    """stall(1) ➞ 1"""
    while True:
        time.sleep(0.01)


def parse(text):
    """
    >>> parse("x")
    Traceback (most recent call last):
        ...
    ValueError: bad token
    """
    raise ValueError("bad token")


def plain(x):
    return x
'''

PKG_MOD = '''\
from .helpers import double


def quad(x):
    """Four times x.

    >>> quad(2)
    9
    """
    return double(double(x))


class Stack:
    def __init__(self):
        self.items = []

    def push(self, item):
        """Push an item.

        >>> s = Stack()
        >>> s.push(1)
        """
        self.items.append(item)

    def pop(self):
        """Pop the newest item.

        >>> s = Stack()
        >>> s.push(1)
        >>> s.push(5)
        >>> s.pop()
        5
        """
        return self.items.pop(0)
'''


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def first_line(func: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    return func.decorator_list[0].lineno if func.decorator_list else func.lineno


def targets_in(root: Path, rel: str, base_root: Path | None = None) -> list[Target]:
    """Every function and method of a file as a Target (base source from base_root if given)."""
    text = (root / rel).read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    tree = ast.parse(text)
    base_text = (base_root / rel).read_text(encoding="utf-8") if base_root else None
    found: list[Target] = []
    for node in tree.body:
        funcs = (ast.FunctionDef, ast.AsyncFunctionDef)
        defs = [(node, None)] if isinstance(node, funcs) else []
        if isinstance(node, ast.ClassDef):
            defs = [(n, node.name) for n in node.body if isinstance(n, funcs)]
        for func, owner in defs:
            qualname = f"{owner}.{func.name}" if owner else func.name
            found.append(
                Target(
                    path=rel,
                    qualname=qualname,
                    lineno=func.lineno,
                    end_lineno=func.end_lineno or func.lineno,
                    source="".join(lines[first_line(func) - 1 : func.end_lineno]),
                    decorator_lineno=func.decorator_list[0].lineno if func.decorator_list else None,
                    kind="method" if owner else "function",
                    is_async=isinstance(func, ast.AsyncFunctionDef),
                    class_name=owner,
                    base_path=rel if base_text else None,
                    base_source="<base>" if base_text else None,
                )
            )
    return found


def run_check(
    head: Path, targets: list[Target], base: Path | None = None, **settings: object
) -> CheckResult:
    scratch = head.parent / f"scratch-{head.name}"
    scratch.mkdir(exist_ok=True)
    ctx = CheckContext(
        settings=Settings(**{"call_timeout": 0.5, "function_timeout": 10.0, **settings}),  # type: ignore[arg-type]
        workspace=Workspace(head_root=head, base_root=base),
        scratch=scratch,
        deadline=time.monotonic() + 120,
    )
    return DocstringsCheck().run(targets, ctx)


def by_input(result: CheckResult) -> dict[str, Finding]:
    return {f.input or f.message: f for f in result.findings}


def line_of(root: Path, rel: str, needle: str) -> int:
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("head")
    write(
        root,
        {
            "calc.py": CALC,
            "pkg/__init__.py": "",
            "pkg/helpers.py": "def double(x):\n    return 2 * x\n",
            "pkg/mod.py": PKG_MOD,
        },
    )
    return root


@pytest.fixture(scope="module")
def result(tree: Path) -> CheckResult:
    return run_check(tree, targets_in(tree, "calc.py") + targets_in(tree, "pkg/mod.py"))


def test_wrong_value_is_a_bug_at_the_example_line(tree: Path, result: CheckResult) -> None:
    finding = by_input(result)["add(1, 2)"]
    assert finding.kind is Kind.BUG
    assert (finding.expected, finding.actual) == ("3", "4")
    assert finding.line == line_of(tree, "calc.py", "add(1, 2) == 3")
    assert finding.message == "docstring example add(1, 2) expected 3, got 4"
    assert "example itself may be wrong" in finding.details["note"]
    assert finding.reproduces is True
    assert finding.base_fails_same is None  # no base tree


def test_float_formatting_differences_pass(result: CheckResult) -> None:
    inputs = by_input(result)
    assert "third(0.9)" not in inputs  # 0.30000000000000004 vs 0.3
    assert "third(1)" not in inputs  # 0.3333333333333333 vs 0.33 (shown precision)
    assert "add(2, 2)" not in inputs
    assert "calc.py::third" in result.checked


def test_unexpected_exception_is_a_crash_with_traceback_inside_the_target(
    tree: Path, result: CheckResult
) -> None:
    finding = by_input(result)["ratio(1, 0)"]
    assert finding.kind is Kind.CRASH
    assert finding.actual == "ZeroDivisionError: division by zero"
    assert finding.expected == "0"
    assert finding.line == line_of(tree, "calc.py", ">>> ratio(1, 0)")
    assert finding.traceback == (
        f"calc.py:{line_of(tree, 'calc.py', 'return a / b')}: return a / b",
    )


def test_expected_exception_passes(result: CheckResult) -> None:
    assert 'parse("x")' not in by_input(result)
    assert "calc.py::parse" in result.checked


def test_hanging_example_is_a_timeout_within_the_budget(tree: Path, result: CheckResult) -> None:
    finding = by_input(result)["stall(1)"]
    assert finding.kind is Kind.TIMEOUT
    assert finding.actual == "did not finish within 0.5s"
    assert finding.line == line_of(tree, "calc.py", "stall(1) ➞ 1")
    assert result.seconds < 10


def test_package_with_relative_imports(tree: Path, result: CheckResult) -> None:
    finding = by_input(result)["quad(2)"]
    assert finding.kind is Kind.BUG
    assert (finding.expected, finding.actual) == ("9", "8")
    assert finding.line == line_of(tree, "pkg/mod.py", ">>> quad(2)")
    assert finding.reproducer is not None
    assert "from pkg.mod import quad" in finding.reproducer


def test_method_example_with_setup(tree: Path, result: CheckResult) -> None:
    finding = by_input(result)["s.pop()"]
    assert finding.kind is Kind.BUG
    assert (finding.expected, finding.actual) == ("5", "1")
    assert finding.function == "Stack.pop"
    assert finding.line == line_of(tree, "pkg/mod.py", ">>> s.pop()")
    assert finding.details["setup"] == ["s = Stack()", "s.push(1)", "s.push(5)"]
    assert "pkg/mod.py::Stack.push" in result.checked  # `>>> s.push(1)` printed nothing: passes


def test_targets_without_examples_are_skipped_with_a_reason(result: CheckResult) -> None:
    assert result.skipped["calc.py::plain"] == "no docstring"
    assert result.skipped["pkg/mod.py::Stack.__init__"] == "no docstring"
    assert {f.kind for f in result.findings} == {Kind.BUG, Kind.CRASH, Kind.TIMEOUT}
    assert len(result.findings) == 5
    assert result.stats["examples"] == 10


def test_reproducer_is_a_real_failing_pytest_test(tree: Path, result: CheckResult) -> None:
    finding = by_input(result)["s.pop()"]
    assert finding.reproducer is not None
    test_file = tree.parent / "repro_tests" / "test_repro.py"
    test_file.parent.mkdir(exist_ok=True)
    test_file.write_text(finding.reproducer, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tree)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "assert 1 == 5" in proc.stdout


def test_base_that_fails_the_same_way_makes_it_pre_existing(tmp_path: Path) -> None:
    base, head = tmp_path / "base", tmp_path / "head"
    write(base, {"calc.py": CALC.replace("+ (1 if a == 1 else 0)", "")})
    write(head, {"calc.py": CALC})
    targets = [t for t in targets_in(head, "calc.py", base) if t.name in ("add", "ratio")]
    result = run_check(head, targets, base)
    findings = by_input(result)
    assert findings["add(1, 2)"].kind is Kind.BUG  # base adds correctly: a regression
    assert findings["add(1, 2)"].base_fails_same is False
    assert findings["ratio(1, 0)"].kind is Kind.PRE_EXISTING  # base divides by zero too
    assert findings["ratio(1, 0)"].base_fails_same is True
    assert findings["ratio(1, 0)"].details["head_kind"] == "crash"


def test_import_failure_is_one_error_per_target(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "broken.py": 'import missing_dependency_xyz\n\n\ndef f():\n    """f() == 1"""\n    return 1\n'
        },
    )
    result = run_check(tmp_path, targets_in(tmp_path, "broken.py"))
    (finding,) = result.findings
    assert finding.kind is Kind.ERROR
    assert "missing_dependency_xyz" in finding.message
    assert finding.line == 4


def test_killed_run_keeps_earlier_results_and_blames_the_running_example(tmp_path: Path) -> None:
    source = textwrap.dedent(
        '''\
        import signal


        def fine(x):
            """fine(1) == 2"""
            return x + 1


        def stubborn(x):
            """stubborn(1) == 1"""
            signal.setitimer(signal.ITIMER_REAL, 0)  # defeats the per-call alarm
            while True:
                pass
        '''
    )
    write(tmp_path, {"mod.py": source})
    result = run_check(tmp_path, targets_in(tmp_path, "mod.py"), function_timeout=1.5)
    (finding,) = result.findings
    assert finding.input == "stubborn(1)"
    assert finding.kind is Kind.TIMEOUT
    assert set(result.checked) == {"mod.py::fine", "mod.py::stubborn"}


EDGES = '''\
import asyncio
import functools


@functools.lru_cache(maxsize=None)
def sq(x):
    """Square.

    sq(3) == 10
    """
    return x * x


def show(x):
    """
    >>> show(0.1 + 0.2)
    0.3
    >>> show(1)
    'ONE'
    """
    print(x)


class Box:
    def __init__(self, v):
        self.v = v

    def __repr__(self):
        return f"<Box v={self.v} at 0x1234>"

    @staticmethod
    def make(v):
        """
        >>> Box.make(2)
        <Box v=2 at 0x...>
        >>> make(3)
        <Box v=3 at 0x...>
        """
        return Box(v)


def strict(n):
    """strict(n=-1) == 0

    >>> strict(-2)
    Traceback (most recent call last):
    ValueError: negative
    >>> strict(-3)
    Traceback (most recent call last):
    KeyError: 'negative'
    >>> strict(undefined_name)
    1
    """
    if n < 0:
        raise TypeError("negative")
    return n


async def later(x):
    """
    >>> asyncio.run(later(1))
    2
    >>> later(2)
    3
    """
    await asyncio.sleep(0)
    return x + 1
'''


def test_print_ellipsis_static_async_and_exception_mismatches(tmp_path: Path) -> None:
    write(tmp_path, {"edges.py": EDGES})
    result = run_check(tmp_path, targets_in(tmp_path, "edges.py"))
    findings = by_input(result)
    assert "show(0.1 + 0.2)" not in findings  # printed 0.30000000000000004
    assert findings["show(1)"].kind is Kind.BUG  # printed 1 and returned None
    assert findings["show(1)"].actual == "1"
    assert (
        "Box.make(2)" not in findings and "make(3)" not in findings
    )  # ELLIPSIS, bare staticmethod
    assert findings["strict(n=-1)"].kind is Kind.CRASH
    assert findings["strict(n=-1)"].actual == "TypeError: negative"
    wrong_type = findings["strict(-2)"]
    assert wrong_type.kind is Kind.CRASH
    assert wrong_type.expected == "ValueError: negative"
    assert "(expected ValueError: negative)" in wrong_type.message
    assert (
        "strict(undefined_name)" not in findings
    )  # NameError in the example itself: not a finding
    assert result.stats["outcomes"]["unrunnable"] == 1
    assert "asyncio.run(later(1))" not in findings and "later(2)" not in findings
    assert findings["sq(3)"].line == line_of(tmp_path, "edges.py", "sq(3) == 10")  # decorated
    assert (findings["sq(3)"].expected, findings["sq(3)"].actual) == ("10", "9")
    assert set(result.checked) == {
        "edges.py::sq",
        "edges.py::show",
        "edges.py::Box.make",
        "edges.py::strict",
        "edges.py::later",
    }


COMMENTED = '''\
class Span:
    """A range of numbers with no __eq__ of its own (== is identity)."""

    def __init__(self, low, high):
        self.low, self.high = low, high


def is_even(n):
    """Whether n is even.

    >>> is_even(4)  # Output: True
    >>> is_even(7)  # => False

    is_even(10)  # returns True
    """
    return n % 2 == 0


def widen(span, by):
    """The span grown by `by` on each side.

    >>> widen(Span(1, 2), 1)  # Span(0, 3)
    """
    return Span(span.low - by, span.high + by + 1)


def count(xs):
    """How many items.

    >>> count([1, 2])  # 2 items
    >>> count([])  # -> 0
    """
    return len(xs)


def vague(xs):
    """Vague about its result.

    >>> vague([1])  # True if xs has items
    """
    return bool(xs)
'''


def run_pytest(test_file: Path, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_outputs_written_as_comments_are_checked_and_ambiguous_ones_counted(
    tmp_path: Path,
) -> None:
    write(tmp_path / "head", {"shapes.py": COMMENTED})
    result = run_check(tmp_path / "head", targets_in(tmp_path / "head", "shapes.py"))
    findings = by_input(result)
    # is_even's three comment outputs are right: before they were read as "returns None" (fails)
    assert set(findings) == {"widen(Span(1, 2), 1)"}, [f.message for f in result.findings]
    wrong = findings["widen(Span(1, 2), 1)"]
    assert wrong.kind is Kind.BUG and wrong.expected == "Span(0, 3)"
    assert wrong.actual == "Span(low=0, high=4)" and "0x" not in wrong.message
    assert result.stats["forms"] == {"comment": 5}
    assert result.stats["unparsed"] == 2  # `# 2 items` and `# True if xs has items`
    assert "shapes.py::count" in result.checked
    assert "no example whose output can be read" in result.skipped["shapes.py::vague"]
    # The reproducer compares as the runner did (Span has no __eq__): it fails on this code ...
    assert wrong.reproducer is not None and "assert equivalent(widen(" in wrong.reproducer
    test_file = tmp_path / "head" / "test_repro.py"
    test_file.write_text(wrong.reproducer, encoding="utf-8")
    failed = run_pytest(test_file, tmp_path / "head")
    assert failed.returncode == 1 and "1 failed" in failed.stdout, failed.stdout
    # ... and passes once the code does what the docstring says.
    fixed = COMMENTED.replace("span.high + by + 1", "span.high + by")
    (tmp_path / "head" / "shapes.py").write_text(fixed, encoding="utf-8")
    passed = run_pytest(test_file, tmp_path / "head")
    assert passed.returncode == 0, passed.stdout + passed.stderr
