"""Publishing on the pull request: a review plan's inline comments and summary, and the workflow_run companion that posts a fork run's findings."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codegrad import markup
from codegrad.errors import ExitCode, UsageError
from codegrad.github import fork_report
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


MAX_ARTIFACT = 20 * 1024 * 1024  # bytes of review.json the companion reads at most


def post_fork_report(ctx: Context, inputs: Inputs, log: Log, *, connect: Connect) -> int:
    """workflow_run companion: post a fork run's findings. The artifact is untrusted data (the fork
    ran its own code there and can forge the file): it is validated field by field, re-rendered
    here with the same escaping as any review, labelled as the fork run's, and carries no fixes,
    suggestions, notes or status text. No code of the pull request runs here."""
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
    data = _read_artifact(path)
    number, head = _header(data, path)
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
    files = read_diff(api, log)
    try:
        _, _, outcome, dropped = fork_report.from_dict(data, files=files.keys())
    except fork_report.BadReport as exc:
        raise UsageError(f"{path}: not a valid codegrad fork report: {exc}") from None
    origin = _origin(ctx, run, dropped)
    plan = _labelled(publish.plan_review(outcome, files, suggest=False))
    footer = f"posted by codegrad run {ctx.run_id} · {ctx.run_url}"

    def summary(p: publish.Plan) -> str:
        return publish.summary_body(outcome, p, origin=origin, footer=footer)

    problems = post_plan(api, plan, head_sha=head, summary=summary, log=log)
    return ExitCode.INTERNAL if problems else ExitCode.OK


def _read_artifact(path: Path) -> Any:
    if path.stat().st_size > MAX_ARTIFACT:
        raise UsageError(f"{path}: larger than {MAX_ARTIFACT} bytes; not a codegrad report")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid JSON ({exc})") from None


def _header(data: Any, path: Path) -> tuple[int, str]:
    """The PR number and head sha, checked before anything else is read."""
    try:
        number, head, _, _ = fork_report.from_dict(
            {**data, "targets": [], "findings": []} if isinstance(data, dict) else data, files=()
        )
    except fork_report.BadReport as exc:
        raise UsageError(f"{path}: not a valid codegrad fork report: {exc}") from None
    return number, head


def _origin(ctx: Context, run: dict[str, Any], dropped: int) -> str:
    """Our own words: where the findings come from and that nothing of them was re-run here."""
    run_id = run.get("id")
    where = "the fork's workflow run"
    if isinstance(run_id, int) and not isinstance(run_id, bool):
        where = (
            f"[the fork's workflow run]({ctx.server_url}/{ctx.repository}/actions/runs/{run_id})"
        )
    fork = (run.get("head_repository") or {}).get("full_name")
    named = f" of {markup.code(str(fork))}" if fork else ""
    text = (
        f"Findings reported by {where}{named}: that run executed the pull request's code, so its "
        "results are shown as reported, not re-checked here; fixes from a fork's run are not offered."
    )
    if dropped:
        text += f" {dropped} finding(s) that name files this pull request does not change were left out."
    return text


def _labelled(plan: publish.Plan) -> publish.Plan:
    label = "<sub>Reported by the fork's workflow run (see the summary comment).</sub>"
    comments = tuple(dataclasses.replace(c, body=f"{label}\n\n{c.body}") for c in plan.comments)
    return dataclasses.replace(plan, comments=comments)
