"""Recorded calls: read the recorder's JSON lines, bound them, and take out the plain values (pure).

The file is written by the project's own process, so it is hostile: only JSON is parsed, lines that
do not have the expected shape are dropped, and sizes are bounded. Objects inside a recording stay
encoded here; only plain data (numbers, strings, containers) is turned into values (valuecodec.plain).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from codegrad.funcsource import parse_def
from codegrad.model import Target
from codegrad.runners import valuecodec

MAX_CALLS = 64  # per target and side
MAX_LINE = 70_000  # characters per JSON line


@dataclass(frozen=True)
class Call:
    """One recorded call: its encoded arguments, the test that made it, and how it ended there."""

    key: str
    call: Mapping[str, Any]
    test: str
    side: str  # "base" | "head": which version's test suite made the call
    raised: str | None  # the exception type the call raised in the test, None if it returned

    def to_json(self) -> dict[str, Any]:
        return {
            "call": self.call,
            "test": self.test,
            "side": self.side,
            "raised": self.raised,
        }

    @property
    def text(self) -> str:
        return json.dumps(self.call, sort_keys=True)


@dataclass
class Recording:
    """Everything recorded for a set of targets in one or more runs."""

    calls: dict[str, list[Call]] = field(default_factory=dict)
    summary: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> "side" -> summary

    def for_key(self, key: str) -> list[Call]:
        return self.calls.get(key, [])


def _shape_ok(record: Any, keys: set[str]) -> bool:
    if not isinstance(record, dict) or record.get("key") not in keys:
        return False
    call = record.get("call")
    return (
        isinstance(call, dict)
        and isinstance(call.get("args", []), list)
        and isinstance(call.get("kwargs", []), list)
        and all(
            isinstance(kv, list) and len(kv) == 2 and isinstance(kv[0], str)
            for kv in call.get("kwargs", [])
        )
        and isinstance(record.get("test", ""), str)
        and (record.get("raised") is None or isinstance(record.get("raised"), str))
    )


def parse(text: str, side: str, keys: Iterable[str], into: Recording | None = None) -> Recording:
    """Add one run's JSON lines (recorded on `side`) to a recording; malformed lines are skipped."""
    recording = into if into is not None else Recording()
    wanted = set(keys)
    seen = {c.text for calls in recording.calls.values() for c in calls if c.side == side}
    for line in text.splitlines():
        if not line.strip() or len(line) > MAX_LINE:
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            continue
        if isinstance(record, dict) and isinstance(record.get("summary"), dict):
            _add_summary(recording, record["summary"], side, wanted)
            continue
        if not _shape_ok(record, wanted):
            continue
        call = Call(
            key=str(record["key"]),
            call={
                "args": record["call"].get("args", []),
                "kwargs": record["call"].get("kwargs", []),
            },
            test=str(record.get("test", ""))[:500],
            side=side,
            raised=record.get("raised"),
        )
        bucket = recording.calls.setdefault(call.key, [])
        if call.text in seen or sum(1 for c in bucket if c.side == side) >= MAX_CALLS:
            continue
        seen.add(call.text)
        bucket.append(call)
    return recording


def _add_summary(recording: Recording, summary: dict[str, Any], side: str, keys: set[str]) -> None:
    for key, data in summary.items():
        if key in keys and isinstance(data, dict):
            recording.summary.setdefault(key, {})[side] = {
                "installed": bool(data.get("installed")),
                "seen": int(data.get("seen") or 0) if isinstance(data.get("seen"), int) else 0,
                "recorded": int(data.get("recorded") or 0)
                if isinstance(data.get("recorded"), int)
                else 0,
                "why_not": str(data["why_not"])[:200] if data.get("why_not") else None,
                "unrecordable": {
                    str(k)[:120]: int(v)
                    for k, v in list((data.get("unrecordable") or {}).items())[:3]
                    if isinstance(v, int)
                },
            }


def merged(calls: Sequence[Call]) -> list[Call]:
    """Calls with the same arguments once (base's first: its tests may be gone from head)."""
    out: dict[str, Call] = {}
    for call in sorted(calls, key=lambda c: c.side != "base"):
        out.setdefault(call.text, call)
    return list(out.values())


# ---------------------------------------------------------------- plain values for the planner


def bound_values(call: Call, names: Sequence[str], star: str | None) -> dict[str, Any]:
    """Per parameter name, the call's plain value (objects and undecodable values left out).

    names: the positional parameters in order (self included for methods); star: *args' name.
    """
    out: dict[str, Any] = {}
    args = list(call.call.get("args", []))
    for index, encoded in enumerate(args):
        if index < len(names):
            name = names[index]
        elif star is not None:
            continue
        else:
            break
        try:
            out[name] = valuecodec.plain(encoded)
        except (valuecodec.NotPlain, ValueError, TypeError, RecursionError):
            continue
    for name, encoded in call.call.get("kwargs", []):
        try:
            out[str(name)] = valuecodec.plain(encoded)
        except (valuecodec.NotPlain, ValueError, TypeError, RecursionError):
            continue
    return out


def is_plain(encoded: Any) -> bool:
    try:
        valuecodec.plain(encoded)
    except (valuecodec.NotPlain, ValueError, TypeError, RecursionError):
        return False
    return True


def encoded_values(call: Call, names: Sequence[str]) -> dict[str, Any]:
    """Per parameter name, the call's encoded argument (for values only the sandbox can rebuild)."""
    out: dict[str, Any] = {}
    for index, encoded in enumerate(call.call.get("args", [])):
        if index < len(names):
            out[names[index]] = encoded
    for name, encoded in call.call.get("kwargs", []):
        out[str(name)] = encoded
    return out


def values_by_name(target: Target, calls: Sequence[Call]) -> dict[str, list[Any]]:
    """Per parameter of target (self and cls left out), the plain values its recorded calls passed;
    calls that raised are left out (a test that checks a rejection passes a value outside the domain:
    `assertRaises(TypeError): f(5.0)`)."""
    node = parse_def(target.source)
    if node is None:
        return {}
    a = node.args
    names = [p.arg for p in (*a.posonlyargs, *a.args)]
    if target.kind == "classmethod":
        names = names[1:]
    out: dict[str, list[Any]] = {}
    for call in calls:
        if call.raised is not None:
            continue
        for name, value in bound_values(call, names, a.vararg.arg if a.vararg else None).items():
            if target.kind == "method" and name == names[0]:
                continue
            bucket = out.setdefault(name, [])
            if value not in bucket:
                bucket.append(value)
    return out
