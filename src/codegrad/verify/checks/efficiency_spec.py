"""What the efficiency runner is asked to measure: sizes, cost caps and time limits per target (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegrad.model import Target
from codegrad.verify.checks.sizing import InputPlan

# 4, 6, 8, 12, 16, ... 49152, 65536: about x1.4 per step, enough points for small and large costs
SIZES = tuple(sorted(n for k in range(15) for n in (4 << k, 6 << k) if n <= 65536))
RUN_CAP = 200_000  # stop growing n before a run is predicted to cost more units than this
ABORT_CAP = 2_000_000  # a run is stopped at this many units (head: or slowdown x base, if more)


@dataclass(frozen=True)
class Limits:
    """Time and cost limits per target, from the settings."""

    run_seconds: float
    side_seconds: float
    slowdown: float

    @classmethod
    def of(cls, function_timeout: float, slowdown: float) -> Limits:
        per_function = max(2.0, function_timeout)
        return cls(
            run_seconds=min(5.0, max(1.0, per_function / 6)),
            side_seconds=max(1.0, per_function * 0.35),
            slowdown=slowdown,
        )

    @property
    def per_target(self) -> float:
        """The most one target can take in the runner: per side its budget, a warm-up call and a
        last traced and untraced run that start just before the budget ends; plus start-up."""
        return 2 * (self.side_seconds + 3 * self.run_seconds + 2.0) + 5.0


def spec_common(roots: Sequence[Path], limits: Limits, seed: int) -> dict[str, Any]:
    return {
        "seed": seed,
        "sizes": list(SIZES),
        "run_cap": RUN_CAP,
        "abort_cap": ABORT_CAP,
        "slowdown": limits.slowdown,
        "run_seconds": limits.run_seconds,
        "side_seconds": limits.side_seconds,
        "roots": [str(r) for r in roots],
    }


def target_spec(
    target: Target, plan: InputPlan, head_root: Path, base_root: Path | None
) -> dict[str, Any]:
    sides = []
    if base_root is not None and target.base_source is not None:
        sides.append(
            {"name": "base", "root": str(base_root), "path": target.base_path or target.path}
        )
    sides.append({"name": "head", "root": str(head_root), "path": target.path})
    return {
        "key": target.key,
        "qualname": target.qualname,
        "construct": plan.construct,
        "builders": plan.builders(),
        "sides": sides,
    }
