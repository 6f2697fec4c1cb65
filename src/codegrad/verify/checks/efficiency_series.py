"""One side's measured series as the efficiency runner reported it, and the line its cost went to (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from codegrad.model import Target
from codegrad.verify.checks.complexity import Stop


@dataclass(frozen=True)
class Series:
    """One side's measured sizes and costs, how it stopped, and its line profile."""

    sizes: tuple[int, ...]
    costs: tuple[int, ...]
    stop: Stop | None = None
    profile: Mapping[str, Any] = field(default_factory=dict)  # the largest finished run
    wall: tuple[float, ...] = ()  # untraced seconds per size
    seconds: tuple[float, ...] = ()  # traced seconds per size
    ran_out: int | None = None  # the size at which the side's time budget ended the series

    @classmethod
    def of(cls, data: Mapping[str, Any] | None, hung_at: int | None = None) -> Series | None:
        if not data:
            return None
        stop = None
        raw = data.get("stop") or {}
        profile = data.get("profile") or {}
        if hung_at is not None:
            stop = Stop(
                "timeout", hung_at, "the runner was stopped (a call ignored the time limit)"
            )
        elif raw.get("reason") in ("cost-cap", "timeout", "error"):
            stop = Stop(str(raw["reason"]), int(raw["size"]), str(raw.get("detail", "")))
            profile = raw.get("profile") or profile
        return cls(
            sizes=tuple(int(n) for n in data.get("sizes", [])),
            costs=tuple(int(c) for c in data.get("costs", [])),
            stop=stop,
            profile=profile,
            wall=tuple(float(w) for w in data.get("wall", [])),
            seconds=tuple(float(s) for s in data.get("seconds", [])),
            ran_out=int(raw["size"]) if raw.get("reason") == "time-budget" else None,
        )


def slow_to_budget(base: Series, head: Series, slowdown: float) -> Series:
    """A head whose time budget ran out at a size base finished, after spending more than
    `slowdown` times base's time on the same sizes, did not finish that size (time-based, so
    only with a wide margin): native code that sleeps or blocks costs no units but still hangs."""
    if head.ran_out is None or head.stop is not None or head.ran_out not in base.sizes:
        return head
    spent = sum(head.seconds)
    if spent <= slowdown * max(sum(base.seconds[: len(head.sizes)]), 0.01):
        return head
    detail = f"its time budget ran out after {spent:.1f} s of runs"
    return replace(head, stop=Stop("timeout", head.ran_out, detail))


@dataclass(frozen=True)
class HotLine:
    """The target's line where most of the largest run's cost went (callees included)."""

    line: int
    units: int
    share: float
    code: str


def hot_line(series: Series, target: Target, file_text: str | None) -> HotLine | None:
    lines = {int(k): int(v) for k, v in (series.profile.get("target_lines") or {}).items()}
    inside = {k: v for k, v in lines.items() if target.lineno <= k <= target.end_lineno}
    if not inside:
        return None
    line = max(sorted(inside), key=lambda k: inside[k])
    total = max(int(series.profile.get("units") or 0), 1)
    text = file_text.splitlines() if file_text else []
    code = text[line - 1].strip() if 0 < line <= len(text) else ""
    return HotLine(line, inside[line], inside[line] / total, code)
