"""Which changed lines a call executes: a line tracer limited to the target's own code objects."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def code_objects(fn: Any, file: Path) -> list[types.CodeType]:
    """The target's code and the code nested in it (comprehensions, lambdas, inner defs)."""
    seen: set[int] = set()
    obj = fn
    for _ in range(20):  # through decorators that keep __wrapped__
        code = getattr(obj, "__code__", None)
        if isinstance(code, types.CodeType) and _same(code.co_filename, file):
            break
        obj = getattr(obj, "__wrapped__", None)
        if obj is None:
            return []
    else:
        return []
    out: list[types.CodeType] = []
    stack = [code]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        out.append(current)
        stack += [c for c in current.co_consts if isinstance(c, types.CodeType)]
    return out


def _same(a: str, b: Path) -> bool:
    try:
        return Path(a).resolve() == b
    except (OSError, ValueError):
        return False


def executable_lines(codes: list[types.CodeType]) -> set[int]:
    lines: set[int] = set()
    for code in codes:
        lines.update(line for _, _, line in code.co_lines() if line is not None)
    return lines


class Reach:
    """Records the changed lines each traced call executes."""

    def __init__(self, codes: list[types.CodeType], changed: set[int]) -> None:
        self.codes = set(codes)
        self.lines = changed & executable_lines(codes)
        self.hit: set[int] = set()

    @property
    def measurable(self) -> bool:
        """Some changed line is executable (a change to comments or the docstring has none)."""
        return bool(self.lines)

    def _local(self, frame: types.FrameType, event: str, arg: Any) -> Callable[..., Any]:
        if event == "line" and frame.f_lineno in self.lines:
            self.hit.add(frame.f_lineno)
        return self._local

    def _global(self, frame: types.FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        if frame.f_code in self.codes:
            if frame.f_lineno in self.lines:
                self.hit.add(frame.f_lineno)
            return self._local
        return None

    @contextmanager
    def tracing(self) -> Iterator[set[int]]:
        """Trace the block; yields the set that fills with the changed lines it executed."""
        self.hit = set()
        if not self.lines:
            yield self.hit
            return
        previous = sys.gettrace()
        sys.settrace(self._global)
        try:
            yield self.hit
        finally:
            sys.settrace(previous)
