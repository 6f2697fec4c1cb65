"""The action's review flow with real PyGithub over HTTP against the stateful fake and a real git checkout."""

from __future__ import annotations

import json

from github_world import NUMBER, OPENAI_KEY, REPO, TOKEN, World, pr_event

from codegrad.github.plan import REVIEW_MARKER, SUMMARY_MARKER, SUPERSEDED


def _secrets_absent(world: World) -> None:
    stored = "\n".join(world.fake.bodies())
    for secret in (TOKEN, OPENAI_KEY):
        assert secret not in stored
        assert secret not in world.log
        assert secret not in world.job_summary


def test_findings_pr_gets_one_review_with_inline_comments_a_suggestion_and_a_summary(
    world: World,
) -> None:
    bug = world.bug()
    outcome = world.outcome((bug, world.outside()), (world.fix(bug),))

    code = world.run(outcome, inputs={"openai-api-key": OPENAI_KEY})

    assert code == 1
    fake = world.fake
    assert len(fake.reviews) == 1 and REVIEW_MARKER in fake.reviews[0]["body"]
    assert fake.reviews[0]["commit_id"] == world.head
    by_kind = {("suggestion" in c["body"]): c for c in fake.review_comments}
    finding_comment, suggestion = by_kind[False], by_kind[True]
    assert (finding_comment["path"], finding_comment["line"]) == ("pkg/calc.py", 14)
    assert "mean([1, 2])" in finding_comment["body"] and "def test_mean" in finding_comment["body"]
    # the fix changes only the last line, so the one-click suggestion replaces exactly line 14
    assert (suggestion["line"], suggestion["start_line"]) == (14, None)
    assert "```suggestion\n    return total / len(xs)\n```" in suggestion["body"]
    assert "test_mean_of_two" in suggestion["body"]  # the regression test rides along
    [summary] = fake.issue_comments
    assert summary["body"].startswith(SUMMARY_MARKER)
    assert "2 findings" in summary["body"]
    assert "Not on a changed line" in summary["body"] and "add('a', 1)" in summary["body"]
    assert "one-click suggestion" in summary["body"]
    assert world.output("findings") == "2" and world.output("fixes") == "1"
    sarif = json.loads((world.report_dir / "report.sarif").read_text())
    assert sarif["runs"][0]["results"]
    assert world.output("sarif-path") == str(world.report_dir / "report.sarif")
    assert "::error file=pkg/calc.py,line=14,title=codegrad bug (properties)::" in world.log
    assert "::warning file=pkg/calc.py,line=2" in world.log
    assert "add('a', 1)" in world.job_summary
    _secrets_absent(world)


def test_clean_pr_says_clean_and_exits_zero(world: World) -> None:
    code = world.run(world.outcome())

    assert code == 0
    assert world.fake.reviews == [] and world.fake.review_comments == []
    [summary] = world.fake.issue_comments
    assert "no findings in 1 changed function" in summary["body"]
    assert world.output("findings") == "0"


def test_rerun_updates_the_summary_in_place_and_removes_outdated_inline_comments(
    world: World,
) -> None:
    assert world.run(world.outcome((world.bug(),))) == 1
    first_summary = world.fake.issue_comments[0]["id"]
    [old_inline] = world.fake.review_comments

    # the same findings again: nothing new is posted, nothing is removed
    assert world.run(world.outcome((world.bug(),))) == 1
    assert len(world.fake.reviews) == 1
    assert world.fake.review_comments == [old_inline]

    # a different finding: a new review, the old inline comment goes, the summary is edited in place
    changed = world.bug(line=12, message="mean([]) raises ZeroDivisionError")
    assert world.run(world.outcome((changed,))) == 1
    [summary] = world.fake.issue_comments
    assert summary["id"] == first_summary
    [inline] = world.fake.review_comments
    assert inline["id"] != old_inline["id"] and inline["line"] == 12
    assert "ZeroDivisionError" in inline["body"], world.log
    assert world.fake.reviews[0]["body"] == SUPERSEDED
    assert len(world.fake.reviews) == 2

    # fixed: no findings left, every codegrad inline comment is gone, the summary says clean
    assert world.run(world.outcome()) == 0
    assert world.fake.review_comments == []
    assert (
        len(world.fake.issue_comments) == 1
        and "no findings" in world.fake.issue_comments[0]["body"]
    )
    assert all(r["body"] == SUPERSEDED for r in world.fake.reviews)


def test_duplicate_summary_comments_are_collapsed_into_one(world: World) -> None:
    world.run(world.outcome())
    world.fake.add_issue_comment(
        REPO, NUMBER, world.fake.issue_comments[0]["body"]
    )  # a racing second run
    world.fake.add_issue_comment(
        REPO, NUMBER, "LGTM <!-- codegrad:summary --> quoted by a human", login="bob"
    )

    world.run(world.outcome((world.bug(),)))

    summary, human = world.fake.issue_comments
    assert "1 finding" in summary["body"]
    assert human["user"]["login"] == "bob" and human["body"].startswith("LGTM")


def test_422_on_a_comment_position_falls_back_to_the_summary(world: World) -> None:
    world.fake.fail(
        "POST",
        rf"/pulls/{NUMBER}/reviews$",
        422,
        "Pull request review thread line must be part of the diff",
    )
    bug = world.bug()

    code = world.run(world.outcome((bug,), (world.fix(bug),)))

    assert code == 1
    assert world.fake.reviews == [] and world.fake.review_comments == []
    [summary] = world.fake.issue_comments
    assert "mean([1, 2])" in summary["body"] and "return total / len(xs)" in summary["body"]
    assert "::warning::" in world.log and "422" in world.log


def test_403_is_reported_clearly_and_the_verification_result_stays_the_exit_status(
    world: World,
) -> None:
    world.fake.add_token(TOKEN, write=False)

    code = world.run(world.outcome((world.bug(),)))

    assert code == 1
    assert world.fake.bodies() == []
    assert (
        "::error::" in world.log and "HTTP 403" in world.log and "pull-requests: write" in world.log
    )
    assert "Publishing problems" in world.job_summary and "mean([1, 2])" in world.job_summary

    world.fake.add_token(TOKEN, write=False)
    assert (
        world.run(world.outcome()) == 0
    )  # a clean review with a read-only token: green, but said loudly
    assert "::error::" in world.log


def test_secondary_rate_limit_is_retried_after_retry_after(world: World) -> None:
    world.fake.secondary_rate_limit("POST", rf"/issues/{NUMBER}/comments$", retry_after=1)

    code = world.run(world.outcome((world.bug(),)))

    assert code == 1
    posts = [
        r.status for r in world.fake.requests if r.method == "POST" and r.path.endswith("/comments")
    ]
    assert posts == [403, 201]
    assert len(world.fake.issue_comments) == 1


def test_fork_pr_writes_nothing_and_leaves_the_report_for_the_companion(world: World) -> None:
    fork = "mallory/calc"
    world.fake.add_pull(
        REPO,
        NUMBER,
        base_sha=world.base,
        head_sha=world.head,
        head_repo=fork,
        files=[("pkg/calc.py", world.patch)],
    )
    event = pr_event(
        base_sha=world.base, head_sha=world.head, head_repo=fork, author="mallory", sender="mallory"
    )

    code = world.run(world.outcome((world.bug(), world.outside())), event=event)

    assert code == 1
    assert world.fake.writes == []
    assert "fork pull request" in world.log
    assert "mean([1, 2])" in world.job_summary and "add('a', 1)" in world.job_summary
    artifact = json.loads((world.report_dir / "review.json").read_text())
    assert (artifact["pull_request"], artifact["head_sha"]) == (NUMBER, world.head)
    assert len(artifact["findings"]) == 2 and "comments" not in artifact  # data, not markdown
    report_dir = world.report_dir

    # the workflow_run companion posts the artifact with a write token, never touching the PR's code
    run_event = {
        "workflow_run": {
            "event": "pull_request",
            "head_sha": world.head,
            "id": 55,
            "head_repository": {"full_name": fork},
        }
    }
    code = world.run(
        world.outcome(),
        event=run_event,
        event_name="workflow_run",
        inputs={"report-dir": str(report_dir)},
    )

    assert code == 0
    [inline] = world.fake.review_comments
    assert inline["line"] == 14 and "Reported by the fork's workflow run" in inline["body"]
    [summary] = world.fake.issue_comments
    assert summary["body"].startswith(SUMMARY_MARKER) and "add('a', 1)" in summary["body"]
    assert "Findings reported by [the fork's workflow run]" in summary["body"]
    assert "https://github.example/octo/calc/actions/runs/55" in summary["body"]


def test_companion_skips_runs_of_same_repository_branches(world: World) -> None:
    world.run(world.outcome((world.bug(),)))
    before = len(world.fake.requests)
    run_event = {
        "workflow_run": {
            "event": "pull_request",
            "head_sha": world.head,
            "head_repository": {"full_name": REPO},
        }
    }

    code = world.run(
        world.outcome(),
        event=run_event,
        event_name="workflow_run",
        inputs={"report-dir": str(world.report_dir)},
    )

    assert code == 0 and "posted its own report" in world.log
    assert len(world.fake.requests) == before


def test_companion_refuses_an_artifact_for_another_commit(world: World) -> None:
    world.run(
        world.outcome((world.bug(),)),
        event=pr_event(base_sha=world.base, head_sha=world.head, head_repo="mallory/calc"),
    )
    report_dir = world.report_dir
    before = len(world.fake.writes)
    run_event = {"workflow_run": {"event": "pull_request", "head_sha": "f" * 40}}

    code = world.run(
        world.outcome(),
        event=run_event,
        event_name="workflow_run",
        inputs={"report-dir": str(report_dir)},
    )

    assert code == 2
    assert "not the run's head" in world.log
    assert len(world.fake.writes) == before


def test_a_bot_sender_does_nothing(world: World) -> None:
    event = pr_event(
        base_sha=world.base, head_sha=world.head, sender="codegrad[bot]", sender_type="Bot"
    )

    code = world.run(world.outcome((world.bug(),)), event=event)

    assert code == 0
    assert world.fake.requests == []
    assert "skipped: the run was triggered by a bot (codegrad[bot]) (loop guard)" in world.log


def test_the_bots_own_fix_commit_does_nothing(world: World) -> None:
    world.dev.write(
        "pkg/calc.py",
        world.dev.path.joinpath("pkg/calc.py").read_text().replace("(len(xs) - 1)", "len(xs)"),
    )
    own = world.dev.commit("codegrad: apply 1 verified fix\n\nCodegrad-Fix: 1001")
    world.dev.git("push", "-q", "origin", "feature")
    world.work.git("fetch", "-q", "origin")

    code = world.run(
        world.outcome((world.bug(),)), event=pr_event(base_sha=world.base, head_sha=own)
    )

    assert code == 0
    assert world.fake.writes == []
    assert "codegrad's own fix commit (Codegrad-Fix trailer)" in world.log


def test_pull_request_target_refuses_fork_code_unless_allowed(world: World) -> None:
    fork = "mallory/calc"
    world.fake.add_pull(
        REPO,
        NUMBER,
        base_sha=world.base,
        head_sha=world.head,
        head_repo=fork,
        files=[("pkg/calc.py", world.patch)],
        author="mallory",
    )
    event = pr_event(base_sha=world.base, head_sha=world.head, head_repo=fork, author="mallory")
    outcome = world.outcome((world.bug(),))

    assert world.run(outcome, event=event, event_name="pull_request_target") == 2
    assert "refusing to run code from fork mallory/calc" in world.log
    assert world.fake.writes == []

    assert (
        world.run(
            outcome,
            event=event,
            event_name="pull_request_target",
            inputs={"allow-fork-code": "true"},
        )
        == 1
    )
    assert len(world.fake.issue_comments) == 1

    world.fake.permissions[(REPO, "mallory")] = "write"  # a maintainer's own fork is trusted
    assert world.run(outcome, event=event, event_name="pull_request_target") == 1


def test_missing_token_is_a_clear_usage_error(world: World) -> None:
    code = world.run(world.outcome((world.bug(),)), token="")

    assert code == 2
    assert "no GitHub token" in world.log
    assert world.fake.requests == []


def test_closed_action_does_nothing(world: World) -> None:
    code = world.run(
        world.outcome(),
        event=pr_event(base_sha=world.base, head_sha=world.head, action_name="closed"),
    )

    assert code == 0
    assert "nothing to do" in world.log and world.fake.requests == []


def test_secrets_that_reach_a_finding_are_redacted_everywhere(world: World) -> None:
    leaky = world.bug(message=f"printed {TOKEN} and {OPENAI_KEY}")
    outcome = world.outcome((leaky,), (world.fix(leaky),))

    assert world.run(outcome, inputs={"openai-api-key": OPENAI_KEY}) == 1

    assert any("printed *** and ***" in body for body in world.fake.bodies())
    assert "printed *** and ***" in world.log and "printed *** and ***" in world.job_summary
    for path in world.report_dir.iterdir():
        assert TOKEN not in path.read_text() and OPENAI_KEY not in path.read_text(), path
    _secrets_absent(world)


def test_companion_refuses_a_forged_artifact_and_posts_nothing(world: World) -> None:
    fork = "mallory/calc"
    world.fake.add_pull(
        REPO,
        NUMBER,
        base_sha=world.base,
        head_sha=world.head,
        head_repo=fork,
        files=[("pkg/calc.py", world.patch)],
    )
    event = pr_event(base_sha=world.base, head_sha=world.head, head_repo=fork)
    assert world.run(world.outcome((world.bug(),)), event=event) == 1
    artifact = world.report_dir / "review.json"
    data = json.loads(artifact.read_text())
    data["findings"][0]["kind"] = "approved"
    artifact.write_text(json.dumps(data))
    run_event = {
        "workflow_run": {
            "event": "pull_request",
            "head_sha": world.head,
            "head_repository": {"full_name": fork},
        }
    }

    code = world.run(
        world.outcome(),
        event=run_event,
        event_name="workflow_run",
        inputs={"report-dir": str(world.report_dir)},
    )

    assert code == 2 and world.fake.writes == []
    assert "not a valid codegrad fork report: findings[0].kind" in world.log
