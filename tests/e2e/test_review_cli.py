"""`codegrad review` as a user runs it: real git repos, the CLI as a subprocess, every exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codegrad import cli
from helpers_git import make_repo

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "ghp_e2eSecretToken0123456789abcdefABCDEF"
KEY = "sk-e2e-secret-key-0123456789abcdef"


def codegrad(
    *args: str, env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [sys.executable, "-m", "codegrad", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=timeout,
        check=False,
    )


def demo_repo(tmp_path: Path) -> Path:
    dest = tmp_path / "demo"
    subprocess.run(
        [sys.executable, str(ROOT / "examples" / "make_demo_repo.py"), str(dest)],
        check=True,
        capture_output=True,
    )
    return dest


def test_demo_pr_reports_real_findings_and_exits_1(tmp_path: Path) -> None:
    repo = demo_repo(tmp_path)
    out = tmp_path / "report.json"
    proc = codegrad("review", "--repo", str(repo), "--format", "json", "--output", str(out))
    assert proc.returncode == 1, proc.stderr
    report = json.loads(out.read_text())
    by = {(f["function"], f["check"], f["kind"]) for f in report["findings"]}
    assert ("apply_discount", "docstrings", "bug") in by
    assert ("average_price", "differential", "crash") in by
    assert not any(f["function"] == "slugify" for f in report["findings"])
    bug = next(f for f in report["findings"] if f["check"] == "docstrings")
    assert (
        bug["input"] == "apply_discount(19.99, 0)"
        and bug["expected"] == "19.99"
        and bug["actual"] == "19.0"
    )
    assert bug["base_fails_same"] is False and bug["reproducer"].startswith('"""')
    assert "Traceback" not in proc.stderr


def test_sarif_and_markdown_outputs(tmp_path: Path) -> None:
    repo = demo_repo(tmp_path)
    sarif = tmp_path / "out.sarif"
    proc = codegrad(
        "review",
        "--repo",
        str(repo),
        "--format",
        "sarif",
        "--output",
        str(sarif),
        "--checks",
        "docstrings",
    )
    assert proc.returncode == 1
    data = json.loads(sarif.read_text())
    assert data["version"] == "2.1.0" and data["runs"][0]["results"]
    md = codegrad("review", "--repo", str(repo), "--checks", "docstrings", "--fail-on", "never")
    assert md.returncode == 0  # --fail-on never: findings reported, run passes
    assert "apply_discount(19.99, 0)" in md.stdout


def test_clean_change_exits_0(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    repo.write(
        "m.py",
        'def double(x: int) -> int:\n    """\n    >>> double(2)\n    4\n    """\n    return x * 2\n',
    )
    repo.commit("base")
    repo.write(
        "m.py",
        'def double(x: int) -> int:\n    """\n    >>> double(2)\n    4\n    """\n    return x + x\n',
    )
    repo.commit("refactor")
    proc = codegrad("review", "--repo", str(repo.path), "--base", "HEAD~1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no findings" in proc.stdout.lower() or "clean" in proc.stdout.lower()


@pytest.mark.parametrize(
    ("args", "pyproject", "needle"),
    [
        (["--base", "no-such-ref"], None, "no-such-ref"),
        (["--format", "html"], None, "html"),
        ([], "[tool.codegrad]\nmax-exampels = 5\n", "max-exampels"),
        ([], '[tool.codegrad]\nfail-on = "sometimes"\n', "sometimes"),
        (["--fail-on", "error", "--max-examples", "-3"], None, "-3"),
    ],
)
def test_usage_errors_exit_2_naming_the_bad_value(
    tmp_path: Path, args: list[str], pyproject: str | None, needle: str
) -> None:
    repo = make_repo(tmp_path)
    repo.write("m.py", "def f():\n    return 1\n")
    if pyproject:
        repo.write("pyproject.toml", pyproject)
    repo.commit("base")
    repo.write("m.py", "def f():\n    return 2\n")
    repo.commit("head")
    proc = codegrad("review", "--repo", str(repo.path), *(args or ["--base", "HEAD~1"]))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr


def test_not_a_repository_exits_2(tmp_path: Path) -> None:
    proc = codegrad("review", "--repo", str(tmp_path))
    assert (
        proc.returncode == 2
        and "not a git repository" in proc.stderr
        and "Traceback" not in proc.stderr
    )


def test_internal_error_exits_3_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    repo.write("m.py", "def f():\n    return 1\n")
    repo.commit("base")
    repo.write("m.py", "def f():\n    return 2\n")
    repo.commit("head")

    def broken(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("simulated bug in codegrad")

    monkeypatch.setattr(
        "codegrad.review.changes.changed_functions", broken
    )  # a bug of ours, not the user's
    status = cli.main(["review", "--repo", str(repo.path), "--base", "HEAD~1", "--no-progress"])
    err = capsys.readouterr().err
    assert status == 3
    assert "internal error" in err and "simulated bug" in err and "Traceback" not in err


HOSTILE_TEST = """
import glob, os

def test_steal():
    found = [v for k, v in os.environ.items() if "TOKEN" in k or "KEY" in k]
    for path in glob.glob("/proc/*/environ"):
        try:
            data = open(path, "rb").read().decode("utf-8", "replace")
        except OSError:
            continue
        found += [part for part in data.split("\\0") if "ghp_" in part or "sk-" in part]
    open("stolen.txt", "w").write(repr(found))
    assert not found, f"found secrets: {found}"
"""

HOSTILE_CODE = '''
def spin(n: int) -> int:
    """Loops forever.

    >>> spin(1)
    1
    """
    while True:
        n += 1


def hog(n: int) -> int:
    """Allocates without bound.

    >>> hog(1)
    1
    """
    data = []
    while True:
        data.append(bytearray(50_000_000))
'''


def test_hostile_pr_is_contained_and_secrets_never_leak(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    repo.write(
        "evil.py",
        "def spin(n: int) -> int:\n    return n\n\n\ndef hog(n: int) -> int:\n    return n\n",
    )
    repo.write("tests/test_evil.py", "def test_ok():\n    assert True\n")
    repo.commit("base")
    repo.write("evil.py", HOSTILE_CODE)
    repo.write("tests/test_evil.py", HOSTILE_TEST)
    repo.commit("hostile")
    out = tmp_path / "report.json"
    started = time.monotonic()
    proc = codegrad(
        "review",
        "--repo",
        str(repo.path),
        "--base",
        "HEAD~1",
        "--format",
        "json",
        "--output",
        str(out),
        "--function-timeout",
        "10",
        "--budget-seconds",
        "120",
        env={"GITHUB_TOKEN": TOKEN, "OPENAI_API_KEY": KEY},
    )
    elapsed = time.monotonic() - started
    assert elapsed < 170, f"no verdict within the budget: {elapsed:.0f}s"
    assert proc.returncode == 1, proc.stderr
    text = out.read_text()
    for secret in (TOKEN, KEY):
        assert secret not in text and secret not in proc.stdout and secret not in proc.stderr
    report = json.loads(text)
    kinds = {(f["function"], f["kind"]) for f in report["findings"]}
    assert ("spin", "timeout") in kinds
    assert any(f["function"] == "hog" for f in report["findings"])
    # the user's working tree is untouched: the hostile test ran in an exported copy
    assert not (repo.path / "stolen.txt").exists()
    assert repo.git("status", "--porcelain").strip() == ""


def test_weak_isolation_with_a_secret_around_is_refused_unless_allowed(tmp_path: Path) -> None:
    repo = demo_repo(tmp_path)
    weak = {"CODEGRAD_NO_UNSHARE": "1", "CODEGRAD_CHECKS": "docstrings"}

    refused = codegrad("review", "--repo", str(repo), env={**weak, "OPENAI_API_KEY": KEY})
    assert refused.returncode == 2, refused.stderr
    assert "codegrad: error: refusing to run the project's code at sandbox isolation 'none'" in (
        refused.stderr
    )
    assert "OPENAI_API_KEY" in refused.stderr and KEY not in refused.stderr
    assert "--isolation allow-weak" in refused.stderr

    allowed = codegrad(
        "review",
        "--repo",
        str(repo),
        "--isolation",
        "allow-weak",
        env={**weak, "OPENAI_API_KEY": KEY},
    )
    assert allowed.returncode == 1, allowed.stderr  # reviewed: the demo's bug is found
    assert "allow-weak: running anyway" in allowed.stderr

    no_secret = codegrad("review", "--repo", str(repo), env=weak)
    assert no_secret.returncode == 1, no_secret.stderr  # nothing to expose: runs, as before

    bad = codegrad("review", "--repo", str(repo), "--isolation", "loose", env=weak)
    assert (
        bad.returncode == 2
        and "--isolation: 'loose' is not one of strict, allow-weak" in bad.stderr
    )


def test_a_python_that_is_not_there_is_a_usage_error(tmp_path: Path) -> None:
    repo = demo_repo(tmp_path)
    proc = codegrad("review", "--repo", str(repo), "--python", str(tmp_path / "nope" / "python"))
    assert proc.returncode == 2
    assert f"--python: '{tmp_path / 'nope' / 'python'}' is not an executable Python" in proc.stderr
