"""llm-checks sandbox side: the results at the input found, on the cases, on the examples."""

from __future__ import annotations

from typing import Any

from codegrad.runners import hypo, values
from codegrad.runners.llm_search import Found, active, admitted, usable, vote
from codegrad.runners.llm_validation import Subject, agrees


def votes_report(subject: Subject, found: Found) -> list[dict[str, Any]]:
    """Every part's verdict at the input found, references grouped by equal results."""
    out: list[dict[str, Any]] = []
    groups: list[Any] = []
    for part in active(subject):
        v = vote(part, found.args, found.kwargs, found.head.value, subject.timeout)
        entry: dict[str, Any] = {
            "id": part.ident,
            "origin": part.origin,
            "kind": part.kind,
            "verdict": v.verdict,
            "status": part.status,
        }
        if v.value is not None and v.value.ok:
            entry["value"] = values.describe(v.value.value)
            entry["literal"] = v.value.describe().get("literal")
            entry["group"] = _group(groups, v.value.value)
        out.append(entry)
    return out


def _group(groups: list[Any], value: Any) -> int:
    for index, seen in enumerate(groups):
        if values.equivalent(seen, value):
            return index
    groups.append(value)
    return len(groups) - 1


def found_report(subject: Subject, found: Found) -> dict[str, Any]:
    base: dict[str, Any] | None = None
    if subject.base is not None:
        outcome = hypo.call(subject.base.fn, found.args, found.kwargs, subject.timeout)
        base = outcome.describe()
    return {
        "input": hypo.call_text(subject.head.label, found.args, found.kwargs),
        "args": [_literal(a) for a in found.args],
        "kwargs": [[k, _literal(v)] for k, v in found.kwargs.items()],
        "head": found.head.describe(),
        "base": base,
        "votes": votes_report(subject, found),
    }


def _literal(value: Any) -> str | None:
    return hypo.Outcome(value=value).describe().get("literal")


def run_cases(subject: Subject, proposal: dict[str, Any]) -> list[dict[str, Any]]:
    """Each proposed case on the target, on every validated reference, and on base."""
    out = []
    for index, case in enumerate(proposal.get("cases") or []):
        entry: dict[str, Any] = {"index": index}
        try:
            args = [hypo.literal(a) for a in case.get("args", [])]
            kwargs = {k: hypo.literal(v) for k, v in case.get("kwargs", [])}
            expected = hypo.literal(case["expected"])
        except (ValueError, SyntaxError, TypeError, KeyError, MemoryError, RecursionError):
            entry["status"] = "unusable"
            out.append(entry)
            continue
        if not admitted(subject, args, kwargs):
            entry["status"] = "out-of-domain"
            out.append(entry)
            continue
        entry["input"] = hypo.call_text(subject.head.label, args, kwargs)
        if subject.base is not None:
            base = hypo.call(subject.base.fn, args, kwargs, subject.timeout)
            entry["base"] = base.describe()
            entry["base_ok"] = base.ok and values.equivalent(base.value, expected)
            if not entry["base_ok"]:
                entry["status"] = "bad-base"  # base fails it as well: a bad test
                out.append(entry)
                continue
        head = hypo.call(subject.head.fn, args, kwargs, subject.timeout)
        entry["head"] = head.describe()
        entry["head_ok"] = head.ok and values.equivalent(head.value, expected)
        entry["status"] = "ok" if entry["head_ok"] else "fail"
        if not entry["head_ok"]:
            entry["references"] = _case_references(subject, args, kwargs, expected, head)
        out.append(entry)
    return out


def _case_references(
    subject: Subject, args: list[Any], kwargs: dict[str, Any], expected: Any, head: hypo.Outcome
) -> list[dict[str, Any]]:
    out = []
    for part in subject.parts:
        if part.kind != "reference" or not usable(part):
            continue
        own = hypo.call(part.fn, args, kwargs, subject.timeout)
        out.append(
            {
                "id": part.ident,
                "origin": part.origin,
                "status": part.status,
                "value": values.describe(own.value) if own.ok else None,
                "agrees_with_case": own.ok and values.equivalent(own.value, expected),
                "agrees_with_head": own.ok and head.ok and values.equivalent(own.value, head.value),
            }
        )
    return out


def failing_examples(subject: Subject) -> int:
    """How many of the docstring examples the docstrings check runs the target fails."""
    failures = 0
    for example in subject.examples:
        if example.raw.get("lenient"):
            continue
        head = hypo.call(subject.head.fn, example.args, example.kwargs, subject.timeout)
        failures += not agrees(example, head, subject.namespace, subject.timeout)
    return failures


def run_lenient(subject: Subject) -> list[dict[str, Any]]:
    """The target on the docstring's prose examples that the docstrings check does not run."""
    out = []
    for example in subject.examples:
        if not example.raw.get("lenient"):
            continue
        head = hypo.call(subject.head.fn, example.args, example.kwargs, subject.timeout)
        if agrees(example, head, subject.namespace, subject.timeout):
            continue
        entry: dict[str, Any] = {
            "call": example.call,
            "input": hypo.call_text(subject.head.label, example.args, example.kwargs),
            "expected": example.raw.get("expected"),
            "head": head.describe(),
        }
        if subject.base is not None:
            base = hypo.call(subject.base.fn, example.args, example.kwargs, subject.timeout)
            entry["base_ok"] = agrees(example, base, subject.namespace, subject.timeout)
        out.append(entry)
    return out
