"""The LLM-derived checks: proposals from the docstring (reference, cases, properties), validated, then run.

On when an LLM is configured. For each changed function with a docstring the LLM sees only the
signature and docstring (never the body) and proposes, in up to three prompts (see
llm_proposals): a reference implementation; a second implementation with asserts on new inputs, a
property and a precondition; and a third implementation. Nothing counts before it is validated in
the sandbox:

- every part must compile and load; a reference must reproduce each docstring example, a property
  must hold on each example's (input, expected output), a precondition must accept each example's
  input, a proposed case must agree with any docstring example on the same input. A part that
  fails this is a bad test: dropped, and reported as a Kind.BAD_TEST note;
- in the regression setting (the function has a base version), a part or case that the base
  version fails as well is a bad test too. Base is searched on its own, before head, so what is
  dropped never depends on the head under review (a refinement candidate sees the same notes).

Then the validated parts test the function: Hypothesis inputs from the parameters' strategies
(filtered by a validated precondition) plus the proposed cases; crashes and hangs are left to the
properties check. The next prompt is asked only when it can change the verdict: when no validated
reference came yet, or when a new function disagrees with one proposal alone and passes its
docstring examples (when it fails one, the docstrings check already reports an error). Prose
examples that the docstrings check leaves alone (`is_happy(abc) => True`, bare words read as
strings) validate the proposals too, and one that fails is a finding of this check: an error when
a validated reference confirms that reading of the docstring.

Severity (an LLM's expected outputs are often wrong, and a false alarm costs more than a miss):
- ERROR only when corroborated: the base version agrees with a validated proposal where the head
  does not (regression); or, for new code, proposals from at least two prompts, each validated on
  at least one docstring example, say the function is wrong on the same input, agree with each
  other (the same result from their references, or a proposed case whose expected output another
  prompt's reference also computes), and outnumber the prompts whose validated reference agrees
  with the function (one vote per prompt);
- dropped (listed in the check's stats) when at least as many prompts side with the function; a
  split vote asks the next prompt;
- WARNING otherwise: a single validated proposal, or any proposal on a function without docstring
  examples to validate against.
The LLM is asked at temperature 0 and every answer is remembered per process, so re-verifying
candidates in the refinement loop costs no further calls. An LLM that cannot be reached, a budget
that is spent, or a time budget that runs out skips the remaining functions with the reason.
The client is built from the settings (llm.build_client) with its own usage meter: the budget
applies to this check's calls on their own, apart from the refinement loop's.
"""

from __future__ import annotations

import ast
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from codegrad import examples as docexamples
from codegrad import llm_proposals as lp
from codegrad import strategies
from codegrad.checks.base import CheckContext
from codegrad.checks.docstrings import module_for_path
from codegrad.checks.properties import Batch, budgets, params_json, run_batched
from codegrad.errors import UsageError
from codegrad.llm import LLM, BudgetExceeded, LLMError, build_client
from codegrad.model import CheckResult, Finding, Kind, Severity, Target
from codegrad.runners import values
from codegrad.settings import Settings

NAME = "llm-checks"
RUNNER = "llm_checks"
MAX_CASE_FINDINGS = 3
_MEMO_LIMIT = 512

# Tests (or a harness) may set this to answer instead of the configured endpoint.
client_override: LLM | None = None
_ANSWERS: dict[str, str] = {}  # request hash -> answer text, for this process


# --------------------------------------------------------------------------- pure: planning


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


# --------------------------------------------------------------------------- pure: verdicts


def _has_reference(result: dict[str, Any], origin: str) -> bool:
    for proposal in result.get("proposals") or []:
        if proposal.get("origin") != origin:
            continue
        for part in proposal.get("parts") or []:
            if part.get("kind") == "reference" and part.get("status") in ("valid", "unvalidated"):
                return True
    return False


@dataclass(frozen=True)
class Verdict:
    """What the votes at one input amount to."""

    severity: Severity | None  # None: dropped
    failing: tuple[dict[str, Any], ...]
    why: str
    split: bool = (
        False  # validated proposals disagree with each other: another opinion may settle it
    )


def judge_found(result: dict[str, Any], regression: bool) -> Verdict:
    """The severity of a disagreement at the input found (see the module docstring)."""
    votes = list((result.get("found") or {}).get("votes") or [])
    failing = tuple(v for v in votes if v["verdict"] == "fail")
    if not failing:
        return Verdict(None, (), "no proposal disagrees here any more")
    validated = [v for v in failing if v.get("status") == "valid"]
    if regression:
        base = (result.get("found") or {}).get("base") or {}
        if "value" not in base:
            return Verdict(None, failing, "base does not return on this input")
        if validated:
            return Verdict(Severity.ERROR, failing, "base agrees with the proposal")
        return Verdict(
            Severity.WARNING,
            failing,
            "base agrees, but no docstring example validated the proposal",
        )
    return _majority(votes, failing)


def _majority(votes: Sequence[dict[str, Any]], failing: tuple[dict[str, Any], ...]) -> Verdict:
    """New code: one vote per prompt. The validated references that fail the code are grouped by
    the result they give (validated properties that fail join any group); the largest group is
    an error when it holds two prompts and outnumbers the prompts whose validated reference agrees
    with the code, dropped when those are at least as many, else a warning."""
    groups: dict[Any, set[str]] = {}
    props: set[str] = set()
    for vote in failing:
        if vote.get("status") != "valid":
            continue
        if vote["kind"] == "reference":
            groups.setdefault(vote.get("group"), set()).add(vote["origin"])
        else:
            props.add(vote["origin"])
    best_group, best = max(groups.items(), key=lambda kv: len(kv[1] | props), default=(None, set()))
    against = best | props
    agree = {
        v["origin"]
        for v in votes
        if v["verdict"] == "pass" and v["kind"] == "reference" and v.get("status") == "valid"
    } - against
    lead = tuple(
        sorted(failing, key=lambda v: v["kind"] != "reference" or v.get("group") != best_group)
    )
    if len(against) >= 2 and len(against) > len(agree):
        words = {1: "one", 2: "two", 3: "three"}
        why = f"{words.get(len(against), len(against))} validated proposals agree" + (
            f", {words.get(len(agree), len(agree))} side{'s' if len(agree) == 1 else ''} with the code"
            if agree
            else ""
        )
        return Verdict(Severity.ERROR, lead, why)
    if agree and len(agree) >= len(against):
        why = "another prompt's validated reference agrees with the code"
        return Verdict(None, lead, why, split=bool(against))
    return Verdict(Severity.WARNING, lead, "one proposal; not corroborated")


def judge_case(entry: dict[str, Any], origin: str, regression: bool) -> Verdict:
    """The severity of a proposed case that the function fails."""
    if regression and "base_ok" in entry:
        if entry["base_ok"]:
            return Verdict(Severity.ERROR, (), "base agrees with the case")
        return Verdict(None, (), "fails on base as well")
    others = [
        r for r in entry.get("references") or [] if r["origin"] != origin and r["status"] == "valid"
    ]
    if any(r["agrees_with_case"] for r in others):
        return Verdict(
            Severity.ERROR, (), "the other prompt's validated reference gives the same result"
        )
    if any(r["agrees_with_head"] for r in others):
        return Verdict(None, (), "the other prompt's validated reference agrees with the code")
    return Verdict(Severity.WARNING, (), "one proposal; not corroborated")


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


# --------------------------------------------------------------------------- pure: findings


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


# --------------------------------------------------------------------------- I/O: the LLM


def _request_key(model: str, messages: list[dict[str, str]]) -> str:
    raw = json.dumps([model, messages], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class Asker:
    """Asks the LLM (once per distinct request in this process); remembers why it stopped."""

    def __init__(self, client: LLM, model: str) -> None:
        self.client = client
        self.model = model
        self.stopped: str | None = None
        self.calls = 0  # requests answered by the client (its disk cache included)
        self.cached = 0
        self.failures: list[str] = []

    def ask(self, origin: str, subject: lp.Subject) -> lp.Proposal | str:
        """The parsed proposal, or why there is none."""
        if self.stopped:
            return self.stopped
        messages = lp.messages_for(origin, subject)
        key = _request_key(self.model, messages)
        text = _ANSWERS.get(key)
        if text is None:
            try:
                completion = self.client.complete(
                    messages, temperature=0.0, max_tokens=lp.MAX_TOKENS
                )
            except BudgetExceeded as exc:
                self.stopped = f"LLM budget reached: {exc.reason}"
                return self.stopped
            except UsageError as exc:
                self.stopped = f"LLM unavailable: {exc}"
                return self.stopped
            except LLMError as exc:
                self.failures.append(str(exc))
                return f"LLM error: {exc}"
            self.calls += 1
            self.cached += int(completion.cached)
            text = completion.text
            if len(_ANSWERS) >= _MEMO_LIMIT:
                _ANSWERS.pop(next(iter(_ANSWERS)))
            _ANSWERS[key] = text
        return lp.parse_answer(text, subject, origin)


def make_client(settings: Settings) -> LLM | str:
    """The client to ask, or why there is none."""
    if client_override is not None:
        return client_override
    if not settings.llm_configured:
        return "no LLM configured (set OPENAI_API_KEY or --llm-base-url)"
    try:
        return build_client(settings, max_attempts=2)
    except UsageError as exc:
        return f"LLM unavailable: {exc}"


# --------------------------------------------------------------------------- the check


def _module_source(ctx: CheckContext, target: Target) -> str | None:
    try:
        return (ctx.workspace.head_root / target.path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _regression(target: Target, ctx: CheckContext) -> bool:
    return target.base_source is not None and ctx.workspace.base_root is not None


class LLMChecksCheck:
    """Checks proposed by an LLM from the docstring, validated before they count."""

    name = NAME

    def run(self, targets: Sequence[Target], ctx: CheckContext) -> CheckResult:
        started = time.monotonic()
        skipped: dict[str, str] = {}
        client = make_client(ctx.settings)
        if isinstance(client, str):
            return CheckResult(check=NAME, skipped={t.key: client for t in targets})
        asker = Asker(client, ctx.settings.llm_model)
        plans: list[Plan] = []
        for target in targets:
            made = plan_for(target, _module_source(ctx, target))
            if isinstance(made, str):
                skipped[target.key] = made
            else:
                plans.append(made)
        asked = self._ask(plans, lp.REFERENCE, asker, ctx, skipped)
        batch = self._run(list(asked.values()), ctx, {})
        final = dict(batch.results)
        hung = dict(batch.hung)
        for origin in lp.ORIGINS[1:]:
            more: list[Asked] = []
            for key, item in asked.items():
                if need_more(item, final.get(key), _regression(item.plan.target, ctx)):
                    proposal = self._ask_one(item.plan, origin, asker, ctx)
                    if isinstance(proposal, lp.Proposal):
                        item.add(proposal)
                        more.append(item)
            if not more:
                break
            inputs = {
                key: [found]
                for key, result in final.items()
                if (found := _input_of(result.get("found") or {})) is not None
            }
            again = self._run(more, ctx, inputs)
            final.update(again.results)
            hung.update(again.hung)
        findings: list[Finding] = []
        checked: list[str] = []
        dropped: dict[str, list[str]] = {}
        for key, item in asked.items():
            result = final.get(key)
            if result is None or result.get("status") in ("skipped", "error"):
                reason = (result or {}).get("reason") or batch.broken or "the time budget was spent"
                if key in hung:
                    reason = f"a call ignored the time limit; the runner was stopped after {hung[key]:g}s"
                skipped[key] = f"proposals could not run: {reason}"
                continue
            if all(p.empty for p in item.proposals) and not item.bad_cases:
                notes = "; ".join(n for p in item.proposals for n in p.notes)[:300]
                skipped[key] = "the LLM's answer held no usable proposal" + (
                    f" ({notes})" if notes else ""
                )
                continue
            checked.append(key)
            produced, dropped[key] = findings_for(item, result, _regression(item.plan.target, ctx))
            findings += produced
        stats = {
            "llm_calls": asker.calls,
            "llm_cached": asker.cached,
            "llm_failures": asker.failures[:5],
            "stopped": asker.stopped,
            "dropped": {k: v for k, v in dropped.items() if v},
        }
        return CheckResult(
            check=NAME,
            findings=tuple(findings),
            checked=tuple(checked),
            skipped=skipped,
            seconds=time.monotonic() - started,
            stats=stats,
        )

    def _ask_one(
        self, plan: Plan, origin: str, asker: Asker, ctx: CheckContext
    ) -> lp.Proposal | str:
        if ctx.remaining() < 5:
            return "the time budget ran out before the LLM was asked"
        return asker.ask(origin, plan.subject)

    def _ask(
        self,
        plans: Sequence[Plan],
        origin: str,
        asker: Asker,
        ctx: CheckContext,
        skipped: dict[str, str],
    ) -> dict[str, Asked]:
        asked: dict[str, Asked] = {}
        for plan in plans:
            proposal = self._ask_one(plan, origin, asker, ctx)
            if isinstance(proposal, str):
                skipped[plan.target.key] = proposal
                continue
            item = Asked(plan)
            item.add(proposal)
            asked[plan.target.key] = item
        return asked

    def _run(
        self, items: Sequence[Asked], ctx: CheckContext, inputs: dict[str, list[dict[str, Any]]]
    ) -> Batch:
        if not items:
            return Batch()
        head = ctx.workspace.head_root
        specs = [
            target_spec(i, _regression(i.plan.target, ctx), inputs.get(i.plan.target.key, []))
            for i in items
        ]
        common = {
            "root": str(head),
            "base_root": str(ctx.workspace.base_root) if ctx.workspace.base_root else None,
            "max_examples": ctx.settings.max_examples,
            "seed": ctx.settings.seed,
            **budgets(ctx),
        }
        return run_batched(RUNNER, common, specs, ctx, head)


def _input_of(found: dict[str, Any]) -> dict[str, Any] | None:
    """The input found, as literal sources the runner can try first next time (None if not literal)."""
    if not found:
        return None
    args = found.get("args") or []
    kwargs = found.get("kwargs") or []
    if any(a is None for a in args) or any(v is None for _, v in kwargs):
        return None
    return {"args": list(args), "kwargs": [list(kv) for kv in kwargs]}


__all__ = ["LLMChecksCheck", "client_override", "findings_for", "judge_case", "judge_found"]
