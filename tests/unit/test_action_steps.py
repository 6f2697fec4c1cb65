"""action.yml's steps as the runner runs them: parsed as YAML, their bash run with stand-in commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ACTION_YML = Path(__file__).resolve().parents[2] / "action.yml"


def _action() -> dict[str, Any]:
    data = yaml.safe_load(ACTION_YML.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _step(name_part: str) -> dict[str, Any]:
    [step] = [s for s in _action()["runs"]["steps"] if name_part in s["name"]]
    return dict(step)


def _stub(folder: Path, name: str, body: str = "") -> None:
    """A command that logs its arguments to calls.log (and runs body)."""
    path = folder / name
    path.write_text(f'#!/bin/sh\necho "{name} $*" >>"{folder}/calls.log"\n{body}\n')
    path.chmod(0o755)


def _run_step(
    step: dict[str, Any], tmp: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    script = tmp / "step.sh"
    script.write_text(step["run"])
    full = {"PATH": f"{tmp}:/usr/bin:/bin", "GITHUB_OUTPUT": str(tmp / "output"), **env}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("wanted", "runner", "expected"),
    [
        ("auto", "github-hosted", True),
        ("auto", "self-hosted", False),
        ("", "github-hosted", True),
        ("true", "self-hosted", True),
        ("false", "github-hosted", False),
        ("nonsense", "github-hosted", False),
    ],
)
def test_the_sysctl_runs_only_where_the_input_and_runner_allow(
    tmp_path: Path, wanted: str, runner: str, expected: bool
) -> None:
    step = _step("user namespaces")
    assert step["env"] == {"INPUT_ENABLE_USERNS": "${{ inputs.enable-userns }}"}
    knob = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"
    assert knob in step["run"]
    (tmp_path / "knob").write_text("1\n")  # this kernel may not have the knob: stand in for it
    step["run"] = step["run"].replace(knob, str(tmp_path / "knob"))
    _stub(tmp_path, "sudo")
    done = _run_step(step, tmp_path, {"INPUT_ENABLE_USERNS": wanted, "RUNNER_ENVIRONMENT": runner})
    assert done.returncode == 0, done.stderr
    calls = (tmp_path / "calls.log").read_text() if (tmp_path / "calls.log").exists() else ""
    assert (
        calls == "sudo -n sysctl -w kernel.apparmor_restrict_unprivileged_userns=0\n"
    ) is expected


def test_codegrad_runs_isolated_from_its_own_virtual_environment() -> None:
    install = _step("own virtual environment")
    assert (
        "python3 -I -m venv" in install["run"] and '"$venv/bin/python" -I -m pip' in install["run"]
    )
    run = _step("Run codegrad")
    assert run["run"] == '"$CODEGRAD" -I -m codegrad action'
    assert run["env"]["CODEGRAD"] == "${{ steps.install.outputs.python }}"
    assert run["env"]["INPUT_PYTHON"] == "${{ steps.project.outputs.python }}"
    # nothing of codegrad is installed into the job's (the project's) Python
    steps = _action()["runs"]["steps"]
    assert not any(
        "pip install" in s["run"] and "GITHUB_ACTION_PATH" in s["run"] and "$venv" not in s["run"]
        for s in steps
    )


def test_the_project_python_step_installs_only_what_is_missing(tmp_path: Path) -> None:
    step = _step("project's Python")
    # a project interpreter that lacks hypothesis: the step installs the three, no upgrade flags
    _stub(tmp_path, "python", 'case "$1" in -I) exit 1;; esac')
    done = _run_step(step, tmp_path, {"INPUT_PYTHON": ""})
    assert done.returncode == 0, done.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert (
        calls[1]
        == "python -m pip install --disable-pip-version-check --quiet pytest hypothesis coverage"
    )
    assert (tmp_path / "output").read_text() == f"python={tmp_path}/python\n"
    # one that has them all: nothing installed; an explicit input wins
    (tmp_path / "calls.log").unlink()
    done = _run_step(step, tmp_path, {"INPUT_PYTHON": sys.executable})
    assert done.returncode == 0 and not (tmp_path / "calls.log").exists()
    assert (tmp_path / "output").read_text().endswith(f"python={sys.executable}\n")
    assert os.access(sys.executable, os.X_OK)
