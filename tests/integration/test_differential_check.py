"""The differential check end to end: base and head trees in tmp dirs, the real sandboxed runner."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

from codegrad.diff import changes
from codegrad.model import CheckResult, Finding, Kind, Severity, Workspace
from codegrad.settings import Settings
from codegrad.verify.checks.base import CheckContext
from codegrad.verify.checks.differential import DifferentialCheck

FAST = Settings(function_timeout=6.0, call_timeout=0.3, max_examples=60)


def changed_lines(base: str, head: str) -> list[int]:
    """Head's line numbers that a diff of base -> head adds or replaces (1-based)."""
    matcher = difflib.SequenceMatcher(a=base.splitlines(), b=head.splitlines(), autojunk=False)
    out: list[int] = []
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            out += range(j1 + 1, j2 + 1)
        elif tag == "delete":
            out.append(max(j1, 1))
    return out


def run_check(tmp_path: Path, base: str, head: str, settings: Settings = FAST) -> CheckResult:
    texts = {}
    for side, source in (("base", base), ("head", head)):
        (tmp_path / side).mkdir(parents=True)
        texts[side] = textwrap.dedent(source)
        (tmp_path / side / "mod.py").write_text(texts[side])
    old = {t.qualname: t for t in changes.all_functions("mod.py", texts["base"])}
    changed = changed_lines(texts["base"], texts["head"])
    targets = [
        replace(
            t,
            base_path="mod.py",
            base_source=old[t.qualname].source,
            changed_lines=tuple(n for n in changed if t.lineno <= n <= t.end_lineno),
        )
        for t in changes.all_functions("mod.py", texts["head"])
        if t.qualname in old
    ]
    (tmp_path / "scratch").mkdir()
    ctx = CheckContext(
        settings=settings,
        workspace=Workspace(head_root=tmp_path / "head", base_root=tmp_path / "base"),
        scratch=tmp_path / "scratch",
        deadline=time.monotonic() + 120,
    )
    return DifferentialCheck().run(targets, ctx)


def one(result: CheckResult) -> Finding:
    assert len(result.findings) == 1, [f.message for f in result.findings]
    return result.findings[0]


def test_behaviour_change_is_found_with_both_results_and_a_minimal_input(tmp_path: Path) -> None:
    result = run_check(
        tmp_path,
        """
        def magnitude(x: int) -> int:
            return abs(x)
        """,
        """
        def magnitude(x: int) -> int:
            return x
        """,
    )
    finding = one(result)
    assert finding.kind is Kind.BEHAVIOUR_CHANGE and finding.level is Severity.NOTE
    assert finding.input == "magnitude(-1)"
    assert finding.expected == "returned 1" and finding.actual == "returned -1"
    assert finding.details["base"]["value"] == "1" and finding.details["head"]["value"] == "-1"
    assert finding.reproduces is True and finding.base_fails_same is False
    assert finding.reproducer is not None and "assert magnitude(-1) == 1" in finding.reproducer
    compile(finding.reproducer, "test_repro.py", "exec")


def test_docstring_examples_are_tried_first(tmp_path: Path) -> None:
    doc = '''"""Twice n.
            >>> twice(21)
            42
            """'''
    result = run_check(
        tmp_path,
        f"""
        def twice(n):
            {doc}
            return n * 2
        """,
        f"""
        def twice(n):
            {doc}
            return n ** 2
        """,
    )
    finding = one(result)
    assert finding.input == "twice(21)" and finding.details["from_example"] is True
    assert "docstring example" in finding.message and "441" in finding.message


def test_same_behaviour_gives_no_finding(tmp_path: Path) -> None:
    result = run_check(
        tmp_path,
        """
        def total(xs: list[int]) -> int:
            out = 0
            for x in xs:
                out += x
            return out

        def head(xs: list[int]) -> int:
            return xs[0]
        """,
        """
        def total(xs: list[int]) -> int:
            return sum(xs)

        def head(xs: list[int]) -> int:
            return next(iter(xs))
        """,
    )
    # head([]) raises IndexError on base and StopIteration on head, but base crashing means the
    # input is outside the domain, so only genuine in-domain differences would count.
    assert result.findings == ()
    assert set(result.checked) == {"mod.py::total", "mod.py::head"}
    assert result.stats["out_of_domain"] >= 1


def test_inputs_base_rejects_the_same_way_are_not_differences(tmp_path: Path) -> None:
    result = run_check(
        tmp_path,
        """
        def ratio(a: int, b: int) -> float:
            if b == 0:
                raise ValueError("b must not be zero")
            return a / b
        """,
        """
        def ratio(a: int, b: int) -> float:
            if not b:
                raise ValueError("zero divisor")
            return a / b
        """,
    )
    assert result.findings == ()


def test_removed_validation_is_a_behaviour_change(tmp_path: Path) -> None:
    result = run_check(
        tmp_path,
        """
        def ratio(a: int, b: int) -> float:
            if b == 0:
                raise ValueError("b must not be zero")
            return a / b
        """,
        """
        def ratio(a: int, b: int) -> float:
            return a / b if b else 0.0
        """,
    )
    finding = one(result)
    assert finding.input == "ratio(0, 0)"
    assert (
        finding.expected == "raised ValueError: b must not be zero"
        and finding.actual == "returned 0.0"
    )
    assert (
        finding.reproducer is not None and "with pytest.raises(ValueError):" in finding.reproducer
    )


def test_new_exception_in_head_is_reported_with_its_traceback(tmp_path: Path) -> None:
    result = run_check(
        tmp_path,
        """
        def last(xs: list[int]) -> int:
            return xs[-1] if xs else 0
        """,
        """
        def last(xs: list[int]) -> int:
            return xs[-1]
        """,
    )
    finding = one(result)
    assert (
        finding.input == "last([])"
        and finding.actual is not None
        and finding.actual.startswith("raised IndexError")
    )
    assert finding.traceback and "return xs[-1]" in finding.traceback[-1]


def test_new_functions_and_missing_base_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "head").mkdir()
    (tmp_path / "head" / "mod.py").write_text("def f(n: int) -> int:\n    return n\n")
    (tmp_path / "scratch").mkdir()
    targets = changes.all_functions("mod.py", "def f(n: int) -> int:\n    return n\n")
    ctx = CheckContext(
        FAST, Workspace(head_root=tmp_path / "head"), tmp_path / "scratch", time.monotonic() + 60
    )
    result = DifferentialCheck().run(targets, ctx)
    assert result.findings == () and "no base" in result.skipped["mod.py::f"]


def test_head_that_hangs_is_a_difference(tmp_path: Path) -> None:
    result = run_check(
        tmp_path,
        """
        def countdown(n: int) -> int:
            while n > 0:
                n -= 1
            return n
        """,
        """
        def countdown(n: int) -> int:
            while n != 0:
                n -= 1
            return n
        """,
    )
    finding = one(result)
    assert finding.actual == "did not finish in time" and finding.input == "countdown(-1)"


def test_changed_signature_is_skipped_with_a_reason(tmp_path: Path) -> None:
    result = run_check(
        tmp_path,
        """
        def scale(x: int) -> int:
            return 2 * x
        """,
        """
        def scale(x: int, factor: int = 2) -> int:
            return factor * x
        """,
    )
    assert result.findings == ()
    assert "(x) -> (x, factor)" in result.skipped["mod.py::scale"]


def test_new_crash_where_base_handled_the_input_is_an_error(tmp_path: Path) -> None:
    result = run_check(
        tmp_path,
        """
        def average(values: list[float]) -> float:
            if not values:
                return 0.0
            return sum(values) / len(values)
        """,
        """
        def average(values: list[float]) -> float:
            return sum(values) / len(values)
        """,
    )
    finding = one(result)
    assert finding.kind is Kind.CRASH and finding.level is Severity.ERROR
    assert finding.input == "average([])"
    assert "ZeroDivisionError" in (finding.actual or "") and finding.expected == "returned 0.0"


def test_new_exception_raised_on_purpose_stays_a_behaviour_change(tmp_path: Path) -> None:
    result = run_check(
        tmp_path,
        """
        def average(values: list[float]) -> float:
            if not values:
                return 0.0
            return sum(values) / len(values)
        """,
        """
        def average(values: list[float]) -> float:
            if not values:
                raise ValueError("no values")
            return sum(values) / len(values)
        """,
    )
    finding = one(result)
    assert finding.kind is Kind.BEHAVIOUR_CHANGE and finding.level is Severity.NOTE


def test_an_example_the_change_removed_from_the_docstring_is_still_tried(tmp_path: Path) -> None:
    result = run_check(
        tmp_path,
        '''
        def initials(name):
            """First letters, upper-cased.

            >>> initials("ada lovelace")
            'AL'
            >>> initials("")
            ''
            """
            return "".join(word[0] for word in name.split()).upper()
        ''',
        '''
        def initials(name):
            """First letters, upper-cased.

            >>> initials("ada lovelace")
            'AL'
            """
            return name.split()[0][0].upper() + "".join(w[0] for w in name.split()[1:]).upper()
        ''',
    )
    finding = one(result)
    assert finding.kind is Kind.CRASH and finding.level is Severity.ERROR  # a documented input
    assert finding.input == "initials('')"
    assert "a docstring example of base" in finding.message


def test_a_none_default_is_also_tried_with_other_values(tmp_path: Path) -> None:
    result = run_check(
        tmp_path,
        """
        def first(items: list[int], n=None):
            if n is None:
                n = 1
            return items[:n]
        """,
        """
        def first(items: list[int], n=None):
            if not n:
                n = 1
            return items[:n]
        """,
    )
    finding = one(result)
    assert finding.kind is Kind.BEHAVIOUR_CHANGE and finding.level is Severity.NOTE
    assert finding.input is not None and finding.input.endswith(", 0)")
    assert finding.expected == "returned []"


def test_checked_means_an_input_inside_the_domain_reached_the_changed_lines(tmp_path: Path) -> None:
    result = run_check(
        tmp_path,
        """
        def ratio(a: int, b: int) -> float:
            if b == 0:
                raise ValueError("b must not be 0")
            if a > 10**9:
                return 1.0
            return a / b
        """,
        """
        def ratio(a: int, b: int) -> float:
            if b == 0:
                raise ValueError("b must not be 0")
            if a > 10**9:
                return 2.0
            return a / b
        """,
    )
    assert result.findings == ()
    assert "mod.py::ratio" not in result.checked
    assert result.skipped["mod.py::ratio"].startswith("none of the ")
    assert result.skipped["mod.py::ratio"].endswith("reached the changed lines")


RESULTS = '''
from dataclasses import dataclass


class Parsed:
    """A result object without __eq__: == is identity, so two calls never agree by ==."""

    def __init__(self, ok, value, notes=()):
        self.ok, self.value, self.notes = ok, value, list(notes)


@dataclass
class Stats:
    count: int
    mean: float


def parse(n: int):
    if n < 0:
        return Parsed(False, None, ["negative"])
    return Parsed(True, n * 2)


def stats(n: int):
    return Stats(n, n / 3)


def steps(n: int):
    for i in range(abs(n) % 4):
        yield Parsed(True, i)
'''


def test_results_without_eq_are_compared_by_structure_and_refactors_are_clean(
    tmp_path: Path,
) -> None:
    refactor = RESULTS.replace(
        "return Parsed(True, n * 2)", "doubled = n + n\n    return Parsed(True, doubled)"
    )
    refactor = refactor.replace("return Stats(n, n / 3)", "return Stats(count=n, mean=n * (1 / 3))")
    refactor = refactor.replace(
        "    for i in range(abs(n) % 4):\n        yield Parsed(True, i)",
        "    return iter([Parsed(True, i) for i in range(abs(n) % 4)])",
    )
    result = run_check(tmp_path, RESULTS, refactor)
    assert result.findings == (), [f.message for f in result.findings]
    assert set(result.checked) == {"mod.py::parse", "mod.py::stats", "mod.py::steps"}
    # base agrees with itself on every input: none is dropped as "nondeterministic"
    assert result.stats["out_of_domain"] == 0 and result.stats["calls"] >= 3


def run_pytest(test: str, root: Path) -> subprocess.CompletedProcess[str]:
    (root / "test_repro.py").write_text(test, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_repro.py"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_changed_result_object_is_reported_without_addresses_and_reproduced(
    tmp_path: Path,
) -> None:
    head = RESULTS.replace('["negative"]', '["below zero"]').replace(
        "yield Parsed(True, i)", "yield Parsed(True, i + (i == 1))"
    )
    result = run_check(tmp_path, RESULTS, head)
    found = {f.function: f for f in result.findings}
    assert set(found) == {"parse", "steps"}, [f.message for f in result.findings]
    parse = found["parse"]
    assert parse.kind is Kind.BEHAVIOUR_CHANGE and parse.input == "parse(-1)"
    assert parse.expected == "returned Parsed(ok=False, value=None, notes=['negative'])"
    assert parse.actual == "returned Parsed(ok=False, value=None, notes=['below zero'])"
    steps = found["steps"]
    assert steps.input == "steps(2)"
    shown = "<generator yielding [Parsed(ok=True, value=0, notes=[]), Parsed(ok=True, value=1, notes=[])]>"
    assert steps.expected == f"returned {shown}"
    for finding in (parse, steps):
        assert "0x" not in finding.message and "0x" not in str(finding.details)
        assert finding.reproducer is not None
        on_base = run_pytest(finding.reproducer, tmp_path / "base")
        assert on_base.returncode == 0, on_base.stdout + on_base.stderr
        on_head = run_pytest(finding.reproducer, tmp_path / "head")
        assert on_head.returncode == 1 and "1 failed" in on_head.stdout, on_head.stdout


def test_a_list_argument_of_an_example_is_also_passed_as_a_one_shot_iterator(
    tmp_path: Path,
) -> None:
    # `len(element)` after `tuple(element)` breaks only on an iterator (more-itertools cf186b5)
    body = '''
        def index_of(element, *pools):
            """
            >>> index_of([2, 1], range(3), range(2))
            5
            """
            elements = tuple(element)
            if len({check}) != len(pools):
                raise ValueError("element is not a product of pools")
            index = 0
            for elem, pool in zip(elements, pools):
                index = index * len(pool) + list(pool).index(elem)
            return index
        '''
    result = run_check(tmp_path, body.format(check="elements"), body.format(check="element"))
    finding = one(result)
    assert finding.kind is Kind.CRASH
    assert finding.input == "index_of(iter([2, 1]), [0, 1, 2], [0, 1])"  # range(3) as its list
    assert "has no len()" in finding.actual and finding.expected == "returned 5"
    # derived from an example, not the example itself: a warning, not an error
    assert finding.level is Severity.WARNING
    assert finding.reproduces


def test_a_difference_where_base_returned_is_preferred_to_a_smaller_changed_rejection(
    tmp_path: Path,
) -> None:
    # the smallest differing input is a changed rejection (n < 0); the one that matters is n == 5
    result = run_check(
        tmp_path,
        """
        def level(n: int) -> str:
            if n < 0:
                raise ValueError("negative")
            return "high" if n > 5 else "low"
        """,
        """
        def level(n: int) -> str:
            if n < 0:
                raise ValueError("below zero")
            return "high" if n >= 5 else "low"
        """,
    )
    finding = one(result)
    assert finding.input == "level(5)"
    assert finding.expected == "returned 'low'" and finding.actual == "returned 'high'"


def test_a_reverted_boundary_is_found_from_the_constant_base_had(tmp_path: Path) -> None:
    # the fix's `endswith('ss')` exists only on base's side of the diff (boltons 1e61524)
    result = run_check(
        tmp_path,
        """
        def singular(word: str) -> str:
            if len(word) < 3 or not word.endswith("s"):
                return word
            if word.endswith("ss"):
                return word
            return word[:-1]
        """,
        """
        def singular(word: str) -> str:
            if len(word) < 3 or not word.endswith("s"):
                return word
            return word[:-1]
        """,
    )
    finding = one(result)
    assert finding.kind is Kind.BEHAVIOUR_CHANGE
    word = finding.input.removeprefix("singular(").removesuffix(")")
    assert word.endswith("ss'") and finding.expected == f"returned {word}"


def test_a_method_of_a_class_with_constructor_arguments_runs_on_documented_instances(
    tmp_path: Path,
) -> None:
    # the empty range is one argument away from the documented `Span(0, 3)` (more-itertools edb3346)
    head_last = "return [*range(self.start, self.stop)][-1]"
    base_last = "return self.stop - 1 if self.stop > self.start else None"
    body = """
class Span:
    \"\"\"Integers from start up to stop.

    >>> list(Span(0, 3))
    [0, 1, 2]
    \"\"\"

    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def last(self):
        LAST
"""
    result = run_check(tmp_path, body.replace("LAST", base_last), body.replace("LAST", head_last))
    finding = one(result)
    assert finding.function == "Span.last" and finding.kind is Kind.CRASH
    assert finding.input.startswith("Span(") and finding.input.endswith(").last()")
    assert "IndexError" in finding.actual and finding.expected == "returned None"
    assert finding.reproduces
    # without a documented constructor call the method is still skipped, with the reason
    bare = body.replace(">>> list(Span(0, 3))", "").replace("[0, 1, 2]", "")
    skipped = run_check(
        tmp_path / "undocumented", bare.replace("LAST", base_last), bare.replace("LAST", head_last)
    )
    assert "no no-argument constructor" in skipped.skipped["mod.py::Span.last"]


NATIVE_HANG = """
def total(n: int) -> int:
    if n > 3:
        return sum(range(10**13))  # one long call in C: the per-call alarm cannot stop it
    return {body}
"""


def test_a_hard_hang_of_base_too_is_not_a_change_but_one_of_head_only_is(tmp_path: Path) -> None:
    hard = replace(FAST, function_timeout=3.0)
    same = run_check(
        tmp_path / "both",
        NATIVE_HANG.format(body="n * 2"),
        NATIVE_HANG.format(body="n + n"),
        hard,
    )
    assert same.findings == ()
    assert "base itself hung" in same.skipped["mod.py::total"]
    head_only = run_check(
        tmp_path / "head",
        "def total(n: int) -> int:\n    return n * 2\n",
        NATIVE_HANG.format(body="n * 2"),
        hard,
    )
    finding = one(head_only)
    assert finding.kind is Kind.TIMEOUT and finding.level is Severity.WARNING


def test_a_function_of_the_global_random_is_compared_on_the_same_draws(tmp_path: Path) -> None:
    # toolz 77c044e: random_sample's refactor drew different numbers on base and head before
    result = run_check(
        tmp_path,
        """
        import random

        def sample(prob: float, items: list[int]) -> list[int]:
            return [x for x in items if random.random() < prob]
        """,
        """
        import random

        def sample(prob: float, items: list[int]) -> list[int]:
            return list(filter(lambda _: random.random() < prob, items))
        """,
    )
    assert result.findings == () and "mod.py::sample" in result.checked
    # every input is in the domain: none is dropped as "base is not deterministic"
    assert result.stats["out_of_domain"] == 0 and result.stats["calls"] > 20
    assert result.stats["unstable"] == 0


def test_inputs_on_which_base_is_not_deterministic_are_counted_and_dropped(tmp_path: Path) -> None:
    body = """
        _CALLS = [0]

        def stamp(x: int) -> int:
            _CALLS[0] += {step}
            return x + _CALLS[0]
        """
    # head counts in twos: every input differs, and base never gives the same result twice
    result = run_check(tmp_path, body.format(step=1), body.format(step=2))
    assert result.findings == ()
    assert (
        result.stats["unstable"] > 0 and result.stats["unstable"] <= result.stats["out_of_domain"]
    )
