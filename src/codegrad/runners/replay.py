"""Sandbox runner: replay the calls recorded in the project's tests on base and head, and compare;
then grow new inputs from the recorded values (runners.grow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codegrad.runners import grow, hypo, reach, sides
from codegrad.runners.callcompare import Replayer, Unreplayable, failure, judge


def _rank(entry: dict[str, Any]) -> int:
    """0: head raises where base returned; 1: base raised where head returns; 2: other; 3: mutation."""
    base, head = entry["base"], entry["head"]
    if "raised" in head and "raised" not in base:
        return 0
    if "raised" in base and "raised" not in head:
        return 1
    return 2 if "mutated" not in entry else 3


def _worst_first(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Crashes of head first, then dropped rejections, then other changes (one of each kind kept)."""
    kept: dict[int, dict[str, Any]] = {}
    for entry in entries:
        kept.setdefault(_rank(entry), entry)
    return [kept[r] for r in sorted(kept)]


def run_target(spec: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """Replay one target's recorded calls on base and head, then grow inputs from them."""
    timeout = float(spec["call_timeout"])
    budget = hypo.Budget(float(spec["budget"]))
    base, head = sides.load_pair(
        Path(spec["base_root"]),
        target["base_path"],
        Path(spec["root"]),
        target["path"],
        target["qualname"],
    )
    tracer = reach.Reach(
        reach.code_objects(head.fn, head.file), set(target.get("changed_lines", []))
    )
    replayer = Replayer(base, head, timeout, tracer)
    allowed = list(target.get("base_allowed", []))
    counts = {"calls": 0, "in_domain": 0, "reached": 0, "unreplayable": 0}
    shown = 0  # differing calls that head's tests make: the change shows it means them
    reasons: dict[str, int] = {}
    differing: list[dict[str, Any]] = []
    for record in target.get("calls", []):
        if budget.left() <= 0:
            budget.partial = True
            break
        counts["calls"] += 1
        try:
            verdict = judge(replayer, record["call"], allowed)
        except Unreplayable as exc:
            counts["unreplayable"] += 1
            reasons[str(exc)] = reasons.get(str(exc), 0) + 1
            continue
        counts["in_domain"] += verdict.in_domain
        counts["reached"] += verdict.in_domain and verdict.reached
        if verdict.differs:
            differing.append(failure(replayer, target, record, verdict))
            shown += record.get("side", "head") in ("head", "both")
    grown = grow.grow(replayer, spec, target, budget) if target.get("grow") else grow.Grown()
    replayed = _worst_first(differing)
    best = min((_rank(e) for e in replayed), default=99)
    return {
        "status": "partial" if budget.partial else "ok",
        "failures": replayed + [e for e in grown.failures if _rank(e) < best],
        **counts,
        "changed_in_head_tests": shown,
        "measurable": tracer.measurable,
        "grown": grown.stats,
        "unreplayable_reasons": dict(sorted(reasons.items(), key=lambda kv: -kv[1])[:3]),
    }


if __name__ == "__main__":
    raise SystemExit(hypo.main(run_target))
