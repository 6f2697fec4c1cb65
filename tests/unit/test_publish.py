"""Pure review planning: diff hunks, anchoring, suggestions, size limits, reruns, the fork artifact."""

from __future__ import annotations

from builders import make_finding, make_target
from codegrad import markup
from codegrad.github import comment_text
from codegrad.github import plan as publish
from codegrad.github.plan import DiffFile, Hunk, InlineComment, Plan
from codegrad.model import CheckResult, Evidence, Finding, Fix, Kind, Outcome, Target
from helpers_markdown import render

PATCH = "@@ -8,3 +8,7 @@ def sub(a, b):\n \n \n def mean(xs):\n-    return 1\n+    total = 0\n+    for x in xs:\n+        total += x\n+    return total\n@@ -40,2 +44,0 @@\n-gone\n-gone"
SOURCE = "def mean(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total"


def target(**kw: object) -> Target:
    values: dict[str, object] = {
        "qualname": "mean",
        "end_lineno": 14,
        "source": SOURCE,
        "changed_lines": (11, 12, 13, 14),
    }
    values.update(kw)
    return make_target(path="m.py", line=10, **values)


def finding(line: int = 14, function: str = "mean", **kw: object) -> Finding:
    values: dict[str, object] = {
        "message": "boom",
        "input": f"{function}([1])",
        "line": line,
        "check": "docstrings",
        "kind": Kind.BUG,
    }
    values.update(kw)
    return make_finding(target(qualname=function), **values)  # type: ignore[arg-type]


def fix(source: str, **kw: object) -> Fix:
    values: dict[str, object] = {
        "path": "m.py",
        "function": "mean",
        "verified": True,
        "diff": "-a\n+b",
        "source": source,
        "iterations": 2,
    }
    values.update(kw)
    return Fix(**values)  # type: ignore[arg-type]


def outcome(
    findings: tuple[Finding, ...] = (),
    fixes: tuple[Fix, ...] = (),
    targets: tuple[Target, ...] | None = None,
) -> Outcome:
    ts = targets if targets is not None else (target(),)
    return Outcome(
        base="a" * 40,
        head="b" * 40,
        targets=ts,
        evidence=Evidence(ts, (CheckResult("docstrings", findings),)),
        fixes=fixes,
    )


FILES = {"m.py": DiffFile("m.py", publish.parse_patch(PATCH))}


def test_parse_patch_gives_head_side_ranges_and_skips_pure_deletions() -> None:
    assert publish.parse_patch(PATCH) == (Hunk(8, 14),)
    assert publish.parse_patch("@@ -1 +1 @@\n-a\n+b") == (Hunk(1, 1),)
    assert publish.parse_patch(None) == ()


def test_anchor_prefers_the_findings_own_line_then_a_changed_line_of_its_function() -> None:
    diff = FILES["m.py"]
    assert publish.anchor_line(finding(line=12), target(), diff) == 12
    assert (
        publish.anchor_line(finding(line=30), target(), diff) == 11
    )  # first changed line in the diff
    assert publish.anchor_line(finding(line=30), None, diff) is None
    assert publish.anchor_line(finding(line=12), target(), None) is None


def test_one_comment_per_root_cause_and_findings_off_the_diff_go_to_the_summary() -> None:
    a = finding(actual="3", expected="1")
    same_input = finding(
        line=12,
        check="differential",
        kind=Kind.BEHAVIOUR_CHANGE,
        expected="returned 1",
        actual="returned 3",
    )
    other = finding(message="second", input="mean([2])", actual="9")
    elsewhere = finding(line=80, function="other", input="other(1)")

    plan = publish.plan_review(outcome((a, same_input, a, other, elsewhere)), FILES)

    first, second = plan.comments
    assert first.line == 14 and second.line == 14  # two causes on one line: two comments
    assert first.body.count("`mean([1])`") == 1 and "`differential`" in first.body
    assert "base gets it right" in first.body  # the comparison agrees with the example
    assert "mean([2])" in second.body and "mean([1])" not in second.body
    [left] = plan.leftovers
    assert "`other`" in left and "`boom`" in left  # no recorded result: the message tells it


def test_suggestion_replaces_only_the_changed_lines_inside_one_hunk() -> None:
    new = SOURCE.replace("    return total", "    return total / len(xs)")
    plan = publish.plan_review(outcome(fixes=(fix(new, tests="def test_x():\n    pass\n"),)), FILES)

    [comment] = plan.comments
    assert (comment.start_line, comment.line) == (None, 14)
    assert "```suggestion\n    return total / len(xs)\n```" in comment.body
    assert "def test_x" in comment.body
    assert plan.suggested == ("m.py::mean",)
    assert comment.api() == {"path": "m.py", "line": 14, "side": "RIGHT", "body": comment.full_body}


def test_multi_line_suggestion_carries_start_line() -> None:
    new = "def mean(xs):\n    if not xs:\n        return 0.0\n    return sum(xs) / len(xs)"
    [comment] = publish.plan_review(outcome(fixes=(fix(new),)), FILES).comments
    assert (comment.start_line, comment.line) == (11, 14)
    assert comment.api()["start_line"] == 11 and comment.api()["start_side"] == "RIGHT"


def test_pure_insertion_is_anchored_on_a_neighbouring_line() -> None:
    new = SOURCE.replace("    total = 0\n", "    total = 0\n    xs = list(xs)\n")
    span = publish.replaced_range(target(), fix(new))
    assert span == (11, 11, ["    total = 0", "    xs = list(xs)"])


def test_fix_outside_the_diff_becomes_a_diff_comment_or_a_summary_section() -> None:
    outside = target(lineno=60, end_lineno=64, changed_lines=())
    new = SOURCE.replace("return total", "return total / len(xs)")  # line 64
    files = {"m.py": DiffFile("m.py", (Hunk(60, 61),))}  # only the first two lines are in the diff
    [comment] = publish.plan_review(outcome(fixes=(fix(new),), targets=(outside,)), files).comments
    assert "```suggestion" not in comment.body and "```diff\n-a\n+b\n```" in comment.body
    assert comment.line == 60

    nothing = publish.plan_review(
        outcome(fixes=(fix(new),), targets=(outside,)), {"m.py": DiffFile("m.py", ())}
    )
    assert nothing.comments == () and "```diff" in nothing.leftovers[0]


def test_unverified_fixes_are_never_offered() -> None:
    plan = publish.plan_review(outcome(fixes=(fix(SOURCE + "  # x", verified=False),)), FILES)
    assert plan.comments == () and plan.leftovers == ()


def test_inline_cap_moves_the_rest_to_the_summary() -> None:
    many = tuple(finding(line=n, input=f"mean({n})") for n in range(8, 15))
    plan = publish.plan_review(outcome(many), FILES, max_inline=3)
    assert len(plan.comments) == 3 and len(plan.leftovers) == 4


def test_truncate_cuts_at_a_line_and_closes_the_open_fence_and_details() -> None:
    body = "x" * 10 + "\n\n" + comment_text.details("r", markup.fence("y\n" * 300 + "````"))
    cut = comment_text.truncate(body, 300)
    assert len(cut) <= 300 and cut.endswith(comment_text.TRUNCATED)
    out = render(cut)
    assert out.tags["pre"] == 1 and out.tags["details"] == out.closed["details"] == 1
    assert "truncated to fit" in out.text  # the note is outside the code block
    assert comment_text.truncate("short", 200) == "short"


def test_summary_stays_within_githubs_limit_and_starts_with_the_marker() -> None:
    huge = tuple(
        finding(line=14, input=f"mean({'9' * 3000}, {n})", message="m" * 2000) for n in range(60)
    )
    plan = publish.plan_review(outcome(huge), {})
    body = publish.summary_body(outcome(huge), plan, status=["pushed"], footer="run 1")
    assert body.startswith(publish.SUMMARY_MARKER) and len(body) <= publish.MAX_BODY
    assert all(len(left) <= publish.MAX_BODY for left in plan.leftovers)


def test_summary_of_a_clean_run() -> None:
    body = publish.summary_body(outcome(), Plan())
    assert "no findings in 1 changed function(s)" in body and "|" not in body


def test_table_cells_cannot_break_the_table() -> None:
    odd = finding(path="a|b\nc.py", function="f|g", input="f('|')")
    plan = publish.plan_review(outcome((odd,)), {odd.path: DiffFile(odd.path, (Hunk(1, 20),))})
    body = publish.summary_body(outcome((odd,)), plan)
    out = render(body)
    assert out.html.count("<td>") == 5  # one row, five cells
    assert "a|b\\nc.py:14" in out.code and "f|g" in out.code


def test_reconcile_keeps_identical_comments_and_deletes_the_rest_of_codegrads() -> None:
    keep, new = InlineComment("m.py", 14, "same"), InlineComment("m.py", 12, "new")
    existing = [
        (1, keep.full_body),
        (2, InlineComment("m.py", 9, "old").full_body),
        (3, "a human's comment"),
        (4, keep.full_body),
    ]

    create, delete = publish.reconcile([keep, new], existing)

    assert create == [new] and delete == [2, 4]


def test_without_inline_moves_every_comment_into_the_leftovers() -> None:
    plan = Plan((InlineComment("m.py", 14, "body"),), ("left",), ("m.py::mean",))
    moved = plan.without_inline()
    assert moved.comments == () and moved.suggested == ()
    assert moved.leftovers[0].startswith("**`m.py` line 14**") and moved.leftovers[1] == "left"
