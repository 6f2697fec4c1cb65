"""Efficiency check benchmark: planted inefficiencies and behaviour-preserving refactors, each run 3 times.

Every case in benchmarks/efficiency_pairs/<name>/ is a base.py/head.py pair (manifest: pairs.json).
Each pair goes through the real EfficiencyCheck (sandboxed runner included), `--repeats` times.
Reported per case: the verdict (finding kinds), the fitted base/head classes, whether the verdict and
classes were the same on every repeat, and the check's seconds for the function. Summary: detection of
planted regressions (with their classes), bound findings, false alarms on refactors, repeatability,
seconds per function (mean, max). Results go to benchmarks/results/efficiency.{json,md}.

    python benchmarks/efficiency_benchmark.py [--repeats 3] [--only membership_list,refactor_rename]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PAIRS = HERE / "efficiency_pairs"
RESULTS = HERE / "results"
KIND_OF = {"regression": "performance-regression", "bound": "complexity-bound"}


def load_cases(only: set[str] | None) -> list[dict[str, Any]]:
    cases = json.loads((PAIRS / "pairs.json").read_text(encoding="utf-8"))["cases"]
    return [c for c in cases if not only or c["name"] in only]


def run_once(case: dict[str, Any], tmp: Path) -> dict[str, Any]:
    """One pass of the real check over the case's changed function."""
    from codegrad.diff import changes
    from codegrad.model import Workspace
    from codegrad.settings import Settings
    from codegrad.verify.checks.base import CheckContext
    from codegrad.verify.checks.efficiency import EfficiencyCheck

    base_text = (PAIRS / case["name"] / "base.py").read_text(encoding="utf-8")
    head_text = (PAIRS / case["name"] / "head.py").read_text(encoding="utf-8")
    for side, text in (("base", base_text), ("head", head_text)):
        (tmp / side).mkdir(parents=True, exist_ok=True)
        (tmp / side / "mod.py").write_text(text, encoding="utf-8")
    old = {t.qualname: t for t in changes.all_functions("mod.py", base_text)}
    target = next(
        t for t in changes.all_functions("mod.py", head_text) if t.qualname == case["function"]
    )
    if target.qualname in old:
        before = old[target.qualname]
        target = replace(
            target, base_path="mod.py", base_source=before.source, base_lineno=before.lineno
        )
    scratch = tmp / "scratch"
    scratch.mkdir(exist_ok=True)
    ctx = CheckContext(
        settings=Settings(),
        workspace=Workspace(head_root=tmp / "head", base_root=tmp / "base"),
        scratch=scratch,
        deadline=time.monotonic() + 600,
    )
    result = EfficiencyCheck().run([target], ctx)
    stats = result.stats.get("targets", {}).get(target.key, {})
    findings = [
        {
            "kind": f.kind.value,
            "base_class": f.details.get("base_class"),
            "head_class": f.details.get("head_class"),
            "line": f.line,
            "message": f.message,
        }
        for f in result.findings
    ]
    return {
        "kinds": sorted(f["kind"] for f in findings),
        "base_class": stats.get("base_class"),
        "head_class": stats.get("head_class"),
        "findings": findings,
        "skipped": result.skipped.get(target.key),
        "seconds": round(result.seconds, 3),
    }


def classes_match(case: dict[str, Any], run: dict[str, Any]) -> bool | None:
    """The expected classes were reported (a head that ran out of budget may say "worse than X")."""
    if case["expect"] == "clean" or case.get("head_class") is None:
        return None
    finding = next((f for f in run["findings"] if f["kind"] == KIND_OF[case["expect"]]), None)
    if finding is None:
        return False
    head = str(finding["head_class"] or "")
    head_ok = head == case["head_class"] or head.startswith("worse than")
    base_ok = case.get("base_class") is None or finding["base_class"] == case["base_class"]
    return head_ok and base_ok


def judge_case(case: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, Any]:
    expected_kind = KIND_OF.get(case["expect"])
    verdicts = [(tuple(r["kinds"]), r["base_class"], r["head_class"]) for r in runs]
    detected = [expected_kind in r["kinds"] for r in runs] if expected_kind else None
    false_alarm = [bool(r["kinds"]) for r in runs] if case["expect"] == "clean" else None
    matches = [classes_match(case, r) for r in runs]
    return {
        "name": case["name"],
        "expect": case["expect"],
        "what": case["what"],
        "expected_classes": [case.get("base_class"), case.get("head_class")],
        "detected": all(detected) if detected is not None else None,
        "false_alarm": any(false_alarm) if false_alarm is not None else None,
        "classes_ok": all(matches) if matches and matches[0] is not None else None,
        "repeatable": len(set(verdicts)) == 1,
        "kinds": runs[0]["kinds"],
        "base_class": runs[0]["base_class"],
        "head_class": runs[0]["head_class"],
        "message": runs[0]["findings"][0]["message"] if runs[0]["findings"] else None,
        "skipped": runs[0]["skipped"],
        "seconds": [r["seconds"] for r in runs],
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    planted = [r for r in rows if r["expect"] in ("regression", "bound")]
    clean = [r for r in rows if r["expect"] == "clean"]
    seconds = [s for r in rows for s in r["seconds"]]
    with_classes = [r for r in planted if r["classes_ok"] is not None]
    return {
        "planted": len(planted),
        "detected": sum(1 for r in planted if r["detected"]),
        "classes_ok": sum(1 for r in with_classes if r["classes_ok"]),
        "with_classes": len(with_classes),
        "clean_cases": len(clean),
        "false_alarms": sum(1 for r in clean if r["false_alarm"]),
        "repeatable": sum(1 for r in rows if r["repeatable"]),
        "cases": len(rows),
        "seconds_mean": round(statistics.mean(seconds), 2) if seconds else None,
        "seconds_max": round(max(seconds), 2) if seconds else None,
    }


def markdown(summary: dict[str, Any], rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    s = summary
    lines = [
        "# Efficiency check benchmark",
        "",
        f"`{meta['command']}` on {meta['machine']} ({meta['cpus']} CPUs, load {meta['load']}), "
        f"{meta['repeats']} repeats per case, {meta['date']}.",
        "",
        f"- planted inefficiencies flagged: **{s['detected']}/{s['planted']}** "
        f"(expected classes reported: {s['classes_ok']}/{s['with_classes']})",
        f"- false alarms on behaviour-preserving refactors: **{s['false_alarms']}/{s['clean_cases']}**",
        f"- same verdict and classes on every repeat: **{s['repeatable']}/{s['cases']}**",
        f"- seconds per function (whole check, base + head): mean {s['seconds_mean']}, max {s['seconds_max']}",
        "",
        "| case | expect | verdict | base class | head class | ok | repeatable | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ok = (
            ("yes" if not r["false_alarm"] else "FALSE ALARM")
            if r["expect"] == "clean"
            else (
                "yes"
                if r["detected"] and r["classes_ok"] is not False
                else "MISSED"
                if not r["detected"]
                else "classes differ"
            )
        )
        verdict = ", ".join(r["kinds"]) or "clean"
        seconds = "/".join(f"{x:.1f}" for x in r["seconds"])
        lines.append(
            f"| {r['name']} | {r['expect']} | {verdict} | {r['base_class'] or '-'} | {r['head_class'] or '-'} "
            f"| {ok} | {'yes' if r['repeatable'] else 'NO'} | {seconds} |"
        )
    lines += ["", "What each case plants or refactors:", ""]
    lines += [f"- `{r['name']}`: {r['what']}" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", help="comma-separated case names")
    parser.add_argument(
        "--out", default=str(RESULTS), help="folder for efficiency.json / efficiency.md"
    )
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    cases = load_cases(only)
    rows = []
    for case in cases:
        runs = []
        for repeat in range(args.repeats):
            with tempfile.TemporaryDirectory(prefix="codegrad-eff-") as tmp:
                runs.append(run_once(case, Path(tmp)))
            print(
                f"{case['name']:28} run {repeat + 1}: {runs[-1]['kinds'] or 'clean'} "
                f"{runs[-1]['base_class']} -> {runs[-1]['head_class']} {runs[-1]['seconds']:.1f}s",
                flush=True,
            )
        rows.append(judge_case(case, runs))
    summary = summarise(rows)
    meta = {
        "command": "python benchmarks/efficiency_benchmark.py"
        + (f" --only {args.only}" if args.only else "")
        + (f" --repeats {args.repeats}" if args.repeats != 3 else ""),
        "machine": platform.platform(),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "repeats": args.repeats,
        "date": time.strftime("%Y-%m-%d"),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "efficiency.json").write_text(
        json.dumps({"meta": meta, "summary": summary, "cases": rows}, indent=2) + "\n",
        encoding="utf-8",
    )
    (out / "efficiency.md").write_text(markdown(summary, rows, meta), encoding="utf-8")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
