"""Sandbox runner: validate LLM proposals on the docstring examples, then test the target against them.

Usage: python -m codegrad.runners.llm_checks SPEC.json RESULT.json (the hypo.main protocol).

Per target the spec holds the docstring examples with literal arguments, the proposals (their code
and the names of their reference implementation, properties and precondition, their cases), the
parameters' Hypothesis strategies and explicit inputs to try first. Nothing an LLM wrote runs
anywhere else: its code is executed here, in a copy of the target module's globals, each call
under the per-call time limit.

Steps: (1) validate every part of every proposal on the docstring examples: a reference must
reproduce each example, a property must hold for each example's (input, expected output), a
precondition must accept each example's input; (2) search inputs (explicit ones, then Hypothesis,
filtered by the validated preconditions) for one where a validated part says the target is wrong;
with a base version, an input on which base is wrong by the same part counts against that part
(it fails on base as well) and is skipped; (3) at the input found, ask every validated part for
its verdict (the votes); (4) run the proposed cases on the target, the references and base.
"""

from __future__ import annotations

import itertools
import typing
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegrad.runners import hypo, loader, values
from codegrad.runners.docstrings import matches

_TYPING_NAMES = {name: getattr(typing, name) for name in typing.__all__ if hasattr(typing, name)}


@dataclass
class Part:
    """One checkable part of a proposal: a reference implementation or a property."""

    origin: str
    kind: str  # reference | prop
    name: str
    fn: Callable[..., Any]
    status: str = "unvalidated"  # valid | unvalidated | bad | bad-base | broken
    detail: str = ""
    example: str | None = None  # the docstring example that contradicts it
    checked: int = 0  # docstring examples it was validated on
    base_input: str | None = None  # where base fails it too (status "bad-base")

    @property
    def ident(self) -> str:
        return f"{self.origin}:{self.kind}:{self.name}"

    def report(self) -> dict[str, Any]:
        return {
            "id": self.ident,
            "origin": self.origin,
            "kind": self.kind,
            "name": self.name,
            "status": self.status,
            "detail": self.detail,
            "example": self.example,
            "checked": self.checked,
            "base_input": self.base_input,
        }


@dataclass
class Example:
    """A docstring example whose arguments are literals."""

    args: list[Any]
    kwargs: dict[str, Any]
    raw: dict[str, Any]  # call, expected, form, raises

    @property
    def call(self) -> str:
        return str(self.raw.get("call", ""))


@dataclass
class Subject:
    """Everything loaded for one target: the function, base, the proposals' parts, the examples."""

    head: hypo.Loaded
    base: hypo.Loaded | None
    namespace: dict[str, Any]
    examples: list[Example]
    parts: list[Part] = field(default_factory=list)
    preconditions: list[Part] = field(default_factory=list)
    proposals: list[dict[str, Any]] = field(default_factory=list)  # per-proposal report
    timeout: float = 1.0


# ---------------------------------------------------------------- loading proposals


def base_namespace(fn: Callable[..., Any]) -> dict[str, Any]:
    """A copy of the target module's globals plus typing names and `st`, for proposals' code."""
    from hypothesis import strategies as st

    namespace = dict(getattr(fn, "__globals__", {}) or {})
    for name, value in _TYPING_NAMES.items():
        namespace.setdefault(name, value)
    namespace["st"] = st
    namespace["__name__"] = "codegrad_proposal"
    return namespace


def exec_proposal(code: str, namespace: dict[str, Any], timeout: float) -> str | None:
    """Run the proposal's code (defs, imports, constants) into namespace; the error text, or None."""
    try:
        compiled = compile(code, "<llm proposal>", "exec")
    except (SyntaxError, ValueError) as exc:
        return f"does not compile: {exc}"

    def run() -> None:
        exec(compiled, namespace)

    outcome = hypo.call(run, [], {}, timeout * 5)
    if outcome.timed_out:
        return "its code did not finish loading"
    if outcome.error is not None:
        return f"its code raised {type(outcome.error).__name__}: {outcome.error}"
    return None


def load_examples(raw: list[dict[str, Any]]) -> list[Example]:
    out = []
    for example in raw:
        try:
            args = [hypo.literal(a) for a in example.get("args", [])]
            kwargs = {k: hypo.literal(v) for k, v in example.get("kwargs", [])}
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        out.append(Example(args, kwargs, example))
    return out


def expected_value(example: Example) -> tuple[bool, Any]:
    """(True, value) when the example's expected output is a literal."""
    text = example.raw.get("expected")
    if text is None or example.raw.get("raises"):
        return False, None
    try:
        return True, hypo.literal(str(text).strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


# ---------------------------------------------------------------- validation on the examples


def _agrees(
    example: Example, outcome: hypo.Outcome, namespace: dict[str, Any], timeout: float
) -> bool:
    """Does a reference's outcome reproduce the docstring example?"""
    raises = example.raw.get("raises")
    if raises:
        return outcome.error is not None and hypo.allowed(outcome.error, [raises])
    if not outcome.ok:
        return False
    spec = {"expected": example.raw.get("expected"), "form": example.raw.get("form")}
    try:
        return bool(matches(spec, outcome.value, "", namespace, timeout))
    except Exception:  # noqa: BLE001 - an odd __eq__ in the value: not a match
        return False


def validate_reference(part: Part, subject: Subject) -> None:
    for example in subject.examples:
        outcome = hypo.call(part.fn, example.args, example.kwargs, subject.timeout)
        if not _agrees(example, outcome, subject.namespace, subject.timeout):
            part.status, part.example = "bad", example.call
            got = (
                "no result in time"
                if outcome.timed_out
                else f"{type(outcome.error).__name__}: {outcome.error}"
                if outcome.error is not None
                else values.describe(outcome.value)
            )
            part.detail = f"gives {got[:200]}"
            return
        part.checked += 1
    part.status = "valid" if part.checked else "unvalidated"


def validate_prop(part: Part, subject: Subject) -> None:
    for example in subject.examples:
        known, value = expected_value(example)
        if not known:
            continue
        outcome = hypo.call(part.fn, [*example.args, value], example.kwargs, subject.timeout)
        if not (outcome.ok and outcome.value):
            part.status, part.example = "bad", example.call
            part.detail = (
                f"raises {type(outcome.error).__name__}"
                if outcome.error is not None
                else "does not hold"
            )
            return
        part.checked += 1
    part.status = "valid" if part.checked else "unvalidated"


def validate_precondition(part: Part, subject: Subject) -> None:
    for example in subject.examples:
        if example.raw.get("raises"):
            continue
        outcome = hypo.call(part.fn, example.args, example.kwargs, subject.timeout)
        if not (outcome.ok and outcome.value):
            part.status, part.example = "bad", example.call
            part.detail = "rejects the input of a docstring example"
            return
        part.checked += 1
    part.status = "valid" if part.checked else "unvalidated"


def validate_strategy(source: str, seen: list[Any]) -> str:
    """valid: draws values of the kinds the docstring examples pass; else why it is not used."""
    if not seen:
        return "unvalidated"
    try:
        strategy = hypo.strategy(source)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            drawn = [strategy.example() for _ in range(10)]
    except Exception as exc:  # noqa: BLE001 - an LLM's strategy source can fail any way
        return f"broken: {type(exc).__name__}"
    kinds = {type(v) for v in seen}
    return "valid" if all(type(v) in kinds for v in drawn) else "bad"


def load_proposal(proposal: dict[str, Any], subject: Subject) -> dict[str, Any]:
    """Exec one proposal and validate its parts; its report."""
    origin = str(proposal["origin"])
    namespace = dict(subject.namespace)
    report: dict[str, Any] = {"origin": origin, "error": None, "parts": [], "strategies": []}
    error = exec_proposal(str(proposal.get("code") or ""), namespace, subject.timeout)
    if error is not None:
        report["error"] = error
        return report
    wanted = [("reference", proposal.get("reference"))]
    wanted += [("prop", name) for name in proposal.get("props") or []]
    wanted += [("precondition", proposal.get("precondition"))]
    for kind, name in wanted:
        if not name:
            continue
        fn = namespace.get(name)
        if not callable(fn):
            report["parts"].append(
                {
                    "id": f"{origin}:{kind}:{name}",
                    "kind": kind,
                    "name": name,
                    "status": "broken",
                    "detail": "not defined",
                }
            )
            continue
        part = Part(origin, kind, str(name), fn)
        {
            "reference": validate_reference,
            "prop": validate_prop,
            "precondition": validate_precondition,
        }[kind](part, subject)
        report["parts"].append(part.report())
        if kind == "precondition":
            subject.preconditions.append(part)
        else:
            subject.parts.append(part)
    return report


# ---------------------------------------------------------------- judging one input


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
        if _key(args, kwargs) in self.example_keys:
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


def _key(args: list[Any], kwargs: dict[str, Any]) -> str:
    return values.describe((args, sorted(kwargs.items())), limit=10_000)


NEIGHBOURS = 40  # at most this many inputs derived from the docstring examples


def _variants(value: Any) -> list[Any]:
    """A list or tuple argument sorted, both ways (strings are left alone: reversing one changes
    its structure, e.g. brackets, and leaves the domain)."""
    if not isinstance(value, list | tuple) or len(value) < 2:
        return []
    try:
        ordered = sorted(value)
    except TypeError:
        return []
    return [type(value)(ordered), type(value)(ordered[::-1])]


def neighbours(examples: list[Example]) -> list[tuple[list[Any], dict[str, Any]]]:
    """Inputs next to the docstring examples: the positional arguments of one type swapped
    (`f(3, 4, 5)` -> `f(5, 3, 4)`), a list argument sorted. The examples state the domain; these
    stay inside it and reach branches that random inputs rarely do."""
    out: list[tuple[list[Any], dict[str, Any]]] = []
    seen = {_key(e.args, e.kwargs) for e in examples}

    def add(args: list[Any], kwargs: dict[str, Any]) -> None:
        key = _key(args, kwargs)
        if key not in seen and len(out) < NEIGHBOURS:
            seen.add(key)
            out.append((args, kwargs))

    for example in examples:
        args = example.args
        if 2 <= len(args) <= 4:
            for order in itertools.permutations(range(len(args))):
                if all(type(args[i]) is type(args[j]) for i, j in enumerate(order)):
                    add([args[j] for j in order], dict(example.kwargs))
        for index, value in enumerate(args):
            for variant in _variants(value):
                add([*args[:index], variant, *args[index + 1 :]], dict(example.kwargs))
    return out


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
    searcher = Searcher(subject, {_key(e.args, e.kwargs) for e in subject.examples})
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


# ---------------------------------------------------------------- reports


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
        failures += not _agrees(example, head, subject.namespace, subject.timeout)
    return failures


def run_lenient(subject: Subject) -> list[dict[str, Any]]:
    """The target on the docstring's prose examples that the docstrings check does not run."""
    out = []
    for example in subject.examples:
        if not example.raw.get("lenient"):
            continue
        head = hypo.call(subject.head.fn, example.args, example.kwargs, subject.timeout)
        if _agrees(example, head, subject.namespace, subject.timeout):
            continue
        entry: dict[str, Any] = {
            "call": example.call,
            "input": hypo.call_text(subject.head.label, example.args, example.kwargs),
            "expected": example.raw.get("expected"),
            "head": head.describe(),
        }
        if subject.base is not None:
            base = hypo.call(subject.base.fn, example.args, example.kwargs, subject.timeout)
            entry["base_ok"] = _agrees(example, base, subject.namespace, subject.timeout)
        out.append(entry)
    return out


# ---------------------------------------------------------------- one target


def _strategies(target: dict[str, Any], subject: Subject, reports: list[dict[str, Any]]) -> None:
    """Mix validated LLM strategies into the parameters' own strategies (in place)."""
    by_param: dict[str, list[Any]] = {}
    for example in subject.examples:
        for name, value in zip(
            [p["name"] for p in target.get("params") or []], example.args, strict=False
        ):
            by_param.setdefault(name, []).append(value)
    for proposal, report in zip(target.get("proposals") or [], reports, strict=False):
        for name, source in proposal.get("strategies") or []:
            status = validate_strategy(source, by_param.get(name, []))
            report["strategies"].append({"param": name, "source": source, "status": status})
            if status != "valid":
                continue
            for param in target.get("params") or []:
                if param["name"] == name:
                    param["strategy"] = f"st.one_of({param['strategy']}, {source})"


def run_target(spec: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    root = Path(spec["root"])
    timeout = float(spec["call_timeout"])
    budget = hypo.Budget(float(spec["budget"]))
    head = hypo.load(root, target["path"], target["qualname"], target.get("construct"))
    base = _load_base(spec, target)
    subject = Subject(
        head=head,
        base=base,
        namespace=base_namespace(head.fn),
        examples=load_examples(target.get("examples") or []),
        timeout=timeout,
    )
    reports = [load_proposal(p, subject) for p in target.get("proposals") or []]
    _strategies(target, subject, reports)
    if base is not None:
        validate_on_base(subject, spec, target, hypo.Budget(float(spec["budget"]) * 0.4))
    searcher = search(subject, spec, target, budget)
    found = found_report(subject, searcher.found) if searcher.found else None
    for report, proposal in zip(reports, target.get("proposals") or [], strict=False):
        report["cases"] = run_cases(subject, proposal) if report["error"] is None else []
    lenient = run_lenient(subject)
    strict_failures = failing_examples(subject)
    parts = {p.ident: p for p in [*subject.parts, *subject.preconditions]}
    for report in reports:  # base failures are counted during the search
        for entry in report["parts"]:
            if entry["id"] in parts:
                entry.update(parts[entry["id"]].report())
    return {
        "status": "partial" if budget.partial else "ok",
        "proposals": reports,
        "found": found,
        "lenient": lenient,
        "head_fails_examples": strict_failures,
        "examples": len(subject.examples),
        "calls": budget.calls,
        "out_of_domain": searcher.out_of_domain,
    }


def _load_base(spec: dict[str, Any], target: dict[str, Any]) -> hypo.Loaded | None:
    if not spec.get("base_root") or not target.get("base_path"):
        return None
    try:
        return hypo.load(
            Path(spec["base_root"]),
            target["base_path"],
            target["qualname"],
            target.get("construct"),
        )
    except loader.LoadError:
        return None
    finally:
        loader.load_module(Path(spec["root"]), target["path"])  # head's modules back in place


if __name__ == "__main__":
    raise SystemExit(hypo.main(run_target))
