"""Measure `codegrad harden` on a real pure-Python library from PyPI (its source kept outside this repo).

Measures: functions verified per minute (one process), the share the cache skips on an unchanged
second run, the speed-up of 2 shards run in parallel over 1 (and whether they find the same), and
lists the findings with the hand triage kept in benchmarks/harden_triage.json.

Run: python benchmarks/harden_benchmark.py [--package toolz==1.2.0] [--workdir /tmp/codegrad-harden-bench]
         [--max-functions 60] [--include GLOB ...] [--out benchmarks/results]
Writes benchmarks/results/harden_<package>.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TRIAGE = HERE / "harden_triage.json"
DEFAULT_INCLUDE = {
    "toolz": ["toolz/itertoolz.py", "toolz/dicttoolz.py", "toolz/recipes.py", "toolz/utils.py"],
}
RUNNER = """
import argparse, sys
from codegrad.cli import add_harden_arguments, harden_main
parser = argparse.ArgumentParser()
add_harden_arguments(parser.add_subparsers(dest="command"))
sys.exit(harden_main(parser.parse_args(["harden", *sys.argv[1:]])))
"""


def prepare(spec: str, workdir: Path) -> Path:
    """The library's sdist unpacked under workdir as a one-commit git repository (reused if there)."""
    name = spec.split("==")[0]
    repo = workdir / name
    if (repo / ".git").is_dir():
        return repo
    workdir.mkdir(parents=True, exist_ok=True)
    downloads = workdir / "downloads"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-d",
            str(downloads),
            spec,
        ],
        check=True,
    )
    [archive] = sorted(downloads.glob("*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(workdir / "unpacked", filter="data")
    [source] = sorted((workdir / "unpacked").iterdir())
    source.rename(repo)
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@example.com"}
    env.update(GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="b@example.com")
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "-m", f"{archive.name}"],
    ):
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env)
    return repo


@dataclass
class Timing:
    """Wall-clock seconds of a batch of processes run together, and each one's CPU seconds
    (its own and its waited-for descendants': the sandboxed runners and pytest)."""

    wall: float
    cpu: list[float]


def harden(repo: Path, out: Path, *extra: str) -> list[str]:
    """The argv of one `codegrad harden` process writing a JSON report to out."""
    argv = [
        sys.executable,
        "-c",
        RUNNER,
        "--repo",
        str(repo),
        "--format",
        "json",
        "--output",
        str(out),
    ]
    return [*argv, "--fail-on", "never", "--no-progress", *extra]


def timed(*argvs: list[str]) -> Timing:
    """Run the processes in parallel; wall time of the batch and CPU time of each."""
    started = time.monotonic()
    procs = []
    for argv in argvs:
        err = tempfile.TemporaryFile()  # noqa: SIM115 - closed after the process is waited for
        procs.append((subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err), err))
    cpu = []
    for proc, err in procs:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(
                f"codegrad harden failed ({proc.returncode}): {err.read().decode()[-2000:]}"
            )
        err.close()
        cpu.append(usage.ru_utime + usage.ru_stime)
    return Timing(time.monotonic() - started, cpu)


def stats(report: dict[str, Any]) -> dict[str, Any]:
    return next(c["stats"] for c in report["checks"] if c["check"] == "harden")


def run(args: argparse.Namespace) -> dict[str, Any]:
    from codegrad.harden import shard

    repo = prepare(args.package, args.workdir)
    name = args.package.split("==")[0]
    work = args.workdir / "runs"
    work.mkdir(parents=True, exist_ok=True)
    for old in work.glob("*.json"):
        old.unlink()
    scope = [
        a for glob in (args.include or DEFAULT_INCLUDE.get(name, [])) for a in ("--include", glob)
    ]
    common = [*scope, "--max-functions", str(args.max_functions)]
    cache = work / "cache-1.json"

    singles: list[Timing] = []
    pairs: list[Timing] = []
    for n in range(args.repeat):  # alternate, so both see the same background load; keep the best
        keep = ["--cache", str(cache)] if n == 0 else []  # the first cold run fills the cache
        singles.append(timed(harden(repo, work / "cold.json", *common, *keep)))
        shards = [
            harden(repo, work / f"shard-{k}.json", *common, "--shard", f"{k}/2") for k in (1, 2)
        ]
        pairs.append(timed(*shards))
    cold_time = min(singles, key=lambda t: t.wall)
    pair_time = min(pairs, key=lambda t: t.wall)
    cold = json.loads((work / "cold.json").read_text())
    merged = shard.merge([json.loads((work / f"shard-{k}.json").read_text()) for k in (1, 2)])
    warm_time = timed(harden(repo, work / "warm.json", *common, "--cache", str(cache)))
    warm = json.loads((work / "warm.json").read_text())
    cold_seconds, parallel_seconds, warm_seconds = cold_time.wall, pair_time.wall, warm_time.wall

    verified = stats(cold)["verified"]
    fingerprints = lambda r: sorted(f["fingerprint"] for f in r["findings"])  # noqa: E731
    return {
        "library": args.package,
        "source": f"PyPI sdist, unpacked and committed at {repo}",
        "scope": args.include
        or DEFAULT_INCLUDE.get(name, ["(all Python files but tests and docs)"]),
        "max_functions": args.max_functions,
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        },
        "checks": sorted(
            c["check"] for c in cold["checks"] if c["check"] not in ("harden", "syntax")
        ),
        "cold": {
            "functions_in_scope": stats(cold)["functions"],
            "verified": verified,
            "seconds": round(cold_seconds, 2),
            "functions_per_minute": round(verified / cold_seconds * 60, 1),
            "cpu_seconds": round(cold_time.cpu[0], 2),
            "functions_per_cpu_minute": round(verified / cold_time.cpu[0] * 60, 1),
            "wall_seconds_all_repeats": [round(t.wall, 2) for t in singles],
        },
        "second_run": {
            "seconds": round(warm_seconds, 2),
            "cached": stats(warm)["cached"],
            "replayed": stats(warm).get("replayed", 0),
            "verified": stats(warm)["verified"],
            "skipped_share": round(stats(warm)["cached"] / max(1, stats(warm)["functions"]), 3),
        },
        "two_shards": {
            "parallel_seconds": round(parallel_seconds, 2),
            "speedup_over_one": round(cold_seconds / parallel_seconds, 2),
            "wall_seconds_all_repeats": [round(t.wall, 2) for t in pairs],
            "cpu_seconds_per_shard": [round(c, 2) for c in pair_time.cpu],
            "speedup_on_idle_cores_from_cpu": round(cold_time.cpu[0] / max(pair_time.cpu), 2),
            "per_shard_verified": [
                stats(json.loads((work / f"shard-{k}.json").read_text()))["verified"]
                for k in (1, 2)
            ],
            "same_findings_as_one_run": fingerprints(merged) == fingerprints(cold),
            "model": cost_model(cold_time.cpu[0], pair_time.cpu, verified),
        },
        "findings": triaged(cold["findings"]),
    }


def cost_model(single: float, shards: list[float], functions: int) -> dict[str, float]:
    """CPU cost split into a fixed part every process pays (the project's suite, runner start-ups)
    and a part per function, from one run and two shards; and the 2-shard speed-up it predicts on
    2 idle cores for larger runs."""
    fixed = max(0.0, sum(shards) - single)
    per_function = max(1e-6, (single - fixed) / max(1, functions))
    predict = {
        n: round((fixed + per_function * n) / (fixed + per_function * n / 2), 2)
        for n in (60, 300, 1000)
    }
    return {
        "fixed_cpu_seconds": round(fixed, 2),
        "cpu_seconds_per_function": round(per_function, 4),
        **{f"predicted_speedup_{n}_functions": v for n, v in predict.items()},
    }


def triaged(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each finding with the hand triage recorded for it (by path::function and check/kind)."""
    notes = json.loads(TRIAGE.read_text()) if TRIAGE.is_file() else {}
    out = []
    for f in findings:
        key = f"{f['path']}::{f['function']}"
        hand = notes.get(f"{key} {f['check']}/{f['kind']}") or notes.get(key) or {}
        out.append(
            {
                "function": key,
                "check": f["check"],
                "kind": f["kind"],
                "input": f.get("input"),
                "message": f["message"][:240],
                "triage": hand.get("triage", "untriaged"),
                "why": hand.get("why", ""),
            }
        )
    return out


def markdown(result: dict[str, Any]) -> str:
    cold, warm, two = result["cold"], result["second_run"], result["two_shards"]
    counts: dict[str, int] = {}
    for f in result["findings"]:
        counts[f["triage"]] = counts.get(f["triage"], 0) + 1
    lines = [
        f"# codegrad harden on {result['library']}",
        "",
        f"Source: {result['source']}. Scope: {', '.join(result['scope'])} "
        f"(`--max-functions {result['max_functions']}`). Checks: {', '.join(result['checks'])}. "
        f"Machine: {result['machine']['cpus']} CPUs shared with other jobs "
        f"(load average {result['machine']['loadavg_after'][0]} at the end).",
        "",
        "| measure | value |",
        "| --- | ---: |",
        f"| functions in scope | {cold['functions_in_scope']} |",
        f"| verified by the cold run | {cold['verified']} in {cold['seconds']} s |",
        f"| **functions verified per minute** (one process, wall clock) | **{cold['functions_per_minute']}** |",
        f"| functions verified per CPU-minute (load-independent) | {cold['functions_per_cpu_minute']} |",
        f"| unchanged second run: skipped by the cache | **{warm['cached']} of {cold['functions_in_scope']} "
        f"({warm['skipped_share']:.0%})**, {warm['replayed']} of them with their findings carried over; "
        f"{warm['verified']} verified again; {warm['seconds']} s |",
        f"| 2 shards in parallel (cold) | {two['parallel_seconds']} s wall, shards verified {two['per_shard_verified']} |",
        f"| **speed-up of 2 shards over 1** (wall clock, best of {len(two['wall_seconds_all_repeats'])}) | **{two['speedup_over_one']}×** |",
        f"| CPU seconds: one run vs each shard | {cold['cpu_seconds']} vs {two['cpu_seconds_per_shard']} |",
        f"| speed-up on 2 idle cores, from CPU time (one run's CPU / the larger shard's) | {two['speedup_on_idle_cores_from_cpu']}× |",
        f"| merged shards find the same as one run | {'yes' if two['same_findings_as_one_run'] else 'NO'} |",
        f"| cost model: fixed CPU per process + CPU per function | {two['model']['fixed_cpu_seconds']} s + "
        f"{two['model']['cpu_seconds_per_function']} s |",
        f"| predicted 2-shard speed-up on 2 idle cores at 300 / 1000 functions | "
        f"{two['model']['predicted_speedup_300_functions']}× / {two['model']['predicted_speedup_1000_functions']}× |",
        "",
        f"## Findings ({len(result['findings'])}): "
        + ", ".join(f"{n} {t}" for t, n in sorted(counts.items())),
        "",
        "| function | check / kind | input | triage | why |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in result["findings"]:
        cell = lambda s: str(s or "").replace("|", "\\|").replace("\n", " ")  # noqa: E731
        lines.append(
            f"| `{f['function']}` | {f['check']} / {f['kind']} | `{cell(f['input'])}` | {f['triage']} | {cell(f['why'])} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--package", default="toolz==1.2.0")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/codegrad-harden-bench"))
    parser.add_argument("--max-functions", type=int, default=60)
    parser.add_argument(
        "--include", action="append", help="scope globs (default: a bounded set per package)"
    )
    parser.add_argument(
        "--repeat", type=int, default=2, help="cold runs of 1 and of 2 shards (best kept)"
    )
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    result = run(args)
    name = args.package.split("==")[0]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"harden_{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / f"harden_{name}.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
