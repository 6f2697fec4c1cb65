"""Strategy inference: annotations, docstring examples (domain narrowing), defaults, unsupported parameters."""

from __future__ import annotations

import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from codegrad import funcsource
from codegrad.model import Target
from codegrad.verify.inputs import strategies
from codegrad.verify.inputs.strategies import ArgPlan, Skip


def target(
    source: str,
    *,
    kind: str = "function",
    qualname: str | None = None,
    class_name: str | None = None,
) -> Target:
    source = textwrap.dedent(source)
    node = funcsource.parse_def(source)
    assert node is not None
    import ast

    return Target(
        path="mod.py",
        qualname=qualname or node.name,
        lineno=1,
        end_lineno=source.count("\n"),
        source=source,
        kind=kind,
        class_name=class_name,
        docstring=ast.get_docstring(node),
    )


def planned(source: str, **kwargs: object) -> ArgPlan:
    made = strategies.plan(target(source, **kwargs))  # type: ignore[arg-type]
    assert isinstance(made, ArgPlan), made
    return made


def samples(source_text: str, n: int = 60) -> list[object]:
    """Values drawn from generated strategy source (deterministically)."""
    strategy = eval(source_text, {"st": st})
    out: list[object] = []

    @settings(max_examples=n, database=None, derandomize=True)
    @given(strategy)
    def collect(value: object) -> None:
        out.append(value)

    collect()
    return out


def by_name(plan: ArgPlan) -> dict[str, strategies.ParamPlan]:
    return {p.name: p for p in plan.params}


def test_annotation_only_builds_typed_strategies() -> None:
    plan = planned(
        """
        def f(xs: list[int], name: str, flag: bool, pair: tuple[int, str], maybe: Optional[float]) -> int:
            return 0
        """
    )
    params = by_name(plan)
    assert params["xs"].origin == "annotation"
    assert params["xs"].strategy.startswith("st.lists(st.integers(")
    assert params["name"].strategy.startswith("st.text(")
    assert params["flag"].strategy == "st.booleans()"
    assert params["pair"].strategy.startswith("st.tuples(st.integers(")
    assert "st.none()" in params["maybe"].strategy and "st.floats(" in params["maybe"].strategy
    assert plan.returns == "int"
    for value in samples(params["xs"].strategy):
        assert isinstance(value, list) and all(
            isinstance(v, int) and -1000 <= v <= 1000 for v in value
        )


def test_examples_narrow_the_domain_of_an_annotated_parameter() -> None:
    plan = planned(
        '''
        def total(xs: List[int], k: int) -> int:
            """Sum of the k largest.
            >>> total([3, 1, 2], 2)
            5
            >>> total([10, 4], 1)
            10
            """
        '''
    )
    xs, k = by_name(plan)["xs"], by_name(plan)["k"]
    assert xs.origin == "annotation+examples"
    drawn = samples(xs.strategy, 100)
    assert [3, 1, 2] in drawn  # the example values themselves are mixed in
    for value in drawn:
        assert isinstance(value, list) and len(value) >= 2  # no example shows a shorter list
        assert all(0 <= v <= 30 for v in value)  # every example element is >= 0: stays >= 0
    assert all(isinstance(v, int) and 1 <= v <= 10 for v in samples(k.strategy))


def test_examples_only_infer_types_alphabet_and_sizes() -> None:
    plan = planned(
        '''
        def flip(s, n):
            """>>> flip('abc', 2)
            'cba'
            >>> flip('Hello', 0)
            'olleH'
            """
        '''
    )
    s, n = by_name(plan)["s"], by_name(plan)["n"]
    assert s.origin == "examples"
    for value in samples(s.strategy, 100):
        assert isinstance(value, str) and value and value.isascii() and value.isalpha()
    assert all(isinstance(v, int) and v >= 0 for v in samples(n.strategy))
    assert [e.args for e in plan.examples] == [("'abc'", "2"), ("'Hello'", "0")]


def test_strings_holding_numbers_and_layouts_stay_well_formed() -> None:
    plan = planned(
        '''
        def simplify(x, n):
            """simplify("1/5", "5/1") = True
            simplify("7/10", "10/2") = False
            """
        '''
    )
    for value in samples(by_name(plan)["n"].strategy, 100):
        top, bottom = value.split("/")  # type: ignore[union-attr]
        assert int(top) >= 1 and int(bottom) >= 1
    plan = planned(
        '''
        def closest(value):
            """>>> closest("10")
            10
            >>> closest("-14.5")
            -15
            """
        '''
    )
    for value in samples(by_name(plan)["value"].strategy, 100):
        float(value)  # type: ignore[arg-type]


def test_sentences_recombine_observed_words() -> None:
    plan = planned(
        '''
        def sort_numbers(numbers: str) -> str:
            """>>> sort_numbers('three one five')
            'one three five'
            """
        '''
    )
    for value in samples(by_name(plan)["numbers"].strategy, 100):
        assert set(value.split(" ")) <= {"three", "one", "five"}  # type: ignore[union-attr]


def test_distinct_and_sorted_examples_keep_lists_distinct_and_sorted() -> None:
    plan = planned(
        '''
        def rescale(numbers: List[float]) -> List[float]:
            """>>> rescale([1.0, 2.0, 3.0])
            [0.0, 0.5, 1.0]
            >>> rescale([2.0, 5.0, 9.0, 10.0])
            [0.0, 0.375, 0.875, 1.0]
            """
        '''
    )
    for value in samples(by_name(plan)["numbers"].strategy, 100):
        assert len(set(value)) == len(value) >= 2  # type: ignore[arg-type]
        assert value == sorted(value)  # type: ignore[type-var]


def test_widened_strategy_for_the_differential_reaches_past_the_examples() -> None:
    plan = planned(
        '''
        def f(n: int) -> int:
            """>>> f(5)
            5
            """
        '''
    )
    narrow = samples(by_name(plan)["n"].strategy, 200)
    wide = samples(by_name(plan)["n"].wide, 200)
    assert min(narrow) >= 1  # type: ignore[type-var]
    assert min(wide) < 0  # type: ignore[type-var]


def test_defaults_feed_the_domain_and_none_defaults_are_left_alone() -> None:
    plan = planned(
        """
        def f(xs: list[int], step=3, key=None, *, reverse: bool = False):
            return xs
        """
    )
    params = by_name(plan)
    assert set(params) == {"xs", "step", "reverse"}
    assert params["step"].origin == "default"
    assert all(isinstance(v, int) and v >= 1 for v in samples(params["step"].strategy))
    assert params["reverse"].keyword and params["reverse"].strategy.count("st.booleans()") == 1


def test_unknown_parameters_get_only_a_generic_guess_with_the_reason() -> None:
    made = strategies.plan(target("def f(x, y: int):\n    return x\n"))
    assert isinstance(made, ArgPlan) and made.guessed is not None and "'x'" in made.guessed
    assert by_name(made)["x"].origin == "guess" and by_name(made)["x"].wide == strategies.GUESS
    assert by_name(made)["y"].origin == "annotation"
    made = strategies.plan(target("def f(cb: Callable[[int], int]):\n    return cb(1)\n"))
    assert isinstance(made, ArgPlan) and made.guessed and "'cb'" in made.guessed
    assert strategies.plan(target("def f(n: int):\n    return n\n")).guessed is None  # type: ignore[union-attr]


def test_unsupported_targets_skip_with_a_reason() -> None:
    made = strategies.plan(target("def f(*args, **kwargs):\n    return args\n"))
    assert isinstance(made, Skip) and "no parameters" in made.reason
    made = strategies.plan(
        target("def inner(x: int):\n    return x\n", kind="nested", qualname="outer.inner")
    )
    assert isinstance(made, Skip) and "nested" in made.reason


def test_star_args_from_examples() -> None:
    plan = planned(
        '''
        def add(*nums):
            """>>> add(1, 2, 3)
            6
            """
        '''
    )
    (param,) = plan.params
    assert param.star
    assert all(isinstance(v, list) and len(v) == 3 for v in samples(param.strategy))


def test_examples_that_raise_stay_out_of_the_domain() -> None:
    plan = planned(
        '''
        def root(n: int) -> int:
            """
            >>> root(4)
            2
            >>> root(-1)
            Traceback (most recent call last):
            ValueError: negative
            """
        '''
    )
    assert all(v >= 1 for v in samples(by_name(plan)["n"].strategy))  # type: ignore[operator]
    assert [e.raises for e in plan.examples] == [False, True]


def test_methods_need_a_no_argument_constructor() -> None:
    module = "class Box:\n    def size(self, n: int) -> int:\n        return n\n\nclass Needs:\n    def __init__(self, x):\n        self.x = x\n    def size(self, n: int) -> int:\n        return n\n"
    ok = strategies.plan(
        target(
            "def size(self, n: int) -> int:\n    return n\n",
            kind="method",
            qualname="Box.size",
            class_name="Box",
        ),
        module,
    )
    assert (
        isinstance(ok, ArgPlan) and ok.construct == "Box" and [p.name for p in ok.params] == ["n"]
    )
    no = strategies.plan(
        target(
            "def size(self, n: int) -> int:\n    return n\n",
            kind="method",
            qualname="Needs.size",
            class_name="Needs",
        ),
        module,
    )
    assert isinstance(no, Skip) and "constructor" in no.reason
    static = strategies.plan(
        target(
            "@staticmethod\ndef size(n: int) -> int:\n    return n\n",
            kind="staticmethod",
            qualname="Needs.size",
        )
    )
    assert isinstance(static, ArgPlan) and [p.name for p in static.params] == ["n"]


def test_infer_mixed_kinds_and_nesting() -> None:
    shape = strategies.infer([[[1, 2], [3]], [[4, 5, 6]]])
    source = strategies.render(shape)  # type: ignore[arg-type]
    assert source is not None and source.startswith("st.lists(st.lists(st.integers(")
    mixed = strategies.render(strategies.infer(["a", 3, None]))  # type: ignore[arg-type]
    assert (
        mixed is not None
        and "st.none()" in mixed
        and "st.text(" in mixed
        and "st.integers(" in mixed
    )
    assert strategies.infer([object()]) is None


def test_values_mined_from_prose_when_no_example_parses() -> None:
    plan = planned(
        '''
        def by_length(arr):
            """For example:
              arr = [2, 1, 1, 4]
                    -> sort arr -> [1, 1, 2, 4]
              return ["Two", "One"]
            """
        '''
    )
    assert all(
        isinstance(v, list) and all(isinstance(i, int) for i in v)
        for v in samples(plan.params[0].strategy)
    )
    happy = planned(
        '''
        def is_happy(s):
            """is_happy(a) => False
            is_happy(abcd) => True
            """
        '''
    )
    assert [e.args for e in happy.examples] == [("'a'",), ("'abcd'",)]
    assert strategies.mined_values("grid : [[0, 1], [1, 0]]\nbucket_capacity : 2", "capacity") == [
        2
    ]


def test_prose_types_for_bare_parameters() -> None:
    plan = planned(
        '''
        def starts_one_ends(n):
            """Given a positive integer n, return the count of n-digit numbers."""
        '''
    )
    assert all(isinstance(v, int) and 1 <= v <= 20 for v in samples(plan.params[0].strategy))
    assert strategies.prose_shape("s is a string of letters", "s") is not None
    assert strategies.prose_shape("nothing useful here", "s") is None


def test_calls_nested_in_an_expression_give_arguments_but_no_expected_value() -> None:
    plan = planned(
        '''
        def find_zero(xs: list):
            """>>> round(find_zero([1, 2]), 2)
            -0.5
            """
        '''
    )
    assert [(e.args, e.expected) for e in plan.examples] == [(("[1, 2]",), None)]
    assert all(
        isinstance(v, list) and v and all(isinstance(i, int) for i in v)
        for v in samples(plan.params[0].strategy)
    )


def test_grids_stay_rectangular_and_square() -> None:
    shape = strategies.infer([[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 2], [3, 4]]])
    source = strategies.render(shape)  # type: ignore[arg-type]
    assert source is not None
    for grid in samples(source, 80):
        assert len({len(row) for row in grid}) == 1 and len(grid) == len(grid[0])  # type: ignore[arg-type, index]
    wide = strategies.render(strategies.widen(shape))  # type: ignore[arg-type]
    assert wide is not None and any(
        len(g) != len(g[0]) if g and g[0] else True for g in samples(wide, 200)
    )  # type: ignore[arg-type, index]


def test_strings_with_a_few_numeric_layouts() -> None:
    shape = strategies.infer(["5,1", "2,3", "6", "1"])
    source = strategies.render(shape)  # type: ignore[arg-type]
    assert source is not None
    for value in samples(source, 100):
        float(str(value).replace(",", "."))


def test_int_and_float_examples_keep_both_kinds() -> None:
    source = strategies.render(strategies.infer([5, 3, 3.6]))  # type: ignore[arg-type]
    drawn = samples(source or "", 100)
    assert any(type(v) is int for v in drawn) and any(type(v) is float for v in drawn)


def test_doctest_examples_passing_names_are_not_read_as_strings() -> None:
    made = strategies.plan(
        target(
            '''
            def reduceby(key, binop, seq):
                """Group and reduce.

                >>> reduceby(iseven, add, [1, 2, 3, 4])
                {False: 4, True: 6}
                """
                return {}
            '''
        )
    )
    # the call is a real example (names, not prose): no example values, no string guesses
    assert isinstance(made, ArgPlan)
    assert made.examples == () or all("'iseven'" not in e.args for e in made.examples)
    assert by_name(made)["key"].origin != "examples"


def test_skipped_doctest_lines_with_names_are_not_mined_as_strings() -> None:
    made = strategies.plan(
        target(
            '''
            def valmap(func, d):
                """Apply func to values.

                >>> bills = {"Alice": [20, 15, 30], "Bob": [10, 35]}
                >>> valmap(sum, bills)  # doctest: +SKIP
                {'Alice': 65, 'Bob': 45}
                """
                return {k: func(v) for k, v in d.items()}
            '''
        )
    )
    assert isinstance(made, ArgPlan)
    assert all("'sum'" not in e.args for e in made.examples)


def test_sorted_lists_of_mixed_items_are_not_sorted() -> None:
    # recorded values such as [0, 1] and [(3, 'c')] together: sorting ints with tuples raises
    from hypothesis import find

    from codegrad.runners import hypo
    from codegrad.verify.inputs.shapes import IntS, OneOfS, SeqS, TupleS
    from codegrad.verify.inputs.strategies import render

    mixed = SeqS(OneOfS((IntS(0, 5), TupleS((IntS(0, 5), IntS(0, 5))))), 0, 6, ordered=True)
    source = render(mixed)
    assert source is not None and "sorted" not in source
    drawn = find(hypo.strategy(source), lambda v: len({type(x) for x in v}) == 2)
    assert len(drawn) == 2
    plain = render(SeqS(IntS(0, 5), 0, 6, ordered=True))
    assert plain is not None and plain.endswith(".map(sorted)")


def test_infinite_and_nan_example_values_do_not_break_the_float_strategy() -> None:
    # humanize's tests pass math.inf: `st.floats(min_value=-inf, ...)` named an undefined `inf`
    import math

    from hypothesis import find

    from codegrad.runners import hypo
    from codegrad.verify.inputs.shape_inference import infer
    from codegrad.verify.inputs.shapes import FloatS
    from codegrad.verify.inputs.strategies import render

    shape = infer([1.0, 2.5, math.inf, -math.inf, math.nan])
    assert isinstance(shape, FloatS) and math.isfinite(shape.lo) and math.isfinite(shape.hi)
    source = render(shape)
    assert source is not None
    assert find(hypo.strategy(source), lambda v: v > 1.0) > 1.0
    unbounded = render(FloatS(-math.inf, math.inf))
    assert unbounded is not None and "=-inf" not in unbounded and "=inf" not in unbounded
    assert math.isfinite(find(hypo.strategy(unbounded), lambda v: True))
