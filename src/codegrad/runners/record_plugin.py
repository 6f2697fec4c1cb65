"""pytest plugin (`-p codegrad.runners.record_plugin --codegrad-record SPEC`): record the changed
functions' calls during the run.

Reads the targets and the output file from SPEC (nothing in the environment), appends calls as JSON
lines, and stops the session early once every target has all the calls it may keep (when asked).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codegrad.runners.recorder import Recorder

_STATE: dict[str, Any] = {"recorder": None, "stop": False}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--codegrad-record", default=None, help=argparse.SUPPRESS)


def pytest_configure(config: pytest.Config) -> None:
    spec_path = config.getoption("--codegrad-record", default=None)
    if not spec_path:
        return
    spec = json.loads(Path(str(spec_path)).read_text(encoding="utf-8"))
    _STATE["recorder"] = Recorder(spec, Path(spec["out"]))
    _STATE["stop"] = bool(spec.get("stop_when_full"))


def pytest_collectstart(collector: pytest.Collector) -> None:
    """Calls made while later test modules are collected (e.g. building parameters) count too."""
    recorder = _STATE["recorder"]
    if recorder is not None:
        recorder.install_pending()
        recorder.test = "(collection)"


def pytest_collection_finish(session: pytest.Session) -> None:
    recorder = _STATE["recorder"]
    if recorder is not None:
        recorder.install_pending()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    recorder = _STATE["recorder"]
    if recorder is not None:
        recorder.install_pending()
        recorder.test = item.nodeid
    yield
    if recorder is not None and _STATE["stop"] and recorder.full():
        item.session.shouldstop = "codegrad recorded all the calls it keeps"


def pytest_unconfigure(config: pytest.Config) -> None:
    recorder = _STATE["recorder"]
    if recorder is not None:
        _STATE["recorder"] = None
        recorder.close()
