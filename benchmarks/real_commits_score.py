"""Real-commit benchmark scoring: a review's JSON report -> findings, detection, false alarms, tables.

Pure functions of the per-unit result records that benchmarks/real_commits.py writes.

Definitions (the same for every setting):
- a finding *flags* a unit at level L when its severity is L or worse: what a user sees;
- a finding *detects* the change when, in addition, it is on a function the PR changed, is not
  `pre-existing` (base fails the same way), not `bad-test` and not `error` (a check that could not
  run): a signal caused by the change, not by the harness or by the project's old failures;
- on a fix case, detection is a true positive; on a correct commit every finding at warning or
  above is a false alarm until shown to be a real bug (listed with its input for triage).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

LEVELS = ("error", "warning", "note")
RANK = {"error": 3, "warning": 2, "note": 1}
NOT_SIGNAL = ("pre-existing", "bad-test", "error")
SETTING_TITLES = {
    "kept": "bug put back, the fix's tests kept",
    "removed": "bug put back, the fix's tests removed",
    "correct": "correct commits as merged",
}
OWN_CHECK = "project-tests"


def _short(text: Any, limit: int = 160) -> str:
    value = "" if text is None else str(text)
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def summarize_report(report: Mapping[str, Any]) -> dict[str, Any]:
    """What the benchmark keeps of one codegrad JSON report."""
    targets = [t["key"] for t in report.get("targets", []) if not t.get("synthetic")]
    findings = [
        {
            "path": f.get("path"),
            "function": f.get("function"),
            "check": f.get("check"),
            "kind": f.get("kind"),
            "severity": f.get("severity"),
            "message": _short(f.get("message"), 300),
            "input": _short(f.get("input"), 300),
            "expected": _short(f.get("expected"), 200),
            "actual": _short(f.get("actual"), 200),
            "base_fails_same": f.get("base_fails_same"),
        }
        for f in report.get("findings", [])
    ]
    checks = {
        c["check"]: {"checked": len(c.get("checked", [])), "skipped": len(c.get("skipped", {}))}
        for c in report.get("checks", [])
    }
    return {
        "targets": targets,
        "findings": findings,
        "checks": checks,
        "notes": [_short(n, 300) for n in report.get("notes", [])],
        "seconds_reported": report.get("summary", {}).get("seconds"),
    }


def at_least(severity: str | None, level: str) -> bool:
    return RANK.get(severity or "", 0) >= RANK[level]


def is_signal(finding: Mapping[str, Any], targets: Iterable[str]) -> bool:
    """A finding caused by the change on a function the change touched."""
    key = f"{finding.get('path')}::{finding.get('function')}"
    return (
        key in set(targets)
        and finding.get("kind") not in NOT_SIGNAL
        and finding.get("base_fails_same") is not True
    )


def score_unit(record: Mapping[str, Any]) -> dict[str, Any]:
    """Per-unit verdicts: flagged/detected at warning+ and at any level, overall and by check."""
    review = record.get("review", {})
    if review.get("status") != "ok":
        return {"ran": False, "status": review.get("status", "missing")}
    findings = review.get("findings", [])
    targets = review.get("targets", [])
    signal = [f for f in findings if is_signal(f, targets)]
    own = [f for f in signal if f.get("check") != OWN_CHECK]
    levels = Counter(f.get("severity") for f in findings)
    by_check: Counter[str] = Counter()
    for f in findings:
        by_check[f"{f.get('check')}/{f.get('severity')}"] += 1
    return {
        "ran": True,
        "status": "ok",
        "levels": {lv: levels.get(lv, 0) for lv in LEVELS},
        "by_check": dict(sorted(by_check.items())),
        "flagged_warning": any(at_least(f.get("severity"), "warning") for f in findings),
        "flagged_any": bool(findings),
        "detected_warning": any(at_least(f.get("severity"), "warning") for f in signal),
        "detected_any": bool(signal),
        "own_warning": any(at_least(f.get("severity"), "warning") for f in own),
        "own_any": bool(own),
        "detecting_checks": sorted({str(f.get("check")) for f in signal}),
    }


def _ratio(record: Mapping[str, Any]) -> float | None:
    review = record.get("review", {}).get("seconds", [])
    pytest = record.get("pytest", {}).get("seconds", [])
    if not review or not pytest or min(pytest) <= 0:
        return None
    return statistics.median(review) / statistics.median(pytest)


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} = {100.0 * n / d:.0f}%" if d else "0/0"


def summarize(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Totals per setting, the false alarms on correct commits, and the time ratios."""
    out: dict[str, Any] = {"settings": {}, "false_alarms": [], "time": {}}
    for variant in SETTING_TITLES:
        rows = [r for r in records if r["variant"] == variant]
        scores = [score_unit(r) for r in rows]
        ran = [s for s in scores if s["ran"]]
        keys = ("flagged_warning", "flagged_any", "detected_warning", "detected_any")
        entry: dict[str, Any] = {"units": len(rows), "ran": len(ran)}
        entry.update({k: sum(1 for s in ran if s[k]) for k in (*keys, "own_warning", "own_any")})
        entry["pytest_fails_on_head"] = sum(
            1 for r in rows if any(code != 0 for code in r.get("pytest", {}).get("exit_codes", []))
        )
        entry["not_ran"] = {
            r["unit"]: s["status"] for r, s in zip(rows, scores, strict=True) if not s["ran"]
        }
        out["settings"][variant] = entry
    for record in records:
        if record["variant"] != "correct":
            continue
        for f in record.get("review", {}).get("findings", []):
            if at_least(f.get("severity"), "warning"):
                out["false_alarms"].append({"unit": record["unit"], **f})
    ratios = [x for x in (_ratio(r) for r in records) if x is not None]
    if ratios:
        out["time"] = {
            "pairs": len(ratios),
            "median_ratio": round(statistics.median(ratios), 2),
            "min_ratio": round(min(ratios), 2),
            "max_ratio": round(max(ratios), 2),
        }
        for project in sorted({r["project"] for r in records}):
            mine = [x for r in records if r["project"] == project and (x := _ratio(r)) is not None]
            if mine:
                out["time"][project] = round(statistics.median(mine), 2)
    return out


def _fmt_levels(score: Mapping[str, Any]) -> str:
    if not score["ran"]:
        return score["status"]
    return "/".join(str(score["levels"][lv]) for lv in LEVELS)


def _yes(flag: bool) -> str:
    return "yes" if flag else "–"


def _seconds(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.1f}" if values else "–"


def markdown(records: Sequence[Mapping[str, Any]], meta: Mapping[str, Any]) -> str:
    """The results as a GitHub-flavoured markdown page."""
    summary = summarize(records)
    lines = [
        "# codegrad review on real commits",
        "",
        "Made by " + ", ".join(f"`{c}`" for c in meta.get("command", [])) + "  ",
        "codegrad at "
        + ", ".join(f"`{c}`" for c in meta.get("codegrad_commit", []))
        + ", Python "
        + ", ".join(meta.get("python", []))
        + "; `codegrad review` with its defaults, no LLM.",
        "",
        "Detected = a finding caused by the change on a function it touched (not pre-existing, not a "
        "check that failed to run); flagged = any finding at that level. "
        "Own checks = every check but `project-tests`. On correct commits the same columns count "
        "false alarms (warning+) and notes (any level).",
        "",
        "| setting | PRs | detected warning+ | detected any level | own checks warning+ "
        "| own checks any level | flagged warning+ | project's pytest fails on head |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for variant, title in SETTING_TITLES.items():
        s = summary["settings"][variant]
        if not s["units"]:
            continue
        n = s["ran"]
        lines.append(
            f"| {title} | {n} | {_pct(s['detected_warning'], n)} | {_pct(s['detected_any'], n)} "
            f"| {_pct(s['own_warning'], n)} | {_pct(s['own_any'], n)} "
            f"| {_pct(s['flagged_warning'], n)} | {s['pytest_fails_on_head']}/{s['units']} |"
        )
    not_ran = {u: st for s in summary["settings"].values() for u, st in s["not_ran"].items()}
    if not_ran:
        lines += ["", "Not scored: " + ", ".join(f"`{u}` ({st})" for u, st in not_ran.items())]
    t = summary["time"]
    if t:
        per = ", ".join(
            f"{k} {v}×"
            for k, v in t.items()
            if k not in ("pairs", "median_ratio", "min_ratio", "max_ratio")
        )
        lines += [
            "",
            f"Review time / the project's own `python -m pytest` on the same head checkout "
            f"(paired, alternating order): median {t['median_ratio']}×, range "
            f"{t['min_ratio']}–{t['max_ratio']}× over {t['pairs']} PRs; per project: {per}.",
        ]
    lines += ["", "## False alarms on correct commits (every finding at warning or above)", ""]
    if summary["false_alarms"]:
        lines += [
            "| PR | function | check | kind | severity | input | message |",
            "|---|---|---|---|---|---|---|",
        ]
        for f in summary["false_alarms"]:
            lines.append(
                f"| {f['unit']} | `{_cell(f['function'])}` | {f['check']} | {f['kind']} | {f['severity']} "
                f"| {_code(f['input'])} | {_cell(f['message'])} |"
            )
    else:
        lines.append("None.")
    lines += ["", "## Every PR", ""]
    lines += [
        "| PR | commit | functions | findings e/w/n | by check | detected w+ / any | by | review s "
        "| pytest s | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        s = score_unit(r)
        ratio = _ratio(r)
        det = f"{_yes(s.get('detected_warning', False))} / {_yes(s.get('detected_any', False))}"
        lines.append(
            f"| {r['unit']} | `{r['commit'][:10]}` | {len(r.get('review', {}).get('targets', []))} "
            f"| {_fmt_levels(s)} | {_by_check(s)} | {det} "
            f"| {', '.join(s.get('detecting_checks', [])) or '–'} "
            f"| {_seconds(r.get('review', {}).get('seconds', []))} "
            f"| {_seconds(r.get('pytest', {}).get('seconds', []))} "
            f"| {f'{ratio:.2f}' if ratio is not None else '–'} |"
        )
    lines += ["", "## Findings on the PRs that put a bug back, tests removed", ""]
    for r in records:
        if r["variant"] != "removed":
            continue
        found = r.get("review", {}).get("findings", [])
        lines.append(
            f"- `{r['unit']}` ({_cell(r.get('note', ''))}): "
            + (
                "; ".join(
                    f"{f['check']} {f['kind']} {f['severity']} on `{_cell(f['function'])}`"
                    + (f" with {_code(f['input'])}" if f.get("input") else "")
                    for f in found
                )
                or "no findings"
            )
        )
    return "\n".join(lines) + "\n"


def _by_check(score: Mapping[str, Any]) -> str:
    """`differential 1e, project-tests 2w`: findings per check and severity."""
    parts = [
        f"{key.split('/')[0]} {n}{key.split('/')[1][:1]}"
        for key, n in score.get("by_check", {}).items()
    ]
    return ", ".join(parts) or "–"


def _cell(text: Any) -> str:
    """Text safe inside a markdown table cell."""
    return _short(text, 200).replace("|", "\\|").replace("`", "'")


def _code(text: Any) -> str:
    value = _cell(text)
    return f"`{value}`" if value else "–"
