"""codegrad's in-process watch (runners/suite_watch.py) in a real Python process: marked changed
functions record their entries, line numbers stay, the watchdog ends a loop and a blocked test."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from codegrad.runners import suite_watch
from codegrad.verify.checks.pytest_plugin import WATCH_MODULE, watch_source

MODULE = '''\
"""A module."""
import functools


def plain(x):
    return x + 1


@functools.lru_cache
def cached(x):
    """Doc."""
    return outer(x)()


def outer(x):
    def inner():
        return 1 / x
    return inner


async def later():
    return 2
'''
LINES = {"plain": 5, "cached": 10, "outer": 15, "outer.inner": 16, "later": 21}


def run(tmp_path: Path, script: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pkg").mkdir(exist_ok=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text(MODULE)
    (tmp_path / f"{WATCH_MODULE}.py").write_text(watch_source())  # as the plugin's folder has it
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def test_marked_code_keeps_lines_and_records_entries() -> None:
    seen: set[int] = set()
    code = suite_watch.marked_code(MODULE, "/x/pkg/mod.py", {5: 0, 10: 1, 16: 2, 21: 3})
    space = {"__name__": "mod", "__builtins__": {**__builtins__, suite_watch.HOOK: seen.add}}  # type: ignore[dict-item]
    exec(code, space)
    space["cached"](2)
    assert seen == {1, 2}  # cached and outer.inner; plain and later never ran
    assert space["cached"].__wrapped__.__doc__ == "Doc."  # the docstring stays first
    try:
        space["cached"](0)
    except ZeroDivisionError as exc:
        tb = exc.__traceback__
        while tb.tb_next is not None:
            tb = tb.tb_next
        assert tb.tb_lineno == 17  # `return 1 / x`, as in the file


WATCH = """
import json, sys, time
import codegrad_suite_watch as w
events = []
watch = w.Watch({"functions": [
    {"key": "pkg/mod.py::plain", "file": "pkg/mod.py", "line": 5},
    {"key": "pkg/mod.py::outer.inner", "file": "pkg/mod.py", "line": 16},
], "limits": {"default": 0.5, "tests": {"slow": 5.0}}}, events.append)
import pkg.mod
watch.begin("t1")
pkg.mod.plain(1)
pkg.mod.cached(3)
print(json.dumps(watch.end("t1")))
watch.begin("loop")
try:
    while True:
        pass
except w.Hang as exc:
    print(json.dumps([str(exc), watch.end("loop")]))
watch.begin("slow")
time.sleep(1)
print(json.dumps(watch.end("slow")))
print(json.dumps([e["event"] for e in events]), json.dumps(events[0]["frames"][-1]))
"""


def test_the_watch_records_entries_and_the_watchdog_ends_a_loop(tmp_path: Path) -> None:
    done = run(tmp_path, WATCH)
    assert done.returncode == 0, done.stderr
    first, loop, slow, events = done.stdout.strip().splitlines()
    assert json.loads(first) == [["pkg/mod.py::plain", "pkg/mod.py::outer.inner"], False]
    message, (entered, hung) = json.loads(loop)
    assert message == "the test did not finish within 0.5s (codegrad's per-test limit)"
    assert (entered, hung) == ([], True)
    assert json.loads(slow) == [[], False]  # its own, longer limit
    kinds, frame = events.split(" ", 1)
    assert json.loads(kinds) == ["hang"]
    assert json.loads(frame)[2] == "<module>"


STUCK = """
import threading, time
import codegrad_suite_watch as w
dog = w.Watchdog(lambda e: print(e["event"], e["nodeid"], flush=True), grace=0.3)
dog.arm("blocked", 0.3)
threading.Event().wait(30)  # blocked in C: the Hang cannot land
print("never")
"""


def test_a_test_blocked_outside_python_ends_the_process(tmp_path: Path) -> None:
    done = run(tmp_path, STUCK, timeout=20)
    assert done.returncode == suite_watch.EXIT_STUCK
    assert done.stdout.split() == ["hang", "blocked", "stuck", "blocked"]
