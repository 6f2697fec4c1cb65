"""Publishing on the pull request: a review plan's inline comments and summary, and the workflow_run companion for forks."""

from __future__ import annotations

import json
from collections.abc import Callable

from codegrad.errors import ExitCode, UsageError
from codegrad.github import comment_text
from codegrad.github import plan as publish
from codegrad.github.api import GitHubError, PullRequestAPI
from codegrad.github.context import Context, Inputs
from codegrad.github.output import Log

PLAN_FILE = "review.json"

Connect = Callable[[int], PullRequestAPI]


def read_diff(api: PullRequestAPI, log: Log) -> dict[str, publish.DiffFile]:
    try:
        return publish.diff_files((f.path, f.patch) for f in api.files())
    except GitHubError as exc:
        log.warning(f"{exc}; every finding goes into the summary comment")
        return {}


def post_plan(
    api: PullRequestAPI,
    plan: publish.Plan,
    *,
    head_sha: str,
    summary: Callable[[publish.Plan], str],
    log: Log,
) -> list[str]:
    """Post one review with the new inline comments, remove earlier ones that no longer apply, and
    upsert the summary; a 422 on a comment position moves the comments into the summary.
    Returns the problems met (each already logged as an error)."""
    problems: list[str] = []
    try:
        existing = [c for c in api.inline_comments() if publish.inline_key(c.body)]
        create, delete = publish.reconcile(plan.comments, [(c.id, c.body) for c in existing])
        new_review: int | None = None
        if create:
            try:
                new_review = api.create_review(
                    commit_sha=head_sha,
                    body=publish.review_body(plan),
                    comments=[c.api() for c in create],
                )
            except GitHubError as exc:
                if not exc.unprocessable:
                    raise
                log.warning(f"{exc}; the inline comments go into the summary comment instead")
                plan = plan.without_inline()
                create, delete = [], [c.id for c in existing]
        for comment_id in delete:
            api.delete_inline_comment(comment_id)
        live = {c.review_id for c in existing if c.id not in delete} | {new_review}
        for review in api.reviews():
            if (
                publish.REVIEW_MARKER in review.body
                and review.id not in live
                and review.body != publish.SUPERSEDED
            ):
                api.edit_review(review.id, publish.SUPERSEDED)
        comment_id, created = api.upsert_comment(publish.SUMMARY_MARKER, summary(plan))
        log.info(
            f"{'created' if created else 'updated'} summary comment {comment_id}; {len(create)} new inline comment(s), {len(delete)} outdated removed"
        )
    except GitHubError as exc:
        log.error(str(exc))
        problems.append(str(exc))
    return problems


def with_leftovers(summary: str, plan: publish.Plan) -> str:
    if not plan.leftovers:
        return summary
    return comment_text.truncate(
        summary + "\n\n### Not on a changed line\n\n" + "\n\n---\n\n".join(plan.leftovers)
    )


def post_fork_report(ctx: Context, inputs: Inputs, log: Log, *, connect: Connect) -> int:
    """workflow_run companion: post a fork run's report artifact (data only; no PR code is run)."""
    run = ctx.event.get("workflow_run")
    if not isinstance(run, dict) or run.get("event") != "pull_request":
        log.info("nothing to post: the triggering run was not a pull_request run")
        return ExitCode.OK
    head_repo = (run.get("head_repository") or {}).get("full_name")
    if head_repo == ctx.repository:
        log.info(
            "nothing to post: that run was for a branch of this repository and posted its own report"
        )
        return ExitCode.OK
    path = ctx.report_dir / PLAN_FILE
    if not path.is_file():
        log.notice(
            f"no {PLAN_FILE} in {ctx.report_dir}: the reviewed run left no report (skipped or failed)"
        )
        return ExitCode.OK
    try:
        number, head, summary, plan = publish.plan_from_dict(
            json.loads(path.read_text(encoding="utf-8"))
        )
    except ValueError as exc:
        raise UsageError(f"{path}: not a valid codegrad report: {exc}") from None
    if head != run.get("head_sha"):
        raise UsageError(
            f"{path}: the report is for commit {head[:12]}, not the run's head {str(run.get('head_sha'))[:12]}"
        )
    if not inputs.token:
        raise UsageError(
            "no GitHub token: set the action's github-token input (default ${{ github.token }})"
        )
    api = connect(number)
    if api.head_sha != head:
        log.notice(
            f"pull request #{number} moved on to {api.head_sha[:12]}; the report for {head[:12]} is stale, not posted"
        )
        return ExitCode.OK
    problems = post_plan(
        api, plan, head_sha=head, summary=lambda p: with_leftovers(summary, p), log=log
    )
    return ExitCode.INTERNAL if problems else ExitCode.OK
