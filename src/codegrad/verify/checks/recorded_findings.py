"""Findings of the recorded check, with severities that respect what the project intended (pure).

On an input the project's tests use (or one grown from them), base and head differ:
- head raises an exception it does not raise on purpose where base returned a value: a new crash,
  an error on a recorded input, a warning on a grown one (it may lie outside the domain);
- base rejected the input on purpose (its own `raise`) and head now returns a value: a note, unless
  a test of base checked that rejection and head no longer has that test: then a warning (the
  validation and the test that guarded it went away together);
- head returns another value, or leaves an argument (`self` included) differently: a note, unless
  the call came from a test of base that head no longer has: then a warning (the PR removed the
  test that pinned this input's result, and the result changed). A test head still has, edited or
  not, speaks for head's behaviour: a note.
"""

from __future__ import annotations

from typing import Any

from codegrad.model import Finding, Kind, Severity, Target
from codegrad.verify import recorded_reproducer, reproducer
from codegrad.verify.checks.properties import fault_line, raised_types

NAME = "recorded"


def new_crash(target: Target, base: dict[str, Any], head: dict[str, Any]) -> bool:
    """Head raises an exception it does not raise on purpose where base returned a value."""
    raised = head.get("raised")
    if not raised or "raised" in base or base.get("timeout") or head.get("timeout"):
        return False
    return str(raised) not in set(raised_types(target.source)) and raised != "AssertionError"


def dropped_rejection(target: Target, base: dict[str, Any], head: dict[str, Any]) -> bool:
    """Base raised on purpose and head returns a value."""
    raised = base.get("raised")
    on_purpose = set(raised_types(target.base_source or ""))
    return bool(raised) and str(raised) in on_purpose and "value" in head


def only_base_tests(failure: dict[str, Any]) -> bool:
    """The call came from a test of base that head no longer has (removed, not just edited)."""
    gone = failure.get("side") == "base" and bool(failure.get("test_gone"))
    return gone and not failure.get("grown")


def classify(target: Target, failure: dict[str, Any]) -> tuple[Kind, Severity, str]:
    """(kind, severity, what happened) for one differing call, by the rules above."""
    base, head = failure.get("base", {}), failure.get("head", {})
    grown = bool(failure.get("grown"))
    if new_crash(target, base, head):
        return Kind.CRASH, Severity.WARNING if grown else Severity.ERROR, "new crash"
    if dropped_rejection(target, base, head):
        checked = only_base_tests(failure) and failure.get("recorded_raised") == base.get("raised")
        return (
            Kind.BEHAVIOUR_CHANGE,
            Severity.WARNING if checked else Severity.NOTE,
            "base rejected this input on purpose"
            + (", as its tests checked," if checked else "")
            + " and head accepts it",
        )
    removed = only_base_tests(failure)
    what = "the arguments are left differently" if failure.get("mutated") else "behaviour changed"
    if removed:
        what += " on an input of a test the change removed"
    return Kind.BEHAVIOUR_CHANGE, Severity.WARNING if removed else Severity.NOTE, what


def origin(failure: dict[str, Any]) -> str:
    """Where the input came from, for the message."""
    if failure.get("grown"):
        return "an input grown from the calls the tests make"
    test = failure.get("test") or "a test"
    side = failure.get("side")
    if side == "base" and failure.get("test_gone"):
        return f"a call base's test {test} makes; head no longer has that test"
    if side == "base":
        return f"a call base's test {test} makes"
    if side == "both":
        return f"a call the test {test} makes on base and head"
    return f"a call head's test {test} makes"


def _mutation_text(failure: dict[str, Any]) -> str:
    mutated = failure.get("mutated") or {}
    return f"; afterwards the argument is {mutated.get('head')} (base {mutated.get('base')})"


def recorded_finding(target: Target, failure: dict[str, Any]) -> Finding:
    """One differing recorded (or grown) call as a Finding with a reproducer that pins base."""
    base, head = failure.get("base", {}), failure.get("head", {})
    kind, severity, what = classify(target, failure)
    base_text, head_text = reproducer.outcome_text(base), reproducer.outcome_text(head)
    where = origin(failure)
    message = f"{what}: {failure['input']} {head_text}, where base {base_text} ({where})"
    if failure.get("mutated"):
        message += _mutation_text(failure)
    subject = reproducer.Subject(target.path, target.qualname, target.kind, target.is_async)
    repro = failure.get("repro")
    test = (
        recorded_reproducer.replayed_test(subject, repro, base, head, f"found by codegrad: {where}")
        if isinstance(repro, dict)
        else None
    )
    frames = tuple(failure.get("traceback", []))
    return Finding(
        path=target.path,
        function=target.qualname,
        line=fault_line(target, frames),
        check=NAME,
        kind=kind,
        severity=severity,
        message=message,
        input=failure["input"],
        expected=base_text,
        actual=head_text,
        traceback=frames,
        reproduces=bool(failure.get("reproduces")),
        base_fails_same=False,
        reproducer=test,
        details={
            "base": base,
            "head": head,
            "test": failure.get("test"),
            "side": failure.get("side"),
            "grown": bool(failure.get("grown")),
            "reached_changed_lines": failure.get("reached"),
            "mutated": failure.get("mutated"),
        },
    )
