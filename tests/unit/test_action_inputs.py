"""The action's pure parts: inputs, context, the event's pull request, the loop guard, the log."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from codegrad.errors import UsageError
from codegrad.github import action
from codegrad.github import context as action_context
from codegrad.github import output as action_output


def event(**kw: object) -> dict[str, object]:
    data: dict[str, object] = {
        "action": "opened",
        "pull_request": {
            "number": 5,
            "user": {"login": "alice"},
            "head": {"sha": "b" * 40, "ref": "feat", "repo": {"full_name": "o/r"}},
            "base": {
                "sha": "a" * 40,
                "ref": "main",
                "repo": {"full_name": "o/r", "default_branch": "main"},
            },
        },
        "sender": {"login": "alice", "type": "User"},
    }
    data.update(kw)
    return data


def test_inputs_accept_both_spellings_and_fall_back_to_github_token() -> None:
    inputs = action_context.read_inputs(
        {
            "INPUT_AUTO-FIX": "Commit",
            "INPUT_MAX_ITERATIONS": "3",
            "INPUT_BUDGET-USD": "0.5",
            "GITHUB_TOKEN": "tok",
        }
    )
    assert (inputs.auto_fix, inputs.max_iterations, inputs.budget_usd, inputs.token) == (
        "commit",
        3,
        0.5,
        "tok",
    )
    assert (inputs.mode, inputs.allow_fork_code, inputs.max_fix_commits) == ("auto", False, 3)
    assert "tok" not in repr(
        action_context.read_inputs(
            {"INPUT_GITHUB-TOKEN": "tok", "INPUT_OPENAI-API-KEY": "sk-123456"}
        )
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"INPUT_MODE": "fast"}, "input mode: 'fast' is not one of auto, review, harden"),
        ({"INPUT_AUTO-FIX": "yes"}, "input auto-fix: 'yes'"),
        ({"INPUT_FAIL-ON": "fatal"}, "input fail-on: 'fatal'"),
        ({"INPUT_MAX-ITERATIONS": "many"}, "input max-iterations: 'many' is not a whole number"),
        ({"INPUT_BUDGET-USD": "-1"}, "must not be negative"),
        (
            {"INPUT_ALLOW-FORK-CODE": "maybe"},
            "input allow-fork-code: 'maybe' must be true or false",
        ),
    ],
)
def test_bad_inputs_name_the_input_and_the_value(env: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        action_context.read_inputs(env)
    assert message in str(info.value)


def test_context_needs_event_name_event_file_and_repository(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event()))
    env = {
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_API_URL": "https://ghe.example/api/v3/",
        "RUNNER_TEMP": str(tmp_path),
    }
    ctx = action_context.read_context(env)
    assert (
        ctx.api_url == "https://ghe.example/api/v3"
        and ctx.report_dir == tmp_path / "codegrad-report"
    )
    for missing, text in (
        ("GITHUB_EVENT_NAME", "GITHUB_EVENT_NAME is not set"),
        ("GITHUB_EVENT_PATH", "no event file"),
        ("GITHUB_REPOSITORY", "expected owner/name"),
    ):
        with pytest.raises(UsageError, match=text):
            action_context.read_context({k: v for k, v in env.items() if k != missing})
    path.write_text("[1]")
    with pytest.raises(UsageError, match="not a JSON object"):
        action_context.read_context(env)


def test_pull_from_event_and_fork_detection() -> None:
    pull = action_context.pull_from_event(event())
    assert (pull.number, pull.base_sha, pull.head_ref, pull.default_branch, pull.is_fork) == (
        5,
        "a" * 40,
        "feat",
        "main",
        False,
    )
    forked = event()
    forked["pull_request"]["head"]["repo"] = None  # type: ignore[index]  # a deleted fork
    assert action_context.pull_from_event(forked).is_fork
    with pytest.raises(UsageError, match="no pull_request object"):
        action_context.pull_from_event({"action": "opened"})
    with pytest.raises(UsageError, match="lacks 'sha'"):
        action_context.pull_from_event(
            {"pull_request": {"number": 1, "head": {}, "base": {"repo": {"full_name": "o/r"}}}}
        )


def test_loop_guard() -> None:
    pull = action_context.pull_from_event(event())
    assert action_context.loop_guard(pull, "normal commit") is None
    assert "own fix commit" in (action_context.loop_guard(pull, "fix\n\nCodegrad-Fix: 9") or "")
    bot = action_context.pull_from_event(event(sender={"login": "dependabot[bot]", "type": "Bot"}))
    assert "triggered by a bot (dependabot[bot])" in (action_context.loop_guard(bot, None) or "")


def test_log_escapes_workflow_commands_and_redacts_secrets() -> None:
    from codegrad.redaction import register_secret

    register_secret("super-secret-value")
    stream = io.StringIO()
    log = action_output.Log(stream)
    log.annotate("error", "50% bad\nsecond super-secret-value", file="a,b:c.py", line=3, title="t")
    assert stream.getvalue() == "::error file=a%2Cb%3Ac.py,line=3,title=t::50%25 bad%0Asecond ***\n"


def test_outputs_use_the_multiline_delimiter(tmp_path: Path) -> None:
    out = tmp_path / "out"
    action_output.write_outputs(out, {"findings": "2", "text": "a\nb"})
    lines = out.read_text().splitlines()
    assert (
        lines[0].startswith("findings<<ghadelimiter_")
        and lines[1] == "2"
        and lines[2] == lines[0].split("<<")[1]
    )
    assert lines[4:6] == ["a", "b"]


def test_harden_and_review_modes_on_the_wrong_event_are_usage_errors(tmp_path: Path) -> None:
    ctx = action_context.Context("push", {}, "o/r", "u", "s", tmp_path, "1", tmp_path)
    with pytest.raises(UsageError, match="codegrad runs on pull_request"):
        action.dispatch(
            ctx,
            action_context.Inputs(token="t"),
            action_output.Log(io.StringIO()),
            connect=None,
            review=None,
            env={},
        )  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="mode review needs a pull_request event"):
        action.dispatch(
            ctx,
            action_context.Inputs(token="t", mode="review"),
            action_output.Log(io.StringIO()),
            connect=None,
            review=None,
            env={},
        )  # type: ignore[arg-type]
