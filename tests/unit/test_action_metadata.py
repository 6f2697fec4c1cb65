"""action.yml stays in step with `codegrad action`: every input reaches it, secrets only as env."""

from __future__ import annotations

import re
from pathlib import Path

from codegrad.github import context as action_context

ACTION_YML = Path(__file__).resolve().parents[2] / "action.yml"


def _sections() -> tuple[list[str], str]:
    text = ACTION_YML.read_text(encoding="utf-8")
    block = text.split("\ninputs:\n", 1)[1].split("\noutputs:\n", 1)[0]
    return re.findall(r"^  ([a-z][a-z-]*):$", block, re.M), text


def test_every_input_is_passed_to_the_codegrad_step_and_understood() -> None:
    inputs, text = _sections()
    assert {
        "github-token",
        "mode",
        "fail-on",
        "openai-api-key",
        "llm-base-url",
        "llm-model",
        "auto-fix",
    } <= set(inputs)
    assert {"max-iterations", "budget-usd", "test-command", "config", "allow-fork-code"} <= set(
        inputs
    )
    env = {}
    for name in inputs:
        variable = f"INPUT_{name.upper().replace('-', '_')}"
        assert f"{variable}: ${{{{ inputs.{name} }}}}" in text, name
        env[variable] = {
            "mode": "review",
            "auto-fix": "commit",
            "allow-fork-code": "true",
            "fail-on": "note",
            "isolation": "allow-weak",
            "enable-userns": "false",
        }.get(name, "7")
    parsed = action_context.read_inputs(env)
    assert (parsed.mode, parsed.auto_fix, parsed.allow_fork_code, parsed.fail_on) == (
        "review",
        "commit",
        True,
        "note",
    )
    assert (
        parsed.max_iterations,
        parsed.budget_usd,
        parsed.max_fix_commits,
        parsed.test_command,
    ) == (7, 7.0, 7, "7")
    assert (parsed.isolation, parsed.enable_userns, parsed.python) == ("allow-weak", "false", "7")


def test_secrets_reach_only_the_codegrad_steps_environment() -> None:
    _, text = _sections()
    for secret in ("inputs.github-token", "inputs.openai-api-key"):
        uses = [line.strip() for line in text.splitlines() if secret in line]
        assert len(uses) == 1 and uses[0].startswith("INPUT_"), uses
    assert "${{" not in "".join(
        line for line in text.splitlines() if line.strip().startswith("run:")
    )


def test_outputs_come_from_the_codegrad_step() -> None:
    _, text = _sections()
    for name in ("findings", "fixes", "report-path", "sarif-path"):
        assert f"value: ${{{{ steps.codegrad.outputs.{name} }}}}" in text
