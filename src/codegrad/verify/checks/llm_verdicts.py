"""llm-checks verdicts (pure): what the proposals' votes on an input or a case amount to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codegrad.model import Severity


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
    """The severity of a disagreement at the input found (see the llm_checks module docstring)."""
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
