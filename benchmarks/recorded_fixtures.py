"""Small realistic fixtures for what the project's tests miss: bug fixes reverted together with the tests
that the fix added (only codegrad's own checks can see them), and correct commits (no warning or error
allowed). Each case is a real git repository with a real pytest suite, reviewed by `review()` with the
default checks (efficiency left out), with and without the `recorded` check.

These are written for the purpose (patterns of real fixes in small pure-Python libraries), not
mined from real history: benchmarks/real_commits.py measures real commits.

    python benchmarks/recorded_fixtures.py [--jobs 2] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WITH = ("project-tests", "recorded", "docstrings", "properties", "differential")
WITHOUT = ("project-tests", "docstrings", "properties", "differential")


@dataclass(frozen=True)
class Case:
    """A base tree, and head as replacements in the library plus test files removed or replaced."""

    name: str
    kind: str  # "bug" (a fix reverted with its tests) | "correct"
    library: str
    tests: str
    head_library: str
    fix_tests: str = ""  # base only (removed by head)
    head_tests: str | None = None  # head's version of tests/test_lib.py, when it changes
    notes: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _d(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _sub(text: str, *pairs: str) -> str:
    """text with each (old, new) pair replaced; an old that is not there is a mistake in the case."""
    for old, new in zip(pairs[::2], pairs[1::2], strict=True):
        if old not in text:
            raise ValueError(f"not in the source: {old!r}")
        text = text.replace(old, new)
    return text


CHUNKED = _d('''
    def chunked(items, size):
        """Split items into lists of `size` (the last one may be shorter)."""
        out = []
        for start in range(0, len(items), size):
            out.append(items[start : start + size])
        return out
''')

NATURALSIZE = _d('''
    def naturalsize(value, binary=False):
        """A human-readable file size: 3000 -> '3.0 kB'."""
        base = 1024 if binary else 1000
        units = ["KiB", "MiB", "GiB"] if binary else ["kB", "MB", "GB"]
        size = float(value)
        if abs(size) < base:
            return f"{int(size)} Bytes"
        for unit in units:
            size /= base
            if abs(size) < base:
                break
        return f"{size:.1f} {unit}"
''')

SLUGIFY = _d('''
    import re


    def slugify(text, max_length=None, separator="-"):
        """Lower-case words joined by the separator, cut to max_length (0 means: no limit)."""
        words = re.findall(r"[a-z0-9]+", text.lower())
        slug = separator.join(words)
        if max_length:
            slug = slug[:max_length].rstrip(separator)
        return slug
''')

INTERVAL = _d('''
    class Interval:
        """A closed interval [start, end]."""

        def __init__(self, start, end):
            if end < start:
                raise ValueError("end before start")
            self.start = start
            self.end = end

        def overlaps(self, other):
            return self.start <= other.end and other.start <= self.end

        def length(self):
            return self.end - self.start
''')

DURATION = _d('''
    import re

    _PATTERN = re.compile(r"^(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?$")


    def parse_duration(text):
        """Seconds in '1h30m', '45s', '2h'."""
        match = _PATTERN.match(text.strip())
        if not match or not any(match.groups()):
            raise ValueError(f"not a duration: {text!r}")
        hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
        return hours * 3600 + minutes * 60 + seconds
''')

LRU = _d('''
    class LRU:
        """A least-recently-used cache of a fixed capacity."""

        def __init__(self, capacity):
            self.capacity = capacity
            self.data = {}
            self.order = []

        def put(self, key, value):
            if key in self.data:
                self.order.remove(key)
            elif len(self.data) >= self.capacity:
                oldest = self.order.pop(0)
                del self.data[oldest]
            self.data[key] = value
            self.order.append(key)

        def get(self, key, default=None):
            if key not in self.data:
                return default
            self.order.remove(key)
            self.order.append(key)
            return self.data[key]
''')

DEDUPE = _d('''
    def dedupe(items, key=None):
        """Items without repeats, first occurrence kept, in order (a generator)."""
        seen = set()
        for item in items:
            marker = item if key is None else key(item)
            if marker not in seen:
                seen.add(marker)
                yield item
''')

VERSION = _d('''
    class Version:
        """A dotted version number such as 1.10.2."""

        def __init__(self, text):
            self.parts = tuple(int(p) for p in text.split("."))

        def __lt__(self, other):
            return self.parts < other.parts

        def __eq__(self, other):
            return self.parts == other.parts
''')

PORT = _d('''
    def parse_port(text):
        """A TCP port number from text."""
        port = int(text)
        if not 0 < port < 65536:
            raise ValueError(f"port out of range: {port}")
        return port
''')

WORDS = _d('''
    def split_words(text, maxsplit=None):
        """Words of text; at most maxsplit splits when it is given."""
        if maxsplit is None:
            return text.split()
        return text.split(None, maxsplit)
''')


CASES = [
    Case(
        "chunked-last-partial",
        "bug",
        CHUNKED,
        "from lib import chunked\n\ndef test_even():\n    assert chunked([1, 2, 3, 4], 2) == [[1, 2], [3, 4]]\n",
        _sub(
            CHUNKED, "range(0, len(items), size)", "range(0, len(items) - len(items) % size, size)"
        ),
        "from lib import chunked\n\ndef test_partial():\n    assert chunked([1, 2, 3], 2) == [[1, 2], [3]]\n",
    ),
    Case(
        "naturalsize-negative",
        "bug",
        NATURALSIZE,
        "from lib import naturalsize\n\ndef test_kb():\n    assert naturalsize(3000) == '3.0 kB'\n",
        _sub(NATURALSIZE, "abs(size) < base:\n        return", "size < base:\n        return"),
        "from lib import naturalsize\n\ndef test_negative():\n    assert naturalsize(-4000) == '-4.0 kB'\n",
    ),
    Case(
        "slugify-max-length-zero",
        "bug",
        SLUGIFY,
        "from lib import slugify\n\ndef test_words():\n    assert slugify('Hello World') == 'hello-world'\n\ndef test_cut():\n    assert slugify('Hello World', max_length=7) == 'hello-w'\n",
        _sub(SLUGIFY, "if max_length:", "if max_length is not None:"),
        "from lib import slugify\n\ndef test_zero_means_no_limit():\n    assert slugify('a b', max_length=0) == 'a-b'\n",
    ),
    Case(
        "interval-touching",
        "bug",
        INTERVAL,
        "from lib import Interval\n\ndef test_overlap():\n    assert Interval(1, 5).overlaps(Interval(3, 8))\n\ndef test_apart():\n    assert not Interval(1, 2).overlaps(Interval(5, 8))\n",
        _sub(
            INTERVAL,
            "self.start <= other.end and other.start <= self.end",
            "self.start < other.end and other.start < self.end",
        ),
        "from lib import Interval\n\ndef test_touching():\n    assert Interval(1, 3).overlaps(Interval(3, 4))\n",
    ),
    Case(
        "duration-seconds-only",
        "bug",
        DURATION,
        "from lib import parse_duration\n\ndef test_full():\n    assert parse_duration('1h30m15s') == 5415\n",
        _sub(
            DURATION,
            "hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())",
            "hours, minutes, seconds = (int(g) for g in match.groups())",
        ),
        "from lib import parse_duration\n\ndef test_seconds():\n    assert parse_duration('45s') == 45\n",
    ),
    Case(
        "lru-refresh-on-put",
        "bug",
        LRU,
        "from lib import LRU\n\ndef test_evicts():\n    c = LRU(1)\n    c.put('a', 1)\n    c.put('b', 2)\n    assert c.get('a') is None\n",
        _sub(
            LRU,
            "        if key in self.data:\n            self.order.remove(key)\n        elif",
            "        if",
        ),
        "from lib import LRU\n\ndef test_update_keeps_size():\n    c = LRU(2)\n    c.put('a', 1)\n    c.put('a', 2)\n    c.put('b', 3)\n    assert c.get('a') == 2\n",
    ),
    Case(
        "dedupe-first-occurrence",
        "bug",
        DEDUPE,
        "from lib import dedupe\n\ndef test_plain():\n    assert list(dedupe([1, 2, 1])) == [1, 2]\n",
        _sub(
            DEDUPE,
            "        marker = item if key is None else key(item)",
            "        marker = item if key is None else item",
        ),
        "from lib import dedupe\n\ndef test_key():\n    assert list(dedupe(['a', 'A', 'b'], key=str.lower)) == ['a', 'b']\n",
    ),
    Case(
        "version-numeric-order",
        "bug",
        VERSION,
        "from lib import Version\n\ndef test_order():\n    assert Version('1.2') < Version('1.3')\n",
        _sub(
            VERSION,
            'self.parts = tuple(int(p) for p in text.split("."))',
            'self.parts = tuple(text.split("."))',
        ),
        "from lib import Version\n\ndef test_ten_after_nine():\n    assert Version('1.9') < Version('1.10')\n",
    ),
    Case(
        "port-range-check",
        "bug",
        PORT,
        "from lib import parse_port\n\ndef test_port():\n    assert parse_port('8080') == 8080\n",
        _sub(
            PORT,
            '    if not 0 < port < 65536:\n        raise ValueError(f"port out of range: {port}")\n',
            "",
        ),
        "import pytest\nfrom lib import parse_port\n\ndef test_too_big():\n    with pytest.raises(ValueError):\n        parse_port('70000')\n",
    ),
    Case(
        "split-words-maxsplit-zero",
        "bug",
        WORDS,
        "from lib import split_words\n\ndef test_words():\n    assert split_words('a b c') == ['a', 'b', 'c']\n\ndef test_max():\n    assert split_words('a b c', 1) == ['a', 'b c']\n",
        _sub(WORDS, "if maxsplit is None:", "if not maxsplit:"),
        "from lib import split_words\n\ndef test_zero():\n    assert split_words(' a b', 0) == ['a b']\n",
    ),
    # ------------------------------------------------------------------ correct commits
    Case(
        "chunked-refactor",
        "correct",
        CHUNKED,
        "from lib import chunked\n\ndef test_even():\n    assert chunked([1, 2, 3, 4], 2) == [[1, 2], [3, 4]]\n\ndef test_partial():\n    assert chunked([1, 2, 3], 2) == [[1, 2], [3]]\n",
        _sub(
            CHUNKED,
            "    out = []\n    for start in range(0, len(items), size):\n        out.append(items[start : start + size])\n    return out",
            "    return [items[i : i + size] for i in range(0, len(items), size)]",
        ),
    ),
    Case(
        "dedupe-faster",
        "correct",
        DEDUPE,
        "from lib import dedupe\n\ndef test_plain():\n    assert list(dedupe([1, 2, 1])) == [1, 2]\n\ndef test_key():\n    assert list(dedupe(['a', 'A'], key=str.lower)) == ['a']\n",
        _sub(
            DEDUPE,
            "    seen = set()\n",
            "    seen = set()\n    add = seen.add\n",
            "            seen.add(marker)",
            "            add(marker)",
        ),
    ),
    Case(
        "naturalsize-new-format",
        "correct",
        NATURALSIZE,
        "from lib import naturalsize\n\ndef test_kb():\n    assert naturalsize(3000) == '3.0 kB'\n",
        _sub(NATURALSIZE, '["kB", "MB", "GB"]', '["KB", "MB", "GB"]'),
        head_tests="from lib import naturalsize\n\ndef test_kb():\n    assert naturalsize(3000) == '3.0 KB'\n",
        notes="an intended change of output, its test updated",
    ),
    Case(
        "port-new-validation",
        "correct",
        _sub(
            PORT,
            '    if not 0 < port < 65536:\n        raise ValueError(f"port out of range: {port}")\n',
            "",
        ),
        "from lib import parse_port\n\ndef test_port():\n    assert parse_port('8080') == 8080\n\ndef test_big():\n    assert parse_port('70000') == 70000\n",
        PORT,
        head_tests="import pytest\nfrom lib import parse_port\n\ndef test_port():\n    assert parse_port('8080') == 8080\n\ndef test_big():\n    with pytest.raises(ValueError):\n        parse_port('70000')\n",
        notes="validation added on purpose, the test that accepted the value changed",
    ),
    Case(
        "split-words-keyword",
        "correct",
        WORDS,
        "from lib import split_words\n\ndef test_words():\n    assert split_words('a b c') == ['a', 'b', 'c']\n\ndef test_max():\n    assert split_words('a b c', 1) == ['a', 'b c']\n",
        _sub(
            WORDS,
            "def split_words(text, maxsplit=None):",
            "def split_words(text, maxsplit=None, sep=None):",
            "text.split()",
            "text.split(sep)",
            "text.split(None, maxsplit)",
            "text.split(sep, maxsplit)",
        ),
        notes="a new optional parameter whose default keeps the behaviour",
    ),
    Case(
        "interval-docstring",
        "correct",
        INTERVAL,
        "from lib import Interval\n\ndef test_overlap():\n    assert Interval(1, 5).overlaps(Interval(3, 8))\n\ndef test_touching():\n    assert Interval(1, 3).overlaps(Interval(3, 4))\n",
        _sub(
            INTERVAL,
            "    def overlaps(self, other):\n",
            '    def overlaps(self, other):\n        """Whether the two intervals share a point (touching counts)."""\n',
            "self.start <= other.end and other.start <= self.end",
            "other.start <= self.end and self.start <= other.end",
        ),
    ),
]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def build(case: Case, root: Path) -> tuple[Path, str, str]:
    repo = root / "repo"
    (repo / "tests").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "lib.py").write_text(case.library)
    (repo / "tests" / "test_lib.py").write_text(case.tests)
    if case.fix_tests:
        (repo / "tests" / "test_fix.py").write_text(case.fix_tests)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    base = _git(repo, "rev-parse", "HEAD")
    (repo / "lib.py").write_text(case.head_library)
    if case.fix_tests:
        (repo / "tests" / "test_fix.py").unlink()
    if case.head_tests is not None:
        (repo / "tests" / "test_lib.py").write_text(case.head_tests)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "head")
    return repo, base, _git(repo, "rev-parse", "HEAD")


def run_case(case: Case, checks: tuple[str, ...]) -> dict[str, Any]:
    from codegrad.review import review
    from codegrad.settings import build as settings_for

    with tempfile.TemporaryDirectory(prefix="cg-fixture-") as tmp:
        repo, base, head = build(case, Path(tmp))
        settings = settings_for(
            repo, {"base": base, "head": head, "checks": ",".join(checks)}, env={}
        )
        started = time.monotonic()
        outcome = review(settings)
        seconds = time.monotonic() - started
    return {
        "case": case.name,
        "kind": case.kind,
        "checks": "with recorded" if "recorded" in checks else "without recorded",
        "seconds": round(seconds, 1),
        "findings": [
            {
                "check": f.check,
                "kind": f.kind.value,
                "severity": f.level.value,
                "message": f.message[:240],
                "reproducer_checked": f.details.get("reproducer_checked"),
                "reproducer_rejected": f.details.get("reproducer_rejected"),
            }
            for f in outcome.findings
        ],
    }


def summarise(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| checks | bugs found, warning or error | bugs found, any level | correct commits with a warning or error | median seconds |",
        "|---|---|---|---|---|",
    ]
    for label in ("without recorded", "with recorded"):
        chosen = [r for r in rows if r["checks"] == label]
        bugs = [r for r in chosen if r["kind"] == "bug"]
        correct = [r for r in chosen if r["kind"] == "correct"]
        warn = sum(any(f["severity"] in ("warning", "error") for f in r["findings"]) for r in bugs)
        anything = sum(bool(r["findings"]) for r in bugs)
        alarms = sum(
            any(f["severity"] in ("warning", "error") for f in r["findings"]) for r in correct
        )
        seconds = sorted(r["seconds"] for r in chosen)
        median = seconds[len(seconds) // 2] if seconds else 0
        lines.append(
            f"| {label} | {warn}/{len(bugs)} | {anything}/{len(bugs)} | {alarms}/{len(correct)} | {median} |"
        )
    lines += ["", "| case | kind | with recorded: worst finding |", "|---|---|---|"]
    for row in rows:
        if row["checks"] != "with recorded":
            continue
        worst = max(
            row["findings"],
            key=lambda f: ("note", "warning", "error").index(f["severity"]),
            default=None,
        )
        shown = (
            f"{worst['severity']} ({worst['check']}/{worst['kind']}): {worst['message'][:110]}"
            if worst
            else "none"
        )
        lines.append(f"| {row['case']} | {row['kind']} | {shown.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args(argv)
    cases = [c for c in CASES if not args.cases or c.name in args.cases.split(",")]
    jobs = [(c, checks) for c in cases for checks in (WITHOUT, WITH)]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(run_case, *zip(*jobs, strict=True)))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "recorded_fixtures.json").write_text(json.dumps(rows, indent=1))
    table = summarise(rows)
    (args.out / "recorded_fixtures.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
