"""Blame by traceback (pure): changed functions in the chain, else where it failed, else what the failing line calls."""

from __future__ import annotations

from collections.abc import Sequence

from codegrad.diff.changes import all_functions
from codegrad.model import Target
from codegrad.verify.checks import blame
from codegrad.verify.checks import testselect as ts

SHAPES = """\
class Box:
    def __init__(self, items):
        self.items = list(items)

    def total(self):
        return sum(self.items) + 1


def helper(box):
    return box.total()
"""
FUNCTIONS = {t.qualname: t for t in all_functions("pkg/shapes.py", SHAPES)}
TEST = "tests/test_shapes.py"


def functions_in(path: str) -> Sequence[Target]:
    return list(FUNCTIONS.values()) if path == "pkg/shapes.py" else []


def frames(*entries: tuple[str, int, str]) -> list[ts.TbEntry]:
    return [ts.TbEntry(path, line, "", code) for path, line, code in entries]


def blamed(
    entries: list[ts.TbEntry], targets: Sequence[str], ran: Sequence[str]
) -> tuple[str, ...]:
    got = blame.blame(
        entries, TEST, [FUNCTIONS[t] for t in targets], [FUNCTIONS[t] for t in ran], functions_in
    )
    return tuple(f.qualname for f in got.functions) + ((got.how,) if got.how == "test" else ())


def test_changed_functions_in_the_traceback_are_blamed() -> None:
    chain = frames(
        (TEST, 5, "helper(Box([1]))"), ("pkg/shapes.py", 10, ""), ("pkg/shapes.py", 6, "")
    )
    assert blamed(chain, ["helper", "Box.total", "Box.__init__"], ["Box.__init__"]) == (
        "helper",
        "Box.total",
    )


def test_an_unchanged_function_it_failed_in_beats_a_changed_one_it_merely_ran() -> None:
    chain = frames((TEST, 5, "helper(box)"), ("pkg/shapes.py", 10, ""), ("pkg/shapes.py", 6, ""))
    got = blame.blame(
        chain, TEST, [FUNCTIONS["Box.__init__"]], [FUNCTIONS["Box.__init__"]], functions_in
    )
    assert got.targets == () and got.failed_in is FUNCTIONS["Box.total"] and got.how == "failed-in"


def test_a_failing_assert_is_blamed_on_the_changed_functions_it_calls() -> None:
    line = frames((TEST, 5, "assert Box([1, 2]).total() == 3"))
    assert blamed(line, ["Box.__init__", "Box.total"], ["Box.__init__", "Box.total"]) == (
        "Box.total",
    )
    # a shard without Box.total: the test itself, never __init__ that it merely ran
    assert blamed(line, ["Box.__init__"], ["Box.__init__"]) == ("test",)
    # a line without calls checks a value computed before: the changed functions the test ran
    value = frames((TEST, 6, "assert result == 3"))
    assert blamed(value, ["Box.__init__", "Box.total"], ["Box.__init__"]) == ("Box.__init__",)


def test_library_and_test_helper_frames_are_not_project_code() -> None:
    chain = frames(
        (TEST, 5, "check(Box([1]))"),
        ("tests/helpers.py", 3, "assert x"),
        ("/usr/lib/python3.11/json/__init__.py", 9, ""),
        ("<frozen importlib._bootstrap>", 1, ""),
    )
    assert blame.project_frames(chain, TEST) == []
    assert blame.called_names("assert (f(x) and obj.g()) or not h (1)") == {"f", "g", "h"}
