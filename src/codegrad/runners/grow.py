"""Grow new inputs from the recorded ones with Hypothesis, steered toward the changed lines.

Each parameter draws either from a strategy the check planned (recorded plain values, docstring
examples of base and head, defaults, boundary values) or from the pool of recorded values that only
the sandbox can rebuild (objects, `self`). Every draw runs on base and head; head runs traced, and
`hypothesis.target` rewards inputs that execute more of the changed lines, so they are kept and
varied first. Base decides the domain: an input base does not handle is discarded.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from codegrad.runners import callcompare, hypo, valuecodec, values
from codegrad.runners.callcompare import Replayer


@dataclass
class Grown:
    """What growing found: at most one difference, and counters."""

    failures: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)


@dataclass
class Draw:
    """One generated input, as plain values and pool indices (rebuilt per side)."""

    plain: dict[str, Any]
    pooled: dict[str, int]


class _Found(Exception):
    pass


def _strategies(target: dict[str, Any]) -> dict[str, Any]:
    from hypothesis import strategies as st

    plan = target["grow"]
    out: dict[str, Any] = {}
    for param in plan["params"]:
        if param.get("strategy"):
            out[param["name"]] = hypo.strategy(param["strategy"])
        else:
            out[param["name"]] = st.sampled_from(list(param["pool"]))
    return out


def _build(
    replayer: Replayer, side: Any, target: dict[str, Any], draw: Draw
) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword arguments on one side (pooled values decoded fresh, while active)."""
    pool = target["grow"]["pool"]
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for param in target["grow"]["params"]:
        name = param["name"]
        if name in draw.pooled:
            value = valuecodec.decode(pool[draw.pooled[name]], side.resolve)
        elif name in draw.plain:
            value = copy.deepcopy(draw.plain[name])
        else:
            continue
        if param.get("star"):
            args.extend(value)
        elif param.get("keyword"):
            kwargs[name] = value
        else:
            args.append(value)
    return args, kwargs


class _Undecodable(Exception):
    """A pooled value could not be rebuilt on this side."""


def _run(
    replayer: Replayer, side: Any, target: dict[str, Any], draw: Draw, trace: bool
) -> tuple[hypo.Outcome, list[Any], set[int]]:
    with side.active():
        try:
            args, kwargs = _build(replayer, side, target, draw)
        except Exception:  # noqa: BLE001 - whatever the project's classes raise
            raise _Undecodable() from None
        if not trace:
            return hypo.call(side.fn, args, kwargs, replayer.timeout, copy_args=False), args, set()
        with replayer.tracer.tracing() as hit:
            outcome = hypo.call(side.fn, args, kwargs, replayer.timeout, copy_args=False)
        return outcome, args, set(hit)


def grow(
    replayer: Replayer, spec: dict[str, Any], target: dict[str, Any], budget: hypo.Budget
) -> Grown:
    """Hypothesis over the planned parameters; the minimal differing input, if any."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import target as steer
    from hypothesis.errors import HypothesisException

    grown = Grown(stats={"calls": 0, "in_domain": 0, "reached": 0})
    allowed = list(target.get("base_allowed", []))
    pooled_names = {p["name"] for p in target["grow"]["params"] if not p.get("strategy")}
    found: list[dict[str, Any]] = []

    def check(drawn: dict[str, Any]) -> None:
        budget.tick()
        draw = Draw(
            {k: v for k, v in drawn.items() if k not in pooled_names},
            {k: v for k, v in drawn.items() if k in pooled_names},
        )
        grown.stats["calls"] += 1
        try:
            base, base_args, _ = _run(replayer, replayer.base, target, draw, False)
            if base.timed_out or (base.error is not None and not hypo.allowed(base.error, allowed)):
                hypo.reject()  # outside the domain: base does not handle it
            head, head_args, hit = _run(replayer, replayer.head, target, draw, True)
        except _Undecodable:
            hypo.reject()
        grown.stats["in_domain"] += 1
        reached = bool(hit) or not replayer.tracer.measurable
        grown.stats["reached"] += reached
        steer(float(len(hit)), label="changed lines executed")
        if hypo.same(base, head) and values.equivalent(base_args, head_args):
            return
        again, again_args, _ = _run(replayer, replayer.base, target, draw, False)
        if not hypo.same(base, again) or not values.equivalent(base_args, again_args):
            hypo.reject()  # base is not deterministic here
        found.append(_entry(replayer, target, draw, (base, base_args), (head, head_args), reached))
        raise _Found()

    @hypothesis_seed(int(spec["seed"]))
    @settings(
        max_examples=int(spec["max_examples"]),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate, Phase.target, Phase.shrink),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
    )
    @given(**_strategies(target))
    def test(**drawn: Any) -> None:
        check(drawn)

    try:
        test()
    except (_Found, hypo.OutOfTime):
        pass
    except HypothesisException:
        pass
    if found:
        grown.failures.append(found[-1])
    return grown


def _entry(
    replayer: Replayer,
    target: dict[str, Any],
    draw: Draw,
    base: tuple[hypo.Outcome, list[Any]],
    head: tuple[hypo.Outcome, list[Any]],
    reached: bool,
) -> dict[str, Any]:
    """The report entry, written like a recorded call's (input and reproducer as source)."""
    again, _, _ = _run(replayer, replayer.head, target, draw, False)
    base_run = callcompare.Run(base[0], base[1], {})
    head_run = callcompare.Run(head[0], head[1], {})
    verdict = callcompare.Verdict(
        in_domain=True,
        reached=reached,
        base=base_run,
        head=head_run,
        differs=True,
        mutated=hypo.same(base[0], head[0]),
        reproduces=hypo.same(head[0], again),
    )
    call = _as_call(replayer, target, draw)
    entry = callcompare.failure(
        replayer, target, {"call": call or {"args": [], "kwargs": []}}, verdict
    )
    entry.update(from_example=False, grown=True, source="an input grown from the recorded ones")
    if call is None:  # not writable: shown without source, no reproducer
        entry["input"] = f"{target['qualname']}(<generated arguments>)"
        entry.pop("repro", None)
    for key in ("test", "side", "recorded_raised"):
        entry.pop(key, None)
    return entry


def _as_call(replayer: Replayer, target: dict[str, Any], draw: Draw) -> dict[str, Any] | None:
    """The draw as an encoded call (so it is written as source the same way as a recorded one)."""
    with replayer.base.active():
        try:
            args, kwargs = _build(replayer, replayer.base, target, draw)
            encoded: dict[str, Any] = valuecodec.encode_call(args, kwargs)
            return encoded
        except Exception:  # noqa: BLE001 - not encodable: shown without source
            return None
