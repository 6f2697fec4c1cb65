"""The review benchmark (HumanEvalFix) with the LLM-derived checks on: detection and false alarms.

Each task becomes a real git repository and goes through `codegrad.review.review` with the checks of
review_humanevalfix.py plus "llm-checks", against an OpenAI-compatible endpoint (by default the
local Qwen2.5-Coder-0.5B from ../shared/tools/local-llm) through the on-disk response cache, so a
rerun is free and offline once recorded. The LLM sees only signatures and docstrings; the hidden
tests (`test`) are never read.

One run gives both numbers: "without" counts the findings of the other checks only, "with" adds
those of llm-checks (the checks do not influence each other). Detection and false alarms are
reported at the fail level (error) and at warning-or-above; the bad-test notes of llm-checks are
about the proposals, not the code, and are counted separately.

    python benchmarks/llm_checks_benchmark.py [--limit N | --tasks 0,5,47] [--jobs 2]
        [--settings new-code,regression] [--base-url URL] [--model NAME] [--out DIR]
    python benchmarks/llm_checks_benchmark.py --summarise benchmarks/results/llm_checks.partial.jsonl
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from review_humanevalfix import CHECKS, DATA, load_tasks, make_repo  # noqa: E402

HERE = Path(__file__).resolve().parent
LOCAL_LLM = HERE.parents[1] / "shared" / "tools" / "local-llm"
DEFAULT_URL = "http://127.0.0.1:8089/v1"
DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct"
NAME = "llm-checks"


def local_url() -> str:
    """The local model's base URL when `local-llm status` answers, else the default one."""
    try:
        done = subprocess.run(
            [str(LOCAL_LLM), "status"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return DEFAULT_URL
    url = done.stdout.strip().splitlines()[-1:] if done.returncode == 0 else []
    return url[0] if url else DEFAULT_URL


def review_task(
    task: dict[str, Any], setting: str, variants: tuple[str, ...], llm: dict[str, str]
) -> list[dict[str, Any]]:
    """The variants of one task one after the other in one process: the later ones find the
    earlier one's LLM answers remembered (run side by side, both would ask the LLM)."""
    return [review_case(task, setting, variant, llm) for variant in variants]


def review_case(
    task: dict[str, Any], setting: str, variant: str, llm: dict[str, str]
) -> dict[str, Any]:
    """Review one (task, setting, variant) with llm-checks on; summarise findings and LLM use."""
    from codegrad.review import review
    from codegrad.settings import build

    prompt = task["prompt"]
    head_solution = task["buggy_solution"] if variant == "buggy" else task["canonical_solution"]
    base_file = prompt + task["canonical_solution"] if setting == "regression" else None
    row: dict[str, Any] = {"task": task["task_id"], "setting": setting, "variant": variant}
    with tempfile.TemporaryDirectory(prefix="cg-llmbench-") as tmp:
        repo, base, head = make_repo(Path(tmp), base_file, prompt + head_solution)
        flags = {
            "base": base,
            "head": head,
            "checks": ",".join((*CHECKS, NAME)),
            "llm_base_url": llm["base_url"],
            "llm_model": llm["model"],
            "llm_cache": llm["cache"],
            "llm_timeout": llm["timeout"],
            "budget_seconds": 1800,
        }
        settings = build(repo, flags, env={})
        started = time.monotonic()
        try:
            outcome = review(settings)
        except Exception as exc:  # noqa: BLE001 - a benchmark row, not a crash
            return {**row, "error": repr(exc)}
        row["seconds"] = round(time.monotonic() - started, 2)
    llm_result = next((r for r in outcome.evidence.results if r.check == NAME), None)
    row["functions"] = len(outcome.targets)
    row["findings"] = [
        {
            "check": f.check,
            "kind": f.kind.value,
            "severity": f.level.value,
            "input": f.input,
            "message": f.message[:400],
        }
        for f in outcome.findings
    ]
    row["llm"] = {
        "checked": list(llm_result.checked) if llm_result else [],
        "skipped": dict(llm_result.skipped) if llm_result else {},
        "stats": dict(llm_result.stats) if llm_result else {},
    }
    row["notes"] = list(outcome.notes)
    return row


# --------------------------------------------------------------------------- summary (pure)


def flagged(
    row: dict[str, Any], levels: tuple[str, ...], *, with_llm: bool, only_llm: bool = False
) -> bool:
    for finding in row.get("findings", []):
        if finding["severity"] not in levels or finding["kind"] == "bad-test":
            continue
        is_llm = finding["check"] == NAME
        if only_llm and not is_llm:
            continue
        if is_llm and not with_llm:
            continue
        return True
    return False


def rate(rows: list[dict[str, Any]], setting: str, variant: str, **how: Any) -> dict[str, Any]:
    chosen = [
        r for r in rows if r["setting"] == setting and r["variant"] == variant and "error" not in r
    ]
    hits = sum(flagged(r, **how) for r in chosen)
    return {
        "flagged": hits,
        "of": len(chosen),
        "rate": round(hits / len(chosen), 4) if chosen else None,
    }


ERROR = ("error",)
WARNING_UP = ("error", "warning")
ANY = ("error", "warning", "note")  # review_humanevalfix's regression metric (bad-test notes aside)


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for label, levels in (("error", ERROR), ("warning+", WARNING_UP), ("any", ANY)):
        for name, how in (
            ("without llm-checks", {"with_llm": False}),
            ("llm-checks only", {"with_llm": True, "only_llm": True}),
            ("with llm-checks", {"with_llm": True}),
        ):
            table[f"{name} [{label}]"] = {
                "new_code_detection": rate(rows, "new-code", "buggy", levels=levels, **how),
                "new_code_false_alarms": rate(rows, "new-code", "canonical", levels=levels, **how),
                "regression_detection": rate(rows, "regression", "buggy", levels=levels, **how),
            }
    calls = [
        r["llm"]["stats"].get("llm_calls", 0) - r["llm"]["stats"].get("llm_cached", 0)
        for r in rows
        if "llm" in r
    ]
    bad_tests = sum(
        1
        for r in rows
        for f in r.get("findings", [])
        if f["check"] == NAME and f["kind"] == "bad-test"
    )
    skipped: dict[str, int] = {}
    for r in rows:
        for reason in (r.get("llm") or {}).get("skipped", {}).values():
            short = reason.split(":")[0][:60]
            skipped[short] = skipped.get(short, 0) + 1
    return {
        "table": table,
        "rows": len(rows),
        "errors": sum(1 for r in rows if "error" in r),
        "llm_calls_sent": sum(calls),
        "bad_test_notes": bad_tests,
        "llm_skipped": skipped,
    }


def markdown(summary: dict[str, Any]) -> str:
    def cell(entry: dict[str, Any]) -> str:
        if not entry["of"]:
            return "n/a"
        return f"{entry['flagged']}/{entry['of']} = {100 * entry['rate']:.1f}%"

    lines = [
        "| checks [level] | new code: detection | new code: false alarms | regression: detection |",
        "|---|---|---|---|",
    ]
    for name, entry in summary["table"].items():
        lines.append(
            f"| {name} | {cell(entry['new_code_detection'])} | {cell(entry['new_code_false_alarms'])} "
            f"| {cell(entry['regression_detection'])} |"
        )
    lines += [
        "",
        f"Rows: {summary['rows']} (harness errors: {summary['errors']}); LLM calls sent (not from "
        f"the cache): {summary['llm_calls_sent']}; bad-test notes: {summary['bad_test_notes']}; "
        f"llm-checks skipped: {summary['llm_skipped']}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=None, help="first N tasks only")
    parser.add_argument("--tasks", help="comma-separated task numbers, e.g. 0,5,47")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--settings", default="new-code")
    parser.add_argument("--base-url", default=None, help="default: what `local-llm status` prints")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument(
        "--timeout", default="900", help="seconds per LLM request (the local model is slow)"
    )
    parser.add_argument("--cache", type=Path, default=HERE / "results" / "cache")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument(
        "--summarise", type=Path, help="only summarise the rows of a (partial) JSONL file of a run"
    )
    args = parser.parse_args(argv)
    if args.summarise:
        rows = [json.loads(line) for line in args.summarise.read_text().splitlines() if line]
        print(markdown(summarise(rows)))
        return 0
    if not args.data.is_file():
        print(f"llm_checks_benchmark: no data at {args.data}; pass --data PATH", file=sys.stderr)
        return 2
    tasks = load_tasks(args.data)
    if args.tasks:
        wanted = {f"Python/{n.strip()}" for n in args.tasks.split(",")}
        tasks = [t for t in tasks if t["task_id"] in wanted]
    if args.limit:
        tasks = tasks[: args.limit]
    llm = {
        "base_url": args.base_url or local_url(),
        "model": args.model,
        "cache": str(args.cache.resolve()),
        "timeout": args.timeout,
    }
    jobs = []
    for setting in args.settings.split(","):
        variants = ("canonical", "buggy") if setting == "new-code" else ("buggy",)
        jobs += [(t, setting, variants, llm) for t in tasks]
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    args.out.mkdir(parents=True, exist_ok=True)
    partial = args.out / "llm_checks.partial.jsonl"
    with ProcessPoolExecutor(max_workers=args.jobs) as pool, partial.open("w") as log:
        futures = [pool.submit(review_task, *job) for job in jobs]
        for index, future in enumerate(futures, 1):
            for row in future.result():
                rows.append(row)
                log.write(json.dumps(row) + "\n")
            log.flush()
            if index % 5 == 0:
                elapsed = time.monotonic() - started
                print(f"{index}/{len(jobs)} tasks, {elapsed:.0f}s", file=sys.stderr)
    summary = summarise(rows)
    summary["tasks"] = len(tasks)
    summary["wall_seconds"] = round(time.monotonic() - started, 1)
    summary["llm"] = {"base_url": llm["base_url"], "model": llm["model"]}
    (args.out / "llm_checks.json").write_text(
        json.dumps({"summary": summary, "rows": rows}, indent=1)
    )
    table = markdown(summary)
    (args.out / "llm_checks.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
