"""Values and shapes a docstring's prose gives a parameter: `arr = [1, 2]`, `a positive integer n` (pure)."""

from __future__ import annotations

import re
import string
from typing import Any

from codegrad.verify.inputs.example_args import ExampleArgs, literal, parse_call
from codegrad.verify.inputs.examples import match_close
from codegrad.verify.inputs.shapes import TEXT_MAX, IntS, Shape, TextS


def mined_calls(docstring: str, name: str) -> list[ExampleArgs]:
    """`name(...)` calls anywhere in the text, bare words read as strings (when no example parses)."""
    out: list[ExampleArgs] = []
    # In a docstring with doctest lines, bare words in calls are names the session defined
    # (`valmap(sum, bills)`), not prose strings.
    bare_names = ">>>" not in docstring
    for match in re.finditer(rf"\b{re.escape(name)}\s*\(", docstring):
        end = _closing(docstring, match.end() - 1)
        if end is None:
            continue
        parsed = parse_call(docstring[match.start() : end], name, bare_names=bare_names)
        if parsed is not None and parsed not in out:
            out.append(parsed)
    return out


def _closing(text: str, start: int) -> int | None:
    """Index just past the bracket matching text[start], looking at most 2,000 characters ahead."""
    return match_close(text[: start + 2000], start)


def mined_values(docstring: str, param: str) -> list[Any]:
    """Literal values the prose assigns to a parameter: `arr = [1, 2]`, `grid : [[0, 1]]`."""
    out: list[Any] = []
    pattern = rf"(?<![\w.])(?:\w+_)?{re.escape(param)}\s*[:=]\s*(?=[-\w\[({{'\"])"
    for match in re.finditer(pattern, docstring):
        value = _leading_literal(docstring[match.end() :])
        if value is not _NO_VALUE and value not in out:
            out.append(value)
    return out


class _NoValue:
    pass


_NO_VALUE = _NoValue()


def _leading_literal(text: str) -> Any:
    """The literal at the start of text (a bracketed one, or one word), else _NO_VALUE."""
    if text[:1] in "[({'\"":
        end = _closing(text, 0) if text[0] in "[({" else text.find(text[0], 1) + 1
        candidate = text[:end] if end else ""
    else:
        candidate = re.split(r"[\s,;]", text, maxsplit=1)[0].rstrip(".")
    try:
        return literal(candidate)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _NO_VALUE


_PROSE = (
    ("positive integer", IntS(1, 20)),
    ("non-negative integer", IntS(0, 20)),
    ("nonnegative integer", IntS(0, 20)),
    ("integer", IntS(-20, 20)),
    ("string", TextS(string.ascii_letters + " ", 0, TEXT_MAX)),
)


def prose_shape(docstring: str | None, param: str) -> Shape | None:
    """`a positive integer n`, `n is an integer`, `string s` in the docstring, for a bare parameter."""
    if not docstring:
        return None
    text = " ".join(docstring.split())
    name = re.escape(param)
    for phrase, shape in _PROSE:
        words = phrase.replace(" ", r"\s+")
        if re.search(rf"\b{words}s?\s+{name}\b", text, re.I) or re.search(
            rf"\b{name}\s+(?:is|be)\s+an?\s+{words}\b", text, re.I
        ):
            return shape
    return None
