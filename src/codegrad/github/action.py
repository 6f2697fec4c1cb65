"""`codegrad action`: the GitHub Action entry point: reads the environment, routes the event to its use case, exit status."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence

from codegrad.errors import ExitCode, UsageError
from codegrad.github import harden_pr as harden_action
from codegrad.github.api import GitHubError, PullRequestAPI
from codegrad.github.comments import Connect, post_fork_report
from codegrad.github.context import Context, Inputs, read_context, read_inputs
from codegrad.github.output import Log, defuse
from codegrad.github.pull_request import Review, review_pull_request
from codegrad.model import INTERNAL_NOTE, Outcome
from codegrad.progress import Progress
from codegrad.redaction import redact, register_secret
from codegrad.review import review as review_change
from codegrad.settings import Settings
from codegrad.verify import guard, interpreter, project_env

PR_EVENTS = ("pull_request", "pull_request_target")


def guarded(run: Callable[[Settings], Outcome], inputs: Inputs) -> Callable[[Settings], Outcome]:
    """`run`, preceded by the check that the project's code may run here (verify.guard.admit): the
    action always holds a token and the runner's files, so weak isolation needs `isolation: allow-weak`."""

    def run_guarded(settings: Settings) -> Outcome:
        guard.admit(settings.repo, chosen=inputs.isolation, strict=True)
        project_env.require()
        return run(settings)

    return run_guarded


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
        review = guarded(review, inputs)
        return review_pull_request(ctx, inputs, log, connect=connect, review=review, env=env)
    if inputs.mode == "review":
        raise UsageError(f"mode review needs a pull_request event, got {ctx.event_name}")
    if ctx.event_name in harden_action.EVENTS or inputs.mode == "harden":
        return harden_action.run(
            ctx,
            inputs,
            log,
            connect=harden_action.connector(ctx, inputs),
            harden=guarded(harden_action.use_case(env, ctx.workspace), inputs),
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
        interpreter.choose(inputs.python, "input python")
        ctx = read_context(env, args.report_dir or inputs.report_dir)

        def connect(number: int) -> PullRequestAPI:
            return PullRequestAPI.connect(
                token=inputs.token, repository=ctx.repository, number=number, api_url=ctx.api_url
            )

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
        log.error(f"{INTERNAL_NOTE}: {type(exc).__name__}: {exc}")
        sys.stderr.write(defuse(redact(traceback.format_exc())) + "\n")
        return ExitCode.INTERNAL
