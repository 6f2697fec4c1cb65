"""Reproducer rendering: every generated test compiles, pins the counterexample and asserts what failed."""

from __future__ import annotations

import ast

import pytest

from codegrad.verify import embedded, reproducer
from codegrad.verify.reproducer import PropertyCase, Subject


def compiles(source: str) -> ast.Module:
    compile(source, "test_generated.py", "exec")
    return ast.parse(source)


def test_module_names() -> None:
    assert reproducer.module_name("task.py") == "task"
    assert reproducer.module_name("src/pkg/mod.py") == "pkg.mod"
    assert reproducer.module_name("pkg/sub/__init__.py") == "pkg.sub"


def test_crash_test_pins_the_minimal_example_and_tolerates_deliberate_errors() -> None:
    source = reproducer.property_test(
        Subject("src/pkg/stats.py", "mean"),
        PropertyCase(
            prop="crash",
            params=(
                ("xs", "st.lists(st.integers(), max_size=5)", False, False),
                ("k", "st.integers()", True, False),
            ),
            example={"xs": "[]", "k": "0"},
            allowed=("ValueError",),
            note="found by codegrad: mean([], k=0)",
        ),
    )
    tree = compiles(source)
    assert "from pkg.stats import mean" in source
    assert "@example(xs=[], k=0)" in source
    assert "@given(xs=st.lists(st.integers(), max_size=5), k=st.integers())" in source
    assert "mean(xs, k=k)" in source and "except (ValueError,):" in source
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert names == ["test_mean_does_not_crash"]


def test_return_type_assertion_matches_the_spec() -> None:
    spec = {
        "t": "union",
        "of": [
            {"t": "none"},
            {"t": "list", "elem": {"t": "tuple", "of": [{"t": "int"}, {"t": "str"}]}},
        ],
    }
    source = reproducer.property_test(
        Subject("m.py", "pairs"),
        PropertyCase(
            prop="return-type",
            params=(("n", "st.integers()", False, False),),
            example={"n": "3"},
            returns=spec,
        ),
    )
    compiles(source)
    expression = reproducer.type_expr(spec, "result")
    check = eval(f"lambda result: {expression}")
    assert check(None) and check([(1, "a")]) and check([])
    assert not check([(1, 2)]) and not check([(True, "a")]) and not check(((1, "a"),))
    assert eval(f"lambda result: {reproducer.type_expr({'t': 'float'}, 'result')}")(3)


def test_idempotence_and_round_trip_bodies() -> None:
    idem = reproducer.property_test(
        Subject("m.py", "normalize"),
        PropertyCase(
            prop="idempotence", params=(("s", "st.text()", False, False),), example={"s": "' a'"}
        ),
    )
    compiles(idem)
    assert "once = normalize(s)" in idem and "assert normalize(once) == once" in idem
    trip = reproducer.property_test(
        Subject("m.py", "decode"),
        PropertyCase(
            prop="round-trip",
            params=(("s", "st.text()", False, False),),
            example={"s": "'ab'"},
            encode="encode",
            decode="decode",
        ),
    )
    compiles(trip)
    assert (
        "from m import decode, encode" in trip
        and "assert encode(decode(encoded)) == encoded" in trip
    )


def test_methods_and_async_functions_are_called_correctly() -> None:
    method = reproducer.property_test(
        Subject("m.py", "Box.size", kind="method"),
        PropertyCase(
            prop="crash", params=(("n", "st.integers()", False, False),), example={"n": "1"}
        ),
    )
    compiles(method)
    assert "from m import Box" in method and "Box().size(n)" in method
    coro = reproducer.property_test(
        Subject("m.py", "fetch", is_async=True),
        PropertyCase(
            prop="crash", params=(("n", "st.integers()", False, False),), example={"n": "1"}
        ),
    )
    compiles(coro)
    assert "import asyncio" in coro and "asyncio.run(fetch(n))" in coro


def test_an_example_that_is_not_source_becomes_a_comment() -> None:
    source = reproducer.property_test(
        Subject("m.py", "f"),
        PropertyCase(
            prop="crash",
            params=(("x", "st.builds(object)", False, False),),
            example={"x": "<object object at 0x1>"},
        ),
    )
    compiles(source)
    assert "@example(" not in source and "# minimal counterexample" in source


@pytest.mark.parametrize(
    ("base", "expected_line"),
    [
        ({"value": "3", "literal": "3"}, "assert f([1, 2]) == 3"),
        ({"raised": "ValueError", "message": "bad"}, "with pytest.raises(ValueError):"),
        ({"value": "<Thing>", "literal": None}, "assert repr(f([1, 2])) == '<Thing>'"),
    ],
)
def test_behaviour_test_pins_base_behaviour(base: dict[str, object], expected_line: str) -> None:
    source = reproducer.behaviour_test(
        Subject("pkg/m.py", "f"), "f([1, 2])", base, {"value": "4", "literal": "4"}
    )
    compiles(source)
    assert expected_line in source
    assert "from pkg.m import f" in source
    assert "# base: " in source and "head: returned 4" in source


def test_outcome_text_is_one_line() -> None:
    assert (
        reproducer.outcome_text({"raised": "KeyError", "message": "'a'\nmore"})
        == "raised KeyError: 'a' more"
    )
    assert reproducer.outcome_text({"timeout": True}) == "did not finish in time"
    assert reproducer.outcome_text({"value": "[1]"}) == "returned [1]"


def behaviour(base: dict[str, object], head: dict[str, object], qualname: str = "f") -> str:
    source = reproducer.behaviour_test(Subject("pkg/m.py", qualname), "f(2)", base, head)
    compiles(source)
    return source


def test_an_object_is_pinned_with_the_copied_comparison() -> None:
    base = {
        "value": "Span(low=1, high=2)",
        "literal": None,
        "source": "Like('Span', low=1, high=2)",
    }
    source = behaviour(base, {"raised": "ValueError", "message": "no"})
    assert "    assert equivalent(f(2), Like('Span', low=1, high=2))" in source
    assert "\ndef equivalent(a, b, rel_tol=1e-06, abs_tol=1e-09):" in source
    assert "\nclass Like:" in source and "\nclass Consumed(list):" not in source
    assert "import math\n" in source and "from pkg.m import f\n" in source
    assert source.index("def test_f_keeps_base_behaviour") < source.index(embedded.NOTE)


def test_floats_use_the_tolerant_comparison_and_exact_literals_stay_plain() -> None:
    floats = behaviour({"value": "0.3", "literal": "0.3", "source": "0.3"}, {"value": "0.4"})
    assert "assert f(2) == pytest.approx(0.3, rel=1e-6, abs=1e-9)" in floats
    assert "import pytest" in floats and embedded.NOTE not in floats
    nested = behaviour({"value": "{'a': [0.5]}", "literal": "{'a': [0.5]}"}, {"value": "{}"})
    assert "assert equivalent(f(2), {'a': [0.5]})" in nested and embedded.NOTE in nested
    plain = behaviour({"value": "[1, 'a']", "literal": "[1, 'a']", "source": "[1, 'a']"}, {})
    assert "assert f(2) == [1, 'a']" in plain and embedded.NOTE not in plain


def test_an_iterator_is_consumed_as_the_check_consumed_it() -> None:
    base = {"value": "<generator yielding [1]>", "source": "Consumed('generator', [1])"}
    source = behaviour({**base, "consumed": "generator"}, {"value": "[1]", "literal": "[1]"})
    assert "assert equivalent(materialise(f(2)), Consumed('generator', [1]))" in source
    assert "\ndef materialise(value, limit=GENERATOR_LIMIT):" in source
    raised = behaviour({"raised": "KeyError", "message": "", "consumed": True}, {"value": "1"})
    assert "with pytest.raises(KeyError):\n        materialise(f(2))" in raised


def test_a_repr_with_an_address_is_compared_without_it() -> None:
    base = {"value": "<Lock object>", "literal": None, "repr": "<m.Lock object>"}
    source = behaviour(base, {"value": "None", "literal": "None"})
    assert "assert without_addresses(repr(f(2))) == '<m.Lock object>'" in source
    assert "\ndef without_addresses(text):" in source and "def equivalent" not in source


def test_the_projects_own_name_is_never_shadowed_by_a_copied_helper() -> None:
    base = {"value": "Span(low=1)", "literal": None, "source": "Like('Span', low=1)"}
    source = reproducer.behaviour_test(Subject("m.py", "equivalent"), "equivalent(2)", base, {})
    compiles(source)
    assert embedded.NOTE not in source and "from m import equivalent" in source
    assert "assert repr(equivalent(2)) == 'Span(low=1)'" in source


def test_idempotence_and_round_trip_on_floats_or_objects_compare_as_the_check() -> None:
    case = PropertyCase(
        prop="idempotence",
        params=(("x", "st.floats(allow_nan=False)", False, False),),
        example={"x": "0.1"},
        tolerant=True,
    )
    idem = reproducer.property_test(Subject("m.py", "snap"), case)
    compiles(idem)
    assert "assert equivalent(snap(once), once)" in idem and embedded.NOTE in idem
    namespace: dict[str, object] = {}
    helpers = idem[idem.index(embedded.NOTE) :]
    exec(compile("import math, re, types\n" + helpers, "helpers.py", "exec"), namespace)
    assert namespace["equivalent"](0.1 + 0.2, 0.3)  # type: ignore[operator]
    trip = reproducer.property_test(
        Subject("m.py", "decode"),
        PropertyCase(
            prop="round-trip",
            params=(("s", "st.text()", False, False),),
            example={"s": "'a'"},
            encode="encode",
            decode="decode",
            tolerant=True,
        ),
    )
    assert "assert equivalent(encode(decode(encoded)), encoded)" in trip
