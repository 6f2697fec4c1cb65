"""Sandbox runner: a function's deterministic cost (executed lines + elements built-ins touch) per input size."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from codegrad.runners import loader
from codegrad.runners.cost_hooks import Costs
from codegrad.runners.cost_import import Finder, Loaded, load
from codegrad.runners.cost_meter import Meter
from codegrad.runners.cost_series import Inputs, Plan, Side, call_once, measure
from codegrad.runners.record import write_json


class Progress:
    """Results written after every size, so a killed run still leaves what it measured."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {"results": {}, "current": None}

    def at(
        self, key: str, side: str, size: int | None, partial: dict[str, Any] | None = None
    ) -> None:
        self.data["current"] = {"key": key, "side": side, "size": size, "partial": partial}
        self._write()

    def done(self, key: str, result: dict[str, Any]) -> None:
        self.data["results"][key] = result
        self.data["current"] = None
        self._write()

    def _write(self) -> None:
        write_json(self.path, self.data)


def _first_call(
    loaded: Loaded, builders: dict[str, str], seed: int, n: int, seconds: float
) -> tuple[str, Inputs] | str:
    """The input mode whose smallest input the function accepts (a warm-up call), or why none."""
    reasons = []
    for mode, source in builders.items():
        try:
            built = Inputs(source, seed)
            args, kwargs = built(n)
        except Exception as exc:  # noqa: BLE001 - a builder that cannot build is reported
            reasons.append(f"{mode} inputs could not be built: {type(exc).__name__}: {exc}")
            continue
        run = call_once(loaded, args, kwargs, None, cap=math.inf, seconds=seconds)
        if run.status == "ok":
            return mode, built
        reasons.append(f"{mode} inputs of size {n}: {run.detail or run.status}")
    return "; ".join(reasons)


def run_target(spec: dict[str, Any], target: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Measure the driving side (base if it runs, else head) with predictive stops, then head at
    the same sizes with a cost cap per size of at least `slowdown` times the base cost."""
    key = target["key"]
    seed = int(spec["seed"])
    smallest = int(spec["sizes"][0])
    run_seconds = float(spec["run_seconds"])
    result: dict[str, Any] = {"status": "ok", "sides": {}, "notes": []}
    driver: Side | None = None
    chosen: tuple[str, Inputs] | None = None
    meter = _METER
    for side in target["sides"]:
        name, root = side["name"], Path(side["root"])
        progress.at(key, name, None, result)
        try:
            loaded = load(root, side["path"], target["qualname"], target.get("construct"), _COSTS)
        except loader.LoadError as exc:
            result["notes"].append(f"{name}: {exc}")
            continue
        if chosen is None:
            found = _first_call(loaded, target["builders"], seed, smallest, run_seconds)
            if isinstance(found, str):
                result["notes"].append(f"{name}: {found}")
                continue
            chosen = found
            result["mode"] = found[0]
        else:  # warm-up: imports and caches the first call fills are not part of the cost
            args, kwargs = chosen[1](smallest)
            call_once(loaded, args, kwargs, None, cap=math.inf, seconds=run_seconds)

        def report(n: int, partial: Side, name: str = name) -> None:
            progress.at(
                key, name, n, {**result, "sides": {**result["sides"], name: partial.to_json()}}
            )

        measured = measure(loaded, meter, chosen[1], _plan(spec, driver), root, report)
        result["sides"][name] = measured.to_json()
        driver = driver or measured
    if not result["sides"]:
        return {"status": "skipped", "reason": "; ".join(result["notes"]) or "nothing could run"}
    return result


def _plan(spec: dict[str, Any], driver: Side | None) -> Plan:
    """The driver runs every size until a run is predicted past run_cap; head (the follower) runs
    base's sizes until it is predicted past both run_cap and slowdown x base's cost there."""
    run_cap, abort_cap = float(spec["run_cap"]), float(spec["abort_cap"])
    run_seconds = float(spec["run_seconds"])
    timing = {
        "run_seconds": run_seconds,
        "side_seconds": float(spec["side_seconds"]),
        "hard_seconds": 2 * run_seconds + 1.0,
    }
    if driver is None:
        sizes = [int(n) for n in spec["sizes"]]
        return Plan(sizes, [abort_cap] * len(sizes), [run_cap] * len(sizes), **timing)
    sizes = list(driver.sizes)
    allowed = [float(spec["slowdown"]) * cost * 1.05 + 1 for cost in driver.costs]
    caps = [min(10 * abort_cap, max(abort_cap, a)) for a in allowed]
    limits = [max(run_cap, a) for a in allowed]
    if driver.stop and driver.stop.get("reason") in ("cost-cap", "timeout"):
        sizes.append(int(driver.stop["size"]))
        caps.append(abort_cap)
        limits.append(abort_cap)
    return Plan(sizes, caps, limits, **timing)


_METER = Meter()
_COSTS = Costs(_METER)


def main() -> int:
    """`python -m codegrad.runners.efficiency SPEC RESULT`."""
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    progress = Progress(Path(sys.argv[2]))
    sys.dont_write_bytecode = True
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 6000))
    sys.meta_path.insert(0, Finder([Path(r) for r in spec["roots"]], _COSTS))
    for target in spec["targets"]:
        started = time.monotonic()
        try:
            result = run_target(spec, target, progress)
        except loader.LoadError as exc:
            result = {"status": "skipped", "reason": str(exc)}
        except Exception as exc:  # noqa: BLE001 - one broken target must not hide the others
            result = {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
        result["seconds"] = round(time.monotonic() - started, 3)
        progress.done(target["key"], result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
