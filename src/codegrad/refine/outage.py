"""When the LLM fails mid-run: the run notes that say so, and which fixes are worth keeping."""

from __future__ import annotations

from collections.abc import Sequence

from codegrad import gradient
from codegrad.model import LLM_OUTAGE, Evidence, Fix

KEEPS = "the verification results above do not depend on it"


def reported_outage(evidence: Evidence) -> str | None:
    """Why a check that asked the LLM earlier in this run stopped, when the endpoint was down."""
    for result in evidence.results:
        stopped = result.stats.get("stopped")
        if isinstance(stopped, str) and stopped.startswith(LLM_OUTAGE):
            return stopped
    return None


def is_outage(fix: Fix) -> bool:
    return fix.stop_reason.startswith(LLM_OUTAGE)


def note(reason: str, *, not_refined: int) -> str:
    """The run note: what failed, what was left undone, and that the findings stand."""
    left = gradient.plural(
        not_refined, "function with findings was", "functions with findings were"
    )
    reason = reason if reason.startswith(LLM_OUTAGE) else f"{LLM_OUTAGE}: {reason}"
    return f"{reason}. No fixes were attempted after it: {left} not refined; {KEEPS}."


def kept(fixes: Sequence[Fix]) -> list[Fix]:
    """The fixes to report: one that an outage or a spent budget stopped before the LLM answered
    anything is no fix at all (the report reads as if refinement had not run for it)."""
    return [f for f in fixes if f.diff or (f.calls and not is_outage(f))]
