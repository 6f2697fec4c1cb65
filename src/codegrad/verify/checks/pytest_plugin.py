"""What codegrad adds to the project's pytest process: the plugin (per-test coverage contexts, progress, hang dump) and the coverage rc."""

from __future__ import annotations

PLUGIN_MODULE = "codegrad_project_tests_plugin"

# Loaded into the project's pytest process (from the scratch dir, never the user's tree):
# switches coverage.py's dynamic context to each test's node id, logs progress line by line so a
# killed run still tells what finished, and asks faulthandler for a stack dump just before the kill.
PLUGIN_SOURCE = '''\
"""codegrad's pytest plugin for the project-tests check: per-test coverage contexts, progress, hang dump."""

import faulthandler
import json
import os
import time

import pytest

try:
    import coverage

    _COV = coverage.Coverage.current()
except Exception:
    _COV = None

_STATE = {"log": None, "dump": None, "outcomes": {}}


def _emit(record):
    log = _STATE["log"]
    if log is not None:
        log.write(json.dumps(record) + "\\n")
        log.flush()


def _switch(context):
    if _COV is not None:
        try:
            _COV.switch_context(context)
        except Exception:
            pass


def _options():
    """Where to log and when to dump: a file beside this module (nothing in the environment)."""
    try:
        with open(os.path.splitext(__file__)[0] + ".json", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def pytest_configure(config):
    options = _options()
    path = options.get("progress")
    if path:
        _STATE["log"] = open(path, "a", encoding="utf-8")
    dump, at = options.get("dump"), options.get("at")
    if dump and at:
        _STATE["dump"] = open(dump, "w", encoding="utf-8")
        faulthandler.dump_traceback_later(max(0.1, float(at) - time.time()), file=_STATE["dump"])


def pytest_unconfigure(config):
    faulthandler.cancel_dump_traceback_later()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    line = item.location[1]
    _emit({"event": "start", "nodeid": item.nodeid, "path": item.location[0],
           "line": None if line is None else line + 1})
    _switch(item.nodeid)
    yield
    _switch("")
    outcome = _STATE["outcomes"].pop(item.nodeid, "passed")
    _emit({"event": "end", "nodeid": item.nodeid, "outcome": outcome})


def pytest_runtest_logreport(report):
    outcomes = _STATE["outcomes"]
    if report.failed:
        outcomes[report.nodeid] = "failed" if report.when == "call" else "error"
    elif report.skipped and report.nodeid not in outcomes:
        outcomes[report.nodeid] = "skipped"
'''

COVERAGE_RC = """\
[run]
branch = False
relative_files = True
parallel = False
include =
{include}
disable_warnings = no-data-collected, module-not-imported, module-not-measured, couldnt-parse
"""
