"""`codegrad review` of a PR whose functions return objects without `__eq__` (result and failure
objects, as many libraries do): a new crash and an accepted invalid input are reported, with values
shown without memory addresses; a refactor is clean."""

from __future__ import annotations

import json
import re
from pathlib import Path

from test_review_cli import codegrad

from helpers_git import make_repo

BASE = '''\
"""Measurements as result objects (no __eq__: == is identity)."""


class Reading:
    def __init__(self, unit, value):
        self.unit = unit
        self.value = value


class Failure:
    __slots__ = ("reason",)

    def __init__(self, reason):
        self.reason = reason


def scale(n: int):
    """n in millimetres.

    >>> scale(2).value  # => 20
    """
    return Reading("mm", n * 10)


def bucket(n: int):
    """Which bucket of ten n falls in."""
    return Reading("bucket", n // 10)


def checked(n: int):
    """A reading of a count; counts are never negative."""
    if n < 0:
        raise ValueError(f"negative count: {n}")
    if n > 1000:
        return Failure("too many")
    return Reading("count", n)
'''

HEAD = (
    BASE.replace('return Reading("mm", n * 10)', 'return Reading(unit="mm", value=10 * n)')
    .replace('return Reading("bucket", n // 10)', 'return Reading("bucket", 100 // (n // 10))')
    .replace(
        '    if n < 0:\n        raise ValueError(f"negative count: {n}")\n',
        "",
    )
)


def test_review_compares_result_objects_by_structure(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    repo.write("measure.py", BASE)
    repo.commit("base")
    repo.write("measure.py", HEAD)
    repo.commit("refactor scale, rework bucket, drop the count check")
    out = tmp_path / "report.json"
    proc = codegrad(
        "review",
        *("--repo", str(repo.path), "--base", "HEAD~1", "--format", "json", "--output", str(out)),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    differential = {f["function"]: f for f in report["findings"] if f["check"] == "differential"}
    assert set(differential) == {"bucket", "checked"}, report["findings"]

    crash = differential["bucket"]  # base returned a Reading, head raises: an error
    assert crash["kind"] == "crash" and crash["severity"] == "error"
    assert (
        crash["input"] == "bucket(0)"
        and crash["expected"] == "returned Reading(unit='bucket', value=0)"
    )
    assert crash["actual"].startswith("raised ZeroDivisionError")

    accepted = differential["checked"]  # base rejected a negative count, head returns a Reading
    assert accepted["kind"] == "behaviour-change" and accepted["input"] == "checked(-1)"
    assert accepted["expected"] == "raised ValueError: negative count: -1"
    assert accepted["actual"] == "returned Reading(unit='count', value=-1)"

    assert not any(f["function"] == "scale" for f in report["findings"])  # the refactor is clean
    text = out.read_text()
    assert not re.search(r"0x[0-9a-fA-F]{6,}", text)  # no memory address anywhere in the report
    docstrings = next(c for c in report["checks"] if c["check"] == "docstrings")
    assert docstrings["stats"]["forms"] == {"comment": 1} and docstrings["stats"]["unparsed"] == 0
    assert "Traceback" not in proc.stderr
