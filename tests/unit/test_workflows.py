"""Workflows as GitHub reads them: CI's, the examples' and the README's, parsed and schema-checked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from helpers_schemas import ROOT, github_schema, load_yaml, load_yaml_text, schema_errors

ACTION = "codegrad/codegrad@"
WORKFLOWS = sorted(
    [
        *(ROOT / ".github" / "workflows").glob("*.yml"),
        *(ROOT / "examples" / "workflows").glob("*.yml"),
    ]
)
DOCS = (ROOT / "README.md", ROOT / "examples" / "workflows" / "README.md")


def _yaml_blocks(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return re.findall(r"^```ya?ml\n(.*?)^```", text, re.M | re.S)


def _workflow_blocks() -> list[tuple[str, str]]:
    return [
        (f"{path.relative_to(ROOT)}#{i}", block)
        for path in DOCS
        for i, block in enumerate(_yaml_blocks(path))
        if re.search(r"^jobs:", block, re.M)
    ]


def _action_steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        step
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if str(step.get("uses", "")).startswith(ACTION)
    ]


def test_every_workflow_file_is_found() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"ci.yml", "pr-review.yml", "auto-fix.yml", "harden.yml"} <= names
    assert {"pr-review-fork.yml", "post-fork-report.yml"} <= names


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_workflow_matches_githubs_workflow_schema(path: Path) -> None:
    workflow = load_yaml(path)
    assert schema_errors(workflow, github_schema("github-workflows")) == []
    assert "on" in workflow and True not in workflow  # YAML 1.2: `on` is a key, not a boolean


def test_the_readme_workflow_loads_and_matches_the_schema() -> None:
    blocks = _workflow_blocks()
    assert any(name.startswith("README.md") for name, _ in blocks)
    for name, block in blocks:
        workflow = load_yaml_text(block)
        assert schema_errors(workflow, github_schema("github-workflows")) == [], name


def test_workflows_pass_only_inputs_the_action_declares() -> None:
    declared = set(load_yaml(ROOT / "action.yml")["inputs"])
    seen = 0
    sources = [(str(p), load_yaml(p)) for p in WORKFLOWS]
    sources += [(name, load_yaml_text(block)) for name, block in _workflow_blocks()]
    for name, workflow in sources:
        for step in _action_steps(workflow):
            seen += 1
            unknown = set(step.get("with") or {}) - declared
            assert not unknown, f"{name}: {sorted(unknown)} are not inputs of action.yml"
    assert seen >= 5


def test_a_schema_violation_is_reported() -> None:
    """The checker is not vacuous: a job without runs-on and a step with two actions fail."""
    broken = load_yaml_text(
        "on: push\njobs:\n  x:\n    steps:\n      - uses: a/b@v1\n        run: echo\n"
    )
    assert schema_errors(broken, github_schema("github-workflows"))
