"""The `codegrad harden` and `codegrad merge` commands: arguments, report writing and exit codes only."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from codegrad.errors import ExitCode, UsageError
from codegrad.harden import verifycache
from codegrad.model import Outcome
from codegrad.settings import FAIL_LEVELS, FORMATS, Settings


def add_harden_arguments(subparsers: Any) -> None:
    """Add the `harden` and `merge` sub-commands to the main parser's subparsers."""
    from codegrad import cli

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
    cli._add_common(harden)
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
    from codegrad import cli

    settings = cli.settings_from_args(args)
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


def render_report(outcome: Outcome, fmt: str) -> str:
    """Markdown folds the per-function skip lists into one note per check; JSON and SARIF keep all."""
    from codegrad.harden import engine as harden
    from codegrad.render import render

    return render(harden.condensed(outcome) if fmt == "markdown" else outcome, fmt)


def harden_main(args: argparse.Namespace) -> int:
    """`codegrad harden`: verify, write the report, return the exit status."""
    from codegrad.cli import INTERNAL_NOTE, admit, write_report
    from codegrad.harden import engine as harden
    from codegrad.harden import shard
    from codegrad.progress import Progress
    from codegrad.verify import engine as app
    from codegrad.verify.sandbox import register_secret

    settings = _settings(args)
    register_secret(settings.llm_api_key)
    admit(args, settings)
    if args.max_functions is not None and args.max_functions < 1:
        raise UsageError(f"--max-functions {args.max_functions}: give a whole number of at least 1")
    show = settings.progress if settings.progress is not None else sys.stderr.isatty()
    outcome = harden.harden(
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
    write_report(render_report(outcome, settings.format), settings.output)
    status = app.exit_status(outcome, settings.fail_on)
    internal = [n for n in outcome.notes if n.startswith(INTERNAL_NOTE)]
    for note in internal:
        print(f"codegrad: {note}", file=sys.stderr)
    return max(status, ExitCode.INTERNAL) if internal else status


def apply_with_tests(outcome: Outcome, settings: Settings) -> list[str]:
    """Write the verified fixes and their regression tests into the working tree."""
    from codegrad.diff import gitops
    from codegrad.harden import testgen
    from codegrad.refine import loop as refine

    messages = refine.apply_fixes(outcome, settings)
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


def _read_report(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"{path}: no such report; give the JSON reports of `codegrad harden --format json`"
        ) from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a JSON report ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: not a codegrad JSON report")
    return data


def merge_main(args: argparse.Namespace) -> int:
    """`codegrad merge`: one report (and optionally one cache) from the shards'."""
    from codegrad.cli import write_report
    from codegrad.harden import shard
    from codegrad.render import jsonout
    from codegrad.verify import engine as app

    merged = shard.merge([_read_report(p) for p in args.reports])
    outcome = jsonout.from_dict(merged)
    if args.format == "json":
        text = json.dumps(merged, indent=2, sort_keys=True, default=str) + "\n"
    else:
        text = render_report(outcome, args.format)
    write_report(text, _optional_path(args.output, "--output"))
    if args.cache_from and not args.cache:
        raise UsageError("--cache-from needs --cache FILE: where to write the merged cache")
    if args.cache:
        caches = [verifycache.load(Path(p)) for p in args.cache_from if os.path.isfile(p)]
        verifycache.save(verifycache.merge(caches), Path(args.cache))
    return app.exit_status(outcome, args.fail_on)
