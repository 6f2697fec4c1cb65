"""The properties check end to end: real modules in tmp dirs, the real sandboxed Hypothesis runner."""

from __future__ import annotations

import ast
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from codegrad.diff import changes
from codegrad.model import CheckResult, Finding, Kind, Severity, Target, Workspace
from codegrad.settings import Settings
from codegrad.verify.checks.base import CheckContext
from codegrad.verify.checks.properties import PropertiesCheck

FAST = Settings(function_timeout=6.0, call_timeout=0.3, max_examples=60)


def write(root: Path, source: str, name: str = "mod.py") -> str:
    root.mkdir(parents=True, exist_ok=True)
    text = textwrap.dedent(source)
    (root / name).write_text(text)
    return text


def run_check(
    tmp_path: Path,
    head: str,
    base: str | None = None,
    settings: Settings = FAST,
    only: str | None = None,
) -> tuple[CheckResult, list[Target]]:
    head_text = write(tmp_path / "head", head)
    base_root = None
    targets = changes.all_functions("mod.py", head_text)
    if base is not None:
        base_text = write(tmp_path / "base", base)
        base_root = tmp_path / "base"
        old = {t.qualname: t for t in changes.all_functions("mod.py", base_text)}
        targets = [
            replace(t, base_path="mod.py", base_source=old[t.qualname].source) for t in targets
        ]
    if only:
        targets = [t for t in targets if t.qualname == only]
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    ctx = CheckContext(
        settings=settings,
        workspace=Workspace(head_root=tmp_path / "head", base_root=base_root),
        scratch=scratch,
        deadline=time.monotonic() + 120,
    )
    return PropertiesCheck().run(targets, ctx), targets


def one(result: CheckResult) -> Finding:
    assert len(result.findings) == 1, [f.message for f in result.findings]
    return result.findings[0]


def test_crash_on_valid_input_is_found_with_a_shrunk_counterexample(tmp_path: Path) -> None:
    result, _ = run_check(
        tmp_path,
        """
        def mean(xs: list[int]) -> float:
            total = sum(xs)
            return total / len(xs)
        """,
    )
    finding = one(result)
    assert finding.kind is Kind.CRASH and finding.check == "properties"
    assert finding.input == "mean([])"
    assert (
        "ZeroDivisionError" in finding.message
        and finding.actual
        and "ZeroDivisionError" in finding.actual
    )
    assert (
        finding.line == 4
        and finding.traceback
        and "return total / len(xs)" in finding.traceback[-1]
    )
    assert finding.reproduces is True and finding.base_fails_same is None
    assert finding.reproducer and "@example(xs=[])" in finding.reproducer
    compile(finding.reproducer, "test_repro.py", "exec")
    assert result.checked == ("mod.py::mean",)


def test_exceptions_raised_on_purpose_are_not_crashes(tmp_path: Path) -> None:
    result, _ = run_check(
        tmp_path,
        """
        def checked_sqrt(x: int) -> float:
            if x < 0:
                raise ValueError(f"negative: {x}")
            return x ** 0.5

        def first(xs: list[int]) -> int:
            assert xs, "need at least one item"
            return xs[0]
        """,
    )
    assert result.findings == ()
    assert set(result.checked) == {"mod.py::checked_sqrt", "mod.py::first"}


def test_return_type_violation(tmp_path: Path) -> None:
    result, _ = run_check(
        tmp_path,
        """
        def count(xs: list[int]) -> int:
            if not xs:
                return None
            return len(xs)
        """,
    )
    finding = one(result)
    assert finding.kind is Kind.BUG and finding.details["property"] == "return-type"
    assert (
        finding.input == "count([])" and finding.actual == "NoneType" and finding.expected == "int"
    )
    assert "assert (isinstance(result, int)" in (finding.reproducer or "")


def test_bool_is_not_an_int_but_int_is_a_float(tmp_path: Path) -> None:
    result, _ = run_check(
        tmp_path,
        """
        def positive(n: int) -> int:
            return n > 0

        def half(n: int) -> float:
            return n // 2
        """,
    )
    finding = one(result)
    assert finding.function == "positive" and finding.actual == "bool"


def test_idempotence_violation(tmp_path: Path) -> None:
    result, _ = run_check(
        tmp_path,
        """
        def normalize_name(name: str) -> str:
            return name.strip() + "!"
        """,
    )
    finding = one(result)
    assert finding.kind is Kind.BUG and finding.details["property"] == "idempotence"
    assert finding.input == "normalize_name('')" and "'!!'" in finding.message


def test_round_trip_violation_is_reported_once(tmp_path: Path) -> None:
    result, _ = run_check(
        tmp_path,
        """
        def encode_word(s: str) -> str:
            return s[::-1]

        def decode_word(s: str) -> str:
            return s[::-1][1:]
        """,
    )
    finding = one(result)
    assert finding.function == "decode_word" and finding.details["property"] == "round-trip"
    assert finding.input is not None and finding.input.startswith("decode_word(encode_word(")


def test_hanging_function_times_out_within_budget(tmp_path: Path) -> None:
    started = time.monotonic()
    result, _ = run_check(
        tmp_path,
        """
        def spin(n: int) -> int:
            while n >= 0:
                n = n + 1
            return n
        """,
    )
    finding = one(result)
    assert (
        finding.kind is Kind.TIMEOUT and finding.level is Severity.WARNING
    )  # new code: could be slow
    assert finding.input is not None and finding.input.startswith("spin(")
    assert time.monotonic() - started < FAST.function_timeout + 10


def test_native_hang_is_killed_and_later_targets_still_run(tmp_path: Path) -> None:
    result, _ = run_check(
        tmp_path,
        """
        def stuck(n: int) -> int:
            return sum(range(10 ** 13)) + n

        def fine(n: int) -> int:
            return n
        """,
        settings=replace(FAST, function_timeout=3.0),
    )
    finding = one(result)
    assert finding.kind is Kind.TIMEOUT and finding.function == "stuck"
    assert "mod.py::fine" in result.checked and result.stats["hung"] == ["mod.py::stuck"]


def test_regression_setting_keeps_new_crashes_and_drops_shared_ones(tmp_path: Path) -> None:
    base = """
        def first(xs: list[int]) -> int:
            return xs[0]

        def pick(xs: list[int]) -> int:
            return max(xs) if xs else 0
        """
    head = """
        def first(xs: list[int]) -> int:
            return xs[:1][0]

        def pick(xs: list[int]) -> int:
            return max(xs)
        """
    result, _ = run_check(tmp_path, head, base)
    finding = one(result)
    assert finding.function == "pick" and finding.kind is Kind.CRASH
    assert finding.base_fails_same is False and finding.input == "pick([])"
    assert result.stats["out_of_domain"] >= 1  # first([]) fails on base the same way: out of domain


def test_unplannable_targets_are_skipped_with_a_reason(tmp_path: Path) -> None:
    result, _ = run_check(
        tmp_path,
        """
        def mystery(thing):
            return thing.frob()
        """,
    )
    assert result.findings == () and result.checked == ()
    assert "thing" in result.skipped["mod.py::mystery"]


def test_two_runs_give_identical_findings(tmp_path: Path) -> None:
    source = """
        def middle(xs: list[int]) -> int:
            ordered = sorted(xs)
            return ordered[len(ordered) // 2 + 1]
        """
    first, _ = run_check(tmp_path / "one", source)
    second, _ = run_check(tmp_path / "two", source)
    assert first.findings and [f.to_dict() for f in first.findings] == [
        f.to_dict() for f in second.findings
    ]


@pytest.mark.parametrize("kind", ["method", "staticmethod"])
def test_methods_are_called_on_a_fresh_instance(tmp_path: Path, kind: str) -> None:
    decorator = "    @staticmethod\n" if kind == "staticmethod" else ""
    me = "" if kind == "staticmethod" else "self, "
    source = (
        f"class Stack:\n{decorator}    def top({me}xs: list[int]) -> int:\n        return xs[-1]\n"
    )
    result, _ = run_check(tmp_path, source)
    finding = one(result)
    assert finding.function == "Stack.top" and finding.kind is Kind.CRASH
    call = "Stack().top([])" if kind == "method" else "Stack.top([])"
    assert finding.input == call
    assert finding.reproducer is not None
    ast.parse(finding.reproducer)


def test_async_functions_run_under_asyncio(tmp_path: Path) -> None:
    result, _ = run_check(
        tmp_path,
        """
        async def per_item(total: int, n: int) -> int:
            return total // n
        """,
    )
    finding = one(result)
    assert finding.kind is Kind.CRASH and "ZeroDivisionError" in finding.message
    assert (
        finding.reproducer is not None and "asyncio.run(per_item(total, n))" in finding.reproducer
    )


def test_return_kinds_from_docstring_examples_when_unannotated(tmp_path: Path) -> None:
    result, _ = run_check(
        tmp_path,
        '''
        def is_even(n):
            """>>> is_even(4)
            True
            >>> is_even(7)
            False
            """
            if n > 9:
                return None
            return n % 2 == 0
        ''',
    )
    finding = one(result)
    assert finding.details["property"] == "return-type" and finding.input == "is_even(10)"
    assert "docstring examples" in finding.message


def test_resource_limit_errors_in_new_code_are_warnings(tmp_path: Path) -> None:
    result, _ = run_check(
        tmp_path,
        """
        def depth(n: int) -> int:
            return 0 if n == 0 else 1 + depth(n - 1)
        """,
    )
    finding = one(result)
    assert finding.kind is Kind.CRASH and "RecursionError" in finding.message
    assert finding.level is Severity.WARNING


def test_hang_on_a_docstring_example_is_an_error(tmp_path: Path) -> None:
    result, _ = run_check(
        tmp_path,
        '''
        def settle(n):
            """>>> settle(3)
            3
            """
            while n > 2:
                pass
            return n
        ''',
    )
    finding = one(result)
    assert finding.kind is Kind.TIMEOUT and finding.input == "settle(3)"
    assert finding.level is Severity.ERROR and finding.details["from_example"] is True


def test_generators_are_consumed(tmp_path: Path) -> None:
    result, _ = run_check(
        tmp_path,
        """
        def inverses(xs: list[int]):
            for x in xs:
                yield 1 / x
        """,
    )
    finding = one(result)
    assert finding.kind is Kind.CRASH and finding.input == "inverses([0])"


def test_traceback_paths_are_repository_paths_so_sarif_links_them(tmp_path: Path) -> None:
    """A file in a subfolder: the traceback names `pkg/stats.py`, and SARIF relates its lines."""
    from codegrad.model import Evidence, Outcome
    from codegrad.render import sarif

    head = tmp_path / "head"
    (head / "pkg").mkdir(parents=True)
    text = "def mean(xs: list[int]) -> float:\n    total = sum(xs)\n    return total / len(xs)\n"
    (head / "pkg" / "stats.py").write_text(text)
    targets = changes.all_functions("pkg/stats.py", text)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    ctx = CheckContext(
        settings=FAST,
        workspace=Workspace(head_root=head),
        scratch=scratch,
        deadline=time.monotonic() + 120,
    )
    result = PropertiesCheck().run(targets, ctx)
    finding = one(result)
    assert finding.traceback[-1] == "pkg/stats.py:3: return total / len(xs)"
    outcome = Outcome(
        base=None, head="h", targets=tuple(targets), evidence=Evidence(tuple(targets), (result,))
    )
    [entry] = sarif.to_dict(outcome)["runs"][0]["results"]
    [related] = entry["relatedLocations"]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "pkg/stats.py"
    assert related["physicalLocation"]["region"]["startLine"] == 3
