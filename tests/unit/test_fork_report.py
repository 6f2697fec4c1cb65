"""The fork run's artifact: findings out as data, and back in only after every field is checked."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from codegrad.github import fork_report
from codegrad.model import CheckResult, Evidence, Finding, Kind, Outcome, Target

TARGET = Target("pkg/m.py", "mean", 3, 6, "def mean(xs): ...", changed_lines=(4, 5))
BUG = Finding(
    "pkg/m.py",
    "mean",
    5,
    "properties",
    Kind.BUG,
    "mean([1, 2]) returned 3.0",
    input="mean([1, 2])",
    expected="1.5",
    actual="3.0",
    traceback=("pkg/m.py:5: return total",),
    reproduces=True,
    base_fails_same=False,
    reproducer="def test_mean():\n    assert mean([1, 2]) == 1.5\n",
    details={"property": "return-type", "args": {"xs": [1, 2]}},
)


def artifact() -> dict[str, Any]:
    outcome = Outcome(
        "a" * 40,
        "b" * 40,
        (TARGET,),
        Evidence((TARGET,), (CheckResult("properties", (BUG,)),)),
        notes=("a note",),
        seconds=2.5,
    )
    return fork_report.to_dict(outcome, number=7, head_sha="b" * 40)


def test_findings_round_trip_as_data_without_notes_fixes_or_markdown() -> None:
    data = artifact()
    assert set(data) == {
        "version",
        "pull_request",
        "head_sha",
        "base_sha",
        "seconds",
        "targets",
        "findings",
    }

    number, head, outcome, dropped = fork_report.from_dict(data, files={"pkg/m.py"})

    assert (number, head, dropped) == (7, "b" * 40, 0)
    [finding] = outcome.findings
    assert finding.fingerprint == BUG.fingerprint and finding.details == {"property": "return-type"}
    assert (
        outcome.targets[0].changed_lines == (4, 5) and outcome.notes == () and outcome.fixes == ()
    )


def test_findings_on_files_the_pull_request_does_not_change_are_dropped() -> None:
    data = artifact()
    data["findings"].append({**data["findings"][0], "path": "README.md"})
    _, _, outcome, dropped = fork_report.from_dict(data, files={"pkg/m.py"})
    assert dropped == 1 and [f.path for f in outcome.findings] == ["pkg/m.py"]


def _broken(change: str) -> dict[str, Any]:
    data = copy.deepcopy(artifact())
    finding = data["findings"][0]
    edits = {
        "version": lambda: data.update(version=1),
        "number": lambda: data.update(pull_request=True),
        "sha": lambda: data.update(head_sha="HEAD"),
        "findings": lambda: data.update(findings={"a": 1}),
        "kind": lambda: finding.update(kind="approved"),
        "check": lambda: finding.update(check="security-review"),
        "line": lambda: finding.update(line="14"),
        "path": lambda: finding.update(path="../../etc/passwd"),
        "absolute": lambda: finding.update(path="/etc/passwd"),
        "message": lambda: finding.update(message=["x"]),
        "flag": lambda: finding.update(reproduces="yes"),
        "control": lambda: finding.update(function="f\x1b[31m"),
        "property": lambda: finding.update(property="x" * 200),
        "many": lambda: data.update(findings=[finding] * (fork_report.MAX_FINDINGS + 1)),
    }
    edits[change]()
    return data


@pytest.mark.parametrize(
    "change",
    [
        "version",
        "number",
        "sha",
        "findings",
        "kind",
        "check",
        "line",
        "path",
        "absolute",
        "message",
        "flag",
        "control",
        "property",
        "many",
    ],
)
def test_a_forged_field_is_refused_with_its_name(change: str) -> None:
    with pytest.raises(fork_report.BadReport):
        fork_report.from_dict(_broken(change), files={"pkg/m.py"})


def test_long_text_is_cut() -> None:
    data = artifact()
    data["findings"][0]["message"] = "m" * 100_000
    _, _, outcome, _ = fork_report.from_dict(data, files={"pkg/m.py"})
    assert len(outcome.findings[0].message) < fork_report.MAX_TEXT + 20
