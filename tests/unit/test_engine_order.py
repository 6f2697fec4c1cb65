"""The engine: background work starts first, checks that need nothing from others run next, results keep their order."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from codegrad.model import CheckResult, Target
from codegrad.progress import Silent
from codegrad.verify import engine
from codegrad.verify.checks.base import Check, CheckContext


class Fake:
    def __init__(self, name: str, log: list[str], background: bool = False) -> None:
        self.name, self.log = name, log
        if background:
            self.start = self._start

    def _start(self, targets: Sequence[Target], ctx: CheckContext) -> None:
        self.log.append(f"start {self.name}")

    def run(self, targets: Sequence[Target], ctx: CheckContext) -> CheckResult:
        self.log.append(f"run {self.name}")
        return CheckResult(self.name)


def context(tmp_path: Path) -> CheckContext:
    none: Any = None
    return CheckContext(
        settings=none, workspace=none, scratch=tmp_path, deadline=time.monotonic() + 60
    )


def test_background_work_starts_first_and_independent_checks_run_before_the_rest(
    tmp_path: Path,
) -> None:
    log: list[str] = []
    names = ["recorded", "properties", "efficiency", "project-tests", "docstrings"]
    checks = [cast(Check, Fake(n, log, background=n == "recorded")) for n in names]
    results, broken = engine.run_checks(checks, [], context(tmp_path), Silent())
    assert log == [
        "start recorded",
        "run efficiency",
        "run docstrings",
        "run recorded",
        "run properties",
        "run project-tests",
    ]
    assert [r.check for r in results] == names and broken == []
