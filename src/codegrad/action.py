"""`codegrad action`: the GitHub Action entry point: event, guards, review, publishing, outputs, exit status."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from codegrad import autofix, publish
from codegrad.errors import ExitCode, UsageError
from codegrad.github import GitHubError, PullRequestAPI
from codegrad.model import Finding, Outcome, Severity
from codegrad.sandbox import redact, register_secret
from codegrad.settings import FAIL_LEVELS, Settings, build

MODES = ("auto", "review", "harden")
AUTO_FIX = ("off", "suggest", "commit")
PR_EVENTS = ("pull_request", "pull_request_target")
PR_ACTIONS = ("opened", "synchronize", "reopened", "ready_for_review")
TRUSTED_PERMISSIONS = ("admin", "maintain", "write")
MAX_ANNOTATIONS = 50
PLAN_FILE = "review.json"

Connect = Callable[[int], PullRequestAPI]
Review = Callable[[Settings], Outcome]


# --- inputs and context (pure: a mapping in, frozen values out) ---------------------------------


def _input(env: Mapping[str, str], name: str) -> str:
    """An action input: INPUT_NAME-WITH-DASHES (the runner's spelling) or INPUT_NAME_WITH_UNDERSCORES."""
    upper = name.upper()
    return (env.get(f"INPUT_{upper}") or env.get(f"INPUT_{upper.replace('-', '_')}") or "").strip()


def _choice(env: Mapping[str, str], name: str, choices: Sequence[str], default: str) -> str:
    value = _input(env, name).lower() or default
    if value not in choices:
        raise UsageError(f"input {name}: {value!r} is not one of {', '.join(choices)}")
    return value


def _number(env: Mapping[str, str], name: str, kind: type[int] | type[float]) -> Any:
    raw = _input(env, name)
    if not raw:
        return None
    try:
        value = kind(raw)
    except ValueError:
        raise UsageError(
            f"input {name}: {raw!r} is not a {'whole number' if kind is int else 'number'}"
        ) from None
    if value < 0:
        raise UsageError(f"input {name}: {raw!r} must not be negative")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = _input(env, name).lower() or "false"
    if raw not in ("true", "false"):
        raise UsageError(f"input {name}: {raw!r} must be true or false")
    return raw == "true"


@dataclass(frozen=True)
class Inputs:
    """The action's inputs, validated; secrets are kept out of repr."""

    token: str = field(repr=False)
    mode: str = "auto"
    fail_on: str | None = None
    auto_fix: str = "suggest"
    openai_api_key: str | None = field(default=None, repr=False)
    llm_base_url: str | None = None
    llm_model: str | None = None
    max_iterations: int | None = None
    budget_usd: float | None = None
    test_command: str | None = None
    config: str | None = None
    allow_fork_code: bool = False
    max_fix_commits: int = autofix.DEFAULT_CAP
    report_dir: str | None = None


def read_inputs(env: Mapping[str, str]) -> Inputs:
    """Inputs from INPUT_* variables (token also from GITHUB_TOKEN / GH_TOKEN)."""
    fail_on = _input(env, "fail-on").lower() or None
    if fail_on is not None and fail_on not in FAIL_LEVELS:
        raise UsageError(f"input fail-on: {fail_on!r} is not one of {', '.join(FAIL_LEVELS)}")
    cap = _number(env, "max-fix-commits", int)
    return Inputs(
        token=_input(env, "github-token") or env.get("GITHUB_TOKEN", "") or env.get("GH_TOKEN", ""),
        mode=_choice(env, "mode", MODES, "auto"),
        fail_on=fail_on,
        auto_fix=_choice(env, "auto-fix", AUTO_FIX, "suggest"),
        openai_api_key=_input(env, "openai-api-key") or None,
        llm_base_url=_input(env, "llm-base-url") or None,
        llm_model=_input(env, "llm-model") or None,
        max_iterations=_number(env, "max-iterations", int),
        budget_usd=_number(env, "budget-usd", float),
        test_command=_input(env, "test-command") or None,
        config=_input(env, "config") or None,
        allow_fork_code=_flag(env, "allow-fork-code"),
        max_fix_commits=autofix.DEFAULT_CAP if cap is None else cap,
        report_dir=_input(env, "report-dir") or None,
    )


@dataclass(frozen=True)
class Context:
    """Where the run happens: the event, the repository, the API, and the runner's files."""

    event_name: str
    event: Mapping[str, Any]
    repository: str
    api_url: str
    server_url: str
    workspace: Path
    run_id: str
    report_dir: Path
    output_file: Path | None = None
    summary_file: Path | None = None

    @property
    def run_url(self) -> str:
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"


def read_context(env: Mapping[str, str], report_dir: str | None = None) -> Context:
    """The GITHUB_* variables and the event file; UsageError naming whatever is missing."""
    name = env.get("GITHUB_EVENT_NAME", "").strip()
    if not name:
        raise UsageError(
            "GITHUB_EVENT_NAME is not set: `codegrad action` runs as a GitHub Actions step; "
            "to review locally use `codegrad review`"
        )
    event_path = env.get("GITHUB_EVENT_PATH", "").strip()
    if not event_path or not Path(event_path).is_file():
        raise UsageError(
            f"GITHUB_EVENT_PATH {event_path or '(not set)'}: no event file; "
            "`codegrad action` needs the event payload the runner writes there"
        )
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"GITHUB_EVENT_PATH {event_path}: not a readable JSON event ({exc})"
        ) from None
    if not isinstance(event, dict):
        raise UsageError(f"GITHUB_EVENT_PATH {event_path}: the event is not a JSON object")
    repository = env.get("GITHUB_REPOSITORY", "").strip()
    if repository.count("/") != 1:
        raise UsageError(f"GITHUB_REPOSITORY {repository or '(not set)'}: expected owner/name")
    workspace = Path(env.get("GITHUB_WORKSPACE") or os.getcwd())
    temp = Path(env.get("RUNNER_TEMP") or tempfile.gettempdir())
    return Context(
        event_name=name,
        event=event,
        repository=repository,
        api_url=(env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
        server_url=(env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/"),
        workspace=workspace,
        run_id=env.get("GITHUB_RUN_ID") or "local",
        report_dir=Path(report_dir) if report_dir else temp / "codegrad-report",
        output_file=Path(env["GITHUB_OUTPUT"]) if env.get("GITHUB_OUTPUT") else None,
        summary_file=Path(env["GITHUB_STEP_SUMMARY"]) if env.get("GITHUB_STEP_SUMMARY") else None,
    )


@dataclass(frozen=True)
class Pull:
    """The pull request of a pull_request(_target) event, reduced to what codegrad decides on."""

    number: int
    action: str
    base_sha: str
    head_sha: str
    head_ref: str
    head_repo: str
    base_repo: str
    default_branch: str
    author: str
    sender: str
    sender_type: str

    @property
    def is_fork(self) -> bool:
        return self.head_repo != self.base_repo


def pull_from_event(event: Mapping[str, Any]) -> Pull:
    """The Pull of an event payload; UsageError when the payload has no usable pull request."""
    pr = event.get("pull_request")
    if not isinstance(pr, dict):
        raise UsageError(
            "the event payload has no pull_request object; is this a pull_request event?"
        )
    try:
        head, base = pr["head"], pr["base"]
        base_repo = base["repo"]
        head_repo = (head.get("repo") or {}).get(
            "full_name"
        ) or ""  # null when the fork was deleted
        return Pull(
            number=int(pr["number"]),
            action=str(event.get("action", "")),
            base_sha=str(base["sha"]),
            head_sha=str(head["sha"]),
            head_ref=str(head.get("ref", "")),
            head_repo=str(head_repo),
            base_repo=str(base_repo["full_name"]),
            default_branch=str(
                base_repo.get("default_branch")
                or (event.get("repository") or {}).get("default_branch")
                or ""
            ),
            author=str((pr.get("user") or {}).get("login", "")),
            sender=str((event.get("sender") or {}).get("login", "")),
            sender_type=str((event.get("sender") or {}).get("type", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(
            f"the pull_request event payload lacks {exc}; cannot tell what to review"
        ) from None


def loop_guard(pull: Pull, head_message: str | None) -> str | None:
    """Why this run must do nothing (the bot triggered it), or None."""
    if head_message is not None and autofix.has_trailer(head_message):
        return f"the head commit {pull.head_sha[:12]} is codegrad's own fix commit ({autofix.TRAILER} trailer)"
    if pull.sender_type == "Bot" or pull.sender.endswith("[bot]"):
        return f"the run was triggered by a bot ({pull.sender or 'unknown'})"
    return None


# --- the log: plain lines and workflow commands, always redacted --------------------------------


def _escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


@dataclass
class Log:
    """Writes log lines and ::error/::warning/::notice annotations to the job log."""

    stream: TextIO = field(default_factory=lambda: sys.stdout)

    def _write(self, text: str) -> None:
        self.stream.write(redact(text) + "\n")
        self.stream.flush()

    def info(self, message: str) -> None:
        self._write(f"codegrad: {message}")

    def plain(self, message: str) -> None:
        self._write(message)

    def annotate(
        self,
        level: str,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        title: str | None = None,
    ) -> None:
        props = [
            f"{k}={_escape(str(v), prop=True)}"
            for k, v in (("file", file), ("line", line), ("title", title))
            if v
        ]
        self._write(
            f"::{level}{' ' + ','.join(props) if props else ''}::{_escape(redact(message))}"
        )

    def notice(self, message: str) -> None:
        self.annotate("notice", f"codegrad: {message}")

    def warning(self, message: str) -> None:
        self.annotate("warning", f"codegrad: {message}")

    def error(self, message: str) -> None:
        self.annotate("error", f"codegrad: {message}")


_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def annotate_findings(log: Log, findings: Sequence[Finding]) -> None:
    for f in findings[:MAX_ANNOTATIONS]:
        log.annotate(
            _LEVEL[f.level],
            f"{f.function}: {f.message}",
            file=f.path,
            line=f.line or None,
            title=f"codegrad {f.kind.value} ({f.check})",
        )
    if len(findings) > MAX_ANNOTATIONS:
        log.info(f"{len(findings) - MAX_ANNOTATIONS} more finding(s) are in the report")


# --- runner files --------------------------------------------------------------------------------


def write_outputs(path: Path | None, values: Mapping[str, str]) -> None:
    """Append name=value pairs to $GITHUB_OUTPUT with the multi-line-safe delimiter syntax."""
    if path is None:
        return
    with path.open("a", encoding="utf-8") as handle:
        for name, value in values.items():
            delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
            handle.write(f"{name}<<{delimiter}\n{redact(value)}\n{delimiter}\n")


def write_summary(path: Path | None, text: str) -> None:
    if path is None:
        return
    with path.open("a", encoding="utf-8") as handle:
        handle.write(redact(text).rstrip() + "\n")


def redact_json(data: Any) -> str:
    """JSON text with every known secret value replaced (the artifact is readable by anyone)."""
    return redact(json.dumps(data, indent=1))


def write_reports(
    outcome: Outcome, folder: Path, render: Callable[[Outcome, str], str] | None = None
) -> dict[str, Path]:
    """report.md, report.json and report.sarif in folder (redacted), made by `render` (default: the
    review's renderer); returns their paths by format."""
    if render is None:
        from codegrad.render import render as review_render

        render = review_render

    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for fmt, name in (
        ("markdown", "report.md"),
        ("json", "report.json"),
        ("sarif", "report.sarif"),
    ):
        path = folder / name
        path.write_text(redact(render(outcome, fmt)), encoding="utf-8")
        paths[fmt] = path
    return paths


# --- git in the workspace ------------------------------------------------------------------------


def _git(
    repo: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")
    }
    full.update({"GIT_TERMINAL_PROMPT": "0", **(env or {})})
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "core.hooksPath=/dev/null", *args],
        capture_output=True,
        text=True,
        env=full,
        check=False,
    )


def _has_commit(repo: Path, sha: str) -> bool:
    return _git(repo, "cat-file", "-e", f"{sha}^{{commit}}").returncode == 0


def push_env(repo: Path, token: str, server_url: str) -> dict[str, str]:
    """Token auth for git over HTTPS, unless the checkout already persisted its own credentials."""
    configured = _git(repo, "config", "--get-regexp", r"^http\..*\.extraheader$").stdout.strip()
    return {} if configured or not token else autofix.auth_env(token, server_url)


def ensure_commits(repo: Path, shas: Sequence[str], env: Mapping[str, str]) -> None:
    """Fetch base and head from origin when the checkout lacks them; UsageError when that fails."""
    missing = [s for s in shas if not _has_commit(repo, s)]
    if not missing:
        return
    _git(repo, "fetch", "--no-tags", "--quiet", "--depth=1", "origin", *missing, env=env)
    still = [s for s in missing if not _has_commit(repo, s)]
    if still:
        raise UsageError(
            f"commit {still[0][:12]} is not in the checkout at {repo} and could not be fetched; "
            "check out the repository first (actions/checkout with fetch-depth: 0)"
        )


def head_message(repo: Path, sha: str) -> str | None:
    proc = _git(repo, "log", "-1", "--format=%B", sha)
    return proc.stdout if proc.returncode == 0 else None


# --- publishing -----------------------------------------------------------------------------------


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
    return publish.truncate(
        summary + "\n\n### Not on a changed line\n\n" + "\n\n---\n\n".join(plan.leftovers)
    )


# --- the use cases ------------------------------------------------------------------------------


def build_settings(ctx: Context, inputs: Inputs, pull: Pull, env: Mapping[str, str]) -> Settings:
    """Settings for reviewing the PR's base..head in the workspace, from the inputs and environment."""
    return settings_for(ctx, inputs, env, {"base": pull.base_sha, "head": pull.head_sha})


def settings_for(
    ctx: Context, inputs: Inputs, env: Mapping[str, str], revisions: Mapping[str, str]
) -> Settings:
    """Settings for the revisions (base/head flags) in the workspace, from the inputs and environment."""
    config = inputs.config
    if config and not Path(config).is_absolute():
        config = str(ctx.workspace / config)
    flags: dict[str, Any] = {
        **revisions,
        "fail_on": inputs.fail_on,
        "llm_base_url": inputs.llm_base_url,
        "llm_model": inputs.llm_model,
        "llm_api_key": inputs.openai_api_key,
        "max_iterations": inputs.max_iterations,
        "budget_usd": inputs.budget_usd,
        "test_command": inputs.test_command,
        "config": config,
        "progress": False,
    }
    settings = build(ctx.workspace, flags, env)
    return settings.replace(fix=inputs.auto_fix != "off" and settings.llm_configured)


def _exit_status(outcome: Outcome, fail_on: str) -> int:
    from codegrad.app import exit_status

    status = exit_status(outcome, fail_on)
    if any(note.startswith("internal error") for note in outcome.notes):
        return max(status, int(ExitCode.INTERNAL))
    return status


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

    artifact = publish.plan_to_dict(
        plan, number=pull.number, head_sha=pull.head_sha, summary=summary(plan)
    )
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
        job += "\n\n### Publishing problems\n\n" + "\n".join(f"- {p}" for p in problems)
    write_summary(ctx.summary_file, job)
    write_outputs(
        ctx.output_file,
        {
            "findings": str(len(outcome.findings)),
            "fixes": str(len(autofix.verified_fixes(outcome))),
            "report-path": str(ctx.report_dir),
            "sarif-path": str(paths["sarif"]),
        },
    )
    status = _exit_status(outcome, settings.fail_on)
    log.plain(f"{publish.headline(outcome)}; exit status {status}")
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


def dispatch(
    ctx: Context,
    inputs: Inputs,
    log: Log,
    *,
    connect: Connect,
    review: Review,
    env: Mapping[str, str],
) -> int:
    """Route the event to its use case by event name and mode."""
    if ctx.event_name == "workflow_run":
        return post_fork_report(ctx, inputs, log, connect=connect)
    if ctx.event_name in PR_EVENTS:
        if inputs.mode == "harden":
            raise UsageError(
                f"mode harden runs on schedule or workflow_dispatch, not on {ctx.event_name}; use mode: auto"
            )
        return review_pull_request(ctx, inputs, log, connect=connect, review=review, env=env)
    if inputs.mode == "review":
        raise UsageError(f"mode review needs a pull_request event, got {ctx.event_name}")
    from codegrad import harden_action

    if ctx.event_name in harden_action.EVENTS or inputs.mode == "harden":
        return harden_action.run(
            ctx,
            inputs,
            log,
            connect=harden_action.connector(ctx, inputs),
            harden=harden_action.use_case(env, ctx.workspace),
            env=env,
        )
    raise UsageError(
        f"event {ctx.event_name}: codegrad runs on pull_request, workflow_run (the fork companion), "
        "schedule or workflow_dispatch (hardening)"
    )


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="codegrad action",
        description="Run as a GitHub Actions step (reads GITHUB_* and INPUT_* variables).",
    )
    parser.add_argument(
        "--report-dir", help="folder for the reports (default: $RUNNER_TEMP/codegrad-report)"
    )
    return parser.parse_args(list(argv) if argv is not None else [])


def main(argv: list[str] | None = None) -> int:
    """The only place that reads the environment and builds clients; returns the exit status."""
    log = Log()
    env = dict(os.environ)
    try:
        args = _parse(argv)
        inputs = read_inputs(env)
        register_secret(inputs.token)
        register_secret(inputs.openai_api_key)
        ctx = read_context(env, args.report_dir or inputs.report_dir)

        def connect(number: int) -> PullRequestAPI:
            return PullRequestAPI.connect(
                token=inputs.token, repository=ctx.repository, number=number, api_url=ctx.api_url
            )

        from codegrad.app import review as review_change
        from codegrad.progress import Progress

        def review(settings: Settings) -> Outcome:
            return review_change(
                settings, progress=Progress(enabled=True, stream=sys.stdout, tty=False)
            )

        return int(dispatch(ctx, inputs, log, connect=connect, review=review, env=env))
    except UsageError as exc:
        log.error(str(exc))
        return ExitCode.USAGE
    except GitHubError as exc:
        log.error(str(exc))
        return ExitCode.INTERNAL
    except SystemExit as exc:  # argparse: --help exits 0, a bad flag 2
        return ExitCode.OK if exc.code in (0, None) else ExitCode.USAGE
    except Exception as exc:  # never a traceback without a clear error, never a green run
        log.error(f"internal error: {type(exc).__name__}: {exc}")
        sys.stderr.write(redact(traceback.format_exc()))
        return ExitCode.INTERNAL
