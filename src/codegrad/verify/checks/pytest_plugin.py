"""What codegrad adds to the project's pytest process: the plugin (results, entries into changed functions, per-test limits, progress, hang dump)."""

from __future__ import annotations

from pathlib import Path

PLUGIN_MODULE = "codegrad_project_tests_plugin"
WATCH_MODULE = "codegrad_suite_watch"  # codegrad/runners/suite_watch.py, copied beside the plugin


def watch_source() -> str:
    """The source of the watch module the plugin imports (stdlib only)."""
    from codegrad.runners import suite_watch

    return Path(suite_watch.__file__).read_text(encoding="utf-8")


# Loaded into the project's pytest process (from the scratch dir, never the user's tree): logs each
# test as it starts and ends (outcome, seconds, failure text, the changed functions it entered) line by
# line, so a killed run still tells what finished; collection errors too; applies the per-test limits,
# the skip list and stop-on-hang; asks faulthandler for a stack dump just before the suite's kill.
PLUGIN_SOURCE = '''\
"""codegrad's pytest plugin for the project-tests check: results, entered functions, limits, hang dump."""

import faulthandler
import json
import os
import threading
import time

import pytest

import codegrad_suite_watch

_STATE = {"log": None, "dump": None, "watch": None, "reports": {}}
_LOCK = threading.Lock()


def _emit(record):
    log = _STATE["log"]
    if log is not None:
        with _LOCK:
            log.write(json.dumps(record) + "\\n")
            log.flush()


def _options():
    """Where to log and when to dump: a file beside this module (nothing in the environment)."""
    try:
        with open(os.path.splitext(__file__)[0] + ".json", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


_OPTIONS = _options()
_STATE["watch"] = codegrad_suite_watch.Watch(_OPTIONS, _emit)  # at import: before the project's modules


def pytest_configure(config):
    options = _OPTIONS
    path = options.get("progress")
    if path:
        _STATE["log"] = open(path, "a", encoding="utf-8")
    dump, at = options.get("dump"), options.get("at")
    if dump and at:
        _STATE["dump"] = open(dump, "w", encoding="utf-8")
        faulthandler.dump_traceback_later(max(0.1, float(at) - time.time()), file=_STATE["dump"])
    unmarked = _STATE["watch"].unmarked
    if unmarked:
        _emit({"event": "unmarked", "files": unmarked})


def pytest_unconfigure(config):
    faulthandler.cancel_dump_traceback_later()


def pytest_collection_modifyitems(session, config, items):
    skip = _STATE["watch"].skip
    if skip:
        gone = [item for item in items if item.nodeid in skip]
        if gone:
            config.hook.pytest_deselected(items=gone)
            items[:] = [item for item in items if item.nodeid not in skip]


def pytest_collectreport(report):
    if report.failed:
        _emit({"event": "collect-error", "nodeid": report.nodeid, "text": report.longreprtext})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    line = item.location[1]
    watch = _STATE["watch"]
    _emit({"event": "start", "nodeid": item.nodeid, "path": item.location[0],
           "line": None if line is None else line + 1})
    watch.begin(item.nodeid)
    yield
    entered, hung = watch.end(item.nodeid)
    record = {"event": "end", "nodeid": item.nodeid, "outcome": "passed", "seconds": 0.0}
    record.update(_STATE["reports"].pop(item.nodeid, {}))
    if entered:
        record["entered"] = entered
    if hung:
        record["hung"] = True
        if watch.stop_on_hang and entered:
            item.session.shouldstop = "codegrad: a test that runs a changed function hung"
    _emit(record)


def _crash(report):
    crash = getattr(report.longrepr, "reprcrash", None)
    message = crash.message if crash is not None else str(report.longrepr)
    if report.when != "call":
        return 'failed on %s with "%s"' % (report.when, message)
    return message


def pytest_runtest_logreport(report):
    seen = _STATE["reports"].setdefault(report.nodeid, {"seconds": 0.0})
    seen["seconds"] += getattr(report, "duration", 0.0) or 0.0
    if report.failed and seen.get("outcome") not in ("failed", "error"):
        seen["outcome"] = "failed" if report.when == "call" else "error"
        seen["message"] = _crash(report)
        seen["text"] = report.longreprtext
    elif report.skipped and "outcome" not in seen:
        seen["outcome"] = "skipped"
'''
