"""Review comments as a reader gets them: one per root cause, each fact once, natural wording.

The findings are those of a real `codegrad review` run (recorded in
recorded/review_hang_bug_change.json): `countdown(3)` returns 7 where the docstring says 6 (a bug
and the behaviour change on the same call), and `countdown(0)` hangs, seen by the docstring
example, the project's tests and the generated inputs.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from codegrad.github import plan as publish
from codegrad.render import jsonout
from helpers_markdown import render

RECORDED = Path(__file__).parent / "recorded"
REPORT = RECORDED / "review_hang_bug_change.json"


def _review() -> tuple[publish.Plan, str]:
    outcome = jsonout.from_dict(json.loads(REPORT.read_text(encoding="utf-8")))
    [target] = outcome.targets
    files = {target.path: publish.DiffFile(target.path, (publish.Hunk(1, target.end_lineno),))}
    plan = publish.plan_review(outcome, files)
    return plan, publish.summary_body(outcome, plan, footer="codegrad run 1")


def _golden(name: str, text: str) -> None:
    golden = RECORDED / name
    if os.environ.get("CODEGRAD_UPDATE_GOLDEN") == "1":
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), f"missing {golden}; run with CODEGRAD_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")


def test_review_of_a_bug_a_behaviour_change_and_a_hang_matches_recorded() -> None:
    plan, summary = _review()
    comments = "\n\n".join(
        f"<!-- inline comment on {c.path} line {c.line} -->\n\n{c.body}" for c in plan.comments
    )
    _golden("review_comments.md", comments + "\n")
    _golden("review_summary.md", summary + "\n")


def test_five_findings_make_two_inline_comments_one_per_root_cause() -> None:
    plan, summary = _review()
    bug, hang = plan.comments
    assert bug.line == 4 and "**Bug**" in bug.body and "`differential`" in bug.body
    assert hang.line == 6 and "**Timeout**" in hang.body
    for check in ("docstrings", "project-tests", "properties"):
        assert f"`{check}`" in hang.body
    assert render(summary).html.count("<tr>") == 3  # the header and one row per cause


def test_no_fact_is_stated_twice_in_a_comment_and_the_wording_is_natural() -> None:
    plan, _ = _review()
    for comment in plan.comments:
        prose = comment.body.split("<details>")[0]  # the reproducer is the evidence, apart
        spans = re.findall(r"`[^`]+`", prose)
        repeated = {s for s in spans if spans.count(s) > 1}
        assert not repeated, comment.body
        assert not re.search(r"(returns|raises) `(returned|raised)", comment.body)
        out = render(comment.body)
        assert out.tags["details"] == out.closed["details"] == 1 and out.tags["pre"] == 1


def test_the_job_summary_tells_each_cause_once_in_full() -> None:
    plan, _ = _review()
    outcome = jsonout.from_dict(json.loads(REPORT.read_text(encoding="utf-8")))

    job = publish.summary_body(outcome, plan.without_inline())

    assert "<table>" not in render(job).html  # no index row beside the full text
    assert job.count("**Bug** in `countdown`") == job.count("**Timeout** in `countdown`") == 1
    assert job.count("`countdown(3)`") == 1
