"""Report renderers: one Outcome in, markdown, JSON or SARIF text out (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Callable

from codegrad.errors import UsageError
from codegrad.model import Outcome
from codegrad.render import jsonout, markdown, sarif
from codegrad.render.condense import condensed

FORMATS = ("markdown", "json", "sarif")

_RENDERERS: dict[str, Callable[[Outcome], str]] = {
    "markdown": markdown.render,
    "json": jsonout.render,
    "sarif": sarif.render,
}


def render(outcome: Outcome, fmt: str) -> str:
    """The report in `fmt` ("markdown", "json" or "sarif"); UsageError for anything else."""
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise UsageError(f"unknown report format {fmt!r}; use one of: {', '.join(FORMATS)}")
    return renderer(outcome)


def render_hardening(outcome: Outcome, fmt: str) -> str:
    """A hardening report: markdown folds the per-function skip lists into one note per check;
    JSON and SARIF keep everything."""
    return render(condensed(outcome) if fmt == "markdown" else outcome, fmt)
