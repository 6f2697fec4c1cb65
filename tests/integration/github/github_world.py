"""GitHub integration world: the stateful API fake, a real git world (bare origin + checkout), outcomes."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from codegrad.github import action
from codegrad.github import context as action_context
from codegrad.github import output as action_output
from codegrad.github.api import PullRequestAPI, make_retry
from codegrad.model import CheckResult, Evidence, Finding, Fix, Kind, Outcome, Target
from codegrad.redaction import register_secret
from fakes.github_server import FakeGitHub
from helpers_git import GitRepo, make_repo

TOKEN = "ghs_faketoken_0123456789abcdef"
OPENAI_KEY = "sk-fake-openai-key-0123456789"
REPO = "octo/calc"
NUMBER = 7

BASE_SRC = """def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def mean(xs):
    return sum(xs) / len(xs)
"""
HEAD_SRC = '''def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def mean(xs):
    """Average of xs."""
    total = 0
    for x in xs:
        total += x
    return total / (len(xs) - 1)
'''
MEAN_HEAD = HEAD_SRC.split("\n\n\n")[2]
MEAN_FIXED = MEAN_HEAD.replace("(len(xs) - 1)", "len(xs)")
MEAN_TESTS = (
    "from pkg.calc import mean\n\n\ndef test_mean_of_two():\n    assert mean([1, 2]) == 1.5\n"
)


def hunks_only(diff: str) -> str:
    """A `git diff` of one file reduced to what GitHub's `patch` field holds (from the first @@)."""
    lines = diff.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("@@"))
    return "\n".join(lines[start:])


def pr_event(
    *,
    base_sha: str,
    head_sha: str,
    action_name: str = "synchronize",
    head_repo: str = REPO,
    head_ref: str = "feature",
    sender: str = "alice",
    sender_type: str = "User",
    author: str = "alice",
) -> dict[str, Any]:
    return {
        "action": action_name,
        "number": NUMBER,
        "pull_request": {
            "number": NUMBER,
            "user": {"login": author},
            "head": {"sha": head_sha, "ref": head_ref, "repo": {"full_name": head_repo}},
            "base": {
                "sha": base_sha,
                "ref": "main",
                "repo": {"full_name": REPO, "default_branch": "main"},
            },
        },
        "repository": {"full_name": REPO, "default_branch": "main"},
        "sender": {"login": sender, "type": sender_type},
    }


@dataclass
class World:
    """A pull request: commits in a bare origin, a checkout of its head, and the fake API's view of it."""

    tmp: Path
    fake: FakeGitHub
    origin: Path
    dev: GitRepo
    work: GitRepo
    base: str
    head: str
    patch: str
    runs: int = 0
    log: str = ""
    outputs: str = ""
    job_summary: str = ""
    report_dir: Path = field(default_factory=Path)

    # --- outcomes -------------------------------------------------------------------------------

    def target(self) -> Target:
        return Target(
            path="pkg/calc.py",
            qualname="mean",
            lineno=9,
            end_lineno=14,
            source=MEAN_HEAD.rstrip("\n"),
            changed_lines=(10, 11, 12, 13, 14),
            base_source="def mean(xs):\n    return sum(xs) / len(xs)",
            base_lineno=9,
        )

    def bug(
        self, line: int = 14, message: str = "mean([1, 2]) returned 3.0; expected 1.5"
    ) -> Finding:
        return Finding(
            path="pkg/calc.py",
            function="mean",
            line=line,
            check="properties",
            kind=Kind.BUG,
            message=message,
            input="mean([1, 2])",
            expected="1.5",
            actual="3.0",
            reproduces=True,
            base_fails_same=False,
            reproducer="from pkg.calc import mean\n\n\ndef test_mean():\n    assert mean([1, 2]) == 1.5\n",
        )

    def outside(self) -> Finding:
        """A finding on an unchanged function: no line of it is in the diff."""
        return Finding(
            path="pkg/calc.py",
            function="add",
            line=2,
            check="properties",
            kind=Kind.PRE_EXISTING,
            message="add('a', 1) raises TypeError",
            input="add('a', 1)",
            base_fails_same=True,
        )

    def fix(self, finding: Finding) -> Fix:
        return Fix(
            path="pkg/calc.py",
            function="mean",
            verified=True,
            diff="--- a/pkg/calc.py\n+++ b/pkg/calc.py\n@@ -14 +14 @@\n-    return total / (len(xs) - 1)\n+    return total / len(xs)\n",
            source=MEAN_FIXED.rstrip("\n"),
            iterations=1,
            fixed=(finding,),
            tests=MEAN_TESTS,
        )

    def outcome(self, findings: tuple[Finding, ...] = (), fixes: tuple[Fix, ...] = ()) -> Outcome:
        target = self.target()
        return Outcome(
            base=self.base,
            head=self.head,
            targets=(target,),
            evidence=Evidence(
                targets=(target,), results=(CheckResult(check="properties", findings=findings),)
            ),
            fixes=fixes,
            seconds=1.5,
        )

    # --- running the action in-process (real PyGithub over HTTP, real git) ----------------------

    def run(
        self,
        outcome: Outcome,
        *,
        event: dict[str, Any] | None = None,
        event_name: str = "pull_request",
        inputs: dict[str, str] | None = None,
        token: str = TOKEN,
    ) -> int:
        self.runs += 1
        run_dir = self.tmp / f"run{self.runs}"
        run_dir.mkdir()
        event_path = run_dir / "event.json"
        event_path.write_text(json.dumps(event or pr_event(base_sha=self.base, head_sha=self.head)))
        env = {
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": self.fake.url,
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_WORKSPACE": str(self.work.path),
            "GITHUB_RUN_ID": f"100{self.runs}",
            "GITHUB_OUTPUT": str(run_dir / "output"),
            "GITHUB_STEP_SUMMARY": str(run_dir / "summary.md"),
            "RUNNER_TEMP": str(run_dir),
            "INPUT_GITHUB-TOKEN": token,
            **{f"INPUT_{k.upper()}": v for k, v in (inputs or {}).items()},
        }
        seen: list[Any] = []

        def review(settings: Any) -> Outcome:
            seen.append(settings)
            assert settings.base == self.base and settings.head == self.head
            assert settings.tree == "commit"  # the action reviews the pushed commit, never files
            return outcome

        def connect(number: int) -> PullRequestAPI:
            retry = make_retry(total=3, secondary_rate_wait=1, max_wait=5)
            return PullRequestAPI.connect(
                token=token,
                repository=REPO,
                number=number,
                api_url=self.fake.url,
                retry=retry,
                pace=(0, 0),
            )

        stream = io.StringIO()
        log = action_output.Log(stream)
        ins = action_context.read_inputs(env)
        register_secret(ins.token)  # as action.main does
        register_secret(ins.openai_api_key)
        ctx = action_context.read_context(env, ins.report_dir)
        try:
            code = int(action.dispatch(ctx, ins, log, connect=connect, review=review, env=env))
        except action.UsageError as exc:
            log.error(str(exc))
            code = 2
        self.log = stream.getvalue()
        self.outputs = (run_dir / "output").read_text() if (run_dir / "output").exists() else ""
        self.job_summary = (
            (run_dir / "summary.md").read_text() if (run_dir / "summary.md").exists() else ""
        )
        self.report_dir = ctx.report_dir
        return code

    def output(self, name: str) -> str | None:
        lines = self.outputs.splitlines()
        for i, line in enumerate(lines):
            if line.startswith(f"{name}<<"):
                return lines[i + 1]
        return None

    def origin_sha(self, branch: str = "feature") -> str:
        return subprocess.run(
            ["git", "-C", str(self.origin), "rev-parse", f"refs/heads/{branch}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        server.add_token(TOKEN)
        yield server


@pytest.fixture
def world(tmp_path: Path, fake: FakeGitHub) -> World:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    dev = make_repo(tmp_path, "dev")
    dev.write("pkg/__init__.py", "")
    dev.write("pkg/calc.py", BASE_SRC)
    base = dev.commit("base")
    dev.branch("feature")
    dev.write("pkg/calc.py", HEAD_SRC)
    head = dev.commit("head: rewrite mean")
    dev.git("remote", "add", "origin", str(origin))
    dev.git("push", "-q", "origin", "main", "feature")
    work = GitRepo(tmp_path / "work")
    subprocess.run(["git", "clone", "-q", str(origin), str(work.path)], check=True)
    work.git("checkout", "-q", "--detach", head)
    patch = hunks_only(dev.git("diff", base, head, "--", "pkg/calc.py"))
    fake.add_pull(
        REPO,
        NUMBER,
        base_sha=base,
        head_sha=head,
        files=[("pkg/calc.py", patch)],
        commits=[(head, "head: rewrite mean")],
    )
    return World(tmp_path, fake, origin, dev, work, base, head, patch)
