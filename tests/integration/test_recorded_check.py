"""The recorded check end to end: a real git repository, its real pytest suite run in the sandbox with
the recorder, the calls replayed on base and head, and every reproducer run on both trees.

The change under review breaks four functions in ways the project's remaining tests do not notice;
only the inputs those tests (and the tests the change removed) pass reveal it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codegrad.model import Finding, Kind, Outcome, Severity
from codegrad.review import review
from codegrad.settings import build
from helpers_git import make_repo

BASE = '''
class Tokenizer:
    """Splits text on a separator chosen at construction."""

    def __init__(self, sep, strict=False):
        self.sep = sep
        self.strict = strict

    def split(self, text, maxsplit=None):
        if maxsplit is None:
            maxsplit = -1
        return text.split(self.sep, maxsplit)


class Basket:
    def __init__(self, owner):
        self.owner = owner
        self.items = []

    def add(self, item, qty=1):
        self.items.append((item, qty))


def describe(record):
    name = record.get("name") or "?"
    return name.title()


def evens(values):
    return (v for v in values if v % 2 == 0)


def untested(x):
    return x + 1
'''

HEAD = (
    BASE.replace("        if maxsplit is None:\n", "        if not maxsplit:\n")
    .replace(
        '    name = record.get("name") or "?"\n    return name.title()',
        '    return record["name"].title()',
    )
    .replace(
        "        self.items.append((item, qty))",
        "        self.items.append((item, qty))\n        if qty > 1:\n            self.items.append((item, qty))",
    )
    .replace("v % 2 == 0", "v % 2 == 0 or v < 0")
    .replace("return x + 1", "return x + 2")
)

TESTS = """
from pkg.shop import Basket, Tokenizer, describe, evens


def test_split():
    assert Tokenizer(",").split("a,b") == ["a", "b"]


def test_describe():
    assert describe({"name": "ann"}) == "Ann"


def test_basket():
    basket = Basket("zoe")
    basket.add("pen")
    basket.add("ink", 2)
    assert basket.owner == "zoe"


def test_evens():
    assert list(evens([1, 2, 4])) == [2, 4]
    assert evens([-3, 5]) is not None
"""

# the tests a bug fix once added; the change removes them together with the fixes
FIX_TESTS = """
from pkg.shop import Tokenizer, describe


def test_split_zero_keeps_the_text_whole():
    assert Tokenizer(";").split("a;b", 0) == ["a;b"]


def test_describe_without_a_name():
    assert describe({"id": 7}) == "?"
"""


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    repo = make_repo(tmp_path_factory.mktemp("recorded"))
    repo.write("pkg/__init__.py", "")
    repo.write("pkg/shop.py", textwrap.dedent(BASE))
    repo.write("tests/test_shop.py", textwrap.dedent(TESTS))
    repo.write("tests/test_fixes.py", textwrap.dedent(FIX_TESTS))
    base = repo.commit("base")
    repo.write("pkg/shop.py", textwrap.dedent(HEAD))
    (repo.path / "tests" / "test_fixes.py").unlink()
    head = repo.commit("head")
    settings = build(
        repo.path,
        {
            "base": base,
            "head": head,
            "checks": "recorded",
            "max_examples": 40,
            "function_timeout": 8.0,
        },
        env={},
    )
    return review(settings)


def finding(outcome: Outcome, function: str) -> Finding:
    found = [f for f in outcome.findings if f.function == function]
    assert len(found) == 1, [(f.function, f.message) for f in outcome.findings]
    return found[0]


def test_a_method_of_a_class_without_a_plain_constructor_is_replayed_with_the_recorded_self(
    outcome: Outcome,
) -> None:
    split = finding(outcome, "Tokenizer.split")
    assert split.check == "recorded" and split.kind is Kind.BEHAVIOUR_CHANGE
    # the call came from a test the change removed: head's tests no longer pin this result
    assert split.level is Severity.WARNING
    assert split.input == "_new(Tokenizer, sep=';', strict=False).split('a;b', 0)"
    assert split.expected == "returned ['a;b']" and split.actual == "returned ['a', 'b']"
    assert "tests/test_fixes.py::test_split_zero_keeps_the_text_whole" in split.message
    assert split.details["side"] == "base" and split.details["reached_changed_lines"] is True
    assert split.details["reproducer_checked"] == "fails on head, passes on base"


def test_a_new_crash_on_an_input_the_tests_used_is_an_error(outcome: Outcome) -> None:
    crash = finding(outcome, "describe")
    assert crash.kind is Kind.CRASH and crash.level is Severity.ERROR
    assert crash.input == "describe({'id': 7})"
    assert crash.expected == "returned '?'" and (crash.actual or "").startswith("raised KeyError")
    assert any('record["name"]' in line for line in crash.traceback)
    assert crash.reproducer is not None and "assert describe({'id': 7}) == '?'" in crash.reproducer


def test_what_a_method_does_to_self_is_compared(outcome: Outcome) -> None:
    add = finding(outcome, "Basket.add")
    assert (
        add.kind is Kind.BEHAVIOUR_CHANGE and add.level is Severity.NOTE
    )  # head's tests make the call too
    assert add.details["side"] == "head" and add.details["mutated"]["index"] == 0
    assert (
        add.details["mutated"]["head"]
        == "Basket(owner='zoe', items=[('pen', 1), ('ink', 2), ('ink', 2)])"
    )
    assert add.details["mutated"]["base"] == "Basket(owner='zoe', items=[('pen', 1), ('ink', 2)])"
    assert add.details["reproducer_checked"] == "fails on head, passes on base"


def test_generators_are_consumed_the_same_way_in_the_check_and_the_reproducer(
    outcome: Outcome,
) -> None:
    gen = finding(outcome, "evens")
    assert gen.expected == "returned <generator yielding []>"
    assert gen.actual == "returned <generator yielding [-3]>"
    assert gen.details["base"]["consumed"] == "generator"
    assert gen.reproducer is not None
    assert "equivalent(materialise(evens([-3, 5])), Consumed('generator', []))" in gen.reproducer
    assert gen.details["reproducer_checked"] == "fails on head, passes on base"


def test_every_published_reproducer_passes_on_base_and_fails_on_head(
    outcome: Outcome, tmp_path: Path
) -> None:
    published = [f for f in outcome.findings if f.reproducer]
    assert len(published) == 4
    for f in published:
        assert f.reproducer is not None
        ast.parse(f.reproducer)


def test_a_function_no_test_calls_is_skipped_with_the_reason(outcome: Outcome) -> None:
    (result,) = [r for r in outcome.evidence.results if r.check == "recorded"]
    assert result.skipped["pkg/shop.py::untested"] == "no project test calls this function"
    assert set(result.checked) == {
        "pkg/shop.py::Tokenizer.split",
        "pkg/shop.py::describe",
        "pkg/shop.py::Basket.add",
        "pkg/shop.py::evens",
    }
    assert result.stats["recorded"]["pkg/shop.py::describe"] == 2  # one from each suite


def test_reproducers_run_with_plain_pytest_on_the_trees(outcome: Outcome, tmp_path: Path) -> None:
    """The published test of the method finding, run by hand with pytest against base and head."""
    split = finding(outcome, "Tokenizer.split")
    assert split.reproducer is not None
    for side, source, expected in (("base", BASE, 0), ("head", HEAD, 1)):
        tree = tmp_path / side
        (tree / "pkg").mkdir(parents=True)
        (tree / "pkg" / "__init__.py").write_text("")
        (tree / "pkg" / "shop.py").write_text(textwrap.dedent(source))
        (tree / "test_repro.py").write_text(split.reproducer)
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_repro.py"],
            cwd=tree,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == expected, proc.stdout + proc.stderr


NEW_FUNCTION = """
def scale(values, factor):
    return [v * factor for v in values]
"""


def test_recorded_values_give_unannotated_parameters_a_strategy(tmp_path: Path) -> None:
    """A new, unannotated function: the properties check plans it from the values its tests pass."""
    repo = make_repo(tmp_path)
    repo.write("pkg/__init__.py", "")
    repo.write("pkg/shop.py", "")
    repo.write("tests/test_shop.py", "def test_nothing():\n    pass\n")
    base = repo.commit("base")
    repo.write("pkg/shop.py", textwrap.dedent(NEW_FUNCTION))
    repo.write(
        "tests/test_shop.py",
        "from pkg.shop import scale\n\n\ndef test_scale():\n    assert scale([1, 2], 3) == [3, 6]\n",
    )
    head = repo.commit("head")
    key = "pkg/shop.py::scale"
    results = {}
    for checks in ("properties", "recorded,properties"):
        settings = build(
            repo.path,
            {"base": base, "head": head, "checks": checks, "max_examples": 20},
            env={},
        )
        outcome = review(settings)
        (results[checks],) = [r for r in outcome.evidence.results if r.check == "properties"]
    assert "cannot infer a strategy" in results["properties"].skipped[key]
    assert key in results["recorded,properties"].checked
