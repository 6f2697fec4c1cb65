"""Grade behaviour changes by what the change shows it intended (pure).

A behaviour change is a note while the pull request shows that it means it: one of head's tests
makes a call whose result changed (the recorded check replays those calls), or head's docstring
gains an example base lacks. Without such a sign the change is a warning, whoever found it:
- a result that base's docstring example documented, and the change removed that example;
- head fails by accident (an exception its code does not raise on purpose) where base rejected the
  input on purpose: the validation gave way to a crash;
- any other changed result, or a rejection that head no longer makes, when the recorded check ran
  and none of head's tests shows a changed result (the tests do not call the function, or their
  calls behave as before). When the recorded check did not run there is no telling: a note.
Crashes, and findings of other checks, keep the severity their check gave.
"""

from __future__ import annotations

import ast
from dataclasses import replace

from codegrad.funcsource import parse_def
from codegrad.model import CheckResult, Evidence, Finding, Kind, Severity, Target
from codegrad.runners.differential import BASE_EXAMPLE
from codegrad.verify.checks import recorded as recorded_check
from codegrad.verify.checks.properties import raised_types
from codegrad.verify.inputs.example_args import example_calls

GRADED_CHECKS = ("differential", "recorded")


def grade(evidence: Evidence) -> Evidence:
    """The evidence with each ungraded behaviour change raised to a warning where nothing in the
    change shows that it is intended (the module docstring has the rules)."""
    recorded = next(
        (r for r in evidence.results if r.check == recorded_check.RecordedCheck.name), None
    )
    by_place = {(t.path, t.qualname): t for t in evidence.targets}
    results = tuple(
        replace(r, findings=tuple(_graded(f, by_place, recorded) for f in r.findings))
        if r.check in GRADED_CHECKS
        else r
        for r in evidence.results
    )
    return replace(evidence, results=results)


def _graded(
    finding: Finding, by_place: dict[tuple[str, str], Target], recorded: CheckResult | None
) -> Finding:
    target = by_place.get((finding.path, finding.function))  # as Evidence.for_target matches
    if (
        target is None
        or finding.kind is not Kind.BEHAVIOUR_CHANGE
        or finding.level is not Severity.NOTE
    ):
        return finding
    why = reason(finding, target, recorded)
    if why is None:
        return finding
    return replace(finding, severity=Severity.WARNING, message=f"{finding.message}; {why}")


def reason(finding: Finding, target: Target, recorded: CheckResult | None) -> str | None:
    """Why this behaviour change is a warning (None: it stays a note)."""
    base, head = finding.details.get("base") or {}, finding.details.get("head") or {}
    documented = examples_added(target)
    if finding.details.get("source") == BASE_EXAMPLE and not documented:
        return "the change removed the docstring example that documented base's result"
    if accidental(target, base, head):
        return (
            f"head fails with {head.get('raised')}, which its code does not raise on purpose, "
            f"where base rejected the input with its own {base.get('raised')}"
        )
    if documented:
        return None
    tested = tests_show(target, recorded)
    if tested is None or tested:
        return None
    return (
        "none of head's tests or docstring examples shows the new behaviour: "
        "confirm it is intended and add a test"
    )


def accidental(target: Target, base: dict[str, object], head: dict[str, object]) -> bool:
    """Base raised an exception of its own and head raises one its code does not raise."""
    base_raised, head_raised = base.get("raised"), head.get("raised")
    if not base_raised or not head_raised or base.get("timeout") or head.get("timeout"):
        return False
    on_purpose_base = set(raised_types(target.base_source or ""))
    on_purpose_head = set(raised_types(target.source)) | {"AssertionError"}
    return str(base_raised) in on_purpose_base and str(head_raised) not in on_purpose_head


def examples_added(target: Target) -> bool:
    """Head's docstring has an example call (with its result) that base's docstring lacks."""
    name = target.qualname.rsplit(".", 1)[-1]
    node = parse_def(target.base_source or "")
    base_doc = ast.get_docstring(node) if node is not None else None
    head_calls = {(call, expected) for call, expected, _ in example_calls(target.docstring, name)}
    base_calls = {(call, expected) for call, expected, _ in example_calls(base_doc, name)}
    return bool(head_calls - base_calls)


def tests_show(target: Target, recorded: CheckResult | None) -> bool | None:
    """Whether one of head's tests makes a call whose result changed (None: unknown, the recorded
    check did not look at this function)."""
    if recorded is None:
        return None
    shown = recorded.stats.get(recorded_check.SHOWN_STAT) or {}
    if target.key in recorded.checked or target.key in shown:
        return bool(shown.get(target.key))
    why = recorded.skipped.get(target.key, "")
    if why in (recorded_check.NO_CALLS, recorded_check.NO_TESTS) or why.startswith(
        recorded_check.NONE_REACHED
    ):  # no test calls it, or no call reached the change
        return False
    return None
