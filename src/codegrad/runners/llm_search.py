"""llm-checks sandbox side: the parts' votes on an input, and the search for one they fail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from codegrad.runners import hypo, values
from codegrad.runners.llm_neighbours import input_key, neighbours
from codegrad.runners.llm_validation import Part, Subject


@dataclass
class Vote:
    """One part's verdict on the target's result for one input."""

    part: Part
    verdict: str  # fail | pass | n/a
    value: hypo.Outcome | None = None  # a reference's own result


def vote(part: Part, args: list[Any], kwargs: dict[str, Any], result: Any, timeout: float) -> Vote:
    if part.kind == "reference":
        own = hypo.call(part.fn, args, kwargs, timeout)
        if not own.ok:
            return Vote(part, "n/a", own)
        return Vote(part, "pass" if values.equivalent(result, own.value) else "fail", own)
    held = hypo.call(part.fn, [*args, result], kwargs, timeout)
    if not held.ok:
        return Vote(part, "n/a")
    return Vote(part, "pass" if held.value else "fail")


def admitted(subject: Subject, args: list[Any], kwargs: dict[str, Any]) -> bool:
    """Every validated precondition accepts the input."""
    for part in subject.preconditions:
        if part.status != "valid":
            continue
        outcome = hypo.call(part.fn, args, kwargs, subject.timeout)
        if not (outcome.ok and outcome.value):
            return False
    return True


def usable(part: Part) -> bool:
    """Validated parts count; an unvalidated reference too (there were no examples to check it on)."""
    return part.status == "valid" or (part.status == "unvalidated" and part.kind == "reference")


def active(subject: Subject) -> list[Part]:
    return [p for p in subject.parts if usable(p)]


@dataclass
class Found:
    args: list[Any]
    kwargs: dict[str, Any]
    head: hypo.Outcome


class Searcher:
    """Looks for an input on which a proposal says the target is wrong (and base, if any, is not)."""

    def __init__(self, subject: Subject, example_keys: set[str]) -> None:
        self.subject = subject
        self.example_keys = example_keys
        self.found: Found | None = None
        self.budget_calls = 0
        self.out_of_domain = 0

    def check(self, args: list[Any], kwargs: dict[str, Any], *, explicit: bool) -> bool:
        subject = self.subject
        if input_key(args, kwargs) in self.example_keys:
            return False  # the docstrings check owns the examples
        if not admitted(subject, args, kwargs):
            self.out_of_domain += 1
            if not explicit:
                hypo.reject()
            return False
        head = hypo.call(subject.head.fn, args, kwargs, subject.timeout)
        if not head.ok:
            return False  # crashes and hangs are the properties check's business
        failing = [
            v
            for v in (vote(p, args, kwargs, head.value, subject.timeout) for p in active(subject))
            if v.verdict == "fail"
        ]
        if not failing:
            return False
        if subject.base is not None and self._base_fails(failing, args, kwargs):
            self.out_of_domain += 1
            if not explicit:
                hypo.reject()
            return False
        self.found = Found(args, kwargs, head)
        return True

    def _base_fails(self, failing: list[Vote], args: list[Any], kwargs: dict[str, Any]) -> bool:
        """Base cannot vouch for this input: it does not return, or a failing part rejects its
        result too. (Parts that base fails were dropped before the search; such an input is one
        that search did not draw, and is skipped as outside the domain.)"""
        assert self.subject.base is not None
        base = hypo.call(self.subject.base.fn, args, kwargs, self.subject.timeout)
        if not base.ok:
            return True
        return any(
            vote(f.part, args, kwargs, base.value, self.subject.timeout).verdict == "fail"
            for f in failing
        )


def case_inputs(target: dict[str, Any]) -> list[tuple[list[Any], dict[str, Any]]]:
    """The proposals' case inputs as values (those that do not evaluate are left out)."""
    raw = [c for p in target.get("proposals") or [] for c in p.get("cases") or []]
    return hypo.example_inputs(raw)


def validate_on_base(
    subject: Subject, spec: dict[str, Any], target: dict[str, Any], budget: hypo.Budget
) -> None:
    """Regression setting: a part that base fails as well is a bad test (status "bad-base").

    The same inputs as the search (cases, explicit inputs, then Hypothesis with the same seed) are
    judged on base alone, so what is dropped depends on base and the proposals, never on head.
    """
    base = subject.base
    parts = active(subject)
    if base is None or not parts:
        return

    def judge(args: list[Any], kwargs: dict[str, Any]) -> None:
        if not admitted(subject, args, kwargs):
            return
        outcome = hypo.call(base.fn, args, kwargs, subject.timeout)
        if not outcome.ok:
            return
        for part in parts:
            if part.status == "bad-base":
                continue
            if vote(part, args, kwargs, outcome.value, subject.timeout).verdict == "fail":
                part.status = "bad-base"
                part.base_input = hypo.call_text(base.label, args, kwargs)

    explicit = case_inputs(target) + hypo.example_inputs(target.get("inputs") or [])
    for args, kwargs in [*explicit, *neighbours(subject.examples)]:
        budget.calls += 1
        judge(args, kwargs)
    params = hypo.params_of(target.get("params") or [])
    if params:

        def body(args: list[Any], kwargs: dict[str, Any]) -> None:
            judge(args, kwargs)

        hypo.drive(
            params,
            body,
            max_examples=int(spec["max_examples"]),
            seed=int(spec["seed"]),
            budget=budget,
        )


def search(
    subject: Subject, spec: dict[str, Any], target: dict[str, Any], budget: hypo.Budget
) -> Searcher:
    searcher = Searcher(subject, {input_key(e.args, e.kwargs) for e in subject.examples})
    if not active(subject):
        return searcher
    explicit = hypo.example_inputs(target.get("inputs") or []) + neighbours(subject.examples)
    for args, kwargs in explicit:
        budget.calls += 1
        if searcher.check(args, kwargs, explicit=True):
            return searcher
    params = hypo.params_of(target.get("params") or [])
    if not params:
        return searcher

    def body(args: list[Any], kwargs: dict[str, Any]) -> None:
        if searcher.check(args, kwargs, explicit=False):
            raise hypo.Failed("llm-checks")

    hypo.drive(
        params, body, max_examples=int(spec["max_examples"]), seed=int(spec["seed"]), budget=budget
    )
    return searcher
