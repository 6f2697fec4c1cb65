"""The progress line follows the terminal's width: read from a real pty, cut to fit, cleared after."""

from __future__ import annotations

import fcntl
import io
import os
import struct
import termios

import pytest

from codegrad.progress import Progress, fit_line, terminal_columns


def test_the_width_comes_from_the_terminal_behind_the_stream() -> None:
    main, side = os.openpty()
    try:
        fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 57, 0, 0))
        with os.fdopen(side, "w", closefd=False) as stream:
            assert stream.isatty() and terminal_columns(stream) == 57
    finally:
        os.close(main)
        os.close(side)


def test_without_a_terminal_the_width_is_columns_or_100(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "72")
    assert terminal_columns(io.StringIO()) == 72
    monkeypatch.setenv("COLUMNS", "wide")
    assert terminal_columns(io.StringIO()) == 100


def test_a_long_step_is_cut_to_one_line_and_a_shorter_one_covers_it() -> None:
    stream = io.StringIO()
    progress = Progress(stream=stream, tty=True, columns=lambda: 40)
    progress.step("properties: 12 function(s) " + "x" * 80)
    first = stream.getvalue()
    assert first.startswith("\r[") and len(first) == 1 + 39 and first.endswith("…")
    progress.step("done\nwith a newline")
    second = stream.getvalue()[len(first) :]
    assert second.startswith("\r[") and len(second) == 1 + 39 and "\n" not in second
    assert "done with a newline" in second
    progress.done()
    assert stream.getvalue().endswith("\r" + " " * len(second[1:].rstrip()) + "\r")


def test_the_width_is_read_at_every_step_so_a_resize_is_followed() -> None:
    widths = iter([80, 30])
    stream = io.StringIO()
    progress = Progress(stream=stream, tty=True, columns=lambda: next(widths))
    progress.step("a" * 200)
    progress.step("b" * 200)
    lines = stream.getvalue().split("\r")[1:]
    assert [len(line) for line in lines] == [79, 29]


def test_not_a_terminal_prints_whole_lines() -> None:
    stream = io.StringIO()
    Progress(stream=stream, tty=False, columns=lambda: 10).step("a long message for a log")
    assert stream.getvalue().endswith("a long message for a log\n")


def test_fit_line_keeps_short_text() -> None:
    assert fit_line("short", 80) == "short" and fit_line("abcdef", 4) == "ab…"
