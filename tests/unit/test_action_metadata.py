"""action.yml, read as GitHub reads it: valid YAML and schema, every input reaches `codegrad action`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml.error import YAMLError

from codegrad.github import context as action_context
from codegrad.github import harden_pr
from codegrad.github.output import outcome_outputs
from codegrad.model import Evidence, Outcome
from helpers_schemas import ROOT, github_schema, load_yaml, load_yaml_text, schema_errors

ACTION_YML = ROOT / "action.yml"

# One valid, non-default value per input: each must change what the entry point reads.
SAMPLES = {
    "github-token": "ghs_sample",
    "mode": "review",
    "fail-on": "note",
    "openai-api-key": "sk-sample",
    "llm-base-url": "http://127.0.0.1:9/v1",
    "llm-model": "local",
    "auto-fix": "commit",
    "max-iterations": "7",
    "budget-usd": "0.5",
    "test-command": "pytest -x",
    "config": "ci/codegrad.toml",
    "allow-fork-code": "true",
    "max-fix-commits": "9",
    "report-dir": "/tmp/reports",
    "harden-report": "merged.json",
    "harden-cache": ".codegrad/cache.json",
    "max-functions": "40",
    "python": "/opt/project/bin/python",
    "isolation": "allow-weak",
    "enable-userns": "false",
}
# Inputs that reach the codegrad step through an earlier step's output (input -> step id).
THROUGH = {"python": "project"}


def _action() -> dict[str, Any]:
    data = load_yaml(ACTION_YML)
    assert isinstance(data, dict)
    return data


def _codegrad_step(action: dict[str, Any]) -> dict[str, Any]:
    [step] = [s for s in action["runs"]["steps"] if s.get("id") == "codegrad"]
    return step


def _read(env: dict[str, str]) -> tuple[object, object]:
    """What the entry point reads from the environment: the review's inputs and harden's."""
    return action_context.read_inputs(env), harden_pr.read_harden_inputs(env, Path("/ws"))


def test_action_yml_is_yaml_that_matches_githubs_action_schema() -> None:
    action = _action()
    assert schema_errors(action, github_schema("github-actions")) == []
    assert action["runs"]["using"] == "composite"
    for name, spec in action["inputs"].items():
        assert isinstance(spec["description"], str) and spec["description"].strip(), name
        assert ": " not in name


def test_a_description_with_a_second_colon_is_what_broke_it() -> None:
    """The failure this guards against: an unquoted `key: a: b` is not YAML at all."""
    text = ACTION_YML.read_text(encoding="utf-8")
    broken = text.replace(
        'description: "Harden mode: verify at most this many functions (riskiest first)."',
        "description: Harden mode: verify at most this many functions (riskiest first).",
    )
    assert broken != text
    with pytest.raises(YAMLError):
        load_yaml_text(broken)


def test_every_input_is_passed_to_the_codegrad_step_and_read_by_the_entry_point() -> None:
    action = _action()
    inputs = set(action["inputs"])
    assert inputs == set(SAMPLES), "give each input of action.yml a sample value here"
    step = _codegrad_step(action)
    assert step["run"].strip().endswith("-m codegrad action")
    env = step["env"]
    default = _read({})
    for name in sorted(inputs):
        variable = f"INPUT_{name.upper().replace('-', '_')}"
        if name in THROUGH:
            [earlier] = [s for s in action["runs"]["steps"] if s.get("id") == THROUGH[name]]
            assert earlier["env"][variable] == f"${{{{ inputs.{name} }}}}", name
            assert env.get(variable) == f"${{{{ steps.{THROUGH[name]}.outputs.{name} }}}}", name
        else:
            assert env.get(variable) == f"${{{{ inputs.{name} }}}}", name
        assert _read({variable: SAMPLES[name]}) != default, f"{variable} is not read"
    passed = {key for key in env if key.startswith("INPUT_")}
    assert passed == {f"INPUT_{n.upper().replace('-', '_')}" for n in inputs}


def test_defaults_of_action_yml_are_accepted_by_the_entry_point() -> None:
    action = _action()
    env = {
        f"INPUT_{name.upper().replace('-', '_')}": str(spec.get("default", ""))
        for name, spec in action["inputs"].items()
        if "${{" not in str(spec.get("default", ""))
    }
    inputs, harden = _read(env)
    assert inputs == action_context.read_inputs({})
    assert harden == harden_pr.read_harden_inputs({}, Path("/ws"))


def test_secrets_reach_only_the_codegrad_steps_environment() -> None:
    action = _action()
    for step in action["runs"]["steps"]:
        assert "${{" not in step["run"], step.get("name")
    step = _codegrad_step(action)
    for secret in ("github-token", "openai-api-key"):
        holders = [
            (s.get("id"), key)
            for s in action["runs"]["steps"]
            for key, value in (s.get("env") or {}).items()
            if f"inputs.{secret}" in str(value)
        ]
        assert holders == [("codegrad", f"INPUT_{secret.upper().replace('-', '_')}")]
    assert step["shell"] == "bash"


def test_outputs_come_from_the_codegrad_step_and_the_entry_point_writes_them() -> None:
    outputs = _action()["outputs"]
    for name, spec in outputs.items():
        assert spec["value"] == f"${{{{ steps.codegrad.outputs.{name} }}}}", name
    empty = Outcome(base="a", head="b", targets=(), evidence=Evidence(targets=(), results=()))
    written = set(outcome_outputs(empty, Path("r"), Path("r/report.sarif")))
    assert written | {"pull-request-url"} == set(outputs)
    assert '"pull-request-url"' in Path(harden_pr.__file__).read_text(encoding="utf-8")
