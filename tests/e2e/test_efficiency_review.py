"""`codegrad review` as a user runs it, on real git repos: the efficiency check end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers_git import GitRepo, make_repo

LINEAR = '''"""Sequence helpers."""


def dedupe(items: list[int]) -> list[int]:
    """Items in first-seen order without repeats.

    >>> dedupe([3, 1, 3, 2, 1])
    [3, 1, 2]
    """
    seen = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
'''
QUADRATIC = LINEAR.replace(
    """    seen = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)""",
    """    out = []
    for item in items:
        if item not in out:
            out.append(item)""",
)
RENAMED = (
    (LINEAR.replace("seen", "already").replace("out", "unique").replace("for item", "for value"))
    .replace("if item not", "if value not")
    .replace("(item)", "(value)")
)
HANGS = LINEAR.replace(
    "    for item in items:\n",
    "    while len(items) > 100:  # never ends for large inputs\n        pass\n    for item in items:\n",
)
BUDGET = 90.0


@dataclass
class Review:
    code: int
    report: dict[str, Any]
    stderr: str
    seconds: float

    def efficiency(self) -> list[dict[str, Any]]:
        return [f for f in self.report["findings"] if f["check"] == "efficiency"]


def pull_request(tmp_path: Path, head_source: str) -> GitRepo:
    """main has the linear dedupe; branch `feature` changes it to head_source."""
    repo = make_repo(tmp_path)
    repo.write("pkg/__init__.py", "")
    repo.write("pkg/seq.py", LINEAR)
    repo.commit("seq helpers")
    repo.branch("feature")
    repo.write("pkg/seq.py", head_source)
    repo.commit("change dedupe")
    return repo


def review(repo: GitRepo) -> Review:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CODEGRAD_", "OPENAI_", "GITHUB_"))
    }
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "codegrad",
            "review",
            "--repo",
            str(repo.path),
            "--base",
            "main",
            "--head",
            "feature",
            "--checks",
            "docstrings,efficiency",
            "--format",
            "json",
            "--budget-seconds",
            str(BUDGET),
            "--function-timeout",
            "15",
            "--no-progress",
        ],
        cwd=repo.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUDGET + 60,
    )
    seconds = time.monotonic() - started
    assert proc.stdout.strip(), proc.stderr
    return Review(proc.returncode, json.loads(proc.stdout), proc.stderr, seconds)


def test_a_pr_that_makes_a_linear_function_quadratic_fails_the_review(tmp_path: Path) -> None:
    result = review(pull_request(tmp_path, QUADRATIC))
    assert result.code == 1, result.stderr
    [finding] = result.efficiency()
    assert finding["kind"] == "performance-regression"
    assert finding["severity"] == "error"
    assert finding["path"] == "pkg/seq.py" and finding["function"] == "dedupe"
    assert finding["details"]["base_class"] == "O(n)"
    assert finding["details"]["head_class"] == "O(n^2)"
    assert finding["details"]["hot_line"]["code"] == "if item not in out:"
    assert finding["line"] == finding["details"]["hot_line"]["line"]
    assert "from pkg.seq import dedupe" in finding["reproducer"]
    assert result.report["summary"]["verdict"] != "pass"


def test_a_pr_that_only_renames_variables_has_no_efficiency_finding(tmp_path: Path) -> None:
    assert "already" in RENAMED and "value" in RENAMED
    result = review(pull_request(tmp_path, RENAMED))
    assert result.code == 0, result.stderr
    assert result.efficiency() == []
    checks = {c["check"]: c for c in result.report["checks"]}
    assert checks["efficiency"]["checked"] == ["pkg/seq.py::dedupe"]


def test_a_function_that_hangs_on_large_inputs_gets_a_verdict_within_budget(
    tmp_path: Path,
) -> None:
    result = review(pull_request(tmp_path, HANGS))
    assert result.seconds < BUDGET
    assert result.code == 1, result.stderr
    [finding] = result.efficiency()
    assert finding["kind"] == "performance-regression"
    assert finding["details"]["censored_at"] == 128
    assert finding["details"]["head_class"].startswith("worse than")
    assert "did not finish" in finding["message"]
