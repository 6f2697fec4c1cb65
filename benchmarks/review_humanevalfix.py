"""Verification power of `codegrad review` on HumanEvalFix: detection and false alarms, per check.

Each task becomes a real temporary git repository and goes through `codegrad.review.review`, the code path of the
CLI. Settings:
  new-code    base has no task file; head adds prompt + solution. Canonical flagged = false alarm,
              buggy flagged = detection (a finding at the fail level, "error" by default).
  regression  base holds prompt + canonical solution, head the buggy one; any finding counts
              (notes such as behaviour changes included).
Hidden tests are never used: the review sees only the prompt (signature + docstring) and the code.

    python benchmarks/review_humanevalfix.py [--limit N] [--jobs 2] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
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
CHECKS = ("docstrings", "properties", "differential", "project-tests")


def load_tasks(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def make_repo(root: Path, base_file: str | None, head_file: str) -> tuple[Path, str, str]:
    """A repository with one base commit and one head commit; returns (repo, base sha, head sha)."""
    repo = root / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("benchmark task\n")
    if base_file is not None:
        (repo / "task.py").write_text(base_file)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    base = _git(repo, "rev-parse", "HEAD")
    (repo / "task.py").write_text(head_file)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "head")
    return repo, base, _git(repo, "rev-parse", "HEAD")


def review_case(task: dict[str, Any], setting: str, variant: str) -> dict[str, Any]:
    """Review one (task, setting, variant) and summarise the findings."""
    from codegrad.review import review
    from codegrad.settings import build

    prompt = task["prompt"]
    head_solution = task["buggy_solution"] if variant == "buggy" else task["canonical_solution"]
    base_file = prompt + task["canonical_solution"] if setting == "regression" else None
    with tempfile.TemporaryDirectory(prefix="cg-bench-") as tmp:
        repo, base, head = make_repo(Path(tmp), base_file, prompt + head_solution)
        settings = build(repo, {"base": base, "head": head, "checks": ",".join(CHECKS)}, env={})
        started = time.monotonic()
        try:
            outcome = review(settings)
        except Exception as exc:  # noqa: BLE001 - a benchmark row, not a crash
            return {
                "task": task["task_id"],
                "setting": setting,
                "variant": variant,
                "error": repr(exc),
            }
        seconds = time.monotonic() - started
    findings = list(outcome.findings)  # every finding counts, helpers in the prompt included
    return {
        "task": task["task_id"],
        "setting": setting,
        "variant": variant,
        "seconds": seconds,
        "functions": len(outcome.targets),
        "findings": [
            {
                "check": f.check,
                "kind": f.kind.value,
                "severity": f.level.value,
                "input": f.input,
                "message": f.message[:300],
            }
            for f in findings
        ],
        "notes": list(outcome.notes),
    }


def flagged(row: dict[str, Any], check: str | None, levels: tuple[str, ...]) -> bool:
    return any(
        f["severity"] in levels and (check is None or f["check"] == check)
        for f in row.get("findings", [])
    )


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def rate(
        setting: str, variant: str, check: str | None, levels: tuple[str, ...]
    ) -> dict[str, Any]:
        chosen = [r for r in rows if r["setting"] == setting and r["variant"] == variant]
        hits = sum(flagged(r, check, levels) for r in chosen)
        return {
            "flagged": hits,
            "of": len(chosen),
            "rate": round(hits / len(chosen), 4) if chosen else None,
        }

    fail = ("error",)
    anything = ("error", "warning", "note")
    table: dict[str, Any] = {}
    for check in (*CHECKS, None):
        name = check or "total"
        table[name] = {
            "new_code_detection": rate("new-code", "buggy", check, fail),
            "new_code_false_alarms": rate("new-code", "canonical", check, fail),
            "regression_detection": rate("regression", "buggy", check, anything),
        }
    times = [r["seconds"] / max(1, r["functions"]) for r in rows if "seconds" in r]
    kinds = Counter(f["kind"] for r in rows for f in r.get("findings", []))
    return {
        "per_check": table,
        "median_seconds_per_function": round(statistics.median(times), 2) if times else None,
        "median_seconds_per_review": round(
            statistics.median([r["seconds"] for r in rows if "seconds" in r]), 2
        )
        if times
        else None,
        "errors": sum(1 for r in rows if "error" in r),
        "kinds": dict(kinds),
    }


def markdown(summary: dict[str, Any]) -> str:
    def cell(entry: dict[str, Any]) -> str:
        if not entry["of"]:
            return "n/a"
        return f"{entry['flagged']}/{entry['of']} = {100 * entry['rate']:.1f}%"

    lines = [
        "| check | new code: detection | new code: false alarms | regression: detection |",
        "|---|---|---|---|",
    ]
    for name, entry in summary["per_check"].items():
        lines.append(
            f"| {name} | {cell(entry['new_code_detection'])} | {cell(entry['new_code_false_alarms'])} "
            f"| {cell(entry['regression_detection'])} |"
        )
    lines.append("")
    lines.append(
        f"Median seconds per changed function: {summary['median_seconds_per_function']} "
        f"(per review: {summary['median_seconds_per_review']}); harness errors: {summary['errors']}."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=None, help="first N tasks only")
    parser.add_argument("--tasks", help="comma-separated task numbers, e.g. 0,5,47")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--settings", default="new-code,regression")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(
            f"review_humanevalfix: no data at {args.data}; pass --data PATH to humanevalpack.jsonl",
            file=sys.stderr,
        )
        return 2
    tasks = load_tasks(args.data)
    if args.tasks:
        wanted = {f"Python/{n.strip()}" for n in args.tasks.split(",")}
        tasks = [t for t in tasks if t["task_id"] in wanted]
    if args.limit:
        tasks = tasks[: args.limit]
    cases = []
    for setting in args.settings.split(","):
        variants = ("canonical", "buggy") if setting == "new-code" else ("buggy",)
        cases += [(t, setting, v) for t in tasks for v in variants]
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(review_case, *case) for case in cases]
        for index, future in enumerate(futures, 1):
            rows.append(future.result())
            if index % 20 == 0:
                print(
                    f"{index}/{len(cases)} cases, {time.monotonic() - started:.0f}s",
                    file=sys.stderr,
                )
    summary = summarise(rows)
    summary["tasks"] = len(tasks)
    summary["wall_seconds"] = round(time.monotonic() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "review_humanevalfix.json").write_text(
        json.dumps({"summary": summary, "rows": rows}, indent=1)
    )
    table = markdown(summary)
    (args.out / "review_humanevalfix.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
