"""Unit tests for the markdown, JSON and SARIF renderers: golden files, round trip, SARIF rules."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path
from typing import Any

import pytest

from builders import assert_golden
from codegrad import render
from codegrad.errors import UsageError
from codegrad.model import CheckResult, Evidence, Finding, Fix, Kind, Outcome, Severity, Target
from codegrad.render import jsonout, markdown, sarif

RECORDED = Path(__file__).parent / "recorded"
CHECKS = ("project-tests", "docstrings", "properties", "differential", "efficiency")
BASE = "0123456789abcdef0123456789abcdef01234567"
HEAD = "fedcba9876543210fedcba9876543210fedcba98"

MEAN = Target(
    path="pkg/stats.py",
    qualname="mean",
    lineno=10,
    end_lineno=16,
    source='def mean(xs):\n    """Average.\n\n    >>> mean([1, 2])\n    1.5\n    """\n    return sum(xs) // len(xs)\n',
    changed_lines=(16,),
    base_source='def mean(xs):\n    """Average."""\n    return sum(xs) / len(xs)\n',
    base_lineno=10,
    docstring="Average.",
)
SLUG = Target(
    path="pkg/text.py",
    qualname="Slugger.slug",
    lineno=5,
    end_lineno=9,
    source="    def slug(self, s: str) -> str:\n        return s.lower().replace(' ', '-')\n",
    changed_lines=(6,),
    kind="method",
    class_name="Slugger",
)
CLEAN = Target(
    path="pkg/text.py",
    qualname="strip_all",
    lineno=20,
    end_lineno=22,
    source="def strip_all(xs):\n    return [x.strip() for x in xs]\n",
)

DOC_BUG = Finding(
    path="pkg/stats.py",
    function="mean",
    line=13,
    check="docstrings",
    kind=Kind.BUG,
    message="docstring example `mean([1, 2])` failed",
    input="mean([1, 2])",
    expected="1.5",
    actual="1",
    reproduces=True,
    base_fails_same=False,
    reproducer="from pkg.stats import mean\n\n\ndef test_mean_docstring():\n    assert mean([1, 2]) == 1.5\n",
)
CRASH = Finding(
    path="pkg/stats.py",
    function="mean",
    line=16,
    check="properties",
    kind=Kind.CRASH,
    message="no-crash-on-valid-input: ZeroDivisionError",
    input="mean(xs=[])",
    actual="ZeroDivisionError: integer division or modulo by zero",
    traceback=("pkg/stats.py:16: return sum(xs) // len(xs)",),
    reproduces=True,
    base_fails_same=True,
    reproducer=(
        "from pkg.stats import mean\n\n\ndef test_mean_no_crash_empty():\n    mean(xs=[])\n"
    ),
    details={"property": "no-crash"},
)
SLOW = Finding(
    path="pkg/stats.py",
    function="mean",
    line=10,
    check="efficiency",
    kind=Kind.COMPLEXITY_BOUND,
    message="cost grows faster than the stated bound",
    expected="O(n)",
    actual="O(n^2)",
    reproduces=True,
)
CHANGED = Finding(
    path="pkg/text.py",
    function="Slugger.slug",
    line=6,
    check="differential",
    kind=Kind.BEHAVIOUR_CHANGE,
    message="head and base differ",
    input="Slugger().slug(s='A B')",
    expected="'a_b'",
    actual="'a-b'",
    reproduces=True,
)
REGRESSION = Finding(
    path="pkg/text.py",
    function="Slugger.slug",
    line=6,
    check="project-tests",
    kind=Kind.REGRESSION,
    message="tests/test_text.py::test_slug failed: assert 'a-b' == 'a_b'",
    expected="'a_b'",
    actual="'a-b'",
    reproduces=True,
    base_fails_same=False,
    severity=Severity.ERROR,
)
FIX = Fix(
    path="pkg/stats.py",
    function="mean",
    verified=True,
    diff=(
        "--- a/pkg/stats.py\n+++ b/pkg/stats.py\n@@ -16 +16 @@\n"
        "-    return sum(xs) // len(xs)\n+    return sum(xs) / len(xs)\n"
    ),
    source="def mean(xs):\n    return sum(xs) / len(xs)\n",
    iterations=2,
    fixed=(DOC_BUG,),
    remaining=(CRASH,),
    tokens=1834,
    cost_usd=0.00123,
    calls=2,
    stop_reason="no error findings left",
    tests="from pkg.stats import mean\n\n\ndef test_mean_half():\n    assert mean([1, 2]) == 1.5\n",
)


def build_outcome(findings: tuple[Finding, ...] | None = None) -> Outcome:
    """A hand-built review: three targets (one clean), five findings of several kinds, one fix."""
    found = findings if findings is not None else (DOC_BUG, CRASH, SLOW, CHANGED, REGRESSION)
    targets = (MEAN, SLUG, CLEAN)
    results = tuple(
        CheckResult(
            check=name,
            findings=tuple(f for f in found if f.check == name),
            checked=tuple(t.key for t in targets),
            skipped={CLEAN.key: "no annotations or examples"} if name == "properties" else {},
            seconds=1.25,
            stats={"examples": 100} if name == "properties" else {},
        )
        for name in sorted({*CHECKS, *(f.check for f in found)})
    )
    return Outcome(
        base=BASE,
        head=HEAD,
        targets=targets,
        evidence=Evidence(targets=targets, results=results),
        fixes=(FIX,) if findings is None else (),
        notes=("budget: efficiency stopped after 60 s",) if findings is None else (),
        seconds=12.345,
    )


def clean_outcome() -> Outcome:
    return build_outcome(findings=())


def assert_recorded(name: str, text: str) -> None:
    assert_golden(RECORDED / name, text)


# --- golden files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "name"), [("markdown", "report.md"), ("json", "report.json"), ("sarif", "report.sarif")]
)
def test_render_matches_recorded(fmt: str, name: str) -> None:
    assert_recorded(name, render.render(build_outcome(), fmt))


@pytest.mark.parametrize("fmt", ["markdown", "json", "sarif"])
def test_render_is_deterministic_whatever_the_finding_order(fmt: str) -> None:
    shuffled = [DOC_BUG, CRASH, SLOW, CHANGED, REGRESSION]
    random.Random(7).shuffle(shuffled)
    outcome = build_outcome()
    results = tuple(
        dataclasses.replace(r, findings=tuple(f for f in shuffled if f.check == r.check))
        for r in reversed(outcome.evidence.results)
    )
    reordered = dataclasses.replace(
        outcome,
        targets=tuple(reversed(outcome.targets)),
        evidence=Evidence(targets=outcome.targets, results=results),
    )
    assert render.render(reordered, fmt) == render.render(outcome, fmt)


def test_render_rejects_an_unknown_format_by_name() -> None:
    with pytest.raises(UsageError, match=r"'html'.*markdown, json, sarif"):
        render.render(build_outcome(), "html")


# --- markdown -----------------------------------------------------------------------------------


def test_markdown_header_sections_details_and_fixes() -> None:
    text = markdown.render(build_outcome())
    assert text.startswith("## codegrad: 3 errors, 1 warning, 1 note\n")
    assert "`0123456`..`fedcba9`" in text and "12.3 s" in text
    assert "### `pkg/stats.py::mean` (lines 10–16)" in text
    assert "| docstrings | bug | 1 |" in text
    assert "**Correctness**" in text and "**Efficiency**" in text
    assert text.count("<details>") == text.count("</details>") == 3  # 2 functions + fix tests
    assert "```python\nfrom pkg.stats import mean" in text
    assert "```diff\n--- a/pkg/stats.py" in text
    assert "#### Fix for `pkg/stats.py::mean`" in text and "verified · 2 iterations" in text
    assert "Fixed (1):\n- [error] docstrings / bug" in text
    assert "Remaining (1):\n- [error] properties / crash" in text
    assert "- budget: efficiency stopped after 60 s" in text
    assert "- properties skipped `pkg/text.py::strip_all`: no annotations or examples" in text
    assert "### Clean functions" in text and "- `pkg/text.py::strip_all`" in text


def test_markdown_for_a_clean_outcome_says_no_findings() -> None:
    text = markdown.render(clean_outcome())
    assert text.startswith("## codegrad: no findings\n")
    assert "No findings: nothing to change." in text
    assert "<details>" not in text


def test_markdown_flags_an_unverified_fix_and_survives_backtick_fences() -> None:
    tricky = dataclasses.replace(DOC_BUG, reproducer='def test_x():\n    s = """\n```\n"""\n')
    unverified = dataclasses.replace(FIX, verified=False, fixed=(), diff="")
    outcome = dataclasses.replace(build_outcome((tricky,)), fixes=(unverified,))
    text = markdown.render(outcome)
    assert "NOT verified" in text
    assert "Fixed (0):\n- none" in text and "(no diff)" in text
    assert '````python\ndef test_x():\n    s = """\n```\n"""\n````' in text


def test_markdown_escapes_pipes_in_table_cells() -> None:
    piped = dataclasses.replace(DOC_BUG, check="a|b")
    text = markdown.render(build_outcome((piped,)))
    assert "| a\\|b | bug | 1 |" in text


# --- JSON ---------------------------------------------------------------------------------------

FINDING_FIELDS = {
    "path",
    "function",
    "line",
    "check",
    "kind",
    "severity",
    "message",
    "input",
    "expected",
    "actual",
    "traceback",
    "reproduces",
    "base_fails_same",
    "reproducer",
    "fingerprint",
}
FIX_FIELDS = {"path", "function", "verified", "diff", "source", "iterations", "fixed"}
FIX_FIELDS |= {"remaining", "tokens", "cost_usd"}


def test_json_carries_summary_findings_and_fixes() -> None:
    data = json.loads(jsonout.render(build_outcome()))
    assert (data["version"], data["tool"], data["base"], data["head"]) == (
        1,
        "codegrad",
        BASE,
        HEAD,
    )
    summary = data["summary"]
    assert summary["verdict"] == "error"
    assert summary["by_severity"] == {"error": 3, "warning": 1, "note": 1}
    assert summary["by_kind"]["crash"] == 1 and summary["by_check"]["docstrings"] == 1
    assert (summary["targets"], summary["targets_with_findings"], summary["seconds"]) == (
        3,
        2,
        12.345,
    )
    assert len(data["findings"]) == 5
    for item in data["findings"]:
        assert set(item) >= FINDING_FIELDS
    crash = next(f for f in data["findings"] if f["kind"] == "crash")
    assert crash["traceback"] == ["pkg/stats.py:16: return sum(xs) // len(xs)"]
    assert crash["reproducer"].startswith("from pkg.stats import mean")
    assert crash["base_fails_same"] is True
    assert set(data["fixes"][0]) >= FIX_FIELDS
    assert data["fixes"][0]["fixed"][0]["kind"] == "bug"
    assert data["notes"] == ["budget: efficiency stopped after 60 s"]
    mean = next(t for t in data["targets"] if t["qualname"] == "mean")
    assert mean["loss"] == {
        "total": 2.25,
        "count": 3,
        "by_check": {"docstrings": 1, "efficiency": 1, "properties": 1},
        "by_kind": {"bug": 1, "complexity-bound": 1, "crash": 1},
    }


def test_json_round_trip_restores_the_outcome() -> None:
    outcome = build_outcome()
    data = jsonout.to_dict(outcome)
    back = jsonout.from_dict(json.loads(json.dumps(data)))
    assert jsonout.to_dict(back) == data
    as_dicts = sorted(json.dumps(f.to_dict(), sort_keys=True) for f in back.findings)
    assert as_dicts == sorted(json.dumps(f.to_dict(), sort_keys=True) for f in outcome.findings)
    # a severity equal to the kind's default comes back as None (the same level)
    assert set(back.findings) - set(outcome.findings) == {
        dataclasses.replace(REGRESSION, severity=None)
    }
    assert set(back.targets) == set(outcome.targets)
    assert back.fixes == outcome.fixes
    assert (back.base, back.head, back.notes, back.seconds) == (
        outcome.base,
        outcome.head,
        outcome.notes,
        outcome.seconds,
    )
    props = next(r for r in back.evidence.results if r.check == "properties")
    assert props.skipped == {CLEAN.key: "no annotations or examples"}
    assert props.stats == {"examples": 100}


def test_json_round_trip_keeps_findings_on_unknown_functions() -> None:
    stray = dataclasses.replace(DOC_BUG, path="pkg/gone.py", function="old", check="llm-checks")
    outcome = build_outcome((stray,))
    data = jsonout.to_dict(outcome)
    assert [t["synthetic"] for t in data["targets"] if t["path"] == "pkg/gone.py"] == [True]
    back = jsonout.from_dict(data)
    assert back.findings == (stray,)
    assert {t.key for t in back.targets} == {t.key for t in outcome.targets}
    assert jsonout.to_dict(back) == data


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(version=2), "report version 2 is not supported"),
        (lambda d: d.pop("head"), "lacks the required field 'head'"),
        (lambda d: d["findings"][0].pop("path"), r"findings\[0\] lacks the required field 'path'"),
        (lambda d: d["findings"][0].update(kind="oops"), r"findings\[0\]\.kind is 'oops'"),
        (lambda d: d.update(findings={}), "'findings' must be a list"),
    ],
)
def test_from_dict_names_what_is_wrong(mutate: Any, message: str) -> None:
    data = jsonout.to_dict(build_outcome())
    mutate(data)
    with pytest.raises(UsageError, match=message):
        jsonout.from_dict(data)


def test_json_for_a_clean_outcome_has_a_clean_verdict() -> None:
    data = jsonout.to_dict(clean_outcome())
    assert data["summary"]["verdict"] == "clean"
    assert data["findings"] == [] and data["fixes"] == []


# --- SARIF --------------------------------------------------------------------------------------

LEVELS = {"none", "note", "warning", "error"}


def validate_sarif(log: dict[str, Any]) -> None:
    """The SARIF 2.1.0 properties GitHub code scanning requires, checked by hand."""
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert isinstance(log["runs"], list) and len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "codegrad" and driver["version"]
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    for rule in driver["rules"]:
        assert rule["id"] and len(rule["name"]) <= 255
        for key in ("shortDescription", "fullDescription", "help"):
            assert 0 < len(rule[key]["text"]) <= 1024
        assert rule["defaultConfiguration"]["level"] in {"note", "warning", "error"}
        assert len(rule["properties"]["tags"]) <= 20
    assert len(run["results"]) <= sarif.MAX_RESULTS
    for result in run["results"]:
        assert result["ruleId"] in rule_ids
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in LEVELS
        assert 0 < len(result["message"]["text"]) <= sarif.MAX_MESSAGE + 20
        assert 1 <= len(result["locations"]) <= 10
        for location in result["locations"] + result.get("relatedLocations", []):
            physical = location["physicalLocation"]
            uri = physical["artifactLocation"]["uri"]
            assert uri and not uri.startswith("/") and "://" not in uri and " " not in uri
            assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
            assert isinstance(physical["region"]["startLine"], int)
            assert physical["region"]["startLine"] >= 1
        fingerprints = result["partialFingerprints"]
        assert fingerprints and all(isinstance(v, str) and v for v in fingerprints.values())
        assert fingerprints["primaryLocationLineHash"].rsplit(":", 1)[1].isdigit()
    for invocation in run.get("invocations", []):
        assert isinstance(invocation["executionSuccessful"], bool)


def test_sarif_meets_github_code_scanning_rules() -> None:
    log = json.loads(sarif.render(build_outcome()))
    validate_sarif(log)
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [
        "differential/behaviour-change",
        "docstrings/bug",
        "efficiency/complexity-bound",
        "project-tests/regression",
        "properties/crash",
    ]
    assert [r["level"] for r in run["results"]] == ["error", "error", "error", "warning", "note"]
    crash = next(r for r in run["results"] if r["ruleId"] == "properties/crash")
    assert "`mean(xs=\\[\\])`" in crash["message"]["text"]  # brackets escaped: no embedded link
    location = crash["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "pkg/stats.py"
    assert location["region"] == {"startLine": 16}
    assert crash["partialFingerprints"]["codegradFingerprint/v1"] == CRASH.fingerprint
    assert crash["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 16
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert notes == [
        {"level": "note", "message": {"text": "budget: efficiency stopped after 60 s"}}
    ]


def test_sarif_fingerprint_survives_moved_lines() -> None:
    moved = dataclasses.replace(CRASH, line=40, traceback=("pkg/stats.py:40: x",))
    first = json.loads(sarif.render(build_outcome((CRASH,))))["runs"][0]["results"][0]
    second = json.loads(sarif.render(build_outcome((moved,))))["runs"][0]["results"][0]
    assert first["partialFingerprints"] == second["partialFingerprints"]
    assert second["locations"][0]["physicalLocation"]["region"]["startLine"] == 40


def test_sarif_repairs_lines_quotes_uris_and_sets_the_root() -> None:
    unknown_line = dataclasses.replace(DOC_BUG, line=0)
    spaced = dataclasses.replace(SLOW, path="pkg/my stats.py", line=-3)
    log = json.loads(
        sarif.render(build_outcome((unknown_line, spaced)), repo_root_uri="file:///w/repo")
    )
    validate_sarif(log)
    run = log["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///w/repo/"}}
    lines = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r["locations"][0][
            "physicalLocation"
        ]["region"]["startLine"]
        for r in run["results"]
    }
    assert lines == {"pkg/stats.py": MEAN.lineno, "pkg/my%20stats.py": 1}


def test_sarif_keeps_the_most_severe_results_within_githubs_limit() -> None:
    notes = tuple(
        dataclasses.replace(CHANGED, input=f"Slugger().slug(s={n!r})")
        for n in range(sarif.MAX_RESULTS)
    )
    log = json.loads(sarif.render(build_outcome((*notes, DOC_BUG))))
    validate_sarif(log)
    run = log["runs"][0]
    assert len(run["results"]) == sarif.MAX_RESULTS
    assert run["results"][0]["ruleId"] == "docstrings/bug"
    texts = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    assert texts == ["1 less severe results left out (GitHub keeps 5000 per run)."]


def test_sarif_for_a_clean_outcome_is_valid_and_empty() -> None:
    log = json.loads(sarif.render(clean_outcome()))
    validate_sarif(log)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []


def test_every_json_field_is_documented_in_the_schema_doc() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "report-schema.md").read_text(encoding="utf-8")
    data = jsonout.to_dict(build_outcome())
    objects = [
        data,
        data["summary"],
        data["targets"][0],
        data["targets"][0]["loss"],
        data["checks"][0],
        data["findings"][0],
        data["fixes"][0],
    ]
    missing = sorted({key for obj in objects for key in obj if f"`{key}`" not in doc})
    assert missing == []


def test_markdown_header_without_base_names_the_whole_repository() -> None:
    outcome = dataclasses.replace(clean_outcome(), base=None, head="main")
    text = markdown.render(outcome)
    assert "3 functions checked in the whole repository at `main`" in text
    assert json.loads(jsonout.render(outcome))["base"] is None
