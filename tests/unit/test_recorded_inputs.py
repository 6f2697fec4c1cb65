"""Pure steps around recorded inputs: reading recordings, widening plans, severities, reproducers."""

from __future__ import annotations

import json
import textwrap
from dataclasses import replace
from typing import Any

from hypothesis import find

from codegrad.diff.changes import all_functions
from codegrad.model import Finding, Kind, Severity, Target
from codegrad.runners import hypo
from codegrad.verify import recorded_reproducer, reprocheck, reproducer
from codegrad.verify.checks import recorded, recorded_findings
from codegrad.verify.inputs import recorded_calls, strategies, widening


def target(source: str, changed: tuple[int, ...] = (), base: str | None = None) -> Target:
    (made,) = all_functions("mod.py", textwrap.dedent(source))
    return replace(made, changed_lines=changed, base_source=textwrap.dedent(base) if base else None)


# ---------------------------------------------------------------- reading recordings


def line(**record: Any) -> str:
    return json.dumps(record)


def test_recordings_keep_well_formed_calls_of_known_targets_only() -> None:
    good = {"args": [1, {"l": [2], "#": 0}], "kwargs": [["k", "v"]]}
    text = "\n".join(
        [
            line(key="mod.py::f", test="t::a", call=good, raised=None),
            line(key="mod.py::f", test="t::b", call=good, raised=None),  # same arguments: once
            line(key="mod.py::other", test="t::a", call=good, raised=None),  # not a target
            line(key="mod.py::f", test="t::c", call={"args": "nope"}, raised=None),
            line(key="mod.py::f", test="t::d", call={"args": [], "kwargs": [[1, 2]]}, raised=None),
            line(key="mod.py::f", test="t::e", call={"args": [3]}, raised=7),
            "{not json",
            "x" * (recorded_calls.MAX_LINE + 1),
            line(
                summary={
                    "mod.py::f": {
                        "installed": True,
                        "seen": 9,
                        "recorded": 2,
                        "unrecordable": {"lock": 1},
                    }
                }
            ),
        ]
    )
    found = recorded_calls.parse(text, "head", ["mod.py::f"])
    calls = found.for_key("mod.py::f")
    assert [c.test for c in calls] == ["t::a"]
    assert calls[0].call == good and calls[0].side == "head"
    assert found.summary["mod.py::f"]["head"]["seen"] == 9


def test_values_of_calls_that_raised_do_not_describe_the_domain() -> None:
    # `with assertRaises(TypeError): subfactorial(5.0)` passes a value the function rejects
    func = target("def subfactorial(n):\n    return n\n")
    calls = [
        recorded_calls.Call(func.key, {"args": [5], "kwargs": []}, "t::ok", "head", None),
        recorded_calls.Call(func.key, {"args": [5.0], "kwargs": []}, "t::bad", "head", "TypeError"),
    ]
    assert recorded_calls.values_by_name(func, calls) == {"n": [5]}


def test_recordings_are_bounded_per_target_and_side() -> None:
    text = "\n".join(
        line(key="k", test="t", call={"args": [i], "kwargs": []}, raised=None)
        for i in range(recorded_calls.MAX_CALLS + 20)
    )
    found = recorded_calls.parse(text, "base", ["k"])
    found = recorded_calls.parse(text, "head", ["k"], into=found)
    sides = [c.side for c in found.for_key("k")]
    assert sides.count("base") == sides.count("head") == recorded_calls.MAX_CALLS


def test_calls_made_on_both_sides_are_marked_and_kept_once() -> None:
    call = {"args": [1], "kwargs": []}
    found = recorded_calls.parse(line(key="k", test="t", call=call, raised=None), "base", ["k"])
    recorded_calls.parse(line(key="k", test="t", call=call, raised=None), "head", ["k"], into=found)
    recorded_calls.parse(
        line(key="k", test="u", call={"args": [2], "kwargs": []}, raised="ValueError"),
        "base",
        ["k"],
        into=found,
    )
    out = recorded.calls_json(found.for_key("k"))
    assert [(c["call"]["args"], c["side"], c["raised"]) for c in out] == [
        ([1], "both", None),
        ([2], "base", "ValueError"),
    ]


def test_plain_values_are_bound_to_parameter_names_objects_stay_encoded() -> None:
    obj = {"r": {"g": "pkg:Thing"}, "a": {"t": []}, "#": 0}
    call = recorded_calls.Call(
        "k",
        {"args": [obj, {"l": [1, 2], "#": 1}, "x"], "kwargs": [["flag", True]]},
        "t",
        "head",
        None,
    )
    assert recorded_calls.bound_values(call, ["self", "items", "text"], None) == {
        "items": [1, 2],
        "text": "x",
        "flag": True,
    }
    assert recorded_calls.encoded_values(call, ["self", "items", "text"])["self"] == obj


def test_growing_a_method_uses_the_recorded_selves_and_plans_the_other_parameters() -> None:
    method = textwrap.dedent(
        """
        class Tokenizer:
            def split(self, text, maxsplit=None):
                return text.split(self.sep, maxsplit)
        """
    )
    (made,) = [t for t in all_functions("mod.py", method) if t.qualname == "Tokenizer.split"]
    me = {"r": {"g": "mod:Tokenizer"}, "a": {"t": []}, "#": 0}
    calls = [
        recorded_calls.Call("k", {"args": [me, "a,b"], "kwargs": []}, "t", "head", None),
        recorded_calls.Call("k", {"args": [me, "a;b", 2], "kwargs": []}, "t", "head", None),
    ]
    plan = recorded.grow_plan(made, calls)
    assert plan is not None
    by_name = {p["name"]: p for p in plan["params"]}
    assert by_name["self"]["pool"] == [0, 1] and plan["pool"] == [me, me]
    assert "'a,b'" in by_name["text"]["strategy"]
    assert "st.none()" in by_name["maxsplit"]["strategy"] and "2" in by_name["maxsplit"]["strategy"]
    # without a recorded self there is nothing to call the method on
    assert recorded.grow_plan(made, []) is None


# ---------------------------------------------------------------- widening for the comparison


def test_the_diffs_constants_and_their_neighbours_are_boundaries() -> None:
    func = target(
        """
        def bucket(n: int, label="small"):
            if n > 10:
                return "big"
            return label
        """,
        changed=(3, 4),
    )
    assert widening.changed_constants(func) == [10, "big"]
    assert widening.boundary_values("int", [10, "big"]) == [0, 1, -1, 9, 10, 11]
    # a string constant also inside a longer word: `endswith("ss")` asks about "xss"
    assert widening.boundary_values("str", [10, "big"]) == ["", " ", "big", "xbig", "bigx"]
    assert widening.boundary_values("list", []) == [[]]
    assert widening.boundary_values(None, [10]) == []


def test_constants_on_the_lines_a_change_removed_are_boundaries_too() -> None:
    # a revert of a fix: the boundary ('ss') is only on base's side of the diff
    func = target(
        """
        def singular(word):
            if word.endswith("s"):
                return word[:-1]
            return word
        """,
        changed=(3,),
        base="""
        def singular(word):
            if word.endswith("ss"):
                return word
            if word.endswith("s"):
                return word[:-1]
            return word
        """,
    )
    assert widening.changed_constants(func) == ["s", "ss"]


def test_example_results_and_one_shot_iterators_widen_the_comparison() -> None:
    func = target(
        """
        def first_two(items):
            \"\"\"
            >>> first_two([3, 4, 5])
            [3, 4]
            >>> first_two(range(3))
            [0, 1]
            \"\"\"
            items = tuple(items)
            return list(items[:2])
        """,
        changed=(7,),
    )
    plan = strategies.plan(func)
    assert isinstance(plan, strategies.ArgPlan)
    # `range(3)` is a value too (written as its list)
    assert [e.args for e in plan.examples] == [("[3, 4, 5]",), ("[0, 1, 2]",)]
    wide = widening.for_comparison(plan, func, drop_first=False).params[0].wide
    one_shot = find(hypo.strategy(wide), lambda d: isinstance(d, type(iter([]))))
    assert list(one_shot) == []  # one-shot iterators are drawn (the minimal one is empty)
    assert "[3, 4]" in wide and "[0, 1]" in wide  # the examples' results fed back in


def test_a_none_default_is_varied_for_the_comparison() -> None:
    func = target(
        """
        def split(text: str, maxsplit=None):
            if not maxsplit:
                maxsplit = -1
            return text.split(",", maxsplit)
        """,
        changed=(3,),
    )
    plan = strategies.plan(func)
    assert isinstance(plan, strategies.ArgPlan)
    assert [p.name for p in plan.params] == ["text"]  # properties leave maxsplit to its default
    wide = widening.for_comparison(plan, func, drop_first=False)
    by_name = {p.name: p for p in wide.params}
    assert by_name["maxsplit"].strategy == "st.none()"
    assert by_name["maxsplit"].wide == "st.one_of(st.none(), st.sampled_from([0, 1, -1, '', []]))"
    assert "''" in by_name["text"].wide and by_name["text"].strategy == plan.params[0].strategy


# ---------------------------------------------------------------- severities


BASE_SRC = """
def parse(text):
    if not text:
        raise ValueError("empty")
    return int(text)
"""


def classify(failure: dict[str, Any], head: str = BASE_SRC) -> tuple[Kind, Severity, str]:
    return recorded_findings.classify(target(head, base=BASE_SRC), failure)


def test_a_new_crash_on_a_recorded_input_is_an_error_on_a_grown_one_a_warning() -> None:
    failure = {"base": {"value": "1"}, "head": {"raised": "TypeError"}, "side": "head"}
    assert classify(failure)[:2] == (Kind.CRASH, Severity.ERROR)
    assert classify({**failure, "grown": True})[:2] == (Kind.CRASH, Severity.WARNING)
    # head raises it on purpose: a behaviour change, not a crash
    deliberate = BASE_SRC.replace('raise ValueError("empty")', 'raise TypeError("empty")')
    assert classify(failure, head=deliberate)[:2] == (Kind.BEHAVIOUR_CHANGE, Severity.NOTE)


def test_a_dropped_rejection_is_a_warning_only_when_the_removed_tests_checked_it() -> None:
    failure = {"base": {"raised": "ValueError"}, "head": {"value": "0"}, "side": "head"}
    assert classify(failure)[:2] == (Kind.BEHAVIOUR_CHANGE, Severity.NOTE)
    checked = {**failure, "side": "base", "recorded_raised": "ValueError", "test_gone": True}
    assert classify(checked)[:2] == (Kind.BEHAVIOUR_CHANGE, Severity.WARNING)
    assert classify({**checked, "side": "both"})[1] is Severity.NOTE
    assert classify({**checked, "test_gone": False})[1] is Severity.NOTE  # the test was edited


def test_a_changed_value_is_a_warning_only_when_the_change_removed_the_test() -> None:
    failure = {"base": {"value": "1"}, "head": {"value": "2"}}
    assert classify({**failure, "side": "head"})[1] is Severity.NOTE
    assert classify({**failure, "side": "both"})[1] is Severity.NOTE
    assert classify({**failure, "side": "base", "test_gone": False})[1] is Severity.NOTE
    assert classify({**failure, "side": "base", "test_gone": True})[1] is Severity.WARNING


# ---------------------------------------------------------------- reproducers


SUBJECT = reproducer.Subject("src/pkg/shop.py", "Basket.add", "method")


def test_a_replayed_call_becomes_a_test_with_the_helper_and_imports() -> None:
    text = recorded_reproducer.replayed_test(
        SUBJECT,
        {
            "call": "_new(Basket, items=[]).total()",
            "imports": {"pkg.shop": ["Basket"]},
            "needs_new": True,
        },
        {"value": "0", "literal": "0"},
        {"value": "1", "literal": "1"},
        "found by codegrad: a call",
    )
    assert text is not None
    compile(text, "test_x.py", "exec")
    assert "from pkg.shop import Basket" in text and "def _new(cls, **state):" in text
    assert "    assert _new(Basket, items=[]).total() == 0" in text


def test_an_object_result_is_compared_as_the_check_compared_it() -> None:
    text = recorded_reproducer.replayed_test(
        SUBJECT,
        {
            "call": "_new(Basket, items=[]).copy()",
            "imports": {"pkg.shop": ["Basket"]},
            "needs_new": True,
        },
        {"value": "Basket(items=[])", "source": "Like('Basket', items=[])"},
        {"value": "None", "literal": "None"},
        "note",
    )
    assert text is not None
    assert "    assert equivalent(_new(Basket, items=[]).copy(), Like('Basket', items=[]))" in text
    assert "\ndef equivalent(" in text and "\nclass Like" in text  # the comparison is copied in
    compile(text, "test_x.py", "exec")


def test_a_mutated_argument_is_bound_and_compared_after_the_call() -> None:
    text = recorded_reproducer.replayed_test(
        SUBJECT,
        {
            "call": "_new(Basket, items=[]).add('x', 2)",
            "mutated": "receiver",
            "after": "Like('Basket', items=[('x', 2)])",
            "imports": {"pkg.shop": ["Basket"]},
            "needs_new": True,
        },
        {"value": "None", "literal": "None"},
        {"value": "None", "literal": "None"},
        "note",
    )
    assert text is not None
    assert "    arg = _new(Basket, items=[])\n    arg.add('x', 2)\n" in text
    assert "    assert equivalent(arg, Like('Basket', items=[('x', 2)]))" in text
    sorter = recorded_reproducer.replayed_test(
        reproducer.Subject("m.py", "sort_in_place"),
        {
            "call": "sort_in_place([3, 1])",
            "mutated": 0,
            "after": "[1, 3]",
            "imports": {"m": ["sort_in_place"]},
        },
        {"value": "None", "literal": "None"},
        {"value": "None", "literal": "None"},
        "note",
    )
    assert sorter is not None and "    arg = [3, 1]\n    sort_in_place(arg)\n" in sorter


def test_a_consumed_iterator_is_consumed_in_the_test_too() -> None:
    text = recorded_reproducer.replayed_test(
        reproducer.Subject("m.py", "evens"),
        {"call": "evens([-3, 5])", "imports": {"m": ["evens"]}},
        {
            "value": "<generator yielding []>",
            "source": "Consumed('generator', [])",
            "consumed": "generator",
        },
        {"value": "<generator yielding [-3]>", "consumed": "generator"},
        "note",
    )
    assert text is not None
    assert "    assert equivalent(materialise(evens([-3, 5])), Consumed('generator', []))" in text
    compile(text, "t.py", "exec")


def test_no_reproducer_without_source_to_write() -> None:
    assert (
        recorded_reproducer.replayed_test(
            SUBJECT, {"call": "f(<obj>)"}, {"value": "1"}, {"value": "2"}, ""
        )
        is None
    )
    mutated = {"call": "f(1)", "mutated": 0, "after": None}
    assert (
        recorded_reproducer.replayed_test(SUBJECT, mutated, {"value": "1"}, {"value": "2"}, "")
        is None
    )


# ---------------------------------------------------------------- checking reproducers


def finding(base_fails_same: bool | None) -> Finding:
    return Finding(
        path="m.py",
        function="f",
        line=1,
        check="recorded",
        kind=Kind.BEHAVIOUR_CHANGE,
        message="m",
        base_fails_same=base_fails_same,
        reproducer="def test_x():\n    assert False\n",
    )


def test_a_reproducer_must_fail_on_head_and_pass_on_base_when_base_behaves() -> None:
    regression = finding(False)
    assert reprocheck.verdict(regression, "failed", "passed", True) is None
    assert (
        reprocheck.verdict(regression, "passed", "passed", True) == "the reproducer passes on head"
    )
    assert (
        reprocheck.verdict(regression, "failed", "failed", True) == "the reproducer fails on base"
    )
    assert (
        reprocheck.verdict(regression, None, "passed", True) == "the reproducer did not run on head"
    )
    pre_existing = finding(True)
    assert reprocheck.verdict(pre_existing, "failed", "failed", True) is None
    assert (
        reprocheck.verdict(pre_existing, "failed", "passed", True)
        == "the reproducer passes on base"
    )
    new_code = finding(None)
    assert reprocheck.verdict(new_code, "failed", None, False) is None
    assert not reprocheck.wanted(replace(regression, reproducer="python -m pytest 'a::b'"))
    assert not reprocheck.wanted(replace(regression, check="project-tests"))


def test_hypothesis_plugin_loads_only_for_reproducers_that_use_it() -> None:
    plain = "def test_x():\n    assert f(1) == 2\n"
    given = "from hypothesis import given\n" + plain
    assert reprocheck.plugin_options([plain]) == ["-p", "no:hypothesispytest"]
    assert reprocheck.plugin_options([plain, given]) == []


def test_chained_doctests_are_read_as_examples() -> None:
    func = target(
        '''
        def sort_copy(items):
            """Sorted copy.

            >>> data = [3, 1, 2]
            >>> sort_copy(data)
            [1, 2, 3]
            >>> data.append(0)
            >>> sort_copy(data)
            [0, 1, 2, 3]
            """
            return sorted(items)
        '''
    )
    plan = strategies.plan(func)
    assert isinstance(plan, strategies.ArgPlan)
    # the first call uses the literal the name holds; after data.append(0) the name is not a literal
    assert [e.args for e in plan.examples] == [("[3, 1, 2]",)]
    assert plan.params[0].origin == "examples"


def test_the_report_says_how_many_calls_reached_the_changed_lines() -> None:
    from codegrad.render.markdown import reach_note

    stats = {"calls": 12, "in_domain": 10, "reached": 7, "grown_calls": 40, "grown_reached": 22}
    assert reach_note("recorded", stats) == (
        "recorded: 12 call(s), 10 inside base's domain, 7 reached the changed lines; "
        "40 grown from them, 22 reached"
    )
    assert reach_note("properties", {"calls": 3}) is None
