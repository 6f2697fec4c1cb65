"""What an action run works from: the validated inputs, the runner context, the event's pull request, the loop guard, the settings."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegrad.diff import trusted_config
from codegrad.errors import UsageError
from codegrad.github import autofix
from codegrad.settings import FAIL_LEVELS, Settings, build

MODES = ("auto", "review", "harden")
AUTO_FIX = ("off", "suggest", "commit")
ISOLATION = ("strict", "allow-weak")  # verify.guard.POLICIES
ENABLE_USERNS = ("auto", "true", "false")  # used by action.yml's first step; validated here


# --- inputs and context (pure: a mapping in, frozen values out) ---------------------------------


def action_input(env: Mapping[str, str], name: str) -> str:
    """An action input: INPUT_NAME-WITH-DASHES (the runner's spelling) or INPUT_NAME_WITH_UNDERSCORES."""
    upper = name.upper()
    return (env.get(f"INPUT_{upper}") or env.get(f"INPUT_{upper.replace('-', '_')}") or "").strip()


def _choice(env: Mapping[str, str], name: str, choices: Sequence[str], default: str) -> str:
    value = action_input(env, name).lower() or default
    if value not in choices:
        raise UsageError(f"input {name}: {value!r} is not one of {', '.join(choices)}")
    return value


def _number(env: Mapping[str, str], name: str, kind: type[int] | type[float]) -> Any:
    raw = action_input(env, name)
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
    raw = action_input(env, name).lower() or "false"
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
    isolation: str = "strict"
    enable_userns: str = "auto"
    python: str | None = None  # the project's interpreter (action.yml resolves the default)


def read_inputs(env: Mapping[str, str]) -> Inputs:
    """Inputs from INPUT_* variables (token also from GITHUB_TOKEN / GH_TOKEN)."""
    fail_on = action_input(env, "fail-on").lower() or None
    if fail_on is not None and fail_on not in FAIL_LEVELS:
        raise UsageError(f"input fail-on: {fail_on!r} is not one of {', '.join(FAIL_LEVELS)}")
    cap = _number(env, "max-fix-commits", int)
    return Inputs(
        token=action_input(env, "github-token")
        or env.get("GITHUB_TOKEN", "")
        or env.get("GH_TOKEN", ""),
        mode=_choice(env, "mode", MODES, "auto"),
        fail_on=fail_on,
        auto_fix=_choice(env, "auto-fix", AUTO_FIX, "suggest"),
        openai_api_key=action_input(env, "openai-api-key") or None,
        llm_base_url=action_input(env, "llm-base-url") or None,
        llm_model=action_input(env, "llm-model") or None,
        max_iterations=_number(env, "max-iterations", int),
        budget_usd=_number(env, "budget-usd", float),
        test_command=action_input(env, "test-command") or None,
        config=action_input(env, "config") or None,
        allow_fork_code=_flag(env, "allow-fork-code"),
        max_fix_commits=autofix.DEFAULT_CAP if cap is None else cap,
        report_dir=action_input(env, "report-dir") or None,
        isolation=_choice(env, "isolation", ISOLATION, "strict"),
        enable_userns=_choice(env, "enable-userns", ENABLE_USERNS, "auto"),
        python=action_input(env, "python") or None,
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


# --- settings ------------------------------------------------------------------------------------


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
    trusted = None
    if revisions.get("base"):  # a review: the base commit's [tool.codegrad], not the change's
        base = trusted_config.review_base(ctx.workspace, revisions["base"], revisions["head"])
        trusted = trusted_config.for_review(
            ctx.workspace, base=base, head=revisions["head"], config=config
        )
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
    settings = build(ctx.workspace, flags, env, config=trusted)
    return settings.replace(fix=inputs.auto_fix != "off" and settings.llm_configured)
