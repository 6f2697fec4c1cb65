"""Hardening's markdown report: each check's per-function skip list folded into one note (pure)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from codegrad.model import Evidence, Outcome


def condensed(outcome: Outcome) -> Outcome:
    """The outcome with each check's per-function skip list folded into one note per check
    (a whole repository has hundreds of skipped functions; the JSON report keeps them all)."""
    notes = list(outcome.notes)
    results = []
    for result in outcome.evidence.results:
        if result.skipped:
            reasons = Counter(_reason(why) for why in result.skipped.values())
            top = "; ".join(f"{why} ({n})" for why, n in reasons.most_common(4))
            more = len(reasons) - 4
            notes.append(
                f"{result.check} skipped {len(result.skipped)} function(s): {top}"
                + (f"; {more} other reason(s)" if more > 0 else "")
            )
        results.append(replace(result, skipped={}))
    return replace(
        outcome,
        evidence=Evidence(targets=outcome.evidence.targets, results=tuple(results)),
        notes=tuple(notes),
    )


def _reason(why: str) -> str:
    first = why.strip().splitlines()[0] if why.strip() else "no reason given"
    return first[:120]
