"""The one comparison of results (runners/values.py) and its copy in generated tests: objects with
and without __eq__, __slots__, nesting, cycles, base's and head's copies of a class, iterators,
and reports that never show a memory address."""

from __future__ import annotations

import itertools
import re
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from codegrad.runners import values
from codegrad.runners.values import Consumed, Like, describe, equivalent, materialise, source
from codegrad.verify import embedded

ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")


MODULE = """
import dataclasses
import enum


class Result:
    def __init__(self, ok, value):
        self.ok, self.value = ok, value


class Point:
    __slots__ = ("__tag", "x", "y")

    def __init__(self, x, y, tag=""):
        self.x, self.y, self.__tag = x, y, tag


class Node:
    def __init__(self, value):
        self.value, self.next = value, None


class Money:
    def __init__(self, cents):
        self.cents = cents

    def __eq__(self, other):
        return isinstance(other, Money) and self.cents // 100 == other.cents // 100

    __hash__ = None


@dataclasses.dataclass
class Record:
    name: str
    children: list


class Color(enum.Enum):
    RED = 1
    BLUE = 2


class Opaque:
    __slots__ = ()
"""


def classes(side: str) -> dict[str, Any]:
    """A fresh copy of a module's classes: as base's and head's versions are, equal by name only."""
    module = types.ModuleType(f"mod_{side}")
    sys.modules[module.__name__] = module  # dataclasses looks its module up
    exec(compile(MODULE, "mod.py", "exec"), module.__dict__)
    return module.__dict__


BASE, HEAD = classes("base"), classes("head")


def ring(cls: type, values_: list[Any]) -> Any:
    nodes = [cls(v) for v in values_]
    for a, b in zip(nodes, nodes[1:] + nodes[:1], strict=True):
        a.next = b
    return nodes[0]


def chain(cls: type, *values_: Any) -> Any:
    nodes = [cls(v) for v in values_]
    for a, b in itertools.pairwise(nodes):
        a.next = b
    return nodes[0]


SAME: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
    ("object without __eq__", lambda c: c["Result"](True, 3)),
    ("nested objects", lambda c: c["Result"](True, [c["Result"](False, {"k": (1, 2.5)})])),
    ("__slots__ with a private name", lambda c: c["Point"](1, [2], tag="t")),
    ("a cycle", lambda c: ring(c["Node"], [1, 2, 3])),
    (
        "a dataclass (its __eq__ refuses the other copy of the class)",
        lambda c: c["Record"]("a", []),
    ),
    ("an enum member", lambda c: c["Color"].RED),
    ("objects as dict keys and set members", lambda c: ({c["Color"].RED: 1}, {c["Color"].BLUE})),
    ("an object without attributes", lambda c: c["Opaque"]()),
]


@pytest.mark.parametrize(("name", "make"), SAME, ids=[name for name, _ in SAME])
def test_equal_structures_are_equivalent_across_copies_of_a_class(
    name: str, make: Callable[[dict[str, Any]], Any]
) -> None:
    base, head = make(BASE), make(HEAD)
    assert base != head or isinstance(base, tuple)  # plain == cannot tell (identity or refusal)
    assert equivalent(base, head) and equivalent(head, base)
    assert equivalent(make(BASE), make(BASE))  # two calls of base agree: no false "nondeterminism"


DIFFERENT: list[tuple[str, Any, Any]] = [
    ("an attribute", BASE["Result"](True, 3), HEAD["Result"](True, 4)),
    (
        "a nested attribute",
        BASE["Result"](True, [BASE["Result"](False, 1)]),
        HEAD["Result"](True, [HEAD["Result"](True, 1)]),
    ),
    ("a slot", BASE["Point"](1, 2), HEAD["Point"](1, 3)),
    ("a private slot", BASE["Point"](1, 2, tag="a"), HEAD["Point"](1, 2, tag="b")),
    ("a value in a cycle", ring(BASE["Node"], [1, 2, 3]), ring(HEAD["Node"], [1, 2, 4])),
    ("a cycle vs a chain that ends", ring(BASE["Node"], [1, 1]), chain(HEAD["Node"], 1, 1)),
    ("the class", BASE["Result"](True, 3), BASE["Record"]("a", [])),
    ("an enum member", BASE["Color"].RED, HEAD["Color"].BLUE),
    ("a dataclass field", BASE["Record"]("a", [1]), HEAD["Record"]("a", [2])),
    ("an exception's message", ValueError("bad"), ValueError("worse")),
    ("list vs tuple", [1, 2], (1, 2)),
    ("big ints (exact, not within a float tolerance)", 10**20, 10**20 + 1),
    ("a consumed iterator vs a list", Consumed("generator", [1]), [1]),
]


@pytest.mark.parametrize(("name", "a", "b"), DIFFERENT, ids=[d[0] for d in DIFFERENT])
def test_a_difference_anywhere_is_found(name: str, a: Any, b: Any) -> None:
    assert not equivalent(a, b) and not equivalent(b, a)


def test_a_class_with_its_own_eq_is_trusted() -> None:
    money = BASE["Money"]
    assert equivalent(money(150), money(199))  # its __eq__ says the same (whole units)
    assert not equivalent(money(150), money(250))
    assert equivalent(money(150), HEAD["Money"](150))  # refuses the other copy: structure decides


def test_numbers_keep_the_tolerances() -> None:
    assert equivalent(0.1 + 0.2, 0.3) and equivalent(float("nan"), float("nan"))
    assert equivalent([1.0, {"a": 2.0}], [1.0000000001, {"a": 2.0}])
    assert not equivalent(1.0, 1.1) and not equivalent(float("inf"), 1e308)
    assert equivalent(True, 1) and not equivalent(10**400, 1.0)


def test_a_long_chain_is_compared_without_recursion() -> None:
    numbers = range(20_000)
    assert equivalent(chain(BASE["Node"], *numbers), chain(HEAD["Node"], *numbers))
    assert not equivalent(chain(BASE["Node"], *numbers), chain(HEAD["Node"], *numbers, 0))


def test_a_large_result_is_never_judged_equal_for_being_large() -> None:
    big = [float(i) for i in range(300_000)]
    assert equivalent(big, list(big)) and equivalent(big, [x + 1e-12 for x in big])
    assert not equivalent(big, [*big[:-1], -1.0])


def test_cycles_that_no_walk_over_attributes_tells_apart_are_the_same() -> None:
    # 1 -> 1 -> (back) and 1 -> 1 -> 1 -> (back) unfold into the same endless chain: only
    # identity could tell them apart, and identity is what differs on every run.
    assert equivalent(ring(BASE["Node"], [1, 1]), ring(HEAD["Node"], [1, 1, 1]))


def test_generators_and_iterators_are_consumed_with_their_kind() -> None:
    def gen(n: int) -> Iterator[int]:
        yield from range(n)

    made = materialise(gen(3))
    assert isinstance(made, Consumed) and made == [0, 1, 2] and made.kind == "generator"
    assert materialise(map(str, [1])).kind == "map"
    assert materialise(iter([1])).kind == "list_iterator"
    assert materialise([1]) == [1] and not isinstance(materialise([1]), Consumed)
    assert len(materialise(iter(int, 1), limit=5)) == 5  # an endless iterator stops at the limit
    assert equivalent(materialise(gen(3)), materialise(iter([0, 1, 2])))  # same items: same
    assert describe(materialise(gen(2))) == "<generator yielding [0, 1]>"


def test_reports_never_show_a_memory_address() -> None:
    node = ring(BASE["Node"], [1, 2])
    opaque = BASE["Opaque"]()
    for value in (node, [BASE["Result"](True, node)], opaque, object(), lambda: 1, iter([1])):
        text = describe(value)
        assert not ADDRESS.search(text), text
    assert describe(BASE["Result"](True, 3)) == "Result(ok=True, value=3)"
    assert describe(object()) == "<object object>"
    assert values.without_addresses("<a.B object at 0x7f3a2c1b4e50>") == "<a.B object>"


def test_source_rebuilds_an_equivalent_value_or_is_none() -> None:
    result = BASE["Result"](True, [1.5, float("nan"), BASE["Point"](1, 2, tag="t")])
    text = source(result)
    assert text == (
        "Like('Result', ok=True, value=[1.5, float('nan'), Like('Point', _Point__tag='t', x=1, y=2)])"
    )
    assert equivalent(result, eval(text, {"Like": Like, "float": float}))
    assert equivalent(HEAD["Result"](True, 3), Like("Result", ok=True, value=3))
    assert not equivalent(HEAD["Result"](True, 4), Like("Result", ok=True, value=3))
    assert source(Consumed("map", [(1, "a")])) == "Consumed('map', [(1, 'a')])"
    assert source({1: {2}, "k": frozenset()}) == "{1: {2}, 'k': frozenset()}"
    assert source(ring(BASE["Node"], [1, 2])) is None  # a cycle has no literal
    assert source(BASE["Opaque"]()) is None  # nothing to write down


PAIRS = [
    *((make(BASE), make(HEAD)) for _, make in SAME),
    *((a, b) for _, a, b in DIFFERENT),
    (materialise(iter([1, 2])), Consumed("generator", [1, 2])),
    (HEAD["Result"](True, 3), Like("Result", ok=True, value=3)),
]


def test_the_copy_in_generated_tests_judges_exactly_as_the_runner() -> None:
    copied = embedded.helpers(["equivalent", "materialise", "without_addresses"])
    assert {"equivalent", "materialise", "Consumed", "Like"} <= copied.names
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(copied.imports) + "\n" + copied.body, "test_copy.py", "exec"), namespace)
    copy_eq = namespace["equivalent"]

    def mirror(value: Any) -> Any:
        """The same value with the copy's Like and Consumed in place of the runner's."""
        if isinstance(value, Like):
            return namespace["Like"](value.kind, **value.state)
        if isinstance(value, Consumed):
            return namespace["Consumed"](value.kind, value)
        return value

    for a, b in PAIRS:
        assert copy_eq(mirror(a), mirror(b)) == equivalent(a, b), (a, b)
    assert type(namespace["materialise"](iter([1]))).__name__ == "Consumed"


def test_the_copy_takes_what_it_needs_and_no_annotations() -> None:
    copied = embedded.copy_of(
        "from __future__ import annotations\nimport math\nimport re\n"
        "LIMIT: int = 3\nUNUSED = 1\n"
        "def helper(x: int) -> float:\n    return math.sqrt(x) + LIMIT\n"
        "def entry(y: int) -> float:\n    z: float = helper(y)\n    return z\n"
        "def other() -> None:\n    re.compile('x')\n",
        ["entry"],
    )
    assert copied.imports == ("import math",)
    assert copied.names == {"LIMIT", "helper", "entry"}
    assert ":" not in copied.body.replace("def helper(x):", "").replace("def entry(y):", "")
    namespace: dict[str, Any] = {}
    exec("import math\n" + copied.body, namespace)
    assert namespace["entry"](4) == 5.0


def test_an_object_whose_attributes_raise_falls_back_to_eq() -> None:
    class Hostile:
        __slots__ = ("x",)

        def __getattribute__(self, name: str) -> Any:
            if name == "x":
                raise RuntimeError("no")
            return object.__getattribute__(self, name)

    one = Hostile()
    assert equivalent(one, one) and not equivalent(Hostile(), Hostile())
    assert "Hostile" in describe(Hostile())


def test_iterators_yielding_iterators_are_consumed_as_a_caller_would() -> None:
    # ichunked's chunks: base yields generators, head itertools.chain objects; both are the same
    def gen_chunks():
        yield (x for x in "ab")
        yield (x for x in "c")

    def chain_chunks():
        return iter([itertools.chain("a", "b"), itertools.chain("c")])

    a, b = values.materialise(gen_chunks()), values.materialise(chain_chunks())
    assert a == [["a", "b"], ["c"]] and values.equivalent(a, b)
    assert "object" not in values.describe(a)
    # at most `limit` items in all, nested ones included; deeper levels stay unconsumed
    endless = values.materialise(iter(lambda: iter(range(10**9)), None), limit=25)
    assert sum(len(chunk) for chunk in endless) + len(endless) <= 25
