"""Golden docstrings for the example parser: doctest blocks, prose forms, and the nasty cases."""

from __future__ import annotations

import textwrap

import pytest

from codegrad.verify.inputs.examples import Example, clean_expected, extract, find_docstring, scan


def pairs(docstring: str, name: str, **kwargs: object) -> list[tuple[str, str | None]]:
    return [(e.call, e.expected) for e in extract(textwrap.dedent(docstring), name, **kwargs)]  # type: ignore[arg-type]


# ----- doctest


def test_doctest_lines_with_line_numbers_and_form() -> None:
    doc = """Sum two numbers.

    >>> add(1, 2)
    3
    >>> add(-1, 1)
    0
    """
    found = extract(doc, "add")
    assert found == [
        Example("add(1, 2)", "3", 3, "doctest"),
        Example("add(-1, 1)", "0", 5, "doctest"),
    ]


def test_doctest_continuation_lines_and_multiline_output() -> None:
    doc = textwrap.dedent(
        """\
        >>> table(
        ...     [1, 2],
        ...     3,
        ... )
        [[1, 2],
         [3, 4]]
        """
    )
    (example,) = extract(doc, "table")
    assert example.call == "table(\n    [1, 2],\n    3,\n)"
    assert example.expected == "[[1, 2],\n [3, 4]]"
    assert example.line == 1


def test_doctest_print_output_and_blankline() -> None:
    doc = """
    >>> print(render(2))
    a
    <BLANKLINE>
    b
    """
    (example,) = extract(doc, "render")
    assert example.call == "print(render(2))"
    assert example.expected == "a\n\nb"


def test_doctest_exception_is_expected() -> None:
    doc = """
    >>> parse("x")
    Traceback (most recent call last):
      File "<stdin>", line 1, in <module>
        ...
    mypkg.errors.ParseError: bad token 'x'
    """
    (example,) = extract(doc, "parse")
    assert example.expects_exception == "ParseError"
    assert example.expected == "mypkg.errors.ParseError: bad token 'x'"


def test_statements_become_setup_and_methods_called_on_setup_objects() -> None:
    doc = """
    >>> s = Stack()
    >>> s.push(1)
    >>> s.push(2)
    >>> s.pop()
    2
    >>> len([1])
    1
    """
    found = extract(doc, "pop")
    assert len(found) == 1
    assert found[0].call == "s.pop()"
    assert found[0].setup == ("s = Stack()", "s.push(1)", "s.push(2)")
    push = extract(doc, "push")
    assert [(e.call, e.expected, e.setup) for e in push] == [
        ("s.push(1)", "", ("s = Stack()",)),
        ("s.push(2)", "", ("s = Stack()", "s.push(1)")),
    ]


def test_result_bound_by_a_statement_that_calls_the_function() -> None:
    doc = """
    >>> result = solve([3, 1])
    >>> result
    [1, 3]
    """
    (example,) = extract(doc, "solve")
    assert example.call == "result"
    assert example.setup == ("result = solve([3, 1])",)


def test_class_method_form_and_other_functions_ignored() -> None:
    doc = """
    >>> Point.origin()
    Point(0, 0)
    >>> other(1)
    2
    >>> "origin".upper()
    'ORIGIN'
    """
    assert pairs(doc, "origin") == [("Point.origin()", "Point(0, 0)")]


def test_skip_directive_and_unparseable_sources_are_dropped() -> None:
    doc = """
    >>> f(1)  # doctest: +SKIP
    99
    >>> f(1 +
    2
    >>> f(2)
    4
    """
    assert pairs(doc, "f") == [("f(2)", "4")]


# ----- prose forms


@pytest.mark.parametrize(
    ("line", "form", "expected"),
    [
        ("f([1, 2], 3) == [4, 5]", "equals", "[4, 5]"),
        ("f([1, 2], 3) -> [4, 5]", "arrow", "[4, 5]"),
        ("f([1, 2], 3) => [4, 5]", "arrow", "[4, 5]"),
        ("f([1, 2], 3) ==> [4, 5]", "arrow", "[4, 5]"),
        ("f([1, 2], 3) ➞ [4, 5]", "arrow", "[4, 5]"),
        ("f([1, 2], 3) = [4, 5]", "assign", "[4, 5]"),
        ("f([1, 2], 3) returns [4, 5]", "returns", "[4, 5]"),
        ("f([1, 2], 3) should return [4, 5].", "should-return", "[4, 5]"),
        ("f([1, 2], 3)   # returns [4, 5]", "comment", "[4, 5]"),
        ("f([1, 2], 3) # => [4, 5] (both shifted)", "comment", "[4, 5]"),
        ("* f([1, 2], 3) => [4, 5]", "arrow", "[4, 5]"),
        ("assert f([1, 2], 3) == [4, 5]", "equals", "[4, 5]"),
        ("Example: f([1, 2], 3) # returns [4, 5]", "comment", "[4, 5]"),
    ],
)
def test_prose_forms(line: str, form: str, expected: str) -> None:
    (example,) = extract(f"Shift.\n\nExamples:\n    {line}\n", "f")
    assert (example.call, example.expected, example.form, example.line) == (
        "f([1, 2], 3)",
        expected,
        form,
        4,
    )


def test_prose_expected_cleanup() -> None:
    doc = """
    is_even(4) => true
    is_even(3) => false.
    total([1, 2]) -> 1 + 2 = 3
    name(1) -> 'No' (the name must start with a letter)
    count("a b") returns 2 # two words
    """
    assert pairs(doc, "is_even") == [("is_even(4)", "True"), ("is_even(3)", "False")]
    assert pairs(doc, "total") == [("total([1, 2])", "3")]
    assert pairs(doc, "name") == [("name(1)", "'No'")]
    assert pairs(doc, "count") == [('count("a b")', "2")]


def test_nested_parens_and_strings_containing_separators() -> None:
    doc = """
    join("a -> b", ("x)", "y")) -> "a -> b: x), y"
    join(")", "==") == ") =="
    """
    assert pairs(doc, "join") == [
        ('join("a -> b", ("x)", "y"))', '"a -> b: x), y"'),
        ('join(")", "==")', '") =="'),
    ]


def test_call_spanning_lines() -> None:
    doc = """
    Examples:
    get_row([
      [1, 2],
      [3, 1]
    ], 1) == [(0, 0), (1, 1)]
    get_row([], 1) == []
    """
    found = extract(textwrap.dedent(doc), "get_row")
    assert [(e.call, e.expected, e.line) for e in found] == [
        ("get_row([[1, 2], [3, 1]], 1)", "[(0, 0), (1, 1)]", 3),
        ("get_row([], 1)", "[]", 7),
    ]


def test_prose_needs_the_function_itself_and_concrete_arguments() -> None:
    doc = """
    Return f(x) -> y for the caller.
    other_f(1) -> 2
    obj.f(1) -> 2
    f(x) -> 3
    def f(1) -> 2
    f(a) => False
    """
    assert extract(doc, "f") == []


def test_recurrence_definitions_are_not_examples() -> None:
    doc = """
    fib(0) == 0
    fib(1) == 1
    fib(n) == fib(n - 1) + fib(n - 2)

    For example:
    fib(10) == 55
    """
    assert pairs(doc, "fib") == [("fib(10)", "55")]


def test_expected_calling_the_function_is_dropped() -> None:
    assert pairs("g(3) = g(2) + g(1)\n", "g") == []


def test_for_output_form_uses_parameter_names() -> None:
    doc = """
    Examples:
    For lst = [1,2,3] the output should be 14
    For s = "abcde", c = "ae", the result should be ('bcd',False)
    For N = 1000, the sum of digits will be 1 the output should be "1".
    """
    assert pairs(doc, "f", params=("lst",))[0] == ("f([1,2,3])", "14")
    assert pairs(doc, "f", params=("s", "c"))[1] == ('f("abcde", "ae")', "('bcd',False)")
    assert pairs(doc, "f", params=("N",))[2] == ("f(1000)", '"1"')
    assert pairs(doc, "f")[1] == ('f(s="abcde", c="ae")', "('bcd',False)")


def test_input_output_forms() -> None:
    doc = """
    Example 1:
        Input: [4,2,3]
        Output: [2, 1]
        Explanation: 2 is the smallest even value.

    Example 2:
        Input: arr = [111,21,3,4000,5], k = 4
        Output: 24 # sum of 21 + 3

    Example 3:
        Input:
            grid : [[0,0,1,0], [1,1,1,1]]
            bucket_capacity : 1
        Output: 5
    """
    found = extract(textwrap.dedent(doc), "solve", params=("grid", "capacity"))
    assert [(e.call, e.expected, e.form) for e in found] == [
        ("solve([4,2,3])", "[2, 1]", "input-output"),
        ("solve([111,21,3,4000,5], 4)", "24", "input-output"),  # names differ: by position
        ("solve([[0,0,1,0], [1,1,1,1]], 1)", "5", "input-output"),
    ]
    assert found[0].line == 3
    without_params = extract(textwrap.dedent(doc), "solve")
    assert without_params[1].call == "solve(arr=[111,21,3,4000,5], k=4)"


def test_humaneval_style_docstring_mixing_forms() -> None:
    doc = """
    Given a list of numbers, return whether they are sorted.

    Examples
    is_sorted([5]) ➞ True
    is_sorted([1, 3, 2, 4, 5]) ➞ False

    is_sorted([1, 2, 2, 3, 3, 4]) ➞ True
    # duplicates are fine
    >>> is_sorted([])
    True
    """
    found = extract(doc, "is_sorted")
    assert [(e.call, e.expected, e.form) for e in found] == [
        ("is_sorted([5])", "True", "arrow"),
        ("is_sorted([1, 3, 2, 4, 5])", "False", "arrow"),
        ("is_sorted([1, 2, 2, 3, 3, 4])", "True", "arrow"),
        ("is_sorted([])", "True", "doctest"),
    ]


def test_every_example_parses_as_an_expression() -> None:
    doc = """
    f([1, 2) == 3
    f(1) == ""oops"
    f(2) == 4
    """
    assert pairs(doc, "f") == [("f(2)", "4")]


def test_duplicates_between_prose_and_doctest_are_merged() -> None:
    doc = """
    f(1) == 2
    >>> f(1)
    2
    """
    assert len(extract(doc, "f")) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("True.", "True"),
        ("6.00", "6.00"),
        ("16.", "16"),
        ("[1, 5] # the odd ones", "[1, 5]"),
        ("True if x is positive", None),
        ("", None),
        ("`42`", "42"),
    ],
)
def test_clean_expected(text: str, expected: str | None) -> None:
    assert clean_expected(text, "f") == expected


# ----- finding the docstring


def test_find_docstring_gives_raw_text_line_and_params() -> None:
    source = textwrap.dedent(
        '''\
        @decorator
        def f(a, b=1, *rest, key=None):

            """
            >>> f(1)
            2
            """
            return a + 1
        '''
    )
    site = find_docstring(source, "f")
    assert site is not None
    assert site.line == 4
    assert site.params == ("a", "b")
    assert site.text.splitlines()[1].strip() == ">>> f(1)"


def test_find_docstring_of_an_indented_method_with_unindented_docstring_lines() -> None:
    source = '    def m(self, x):\n        """Doc.\n\nm(1) == 2\n"""\n        return x\n'
    site = find_docstring(source, "m")
    assert site is not None
    assert site.line == 2
    assert site.params == ("x",)
    assert [(e.call, e.line) for e in extract(site.text, "m")] == [("m(1)", 3)]


def test_find_docstring_none_without_docstring() -> None:
    assert find_docstring("def f():\n    return 1\n", "f") is None
    assert find_docstring("def f(:\n", "f") is None


def test_doctest_assertions_without_output_become_comparisons() -> None:
    doc = """
    >>> count([]) == 0
    >>> count([1]) == 1
    True
    >>> count([1, 2]) [2, 1]
    """
    assert pairs(doc, "count") == [
        ("count([])", "0"),
        ("count([1]) == 1", "True"),  # has output: a plain doctest
        ("count([1, 2])", "[2, 1]"),  # the missing `==` typo
    ]


# ----- outputs written as comments after the call


COMMENT_FORMS = [
    ("f(4)  # Output: True", "True"),
    ("f(4)  # => 3", "3"),
    ("f(4)  # returns 3", "3"),
    ("f(4)  # -> [1, 2]", "[1, 2]"),
    ("f(4)  # 3", "3"),
    ("f(4)  # 'abc'", "'abc'"),
    ("f(4)  # ➞ None", "None"),
    ("f(4)  # Output: True  (4 is even)", "True"),
    ("f(4)  # Point(1, 2)", "Point(1, 2)"),
    ("f(4)  # Color.RED", "Color.RED"),
]


@pytest.mark.parametrize(("line", "expected"), COMMENT_FORMS)
@pytest.mark.parametrize("prompt", ["", ">>> "], ids=["prose", "doctest"])
def test_the_value_after_a_comment_marker_is_the_expected_output(
    line: str, expected: str, prompt: str
) -> None:
    found = scan(f"Check f.\n\n    {prompt}{line}\n", "f")
    assert [(e.call, e.expected, e.form) for e in found.examples] == [("f(4)", expected, "comment")]
    assert found.unparsed == ()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("f(4)  # 3 items", "starts with a value and goes on in words"),
        ("f(4)  # True if n is even", "starts with a value and goes on in words"),
        ("f(4)  # returns the sum", "after 'returns' is not a value"),
        ("f(4)  # Output: three", "after 'Output:' is not a value"),
    ],
)
@pytest.mark.parametrize("prompt", ["", ">>> "], ids=["prose", "doctest"])
def test_an_ambiguous_comment_is_skipped_and_counted_not_guessed(
    line: str, reason: str, prompt: str
) -> None:
    found = scan(f"Check f.\n\n    {prompt}{line}\n", "f")
    assert found.examples == ()
    assert len(found.unparsed) == 1
    assert found.unparsed[0].line == 3 and reason in found.unparsed[0].reason


def test_a_prose_comment_or_directive_states_no_output() -> None:
    doc = """Sort in place.

    >>> xs = [3, 1]
    >>> f(xs)  # sorts in place
    >>> f(xs)  # doctest: +ELLIPSIS
    >>> f(xs)  # noqa
    >>> f(xs)  # Slow
    """
    found = scan(textwrap.dedent(doc), "f")
    assert [e.expected for e in found.examples] == ["", "", "", ""]  # doctest: returns None
    assert {e.form for e in found.examples} == {"doctest"} and found.unparsed == ()
    assert extract("f(1)  # see above\n", "f") == []  # prose without a result is no example


def test_an_output_line_wins_over_a_comment_and_setup_stays_in_order() -> None:
    doc = """>>> acc = Acc()
    >>> f(acc, 2)  # => 2
    >>> f(acc, 3)  # 99 is what it says
    >>> f(acc, 1)  # total now
    6
    """
    found = scan(textwrap.dedent(doc), "f")
    assert [(e.call, e.expected, e.form) for e in found.examples] == [
        ("f(acc, 2)", "2", "comment"),
        ("f(acc, 1)  # total now", "6", "doctest"),
    ]
    assert found.examples[0].setup == ("acc = Acc()",)
    assert [u.line for u in found.unparsed] == [3]
