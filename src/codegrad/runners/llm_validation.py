"""llm-checks sandbox side: load LLM proposals, validate their parts on the docstring examples."""

from __future__ import annotations

import typing
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from codegrad.runners import hypo, values
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


def agrees(
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
        if not agrees(example, outcome, subject.namespace, subject.timeout):
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
