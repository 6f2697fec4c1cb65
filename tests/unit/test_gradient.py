"""Unit tests for the loss, per-function reports, feedback paragraphs and the textual gradient."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import assert_golden
from codegrad import gradient
from codegrad.model import CheckResult, Evidence, Finding, Kind, Outcome, Severity, Target

RECORDED = Path(__file__).parent / "recorded"

MEAN = Target(
    path="pkg/stats.py",
    qualname="mean",
    lineno=10,
    end_lineno=16,
    source="def mean(xs):\n    return sum(xs) // len(xs)\n",
    base_source="def mean(xs):\n    return sum(xs) / len(xs)\n",
)
SLUG = Target(
    path="pkg/text.py",
    qualname="Slugger.slug",
    lineno=5,
    end_lineno=9,
    source="    def slug(self, s):\n        return s.lower()\n",
    kind="method",
    class_name="Slugger",
)


def finding(**overrides: object) -> Finding:
    base: dict[str, object] = {
        "path": "pkg/stats.py",
        "function": "mean",
        "line": 11,
        "check": "docstrings",
        "kind": Kind.BUG,
        "message": "docstring example failed",
    }
    base.update(overrides)
    return Finding(**base)  # type: ignore[arg-type]


DOC_BUG = finding(
    input="mean([1, 2])",
    expected="1.5",
    actual="1",
    reproduces=True,
    base_fails_same=False,
)
CRASH = finding(
    check="properties",
    kind=Kind.CRASH,
    line=11,
    message="no-crash-on-valid-input failed",
    input="mean(xs=[])",
    actual="ZeroDivisionError: integer division or modulo by zero",
    traceback=("pkg/stats.py:11: return sum(xs) // len(xs)",),
    base_fails_same=True,
    reproduces=True,
    details={"property": "no-crash"},
)
SLOW = finding(
    check="efficiency",
    kind=Kind.COMPLEXITY_BOUND,
    line=10,
    message="cost grows faster than the stated bound",
    expected="O(n)",
    actual="O(n^2)",
)
TYPED = finding(
    check="properties",
    kind=Kind.BUG,
    message="returned int, the annotation says float",
    input="mean(xs=[0])",
    expected="float",
    actual="int",
    details={"property": "return-type"},
)


def test_loss_counts_by_check_and_kind_and_weights_by_severity() -> None:
    result = gradient.loss([DOC_BUG, CRASH, SLOW])
    assert result.count == 3
    assert result.by_check == {"docstrings": 1, "properties": 1, "efficiency": 1}
    assert result.by_kind == {"bug": 1, "crash": 1, "complexity-bound": 1}
    assert result.total == pytest.approx(2.25)  # error 1.0 + error 1.0 + warning 0.25


def test_per_function_groups_sorts_and_keeps_clean_targets() -> None:
    outcome = Outcome(
        base="b" * 40,
        head="h" * 40,
        targets=(SLUG, MEAN),
        evidence=Evidence(
            targets=(SLUG, MEAN), results=(CheckResult("docstrings", (SLOW, DOC_BUG, CRASH)),)
        ),
    )
    reports = gradient.per_function(outcome)
    assert [r.target.key for r in reports] == ["pkg/stats.py::mean", "pkg/text.py::Slugger.slug"]
    mean, slug = reports
    # errors first (by line, then check), then the warning
    assert mean.findings == (DOC_BUG, CRASH, SLOW)
    assert mean.loss.count == 3
    assert slug.findings == () and slug.loss.total == 0.0
    assert slug.gradient == gradient.CLEAN
    assert gradient.per_function(((SLUG, MEAN), (SLOW, DOC_BUG, CRASH))) == reports


def test_per_function_gives_findings_on_unknown_functions_a_placeholder_target() -> None:
    stray = finding(path="pkg/other.py", function="helper", line=0, kind=Kind.ERROR)
    reports = gradient.per_function(((MEAN,), (stray,)))
    assert [r.target.key for r in reports] == ["pkg/other.py::helper", "pkg/stats.py::mean"]
    assert reports[0].target.lineno == 1
    assert reports[0].findings == (stray,)


def test_feedback_states_check_input_expected_actual_base_and_hint() -> None:
    text = gradient.feedback(DOC_BUG)
    assert "\n" not in text
    assert "found by docstrings" in text
    assert "`mean([1, 2])`" in text
    assert "Expected: `1.5`" in text
    assert "Actual: `1`" in text
    assert "introduced by this change" in text
    assert "reproduces" in text
    assert "the function returned `1` for `mean([1, 2])`; the docstring example says `1.5`" in text


def test_feedback_for_a_crash_names_the_traceback_line_and_pre_existing_base() -> None:
    text = gradient.feedback(CRASH)
    assert "[error] Crash in `mean` (`pkg/stats.py:11`)" in text
    assert "`pkg/stats.py:11: return sum(xs) // len(xs)`" in text
    assert "ZeroDivisionError" in text
    assert "pre-existing" in text


def test_feedback_for_a_behaviour_change_compares_base_and_head() -> None:
    change = finding(
        check="differential",
        kind=Kind.BEHAVIOUR_CHANGE,
        message="head differs from base",
        input="mean([1, 2])",
        expected="1.5",
        actual="1",
    )
    text = gradient.feedback(change)
    assert "Base returns `1.5`; head returns `1`." in text
    assert "not necessarily a bug" in text
    assert "[note]" in text


def test_feedback_truncates_huge_values_and_long_tracebacks() -> None:
    huge = finding(
        input="mean(" + repr(list(range(5000))) + ")",
        actual="x" * 10_000,
        traceback=tuple(f"pkg/stats.py:{n}: line {n}" for n in range(1, 21)),
    )
    text = gradient.feedback(huge)
    assert len(text) < 2500
    assert "[10000 chars]" in text
    assert "4999])" in text  # the tail of the input survives
    assert "14 outer lines omitted" in text
    assert "pkg/stats.py:20: line 20" in text


def test_feedback_keeps_values_with_backticks_and_newlines_in_one_code_span() -> None:
    odd = finding(input="f('`a`')", actual="line1\nline2")
    text = gradient.feedback(odd)
    assert "``f('`a`')``" in text
    assert "`line1\\nline2`" in text


def test_clip_keeps_short_text_and_marks_long_text() -> None:
    assert gradient.clip("short", 10) == "short"
    clipped = gradient.clip("a" * 50 + "b" * 50, 30)
    assert clipped.startswith("a" * 20) and "b" * 9 in clipped and clipped.endswith("[100 chars]")


@pytest.mark.parametrize(
    ("item", "section"),
    [
        (DOC_BUG, gradient.CORRECTNESS),
        (CRASH, gradient.EDGES),
        (SLOW, gradient.EFFICIENCY),
        (finding(kind=Kind.PERFORMANCE_REGRESSION, check="efficiency"), gradient.EFFICIENCY),
        (TYPED, gradient.FORMAT),
        (finding(kind=Kind.BAD_TEST, check="differential"), gradient.EDGES),
        (finding(check="project-tests", kind=Kind.REGRESSION), gradient.CORRECTNESS),
        (finding(details={"section": gradient.FORMAT}), gradient.FORMAT),
    ],
)
def test_section_of_routes_findings(item: Finding, section: str) -> None:
    assert gradient.section_of(item) == section


def test_textual_gradient_orders_sections_and_omits_empty_ones() -> None:
    text = gradient.textual_gradient(MEAN, [SLOW, CRASH, DOC_BUG])
    assert text.startswith("Gradient for `mean` (`pkg/stats.py:10`): loss 2.25 from 3 findings")
    assert text.index("**Correctness**") < text.index("**Edge cases and invariants**")
    assert text.index("**Edge cases and invariants**") < text.index("**Efficiency**")
    assert "**Input/output format**" not in text
    assert "*docstrings* (1):" in text


def test_textual_gradient_is_clean_without_findings() -> None:
    assert gradient.textual_gradient(MEAN, []) == "No findings: nothing to change."


def test_textual_gradient_counts_findings_past_the_per_check_limit() -> None:
    many = [finding(input=f"mean([{n}])", expected="0", actual=str(n)) for n in range(8)]
    text = gradient.textual_gradient(MEAN, many)
    assert text.count("- [error] Bug") == gradient.PER_CHECK_LIMIT
    assert "… and 3 more from docstrings like these." in text


def test_verdict_and_counts() -> None:
    assert gradient.verdict([]) == "clean"
    assert gradient.verdict([SLOW]) == "warning"
    assert gradient.verdict([SLOW, DOC_BUG]) == "error"
    note = finding(severity=Severity.NOTE)
    assert gradient.counts_by_severity([SLOW, DOC_BUG, note]) == {
        "error": 1,
        "warning": 1,
        "note": 1,
    }


def test_textual_gradient_matches_recorded() -> None:
    text = gradient.textual_gradient(MEAN, [SLOW, CRASH, DOC_BUG, TYPED]) + "\n"
    assert_golden(RECORDED / "gradient.md", text)
