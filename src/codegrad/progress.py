"""Progress for long runs: one rewritten line on a terminal, plain lines otherwise, always on stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from codegrad.redaction import redact


class Progress:
    """Reports steps of a run; silent when disabled."""

    def __init__(
        self, *, enabled: bool = True, stream: TextIO | None = None, tty: bool | None = None
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = self.stream.isatty() if tty is None else tty
        self.started = time.monotonic()
        self._open_line = False

    def step(self, message: str) -> None:
        if not self.enabled:
            return
        text = redact(f"[{time.monotonic() - self.started:6.1f}s] {message}")
        if self.tty:
            width = 100
            self.stream.write("\r" + text[:width].ljust(width))
            self._open_line = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self, message: str | None = None) -> None:
        if not self.enabled:
            return
        if self._open_line:
            self.stream.write("\r" + " " * 100 + "\r")
            self._open_line = False
        if message:
            self.stream.write(redact(message) + "\n")
        self.stream.flush()


class Silent(Progress):
    """A progress reporter that prints nothing (library use, tests)."""

    def __init__(self) -> None:
        super().__init__(enabled=False)
