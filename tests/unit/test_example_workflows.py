"""The example workflows, read as GitHub reads them (YAML): what they claim about the trust model holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "workflows"
FILES = sorted(EXAMPLES.glob("*.yml"))


def _steps(path: Path, job: str | None = None) -> list[dict[str, Any]]:
    jobs = yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"]
    return [step for name, spec in jobs.items() if job in (None, name) for step in spec["steps"]]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_checkout_saves_the_token_for_later_steps(path: Path) -> None:
    checkouts = [s for s in _steps(path) if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert all(s["with"]["persist-credentials"] is False for s in checkouts)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_secrets_reach_only_codegrad_steps(path: Path) -> None:
    for step in _steps(path):
        text = yaml.safe_dump(step)
        if "secrets." in text:
            assert "codegrad" in str(step.get("uses", "")) + str(step.get("run", "")), step


def test_the_harden_shards_run_codegrad_from_its_own_venv_on_the_projects_python() -> None:
    steps = _steps(EXAMPLES / "harden.yml", "shard")  # the job that runs the repository's code
    [run] = [s for s in steps if "codegrad harden" in str(s.get("run", ""))]
    assert '"$RUNNER_TEMP/codegrad-venv/bin/python" -I -m codegrad harden' in run["run"]
    assert '--python "$(command -v python)"' in run["run"]
    installs = [str(s.get("run", "")) for s in steps]
    assert not any(
        "pip install" in r and "codegrad @" in r and "codegrad-venv" not in r for r in installs
    )
    assert any("apparmor_restrict_unprivileged_userns=0" in r for r in installs)
