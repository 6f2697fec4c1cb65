"""The restricted format for recorded arguments: round trips, shared objects, refusals, plain data only."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import decimal
import enum
import json
import math
import threading

import pytest

from codegrad.runners import valuecodec


@dataclasses.dataclass
class Point:
    x: int
    y: float


class Colour(enum.Enum):
    RED = 1
    BLUE = 2


class Plain:
    def __init__(self, sep: str) -> None:
        self.sep = sep
        self.seen: list[str] = []


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self) -> None:
        self.a = 1
        self.b = [2]


def roundtrip(value: object) -> object:
    text = json.dumps(valuecodec.encode(value), allow_nan=False)  # what travels is JSON
    return valuecodec.decode(json.loads(text))


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -(10**30),
        1.5,
        "text ✓",
        b"\x00\xff",
        bytearray(b"ab"),
        3 + 4j,
        [1, [2, (3, "x")]],
        (1,),
        {"a": 1, 2: [None], (1, 2): "t"},
        {1, 2, 3},
        frozenset({"a"}),
        [],
        {},
    ],
)
def test_plain_data_round_trips_exactly(value: object) -> None:
    back = roundtrip(value)
    assert back == value and type(back) is type(value)


def test_non_finite_floats_travel_as_json() -> None:
    back = roundtrip([math.inf, -math.inf, math.nan])
    assert isinstance(back, list)
    assert back[0] == math.inf and back[1] == -math.inf and math.isnan(back[2])


def test_objects_round_trip_through_their_classes() -> None:
    values = [
        Point(1, 2.5),
        Colour.BLUE,
        datetime.datetime(2024, 5, 1, 12, 30),
        decimal.Decimal("1.10"),
        collections.deque([1, 2], maxlen=5),
        collections.OrderedDict(a=1),
        collections.defaultdict(list, {"k": [1]}),
        collections.Counter("aab"),
    ]
    for value in values:
        back = roundtrip(value)
        assert back == value and type(back) is type(value), value


def test_plain_objects_keep_their_attributes_and_slots() -> None:
    original = Plain(",")
    original.seen.append("x")
    back = roundtrip(original)
    assert isinstance(back, Plain) and back.sep == "," and back.seen == ["x"]
    slotted = roundtrip(Slotted())
    assert isinstance(slotted, Slotted) and slotted.a == 1 and slotted.b == [2]


def test_shared_objects_stay_shared_and_cycles_survive() -> None:
    inner = [1]
    outer = [inner, inner]
    back = roundtrip(outer)
    assert isinstance(back, list) and back[0] is back[1]
    cycle: list[object] = [1]
    cycle.append(cycle)
    again = roundtrip(cycle)
    assert isinstance(again, list) and again[1] is again
    node = Plain("a")
    node.seen = node  # type: ignore[assignment]
    rebuilt = roundtrip(node)
    assert isinstance(rebuilt, Plain) and rebuilt.seen is rebuilt


def test_a_call_shares_objects_between_its_arguments() -> None:
    shared = Plain(";")
    data = json.loads(json.dumps(valuecodec.encode_call([shared, shared], {"k": shared})))
    args, kwargs = valuecodec.decode_call(data)
    assert args[0] is args[1] is kwargs["k"]


@pytest.mark.parametrize(
    "value",
    [lambda x: x, threading.Lock(), (i for i in range(3)), object.__new__(type("Local", (), {}))],
)
def test_what_cannot_be_rebuilt_by_name_is_refused(value: object) -> None:
    with pytest.raises(valuecodec.Unencodable):
        valuecodec.encode(value)


def test_functions_and_classes_travel_by_name() -> None:
    assert roundtrip([open, len, Point, str.lower]) == [open, len, Point, str.lower]


def test_size_and_depth_are_bounded() -> None:
    with pytest.raises(valuecodec.Unencodable, match="too large"):
        valuecodec.encode(list(range(valuecodec.MAX_NODES + 10)))
    deep: list[object] = []
    for _ in range(valuecodec.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(valuecodec.Unencodable, match="deeply"):
        valuecodec.encode(deep)


def test_iterators_are_materialised_and_regenerated_with_their_kind() -> None:
    items, fresh, error = valuecodec.materialise(x * 2 for x in range(3))
    assert items == [0, 2, 4] and list(fresh) == [0, 2, 4] and error is None
    encoded = valuecodec.encode_call([valuecodec.Materialised("generator", items)], {})
    (arg,), _ = valuecodec.decode_call(json.loads(json.dumps(encoded)))
    assert type(arg).__name__ == "generator" and list(arg) == [0, 2, 4]
    assert valuecodec.is_iterator(iter([1])) and valuecodec.is_iterator(map(str, [1]))
    assert not valuecodec.is_iterator([1])
    with open(__file__, encoding="utf-8") as handle:  # a file is read by the function, not replayed
        assert not valuecodec.is_iterator(handle)
    items, fresh, error = valuecodec.materialise(iter(range(valuecodec.MAX_ITEMS + 5)))
    assert isinstance(error, valuecodec.Unencodable)
    assert list(fresh) == list(range(valuecodec.MAX_ITEMS + 5))  # nothing lost to the recorder


def test_an_iterator_that_raises_raises_again_for_the_real_call() -> None:
    def broken():
        yield 1
        raise ValueError("bad item")

    items, fresh, error = valuecodec.materialise(broken())
    assert items == [1] and isinstance(error, ValueError)
    assert next(fresh) == 1
    with pytest.raises(ValueError, match="bad item"):
        next(fresh)


def test_plain_reads_data_but_never_rebuilds_objects() -> None:
    assert valuecodec.plain(valuecodec.encode({"a": [1, (2.5, "x")], "s": {3}})) == {
        "a": [1, (2.5, "x")],
        "s": {3},
    }
    # an encoding that names a callable is refused without importing anything
    hostile = {"r": {"g": "os:system"}, "a": {"t": ["echo pwned"]}}
    with pytest.raises(valuecodec.NotPlain):
        valuecodec.plain(hostile)
    with pytest.raises(valuecodec.NotPlain):
        valuecodec.plain({"g": "os:system"})
    with pytest.raises(valuecodec.NotPlain):
        valuecodec.plain(["bare", "list"])
