"""The plugin's JSON-lines log read back (pure): results, entered functions, hangs, what was running; and per-test limits from durations."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from codegrad.verify.checks import testselect as ts

HANG_TYPE = "codegrad_suite_watch.Hang"
FLOOR_SECONDS = 2.0  # the least a test is given on head once base's duration is known
SLOWDOWN = 5.0  # ... and how many times base's duration (a busy machine slows tests down)
SLACK_SECONDS = 1.0


@dataclass(frozen=True)
class HangRecord:
    """A test that ran past its limit: the limit, the main thread's stack then, whether it ignored the Hang."""

    limit: float
    frames: tuple[ts.TbEntry, ...] = ()  # outermost first, paths relative to the tree where inside
    stuck: bool = False  # it never came back to Python code: the process was ended


@dataclass(frozen=True)
class SuiteLog:
    """What one pytest run reported as it went (a killed run's log still tells what finished)."""

    cases: tuple[ts.CaseResult, ...] = ()  # finished tests and collection errors, in order
    started: tuple[tuple[str, str, int | None], ...] = ()  # (nodeid, path, line)
    entered: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # nodeid -> target keys
    hangs: Mapping[str, HangRecord] = field(default_factory=dict)
    unmarked: tuple[str, ...] = ()  # changed files imported before codegrad's hook

    @property
    def finished(self) -> dict[str, str]:
        return {c.nodeid: c.outcome for c in self.cases if not c.collection}

    @property
    def running(self) -> tuple[str, str, int | None] | None:
        """The last test that started and did not finish (a stuck test is finished: it failed)."""
        done = self.finished
        pending = [s for s in self.started if s[0] not in done]
        return pending[-1] if pending else None

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.finished.values() if o == outcome)


def _frames(raw: object, root: str | None) -> tuple[ts.TbEntry, ...]:
    frames = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, list) and len(item) == 3 and isinstance(item[1], int):
            frames.append(ts.TbEntry(ts.relative_path(str(item[0]), root), item[1], str(item[2])))
    return tuple(frames)


def _stuck_text(frames: Sequence[ts.TbEntry]) -> str:
    """A stuck test's stack as a native traceback, so the usual parser reads its frames."""
    return "\n".join(f'  File "{f.path}", line {f.line}, in {f.function}' for f in frames)


def _start(record: Mapping[str, object]) -> tuple[str, str, int | None]:
    line = record.get("line")
    return (
        str(record["nodeid"]),
        str(record.get("path", "")),
        line if isinstance(line, int) else None,
    )


def _end_case(
    record: Mapping[str, object], where: tuple[str, str, int | None] | None
) -> ts.CaseResult:
    nodeid = str(record["nodeid"])
    seconds = record.get("seconds")
    return ts.CaseResult(
        nodeid=nodeid,
        path=ts.nodeid_path(nodeid),
        name=ts.nodeid_name(nodeid),
        line=where[2] if where else None,
        outcome=str(record.get("outcome") or "passed"),
        message=str(record.get("message") or ""),
        text=str(record.get("text") or ""),
        seconds=float(seconds) if isinstance(seconds, (int, float)) else 0.0,
        hung=bool(record.get("hung")),
    )


def _collect_case(record: Mapping[str, object]) -> ts.CaseResult:
    path = str(record["nodeid"])
    return ts.CaseResult(
        path, ts.nodeid_path(path), "", None, "error", "collection failure",
        str(record.get("text") or ""), collection=True,
    )  # fmt: skip


def _records(text: str) -> Iterable[dict[str, object]]:
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line: the process was killed mid-write
        if isinstance(record, dict) and isinstance(record.get("nodeid", ""), str):
            yield record


def parse_log(text: str, root: str | None = None) -> SuiteLog:
    """Read the plugin's log; paths in stacks become relative to root."""
    started: dict[str, tuple[str, str, int | None]] = {}
    cases: dict[str, ts.CaseResult] = {}
    entered: dict[str, tuple[str, ...]] = {}
    hangs: dict[str, HangRecord] = {}
    unmarked: tuple[str, ...] = ()
    for record in _records(text):
        event, nodeid = record.get("event"), str(record.get("nodeid", ""))
        if event == "start" and nodeid:
            started[nodeid] = _start(record)
        elif event == "end" and nodeid:
            cases[nodeid] = _end_case(record, started.get(nodeid))
            keys = record.get("entered")
            if isinstance(keys, list):
                entered[nodeid] = tuple(str(k) for k in keys)
        elif event == "collect-error" and nodeid:
            cases.setdefault(nodeid, _collect_case(record))
        elif event == "hang" and nodeid:
            limit = record.get("limit")
            hangs[nodeid] = HangRecord(
                float(limit) if isinstance(limit, (int, float)) else 0.0,
                _frames(record.get("frames"), root),
            )
        elif event == "stuck" and nodeid in hangs:
            hang = replace(hangs[nodeid], stuck=True)
            hangs[nodeid] = hang
            message = (
                f"{HANG_TYPE}: the test did not finish within {hang.limit:g}s and did not stop"
            )
            where = started.get(nodeid)
            cases[nodeid] = ts.CaseResult(
                nodeid, ts.nodeid_path(nodeid), ts.nodeid_name(nodeid), where[2] if where else None,
                "failed", message, _stuck_text(hang.frames), hang.limit, hung=True,
            )  # fmt: skip
        elif event == "unmarked":
            files = record.get("files")
            unmarked = tuple(str(f) for f in files) if isinstance(files, list) else ()
    return SuiteLog(tuple(cases.values()), tuple(started.values()), entered, hangs, unmarked)


def merge(first: SuiteLog, later: SuiteLog) -> SuiteLog:
    """Two runs of one suite as one: a test the later run ran again takes the later result."""
    again = {c.nodeid for c in later.cases}
    cases = [c for c in first.cases if c.nodeid not in again] + list(later.cases)
    return SuiteLog(
        tuple(cases),
        first.started + later.started,
        {**first.entered, **later.entered},
        {**{k: v for k, v in first.hangs.items() if k not in again}, **later.hangs},
        tuple(dict.fromkeys(first.unmarked + later.unmarked)),
    )


def limit_after(seconds: float, cap: float) -> float:
    """The limit a test gets on head when base ran it in `seconds`."""
    return min(cap, max(FLOOR_SECONDS, SLOWDOWN * seconds + SLACK_SECONDS))


def first_limit(suite_timeout: float) -> float:
    """The limit every test gets before base's durations are known: a tenth of the suite's."""
    return min(60.0, max(FLOOR_SECONDS, suite_timeout / 10))


def limits_from(base: Iterable[ts.CaseResult], cap: float) -> dict[str, float]:
    """Per-test limits for head from base's durations (tests base did not finish are left out)."""
    return {c.nodeid: limit_after(c.seconds, cap) for c in base if not c.collection and not c.hung}
