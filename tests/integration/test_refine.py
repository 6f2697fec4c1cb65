"""The CodeGrad loop end to end: real git repo, real checks, the real openai SDK against the loopback fake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from codegrad.review import review
from codegrad.settings import build
from fakes.openai_server import FakeOpenAI
from helpers_git import GitRepo, make_pr_repo

BASE = '''\
def clamp(value: int, low: int, high: int) -> int:
    """Limit value to the range [low, high].

    >>> clamp(5, 0, 10)
    5
    >>> clamp(-3, 0, 10)
    0
    >>> clamp(42, 0, 10)
    10
    """
    return max(low, min(value, high))


def untouched() -> int:
    return 1
'''

HEAD = BASE.replace("return max(low, min(value, high))", "return min(low, max(value, high))")

GOOD = '''Here is the fix:

```python
def clamp(value: int, low: int, high: int) -> int:
    """Limit value to the range [low, high]."""
    return max(low, min(value, high))
```
'''

WRONG = """```python
def clamp(value: int, low: int, high: int) -> int:
    return value
```"""

OUTSIDE = """```python
import os

def clamp(value: int, low: int, high: int, extra: int = 0) -> int:
    return max(low, min(value, high))
```"""

HEAD_FUNCTION = "```python\n" + HEAD.split("\n\n\n")[0] + "\n```"

CRITIC = "1. Correctness: min and max are swapped on line 11; clamp(-3, 0, 10) must give 0.\n2. fine\n3. fine\n4. fine"
KEY = "sk-test-refine-0123456789abcdef"


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return make_pr_repo(tmp_path / "repo", "mathx.py", BASE, HEAD, "swap")


def settings_for(repo: GitRepo, fake: FakeOpenAI, **flags: object) -> object:
    values = {
        "base": "main",
        "fix": True,
        "llm_base_url": fake.base_url,
        "llm_model": "gpt-4o-mini",
        "checks": "docstrings,properties",
        "max_iterations": 3,
        **flags,
    }
    return build(repo.path, values, env={"OPENAI_API_KEY": KEY})


def test_good_fix_is_verified_and_key_goes_only_to_the_endpoint(
    repo: GitRepo, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(CRITIC)
    fake_openai.enqueue(GOOD)
    outcome = review(settings_for(repo, fake_openai))  # type: ignore[arg-type]
    [fix] = outcome.fixes
    assert fix.verified
    assert fix.function == "clamp"
    assert "max(low, min(value, high))" in fix.source
    assert fix.fixed and not fix.remaining and not fix.added
    assert fix.calls == 2 and fix.iterations == 1
    assert fix.stop_reason in ("zero loss", "iteration limit")
    assert "-    return min(low, max(value, high))" in fix.diff
    # the model dropped the docstring; codegrad keeps the spec (and its examples) in the fix
    assert ">>> clamp(-3, 0, 10)" in fix.source
    critic_request, _update = fake_openai.completions
    assert critic_request.headers["authorization"] == f"Bearer {KEY}"
    for request in fake_openai.completions:
        assert KEY not in json.dumps(request.body)
    assert (
        "clamp(-3, 0, 10)" in critic_request.body["messages"][1]["content"]
    )  # the gradient evidence


def test_wrong_garbage_and_outside_changes_are_never_verified(
    repo: GitRepo, fake_openai: FakeOpenAI
) -> None:
    for answer in (WRONG, "I cannot help with that.", OUTSIDE):
        fake_openai.enqueue(CRITIC)
        fake_openai.enqueue(answer)
    outcome = review(settings_for(repo, fake_openai))  # type: ignore[arg-type]
    [fix] = outcome.fixes
    assert not fix.verified
    assert fix.diff == ""  # nothing better than the original was found
    assert fix.remaining and not fix.fixed
    assert fix.iterations == 3
    # the rejection reasons reached the later prompts as history
    last_update = fake_openai.completions[-1].body["messages"][1]["content"]
    assert "Rejected versions" in last_update


def test_budget_stops_the_loop_cleanly(repo: GitRepo, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(CRITIC)
    fake_openai.enqueue(WRONG)
    outcome = review(settings_for(repo, fake_openai, budget_calls=1))  # type: ignore[arg-type]
    [fix] = outcome.fixes
    assert not fix.verified
    assert fix.stop_reason.startswith("budget")
    assert len(fake_openai.completions) == 1
    assert any("budget" in note for note in outcome.notes)


def test_rate_limit_then_success(repo: GitRepo, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(status=429, retry_after=0)
    fake_openai.enqueue(CRITIC)
    fake_openai.enqueue(GOOD)
    outcome = review(settings_for(repo, fake_openai))  # type: ignore[arg-type]
    [fix] = outcome.fixes
    assert fix.verified
    assert fix.calls == 2


def run_cli(
    repo: GitRepo, fake: FakeOpenAI, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "OPENAI_API_KEY": KEY,
        "HOME": str(repo.path.parent),
        **(env or {}),
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "codegrad",
            "review",
            "--repo",
            str(repo.path),
            "--base",
            "main",
            "--checks",
            "docstrings",
            "--fix",
            "--llm-base-url",
            fake.base_url,
            "--format",
            "json",
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )


def test_cli_apply_writes_verified_fix_and_json_lists_it(
    repo: GitRepo, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(CRITIC)
    fake_openai.enqueue(GOOD)
    proc = run_cli(repo, fake_openai, "--apply")
    report = json.loads(proc.stdout)
    assert proc.returncode == 1, proc.stderr  # the review's findings still decide the status
    [fix] = report["fixes"]
    assert fix["verified"] is True and fix["function"] == "clamp"
    assert {
        "path",
        "diff",
        "source",
        "iterations",
        "fixed",
        "remaining",
        "tokens",
        "cost_usd",
    } <= set(fix)
    assert "max(low, min(value, high))" in (repo.path / "mathx.py").read_text()
    assert "untouched" in (repo.path / "mathx.py").read_text()
    assert repo.git("status", "--porcelain").strip() == "M mathx.py"  # written, never committed
    assert KEY not in proc.stdout + proc.stderr


def test_cli_apply_writes_the_fix_on_top_of_uncommitted_edits(
    repo: GitRepo, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(CRITIC)
    fake_openai.enqueue(GOOD)
    edited = HEAD + "\n# my local work in progress\n"
    (repo.path / "mathx.py").write_text(edited)
    proc = run_cli(repo, fake_openai, "--apply")  # no CI variables: the working tree is reviewed
    assert json.loads(proc.stdout)["tree"] == "worktree"
    assert "applied the verified fix for clamp to mathx.py" in proc.stderr
    text = (repo.path / "mathx.py").read_text()
    assert "max(low, min(value, high))" in text  # the fix
    assert text.endswith("\n# my local work in progress\n")  # the user's edit, kept
    assert text == edited.replace("min(low, max(value, high))", "max(low, min(value, high))")


def test_cli_apply_in_ci_reviews_the_commit_and_leaves_a_differing_file_alone(
    repo: GitRepo, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(CRITIC)
    fake_openai.enqueue(GOOD)
    edited = HEAD + "\n# my local work in progress\n"
    (repo.path / "mathx.py").write_text(edited)
    proc = run_cli(repo, fake_openai, "--apply", env={"CI": "true"})
    assert json.loads(proc.stdout)["tree"] == "commit"
    assert "not applied to mathx.py: it changed after it was reviewed" in proc.stderr
    assert (repo.path / "mathx.py").read_text() == edited  # nothing lost


def test_samples_already_received_survive_a_budget_stop(
    repo: GitRepo, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(CRITIC)
    fake_openai.enqueue(GOOD)
    settings = settings_for(repo, fake_openai, budget_calls=2, candidates_per_step=3)
    outcome = review(settings)  # type: ignore[arg-type]
    [fix] = outcome.fixes
    assert fix.verified  # the one sample received before the budget ran out was verified and kept
    assert fix.calls == 2 and len(fake_openai.completions) == 2


def test_the_last_call_of_the_budget_goes_to_an_update_not_to_the_critic(
    repo: GitRepo, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(CRITIC)
    fake_openai.enqueue(WRONG)
    fake_openai.enqueue(GOOD)  # iteration 2: one call left, so no critic; the update gets it
    outcome = review(settings_for(repo, fake_openai, budget_calls=3))  # type: ignore[arg-type]
    [fix] = outcome.fixes
    assert fix.verified and fix.calls == 3
    last = fake_openai.completions[-1].body["messages"][1]["content"]
    assert "Write the whole clamp from scratch" in last  # an update prompt, not a critic prompt


def test_sampled_candidates_alternate_fix_and_rewrite_prompts(
    repo: GitRepo, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(CRITIC)
    fake_openai.enqueue(WRONG)
    fake_openai.enqueue(HEAD_FUNCTION)  # the echo the rewrite prompt exists to avoid
    fake_openai.enqueue(GOOD)
    settings = settings_for(repo, fake_openai, candidates_per_step=3, max_iterations=1)
    outcome = review(settings)  # type: ignore[arg-type]
    [fix] = outcome.fixes
    assert fix.verified
    prompts = [c.body["messages"][1]["content"] for c in fake_openai.completions[1:]]
    assert "Write the fixed clamp" in prompts[0] and "Write the fixed clamp" in prompts[2]
    rewrite = prompts[1]
    assert "Write the whole clamp from scratch" in rewrite
    assert "min(low, max(value, high))" not in rewrite  # the failing code is not shown
    assert ">>> clamp(-3, 0, 10)" in rewrite  # the specification is
    assert "Failing checks:\n" in rewrite and "How to fix it:\n" in rewrite


def test_after_an_echo_every_sampled_candidate_is_written_from_the_spec(
    repo: GitRepo, fake_openai: FakeOpenAI
) -> None:
    for answer in (HEAD_FUNCTION, WRONG, GOOD.replace("value: int, low: int", "value, low: int")):
        fake_openai.enqueue(CRITIC)
        fake_openai.enqueue(answer)  # the failing code sent back; a wrong one; hints dropped
    outcome = review(settings_for(repo, fake_openai, max_iterations=3))  # type: ignore[arg-type]
    [fix] = outcome.fixes
    assert fix.verified  # the original header came back instead of a rejection
    assert "def clamp(value: int, low: int, high: int) -> int:" in fix.source
    updates = [c.body["messages"][1]["content"] for c in fake_openai.completions[1::2]]
    assert "Write the fixed clamp" in updates[0]  # greedy, the code in sight
    assert all("Write the whole clamp from scratch" in u for u in updates[1:])  # 2 is even: echo


def test_no_critic_sends_update_prompts_only(repo: GitRepo, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(WRONG)
    fake_openai.enqueue(GOOD)
    outcome = review(settings_for(repo, fake_openai, critic=False))  # type: ignore[arg-type]
    [fix] = outcome.fixes
    assert fix.verified and fix.calls == 2
    systems = [c.body["messages"][0]["content"] for c in fake_openai.completions]
    assert not any("You review one Python function" in s for s in systems)
    proc = run_cli(repo, fake_openai, "--no-critic", "--budget-calls", "1")
    assert proc.returncode == 1, proc.stderr
    assert "You review" not in fake_openai.completions[-1].body["messages"][0]["content"]
