"""Report renderers: one Outcome in, terminal, markdown, JSON or SARIF text out (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Callable

from codegrad.errors import UsageError
from codegrad.model import Outcome
from codegrad.render import jsonout, markdown, sarif, terminal
from codegrad.render.condense import condensed

FORMATS = ("auto", "terminal", "markdown", "json", "sarif")

_RENDERERS: dict[str, Callable[[Outcome], str]] = {
    "markdown": markdown.render,
    "json": jsonout.render,
    "sarif": sarif.render,
}


def render(outcome: Outcome, fmt: str, *, color: bool = False, verbose: bool = False) -> str:
    """The report in `fmt`; UsageError for an unknown format.

    "auto" is markdown here (only the caller knows whether stdout is a terminal: see
    `choose_format`); color and verbose shape the terminal format only.
    """
    if fmt == "terminal":
        return terminal.render(outcome, terminal.Style(color=color, verbose=verbose))
    renderer = _RENDERERS.get("markdown" if fmt == "auto" else fmt)
    if renderer is None:
        raise UsageError(f"unknown report format {fmt!r}; use one of: {', '.join(FORMATS)}")
    return renderer(outcome)


def render_hardening(outcome: Outcome, fmt: str) -> str:
    """A hardening report: markdown folds the per-function skip lists into one note per check;
    JSON and SARIF keep everything."""
    fmt = "markdown" if fmt == "auto" else fmt
    return render(condensed(outcome) if fmt == "markdown" else outcome, fmt)


def choose_format(fmt: str, *, to_terminal: bool) -> str:
    """The concrete format for "auto": terminal when the report goes to a terminal, else markdown."""
    if fmt != "auto":
        return fmt
    return "terminal" if to_terminal else "markdown"


def use_color(*, to_terminal: bool, no_color: str | None) -> bool:
    """Colours only on a terminal, and never when NO_COLOR is set to anything non-empty."""
    return to_terminal and not no_color
