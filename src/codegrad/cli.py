"""Command line: `review`, `harden`, `merge` and `action`: argument parsing, report writing, exit codes."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from codegrad import __version__
from codegrad.diff import compare, gitops
from codegrad.errors import ExitCode, UsageError
from codegrad.fileio import check_writable, read_json_object, write_atomic
from codegrad.harden import engine as whole_repo
from codegrad.harden import shard, testgen, verifycache
from codegrad.model import INTERNAL_NOTE, NO_LLM_NOTE, Outcome
from codegrad.progress import Progress
from codegrad.redaction import redact, register_secret
from codegrad.refine.apply import apply_fixes
from codegrad.render import choose_format, jsonout, render, render_hardening, use_color
from codegrad.review import exit_status, review
from codegrad.settings import FAIL_LEVELS, FORMATS, Settings, build
from codegrad.verify import guard, interpreter, project_env
from codegrad.verify.sandbox import harden_self


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", default=".", help="the git repository to verify (default: .)")
    parser.add_argument(
        "--config",
        help="a TOML file with a [tool.codegrad] table (default: the repo's pyproject.toml)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="report format (default: auto: terminal when stdout is a terminal, else markdown)",
    )
    parser.add_argument("--output", help="write the report to this file (default: stdout)")
    parser.add_argument(
        "--fail-on", choices=FAIL_LEVELS, help="lowest severity that fails the run (default: error)"
    )
    parser.add_argument(
        "--checks", help="comma-separated checks to run (default: all but llm-checks)"
    )
    parser.add_argument(
        "--test-command", help="the project's test command (default: python -m pytest)"
    )
    parser.add_argument(
        "--max-examples", type=int, help="Hypothesis examples per property (default: 100)"
    )
    parser.add_argument("--budget-seconds", type=float, help="wall-clock budget for the whole run")
    parser.add_argument(
        "--function-timeout", type=float, help="seconds for one check on one function"
    )
    parser.add_argument("--seed", type=int, help="seed for generated inputs and sampled LLM steps")
    llm = parser.add_argument_group("LLM refinement (any OpenAI-compatible endpoint)")
    llm.add_argument(
        "--fix", action="store_true", default=None, help="refine functions with findings"
    )
    llm.add_argument(
        "--apply",
        action="store_true",
        default=None,
        help="write verified fixes into the working tree",
    )
    llm.add_argument(
        "--llm-base-url", help="endpoint base URL (default: $OPENAI_BASE_URL or OpenAI)"
    )
    llm.add_argument("--llm-model", help="model name (default: $OPENAI_MODEL or gpt-4o-mini)")
    llm.add_argument(
        "--llm-cache", help="folder for the on-disk response cache (replayable offline)"
    )
    llm.add_argument(
        "--max-iterations", type=int, help="refinement steps per function (default: 4)"
    )
    llm.add_argument(
        "--candidates-per-step",
        type=int,
        help="candidates sampled per refinement step, the gate keeps the best (default: 1)",
    )
    llm.add_argument(
        "--temperature",
        type=float,
        help="sampling temperature after the first, greedy, candidate (default: 0.8)",
    )
    llm.add_argument(
        "--no-critic",
        dest="critic",
        action="store_false",
        default=None,
        help="update steps without the critic's feedback (the findings alone); small local "
        "models do better this way",
    )
    llm.add_argument("--budget-usd", type=float, help="stop refining after spending this much")
    llm.add_argument("--budget-calls", type=int, help="stop refining after this many LLM calls")
    llm.add_argument("--budget-tokens", type=int, help="stop refining after this many tokens")
    out = parser.add_mutually_exclusive_group()
    out.add_argument(
        "--progress", dest="progress", action="store_true", default=None, help="show progress"
    )
    out.add_argument(
        "--no-progress", "-q", dest="progress", action="store_false", help="no progress lines"
    )
    parser.add_argument(
        "--isolation",
        help="strict (default): refuse to run the project's code below namespace isolation while a "
        "token or key is in the environment; allow-weak: run it anyway (also $CODEGRAD_ISOLATION)",
    )
    parser.add_argument(
        "--python",
        help="the project's interpreter, which runs its tests and codegrad's checks in the sandbox "
        "(default: $CODEGRAD_PYTHON, else the one codegrad runs on)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codegrad",
        description="Verify the Python functions a change touched; refine them with verified LLM fixes.",
    )
    parser.add_argument("--version", action="version", version=f"codegrad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    review = sub.add_parser("review", help="review the functions changed between two revisions")
    review.add_argument(
        "--base", help="base revision (default: merge-base with the default branch)"
    )
    review.add_argument(
        "--head",
        help="head revision (default: the working tree, with uncommitted edits; HEAD in CI)",
    )
    review.add_argument(
        "--staged",
        action="store_true",
        help="review the index (the staged changes: what a pre-commit hook sees)",
    )
    review.add_argument(
        "--fast",
        action="store_true",
        help="quick, for hooks: skips project-tests, efficiency and llm-checks; at most 25 "
        "Hypothesis examples and 10 s per check per function",
    )
    _add_common(review)
    add_harden_arguments(sub)
    action = sub.add_parser("action", help="run as a GitHub Action step (reads GITHUB_* variables)")
    action.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


_SETTING_FLAGS = (
    "base",
    "head",
    "format",
    "output",
    "fail_on",
    "checks",
    "test_command",
    "max_examples",
    "budget_seconds",
    "function_timeout",
    "seed",
    "fix",
    "apply",
    "llm_base_url",
    "llm_model",
    "llm_cache",
    "max_iterations",
    "candidates_per_step",
    "temperature",
    "critic",
    "budget_usd",
    "budget_calls",
    "budget_tokens",
    "progress",
)


# --fast: what a pre-commit hook can afford. Explicit flags still win.
# --fast, for hooks: only the checks that run the changed functions themselves, smaller budgets.
FAST_CHECKS = ("docstrings", "properties", "differential")
FAST_LIMITS = {"max_examples": 25, "function_timeout": 10.0}


def settings_from_args(args: argparse.Namespace, preset: dict[str, Any] | None = None) -> Settings:
    repo = Path(args.repo)
    if not repo.is_dir():
        raise UsageError(
            f"--repo {args.repo}: no such directory; give the path of a git repository"
        )
    flags: dict[str, Any] = {name: getattr(args, name, None) for name in _SETTING_FLAGS}
    for name, value in (preset or {}).items():
        if flags.get(name) is None:
            flags[name] = value
    flags["config"] = args.config
    config = None
    if args.command == "review":  # the base commit's [tool.codegrad], not the change's
        from codegrad.diff import trusted_config

        head = args.head or "HEAD"
        tree = flags.get("tree") or "commit"
        base = compare.review_base(repo, base=args.base, head=head, tree=tree)
        if base is not None:  # None: no commit yet, the files on disk are all there is
            config = trusted_config.for_review(repo, base=base, head=head, config=args.config)
            if tree != "commit":
                config = trusted_config.noting_working_tree(repo, config, config=args.config)
    return build(repo, flags, config=config)


def admit(args: argparse.Namespace, settings: Settings) -> None:
    """Hide the checkout from the sandbox; refuse weak isolation with secrets around (UsageError)."""
    flag = getattr(args, "isolation", None)
    chosen = guard.policy(
        flag or os.environ.get(guard.ENV_POLICY),
        "--isolation" if flag else guard.ENV_POLICY,
    )
    key = ["the LLM API key"] if settings.llm_api_key else []
    guard.admit(settings.repo, chosen=chosen, strict=False, extra_secrets=key)
    interpreter.choose(getattr(args, "python", None), "--python")
    project_env.require()


def in_ci(env: Mapping[str, str]) -> bool:
    """Whether CI or GITHUB_ACTIONS is set (to anything but empty, 0 or false)."""
    return any(env.get(k, "").strip().lower() not in ("", "0", "false") for k in _CI_VARIABLES)


_CI_VARIABLES = ("CI", "GITHUB_ACTIONS")


def review_tree(head: str | None, staged: bool, env: Mapping[str, str]) -> str:
    """What `review` looks at: the index (--staged), a commit (--head, or in CI), or the working tree."""
    if staged and head:
        raise UsageError(
            f"--staged reviews the index, --head {head} a commit: give one of them, not both"
        )
    if staged:
        return "index"
    return "commit" if head or in_ci(env) else "worktree"


def review_settings(args: argparse.Namespace, env: Mapping[str, str]) -> Settings:
    """The review's settings from the flags: the tree to review, and --fast's limits."""
    settings = settings_from_args(args, {"tree": review_tree(args.head, args.staged, env)})
    return fast(settings, args) if args.fast else settings


def fast(settings: Settings, args: argparse.Namespace) -> Settings:
    """--fast: the configured checks less project-tests, efficiency and llm-checks, and lower
    limits; what a flag states explicitly stays as given."""
    changes: dict[str, Any] = {}
    if args.checks is None:
        kept = tuple(c for c in settings.checks if c in FAST_CHECKS)
        if not kept:
            raise UsageError(
                f"--fast leaves none of the configured checks ({', '.join(settings.checks)}) to"
                f" run; it keeps only {', '.join(FAST_CHECKS)}: pass --checks, or drop --fast"
            )
        changes["checks"] = kept
    for name, limit in FAST_LIMITS.items():
        if getattr(args, name) is None:
            changes[name] = min(getattr(settings, name), limit)
    return settings.replace(**changes)


def write_report(text: str, output: Path | None) -> None:
    """Write to stdout, or atomically to a file (no partial files on failure)."""
    text = redact(text)
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    output = output.expanduser()
    if not output.parent.is_dir():
        raise UsageError(
            f"--output {output}: folder {output.parent} does not exist; create it first"
        )
    write_atomic(output, text)


def cmd_review(args: argparse.Namespace) -> int:
    settings = review_settings(args, os.environ)
    register_secret(settings.llm_api_key)
    admit(args, settings)
    output = _prepare(settings)
    show = settings.progress if settings.progress is not None else sys.stderr.isatty()
    progress = Progress(enabled=show)
    outcome = review(settings, progress=progress)
    if settings.apply and outcome.fixes:
        for line in apply_fixes(outcome, settings):
            print(line, file=sys.stderr)
    to_terminal = settings.output is None and sys.stdout.isatty()
    text = render(
        outcome,
        choose_format(settings.format, to_terminal=to_terminal),
        color=use_color(to_terminal=to_terminal, no_color=os.environ.get("NO_COLOR")),
        verbose=args.verbose,
    )
    write_report(text, output)
    return _finish(outcome, settings.fail_on)


def _prepare(settings: Settings) -> Path | None:
    """Before the run: exit 2 now for an --output that cannot be written (not after the run);
    say on stderr that --fix has no LLM. Returns the output path."""
    output = (
        check_writable(settings.output, f"--output {settings.output}") if settings.output else None
    )
    if settings.fix and not settings.llm_configured:
        print(f"codegrad: {NO_LLM_NOTE}; the run goes on without refinement", file=sys.stderr)
    return output


def _finish(outcome: Outcome, fail_on: str) -> int:
    """The exit status; codegrad's own breaks and an LLM that failed are also told on stderr."""
    for note in (*outcome.internal_errors, *outcome.llm_failures):
        print(f"codegrad: {note}", file=sys.stderr)
    return exit_status(outcome, fail_on)


def cmd_action(args: argparse.Namespace) -> int:
    # Lazy on purpose: PyGithub is over half of what `codegrad review` would otherwise import
    # (`python -X importtime -c "import codegrad.cli"`), and only the action talks to GitHub.
    from codegrad.github.action import main as action_main

    rest = [a for a in args.rest if a != "--"]
    return action_main(rest)


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
        format="codegrad: %(levelname)s: %(message)s",
    )
    if args.command is None:
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    harden_self()  # our own /proc entries unreadable to same-uid children (a layer under the sandbox)
    try:
        if args.command == "review":
            return cmd_review(args)
        if args.command == "action":
            return cmd_action(args)
        if args.command in ("harden", "merge"):
            return harden_main(args) if args.command == "harden" else merge_main(args)
        parser.error(f"unknown command {args.command!r}")
    except UsageError as exc:
        print(f"codegrad: error: {redact(str(exc))}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        print("codegrad: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("CODEGRAD_DEBUG"):
            raise
        print(
            f"codegrad: {INTERNAL_NOTE}: {type(exc).__name__}: {redact(str(exc))}\n"
            "Please report this at the project's issue tracker (set CODEGRAD_DEBUG=1 for a traceback).",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL
    return ExitCode.OK


def add_harden_arguments(subparsers: Any) -> None:
    """Add the `harden` and `merge` sub-commands to the main parser's subparsers."""
    harden = subparsers.add_parser(
        "harden",
        help="verify the whole repository's functions (riskiest first, incrementally, in shards)",
    )
    harden.add_argument("--head", help="the revision to harden (default: HEAD)")
    harden.add_argument("--shard", metavar="K/N", help="verify only shard K of N (e.g. 1/4)")
    harden.add_argument(
        "--cache",
        metavar="FILE",
        help="JSON file of earlier verdicts: functions verified before with the same code are skipped",
    )
    harden.add_argument(
        "--max-functions",
        type=int,
        metavar="N",
        help="verify at most N functions (all shards together)",
    )
    harden.add_argument(
        "--include",
        action="append",
        metavar="GLOB",
        help="files to verify (repeatable; replaces the configured include globs)",
    )
    harden.add_argument(
        "--exclude",
        action="append",
        metavar="GLOB",
        help="files to leave out (repeatable; added to the configured exclude globs)",
    )
    harden.add_argument(
        "--coverage",
        metavar="FILE",
        help="a coverage.py JSON report (`coverage json --show-contexts`) to rank untested code first",
    )
    _add_common(harden)
    merge = subparsers.add_parser("merge", help="merge the JSON reports of harden shards into one")
    merge.add_argument("reports", nargs="+", metavar="REPORT.json", help="shard reports (JSON)")
    merge.add_argument(
        "--format", choices=FORMATS, default="json", help="report format (default: json)"
    )
    merge.add_argument("--output", help="write the merged report to this file (default: stdout)")
    merge.add_argument(
        "--fail-on",
        choices=FAIL_LEVELS,
        default="error",
        help="lowest severity that fails (default: error)",
    )
    merge.add_argument(
        "--cache-from",
        nargs="+",
        default=[],
        metavar="FILE",
        help="the shards' cache files, merged into --cache",
    )
    merge.add_argument("--cache", metavar="FILE", help="write the merged cache here")


def _settings(args: argparse.Namespace) -> Settings:
    settings = settings_from_args(args)
    changes: dict[str, Any] = {}
    if getattr(args, "include", None):
        changes["include"] = _globs(args.include)
    if getattr(args, "exclude", None):
        changes["exclude"] = settings.exclude + _globs(args.exclude)
    return settings.replace(**changes) if changes else settings


def _globs(values: list[str]) -> tuple[str, ...]:
    return tuple(v.strip() for v in values if v.strip())


def _optional_path(value: str | None, flag: str, *, must_exist: bool = False) -> Path | None:
    if not value:
        return None
    path = Path(value).expanduser()
    if must_exist and not path.is_file():
        raise UsageError(f"{flag} {value}: no such file")
    return path


def harden_main(args: argparse.Namespace) -> int:
    """`codegrad harden`: verify, write the report, return the exit status."""
    settings = _settings(args)
    register_secret(settings.llm_api_key)
    admit(args, settings)
    if args.max_functions is not None and args.max_functions < 1:
        raise UsageError(f"--max-functions {args.max_functions}: give a whole number of at least 1")
    output = _prepare(settings)
    show = settings.progress if settings.progress is not None else sys.stderr.isatty()
    outcome = whole_repo.harden(
        settings,
        shard=shard.parse(args.shard) if args.shard else None,
        cache_path=_optional_path(args.cache, "--cache"),
        progress=Progress(enabled=show),
        max_functions=args.max_functions,
        coverage_path=_optional_path(args.coverage, "--coverage", must_exist=True),
    )
    if settings.apply and outcome.fixes:
        for line in apply_with_tests(outcome, settings):
            print(line, file=sys.stderr)
    write_report(render_hardening(outcome, settings.format), output)
    return _finish(outcome, settings.fail_on)


def apply_with_tests(outcome: Outcome, settings: Settings) -> list[str]:
    """Write the verified fixes and their regression tests into the working tree."""
    messages = apply_fixes(outcome, settings)
    repo = settings.repo
    fixes = [f for f in outcome.fixes if f.verified and f.source in _text(repo / f.path)]
    paths = gitops.git(repo, "ls-files", "-z").split("\0")

    def read(path: str) -> str | None:
        file = repo / path
        return file.read_text(encoding="utf-8") if file.is_file() else None

    for path, text in testgen.files_for(fixes, [p for p in paths if p], read).items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text, encoding="utf-8")
        messages.append(f"wrote regression tests to {path}")
    return messages


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def merge_main(args: argparse.Namespace) -> int:
    """`codegrad merge`: one report (and optionally one cache) from the shards'."""
    output = _optional_path(args.output, "--output")
    output = check_writable(output, f"--output {args.output}") if output else None
    merged = shard.merge([_read_report(p) for p in args.reports])
    outcome = jsonout.from_dict(merged)
    if args.format == "json":
        text = json.dumps(merged, indent=2, sort_keys=True, default=str) + "\n"
    else:
        text = render_hardening(outcome, args.format)
    write_report(text, output)
    if args.cache_from and not args.cache:
        raise UsageError("--cache-from needs --cache FILE: where to write the merged cache")
    if args.cache:
        caches = [verifycache.load(Path(p)) for p in args.cache_from if os.path.isfile(p)]
        verifycache.save(verifycache.merge(caches), Path(args.cache))
    return exit_status(outcome, args.fail_on)


def _read_report(path: str) -> dict[str, Any]:
    return read_json_object(Path(path), path, jsonout.REPORT_HINT)
