"""Example outputs written as a comment after the call (`f(x)  # Output: True`, `# => 3`,
`# returns 3`, `# -> 3`, `# 3`): the value after the marker, or why it cannot be read (pure)."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass

_DIRECTIVE = re.compile(
    r"^(?:doctest\s*:|noqa\b|type\s*:|pragma\b|fmt\s*:|pylint\s*:|mypy\s*:|nosec\b|todo\b|fixme\b)",
    re.I,
)
_MARKER = re.compile(
    r"""^(?P<marker>
        (?:(?:expected\s+)?(?:output|result|answer|value)|returns?|gives|prints?|yields)\b\s*:?
      | ==>|=>|-->|->|➞|→|⟶|⇒|↦
      | ==(?!=)
      | =(?![=>])
    )\s*(?P<rest>.*)$""",
    re.X | re.I | re.S,
)
_LITERAL_NAMES = frozenset({"True", "False", "None"})


@dataclass(frozen=True)
class Reading:
    """What a comment after a call says it returns: `expected` (source), or why it cannot be read."""

    expected: str | None = None
    unreadable: str | None = None


def read(comment: str, clean: Callable[[str], str | None]) -> Reading | None:
    """The output a trailing comment states; None when the comment is prose or a directive
    (`# doctest: +SKIP`, `# noqa`), which states no output. `clean` reads the value at the start
    of a text the way the prose forms do (`True  (since 1 > 0)` -> `True`)."""
    text = comment.strip().removeprefix("#").strip()
    if not text or _DIRECTIVE.match(text):
        return None
    marked = _MARKER.match(text)
    if marked:
        value = clean(marked.group("rest"))
        if value is None:
            marker = marked.group("marker").strip()
            return Reading(unreadable=f"the output after {marker!r} is not a value")
        return Reading(expected=value)
    bare = text.rstrip(" .;,")
    if is_value(bare):
        return Reading(expected=bare)
    first = _first_word(text)
    if first and is_value(first):
        return Reading(unreadable="the comment starts with a value and goes on in words")
    return None


def is_value(text: str) -> bool:
    """Source that can only be a value: literals, calls (`Point(1, 2)`), dotted names (`Color.RED`),
    never a bare word (`# sorts in place`, `# Slow`)."""
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError):
        return False
    allowed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            allowed.add(id(node.func))
        elif isinstance(node, ast.Attribute):
            allowed.add(id(node.value))
    return all(
        node.id in _LITERAL_NAMES or id(node) in allowed
        for node in ast.walk(tree)
        if isinstance(node, ast.Name)
    )


def _first_word(text: str) -> str:
    """The text up to the first space outside brackets and quotes, without trailing punctuation."""
    depth, quote = 0, ""
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch.isspace() and depth <= 0:
            return text[:i].rstrip(" .;,:")
    return ""
