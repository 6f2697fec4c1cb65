"""The pull_request use case: guards, the review, the opt-in fix commit, publishing, outputs and exit status."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from codegrad import markup
from codegrad.diff import gitops
from codegrad.errors import ExitCode, UsageError
from codegrad.github import autofix, comment_text, fork_report
from codegrad.github import plan as publish
from codegrad.github.api import GitHubError, PullRequestAPI
from codegrad.github.botgit import ensure_commits, head_message, push_env
from codegrad.github.comments import PLAN_FILE, Connect, post_plan, read_diff
from codegrad.github.context import (
    Context,
    Inputs,
    Pull,
    build_settings,
    loop_guard,
    pull_from_event,
)
from codegrad.github.output import (
    Log,
    annotate_findings,
    outcome_outputs,
    redact_json,
    write_outputs,
    write_reports,
    write_summary,
)
from codegrad.model import Outcome
from codegrad.refine import powers
from codegrad.review import exit_status
from codegrad.settings import Settings

PR_ACTIONS = ("opened", "synchronize", "reopened", "ready_for_review")
TRUSTED_PERMISSIONS = ("admin", "maintain", "write")

Review = Callable[[Settings], Outcome]


def fix_commit(
    ctx: Context, inputs: Inputs, pull: Pull, outcome: Outcome, api: PullRequestAPI, log: Log
) -> autofix.CommitResult | None:
    """The opt-in fix commit; None when auto-fix is not `commit`."""
    if inputs.auto_fix != "commit":
        return None
    fixes = len(autofix.verified_fixes(outcome))
    try:
        count = (
            autofix.count_fix_commits(api.commit_messages()) if fixes and not pull.is_fork else 0
        )
    except GitHubError as exc:
        log.warning(f"auto-fix commit skipped: {exc}")
        return autofix.CommitResult("skipped", f"auto-fix commit skipped: {exc}")
    reason = autofix.blocker(
        same_repo=not pull.is_fork,
        branch=pull.head_ref,
        default_branch=pull.default_branch,
        fix_commits=count,
        cap=inputs.max_fix_commits,
        fixes=fixes,
    )
    if reason:
        log.info(f"auto-fix commit skipped: {reason}")
        return autofix.CommitResult("skipped", f"auto-fix commit skipped: {reason}")
    try:
        result = autofix.commit_and_push(
            ctx.workspace,
            outcome,
            branch=pull.head_ref,
            run_id=ctx.run_id,
            patch_dir=ctx.report_dir,
            env=push_env(ctx.workspace, inputs.token, ctx.server_url),
        )
    except (RuntimeError, OSError) as exc:
        result = autofix.CommitResult("failed", f"auto-fix commit failed: {exc}")
    (log.info if result.pushed else log.warning)(result.message)
    return result


def review_pull_request(
    ctx: Context,
    inputs: Inputs,
    log: Log,
    *,
    connect: Connect,
    review: Review,
    env: Mapping[str, str],
) -> int:
    """Review a pull_request(_target) event and publish the result; returns the exit status."""
    pull = pull_from_event(ctx.event)
    if pull.action not in PR_ACTIONS:
        log.info(
            f"nothing to do for pull_request action {pull.action!r} (reviews on {', '.join(PR_ACTIONS)})"
        )
        return ExitCode.OK
    reason = loop_guard(pull, None)
    if reason:
        return _skip(ctx, log, reason)
    if not inputs.token:
        raise UsageError(
            "no GitHub token: set the action's github-token input (default ${{ github.token }}) "
            "or the GITHUB_TOKEN environment variable"
        )
    api = connect(pull.number)
    if ctx.event_name == "pull_request_target" and pull.is_fork and not inputs.allow_fork_code:
        permission = _permission(api, pull.author, log)
        if permission not in TRUSTED_PERMISSIONS:
            log.error(
                f"refusing to run code from fork {pull.head_repo or '(deleted fork)'} under pull_request_target "
                f"(author {pull.author} has {permission} permission): this event carries secrets and a write token. "
                "Use the pull_request event (with the workflow_run companion), or set allow-fork-code: true "
                "if you accept the risk"
            )
            write_summary(
                ctx.summary_file,
                "codegrad refused to run a fork's code under `pull_request_target`.",
            )
            return ExitCode.USAGE
    git_env = push_env(ctx.workspace, inputs.token, ctx.server_url)
    ensure_commits(ctx.workspace, [pull.base_sha, pull.head_sha], git_env)
    reason = loop_guard(pull, head_message(ctx.workspace, pull.head_sha))
    if reason:
        return _skip(ctx, log, reason)
    settings = build_settings(ctx, inputs, pull, env)
    log.info(f"reviewing pull request #{pull.number}: {pull.base_sha[:12]}..{pull.head_sha[:12]}")
    outcome = review(settings)
    outcome = powers.guard_fixes(
        outcome, lambda path: gitops.read_file(ctx.workspace, pull.head_sha, path)
    )
    paths = write_reports(outcome, ctx.report_dir)
    annotate_findings(log, outcome.findings)
    files = read_diff(api, log)
    status_lines: list[str] = []
    result = fix_commit(ctx, inputs, pull, outcome, api, log)
    if result is not None:
        status_lines.append(result.message)
    plan = publish.plan_review(
        outcome, files, committed=result.keys if result and result.pushed else ()
    )
    footer = f"codegrad run {ctx.run_id} · {ctx.run_url}"

    def summary(p: publish.Plan) -> str:
        return publish.summary_body(outcome, p, status=status_lines, footer=footer)

    artifact = fork_report.to_dict(outcome, number=pull.number, head_sha=pull.head_sha)
    (ctx.report_dir / PLAN_FILE).write_text(redact_json(artifact), encoding="utf-8")
    problems: list[str] = []
    if pull.is_fork and ctx.event_name == "pull_request":
        log.notice(
            "fork pull request: the token is read-only, so nothing is posted here; the report is in the job "
            f"summary and in {ctx.report_dir} (upload it as an artifact for the workflow_run companion)"
        )
    else:
        problems = post_plan(api, plan, head_sha=pull.head_sha, summary=summary, log=log)
    job = summary(plan.without_inline())
    if problems:
        job += "\n\n### Publishing problems\n\n" + "\n".join(
            f"- {markup.text(p)}" for p in problems
        )
    write_summary(ctx.summary_file, job)
    write_outputs(
        ctx.output_file,
        outcome_outputs(outcome, ctx.report_dir, paths["sarif"]),
    )
    status = exit_status(outcome, settings.fail_on)
    log.plain(f"{comment_text.headline(outcome)}; exit status {status}")
    return status


def _permission(api: PullRequestAPI, login: str, log: Log) -> str:
    try:
        return api.permission(login) if login else "none"
    except GitHubError as exc:
        log.warning(str(exc))
        return "unknown"


def _skip(ctx: Context, log: Log, reason: str) -> int:
    log.info(f"skipped: {reason} (loop guard); nothing to do")
    write_summary(ctx.summary_file, f"codegrad skipped this run: {reason}.")
    write_outputs(ctx.output_file, {"findings": "0", "fixes": "0"})
    return ExitCode.OK
