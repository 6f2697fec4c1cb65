"""Sharding (pure): a deterministic `K/N` split of targets, and merging shard reports into one."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from codegrad.errors import UsageError
from codegrad.model import CheckResult, Evidence, Finding, Outcome
from codegrad.render import jsonout

T = TypeVar("T")
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (1-based, as `--shard 2/4` writes it)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 1 <= self.index <= self.count:
            raise UsageError(
                f"--shard {self.index}/{self.count}: K must be between 1 and N (e.g. 1/4 .. 4/4)"
            )

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, key: str) -> bool:
        return shard_of(key, self.count) == self.index


def parse(text: str) -> Shard:
    """`"2/4"` -> Shard(2, 4); UsageError naming the bad value otherwise."""
    match = _SPEC.match(text or "")
    if match is None:
        raise UsageError(f"--shard {text!r}: expected K/N with whole numbers, e.g. --shard 1/4")
    return Shard(int(match.group(1)), int(match.group(2)))


def shard_of(key: str, count: int) -> int:
    """The 1-based shard a key belongs to: a hash of the key, so adding or removing other
    functions never moves it, and every runner computes the same answer."""
    if count <= 1:
        return 1
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def select(items: Iterable[T], shard: Shard | None, key: Any = None) -> list[T]:
    """The items this shard owns (all of them without a shard); `key` maps an item to its key
    (default: the item's `.key`)."""
    pick = key or (lambda item: item.key)
    return [item for item in items if shard is None or shard.owns(pick(item))]


# ---------------------------------------------------------------- merging reports


def merge(reports: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One JSON report (the same schema) from shard reports of the same commit: targets, checks,
    findings and fixes united; counts in check stats added; the run time is the slowest shard's."""
    if not reports:
        raise UsageError("codegrad merge needs at least one JSON report")
    outcomes = [jsonout.from_dict(r) for r in reports]
    heads = sorted({o.head for o in outcomes})
    if len(heads) > 1:
        raise UsageError(
            f"the reports are for different commits ({', '.join(h[:12] for h in heads)}); "
            "merge only the shards of one run"
        )
    return jsonout.to_dict(merge_outcomes(outcomes))


def merge_outcomes(outcomes: Sequence[Outcome]) -> Outcome:
    """The union of several outcomes of the same commit (see `merge`)."""
    targets = _unique((t for o in outcomes for t in o.targets), lambda t: t.key)
    results = _merge_results([r for o in outcomes for r in o.evidence.results])
    fixes = _unique((x for o in outcomes for x in o.fixes), lambda x: (x.path, x.function))
    notes = list(dict.fromkeys(n for o in outcomes for n in o.notes))
    bases = {o.base for o in outcomes}
    return Outcome(
        base=bases.pop() if len(bases) == 1 else None,
        head=outcomes[0].head,
        targets=tuple(sorted(targets, key=lambda t: (t.path, t.lineno, t.qualname))),
        evidence=Evidence(targets=tuple(targets), results=tuple(results)),
        fixes=tuple(fixes),
        notes=tuple(notes),
        seconds=max(o.seconds for o in outcomes),
    )


def _unique(items: Iterable[T], key: Any) -> list[T]:
    seen: dict[Any, T] = {}
    for item in items:
        seen.setdefault(key(item), item)
    return list(seen.values())


def _finding_identity(f: Finding) -> tuple[str, int, str]:
    return (f.fingerprint, f.line, f.message)


def _settled(findings: Sequence[Finding]) -> list[Finding]:
    """Without a failing test's findings on the test itself (`blame: test`: its shard held none of the
    functions its failing line calls) when another shard blamed a function for the same test."""
    blamed = {
        (f.check, f.input) for f in findings if f.details.get("blame") in ("changed", "failed-in")
    }
    return [
        f
        for f in findings
        if not (f.details.get("blame") == "test" and (f.check, f.input) in blamed)
    ]


def _merge_results(results: Sequence[CheckResult]) -> list[CheckResult]:
    grouped: dict[str, list[CheckResult]] = {}
    for result in results:
        grouped.setdefault(result.check, []).append(result)
    merged = []
    for name, group in sorted(grouped.items()):
        findings = _settled(_unique((f for r in group for f in r.findings), _finding_identity))
        checked = sorted({k for r in group for k in r.checked})
        skipped = {k: why for r in group for k, why in r.skipped.items() if k not in checked}
        stats: dict[str, Any] = {}
        for r in group:
            stats = merge_stats(stats, r.stats)
        merged.append(
            CheckResult(
                check=name,
                findings=tuple(findings),
                checked=tuple(checked),
                skipped=dict(sorted(skipped.items())),
                seconds=sum(r.seconds for r in group),
                stats=stats,
            )
        )
    return merged


def merge_stats(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """Numbers add up, lists are united in order, mappings merge key by key; for anything else
    the first value stays (e.g. the test command, the same in every shard)."""
    out = dict(a)
    for key, value in b.items():
        if key not in out:
            out[key] = value
            continue
        mine = out[key]
        if _number(mine) and _number(value):
            out[key] = mine + value
        elif isinstance(mine, list) and isinstance(value, list):
            out[key] = mine + [v for v in value if v not in mine]
        elif isinstance(mine, Mapping) and isinstance(value, Mapping):
            out[key] = merge_stats(mine, value)
    return out


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
