"""The plugin's log read back (pure): results, entered functions, hangs, a killed run; limits from durations."""

from __future__ import annotations

import json

from codegrad.verify.checks import suite_log
from codegrad.verify.checks import testselect as ts


def lines(*records: dict[str, object]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


LOG = lines(
    {"event": "collect-error", "nodeid": "tests/test_bad.py", "text": "E   SyntaxError: x"},
    {"event": "start", "nodeid": "t.py::a", "path": "t.py", "line": 3},
    {"event": "end", "nodeid": "t.py::a", "outcome": "failed", "seconds": 0.5,
     "message": "assert 1 == 2", "text": "t.py:4: in a\n    assert 1 == 2", "entered": ["m.py::f"]},
    {"event": "start", "nodeid": "t.py::b", "path": "t.py", "line": 7},
    {"event": "hang", "nodeid": "t.py::b", "limit": 2.0,
     "frames": [["/root/t.py", 8, "b"], ["/root/m.py", 2, "f"]]},
    {"event": "stuck", "nodeid": "t.py::b"},
    {"event": "start", "nodeid": "t.py::c", "path": "t.py", "line": 11},
) + '{"event": "end", "nodeid": "t.py::c", "outc'  # fmt: skip


def test_parse_log_reads_results_entries_hangs_and_a_torn_end() -> None:
    log = suite_log.parse_log(LOG, "/root")
    by_id = {c.nodeid: c for c in log.cases}
    assert by_id["tests/test_bad.py"].collection and by_id["tests/test_bad.py"].outcome == "error"
    failed = by_id["t.py::a"]
    assert (failed.outcome, failed.message, failed.line, failed.seconds) == (
        "failed", "assert 1 == 2", 3, 0.5,
    )  # fmt: skip
    assert log.entered == {"t.py::a": ("m.py::f",)}
    stuck = by_id["t.py::b"]
    assert stuck.hung and stuck.failed and stuck.message.startswith(suite_log.HANG_TYPE)
    assert [e.path for e in ts.parse_traceback(stuck.text)] == ["t.py", "m.py"]
    assert log.hangs["t.py::b"].stuck
    assert log.running == ("t.py::c", "t.py", 11)
    assert log.count("failed") == 2
    assert suite_log.parse_log("").running is None


def test_merge_keeps_the_later_result_of_a_test_run_twice() -> None:
    first = suite_log.parse_log(LOG, "/root")
    later = suite_log.parse_log(
        lines(
            {"event": "start", "nodeid": "t.py::b", "path": "t.py", "line": 7},
            {"event": "end", "nodeid": "t.py::b", "outcome": "passed", "seconds": 0.1},
        )
    )
    merged = suite_log.merge(first, later)
    assert merged.finished["t.py::b"] == "passed"
    assert "t.py::b" not in merged.hangs
    assert merged.finished["t.py::a"] == "failed"


def test_limits_grow_with_base_durations_within_a_floor_and_a_cap() -> None:
    assert suite_log.first_limit(300) == 30.0
    assert suite_log.first_limit(5) == suite_log.FLOOR_SECONDS
    assert suite_log.first_limit(3600) == 60.0
    assert suite_log.limit_after(0.01, 300) == suite_log.FLOOR_SECONDS
    assert suite_log.limit_after(4.0, 300) == 21.0
    assert suite_log.limit_after(100.0, 300) == 300
    base = [
        ts.CaseResult("t.py::a", "t.py", "a", 1, "passed", seconds=1.0),
        ts.CaseResult("t.py::b", "t.py", "b", 2, "failed", seconds=9.0, hung=True),
    ]
    assert suite_log.limits_from(base, 300) == {"t.py::a": 6.0}
