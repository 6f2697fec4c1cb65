"""An LLM that fails mid-review costs nothing but the fixes: findings, reports and exit status stand.

Real git repositories, the real checks, the real openai SDK against the loopback fake (or a port
where nothing listens), and the CLI as a subprocess.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codegrad import render
from codegrad import review as app
from codegrad.model import Outcome
from codegrad.settings import Settings, build
from fakes.openai_server import FakeOpenAI
from helpers_git import GitRepo, make_pr_repo
from helpers_schemas import report_schema, sarif_schema, schema_errors

BASE = '''\
def clamp(value: int, low: int, high: int) -> int:
    """Limit value to the range [low, high].

    >>> clamp(5, 0, 10)
    5
    """
    return max(low, min(value, high))
'''
HEAD = BASE.replace("return max(low, min(value, high))", "return min(low, max(value, high))")
KEY = "sk-test-outage-0123456789abcdef"
REVIEW = (sys.executable, "-m", "codegrad", "review", "--checks", "docstrings", "--format", "json")


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return make_pr_repo(tmp_path / "repo", "mathx.py", BASE, HEAD, "swap")


def closed_port_url() -> str:
    with socket.socket() as sock:  # free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


def settings(repo: GitRepo, url: str | None, **flags: Any) -> Settings:
    values: dict[str, Any] = {"base": "main", "checks": "docstrings", "max_iterations": 2}
    values.update({"fix": True, "llm_base_url": url} if url else {})
    values.update(flags)
    return build(repo.path, values, env={"OPENAI_API_KEY": KEY} if url else {})


def published(outcome: Outcome) -> dict[str, Any]:
    """What every publisher gets: the three report formats, parsed."""
    data = json.loads(render.render(outcome, "json"))
    log = json.loads(render.render(outcome, "sarif"))
    assert schema_errors(data, report_schema()) == []
    assert schema_errors(log, sarif_schema()) == []
    return {"json": data, "sarif": log, "markdown": render.render(outcome, "markdown")}


@pytest.fixture
def without_llm(repo: GitRepo) -> Outcome:
    return app.review(settings(repo, None))


@pytest.mark.parametrize("failure", ["unreachable", "http-503", "timeout"])
def test_a_failing_endpoint_keeps_every_finding_and_says_what_failed(
    repo: GitRepo, fake_openai: FakeOpenAI, without_llm: Outcome, failure: str
) -> None:
    flags: dict[str, Any] = {}
    if failure == "unreachable":
        url, reason = closed_port_url(), "cannot reach the LLM endpoint"
    elif failure == "http-503":
        for _ in range(4):
            fake_openai.enqueue(status=503, retry_after=0, message="upstream overloaded")
        url, reason = fake_openai.base_url, "failed after 4 attempts"
    else:
        for _ in range(4):
            fake_openai.enqueue("late", delay=1.5)
        url, reason = fake_openai.base_url, "did not answer within 0.4s (4 attempts)"
        flags["llm_timeout"] = 0.4

    outcome = app.review(settings(repo, url, **flags))

    assert without_llm.findings and outcome.findings == without_llm.findings
    assert outcome.fixes == ()
    [note] = [n for n in outcome.notes if "LLM unavailable" in n]
    assert reason in note and "1 function with findings was not refined" in note
    assert "verification results above do not depend on it" in note
    assert app.exit_status(outcome, "error") == app.exit_status(without_llm, "error") == 1
    reports = published(outcome)
    assert reason in reports["markdown"] and note in reports["json"]["notes"]
    assert reports["json"]["findings"] == published(without_llm)["json"]["findings"]
    notes = reports["sarif"]["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any(reason in n["message"]["text"] for n in notes)
    assert KEY not in json.dumps(reports)


def test_an_exhausted_budget_keeps_the_findings_and_offers_no_empty_fix(
    repo: GitRepo, fake_openai: FakeOpenAI, without_llm: Outcome
) -> None:
    outcome = app.review(settings(repo, fake_openai.base_url, budget_calls=0))
    assert outcome.findings == without_llm.findings and outcome.fixes == ()
    assert fake_openai.completions == []
    assert any("LLM budget reached" in n for n in outcome.notes), outcome.notes
    assert app.exit_status(outcome, "error") == 1


def test_once_llm_checks_found_the_endpoint_down_refinement_does_not_wait_on_it_again(
    repo: GitRepo, fake_openai: FakeOpenAI
) -> None:
    for _ in range(8):
        fake_openai.enqueue(status=502, retry_after=0, message="bad gateway")
    outcome = app.review(settings(repo, fake_openai.base_url, checks="docstrings,llm-checks"))
    assert len(fake_openai.completions) == 2  # llm-checks' two attempts; refinement asked nothing
    assert outcome.findings and outcome.fixes == ()
    stopped = [n for n in outcome.notes if n.startswith("llm-checks stopped early")]
    assert stopped and "LLM unavailable" in stopped[0] and "HTTP 502" in stopped[0]
    assert any("not refined" in n for n in outcome.notes)


def run_cli(repo: GitRepo, *args: str, key: bool = True) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(repo.path.parent)}
    if key:
        env["OPENAI_API_KEY"] = KEY
    return subprocess.run(
        [*REVIEW, "--repo", str(repo.path), "--base", "main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )


def test_cli_with_an_unreachable_endpoint_reports_findings_exits_1_and_says_why(
    repo: GitRepo,
) -> None:
    url = closed_port_url()
    proc = run_cli(repo, "--fix", "--llm-base-url", url)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["summary"]["findings"] >= 1 and report["fixes"] == []
    assert f"codegrad: LLM unavailable: cannot reach the LLM endpoint {url}" in proc.stderr
    assert "Traceback" not in proc.stderr and KEY not in proc.stderr + proc.stdout
    retries = [line for line in proc.stderr.splitlines() if "retrying in" in line]
    assert [line.split("LLM: ")[1].split(" (")[0] for line in retries] == [
        "attempt 1 of 4 failed",
        "attempt 2 of 4 failed",
        "attempt 3 of 4 failed",
    ]
    assert "Connection refused; 4 attempts)" in proc.stderr


def test_cli_fix_without_an_llm_says_so_on_stderr(repo: GitRepo) -> None:
    proc = run_cli(repo, "--fix", key=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith(
        "codegrad: --fix asked for, but no LLM is configured (set OPENAI_API_KEY or "
        "--llm-base-url); the run goes on without refinement\n"
    )
    assert json.loads(proc.stdout)["fixes"] == []
