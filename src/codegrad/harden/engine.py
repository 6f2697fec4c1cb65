"""`harden()`: verify a whole repository's functions (riskiest first, incrementally, in shards), fix, keep tests."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from codegrad.diff import changes, gitops
from codegrad.fileio import read_json_object
from codegrad.harden import shard as sharding
from codegrad.harden import targets, testgen, verifycache
from codegrad.llm.protocol import LLM
from codegrad.model import (
    NO_LLM_NOTE,
    CheckResult,
    Evidence,
    Finding,
    Fix,
    Outcome,
    Target,
    Workspace,
)
from codegrad.progress import Progress, Silent
from codegrad.refine import loop as refine
from codegrad.refine import patch
from codegrad.render import jsonout
from codegrad.settings import Settings
from codegrad.verify import engine, project_env, sandbox
from codegrad.verify.checks import testselect as ts
from codegrad.verify.checks.base import Check

log = logging.getLogger(__name__)

CHECK = "harden"  # the pseudo-check that lists what this run left out and why
CACHED = "verified before with the same code and settings: no findings (cache)"
CHURN_COMMITS = 500  # how far back recent churn looks
STARTUP_SECONDS = 5.0  # fixed cost of a run besides the project's suite (runner start-ups)
BASE_ONLY = (
    "differential",
    "recorded",
)  # checks that compare with a base version: nothing to do here
TEST_TIMEOUT = 120.0  # seconds for one pytest run over the generated tests


@dataclass(frozen=True)
class Plan:
    """What this run (this shard) verifies, what the cache answers for, what waits, and counts."""

    chosen: tuple[Target, ...]
    skipped: dict[str, str]
    syntax: tuple[Finding, ...]
    stats: dict[str, Any]
    replayed: tuple[Target, ...] = ()  # unchanged functions whose findings the cache carries over
    replay: tuple[Finding, ...] = ()


def plan_run(
    discovered: Sequence[Target],
    syntax: Sequence[Finding],
    *,
    digests: Mapping[str, str],
    cache: verifycache.Cache,
    shard: sharding.Shard | None,
    max_functions: int | None,
    budget_seconds: float | None,
    churn: Mapping[str, int],
    tests: Mapping[str, int],
    head: str = "",
) -> Plan:
    """Pure: drop what the cache vouches for (clean, or with findings it can carry over), rank
    the rest by risk, cut to the function budget over the whole repository (so N shards pick
    exactly what one run picks), keep this shard's part, then cut that to the time budget."""
    replays = {t.key: cache.replayable(t.key, digests.get(t.key, "")) for t in discovered}
    clean = [t for t in discovered if cache.clean(t.key, digests.get(t.key, ""))]
    replayed = [t for t in discovered if replays[t.key]]
    answered = {t.key for t in (*clean, *replayed)}
    fresh = [t for t in discovered if t.key not in answered]
    ranked = targets.rank(
        fresh, tests={**cache.tests(), **tests}, churn=churn, known=cache.known_findings()
    )
    counted = targets.cut([t for t, _ in ranked], max_functions=max_functions)
    timed = targets.cut(
        sharding.select(counted.chosen, shard),
        budget_seconds=budget_seconds,
        estimate=cache.estimates(),
        overhead=cache.meta.get("suite_seconds", 0.0) + STARTUP_SECONDS,
    )
    mine_clean = sharding.select(clean, shard)
    mine_replayed = sharding.select(replayed, shard)
    skipped = {t.key: CACHED for t in mine_clean}
    skipped.update({t.key: _replayed_reason(cache, t.key) for t in mine_replayed})
    skipped.update({k: why for k, why in counted.dropped.items() if _owns(shard, k)})
    skipped.update(timed.dropped)
    risks = {t.key: r for t, r in ranked}
    stats = {
        "functions": len(sharding.select(discovered, shard)),
        "cached": len(mine_clean) + len(mine_replayed),
        "replayed": len(mine_replayed),
        "over_budget": len(skipped) - len(mine_clean) - len(mine_replayed),
        "verified": len(timed.chosen),
        "uncovered": sum(1 for t in timed.chosen if risks[t.key].tests == 0),
        "priority": {t.key: round(risks[t.key].score, 3) for t in timed.chosen},
    }
    owned = tuple(f for f in syntax if _owns(shard, f"{f.path}::{f.function}"))
    replay = _findings([f for t in mine_replayed for f in replays[t.key]], head)
    return Plan(timed.chosen, skipped, owned, stats, tuple(mine_replayed), replay)


def _replayed_reason(cache: verifycache.Cache, key: str) -> str:
    entry = cache.entries[key]
    return (
        f"unchanged since it was verified at {entry.head[:12] or 'an earlier run'}: "
        f"its {entry.findings} finding(s) are carried over (cache)"
    )


def _findings(data: Sequence[Mapping[str, Any]], head: str) -> tuple[Finding, ...]:
    """Findings back from their report JSON (as the cache keeps them)."""
    if not data:
        return ()
    report = {"version": jsonout.VERSION, "head": head, "findings": list(data)}
    return jsonout.from_dict(report).findings


def with_replay(results: Sequence[CheckResult], replay: Sequence[Finding]) -> list[CheckResult]:
    """The check results with carried-over findings added to the result of their check."""
    out = list(results)
    for finding in replay:
        index = next((i for i, r in enumerate(out) if r.check == finding.check), None)
        if index is None:
            out.append(CheckResult(check=finding.check, findings=(finding,)))
        else:
            out[index] = replace(out[index], findings=(*out[index].findings, finding))
    return out


def _owns(shard: sharding.Shard | None, key: str) -> bool:
    return shard is None or shard.owns(key)


# ---------------------------------------------------------------- reading the repository


def python_files(repo: Path, head: str) -> list[str]:
    """Every tracked .py path at head."""
    listing = gitops.git(repo, "ls-tree", "-r", "-z", "--name-only", head)
    return sorted(p for p in listing.split("\0") if p.endswith(".py"))


def all_paths(repo: Path, head: str) -> list[str]:
    listing = gitops.git(repo, "ls-tree", "-r", "-z", "--name-only", head)
    return sorted(p for p in listing.split("\0") if p)


def churn(repo: Path, head: str) -> dict[str, int]:
    """Commits per file among the last CHURN_COMMITS before head (deterministic for a head)."""
    text = gitops.git(
        repo, "log", "-n", str(CHURN_COMMITS), "--format=%x00", "--name-only", "--no-renames", head
    )
    return targets.churn_counts(text)


def read_coverage(path: Path | None, discovered: Sequence[Target]) -> dict[str, int]:
    """Covering-test counts from a coverage.py JSON report; UsageError when it is not one."""
    if path is None:
        return {}
    data = read_json_object(
        path, f"--coverage {path}", "make a coverage.py report with `coverage json --show-contexts`"
    )
    return targets.coverage_from_json(data, discovered)


def _read(root: Path, relpath: str) -> str:
    try:
        return (root / relpath).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return (root / relpath).read_bytes().decode("utf-8", errors="surrogateescape")


# ---------------------------------------------------------------- the use case


def hardening_checks(settings: Settings) -> list[Check]:
    """The configured checks that can say something without a base version (no differential)."""
    return [c for c in engine.make_checks(settings.checks) if c.name not in BASE_ONLY]


def harden(
    settings: Settings,
    *,
    shard: sharding.Shard | None = None,
    cache_path: Path | None = None,
    progress: Progress | None = None,
    max_functions: int | None = None,
    coverage_path: Path | None = None,
    llm: LLM | None = None,
    checks: Sequence[Check] | None = None,
) -> Outcome:
    """Verify the repository's functions at settings.head (riskiest first, skipping what the
    cache vouches for, only this shard's part), refine the failing ones when an LLM is
    configured, and attach to each verified fix the tests that fail before it and pass after."""
    progress = progress or Silent()
    started = time.monotonic()
    deadline = started + settings.budget_seconds
    repo = settings.repo
    head = gitops.resolve(repo, settings.head)
    chosen_checks = list(checks) if checks is not None else hardening_checks(settings)
    names = [c.name for c in chosen_checks]
    refine_on = settings.fix and (settings.llm_configured or llm is not None)
    with tempfile.TemporaryDirectory(prefix="codegrad-harden-") as tmp:
        tmp_path = Path(tmp)
        head_root = gitops.export_tree(repo, head, tmp_path / "head")
        files = {p: _read(head_root, p) for p in python_files(repo, head)}
        discovered, syntax = targets.discover(
            files, include=settings.include, exclude=settings.exclude
        )
        index = verifycache.RepoIndex.build(files)
        fingerprint = verifycache.settings_fingerprint(settings, names)
        digests = {t.key: verifycache.digest(t, index, fingerprint) for t in discovered}
        cache = verifycache.load(cache_path)
        budget = settings.budget_seconds * (0.5 if refine_on else 1.0)
        plan = plan_run(
            discovered,
            syntax,
            digests=digests,
            cache=cache,
            shard=shard,
            max_functions=max_functions,
            budget_seconds=budget,
            churn=churn(repo, head),
            tests=read_coverage(coverage_path, discovered),
            head=head,
        )
        progress.step(_plan_line(plan, shard))
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        workspace = Workspace(head_root=head_root, base_root=None, repo_root=repo)
        evidence = Evidence(targets=plan.chosen, results=())
        notes: list[str] = []
        if plan.chosen:
            evidence, notes = engine.verify(
                plan.chosen,
                settings=settings,
                workspace=workspace,
                scratch=scratch,
                deadline=deadline,
                progress=progress,
                checks=chosen_checks,
            )
        if cache_path is not None:
            _update_cache(cache, plan, evidence, names, digests, head, discovered)
            verifycache.save(cache, cache_path)
        all_targets = (*plan.chosen, *plan.replayed)
        evidence = Evidence(
            targets=all_targets, results=tuple(with_replay(evidence.results, plan.replay))
        )
        fixes: tuple[Fix, ...] = ()
        if refine_on:
            fixes, refine_notes = _refine(evidence, settings, workspace, scratch, progress, llm)
            notes += refine_notes
        elif settings.fix:
            notes.append(NO_LLM_NOTE)
    progress.done()
    results = (
        CheckResult(check="syntax", findings=plan.syntax),
        CheckResult(check=CHECK, skipped=plan.skipped, stats=plan.stats),
        *evidence.results,
    )
    return Outcome(
        base=None,
        head=head,
        targets=evidence.targets,
        evidence=Evidence(targets=evidence.targets, results=results),
        fixes=fixes,
        notes=(_plan_line(plan, shard), *notes),
        seconds=time.monotonic() - started,
    )


def _plan_line(plan: Plan, shard: sharding.Shard | None) -> str:
    stats = plan.stats
    where = f"shard {shard}: " if shard is not None and shard.count > 1 else ""
    replayed = (
        f", {stats['replayed']} of them with findings carried over" if stats["replayed"] else ""
    )
    return (
        f"{where}{stats['functions']} function(s) in scope; {stats['cached']} skipped (verified "
        f"before, unchanged{replayed}); {stats['over_budget']} left for a later run (budget); "
        f"{stats['verified']} verified now"
    )


def _update_cache(
    cache: verifycache.Cache,
    plan: Plan,
    evidence: Evidence,
    names: Sequence[str],
    digests: Mapping[str, str],
    head: str,
    discovered: Sequence[Target],
) -> None:
    cache.entries.update(
        verifycache.verdicts(plan.chosen, evidence.results, names, digests, head=head)
    )
    cache.prune(t.key for t in discovered)
    for result in evidence.results:
        if result.check == "project-tests" and isinstance(result.stats.get("seconds"), float):
            cache.meta["suite_seconds"] = float(result.stats["seconds"])


# ---------------------------------------------------------------- fixes and their tests


def _refine(
    evidence: Evidence,
    settings: Settings,
    workspace: Workspace,
    scratch: Path,
    progress: Progress,
    llm: LLM | None,
) -> tuple[tuple[Fix, ...], list[str]]:
    fixes, notes = refine.refine_all(
        evidence,
        settings=settings,
        workspace=workspace,
        scratch=scratch,
        progress=progress,
        llm=llm,
    )
    kept: list[Fix] = []
    for n, fix in enumerate(fixes):
        if fix.verified:
            progress.step(f"tests for the fix of {fix.function}")
            fix, note = with_tests(fix, workspace.head_root, scratch / f"tests-{n}", settings)
            notes += [note] if note else []
        kept.append(fix)
    return tuple(kept), notes


def fixed_file(head_root: Path, fix: Fix) -> str | None:
    """The fix's file with the fixed function spliced in (None when the function is gone)."""
    text = _read(head_root, fix.path)
    for target in changes.all_functions(fix.path, text):
        if target.qualname == fix.function:
            return patch.splice(text, target, fix.source)
    return None


def with_tests(fix: Fix, head_root: Path, scratch: Path, settings: Settings) -> tuple[Fix, str]:
    """The fix with `tests`: the reproducers of what it fixed that pass on the fixed code and
    fail on the old code (run with pytest in the sandbox); a note says what was kept."""
    candidates = [f for f in fix.fixed if testgen.usable(f)]
    if not candidates:
        return fix, f"no regression test for {fix.function}: its findings have no pytest reproducer"
    new_file = fixed_file(head_root, fix)
    if new_file is None:
        return fix, f"no regression test for {fix.function}: the function is gone after the fix"
    scratch.mkdir(parents=True, exist_ok=True)
    fixed_root = refine.candidate_tree(head_root, scratch / "fixed", fix.path, new_file)
    old_root = refine.candidate_tree(
        head_root, scratch / "old", fix.path, _read(head_root, fix.path)
    )
    sources = [f.reproducer or "" for f in candidates]
    on_fixed = run_candidates(fixed_root, sources, scratch / "run-fixed", settings)
    on_old = run_candidates(old_root, sources, scratch / "run-old", settings)
    keep = [
        f
        for i, f in enumerate(candidates)
        if on_fixed.get(i) == {"passed"} and "failed" in on_old.get(i, set())
    ]
    if not keep:
        return fix, (
            f"no regression test for {fix.function}: none of its reproducers both fails "
            "before the fix and passes after it"
        )
    tests = testgen.tests_for(replace(fix, fixed=tuple(keep)))
    return replace(fix, tests=tests), ""


def run_candidates(
    root: Path, sources: Sequence[str], scratch: Path, settings: Settings
) -> dict[int, set[str]]:
    """Candidate index -> the outcomes of its tests when pytest runs them in root (sandboxed)."""
    scratch.mkdir(parents=True, exist_ok=True)
    folder = root / "codegrad_candidate_tests"
    folder.mkdir(exist_ok=True)
    names = []
    for i, source in enumerate(sources):
        name = f"test_codegrad_candidate_{i}.py"
        (folder / name).write_text(source, encoding="utf-8")
        names.append(f"codegrad_candidate_tests/{name}")
    junit = scratch / "junit.xml"
    argv = sandbox.python_argv(
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--rootdir={root}",
        f"--junitxml={junit}",
        "-o",
        "junit_family=xunit1",
        "-o",
        "addopts=",
        *project_env.plugin_overrides(),
        *names,
    )
    paths = [str(root / "src")] if (root / "src").is_dir() else []
    process = sandbox.run(
        argv,
        cwd=root,
        timeout=min(TEST_TIMEOUT, settings.test_timeout),
        limits=sandbox.Limits(memory_mb=settings.memory_mb),
        env={"PYTHONPATH": ":".join([*paths, str(root)]), "PYTHONHASHSEED": "0"},
        writable=[scratch],
    )
    outcomes: dict[int, set[str]] = {}
    text = junit.read_text(encoding="utf-8") if junit.is_file() else ""
    for case in ts.parse_junit(text):
        for i, name in enumerate(names):
            if case.path == name or case.nodeid.startswith(name):
                outcomes.setdefault(i, set()).add(case.outcome)
    if not outcomes:
        log.info("generated tests did not run in %s: %s", root, process.stderr[-500:])
    return outcomes


# ---------------------------------------------------------------- a report for people
