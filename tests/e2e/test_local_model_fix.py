"""`codegrad review --fix --apply` end to end against the real local model (slow; skipped without it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers_git import make_pr_repo
from helpers_llm import local_llm_url

BASE = '''\
def add(a: int, b: int) -> int:
    """Return the sum of a and b.

    >>> add(2, 3)
    5
    >>> add(-1, 1)
    0
    """
    return a + b
'''


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_local_model_fixes_a_swapped_operator_and_apply_writes_it(tmp_path: Path) -> None:
    url = local_llm_url()
    if url is None:
        pytest.skip("the local LLM is not running (../shared/tools/local-llm start)")
    git = make_pr_repo(
        tmp_path / "repo", "calc.py", BASE, BASE.replace("return a + b", "return a - b"), "subtract"
    )
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    proc = subprocess.run(
        [
            sys.executable, "-m", "codegrad", "review", "--repo", str(git.path), "--base", "main",
            "--fix", "--apply", "--llm-base-url", url, "--llm-model", "local",
            "--budget-calls", "8", "--format", "json",
        ],
        capture_output=True, text=True, env=env, timeout=1100, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # the review's findings still decide the status
    [fix] = json.loads(proc.stdout)["fixes"]
    assert fix["verified"] is True, fix
    assert 1 <= fix["calls"] <= 8 and fix["remaining"] == []
    written = (git.path / "calc.py").read_text()
    assert "return a + b" in written and ">>> add(2, 3)" in written
    assert git.git("status", "--porcelain").strip() == "M calc.py"  # applied, never committed
