"""Run many targets through one runner process, starting a new process after a target hangs or kills it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from codegrad.verify.checks.base import CheckContext, run_runner

H = TypeVar("H")


@dataclass
class Batch(Generic[H]):
    """What a runner reported per target key, which targets hung (and what is kept of each), and why
    it broke."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    hung: dict[str, H] = field(default_factory=dict)
    broken: str | None = None
    hung_side: dict[str, str] = field(default_factory=dict)  # "base"/"head", where the runner says


def run_batches(
    runner: str,
    common: dict[str, Any],
    specs: Sequence[dict[str, Any]],
    ctx: CheckContext,
    cwd: Path,
    *,
    per_target: float,
    slack: float,
    hang: Callable[[Any, Mapping[str, Any]], tuple[str, H] | None],
) -> Batch[H]:
    """All targets in one runner process (per_target seconds each plus slack); after a hang, go on
    with the rest in a new one. `hang(current, results)`: for what the runner was on when it stopped,
    the hung target's key and what to keep about it, or None when it did not hang."""
    batch: Batch[H] = Batch()
    pending = list(specs)
    while pending and ctx.remaining() > 1:
        output = run_runner(
            runner,
            {**common, "targets": pending},
            ctx=ctx,
            cwd=cwd,
            timeout=ctx.timeout(per_target * len(pending) + slack),
        )
        data = output.data or {}
        batch.results.update(data.get("results") or {})
        current = data.get("current")
        if current and (hung := hang(current, batch.results)) is not None:
            batch.hung[hung[0]] = hung[1]
            if data.get("side") in ("base", "head"):
                batch.hung_side[hung[0]] = str(data["side"])
        elif not data.get("results") and not output.process.ok:
            text = (output.process.stderr or output.process.stdout).strip()
            batch.broken = text[-600:] or "no output"
            break
        before = len(pending)
        pending = [
            s for s in pending if s["key"] not in batch.results and s["key"] not in batch.hung
        ]
        if len(pending) == before:
            break
    return batch
