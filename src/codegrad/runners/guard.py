"""Guards for calling target code inside a runner: a wall-clock alarm (SIGALRM) and silenced output."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import Any


class Alarm(BaseException):
    """Raised by the SIGALRM handler inside a call that ran past its wall-clock limit."""


def on_alarm(signum: int, frame: Any) -> None:
    """The SIGALRM handler: interrupt the running call."""
    raise Alarm()


@contextmanager
def quiet() -> Iterator[None]:
    """Swallow what the target prints (stdout and stderr)."""
    sink = io.StringIO()
    with redirect_stdout(sink), redirect_stderr(sink):
        yield
