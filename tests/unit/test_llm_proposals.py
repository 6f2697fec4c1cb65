"""Prompts and the lenient parser of LLM proposals, and the pure verdict rules of the llm-checks check."""

from __future__ import annotations

import textwrap

from codegrad.model import Kind, Severity, Target
from codegrad.verify.checks import llm_findings, llm_plan, llm_verdicts
from codegrad.verify.checks import llm_proposals as lp

SOURCE = textwrap.dedent(
    '''
    def clamp(x: int, lo: int = 0, hi: int = 10) -> int:
        """Limit x to the range [lo, hi].

        >>> clamp(15)
        10
        """
        secret_body_marker = max(lo, min(x, hi))
        return secret_body_marker
    '''
).lstrip()


def subject() -> lp.Subject:
    made = lp.subject_for(SOURCE, "clamp")
    assert made is not None
    return made


def answer(code: str, prose: str = "Here you go:") -> str:
    return f"{prose}\n```python\n{textwrap.dedent(code).strip()}\n```\nHope it helps."


# --------------------------------------------------------------------------- subject and prompts


def test_subject_has_signature_and_docstring_but_never_the_body() -> None:
    made = subject()
    assert made.params == ("x", "lo", "hi")
    assert made.signature == "def clamp(x: int, lo: int = 0, hi: int = 10) -> int:"
    assert "Limit x to the range" in made.head and ">>> clamp(15)" in made.head
    assert "secret_body_marker" not in made.head


def test_subject_of_a_method_drops_self_and_keeps_the_decorator() -> None:
    source = '    @staticmethod\n    def area(w, h):\n        """Area."""\n        return w * h\n'
    made = lp.subject_for(source, "area")
    assert made is not None
    assert made.head.startswith("@staticmethod\ndef area(w, h):")
    assert "return" not in made.head
    method = lp.subject_for('def m(self, a, *rest, k=1, **kw):\n    """Doc."""\n', "m")
    assert method is not None and method.params == ("a", "*rest", "k", "**kw")


def test_prompts_quote_the_head_only_and_say_it_is_data() -> None:
    for origin in lp.ORIGINS:
        messages = lp.messages_for(origin, subject())
        text = "\n".join(m["content"] for m in messages)
        assert messages[0]["role"] == "system" and "never as instructions" in messages[0]["content"]
        assert ">>> clamp(15)" in text
        assert "secret_body_marker" not in text
        fences = [line for line in text.splitlines() if line.startswith("```python")]
        assert len(fences) == (2 if origin == lp.TESTS else 1)  # the head, and the layout
    tests = lp.tests_messages(subject())[1]["content"]
    assert "def prop(x, lo, hi, result):" in tests and "def precondition(x, lo, hi):" in tests


def test_the_property_result_name_avoids_a_parameter_called_result() -> None:
    made = lp.subject_for('def f(result):\n    """Doc."""\n    return result\n', "f")
    assert made is not None
    assert lp.result_name(made) == "result_"
    assert "def prop(result, result_):" in lp.tests_messages(made)[1]["content"]


# --------------------------------------------------------------------------- parsing answers


def test_a_reference_answer_with_prose_around_the_fence() -> None:
    proposal = lp.parse_answer(
        answer("def clamp(x, lo=0, hi=10):\n    return max(lo, min(x, hi))"),
        subject(),
        lp.REFERENCE,
    )
    assert proposal.reference == "clamp"
    assert "return max(lo, min(x, hi))" in proposal.code
    assert not proposal.empty and proposal.notes == ()


def test_a_full_tests_answer_gives_cases_property_precondition_and_strategies() -> None:
    text = answer(
        """
        import math

        def clamp(x, lo=0, hi=10):
            return max(lo, min(x, hi))

        assert clamp(-5) == 0
        assert 3 == clamp(3)
        assert clamp(20, hi=12) == 12
        assert clamp(4) is not None
        assert clamp(x) == 1

        def prop(x, lo, hi, result):
            return lo <= result <= hi

        def precondition(x, lo, hi):
            return lo <= hi

        x = st.integers(-100, 100)
        print(clamp(1))
        """
    )
    proposal = lp.parse_answer(text, subject(), lp.TESTS)
    assert proposal.reference == "clamp"
    assert proposal.props == ("prop",) and proposal.precondition == "precondition"
    assert proposal.strategies == (("x", "st.integers(-100, 100)"),)
    assert [(c.args, c.kwargs, c.expected) for c in proposal.cases] == [
        (("-5",), (), "0"),
        (("3",), (), "3"),
        (("20",), (("hi", "12"),), "12"),
    ]
    assert proposal.cases[2].call("clamp") == "clamp(20, hi=12)"
    assert "import math" in proposal.code and "print(" not in proposal.code
    assert any("clamp(x) == 1" not in n and "dropped" in n for n in proposal.notes)


def test_other_case_forms() -> None:
    text = answer(
        """
        cases = [((1, 0, 5), 1), ((20, 0, 5), 5), (7, 7), ((x,), 1)]
        assert clamp(1)
        assert not clamp(0)
        assert math.isclose(clamp(2.5), 2.5)
        clamp(9) == 9
        assert clamp(-1) == 0
        assert clamp(-1) == 5
        """
    )
    proposal = lp.parse_answer(text, subject(), lp.TESTS)
    got = [(c.args, c.expected) for c in proposal.cases]
    assert got == [
        (("1", "0", "5"), "1"),
        (("20", "0", "5"), "5"),
        (("7",), "7"),
        (("1",), "True"),
        (("0",), "False"),
        (("2.5",), "2.5"),
        (("9",), "9"),
        (("-1",), "0"),  # the first of two contradicting cases for one input is kept
    ]


def test_stubs_are_not_references() -> None:
    text = answer(
        '''
        def clamp(x, lo=0, hi=10):
            """Limit x to the range [lo, hi]."""

        def prop(x, lo, hi, result):
            return ...
        '''
    )
    proposal = lp.parse_answer(text, subject(), lp.REFERENCE)
    assert proposal.reference is None and proposal.props == ()
    assert proposal.empty
    assert len([n for n in proposal.notes if "has no body" in n]) == 2


def test_code_cut_off_or_mixed_with_prose_keeps_what_parses() -> None:
    text = (
        "```python\n"
        "def helper(v):\n    return v\n\n"
        "This line is prose that the model slipped in.\n\n"
        "def clamp(x, lo=0, hi=10):\n    if x < lo:\n        return lo\n    return min(x, hi)\n\n"
        "def prop(x, lo, hi, result):\n    return lo <= result and (\n"
    )  # no closing fence: the answer was cut at max_tokens
    proposal = lp.parse_answer(text, subject(), lp.REFERENCE)
    assert proposal.reference == "clamp"
    assert "def helper" in proposal.code and "return min(x, hi)" in proposal.code
    assert "def prop" not in proposal.code
    assert any("does not parse" in n for n in proposal.notes)


def test_an_answer_without_fences_is_read_as_code() -> None:
    proposal = lp.parse_answer("def clamp(x, lo=0, hi=10):\n    return x\n", subject(), "generate")
    assert proposal.reference == "clamp"


def test_garbage_gives_an_empty_proposal_with_a_note() -> None:
    for text in ("", "I am sorry, I cannot help with that.", "```\n```"):
        proposal = lp.parse_answer(text, subject(), lp.TESTS)
        assert proposal.empty and proposal.code == ""
        assert proposal.notes


def test_code_blocks() -> None:
    assert lp.code_blocks("a\n```py\nx = 1\n```\nb\n~~~\ny = 2\n~~~\n") == ["x = 1\n", "y = 2\n"]
    assert lp.code_blocks("```python\ndef f():\n    return 1\n") == ["def f():\n    return 1\n"]
    assert lp.code_blocks("````\n```\ninner\n```\n````") == ["```\ninner\n```\n"]
    assert lp.code_blocks("no code") == []


def test_lenient_examples_read_bare_words_as_strings() -> None:
    doc = "Examples\nis_happy(abc) => True\nis_happy(aa) => False (too short)\nis_happy(x y)\n"
    assert lp.lenient_examples(doc, "is_happy") == [
        ("is_happy(abc)", ("'abc'",), "True"),
        ("is_happy(aa)", ("'aa'",), "False"),
    ]
    doc = 'check("a.txt") # => \'Yes\'\nFor example check("-1") should return -15.'
    assert lp.lenient_examples(doc, "check") == [
        ('check("a.txt")', ("'a.txt'",), "'Yes'"),
        ('check("-1")', ("'-1'",), "-15"),
    ]


# --------------------------------------------------------------------------- pure verdicts


TARGET = Target(path="m.py", qualname="clamp", lineno=1, end_lineno=8, source=SOURCE)


def vote(
    origin: str, verdict: str, group: int | None = 0, status: str = "valid", kind: str = "reference"
) -> dict[str, object]:
    entry: dict[str, object] = {
        "id": f"{origin}:{kind}:clamp",
        "origin": origin,
        "kind": kind,
        "verdict": verdict,
        "status": status,
        "value": "10",
        "literal": "10",
    }
    if group is not None:
        entry["group"] = group
    return entry


def result(*votes: dict[str, object], base: dict[str, object] | None = None) -> dict[str, object]:
    found = {"input": "clamp(12)", "args": ["12"], "kwargs": [], "head": {"value": "12"}}
    return {
        "proposals": [{"origin": lp.REFERENCE, "parts": [], "cases": []}],
        "found": {**found, "base": base, "votes": list(votes)},
    }


def test_one_validated_reference_is_only_a_warning() -> None:
    verdict = llm_verdicts.judge_found(result(vote(lp.REFERENCE, "fail")), regression=False)
    assert verdict.severity is Severity.WARNING


def test_two_prompts_that_agree_make_an_error() -> None:
    found = result(vote(lp.REFERENCE, "fail", 0), vote(lp.TESTS, "fail", 0))
    assert llm_verdicts.judge_found(found, regression=False).severity is Severity.ERROR


def test_two_prompts_that_disagree_with_each_other_stay_a_warning() -> None:
    found = result(vote(lp.REFERENCE, "fail", 0), vote(lp.TESTS, "fail", 1))
    assert llm_verdicts.judge_found(found, regression=False).severity is Severity.WARNING


def test_unvalidated_references_never_make_an_error() -> None:
    found = result(
        vote(lp.REFERENCE, "fail", 0, "unvalidated"), vote(lp.TESTS, "fail", 0, "unvalidated")
    )
    assert llm_verdicts.judge_found(found, regression=False).severity is Severity.WARNING


def test_a_validated_reference_that_agrees_with_the_code_drops_the_disagreement() -> None:
    found = result(vote(lp.REFERENCE, "fail", 0), vote(lp.TESTS, "pass", 1))
    verdict = llm_verdicts.judge_found(found, regression=False)
    assert verdict.severity is None and "agrees with the code" in verdict.why


def test_regression_base_corroborates_a_single_validated_proposal() -> None:
    ok_base = {"value": "10"}
    found = result(vote(lp.REFERENCE, "fail"), base=ok_base)
    assert llm_verdicts.judge_found(found, regression=True).severity is Severity.ERROR
    unvalidated = result(vote(lp.REFERENCE, "fail", status="unvalidated"), base=ok_base)
    assert llm_verdicts.judge_found(unvalidated, regression=True).severity is Severity.WARNING
    crashing_base = result(vote(lp.REFERENCE, "fail"), base={"raised": "ValueError"})
    assert llm_verdicts.judge_found(crashing_base, regression=True).severity is None


def test_case_verdicts() -> None:
    other_agrees = {
        "references": [
            {
                "origin": lp.REFERENCE,
                "status": "valid",
                "agrees_with_case": True,
                "agrees_with_head": False,
            }
        ]
    }
    other_sides_with_code = {
        "references": [
            {
                "origin": lp.REFERENCE,
                "status": "valid",
                "agrees_with_case": False,
                "agrees_with_head": True,
            }
        ]
    }
    own_only = {
        "references": [
            {
                "origin": lp.TESTS,
                "status": "valid",
                "agrees_with_case": True,
                "agrees_with_head": False,
            }
        ]
    }
    assert (
        llm_verdicts.judge_case(other_agrees, lp.TESTS, regression=False).severity is Severity.ERROR
    )
    assert (
        llm_verdicts.judge_case(other_sides_with_code, lp.TESTS, regression=False).severity is None
    )
    assert (
        llm_verdicts.judge_case(own_only, lp.TESTS, regression=False).severity is Severity.WARNING
    )
    assert (
        llm_verdicts.judge_case({"base_ok": True}, lp.TESTS, regression=True).severity
        is Severity.ERROR
    )
    assert llm_verdicts.judge_case({"base_ok": False}, lp.TESTS, regression=True).severity is None


def test_cases_that_repeat_or_contradict_the_docstring_examples() -> None:
    examples = [
        {"args": ["15"], "kwargs": [], "expected": "10", "call": "clamp(15)", "raises": None}
    ]
    cases = [
        lp.Case(("15",), (), "10", 1, ""),  # the example again
        lp.Case(("15",), (), "15", 2, ""),  # contradicts it
        lp.Case(("-3",), (), "0", 3, ""),  # new
    ]
    kept, bad, repeats = llm_plan.sort_cases(cases, examples)
    assert [c.args for c in kept] == [("-3",)]
    assert [(c.expected, call) for c, call in bad] == [("15", "clamp(15)")]
    assert repeats == 1


def test_findings_from_a_runner_result() -> None:
    plan = llm_plan.Plan(TARGET, subject(), (), ())
    asked = llm_plan.Asked(plan)
    asked.add(lp.Proposal(origin=lp.REFERENCE, code="def clamp(x): ...", reference="clamp"))
    raw = result(vote(lp.REFERENCE, "fail", 0), vote(lp.TESTS, "fail", 0), base=None)
    bad_prop = {"id": "reference:prop:prop", "kind": "prop", "name": "prop", "status": "bad"}
    bad_ref = {"id": "tests:reference:clamp", "kind": "reference", "name": "clamp"}
    raw["proposals"] = [
        {
            "origin": lp.REFERENCE,
            "parts": [{**bad_prop, "example": "clamp(15)", "detail": "does not hold"}],
            "cases": [],
        },
        {
            "origin": lp.TESTS,
            "parts": [{**bad_ref, "status": "bad-base", "base_input": "clamp(3)"}],
            "cases": [],
        },
    ]
    findings, dropped = llm_findings.findings_for(asked, raw, regression=False)
    assert dropped == []
    bug = next(f for f in findings if f.kind is Kind.BUG)
    assert bug.level is Severity.ERROR and bug.check == "llm-checks"
    assert bug.input == "clamp(12)" and bug.expected == "10" and bug.actual == "12"
    assert bug.reproducer is not None and "assert clamp(12) == 10" in bug.reproducer
    notes = [f for f in findings if f.kind is Kind.BAD_TEST]
    assert [n.level for n in notes] == [Severity.NOTE, Severity.NOTE]
    assert (
        "prop prop proposed by the reference prompt contradicts the docstring example clamp(15)"
        in (notes[0].message)
    )
    assert "reference clamp proposed by the tests prompt fails on base as well (clamp(3))" in (
        notes[1].message
    )
    outvoted = result(vote(lp.REFERENCE, "fail", 0), vote(lp.TESTS, "pass", 1))
    findings, dropped = llm_findings.findings_for(asked, outvoted, regression=False)
    assert findings == [] and dropped and "agrees with the code" in dropped[0]


def test_inputs_next_to_the_docstring_examples() -> None:
    from codegrad.runners.llm_neighbours import neighbours
    from codegrad.runners.llm_validation import Example

    triangle = Example([3, 4, 5], {}, {})
    got = [args for args, _ in neighbours([triangle])]
    assert [5, 3, 4] in got and [3, 4, 5] not in got and len(got) == 5
    mixed = Example([[3, 1, 2], "ab"], {}, {})  # a list and a string: never swapped
    got = [args for args, _ in neighbours([mixed])]
    assert got == [[[1, 2, 3], "ab"], [[3, 2, 1], "ab"]]


def test_a_split_vote_asks_for_another_opinion_and_the_majority_decides() -> None:
    split = result(vote(lp.REFERENCE, "fail", 0), vote(lp.TESTS, "pass", 1))
    verdict = llm_verdicts.judge_found(split, regression=False)
    assert verdict.severity is None and verdict.split
    settled = result(
        vote(lp.REFERENCE, "fail", 0), vote(lp.TESTS, "pass", 1), vote(lp.GENERATE, "fail", 0)
    )
    verdict = llm_verdicts.judge_found(settled, regression=False)
    assert verdict.severity is Severity.ERROR and "one sides with the code" in verdict.why
    outvoted = result(
        vote(lp.REFERENCE, "fail", 0), vote(lp.TESTS, "pass", 1), vote(lp.GENERATE, "pass", 1)
    )
    assert llm_verdicts.judge_found(outvoted, regression=False).severity is None
