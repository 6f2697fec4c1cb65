"""Quick verification power of the properties and differential checks on HumanEvalFix (no git, no app).

For each task, task.py = prompt + solution is written into a temporary head (and base) tree and the two
checks run directly on Targets built from it. Reported per check:
  new-code false alarms   canonical solution flagged (findings at "error" level), no base
  new-code detection      buggy solution flagged (findings at "error" level), no base
  regression detection    base = canonical, head = buggy, any finding counts
Hidden tests are never read: only prompt (signature + docstring) and the solutions.

    python benchmarks/verification_quick.py [--tasks 0,5,47] [--limit N] [--jobs 2] [--json out.json]
        [--seed 0] [--max-examples 100] [--settings new-code,regression] [--variants canonical,buggy]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

DATA = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "humanevalfix"
    / "humanevalpack.jsonl"
)


def load_tasks(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _targets(source: str, base_source: str | None) -> list[Any]:
    """Every function of task.py (new code), or only the changed ones with their base (regression)."""
    from dataclasses import replace

    from codegrad.diff import changes

    head = changes.all_functions("task.py", source)
    if base_source is None:
        return head
    base = {t.qualname: t for t in changes.all_functions("task.py", base_source)}
    out = []
    for target in head:
        old = base.get(target.qualname)
        if old is not None and old.source != target.source:
            out.append(
                replace(target, base_path="task.py", base_source=old.source, base_lineno=old.lineno)
            )
    return out


def run_case(
    task: dict[str, Any],
    setting: str,
    variant: str,
    checks: tuple[str, ...],
    knobs: dict[str, Any],
) -> dict[str, Any]:
    """One (task, setting, variant): run the checks, summarise the findings."""
    from codegrad.model import Workspace
    from codegrad.settings import Settings
    from codegrad.verify.checks.base import CheckContext
    from codegrad.verify.checks.differential import DifferentialCheck
    from codegrad.verify.checks.properties import PropertiesCheck

    solution = task["buggy_solution"] if variant == "buggy" else task["canonical_solution"]
    head_source = task["prompt"] + solution
    base_source = task["prompt"] + task["canonical_solution"] if setting == "regression" else None
    row: dict[str, Any] = {
        "task": task["task_id"],
        "setting": setting,
        "variant": variant,
        "checks": {},
    }
    with tempfile.TemporaryDirectory(prefix="cg-quick-") as tmp:
        root = Path(tmp)
        (root / "head").mkdir()
        (root / "head" / "task.py").write_text(head_source)
        base_root = None
        if base_source is not None:
            base_root = root / "base"
            base_root.mkdir()
            (base_root / "task.py").write_text(base_source)
        (root / "scratch").mkdir()
        targets = _targets(head_source, base_source)
        row["functions"] = len(targets)
        ctx = CheckContext(
            settings=Settings(**knobs),
            workspace=Workspace(head_root=root / "head", base_root=base_root),
            scratch=root / "scratch",
            deadline=time.monotonic() + 600,
        )
        available = {"properties": PropertiesCheck(), "differential": DifferentialCheck()}
        for name in checks:
            if name == "differential" and base_root is None:
                continue
            started = time.monotonic()
            result = available[name].run(targets, ctx)
            row["checks"][name] = {
                "seconds": round(time.monotonic() - started, 2),
                "findings": [
                    {
                        "function": f.function,
                        "kind": f.kind.value,
                        "severity": f.level.value,
                        "input": f.input,
                        "message": f.message[:300],
                    }
                    for f in result.findings
                ],
                "skipped": result.skipped,
                "stats": {
                    k: v
                    for k, v in result.stats.items()
                    if k in ("calls", "out_of_domain", "partial", "hung")
                },
            }
    return row


def _flagged(row: dict[str, Any], check: str | None, levels: tuple[str, ...]) -> bool:
    picked = row["checks"].values() if check is None else [row["checks"].get(check, {})]
    return any(f["severity"] in levels for c in picked for f in c.get("findings", []))


def summarise(rows: list[dict[str, Any]], checks: tuple[str, ...]) -> list[str]:
    lines = [
        "| check | new code: false alarms | new code: detection | regression: detection | s/function |",
        "|---|---|---|---|---|",
    ]
    for check in (*checks, None):
        cells = []
        for setting, variant, levels in (
            ("new-code", "canonical", ("error",)),
            ("new-code", "buggy", ("error",)),
            ("regression", "buggy", ("error", "warning", "note")),
        ):
            chosen = [r for r in rows if r["setting"] == setting and r["variant"] == variant]
            hits = sum(_flagged(r, check, levels) for r in chosen)
            cells.append(
                f"{hits}/{len(chosen)} = {100 * hits / len(chosen):.1f}%" if chosen else "n/a"
            )
        times = [
            r["checks"][c]["seconds"] / max(1, r["functions"])
            for r in rows
            for c in ((check,) if check else tuple(r["checks"]))
            if c in r["checks"] and r["functions"]
        ]
        mean = f"{sum(times) / len(times):.2f}" if times else "n/a"
        lines.append(f"| {check or 'total'} | {' | '.join(cells)} | {mean} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--tasks", help="comma-separated task numbers, e.g. 0,5,47")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--checks", default="properties,differential")
    parser.add_argument("--settings", default="new-code,regression")
    parser.add_argument("--json", type=Path, help="write every row here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--variants", default="canonical,buggy", help="new-code variants to run")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"verification_quick: no data at {args.data}; pass --data PATH", file=sys.stderr)
        return 2
    tasks = load_tasks(args.data)
    if args.tasks:
        wanted = {f"Python/{n.strip()}" for n in args.tasks.split(",")}
        tasks = [t for t in tasks if t["task_id"] in wanted]
    if args.limit:
        tasks = tasks[: args.limit]
    checks = tuple(c.strip() for c in args.checks.split(",") if c.strip())
    cases = []
    for setting in args.settings.split(","):
        variants = tuple(args.variants.split(",")) if setting == "new-code" else ("buggy",)
        knobs = {"seed": args.seed, "max_examples": args.max_examples}
        cases += [(t, setting, v, checks, knobs) for t in tasks for v in variants]
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for index, row in enumerate(pool.map(run_case, *zip(*cases, strict=True)), 1):
            rows.append(row)
            if index % 25 == 0:
                print(
                    f"{index}/{len(cases)} cases, {time.monotonic() - started:.0f}s",
                    file=sys.stderr,
                )
    lines = summarise(rows, checks)
    lines.append(f"\n{len(tasks)} tasks, {time.monotonic() - started:.0f}s wall")
    for setting, variant, levels in (
        ("new-code", "canonical", ("error",)),
        ("regression", "buggy", ("error", "warning", "note")),
    ):
        chosen = [r for r in rows if r["setting"] == setting and r["variant"] == variant]
        if setting == "new-code":
            names = [r["task"] for r in chosen if _flagged(r, None, levels)]
            lines.append(f"false alarms: {', '.join(names) or 'none'}")
        else:
            names = [r["task"] for r in chosen if not _flagged(r, None, levels)]
            lines.append(f"regressions missed: {', '.join(names) or 'none'}")
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
