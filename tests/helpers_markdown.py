"""Markdown read the way GitHub reads it: cmark-gfm (GitHub's renderer, raw HTML kept), then the HTML walked."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

# GitHub turns @login and @org/team into mentions in text that is not code or a link.
MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9][A-Za-z0-9-]*(?:/[A-Za-z0-9][\w-]*)?")
_CODE = ("code", "pre")


def to_html(markdown: str) -> str:
    """The HTML cmark-gfm makes of GitHub-flavoured markdown, raw HTML passed through as GitHub does."""
    html: str = cmarkgfm.github_flavored_markdown_to_html(
        markdown, options=Options.CMARK_OPT_UNSAFE
    )
    return html


@dataclass
class Rendered:
    """What a reader sees of rendered markdown: elements, comments, links, headings, loose text."""

    html: str
    tags: Counter[str] = field(default_factory=Counter)
    closed: Counter[str] = field(default_factory=Counter)
    comments: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)
    loose: list[str] = field(default_factory=list)  # text outside code, pre and links
    code: list[str] = field(default_factory=list)  # text inside code or pre

    @property
    def mentions(self) -> list[str]:
        return [m for text in self.loose for m in MENTION.findall(text)]

    @property
    def text(self) -> str:
        return "".join(self.loose)


class _Walker(HTMLParser):
    def __init__(self, out: Rendered) -> None:
        super().__init__(convert_charrefs=True)
        self.out = out
        self.stack: list[str] = []
        self.heading: list[str] | None = None
        self.summary: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.tags[tag] += 1
        values = dict(attrs)
        if tag == "a":
            self.out.links.append(values.get("href") or "")
        if tag == "img":
            self.out.images.append(values.get("src") or "")
        if re.fullmatch(r"h[1-6]", tag):
            self.heading = []
        if tag == "summary":
            self.summary = []
        if tag not in ("img", "br", "hr", "input"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.out.closed[tag] += 1
        if re.fullmatch(r"h[1-6]", tag) and self.heading is not None:
            self.out.headings.append("".join(self.heading).strip())
            self.heading = None
        if tag == "summary" and self.summary is not None:
            self.out.summaries.append("".join(self.summary).strip())
            self.summary = None
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self.heading is not None:
            self.heading.append(data)
        if self.summary is not None:
            self.summary.append(data)
        if any(t in _CODE for t in self.stack):
            self.out.code.append(data)
        elif "a" not in self.stack:
            self.out.loose.append(data)

    def handle_comment(self, data: str) -> None:
        self.out.comments.append(data)


def render(markdown: str) -> Rendered:
    """Render and walk: every element, comment, link, image, heading and piece of text."""
    out = Rendered(to_html(markdown))
    _Walker(out).feed(out.html)
    return out
