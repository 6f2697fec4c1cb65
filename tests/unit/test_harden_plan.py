"""The pure parts of hardening: planning a run (cache, risk, budget, shard) and the condensed report."""

from __future__ import annotations

from builders import make_finding, make_target
from codegrad.harden import engine as harden
from codegrad.harden import shard, verifycache
from codegrad.model import CheckResult, Evidence, Finding, Kind, Outcome, Target
from codegrad.render.condense import condensed

HEAD = "c" * 40


def _target(name: str, path: str = "pkg/m.py", line: int = 1, body: str = "return 1") -> Target:
    return make_target(name, path, line=line, body=body)


def _finding(target: Target, kind: Kind = Kind.CRASH, **more: object) -> Finding:
    return make_finding(target, kind=kind, **more)


TARGETS = [_target(f"f{i}", line=3 * i + 1) for i in range(10)]
DIGESTS = {t.key: f"d-{t.qualname}" for t in TARGETS}


def _plan(cache: verifycache.Cache | None = None, **more: object) -> harden.Plan:
    options: dict[str, object] = {
        "digests": DIGESTS,
        "cache": cache or verifycache.Cache(),
        "shard": None,
        "max_functions": None,
        "budget_seconds": None,
        "churn": {},
        "tests": {},
        "head": HEAD,
        **more,
    }
    return harden.plan_run(TARGETS, [], **options)  # type: ignore[arg-type]


def _cache() -> verifycache.Cache:
    """f0..f5 clean, f6 with a replayable crash, f7 with a time-out (verified again)."""
    entries = {t.key: verifycache.Entry(DIGESTS[t.key], verifycache.CLEAN) for t in TARGETS[:6]}
    crash = _finding(TARGETS[6], reproduces=True)
    entries[TARGETS[6].key] = verifycache.Entry(
        DIGESTS[TARGETS[6].key],
        verifycache.FINDINGS,
        findings=1,
        head=HEAD,
        replay=(crash.to_dict(),),
    )
    entries[TARGETS[7].key] = verifycache.Entry(
        DIGESTS[TARGETS[7].key], verifycache.FINDINGS, findings=1
    )
    return verifycache.Cache(entries=entries)


def test_a_cold_plan_verifies_everything_riskiest_first() -> None:
    plan = _plan(tests={TARGETS[9].key: 0})
    assert len(plan.chosen) == 10 and plan.skipped == {}
    assert plan.chosen[0] == TARGETS[9]  # no covering test: first
    assert plan.stats["uncovered"] == 1 and plan.stats["verified"] == 10


def test_the_cache_skips_clean_functions_and_carries_stable_findings_over() -> None:
    plan = _plan(_cache())
    assert {t.qualname for t in plan.chosen} == {"f7", "f8", "f9"}
    assert plan.chosen[0].qualname == "f7"  # had findings before: first
    assert [t.qualname for t in plan.replayed] == ["f6"]
    [carried] = plan.replay
    assert carried.fingerprint == _finding(TARGETS[6]).fingerprint and carried.reproduces is True
    assert plan.skipped[TARGETS[0].key] == harden.CACHED
    assert (
        "carried over" in plan.skipped[TARGETS[6].key] and HEAD[:12] in plan.skipped[TARGETS[6].key]
    )
    assert (plan.stats["cached"], plan.stats["replayed"], plan.stats["verified"]) == (7, 1, 3)


def test_a_changed_digest_is_verified_again() -> None:
    changed = {**DIGESTS, TARGETS[0].key: "new", TARGETS[6].key: "new"}
    plan = _plan(_cache(), digests=changed)
    assert {"f0", "f6"} <= {t.qualname for t in plan.chosen} and plan.replayed == ()


def test_the_function_budget_is_global_so_shards_add_up_to_one_run() -> None:
    whole = _plan(max_functions=4)
    parts = [_plan(max_functions=4, shard=shard.Shard(k, 3)) for k in (1, 2, 3)]
    assert sorted(t.key for p in parts for t in p.chosen) == sorted(t.key for t in whole.chosen)
    assert sum(p.stats["functions"] for p in parts) == 10
    merged_skips = {k: v for p in parts for k, v in p.skipped.items()}
    assert merged_skips == whole.skipped and len(whole.skipped) == 6


def test_the_time_budget_cuts_per_process_with_estimates_from_the_cache() -> None:
    cache = verifycache.Cache(
        entries={t.key: verifycache.Entry("old", verifycache.CLEAN, seconds=10.0) for t in TARGETS},
        meta={"suite_seconds": 5.0},
    )
    plan = _plan(cache, budget_seconds=harden.STARTUP_SECONDS + 5.0 + 25.0)
    assert len(plan.chosen) == 2  # 5 + 5 + 10 + 10 fits, a third does not
    assert all("time budget" in why for why in plan.skipped.values())


def test_syntax_findings_belong_to_one_shard() -> None:
    broken = Finding(
        path="pkg/bad.py",
        function="<module>",
        line=1,
        check="syntax",
        kind=Kind.SYNTAX,
        message="x",
    )
    owners = [
        harden.plan_run(TARGETS, [broken], digests=DIGESTS, cache=verifycache.Cache(), shard=shard.Shard(k, 2),
                        max_functions=None, budget_seconds=None, churn={}, tests={}).syntax
        for k in (1, 2)
    ]  # fmt: skip
    assert sorted(len(o) for o in owners) == [0, 1]


def test_replayed_findings_join_the_result_of_their_check() -> None:
    results = [
        CheckResult(check="docstrings"),
        CheckResult(check="properties", findings=(_finding(TARGETS[0]),)),
    ]
    crash, tests = (
        _finding(TARGETS[1]),
        Finding("p.py", "g", 1, "project-tests", Kind.REGRESSION, "fails"),
    )
    merged = harden.with_replay(results, [crash, tests])
    assert [r.check for r in merged] == ["docstrings", "properties", "project-tests"]
    assert merged[1].findings == (_finding(TARGETS[0]), crash) and merged[2].findings == (tests,)


def test_condensed_folds_skip_lists_into_one_note_per_check() -> None:
    keys = [t.key for t in TARGETS]
    results = (
        CheckResult(check="docstrings", skipped={k: "no examples in the docstring" for k in keys}),
        CheckResult(check="project-tests", skipped={keys[0]: "no project test runs this function"}),
    )
    outcome = Outcome(
        base=None, head=HEAD, targets=tuple(TARGETS), evidence=Evidence(tuple(TARGETS), results)
    )

    short = condensed(outcome)

    assert all(not r.skipped for r in short.evidence.results)
    assert "docstrings skipped 10 function(s): no examples in the docstring (10)" in short.notes
    assert (
        "project-tests skipped 1 function(s): no project test runs this function (1)" in short.notes
    )
