"""llm-checks planning (pure): whom to ask, docstring examples, cases vs examples, runner specs."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from codegrad.model import Target
from codegrad.runners import values
from codegrad.verify.checks import llm_proposals as lp
from codegrad.verify.checks.properties import params_json
from codegrad.verify.inputs import examples as docexamples
from codegrad.verify.inputs import strategies


@dataclass(frozen=True)
class Plan:
    """One target the LLM can be asked about, with its usable docstring examples and strategies."""

    target: Target
    subject: lp.Subject
    examples: tuple[dict[str, Any], ...]  # literal args/kwargs, expected text, form, raises, call
    params: tuple[dict[str, Any], ...]  # the properties check's strategies; () when none


def eligible(target: Target) -> lp.Subject | str:
    """The subject to ask about, or why this target is not asked about."""
    if target.kind not in ("function", "staticmethod"):
        return f"{target.kind}s are not checked by LLM proposals (plain functions only)"
    if target.is_async:
        return "async functions are not checked by LLM proposals"
    site = docexamples.find_docstring(target.source, target.name)
    if site is None or not site.text.strip():
        return "no docstring to derive checks from"
    subject = lp.subject_for(target.source, target.name)
    if subject is None:
        return "the function's source does not parse"
    if len(subject.head) > lp.MAX_HEAD_CHARS:
        return f"signature and docstring longer than {lp.MAX_HEAD_CHARS} characters"
    return subject


def usable_examples(target: Target) -> list[dict[str, Any]]:
    """The docstring examples whose call is `name(literals)` without setup, for validation."""
    site = docexamples.find_docstring(target.source, target.name)
    if site is None:
        return []
    out = []
    for example in docexamples.extract(site.text, target.name, params=site.params):
        if example.setup:
            continue
        parsed = strategies.parse_call(example.call, target.name)
        if parsed is None or not _whole_call(example.call, target.name):
            continue
        out.append(
            {
                "args": list(parsed.args),
                "kwargs": [list(kv) for kv in parsed.kwargs],
                "expected": example.expected,
                "form": example.form,
                "raises": example.expects_exception,
                "call": example.call,
            }
        )
    return out + _lenient(site.text, target.name, out)


def _lenient(docstring: str, name: str, strict: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Prose examples the docstrings check does not run (bare words as strings), marked lenient."""
    known = {(tuple(e["args"]), tuple(map(tuple, e["kwargs"]))) for e in strict}
    out = []
    for call, args, expected in lp.lenient_examples(docstring, name):
        if (args, ()) in known:
            continue
        known.add((args, ()))
        out.append(
            {
                "args": list(args),
                "kwargs": [],
                "expected": expected,
                "form": "prose",
                "raises": None,
                "call": call,
                "lenient": True,
            }
        )
    return out


def _whole_call(call: str, name: str) -> bool:
    """The example is the call itself (`f(1)`), not something around it (`sorted(f(1))`)."""
    try:
        node = ast.parse(call.strip(), mode="eval").body
    except SyntaxError:
        return False
    func = node.func if isinstance(node, ast.Call) else None
    return isinstance(func, ast.Name) and func.id == name


def plan_for(target: Target, module_source: str | None) -> Plan | str:
    subject = eligible(target)
    if isinstance(subject, str):
        return subject
    made = strategies.plan(target, module_source)
    params: tuple[dict[str, Any], ...] = ()
    if isinstance(made, strategies.ArgPlan) and not made.guessed:
        params = tuple(params_json(made))
    return Plan(target, subject, tuple(usable_examples(target)), params)


# --------------------------------------------------------------------------- pure: cases vs examples


def _value(source: str | None) -> tuple[bool, Any]:
    if source is None:
        return False, None
    try:
        return True, strategies.literal(source.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def _same_input(case: lp.Case, example: dict[str, Any]) -> bool:
    got = [_value(a) for a in case.args]
    want = [_value(a) for a in example["args"]]
    if len(got) != len(want) or sorted(k for k, _ in case.kwargs) != sorted(
        k for k, _ in example["kwargs"]
    ):
        return False
    pairs = list(zip(got, want, strict=True))
    kw_case = dict(case.kwargs)
    pairs += [(_value(kw_case[k]), _value(v)) for k, v in example["kwargs"]]
    return all(a[0] and b[0] and values.equivalent(a[1], b[1]) for a, b in pairs)


def sort_cases(
    cases: Sequence[lp.Case], examples: Sequence[dict[str, Any]]
) -> tuple[list[lp.Case], list[tuple[lp.Case, str]], int]:
    """(new cases, cases contradicting a docstring example with that example's call, repeats)."""
    kept: list[lp.Case] = []
    bad: list[tuple[lp.Case, str]] = []
    repeats = 0
    for case in cases:
        same = [e for e in examples if _same_input(case, e)]
        if not same:
            kept.append(case)
            continue
        example = same[0]
        known, wanted = _value(example["expected"])
        got_known, got = _value(case.expected)
        if example.get("raises") or not known or (got_known and values.equivalent(got, wanted)):
            repeats += 1  # the docstrings check already runs this input
        else:
            bad.append((case, str(example["call"])))
    return kept, bad, repeats


def proposal_spec(proposal: lp.Proposal, cases: Sequence[lp.Case]) -> dict[str, Any]:
    return {
        "origin": proposal.origin,
        "code": proposal.code,
        "reference": proposal.reference,
        "props": list(proposal.props),
        "precondition": proposal.precondition,
        "strategies": [list(s) for s in proposal.strategies],
        "cases": [
            {"args": list(c.args), "kwargs": [list(kv) for kv in c.kwargs], "expected": c.expected}
            for c in cases
        ],
    }


@dataclass
class Asked:
    """The proposals gathered for one plan, with the cases that survived the docstring examples."""

    plan: Plan
    proposals: list[lp.Proposal] = field(default_factory=list)
    cases: dict[str, list[lp.Case]] = field(default_factory=dict)  # origin -> kept cases
    bad_cases: list[tuple[str, lp.Case, str]] = field(default_factory=list)  # origin, case, example
    repeats: int = 0

    def add(self, proposal: lp.Proposal) -> None:
        kept, bad, repeats = sort_cases(proposal.cases, self.plan.examples)
        self.proposals.append(proposal)
        self.cases[proposal.origin] = kept
        self.bad_cases += [(proposal.origin, case, call) for case, call in bad]
        self.repeats += repeats


def target_spec(
    asked: Asked, regression: bool, inputs: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    target = asked.plan.target
    return {
        "key": target.key,
        "path": target.path,
        "qualname": target.qualname,
        "base_path": (target.base_path or target.path) if regression else None,
        "construct": None,
        "params": [dict(p) for p in asked.plan.params],
        "examples": list(asked.plan.examples),
        "inputs": list(inputs),
        "proposals": [proposal_spec(p, asked.cases.get(p.origin, [])) for p in asked.proposals],
    }
