"""Sharding: a deterministic K/N split, and merging shard reports into the report of one run."""

from __future__ import annotations

from collections import Counter

import pytest

from builders import make_finding, make_target
from codegrad.errors import UsageError
from codegrad.harden import shard
from codegrad.model import CheckResult, Evidence, Finding, Fix, Outcome, Target
from codegrad.render import jsonout

HEAD = "a" * 40


def _target(name: str, path: str = "pkg/mod.py") -> Target:
    return make_target(name, path, body="pass")


def _finding(target: Target, message: str = "boom") -> Finding:
    return make_finding(target, message=f"{target.qualname}() raises {message}")


def _outcome(
    targets: list[Target],
    findings: list[Finding],
    *,
    fixes: tuple[Fix, ...] = (),
    seconds: float = 1.0,
) -> Outcome:
    keys = [t.key for t in targets]
    results = (
        CheckResult(
            check="properties",
            findings=tuple(findings),
            checked=tuple(keys),
            seconds=seconds,
            stats={"calls": 10 * len(keys), "hung": [], "command": "python -m pytest"},
        ),
        CheckResult(check="docstrings", skipped={k: "no examples in the docstring" for k in keys}),
    )
    return Outcome(
        base=None,
        head=HEAD,
        targets=tuple(targets),
        evidence=Evidence(targets=tuple(targets), results=results),
        fixes=fixes,
        notes=("whole repository",),
        seconds=seconds,
    )


def test_parse_accepts_k_of_n_and_names_bad_values() -> None:
    assert shard.parse("2/4") == shard.Shard(2, 4)
    assert str(shard.parse(" 1 / 1 ")) == "1/1"
    for bad in ("0/4", "5/4", "2/0"):
        with pytest.raises(UsageError, match="between 1 and N"):
            shard.parse(bad)
    for bad in ("two/4", "2-4", "", "1/2/3"):
        with pytest.raises(UsageError, match="expected K/N"):
            shard.parse(bad)


def test_every_key_lands_in_exactly_one_shard_and_shards_are_roughly_even() -> None:
    keys = [f"pkg/m{i // 10}.py::f{i}" for i in range(1000)]
    for count in (1, 2, 3, 7):
        parts = [
            shard.select(keys, shard.Shard(k, count), key=lambda s: s) for k in range(1, count + 1)
        ]
        assert sorted(k for part in parts for k in part) == sorted(keys)
        sizes = [len(p) for p in parts]
        assert max(sizes) - min(sizes) < 1000 / count * 0.3


def test_a_key_keeps_its_shard_when_other_functions_come_and_go() -> None:
    keys = [f"pkg/m.py::f{i}" for i in range(50)]
    before = {k: shard.shard_of(k, 4) for k in keys}
    more = keys + [f"pkg/new.py::g{i}" for i in range(50)]
    assert {k: shard.shard_of(k, 4) for k in more if k in before} == before
    assert shard.select([], shard.Shard(1, 2)) == []
    assert shard.select(keys, None, key=lambda s: s) == keys


def test_merged_shard_reports_equal_the_report_of_one_run() -> None:
    targets = [_target(f"f{i}", f"pkg/m{i % 3}.py") for i in range(12)]
    findings = [_finding(t) for t in targets[::4]]
    whole = _outcome(targets, findings, seconds=6.0)
    reports = []
    for k in (1, 2, 3):
        mine = shard.select(targets, shard.Shard(k, 3))
        keys = {t.key for t in mine}
        reports.append(
            jsonout.to_dict(
                _outcome(
                    mine,
                    [f for f in findings if f"{f.path}::{f.function}" in keys],
                    seconds=2.0 + k,
                )
            )
        )

    merged = shard.merge(reports)
    expected = jsonout.to_dict(whole)

    assert merged["findings"] == expected["findings"]
    assert merged["targets"] == expected["targets"]
    by_check = {c["check"]: c for c in merged["checks"]}
    assert by_check["properties"]["checked"] == sorted(t.key for t in targets)
    assert set(by_check["docstrings"]["skipped"]) == {t.key for t in targets}
    assert by_check["properties"]["stats"]["calls"] == 120  # counts add up
    assert by_check["properties"]["stats"]["command"] == "python -m pytest"  # the same text stays
    assert (
        merged["summary"]["findings"] == 3 and merged["summary"]["seconds"] == 5.0
    )  # slowest shard
    assert merged["notes"] == ["whole repository"]


def test_merge_drops_duplicates_and_keeps_fixes_once() -> None:
    t = _target("f")
    fix = Fix(
        path=t.path,
        function=t.qualname,
        verified=True,
        diff="-x\n+y\n",
        source="def f():\n    return 1",
        iterations=1,
    )
    one = jsonout.to_dict(_outcome([t], [_finding(t)], fixes=(fix,)))

    merged = shard.merge([one, one])

    assert (
        len(merged["findings"]) == 1 and len(merged["fixes"]) == 1 and len(merged["targets"]) == 1
    )
    assert Counter(c["check"] for c in merged["checks"]) == Counter(
        {"properties": 1, "docstrings": 1}
    )


def test_merge_refuses_reports_of_different_commits_and_nothing() -> None:
    t = _target("f")
    one = jsonout.to_dict(_outcome([t], []))
    other = dict(one, head="b" * 40)
    with pytest.raises(UsageError, match="different commits"):
        shard.merge([one, other])
    with pytest.raises(UsageError, match="at least one"):
        shard.merge([])
    with pytest.raises(UsageError, match="version"):
        shard.merge([dict(one, version=99)])


def test_merge_stats_adds_numbers_unites_lists_and_merges_mappings() -> None:
    a = {"n": 1, "x": 0.5, "hung": ["k1"], "per": {"k1": 2}, "cmd": "pytest", "ok": True}
    b = {
        "n": 2,
        "x": 0.25,
        "hung": ["k1", "k2"],
        "per": {"k2": 3},
        "cmd": "pytest",
        "ok": False,
        "new": 1,
    }
    assert shard.merge_stats(a, b) == {
        "n": 3,
        "x": 0.75,
        "hung": ["k1", "k2"],
        "per": {"k1": 2, "k2": 3},
        "cmd": "pytest",
        "ok": True,
        "new": 1,
    }
