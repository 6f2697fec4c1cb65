"""Recorded pytest code that codegrad writes into users' repositories: reproducers and hardening tests.

As Hypothesis's ghostwriter keeps its outputs: a change to what users receive shows up as a diff of
these files (rerun with CODEGRAD_UPDATE_GOLDEN=1 when it is intended). That the code runs, fails
before a fix and passes after it is checked by tests/unit/test_testgen.py with real pytest runs.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from builders import assert_golden, make_finding, make_target
from codegrad.harden import testgen
from codegrad.model import Fix, Kind
from codegrad.verify import reproducer
from codegrad.verify.reproducer import PropertyCase, Subject

RECORDED = Path(__file__).parent / "recorded" / "generated"

CRASH = reproducer.property_test(
    Subject("src/pkg/stats.py", "mean"),
    PropertyCase(
        prop="crash",
        params=(("xs", "st.lists(st.integers(), max_size=5)", False, False),),
        example={"xs": "[]"},
        allowed=("TypeError",),
        note="found by codegrad: mean([])",
    ),
)
CHANGED_VALUE = reproducer.behaviour_test(
    Subject("src/pkg/stats.py", "mean"),
    "mean([1, 2])",
    {"value": "1.5", "literal": "1.5"},
    {"value": "1", "literal": "1"},
)
CHANGED_OBJECT = reproducer.behaviour_test(
    Subject("src/pkg/parse.py", "parse"),
    "parse('-1')",
    {
        "value": "Parsed(ok=True, value=-1)",
        "literal": None,
        "source": "Like('Parsed', ok=True, value=-1)",
    },
    {"raised": "ValueError", "message": "negative"},
)
NEW_EXCEPTION = reproducer.behaviour_test(
    Subject("src/pkg/shop.py", "Cart.total", kind="method"),
    "Cart().total()",
    {"raised": "ValueError", "message": "empty cart"},
    {"value": "0", "literal": "0"},
)


def test_property_reproducer_is_recorded() -> None:
    compile(CRASH, "test_generated.py", "exec")
    assert_golden(RECORDED / "crash_reproducer.py.txt", CRASH)


def test_behaviour_reproducers_are_recorded() -> None:
    for source in (CHANGED_VALUE, CHANGED_OBJECT, NEW_EXCEPTION):
        compile(source, "test_generated.py", "exec")
    assert_golden(RECORDED / "behaviour_value.py.txt", CHANGED_VALUE)
    assert_golden(RECORDED / "behaviour_object.py.txt", CHANGED_OBJECT)
    assert_golden(RECORDED / "behaviour_exception.py.txt", NEW_EXCEPTION)


def test_hardening_test_file_is_recorded() -> None:
    target = make_target("mean", "src/pkg/stats.py", line=3)
    fixed = make_finding(target, kind=Kind.CRASH, reproducer=CRASH)
    fix = Fix(
        path=target.path,
        function=target.qualname,
        verified=True,
        diff="",
        source="def mean(xs):\n    return sum(xs) / len(xs) if xs else 0.0\n",
        iterations=1,
        fixed=(fixed,),
    )
    fix = replace(fix, tests=testgen.tests_for(fix))
    files = testgen.files_for([fix], ["src/pkg/stats.py", "tests/test_stats.py"], lambda p: None)
    [(path, text)] = files.items()
    compile(text, path, "exec")
    assert_golden(RECORDED / "hardening_tests.py.txt", f"# {path}\n{text}")
