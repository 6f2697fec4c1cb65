"""Measure `codegrad review` on pull requests built from the real history of pure-Python libraries.

Cases (benchmarks/real_commits.toml, commit ids only; third-party code is fetched, never kept here):
  fix      a real bug fix; the PR puts the buggy library source back on top of it, once with the
           fix's tests kept ("kept": the project's tests should catch it) and once with the tests the
           fix changed as they were before it ("removed": only codegrad's own checks can see it);
  correct  a real commit as merged (feature, refactor, speed-up): base = its parent, head = it.
Every PR is reviewed with the defaults a new user gets (`codegrad review --format json`, no LLM),
and timed against the project's own `python -m pytest` on the same head checkout, in pairs whose
order alternates. One result file per PR under WORKDIR/results makes a run resumable; the tables
go to OUT/real_commits.{json,md}.

Get the libraries' history once (no network needed afterwards):
    git clone https://github.com/mahmoud/boltons /data/boltons      # and the others in the manifest
Run:
    python benchmarks/real_commits.py --mirror /data [--cases 'boltons-*'] [--settings removed]
        [--workdir /tmp/codegrad-real-commits] [--timeout 1800] [--repeats 1] [--out benchmarks/results]
--mirror takes a clone (bare or not) or a folder of clones; the project is recognised by its commits.
Each project gets a virtual environment under WORKDIR with this codegrad (editable) and the
project's test dependencies from PyPI; --python PY uses an existing interpreter instead.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from real_commits_cases import (  # noqa: E402 - the sibling modules of this script
    ALL_VARIANTS,
    BenchError,
    Manifest,
    Unit,
    build_pull_request,
    ensure_clone,
    find_mirrors,
    load_manifest,
    select_units,
)
from real_commits_run import project_python, provenance, run_unit, validate  # noqa: E402
from real_commits_score import markdown, summarize  # noqa: E402

MANIFEST = HERE / "real_commits.toml"


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def report(manifest: Manifest, workdir: Path, out: Path) -> dict[str, Any]:
    """Gather every per-PR result (manifest order) into OUT/real_commits.{json,md}."""
    records = []
    for unit in select_units(manifest.cases, [], ALL_VARIANTS):
        path = workdir / "results" / f"{unit.name}.json"
        if path.is_file():
            records.append(json.loads(path.read_text(encoding="utf-8")))
    origins = [r.get("provenance", {}) for r in records]
    meta = {
        key: sorted({str(o.get(key, "?")) for o in origins})
        for key in ("codegrad_commit", "python", "command")
    }
    meta["packages"] = {r["project"]: r.get("provenance", {}).get("packages", []) for r in records}
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(records)
    write_json(out / "real_commits.json", {"meta": meta, "summary": summary, "results": records})
    (out / "real_commits.md").write_text(markdown(records, meta), encoding="utf-8")
    return summary


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--manifest", type=Path, default=MANIFEST)
    p.add_argument(
        "--mirror",
        type=Path,
        action="append",
        default=[],
        help="a clone of a manifest project, or a folder of clones (repeatable)",
    )
    p.add_argument("--workdir", type=Path, default=Path("/tmp/codegrad-real-commits"))
    p.add_argument("--out", type=Path, default=HERE / "results")
    p.add_argument(
        "--cases", default="", help="comma-separated case ids or globs (id or id.setting)"
    )
    p.add_argument(
        "--settings",
        default=",".join(ALL_VARIANTS),
        help=f"comma-separated, of {', '.join(ALL_VARIANTS)} (default: all)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="seconds for one review and for one pytest run (default 1800)",
    )
    p.add_argument("--repeats", type=int, default=1, help="timed pairs per PR (default 1)")
    p.add_argument(
        "--python", help="use this interpreter (with codegrad and the test deps) instead of a venv"
    )
    p.add_argument(
        "--review-arg",
        action="append",
        default=[],
        help="extra argument for codegrad review (not the headline: defaults are)",
    )
    p.add_argument("--redo", action="store_true", help="run PRs again even if they have results")
    p.add_argument("--report-only", action="store_true", help="only rebuild the tables")
    p.add_argument(
        "--validate",
        action="store_true",
        help="only check the fix cases: their tests pass on the fix and fail with the bug back",
    )
    args = p.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    variants = [v for v in args.settings.split(",") if v]
    bad = [v for v in variants if v not in ALL_VARIANTS]
    if bad or args.repeats < 1 or args.timeout <= 0:
        p.error(f"bad --settings {bad} / --repeats {args.repeats} / --timeout {args.timeout}")
    args.variants = variants
    args.patterns = [c for c in args.cases.split(",") if c]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return _main(args)
    except BenchError as exc:
        print(f"real_commits: {exc}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace) -> int:
    manifest = load_manifest(args.manifest)
    workdir = args.workdir.resolve()
    command = "python benchmarks/real_commits.py " + shlex.join(args.argv)
    units = select_units(manifest.cases, args.patterns, args.variants)
    if not units and not args.report_only:
        raise BenchError(f"no case matches --cases {args.cases!r} --settings {args.settings!r}")
    order = {u.name: i for i, u in enumerate(select_units(manifest.cases, [], ALL_VARIANTS))}
    (workdir / "results").mkdir(parents=True, exist_ok=True)
    todo = [u for u in units if args.redo or not (workdir / "results" / f"{u.name}.json").is_file()]
    if args.validate:
        return _validate(args, manifest, [u for u in units if u.variant == "kept"], workdir)
    if todo and not args.report_only:
        projects = sorted({u.case.project for u in todo})
        mirrors = find_mirrors(args.mirror, manifest, projects)
        pythons = {n: project_python(manifest.projects[n], workdir, args.python) for n in projects}
        origin = {n: provenance(pythons[n], command) for n in projects}
        for n, unit in enumerate(todo, 1):
            name = unit.case.project
            repo = ensure_clone(mirrors[name], workdir / "repos" / name)
            pr = build_pull_request(repo, unit, workdir / "scratch")
            print(f"[{n}/{len(todo)}] {unit.name}: {pr.base[:10]}..{pr.head[:10]}", flush=True)
            record = run_unit(
                unit,
                pr,
                repo=repo,
                python=pythons[name],
                folder=workdir / "runs" / unit.name,
                index=order[unit.name],
                args=args,
            )
            record["provenance"] = origin[name]
            write_json(workdir / "results" / f"{unit.name}.json", record)
            r = record["review"]
            print(
                f"    review {r['status']} {r['seconds']} s, {len(r.get('findings', []))} findings;"
                f" pytest {record['pytest']['seconds']} s exit {record['pytest']['exit_codes']}",
                flush=True,
            )
    summary = report(manifest, workdir, args.out)
    print(json.dumps(summary["settings"], indent=1))
    return 0


def _validate(
    args: argparse.Namespace, manifest: Manifest, units: list[Unit], workdir: Path
) -> int:
    projects = sorted({u.case.project for u in units})
    mirrors = find_mirrors(args.mirror, manifest, projects)
    bad = 0
    for unit in units:
        name = unit.case.project
        repo = ensure_clone(mirrors[name], workdir / "repos" / name)
        python = project_python(manifest.projects[name], workdir, args.python)
        pr = build_pull_request(repo, unit, workdir / "scratch")
        result = validate(
            unit,
            pr,
            repo=repo,
            python=python,
            folder=workdir / "validate" / unit.name,
            timeout=args.timeout,
        )
        bad += not result["valid"]
        print(json.dumps(result), flush=True)
    print(f"{len(units) - bad}/{len(units)} fix cases valid")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
