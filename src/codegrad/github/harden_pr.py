"""The action's harden mode: verify the repository, push one commit of fixes and tests, open or update one PR."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from codegrad import gradient, markup
from codegrad.errors import UsageError
from codegrad.fileio import read_json_object
from codegrad.github import autofix, botgit, comment_text
from codegrad.github import output as action_output
from codegrad.github.api import GitHubError, PullInfo, RepositoryAPI
from codegrad.github.botgit import ensure_commits, push_env
from codegrad.github.context import Context, Inputs, action_input, settings_for
from codegrad.github.output import Log, annotate_findings, write_outputs, write_summary
from codegrad.harden import engine as whole_repo
from codegrad.harden import testgen
from codegrad.model import Finding, Fix, Outcome
from codegrad.progress import Progress
from codegrad.redaction import redact
from codegrad.render import jsonout, render_hardening
from codegrad.review import exit_status
from codegrad.settings import Settings

EVENTS = ("schedule", "workflow_dispatch")
BRANCH_PREFIX = "codegrad/harden-"
MARKER = "<!-- codegrad:harden -->"
MAX_REMAINING = 40  # findings listed under "what remains"; the rest are in the report

ConnectRepo = Callable[[], RepositoryAPI]
Harden = Callable[[Settings], Outcome]


# --- inputs beyond the review's (pure) ----------------------------------------------------------


@dataclass(frozen=True)
class HardenInputs:
    """Inputs only harden mode reads: a merged shard report to publish, the cache, a budget."""

    report: Path | None = (
        None  # publish this JSON report (from `codegrad merge`) instead of verifying
    )
    cache: Path | None = None
    max_functions: int | None = None


def read_harden_inputs(env: Mapping[str, str], workspace: Path) -> HardenInputs:
    report = action_input(env, "harden-report")
    cache = action_input(env, "harden-cache")
    raw = action_input(env, "max-functions")
    count: int | None = None
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise UsageError(f"input max-functions: {raw!r} is not a whole number of at least 1")
        count = int(raw)

    def resolve(text: str) -> Path | None:
        if not text:
            return None
        path = Path(text)
        return path if path.is_absolute() else workspace / path

    return HardenInputs(report=resolve(report), cache=resolve(cache), max_functions=count)


# --- pure decisions ------------------------------------------------------------------------------


def branch_name(today: date, taken: Collection[str]) -> str:
    """codegrad/harden-<date>, or -2, -3, ... when that branch already exists."""
    name = f"{BRANCH_PREFIX}{today.isoformat()}"
    n = 2
    while name in taken:
        name, n = f"{BRANCH_PREFIX}{today.isoformat()}-{n}", n + 1
    return name


def open_hardening_pull(pulls: Sequence[PullInfo], repository: str) -> PullInfo | None:
    """The open hardening PR codegrad made earlier in this repository (oldest first), if any."""
    ours = [
        p
        for p in pulls
        if p.head_ref.startswith(BRANCH_PREFIX)
        and MARKER in p.body
        and p.head_repo in ("", repository)
    ]
    return min(ours, key=lambda p: p.number) if ours else None


def pr_title(fixes: Sequence[Fix]) -> str:
    return f"codegrad hardening: {gradient.plural(len(fixes), 'verified fix', 'verified fixes')}"


def _finding_line(f: Finding) -> str:
    where = f" on {gradient.value(f.input, 80)}" if f.input else ""
    key = markup.code(f"{f.path}::{f.function}")
    return f"- [{f.level.value}] {key} ({f.check}/{f.kind.value}){where}: {gradient.value(f.message, 160)}"


def pr_body(
    outcome: Outcome,
    fixes: Sequence[Fix],
    tests: Mapping[str, str],
    *,
    footer: str = "",
) -> str:
    """The PR description: what was verified, the fixes and their tests, and what remains."""
    fixed_keys = {(f.path, f.function) for f in fixes}
    remaining = [f for f in outcome.findings if (f.path, f.function) not in fixed_keys]
    lines = [
        MARKER,
        f"## {pr_title(fixes)}",
        "",
        f"codegrad verified {gradient.plural(len(outcome.targets), 'function')} of this repository at "
        f"`{outcome.head[:12]}` and found {gradient.plural(len(outcome.findings), 'finding')}. "
        "Every fix below passed all of codegrad's checks, and each comes with tests that fail "
        "before it and pass after it.",
        "",
        "### Fixes",
        "",
    ]
    for fix in fixes:
        what = "; ".join(gradient.value(f.message, 120) for f in fix.fixed[:3])
        lines.append(f"- {markup.code(f'{fix.path}::{fix.function}')}: {what or 'verified fix'}")
    if tests:
        lines += ["", "### Tests", ""]
        lines += [f"- {markup.code(path)}" for path in sorted(tests)]
    lines += ["", "### What remains", ""]
    if remaining:
        lines += [_finding_line(f) for f in gradient.sort_findings(remaining)[:MAX_REMAINING]]
        if len(remaining) > MAX_REMAINING:
            lines.append(f"- … {len(remaining) - MAX_REMAINING} more in the report artifact")
    else:
        lines.append("Nothing: every finding of this run has a verified fix here.")
    notes = [n for n in outcome.notes if n]
    if notes:
        lines += ["", "### Run", ""] + [f"- {markup.text(n, 600)}" for n in notes[:10]]
    if footer:
        lines += ["", footer]
    return comment_text.truncate("\n".join(lines) + "\n")


# --- git: a commit made with a private index, pushed without force -------------------------------


def fixed_files(repo: Path, outcome: Outcome) -> tuple[dict[str, str], list[Fix], dict[str, str]]:
    """(all files to write, the fixes that apply to head, the test files among them)."""
    targets = {t.key: t for t in outcome.targets}
    files: dict[str, str] = {}
    used: list[Fix] = []
    for fix in sorted(
        autofix.verified_fixes(outcome),
        key=lambda f: (f.path, -(targets[_key(f)].lineno if _key(f) in targets else 0)),
    ):
        target = targets.get(_key(fix))
        text = files.get(fix.path) or botgit.blob(repo, outcome.head, fix.path)
        if target is None or text is None or not autofix.matches(text, target):
            continue
        first = target.decorator_lineno or target.lineno
        files[fix.path] = autofix.splice(text, first, target.end_lineno, fix.source)
        used.append(fix)
    paths = [
        p
        for p in botgit.out(repo, "ls-tree", "-r", "-z", "--name-only", outcome.head).split("\0")
        if p
    ]
    tests = testgen.files_for(used, paths, lambda p: botgit.blob(repo, outcome.head, p))
    files.update(tests)
    return files, sorted(used, key=lambda f: (f.path, f.function)), tests


def _key(fix: Fix) -> str:
    return f"{fix.path}::{fix.function}"


def commit_files(
    repo: Path, base: str, files: Mapping[str, str], message: str, parents: Sequence[str]
) -> str:
    """A bot commit whose tree is base's with `files` written, on `parents`; the checkout, its
    index and HEAD are never touched."""
    with tempfile.TemporaryDirectory(prefix="codegrad-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        botgit.out(repo, "read-tree", base, env=env)
        for path, text in sorted(files.items()):
            blob = botgit.out(
                repo, "hash-object", "-w", "--stdin", input=text.encode("utf-8", "surrogateescape")
            ).strip()
            listing = botgit.out(repo, "ls-tree", base, "--", path).split()
            mode = listing[0] if listing else "100644"
            botgit.out(
                repo, "update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}", env=env
            )
        tree = botgit.out(repo, "write-tree", env=env).strip()
    args = [a for p in parents for a in ("-p", p)]
    return botgit.out(
        repo, "commit-tree", tree, *args, env=autofix.bot_identity(), input=message.encode()
    ).strip()


def remote_branches(repo: Path, env: Mapping[str, str], remote: str = "origin") -> dict[str, str]:
    """Branch name -> sha of the remote's codegrad/harden-* branches."""
    listing = botgit.out(repo, "ls-remote", remote, f"refs/heads/{BRANCH_PREFIX}*", env=env)
    out = {}
    for line in listing.splitlines():
        sha, _, ref = line.partition("\t")
        out[ref.removeprefix("refs/heads/")] = sha
    return out


def only_bot_commits(repo: Path, tip: str, head: str) -> bool:
    """Whether every commit on tip that head lacks is a codegrad commit (trailer)."""
    listing = botgit.out(repo, "log", "--format=%B%x00", tip, "--not", head)
    messages = [m for m in listing.split("\0") if m.strip()]
    return all(autofix.has_trailer(m) for m in messages)


def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    return botgit.git(repo, "merge-base", "--is-ancestor", ancestor, descendant).returncode == 0


@dataclass(frozen=True)
class Pushed:
    """What happened to the branch: pushed (with the sha), or why not."""

    ok: bool
    message: str
    branch: str = ""
    sha: str = ""


def push_branch(
    repo: Path,
    outcome: Outcome,
    files: Mapping[str, str],
    fixes: Sequence[Fix],
    *,
    existing: PullInfo | None,
    today: date,
    run_id: str,
    env: Mapping[str, str],
    default_branch: str,
) -> Pushed:
    """One commit of fixes and tests on head, pushed to a new codegrad/harden-<date> branch or,
    when a hardening PR is open, on top of its branch (fast-forward: head joins as a second
    parent); never forced, never to the default branch."""
    message = autofix.commit_message(list(fixes), run_id)
    branches = remote_branches(repo, env)
    parents = [outcome.head]
    if existing is not None:
        branch = existing.head_ref
        tip = branches.get(branch)
        if tip is None:
            return Pushed(
                False, f"branch {branch} of pull request #{existing.number} is gone; nothing pushed"
            )
        botgit.out(repo, "fetch", "--no-tags", "--quiet", "origin", f"refs/heads/{branch}", env=env)
        if not only_bot_commits(repo, tip, outcome.head):
            return Pushed(
                False,
                f"branch {branch} has commits that are not codegrad's; left alone (merge or close "
                f"pull request #{existing.number} and the next run opens a new one)",
            )
        parents = [tip] + ([] if is_ancestor(repo, outcome.head, tip) else [outcome.head])
    else:
        branch = branch_name(today, branches)
    if branch == default_branch or not branch.startswith(BRANCH_PREFIX):
        return Pushed(False, f"refusing to push to {branch}")
    sha = commit_files(repo, outcome.head, files, message, parents)
    proc = botgit.git(
        repo, "push", "--no-verify", "--porcelain", "origin", f"{sha}:refs/heads/{branch}", env=env
    )
    if proc.returncode != 0:
        text = redact((proc.stdout + proc.stderr).decode("utf-8", "replace").strip())
        last = text.splitlines()[-1] if text else "no output"
        return Pushed(False, f"push to {branch} was refused, not forced: {last}", branch, sha)
    return Pushed(True, f"pushed {sha[:12]} to {branch} ({len(fixes)} fix(es))", branch, sha)


# --- the use case --------------------------------------------------------------------------------


def build_settings(ctx: Context, inputs: Inputs, env: Mapping[str, str]) -> Settings:
    """Settings for hardening the checked-out commit, from the inputs and environment."""
    return settings_for(ctx, inputs, env, {"head": "HEAD"})


def load_report(path: Path) -> Outcome:
    data = read_json_object(path, f"input harden-report {path}", jsonout.REPORT_HINT)
    return jsonout.from_dict(data)


def write_reports(outcome: Outcome, folder: Path) -> dict[str, Path]:
    """report.md (skip lists folded), report.json and report.sarif in folder."""
    return action_output.write_reports(outcome, folder, render_hardening)


def run(
    ctx: Context,
    inputs: Inputs,
    log: Log,
    *,
    connect: ConnectRepo,
    harden: Harden,
    env: Mapping[str, str],
    today: date | None = None,
) -> int:
    """Harden the repository (or publish a merged shard report) and open or update the PR."""
    if not inputs.token:
        raise UsageError(
            "no GitHub token: set the action's github-token input (default ${{ github.token }}); "
            "harden mode needs `contents: write` and `pull-requests: write`"
        )
    extra = read_harden_inputs(env, ctx.workspace)
    settings = build_settings(ctx, inputs, env)
    if extra.report is not None:
        log.info(f"publishing the merged report {extra.report}")
        outcome = load_report(extra.report)
    else:
        log.info(f"hardening {ctx.repository} at {ctx.workspace}")
        outcome = harden(settings)
    paths = write_reports(outcome, ctx.report_dir)
    annotate_findings(log, outcome.findings)
    status_lines: list[str] = []
    pull_url = ""
    if not autofix.verified_fixes(outcome):
        status_lines.append(
            "no verified fix: nothing pushed, no pull request (the report lists the findings)"
        )
        log.info(status_lines[-1])
    else:
        pull_url = _publish(ctx, inputs, log, outcome, connect, today or _today(), status_lines)
    summary = comment_text.truncate(
        "\n".join(
            [f"- {line}" for line in status_lines]
            + ["", paths["markdown"].read_text(encoding="utf-8")]
        )
    )
    write_summary(ctx.summary_file, summary)
    write_outputs(
        ctx.output_file,
        {
            **action_output.outcome_outputs(outcome, ctx.report_dir, paths["sarif"]),
            "pull-request-url": pull_url,
        },
    )
    status = exit_status(outcome, settings.fail_on)
    log.plain(
        f"codegrad harden: {len(outcome.findings)} finding(s), {len(autofix.verified_fixes(outcome))} verified fix(es); exit status {status}"
    )
    return status


def _today() -> date:
    return datetime.now(timezone.utc).date()


def _publish(
    ctx: Context,
    inputs: Inputs,
    log: Log,
    outcome: Outcome,
    connect: ConnectRepo,
    today: date,
    status_lines: list[str],
) -> str:
    """Push the commit and open or update the PR; returns the PR's URL ('' when none)."""
    repo = ctx.workspace
    env = push_env(repo, inputs.token, ctx.server_url)
    ensure_commits(repo, [outcome.head], env)
    files, fixes, tests = fixed_files(repo, outcome)
    if not fixes:
        status_lines.append(
            "no verified fix applies to the verified commit any more: nothing pushed"
        )
        log.warning(status_lines[-1])
        return ""
    try:
        api = connect()
        existing = open_hardening_pull(api.open_pulls(), ctx.repository)
        pushed = push_branch(
            repo,
            outcome,
            files,
            fixes,
            existing=existing,
            today=today,
            run_id=ctx.run_id,
            env=env,
            default_branch=api.default_branch,
        )
        status_lines.append(pushed.message)
        if not pushed.ok:
            log.warning(pushed.message)
            return existing.url if existing else ""
        log.info(pushed.message)
        body = pr_body(outcome, fixes, tests, footer=f"codegrad run {ctx.run_id} · {ctx.run_url}")
        if existing is not None:
            api.edit_pull(existing.number, title=pr_title(fixes), body=body)
            status_lines.append(f"updated pull request #{existing.number}")
            log.info(status_lines[-1])
            return existing.url
        pull = api.create_pull(
            title=pr_title(fixes), body=body, head=pushed.branch, base=api.default_branch
        )
        status_lines.append(f"opened pull request #{pull.number}")
        log.info(status_lines[-1])
        return pull.url
    except (GitHubError, RuntimeError) as exc:
        status_lines.append(str(exc))
        log.error(str(exc))
        return ""


def connector(ctx: Context, inputs: Inputs) -> ConnectRepo:
    """The real repository client for `run` (built only when a PR is to be opened)."""

    def connect() -> RepositoryAPI:
        return RepositoryAPI.connect(
            token=inputs.token, repository=ctx.repository, api_url=ctx.api_url
        )

    return connect


def use_case(env: Mapping[str, str], workspace: Path) -> Harden:
    """`harden()` as the action runs it: progress in the job log, cache and budget from inputs."""

    def run_harden(settings: Settings) -> Outcome:
        extra = read_harden_inputs(env, workspace)
        return whole_repo.harden(
            settings,
            cache_path=extra.cache,
            max_functions=extra.max_functions,
            progress=Progress(enabled=True, stream=sys.stdout, tty=False),
        )

    return run_harden
