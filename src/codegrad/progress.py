"""Progress for long runs: one rewritten line on a terminal, plain lines otherwise, always on stderr."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

from codegrad.redaction import redact

DEFAULT_COLUMNS = 100  # when the width cannot be read (not a terminal, no COLUMNS)


def terminal_columns(stream: TextIO) -> int:
    """The width of the terminal behind stream, else $COLUMNS, else DEFAULT_COLUMNS."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or DEFAULT_COLUMNS
    except (AttributeError, ValueError, OSError):
        pass
    try:
        return max(1, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        return DEFAULT_COLUMNS


def fit_line(text: str, columns: int) -> str:
    """text cut to one line of the terminal: one column short, so the cursor never wraps."""
    width = max(1, columns - 1)
    if len(text) <= width:
        return text
    return text[: width - 1] + "…" if width > 1 else text[:width]


class Progress:
    """Reports steps of a run; silent when disabled."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        tty: bool | None = None,
        columns: Callable[[], int] | None = None,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = self.stream.isatty() if tty is None else tty
        self.started = time.monotonic()
        self._columns = columns or (lambda: terminal_columns(self.stream))
        self._open = 0  # characters of the rewritten line now on screen

    def step(self, message: str) -> None:
        if not self.enabled:
            return
        text = redact(f"[{time.monotonic() - self.started:6.1f}s] {message}")
        if self.tty:
            columns = self._columns()
            line = fit_line(" ".join(text.split()), columns)
            self.stream.write("\r" + line.ljust(min(self._open, columns - 1)))
            self._open = len(line)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self, message: str | None = None) -> None:
        if not self.enabled:
            return
        if self._open:
            self.stream.write("\r" + " " * self._open + "\r")
            self._open = 0
        if message:
            self.stream.write(redact(message) + "\n")
        self.stream.flush()


class Silent(Progress):
    """A progress reporter that prints nothing (library use, tests)."""

    def __init__(self) -> None:
        super().__init__(enabled=False)
