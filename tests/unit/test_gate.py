"""The verification gate's rule (refine.judge): the loss must drop and nothing that passed may fail."""

from __future__ import annotations

from builders import make_finding, make_target
from codegrad.model import Finding, Kind, Severity
from codegrad.refine import loop as refine


def finding(check: str, kind: Kind, input_: str, **extra: object) -> Finding:
    message = f"{check} {kind.value} on {input_}"
    return make_finding(TARGET, check=check, kind=kind, message=message, input=input_, **extra)


TARGET = make_target("f", "m.py")


CRASH_1 = finding("docstrings", Kind.CRASH, "f(1)")
CRASH_2 = finding("docstrings", Kind.CRASH, "f(2)")
WRONG_1 = finding("docstrings", Kind.BUG, "f(1)", expected="1", actual="2")
WRONG_3 = finding("docstrings", Kind.BUG, "f(3)", expected="3", actual="4")


def test_a_crash_turned_into_a_wrong_value_on_the_same_example_is_progress() -> None:
    assert refine.judge([CRASH_1, CRASH_2], [WRONG_1]) == (True, "accepted")


def test_a_failure_on_an_example_that_passed_before_is_rejected() -> None:
    accepted, why = refine.judge([CRASH_1, CRASH_2], [WRONG_3])
    assert not accepted and why.startswith("new failure (docstrings/bug)")


def test_the_loss_must_strictly_drop() -> None:
    accepted, why = refine.judge([CRASH_1], [WRONG_1])
    assert not accepted and "loss did not decrease (1 -> 1)" in why


def test_property_failures_are_told_apart_by_kind_and_property() -> None:
    crash = finding("properties", Kind.CRASH, "f(x=0)", details={"property": "no-crash"})
    moved = finding("properties", Kind.CRASH, "f(x=-1)", details={"property": "no-crash"})
    typed = finding("properties", Kind.BUG, "f(x=0)", details={"property": "return-type"})
    assert refine.judge([crash, CRASH_1], [moved])[0]  # the counterexample may move
    assert not refine.judge([crash, CRASH_1], [typed])[0]
    assert refine.gate_key(typed) != refine.gate_key(crash)


def test_levels_weigh_the_loss() -> None:
    note = finding("differential", Kind.BEHAVIOUR_CHANGE, "f(5)", severity=Severity.NOTE)
    assert refine.judge([CRASH_1, note], [note])[0]
