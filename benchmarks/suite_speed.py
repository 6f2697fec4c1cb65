"""Time `codegrad review` of a small PR against the project's own `python -m pytest`, on a real big suite.

Builds a git repository from a pure-Python library's sdist from PyPI (kept outside this repository,
under --workdir): the sdist as the base commit (plus a `[tool.codegrad]` table naming the suite), and a
small PR on top that rewrites one function called all over the library without changing what it does.
Then runs, paired and alternating (pytest first in odd rounds, review first in even ones), the
project's `python -m pytest` and `codegrad review` of the PR, both with this interpreter, and prints
wall-clock and CPU seconds of each and their ratio.

Run: python benchmarks/suite_speed.py [--rounds 2] [--workdir /tmp/codegrad-suite-bench] [--sdist FILE]
         [--out benchmarks/results]
Writes benchmarks/results/suite_speed.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PACKAGE = "sqlalchemy==2.0.36"
SUITE = ("test/orm", "test/base", "test/sql")
# the PR: `to_list` (util/_collections.py) rewritten, same behaviour; it is called all over the ORM
TARGET = "lib/sqlalchemy/util/_collections.py"
BEFORE = """    if x is None:
        return default  # type: ignore
    if not is_non_string_iterable(x):
        return [x]
    elif isinstance(x, list):
        return x
    else:
        return list(x)
"""
AFTER = """    if x is None:
        return default  # type: ignore
    if isinstance(x, list):
        return x
    if is_non_string_iterable(x):
        return list(x)
    return [x]
"""


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com"}
    env.update(GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com")
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def download(spec: str, downloads: Path) -> Path:
    """The sdist from PyPI (pip prepares its metadata; with build isolation that installs Cython)."""
    env = {**os.environ, "DISABLE_SQLALCHEMY_CEXT": "1"}
    pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:"]
    subprocess.run([*pip, "-d", str(downloads), spec], check=True, env=env)
    [sdist] = list(downloads.glob("*.tar.gz"))
    return sdist


def prepare(spec: str, suite: tuple[str, ...], workdir: Path, sdist: Path | None) -> Path:
    """The sdist unpacked as a two-commit git repository: base (with the suite named), the PR."""
    repo = workdir / "repo"
    if (repo / ".git").is_dir():
        return repo
    sdist = sdist or download(spec, workdir / "downloads")
    with tarfile.open(sdist) as tar:
        tar.extractall(workdir, filter="data")
    unpacked = next(p for p in workdir.iterdir() if p.is_dir() and p.name not in ("downloads",))
    unpacked.rename(repo)
    command = "python -m pytest -p no:cacheprovider " + " ".join(suite)
    with (repo / "pyproject.toml").open("a", encoding="utf-8") as config:
        config.write(
            f'\n[tool.codegrad]\ntest-command = "{command}"\n'
            "test-timeout = 3000\nbudget-seconds = 7200\n"
        )
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base: the sdist")
    path = repo / TARGET
    text = path.read_text(encoding="utf-8")
    if BEFORE not in text:
        raise SystemExit(f"{TARGET} does not hold the expected to_list body")
    path.write_text(text.replace(BEFORE, AFTER), encoding="utf-8")
    git(repo, "commit", "-q", "-am", "to_list: lists first, then iterables")
    return repo


@dataclass
class Timing:
    wall: float
    cpu: float
    code: int


def timed(argv: list[str], cwd: Path) -> Timing:
    """Wall and CPU seconds of a command and everything it waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stdout[-2000:] + done.stderr[-3000:])
    return Timing(wall, cpu, done.returncode)


def rounds(repo: Path, suite: tuple[str, ...], count: int, out: Path) -> list[dict[str, Any]]:
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *suite]
    report = out / "suite_speed_report.json"
    review = [sys.executable, "-m", "codegrad", "review", "--repo", str(repo), "--base", "HEAD~1"]
    review += ["--format", "json", "--output", str(report)]
    results = []
    for n in range(count):
        order = [("pytest", pytest), ("review", review)]
        if n % 2:
            order.reverse()
        times = {}
        for name, argv in order:
            times[name] = timed(argv, repo)
            print(f"round {n + 1}: {name} {times[name].wall:.1f}s wall, {times[name].cpu:.1f}s CPU")
        results.append(
            {
                "pytest": vars(times["pytest"]),
                "review": vars(times["review"]),
                "ratio_wall": times["review"].wall / times["pytest"].wall,
                "ratio_cpu": times["review"].cpu / times["pytest"].cpu,
            }
        )
    return results


def summary(report: Path) -> dict[str, Any]:
    data = json.loads(report.read_text(encoding="utf-8"))
    checks = {r["check"]: r for r in data.get("checks", data.get("results", []))}
    tests = checks.get("project-tests", {}).get("stats", {})
    return {
        "findings": len(data.get("findings", [])),
        "tests": tests.get("tests"),
        "tests_per_function": tests.get("tests_per_function"),
        "suite_seconds": tests.get("seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", default=PACKAGE)
    parser.add_argument("--suite", nargs="+", default=list(SUITE))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/codegrad-suite-bench"))
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--fresh", action="store_true", help="rebuild the repository")
    parser.add_argument("--sdist", type=Path, help="an sdist downloaded before (pip download)")
    args = parser.parse_args()
    if args.fresh and args.workdir.exists():
        shutil.rmtree(args.workdir)
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    suite = tuple(args.suite)
    repo = prepare(args.package, suite, args.workdir, args.sdist)
    results = rounds(repo, suite, args.rounds, args.workdir)
    review = summary(args.workdir / "suite_speed_report.json")
    wall = statistics.median(r["ratio_wall"] for r in results)
    cpu = statistics.median(r["ratio_cpu"] for r in results)
    data = {"package": args.package, "suite": suite, "rounds": results, "review": review,
            "median_ratio_wall": wall, "median_ratio_cpu": cpu}  # fmt: skip
    (args.out / "suite_speed.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    lines = [
        f"# codegrad review vs `python -m pytest`: {args.package}, {' '.join(suite)}",
        "",
        f"Review of a one-function PR (`to_list`); the suite has {review['tests']} tests; "
        f"{review['tests_per_function']} run the changed function; {review['findings']} findings.",
        "",
        "| round | pytest wall | review wall | ratio | pytest CPU | review CPU | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for n, r in enumerate(results, 1):
        p, v = r["pytest"], r["review"]
        lines.append(
            f"| {n} | {p['wall']:.1f}s | {v['wall']:.1f}s | {r['ratio_wall']:.2f}x "
            f"| {p['cpu']:.1f}s | {v['cpu']:.1f}s | {r['ratio_cpu']:.2f}x |"
        )
    lines += ["", f"Median ratio: {wall:.2f}x wall clock, {cpu:.2f}x CPU."]
    (args.out / "suite_speed.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
