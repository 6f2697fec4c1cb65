"""`python -m codegrad action` end to end: a subprocess with an event file, a real repo, the API fake."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fakes.github_server import FakeGitHub
from helpers_git import GitRepo, make_repo
from helpers_schemas import report_schema, sarif_schema, schema_errors

TOKEN = "ghs_e2e_token_abcdef0123456789"
OPENAI_KEY = "sk-e2e-openai-key-0123456789"
REPO = "octo/shapes"
NUMBER = 3

BASE = '''def double(x):
    """Twice x.

    >>> double(2)
    4
    """
    return x * 2
'''
BROKEN = BASE.replace("return x * 2", "return x * 2 + 1")
CLEAN = BASE.replace("return x * 2", "return x + x")
LEAKY = BASE.replace("return x * 2", f"return '{OPENAI_KEY}'")
needs_review = pytest.mark.skipif(
    importlib.util.find_spec("codegrad.verify.checks.docstrings") is None,
    reason="the docstrings check has not landed yet",
)


@dataclass
class Run:
    code: int
    out: str
    summary: str
    outputs: str


@dataclass
class Repo:
    tmp: Path
    repo: GitRepo
    base: str
    fake: FakeGitHub

    def pull(self, head_src: str, message: str = "change double") -> str:
        """Commit head_src on the feature branch and register the PR (with GitHub's patch) in the fake."""
        self.repo.git("checkout", "-q", "-B", "feature", self.base)
        self.repo.write("shapes.py", head_src)
        head = self.repo.commit(message)
        diff = self.repo.git("diff", self.base, head, "--", "shapes.py").splitlines()
        patch = "\n".join(diff[next(i for i, line in enumerate(diff) if line.startswith("@@")) :])
        self.fake.add_pull(
            REPO,
            NUMBER,
            base_sha=self.base,
            head_sha=head,
            files=[("shapes.py", patch)],
            commits=[(head, message)],
        )
        self.repo.git("checkout", "-q", "--detach", head)
        return head

    def run(
        self,
        head: str,
        *,
        drop: tuple[str, ...] = (),
        sender: tuple[str, str] = ("alice", "User"),
        **inputs: str,
    ) -> Run:
        event = {
            "action": "synchronize",
            "pull_request": {
                "number": NUMBER,
                "user": {"login": "alice"},
                "head": {"sha": head, "ref": "feature", "repo": {"full_name": REPO}},
                "base": {
                    "sha": self.base,
                    "ref": "main",
                    "repo": {"full_name": REPO, "default_branch": "main"},
                },
            },
            "sender": {"login": sender[0], "type": sender[1]},
        }
        (self.tmp / "event.json").write_text(json.dumps(event))
        for name in ("output", "summary.md"):
            (self.tmp / name).write_text("")
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "INPUT_", "CODEGRAD_", "OPENAI_"))
        }
        env.update(
            {
                "GITHUB_EVENT_NAME": "pull_request",
                "GITHUB_EVENT_PATH": str(self.tmp / "event.json"),
                "GITHUB_REPOSITORY": REPO,
                "GITHUB_API_URL": self.fake.url,
                "GITHUB_SERVER_URL": "https://github.example",
                "GITHUB_WORKSPACE": str(self.repo.path),
                "GITHUB_RUN_ID": "77",
                "GITHUB_OUTPUT": str(self.tmp / "output"),
                "GITHUB_STEP_SUMMARY": str(self.tmp / "summary.md"),
                "RUNNER_TEMP": str(self.tmp),
                "INPUT_GITHUB-TOKEN": TOKEN,
                "INPUT_OPENAI-API-KEY": OPENAI_KEY,
                "INPUT_AUTO-FIX": "off",
                "CODEGRAD_CHECKS": "docstrings",
                "CODEGRAD_BUDGET_SECONDS": "120",
            }
        )
        env.update({f"INPUT_{k.upper().replace('_', '-')}": v for k, v in inputs.items()})
        for name in drop:
            env.pop(name, None)
        proc = subprocess.run(
            [sys.executable, "-m", "codegrad", "action"],
            cwd=self.repo.path,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        return Run(
            proc.returncode,
            proc.stdout + proc.stderr,
            (self.tmp / "summary.md").read_text(),
            (self.tmp / "output").read_text(),
        )


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repo]:
    git = make_repo(tmp_path, "shapes")
    git.write("shapes.py", BASE)
    base = git.commit("base")
    with FakeGitHub() as fake:
        fake.add_token(TOKEN)
        yield Repo(tmp_path, git, base, fake)


def _no_secrets(run: Run, fake: FakeGitHub) -> None:
    for secret in (TOKEN, OPENAI_KEY):
        assert secret not in run.out and secret not in run.summary
        assert all(secret not in body for body in fake.bodies())


def test_missing_token_is_a_clear_non_zero_exit(repo: Repo) -> None:
    head = repo.pull(BROKEN)
    run = repo.run(head, drop=("INPUT_GITHUB-TOKEN",))
    assert run.code == 2
    assert "::error::codegrad: no GitHub token" in run.out
    assert repo.fake.requests == []


def test_missing_event_file_is_a_clear_non_zero_exit(repo: Repo) -> None:
    head = repo.pull(BROKEN)
    run = repo.run(head, drop=("GITHUB_EVENT_PATH",))
    assert run.code == 2
    assert "GITHUB_EVENT_PATH (not set): no event file" in run.out


def test_outside_github_actions_is_a_clear_non_zero_exit(repo: Repo) -> None:
    run = repo.run(repo.base, drop=("GITHUB_EVENT_NAME",))
    assert run.code == 2 and "to review locally use `codegrad review`" in run.out


def test_bad_input_is_a_usage_error_naming_it(repo: Repo) -> None:
    run = repo.run(repo.base, auto_fix="always")
    assert (
        run.code == 2 and "input auto-fix: 'always' is not one of off, suggest, commit" in run.out
    )


def test_the_bots_own_commit_does_nothing(repo: Repo) -> None:
    head = repo.pull(BROKEN, "codegrad: apply 1 verified fix\n\nCodegrad-Fix: 76")
    run = repo.run(head)
    assert run.code == 0
    assert "skipped: the head commit" in run.out and "(loop guard)" in run.out
    assert repo.fake.writes == []


@needs_review
def test_pr_with_a_broken_docstring_example_gets_reviewed_and_fails(repo: Repo) -> None:
    head = repo.pull(BROKEN)

    run = repo.run(head)

    assert run.code == 1, run.out
    [comment] = repo.fake.review_comments
    assert comment["path"] == "shapes.py" and comment["line"] == 4  # the failing `>>>` example line
    assert "double(2)" in comment["body"]
    [summary] = repo.fake.issue_comments
    assert (
        summary["body"].startswith("<!-- codegrad:summary -->") and "1 finding" in summary["body"]
    )
    assert "::error file=shapes.py" in run.out
    assert "findings<<" in run.outputs and "double(2)" in run.summary
    sarif = [line for line in run.outputs.splitlines() if line.endswith("report.sarif")]
    assert sarif and json.loads(Path(sarif[0]).read_text())["runs"][0]["results"]
    _no_secrets(run, repo.fake)


@needs_review
def test_clean_pr_passes_and_says_so(repo: Repo) -> None:
    head = repo.pull(CLEAN)

    run = repo.run(head)

    assert run.code == 0, run.out
    [summary] = repo.fake.issue_comments
    assert "no findings" in summary["body"]
    assert repo.fake.review_comments == []
    _no_secrets(run, repo.fake)


@needs_review
def test_a_secret_that_the_code_prints_is_redacted_from_comments_logs_and_reports(
    repo: Repo,
) -> None:
    head = repo.pull(LEAKY)

    run = repo.run(head)

    assert run.code == 1, run.out
    assert any("***" in body for body in repo.fake.bodies())
    for path in (repo.tmp / "codegrad-report").iterdir():
        assert OPENAI_KEY not in path.read_text(), path
    _no_secrets(run, repo.fake)


@needs_review
def test_an_unreachable_llm_still_publishes_review_summary_reports_and_outputs(
    repo: Repo,
) -> None:
    with socket.socket() as sock:  # free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    head = repo.pull(BROKEN)

    run = repo.run(head, auto_fix="suggest", llm_base_url=url)

    assert run.code == 1, run.out  # the finding decides, not the outage
    [comment] = repo.fake.review_comments
    assert comment["path"] == "shapes.py" and "double(2)" in comment["body"]
    [summary] = repo.fake.issue_comments
    assert "1 finding" in summary["body"]
    assert (
        "LLM unavailable" in summary["body"] and "cannot reach the LLM endpoint" in summary["body"]
    )
    assert "::warning::codegrad: LLM unavailable: cannot reach the LLM endpoint" in run.out
    assert "LLM unavailable" in run.summary and "double(2)" in run.summary
    assert "findings<<" in run.outputs and "fixes<<" in run.outputs
    reports = repo.tmp / "codegrad-report"
    data = json.loads((reports / "report.json").read_text())
    assert schema_errors(data, report_schema()) == []
    assert data["summary"]["findings"] == 1 and data["fixes"] == []
    assert any("LLM unavailable" in note for note in data["notes"])
    log = json.loads((reports / "report.sarif").read_text())
    assert schema_errors(log, sarif_schema()) == [] and log["runs"][0]["results"]
    _no_secrets(run, repo.fake)
