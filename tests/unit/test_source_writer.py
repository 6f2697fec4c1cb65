"""Values written back as source a test rebuilds them from (the reproducers of recorded calls)."""

from __future__ import annotations

import collections
import dataclasses
import enum
import math
import os.path
from typing import Any

import pytest

from codegrad.runners import source
from codegrad.verify.recorded_reproducer import NEW_HELPER


class Colour(enum.Enum):
    RED = 1


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Plain:
    def __init__(self, items: list[int]) -> None:
        self.items = items
        self.owner = Point(1, 2)


def writer() -> source.Writer:
    return source.Writer(lambda kind: "pkg.mod" if kind.__module__ == __name__ else kind.__module__)


def rebuild(text: str, w: source.Writer) -> Any:
    scope: dict[str, Any] = {
        "Colour": Colour,
        "Point": Point,
        "Plain": Plain,
        "OrderedDict": collections.OrderedDict,
    }
    exec(NEW_HELPER, scope)
    return eval(text, scope)


@pytest.mark.parametrize(
    "value",
    [1, -2.5, "x'y", b"\x00", None, [1, (2,)], {"a": {1, 2}}, frozenset(), set(), 1 + 2j],
)
def test_plain_values_are_written_as_literals(value: object) -> None:
    w = writer()
    assert rebuild(w.write(value), w) == value and w.imports == {}


def test_non_finite_floats_are_written_as_calls() -> None:
    w = writer()
    assert w.write(math.inf) == "float('inf')" and math.isnan(rebuild(w.write(math.nan), w))


def test_objects_enums_and_functions_are_written_with_their_imports() -> None:
    w = writer()
    text = w.write([Plain([3]), Colour.RED, Point(1, 2), str.lower, os.path.join])
    assert text == (
        "[_new(Plain, items=[3], owner=Point(x=1, y=2)), Colour.RED, Point(x=1, y=2), "
        "str.lower, join]"
    )
    assert w.needs_new and w.imports == {
        "pkg.mod": {"Plain", "Colour", "Point"},
        "posixpath": {"join"},
    }
    rebuilt = rebuild(text.replace(", join]", "]"), w)
    assert vars(rebuilt[0]) == {"items": [3], "owner": Point(1, 2)} and rebuilt[2] == Point(1, 2)


def test_what_cannot_be_written_is_refused() -> None:
    with pytest.raises(source.NoSource):
        writer().write(lambda x: x)
    with pytest.raises(source.NoSource):
        writer().write(object())
