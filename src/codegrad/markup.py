"""Untrusted text (anything a pull request shaped) as markdown that renders as text, never as markup.

Three shapes, each safe on GitHub (CommonMark + GFM, then GitHub's mentions):
- `code`: a one-line code span; nothing inside a code span is markup, a mention or a link;
- `fence`: a fenced block for multi-line text (reproducers, diffs, test output);
- `text`: prose for sentences that mix our words with untrusted ones (notes, reasons): the
  characters that make markup are backslash-escaped (no tags, comments, emphasis, links,
  images, math, headings or table cells), `://` and `www.` lose their link, and `@` becomes a
  full-width `＠` because GitHub turns `@name` into a mention and `a@b.c` into a mail link
  whatever the escaping. Other punctuation stays as it is, so the text reads well in a terminal.

Line breaks are shown as a visible `\\n` in `code` and `text`: a blank line would end a
code span's paragraph and let the rest render as markdown. Bidirectional-override characters
are shown by their code point, so text cannot read differently from what it is.
"""

from __future__ import annotations

import re

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MARKUP = re.compile(r"([\\`*_\[\]<>&!|~#$])")  # characters that start or end markup
_LINKS = re.compile(r"(?i)(?<=\bwww)\.|:(?=//)")  # extended autolinks: `www.` and `scheme://`
_BLOCK_START = re.compile(r"^(?:[-+=]|\d+[.)])")  # list items, setext underlines, ordered lists
_BACKTICKS = re.compile(r"`+")
_FENCE_RUN = re.compile(r"`{3,}")


def one_line(text: str) -> str:
    """Text on one line: line breaks as a visible \\n, control and bidi characters as \\uXXXX."""
    text = _LINE_BREAK.sub(r"\\n", text.replace("\t", " "))
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def clip(text: str, limit: int | None) -> str:
    """At most about `limit` characters: head … tail with the original length noted."""
    if limit is None or len(text) <= limit:
        return text
    head = max(1, limit * 2 // 3)
    tail = max(1, limit - head - 1)
    return f"{text[:head]}…{text[-tail:]} [{len(text)} chars]"


def code(text: str, limit: int | None = None) -> str:
    """A one-line code span that no backtick run inside the text can close early."""
    body = clip(one_line(text), limit)
    longest = max((len(m) for m in _BACKTICKS.findall(body)), default=0)
    ticks = "`" * (longest + 1)
    edged = body.startswith(("`", " ")) and body.endswith(("`", " ")) and body.strip(" ")
    pad = " " if not body or edged or body.startswith("`") or body.endswith("`") else ""
    return f"{ticks}{pad}{body}{pad}{ticks}"


def fence(text: str, lang: str = "") -> str:
    """A fenced code block longer than any backtick run inside the text (so it cannot be closed)."""
    body = _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text.rstrip())
    longest = max((len(m) for m in _FENCE_RUN.findall(body)), default=2)
    ticks = "`" * (longest + 1)
    return f"{ticks}{lang}\n{body}\n{ticks}"


def text(raw: str, limit: int | None = None) -> str:
    """Prose that renders exactly as written: one line, punctuation escaped, no mentions."""
    body = _MARKUP.sub(r"\\\1", clip(one_line(raw.strip()), limit))
    body = _LINKS.sub(lambda m: "\\" + m.group(), body).replace("@", "＠")
    return _BLOCK_START.sub(lambda m: m.group()[:-1] + "\\" + m.group()[-1], body, count=1)


def cell(markdown: str) -> str:
    """Markdown already made safe, fit for a GFM table cell (pipes escaped, one line)."""
    return _LINE_BREAK.sub(" ", markdown).replace("|", "\\|")
