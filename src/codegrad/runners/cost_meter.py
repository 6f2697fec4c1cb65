"""The meter: a run's deterministic cost, counted by a line tracer plus what the cost hooks charge."""

from __future__ import annotations

import math
import os
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# The runner's own modules (the tracer, the hooks, instrumented imports): their lines are never counted.
_RUNNER_MODULES = (
    "efficiency",
    "cost_rewrite",
    "cost_meter",
    "cost_hooks",
    "cost_import",
    "cost_series",
)


def _runner_files() -> frozenset[str]:
    files = [os.path.join(os.path.dirname(__file__), f"{name}.py") for name in _RUNNER_MODULES]
    return frozenset(
        path for file in files for path in (file, os.path.abspath(file), os.path.realpath(file))
    )


_THIS_FILES = _runner_files()


class OverBudget(BaseException):
    """The run's cost passed its cap: stop it (a BaseException so `except Exception` cannot swallow it)."""


@dataclass
class Meter:
    """Counts cost while a run is traced: one unit per executed line of Python (any file but the
    runner's own) plus the elements that sized built-in operations touch (charged by the helper)."""

    target: types.CodeType | None = None
    cap: float = math.inf
    box: list[int] = field(default_factory=lambda: [0])  # the units so far, shared with the tracer
    per_code: dict[types.CodeType, dict[int, int]] = field(default_factory=dict)  # line events
    charged: dict[tuple[str, int], int] = field(default_factory=dict)  # built-in work per line
    inclusive: dict[int, int] = field(default_factory=dict)  # target line -> units while on it
    outer: types.FrameType | None = None
    _current: int = 0
    _mark: int = 0
    active: bool = False

    @property
    def units(self) -> int:
        return self.box[0]

    @property
    def lines(self) -> int:
        return sum(sum(counts.values()) for counts in self.per_code.values())

    def exclusive(self) -> dict[tuple[str, int], int]:
        """Units per (file, line): its executed lines plus the built-in work charged to it."""
        out = dict(self.charged)
        for code, counts in self.per_code.items():
            for line, count in counts.items():
                key = (code.co_filename, line)
                out[key] = out.get(key, 0) + count
        return out

    def begin(self, cap: float) -> None:
        self.cap, self.box, self.per_code, self.charged = cap, [0], {}, {}
        self.inclusive, self._current, self._mark, self.outer = {}, 0, 0, None
        self.active = True

    def end(self) -> None:
        self.active = False
        self._move(0)
        self.outer = None

    def _move(self, line: int) -> None:
        if self._current:
            self.inclusive[self._current] = (
                self.inclusive.get(self._current, 0) + self.units - self._mark
            )
        self._current, self._mark = line, self.units

    def _over(self) -> None:
        self.active = False
        raise OverBudget()

    def charge(self, units: int, depth: int = 2) -> None:
        """Add the cost of built-in work, attributed to the calling line of repository code."""
        if not self.active or units <= 0:
            return
        frame = sys._getframe(depth)
        key = (frame.f_code.co_filename, frame.f_lineno)
        self.charged[key] = self.charged.get(key, 0) + units
        self.box[0] += units
        if self.box[0] > self.cap:
            self._over()

    def tracer(self) -> Callable[..., Any]:
        """The trace function for one run (after begin): lean per-line counting, plus the
        inclusive line attribution for the measured function's own frames."""
        per_code, box, cap, target, meter = self.per_code, self.box, self.cap, self.target, self

        def on_target(frame: types.FrameType, event: str, arg: Any) -> Any:
            if event == "line":
                line = frame.f_lineno
                counts = per_code[frame.f_code]
                counts[line] = counts.get(line, 0) + 1
                box[0] += 1
                if meter.outer is None or frame is meter.outer:
                    meter.outer = frame  # recursion: the outermost call's line carries the cost
                    meter._move(line)
                if box[0] > cap:
                    meter._over()
            return on_target

        def start(frame: types.FrameType, event: str, arg: Any) -> Any:
            code = frame.f_code
            if code.co_filename in _THIS_FILES:
                return None
            counts = per_code.get(code)
            if counts is None:
                counts = per_code[code] = {}
            if code is target:
                return on_target

            def local(frame: types.FrameType, event: str, arg: Any) -> Any:
                if event == "line":
                    line = frame.f_lineno
                    counts[line] = counts.get(line, 0) + 1
                    box[0] += 1
                    if box[0] > cap:
                        meter._over()
                return local

            return local

        return start
