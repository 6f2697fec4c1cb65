"""Instances for methods of classes that need constructor arguments (verify.inputs.receivers)."""

from __future__ import annotations

import textwrap

from builders import make_target
from codegrad.verify.inputs import receivers, strategies

MODULE = textwrap.dedent(
    '''
    class Outer:
        class numeric_range:
            """A range of numbers.

            >>> list(numeric_range(3))
            [0, 1, 2]
            >>> numeric_range(0, 1, 0.25)[1]
            0.25
            >>> numeric_range(1, 2, step=0)
            Traceback (most recent call last):
            ValueError: step must be non-zero
            >>> numeric_range(start)
            """

            def __init__(self, first, *args):
                """Also ``numeric_range(2.5)``:

                >>> list(numeric_range(2.5))
                [0.0, 1.0, 2.0]
                """

            def __reversed__(self):
                return iter([])
    '''
)


def test_documented_constructor_calls_are_read_from_the_class_and_init_docstrings() -> None:
    cls = receivers.find_class(MODULE, "Outer.numeric_range")
    assert cls is not None
    # keywords, raising examples and non-literal arguments are left out
    assert receivers.documented_calls(cls, None) == [(3,), (0, 1, 0.25), (2.5,)]
    assert receivers.find_class(MODULE, "Outer.missing") is None
    assert receivers.find_class("def broken(:", "X") is None


def test_each_call_is_varied_one_argument_at_a_time_toward_boundaries_and_constants() -> None:
    varied = receivers.varied([(3,), (0, 1, 0.25)], constants=[7, "x"])
    assert varied[:2] == [(3,), (0, 1, 0.25)]  # the documented calls first
    assert (0,) in varied and (-1,) in varied and (7,) in varied  # boundaries, the diff's constant
    assert (1, 1, 0.25) in varied  # the empty range
    assert (0, 1, 0.0) in varied and ("x",) not in varied  # a constant only of its own kind
    assert len(receivers.varied([(i,) for i in range(100)], [])) == receivers.MAX_RECEIVERS


def test_the_plan_draws_constructor_arguments_first_when_asked_for_them() -> None:
    method = make_target(
        "Outer.numeric_range.__reversed__",
        path="mod.py",
        kind="method",
        class_name="Outer.numeric_range",
        source="def __reversed__(self):\n    return iter([])",
    )
    # properties (no constants given) still skip it
    assert isinstance(strategies.plan(method, MODULE), strategies.Skip)
    made = strategies.plan(method, MODULE, constants=[])
    assert isinstance(made, strategies.ArgPlan)
    assert [p.name for p in made.params] == [strategies.RECEIVER]
    assert made.construct == "Outer.numeric_range" and made.receivers[:2] == (
        "(3,)",
        "(0, 1, 0.25)",
    )
