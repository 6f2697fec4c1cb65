"""Real-commit benchmark, one pull request: the environment, the timed runs, the result record.

`run_unit` reviews a PR with `codegrad review` (defaults, JSON report) and times the project's own
`python -m pytest` on the same head checkout, in pairs whose order alternates; `validate` checks that
a fix case's tests pass on the fix and fail with the bug put back.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from real_commits_cases import BenchError, Project, PullRequest, Unit, export
from real_commits_score import summarize_report

ROOT = Path(__file__).resolve().parent.parent
_SECRETISH = re.compile(r"TOKEN|SECRET|PASSWORD|KEY|^OPENAI_|^CODEGRAD_|^GITHUB_|^PYTHONPATH$")


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without secrets, LLM or codegrad settings (a new user's run)."""
    env = {k: v for k, v in os.environ.items() if not _SECRETISH.search(k)}
    env.update({"PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1"})
    env.update(extra or {})
    return env


def run_timed(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float, log: Path
) -> tuple[int | None, float]:
    """Run argv with output to log; (exit code or None on timeout, wall seconds)."""
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=10)
                    break
                except subprocess.TimeoutExpired:
                    continue
            code = None
    return code, time.monotonic() - started


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


# ---------------------------------------------------------------- environments


def project_python(project: Project, workdir: Path, override: str | None) -> Path:
    """The interpreter that runs codegrad and the project's tests for this project."""
    if override:
        return Path(override).absolute()  # not resolve(): a venv's python is a symlink
    venv = workdir / "venvs" / project.name
    python = venv / "bin" / "python"
    wanted = json.dumps({"codegrad": str(ROOT), "deps": list(project.test_deps)})
    marker = venv / "bench-ready.json"
    if python.exists() and marker.is_file() and marker.read_text() == wanted:
        return python
    print(f"[{project.name}] building {venv} (codegrad + {list(project.test_deps)})", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    steps = [[sys.executable, "-m", "venv", str(venv)], [*pip, "-e", str(ROOT)]]
    for argv in steps + ([[*pip, *project.test_deps]] if project.test_deps else []):
        if subprocess.run(argv, check=False).returncode != 0:
            raise BenchError(
                f"`{' '.join(argv)}` failed for {project.name} (PyPI reachable?); or pass "
                "--python PY, an interpreter that has codegrad and the project's test deps"
            )
    marker.write_text(wanted)
    return python


# ---------------------------------------------------------------- one pull request


def _pytest_env(checkout: Path) -> dict[str, str]:
    """The tree's own package importable first, as codegrad runs the tests (src layout included)."""
    paths = [str(checkout / "src")] if (checkout / "src").is_dir() else []
    return clean_env({"PYTHONPATH": os.pathsep.join([*paths, str(checkout)])})


def run_unit(
    unit: Unit,
    pr: PullRequest,
    *,
    repo: Path,
    python: Path,
    folder: Path,
    index: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Review the PR and time the project's pytest on its head, `repeats` pairs, alternating."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    checkout = export(repo, pr.head, folder / "head")
    review_seconds: list[float] = []
    review_codes: list[int | None] = []
    pytest_seconds: list[float] = []
    pytest_codes: list[int | None] = []
    order: list[str] = []
    status = "ok"
    for n in range(args.repeats):
        steps = ("pytest", "review") if (index + n) % 2 == 0 else ("review", "pytest")
        for step in steps:
            order.append(step)
            if step == "pytest":
                code, secs = run_timed(
                    [str(python), "-m", "pytest"],
                    checkout,
                    _pytest_env(checkout),
                    args.timeout,
                    folder / f"pytest-{n}.log",
                )
                pytest_codes.append(code)
                pytest_seconds.append(round(secs, 2))
            else:
                argv = [
                    str(python),
                    "-m",
                    "codegrad",
                    "review",
                    "--repo",
                    str(repo),
                    "--base",
                    pr.base,
                    "--head",
                    pr.head,
                    "--format",
                    "json",
                    "--output",
                    str(folder / f"review-{n}.json"),
                    *args.review_arg,
                ]
                code, secs = run_timed(
                    argv, folder, clean_env(), args.timeout, folder / f"review-{n}.log"
                )
                review_codes.append(code)
                review_seconds.append(round(secs, 2))
                if code is None:
                    status = "timeout"
                elif code not in (0, 1) or not (folder / f"review-{n}.json").is_file():
                    status = f"failed (exit {code})"
        if status != "ok":
            break
    review: dict[str, Any] = {
        "status": status,
        "exit_codes": review_codes,
        "seconds": review_seconds,
        "log_tail": tail(folder / "review-0.log"),
    }
    if status == "ok":
        reports = [
            json.loads((folder / f"review-{n}.json").read_text()) for n in range(args.repeats)
        ]
        review.update(summarize_report(reports[0]))
        fingerprints = [sorted(f["fingerprint"] for f in rep["findings"]) for rep in reports]
        review["same_findings_every_run"] = all(fp == fingerprints[0] for fp in fingerprints)
    shutil.rmtree(checkout, ignore_errors=True)
    return {
        "unit": unit.name,
        "case": unit.case.id,
        "variant": unit.variant,
        "project": unit.case.project,
        "kind": unit.case.kind,
        "commit": unit.case.commit,
        "note": unit.case.note,
        "base": pr.base,
        "head": pr.head,
        "source_paths": list(pr.source_paths),
        "test_paths": list(pr.test_paths),
        "order": order,
        "review_args": list(args.review_arg),
        "review": review,
        "pytest": {
            "seconds": pytest_seconds,
            "exit_codes": pytest_codes,
            "summary": tail(folder / "pytest-0.log", 1),
        },
    }


# ---------------------------------------------------------------- checking the fix cases


def validate(
    unit: Unit, pr: PullRequest, *, repo: Path, python: Path, folder: Path, timeout: float
) -> dict[str, Any]:
    """Run the tests the fix changed on base (they should pass) and on the kept head (fail)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    codes: dict[str, int | None] = {}
    tests = [p for p in pr.test_paths if p.endswith(".py")]
    for side, sha in (("base", pr.base), ("head", pr.head)):
        checkout = export(repo, sha, folder / side)
        present = [t for t in tests if (checkout / t).is_file()]
        codes[side], _ = run_timed(
            [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *present],
            checkout,
            _pytest_env(checkout),
            timeout,
            folder / f"{side}.log",
        )
    return {
        "unit": unit.name,
        "tests": tests,
        "base_exit": codes["base"],
        "head_exit": codes["head"],
        "valid": bool(tests) and codes["base"] == 0 and codes["head"] not in (0, None),
        "head_tail": tail(folder / "head.log", 3),
    }


def provenance(python: Path, command: str) -> dict[str, Any]:
    """What produced a result: this codegrad's commit, the interpreter, the packages, the command."""

    def out(*argv: str) -> str:
        return subprocess.run(list(argv), capture_output=True, text=True).stdout.strip()

    commit = out("git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD")
    dirty = out("git", "-C", str(ROOT), "status", "--porcelain", "--", "src")
    return {
        "codegrad_commit": commit + ("+uncommitted src changes" if dirty else ""),
        "python": out(str(python), "-c", "import platform; print(platform.python_version())"),
        "packages": out(str(python), "-m", "pip", "freeze", "--exclude-editable").split(),
        "command": command,
    }
