"""Redact secrets: values from codegrad's environment, their encoded and disguised forms, credential-shaped text."""

from __future__ import annotations

import base64
import logging
import os
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SECRET_NAME = re.compile(
    r"TOKEN|SECRET|KEY|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE|(?:^|_)PAT(?:$|_)",
    re.I,
)
# Shapes of well-known credentials: redacted wherever they appear, whatever variable (or file) they came from.
TOKEN_SHAPES = re.compile(
    r"\b(?:gh[opusr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|sk-[A-Za-z0-9_-]{20,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|glpat-[A-Za-z0-9_-]{20,})"
)
URL_CREDENTIALS = re.compile(
    r"(?P<head>\b[a-z][a-z0-9+.-]{0,30}://[^/\s:@]{1,256}:)[^/\s@]{1,256}(?=@)", re.I
)
MIN_SECRET_LEN = 6
MIN_ENCODED_LEN = 16  # shorter encoded variants would match innocent text
MIN_SPLIT_LEN = (
    10  # letters and digits a disguised form needs before it is matched across separators
)
REDACTED = "***"
_SEPARATORS = re.compile(r"[^0-9A-Za-z]+")
_NOT_ALNUM = bytes(b for b in range(256) if not chr(b).isascii() or not chr(b).isalnum())


def encoded_variants(secret: str) -> list[str]:
    """Forms a secret takes inside other text: URL-quoted, and base64 at each of the 3 alignments."""
    variants = {urllib.parse.quote(secret, safe="")}
    raw = secret.encode()
    for pad in range(3):
        whole = (pad + len(raw)) // 3 * 3  # bytes that end on a group boundary
        encoded = base64.b64encode((b"\0" * pad + raw)[:whole]).decode()
        skip = (0, 2, 3)[pad]  # leading characters that mix padding bits with the secret's
        variants.add(encoded[skip:])
    return [v for v in variants if v != secret and len(v) >= MIN_ENCODED_LEN]


def disguised_forms(secret: str) -> list[str]:
    """A secret reversed, hex-encoded (either order), as the letters and digits that survive any
    separators put between them (dashes, spaces, quotes, newlines), lower-cased: matched in text
    stripped the same way, so "g-h-s-_-a-b", "BA_SHG" or "67:68:73" of a secret are all caught."""
    raw = secret.encode()
    forms = {secret, secret[::-1], raw.hex(), raw[::-1].hex(), raw.hex()[::-1]}
    skeletons = {_SEPARATORS.sub("", form).lower() for form in forms}
    return sorted((s for s in skeletons if len(s) >= MIN_SPLIT_LEN), key=len, reverse=True)


def _spans(text: str, skeletons: Sequence[str]) -> list[tuple[int, int]]:
    """Where in text each skeleton occurs once separators are ignored: (start, end) character spans.
    Each character of the skeleton is followed by any run of non-alphanumerics: no backtracking."""
    found = []
    for skeleton in skeletons:
        pattern = "[^0-9A-Za-z]*".join(re.escape(c) for c in skeleton)
        found += [m.span() for m in re.finditer(pattern, text, re.I)]
    return sorted(found)


def _blank(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """text with each span (sorted; overlapping ones merged) replaced by REDACTED."""
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, last = [], 0
    for start, end in merged:
        out += [text[last:start], REDACTED]
        last = end
    return "".join(out) + text[last:]


@dataclass
class Redactor:
    """Replaces the values of secrets found in codegrad's own environment (and token-shaped text) with ***."""

    secrets: list[str] = field(default_factory=list)
    skeletons: list[str] = field(default_factory=list)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, extra: Sequence[str] = ()) -> Redactor:
        env = os.environ if env is None else env
        redactor = cls()
        for key, value in env.items():
            if SECRET_NAME.search(key) or TOKEN_SHAPES.search(value):
                redactor.add(value)
        for value in extra:
            redactor.add(value)
        return redactor

    def add(self, value: str | None) -> None:
        if not value or len(value) < MIN_SECRET_LEN:
            return
        raw = value.encode()
        for form in (value, value[::-1], raw.hex(), raw.hex().upper(), *encoded_variants(value)):
            if form not in self.secrets:
                self.secrets.append(form)
        self.secrets.sort(key=len, reverse=True)
        for skeleton in disguised_forms(value):
            if skeleton not in self.skeletons:
                self.skeletons.append(skeleton)
        self.skeletons.sort(key=len, reverse=True)

    @property
    def longest(self) -> int:
        return len(self.secrets[0]) if self.secrets else 0

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        text = TOKEN_SHAPES.sub(REDACTED, text)
        text = URL_CREDENTIALS.sub(lambda m: m.group("head") + REDACTED, text)
        if self.skeletons:
            # the cheap test first (C speed): most text holds no disguised secret
            flat = text.encode("utf-8", "replace").translate(None, _NOT_ALNUM).lower()
            present = [s for s in self.skeletons if s.encode() in flat]
            if present:
                text = _blank(text, _spans(text, present))
        return text


_REDACTOR = Redactor.from_env()


def redact(text: str) -> str:
    """Redact every known secret value from text (the process-wide redactor)."""
    return _REDACTOR(text)


def redact_tree(data: Any) -> Any:
    """A parsed JSON value with every string in it (keys too) redacted; escapes are decoded first, so
    a secret spelled with JSON escapes is caught, and a match never spans two values."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, list):
        return [redact_tree(item) for item in data]
    if isinstance(data, dict):
        return {redact(str(key)): redact_tree(value) for key, value in data.items()}
    return data


def register_secret(value: str | None) -> None:
    """Add a secret (e.g. a token read from a file or flag) to the process-wide redactor."""
    _REDACTOR.add(value)


class RedactFilter(logging.Filter):
    """A logging filter (put it on handlers) that redacts messages, arguments and tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def longest_secret() -> int:
    """Length of the longest form the process-wide redactor knows (output seams cut this much more)."""
    return _REDACTOR.longest
