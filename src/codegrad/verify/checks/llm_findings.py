"""llm-checks findings (pure): bugs and bad-test notes from a runner result; ask the next prompt?"""

from __future__ import annotations

import ast
from typing import Any

from codegrad.model import Finding, Kind, Severity, Target
from codegrad.verify.checks import llm_proposals as lp
from codegrad.verify.checks.docstrings import module_for_path
from codegrad.verify.checks.llm_plan import Asked
from codegrad.verify.checks.llm_verdicts import Verdict, judge_case, judge_found

NAME = "llm-checks"
MAX_CASE_FINDINGS = 3


def _short(text: Any, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _actual(outcome: dict[str, Any] | None) -> str:
    outcome = outcome or {}
    if "value" in outcome:
        return str(outcome["value"])
    if outcome.get("raised"):
        return f"{outcome['raised']}: {outcome.get('message', '')}"
    return "no result in time"


def reproducer(target: Target, call: str, expected: str | None, why: str) -> str | None:
    """A pytest test asserting the proposal's expected result, when that result is a literal."""
    if expected is None:
        return None
    test = (
        f'"""{why} (codegrad llm-checks); check the expected value before keeping it."""\n\n'
        f"from {module_for_path(target.path)} import {target.qualname.split('.')[0]}\n\n\n"
        f"def test_{target.qualname.replace('.', '_')}_llm_case():\n"
        f"    assert {call} == {expected}\n"
    )
    try:
        ast.parse(test)
    except SyntaxError:
        return None
    return test


def _origin_label(origin: str) -> str:
    return f"the {origin} prompt"


def found_finding(
    target: Target, result: dict[str, Any], verdict: Verdict, regression: bool
) -> Finding:
    found = result["found"]
    lead = verdict.failing[0]
    call = str(found["input"])
    actual = _actual(found.get("head"))
    if lead["kind"] == "reference":
        expected = str(lead.get("value"))
        what = f"the reference implementation proposed by {_origin_label(lead['origin'])} returns {_short(expected)}"
    else:
        expected = f"a result for which {lead['id'].rsplit(':', 1)[-1]} holds"
        what = f"the property {lead['id'].rsplit(':', 1)[-1]} proposed by {_origin_label(lead['origin'])} does not hold"
    assert verdict.severity is not None
    return Finding(
        path=target.path,
        function=target.qualname,
        line=target.lineno,
        check=NAME,
        kind=Kind.BUG,
        message=f"{call} returns {_short(actual)}, but {what} ({verdict.why})",
        severity=verdict.severity,
        input=call,
        expected=expected,
        actual=actual,
        reproduces=True,
        base_fails_same=False if regression else None,
        reproducer=reproducer(target, call, lead.get("literal"), verdict.why)
        if lead["kind"] == "reference"
        else None,
        details={
            "proposal": lead["origin"],
            "part": lead["id"],
            "votes": found.get("votes"),
            "corroboration": verdict.why,
            "property": f"llm:{lead['id']}",
        },
    )


def case_finding(
    target: Target,
    case: lp.Case,
    entry: dict[str, Any],
    origin: str,
    verdict: Verdict,
    regression: bool,
) -> Finding:
    call = case.call(target.qualname.split(".")[-1])
    actual = _actual(entry.get("head"))
    assert verdict.severity is not None
    return Finding(
        path=target.path,
        function=target.qualname,
        line=target.lineno,
        check=NAME,
        kind=Kind.BUG,
        message=(
            f"{call} returns {_short(actual)}, but the case proposed by {_origin_label(origin)} "
            f"expects {_short(case.expected)} ({verdict.why})"
        ),
        severity=verdict.severity,
        input=call,
        expected=case.expected,
        actual=actual,
        reproduces=True,
        base_fails_same=False if regression else None,
        reproducer=reproducer(target, call, case.expected, verdict.why),
        details={"proposal": origin, "part": f"{origin}:case", "corroboration": verdict.why},
    )


def lenient_finding(
    target: Target, entry: dict[str, Any], result: dict[str, Any], regression: bool
) -> Finding | None:
    """A prose example the docstrings check leaves alone (bare words as strings) that fails:
    an error when a validated reference, which reproduces every example, confirms the reading."""
    if regression and entry.get("base_ok") is False:
        return None  # base fails it too: the reading is doubtful
    confirmed = _references(result, ("valid",))
    actual = _actual(entry.get("head"))
    return Finding(
        path=target.path,
        function=target.qualname,
        line=target.lineno,
        check=NAME,
        kind=Kind.BUG,
        message=(
            f"docstring example {_short(entry['call'], 120)} (read as {_short(entry['input'], 120)}) "
            f"expects {_short(entry['expected'])}, got {_short(actual)}"
            + (
                "; an LLM reference implementation that reproduces every docstring example agrees"
                if confirmed
                else "; no validated reference confirms this reading of the docstring"
            )
        ),
        severity=Severity.ERROR if confirmed else Severity.WARNING,
        input=str(entry["input"]),
        expected=str(entry["expected"]),
        actual=actual,
        reproduces=True,
        base_fails_same=False if regression else None,
        reproducer=reproducer(
            target, str(entry["input"]), str(entry["expected"]), "docstring example"
        ),
        details={"proposal": "docstring", "part": "docstring:lenient-example"},
    )


def bad_tests(asked: Asked, result: dict[str, Any] | None) -> list[Finding]:
    """One Kind.BAD_TEST note per dropped proposal part: contradicted by a docstring example, or
    failing on base as well. Each message depends only on the proposal, the docstring and base,
    never on the head under review, so a candidate in the refinement loop sees the same notes."""
    target = asked.plan.target
    lines: list[tuple[str, str]] = []  # (part id, message)
    for proposal in (result or {}).get("proposals") or []:
        label = _origin_label(proposal["origin"])
        for part in proposal.get("parts") or []:
            what = f"the {part['kind']} {part['name']} proposed by {label}"
            if part.get("status") == "bad":
                lines.append(
                    (
                        part["id"],
                        f"{what} contradicts the docstring example "
                        f"{_short(part.get('example'), 120)} ({_short(part.get('detail'), 120)}): dropped",
                    )
                )
            elif part.get("status") == "bad-base":
                lines.append(
                    (
                        part["id"],
                        f"{what} fails on base as well "
                        f"({_short(part.get('base_input'), 120)}): dropped",
                    )
                )
        cases = asked.cases.get(proposal["origin"], [])
        for entry in proposal.get("cases") or []:
            if entry.get("status") == "bad-base" and int(entry["index"]) < len(cases):
                call = cases[int(entry["index"])].call(asked.plan.subject.name)
                lines.append(
                    (
                        f"{proposal['origin']}:case:{call}",
                        f"the case {_short(call, 120)} proposed by {label} fails on base as well "
                        f"(base gives {_short(_actual(entry.get('base')), 80)}): dropped",
                    )
                )
    for origin, case, call in asked.bad_cases:
        lines.append(
            (
                f"{origin}:case:{case.call(asked.plan.subject.name)}",
                f"the case {_short(case.call(asked.plan.subject.name), 120)} proposed by "
                f"{_origin_label(origin)} contradicts the docstring example {_short(call, 120)}: dropped",
            )
        )
    return [
        Finding(
            path=target.path,
            function=target.qualname,
            line=target.lineno,
            check=NAME,
            kind=Kind.BAD_TEST,
            message=message,
            details={"part": ident},
        )
        for ident, message in lines
    ]


def findings_for(
    asked: Asked, result: dict[str, Any] | None, regression: bool
) -> tuple[list[Finding], list[str]]:
    """The findings of one target from its final runner result, and what was dropped as
    uncorroborated or outvoted (for the check's stats) (pure)."""
    target = asked.plan.target
    out: list[Finding] = []
    dropped: list[str] = []
    seen_inputs: set[str] = set()
    if result and result.get("found"):
        verdict = judge_found(result, regression)
        if verdict.severity is not None:
            finding = found_finding(target, result, verdict, regression)
            out.append(finding)
            seen_inputs.add(finding.input or "")
        else:
            dropped.append(f"{_short(result['found']['input'], 120)}: {verdict.why}")
    for entry in (result or {}).get("lenient") or []:
        read = lenient_finding(target, entry, result or {}, regression)
        if read is not None and read.input not in seen_inputs:
            seen_inputs.add(read.input or "")
            out.append(read)
    by_origin = {p["origin"]: p for p in (result or {}).get("proposals") or []}
    case_findings = 0
    for origin, cases in asked.cases.items():
        for entry in (by_origin.get(origin) or {}).get("cases") or []:
            if entry.get("status") != "fail" or case_findings >= MAX_CASE_FINDINGS:
                continue
            case = cases[int(entry["index"])]
            verdict = judge_case(entry, origin, regression)
            call = case.call(target.qualname.split(".")[-1])
            if verdict.severity is None:
                dropped.append(f"case {_short(call, 120)} ({origin}): {verdict.why}")
                continue
            if call in seen_inputs:
                continue
            seen_inputs.add(call)
            case_findings += 1
            out.append(case_finding(target, case, entry, origin, verdict, regression))
    return out + bad_tests(asked, result), dropped


def _references(result: dict[str, Any] | None, statuses: tuple[str, ...]) -> bool:
    return any(
        part.get("kind") == "reference" and part.get("status") in statuses
        for proposal in (result or {}).get("proposals") or []
        for part in proposal.get("parts") or []
    )


def need_more(asked: Asked, result: dict[str, Any] | None, regression: bool) -> bool:
    """Ask the next prompt? When no usable reference came yet (no validated one, where docstring
    examples could validate one), or when a new function's finding still lacks corroboration
    (unless the function fails one of its docstring examples: the docstrings check reports that)."""
    if result is None or result.get("status") in ("skipped", "error"):
        return False
    has_examples = bool(asked.plan.examples)
    if not _references(result, ("valid", "unvalidated")):
        return True
    if has_examples and not _references(result, ("valid",)):
        return True
    if regression or not has_examples or result.get("head_fails_examples"):
        return False  # base corroborates, nothing could, or a docstring example already fails
    if result.get("found") and judge_found(result, regression).split:
        return True
    findings, _dropped = findings_for(asked, result, regression)
    return any(f.kind is Kind.BUG and f.level is Severity.WARNING for f in findings)
