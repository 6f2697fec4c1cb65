"""Behaviour changes graded by what the change shows it intends (verify.intent)."""

from __future__ import annotations

import textwrap
from typing import Any

from builders import make_finding, make_target
from codegrad.model import CheckResult, Evidence, Kind, Severity, Target
from codegrad.verify import intent
from codegrad.verify.checks import recorded

HEAD = textwrap.dedent(
    '''
    def size(n):
        """Human size.

        >>> size(10)
        '10B'
        """
        if n < 0:
            raise ValueError("negative")
        return f"{n}B"
    '''
).strip()
BASE = textwrap.dedent(
    '''
    def size(n):
        """Human size.

        >>> size(10)
        '10B'
        >>> size(1024)
        '1K'
        """
        if n < 0:
            raise ValueError("negative")
        if n >= 1024:
            return f"{n // 1024}K"
        return f"{n}B"
    '''
).strip()


def size_target(head: str = HEAD) -> Target:
    return make_target("size", source=head, base_source=BASE, docstring=_doc(head))


def _doc(source: str) -> str:
    import ast

    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef)
    return ast.get_docstring(node) or ""


def change(
    target: Target, base: dict[str, Any], head: dict[str, Any], source: str = "a generated input"
) -> Any:
    return make_finding(
        target,
        check="differential",
        kind=Kind.BEHAVIOUR_CHANGE,
        message="behaviour changed",
        details={"base": base, "head": head, "source": source},
    )


def recorded_result(target: Target, *, shown: int | None, skipped: str = "") -> CheckResult:
    if skipped:
        return CheckResult(check=recorded.NAME, skipped={target.key: skipped})
    return CheckResult(
        check=recorded.NAME, checked=(target.key,), stats={recorded.SHOWN_STAT: {target.key: shown}}
    )


def graded(target: Target, finding: Any, *results: CheckResult) -> Any:
    found = CheckResult(check="differential", findings=(finding,), checked=(target.key,))
    evidence = intent.grade(Evidence(targets=(target,), results=(found, *results)))
    (out,) = evidence.findings
    return out


def test_a_changed_result_no_test_of_head_shows_is_a_warning() -> None:
    target = size_target()
    finding = change(target, {"value": "'1K'"}, {"value": "'1024B'"})
    out = graded(target, finding, recorded_result(target, shown=0))
    assert out.level is Severity.WARNING
    assert "none of head's tests or docstring examples shows the new behaviour" in out.message
    # no test calls it at all, or none reached the change: the same
    for why in (recorded.NO_CALLS, "none of 3 recorded call(s) (3 in the domain) and ..."):
        skipped = recorded_result(target, shown=None, skipped=why)
        assert graded(target, finding, skipped).level is Severity.WARNING


def test_a_change_head_tests_exercise_stays_a_note() -> None:
    target = size_target()
    finding = change(target, {"value": "'1K'"}, {"value": "'1024B'"})
    assert graded(target, finding, recorded_result(target, shown=2)).level is Severity.NOTE


def test_without_the_recorded_check_there_is_no_telling() -> None:
    target = size_target()
    finding = change(target, {"value": "'1K'"}, {"value": "'1024B'"})
    assert graded(target, finding).level is Severity.NOTE
    # the recorded check could not look (e.g. not pytest): unknown too
    blind = recorded_result(target, shown=None, skipped="the test command is not pytest")
    assert graded(target, finding, blind).level is Severity.NOTE


def test_a_new_docstring_example_shows_intent() -> None:
    documented = HEAD.replace("'10B'\n", "'10B'\n    >>> size(1024)\n    '1024B'\n")
    target = size_target(documented)
    assert intent.examples_added(target)
    finding = change(target, {"value": "'1K'"}, {"value": "'1024B'"}, source=intent.BASE_EXAMPLE)
    assert graded(target, finding, recorded_result(target, shown=0)).level is Severity.NOTE


def test_a_removed_example_whose_result_changed_is_a_warning_even_when_tests_show_changes() -> None:
    target = size_target()
    assert not intent.examples_added(target)
    finding = change(target, {"value": "'1K'"}, {"value": "'1024B'"}, source=intent.BASE_EXAMPLE)
    out = graded(target, finding, recorded_result(target, shown=5))
    assert out.level is Severity.WARNING
    assert "removed the docstring example" in out.message


def test_an_accidental_error_where_base_rejected_on_purpose_is_a_warning() -> None:
    target = size_target()
    base = {"raised": "ValueError", "message": "negative"}
    finding = change(target, base, {"raised": "ZeroDivisionError", "message": "division by zero"})
    out = graded(target, finding, recorded_result(target, shown=3))
    assert out.level is Severity.WARNING and "ZeroDivisionError" in out.message
    # head rejecting with its own exception instead is a changed rejection, tested: a note
    own = change(target, base, {"raised": "ValueError", "message": "too small"})
    assert graded(target, own, recorded_result(target, shown=3)).level is Severity.NOTE


def test_crashes_and_graded_findings_keep_their_severity() -> None:
    target = size_target()
    crash = make_finding(target, check="differential", kind=Kind.CRASH, severity=Severity.ERROR)
    assert graded(target, crash, recorded_result(target, shown=0)).level is Severity.ERROR
    other = make_finding(
        target, check="docstrings", kind=Kind.BEHAVIOUR_CHANGE, details={"base": {}, "head": {}}
    )
    found = CheckResult(check="docstrings", findings=(other,), checked=(target.key,))
    evidence = intent.grade(
        Evidence(targets=(target,), results=(found, recorded_result(target, shown=0)))
    )
    assert evidence.findings[0].level is other.level
