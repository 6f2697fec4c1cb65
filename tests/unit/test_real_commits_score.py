"""The real-commit benchmark's pure steps: manifest checks, case selection, path split, scoring."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from real_commits_cases import (  # noqa: E402
    BenchError,
    parse_manifest,
    select_units,
    split_paths,
)
from real_commits_score import markdown, score_unit, summarize, summarize_report  # noqa: E402

SHA = "a" * 40


def manifest_data(**case: str) -> dict[str, object]:
    entry = {"id": "lib-1", "project": "lib", "kind": "fix", "commit": SHA, **case}
    return {"projects": {"lib": {"url": "https://example.invalid/lib"}}, "cases": [entry]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "feature"}, "kind 'feature' is not one of fix, correct"),
        ({"commit": "abc123"}, "commit 'abc123' must be a full 40-digit sha"),
        ({"project": "other"}, "unknown project 'other'"),
        ({"id": "Bad Id"}, "id must be unique"),
    ],
)
def test_manifest_mistakes_name_the_case_and_the_value(
    change: dict[str, str], message: str
) -> None:
    with pytest.raises(BenchError, match="case 1") as info:
        parse_manifest(manifest_data(**change))
    assert message in str(info.value)


def test_the_shipped_manifest_is_valid() -> None:
    import tomllib

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "real_commits.toml"
    manifest = parse_manifest(tomllib.loads(path.read_text(encoding="utf-8")))
    kinds = [c.kind for c in manifest.cases]
    assert kinds.count("fix") >= 10 and kinds.count("correct") >= 12
    assert len({c.commit for c in manifest.cases}) == len(manifest.cases)


def test_a_fix_case_is_two_units_and_patterns_pick_ids_or_units() -> None:
    data = manifest_data()
    data["cases"] = [  # type: ignore[index]
        {"id": "lib-1", "project": "lib", "kind": "fix", "commit": SHA},
        {"id": "lib-2", "project": "lib", "kind": "correct", "commit": "b" * 40},
    ]
    cases = parse_manifest(data).cases
    every = ("kept", "removed", "correct")
    assert [u.name for u in select_units(cases, [], every)] == [
        "lib-1.kept",
        "lib-1.removed",
        "lib-2.correct",
    ]
    assert [u.name for u in select_units(cases, ["lib-1"], every)] == [
        "lib-1.kept",
        "lib-1.removed",
    ]
    assert [u.name for u in select_units(cases, ["*.removed", "lib-2"], every)] == [
        "lib-1.removed",
        "lib-2.correct",
    ]
    assert [u.name for u in select_units(cases, ["lib-*"], ("correct",))] == ["lib-2.correct"]


def test_paths_split_into_library_files_and_tests() -> None:
    source, tests = split_paths(
        [
            "pkg/mod.py",
            "pkg/tests/test_mod.py",
            "tests/test_other.py",
            "tests/helpers.py",
            "conftest.py",
            "docs/api.rst",
            "pkg/mod.pyi",
        ]
    )
    assert source == ("pkg/mod.py",)
    assert tests == (
        "pkg/tests/test_mod.py",
        "tests/test_other.py",
        "tests/helpers.py",
        "conftest.py",
    )


def finding(**extra: object) -> dict[str, object]:
    base = {
        "path": "pkg/mod.py",
        "function": "f",
        "check": "differential",
        "kind": "crash",
        "severity": "error",
        "message": "f([]) raises",
        "input": "f([])",
        "base_fails_same": False,
        "fingerprint": "0" * 16,
    }
    return {**base, **extra}


def record(variant: str, findings: list[dict[str, object]], **extra: object) -> dict[str, object]:
    report = {"targets": [{"key": "pkg/mod.py::f"}], "findings": findings, "checks": []}
    return {
        "unit": f"lib-1.{variant}",
        "variant": variant,
        "project": "lib",
        "commit": SHA,
        "note": "a fix",
        "review": {"status": "ok", "seconds": [30.0], **summarize_report(report)},
        "pytest": {"seconds": [10.0], "exit_codes": [0]},
        **extra,
    }


def test_detection_counts_only_signal_on_changed_functions() -> None:
    assert score_unit(record("removed", [finding()]))["detected_warning"]
    note = score_unit(record("removed", [finding(kind="behaviour-change", severity="note")]))
    assert (note["detected_warning"], note["detected_any"]) == (False, True)
    for noise in (
        finding(function="<test command>", path=".", check="project-tests", kind="timeout"),
        finding(kind="pre-existing", severity="warning"),
        finding(base_fails_same=True),
        finding(kind="error", severity="warning"),
    ):
        scored = score_unit(record("removed", [noise]))
        assert scored["flagged_warning"] and not scored["detected_any"], noise


def test_own_checks_exclude_the_project_tests() -> None:
    scored = score_unit(record("kept", [finding(check="project-tests", kind="regression")]))
    assert scored["detected_warning"] and not scored["own_any"]
    assert scored["detecting_checks"] == ["project-tests"]


def test_summary_counts_settings_false_alarms_and_time() -> None:
    records = [
        record("removed", [finding()]),
        record("removed", [], unit="lib-2.removed"),
        record(
            "correct", [finding(kind="behaviour-change", severity="note")], unit="lib-3.correct"
        ),
        record("correct", [finding(severity="warning", kind="bug")], unit="lib-4.correct"),
        {**record("correct", []), "unit": "lib-5.correct", "review": {"status": "timeout"}},
    ]
    summary = summarize(records)
    removed = summary["settings"]["removed"]
    assert (removed["ran"], removed["detected_warning"], removed["own_warning"]) == (2, 1, 1)
    correct = summary["settings"]["correct"]
    assert (correct["units"], correct["ran"], correct["flagged_warning"]) == (3, 2, 1)
    assert correct["not_ran"] == {"lib-5.correct": "timeout"}
    assert [f["unit"] for f in summary["false_alarms"]] == ["lib-4.correct"]
    assert summary["time"]["median_ratio"] == 3.0


def test_markdown_tables_have_a_row_per_setting_and_per_pr() -> None:
    records = [
        record("removed", [finding(input="f('a|b')")]),
        record(
            "correct",
            [finding(severity="warning", kind="bug", input="f('|')")],
            unit="lib-2.correct",
        ),
    ]
    text = markdown(records, {"command": ["python benchmarks/real_commits.py"]})
    tables = [block for block in text.split("\n\n") if block.startswith("|")]
    for table in tables:  # every row has as many cells as the header (pipes in values escaped)
        rows = [line.replace("\\|", "") for line in table.splitlines()]
        assert len({row.count("|") for row in rows}) == 1, table
    assert "| bug put back, the fix's tests removed | 1 | 1/1 = 100% |" in text
    assert "`f('a\\|b')`" in text
    assert "| lib-2.correct | `f` | differential | bug | warning |" in text
