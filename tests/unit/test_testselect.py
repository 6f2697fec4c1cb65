"""Pure helpers of the project-tests check: command, junit XML, tracebacks, entered functions -> tests."""

from __future__ import annotations

import pytest

from codegrad.diff.changes import all_functions
from codegrad.errors import UsageError
from codegrad.verify.checks import testselect as ts

PY = "/venv/bin/python"

# Written by pytest 9 with -o junit_family=xunit1 --tb=short (trimmed).
JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="3" failures="3" skipped="2" tests="9">\
<testcase classname="" name="tests.test_bad" file="tests/test_bad.py" time="0.000"><error message="collection failure">\
/venv/lib/python3.11/site-packages/_pytest/python.py:528: in importtestmodule
    mod = import_path(
/root/.pyenv/versions/3.11.7/lib/python3.11/ast.py:50: in parse
    return compile(source, filename, mode, flags,
E     File "/tmp/proj/tests/test_bad.py", line 1
E       def f(:
E             ^
E   SyntaxError: invalid syntax</error></testcase>\
<testcase classname="tests.test_a" name="test_add" file="tests/test_a.py" line="3" time="0.001">\
<failure message="assert -1 == 3&#10; +  where -1 = add(1, 2)">tests/test_a.py:5: in test_add
    assert add(1, 2) == 3
E   assert -1 == 3
E    +  where -1 = add(1, 2)</failure></testcase>\
<testcase classname="tests.test_a" name="test_mul" file="tests/test_a.py" line="6" time="0.250" />\
<testcase classname="tests.test_a" name="test_boom[1]" file="tests/test_a.py" line="9" time="0.001">\
<failure message="ValueError: bad x 1">tests/test_a.py:12: in test_boom
    assert boom(x) == 1
           ^^^^^^^
src/pkg/mod.py:12: in boom
    raise ValueError("bad x %r" % x)
E   ValueError: bad x 1</failure></testcase>\
<testcase classname="tests.test_a.TestK" name="test_m" file="tests/test_a.py" line="14" time="0.001">\
<failure message="assert 1 == 2">tests/test_a.py:16: in test_m
    assert mul(1, 1) == 2
E   assert 1 == 2</failure></testcase>\
<testcase classname="tests.test_k" name="test_setup" file="tests/test_k.py" line="6" time="0.000">\
<error message="failed on setup with &quot;RuntimeError: fixture broke&quot;">tests/test_k.py:5: in broken
    raise RuntimeError("fixture broke")
E   RuntimeError: fixture broke</error></testcase>\
<testcase classname="tests.test_k" name="test_skip" file="tests/test_k.py" line="9" time="0.000">\
<skipped type="pytest.skip" message="not now">/tmp/proj/tests/test_k.py:10: not now</skipped></testcase>\
<testcase classname="tests.test_k" name="test_td" file="tests/test_k.py" line="22" time="0.000">\
<failure message="assert 1 == 2">tests/test_k.py:24: in test_td
    assert 1 == 2
E   assert 1 == 2</failure></testcase>\
<testcase classname="tests.test_k" name="test_td" file="tests/test_k.py" line="22" time="0.000">\
<error message="failed on teardown with &quot;KeyError: 'td'&quot;">tests/test_k.py:21: in bad_teardown
    raise KeyError("td")
E   KeyError: 'td'</error></testcase>\
<testcase classname="tests.test_k" name="test_p[c::d]" file="tests/test_k.py" line="25" time="0.000" />\
</testsuite></testsuites>"""

LONG = """\
    def test_boom(x):
>       assert boom(x) == 1
               ^^^^^^^

tests/test_a.py:12:$
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _$

x = 1

    def boom(x):
        if x:
>           raise ValueError("bad x %r" % x)
E           ValueError: bad x 1

/tmp/proj/src/pkg/mod.py:12: ValueError""".replace("$", " ")  # pytest writes trailing blanks

NATIVE = """\
Traceback (most recent call last):
  File "/tmp/proj/tests/test_a.py", line 12, in test_boom
    assert boom(x) == 1
  File "/tmp/proj/src/pkg/mod.py", line 12, in boom
    raise ValueError("bad x %r" % x)
ValueError: bad x 1"""

DUMP = """\
Timeout (0:00:02.250000)!
Thread 0x00007f60c06666c0 (most recent call first):
  File "/usr/lib/python3.11/threading.py", line 982 in run
  File "/usr/lib/python3.11/threading.py", line 1045 in _bootstrap_inner

Thread 0x00007f60c0fbfb80 (most recent call first):
  File "/tmp/proj/slow.py", line 3 in spin
  File "/tmp/proj/tests/test_slow.py", line 5 in test_spin
  File "/venv/lib/python3.11/site-packages/_pytest/python.py", line 159 in pytest_pyfunc_call
"""


# ---------------------------------------------------------------- command


@pytest.mark.parametrize(
    ("command", "argv", "is_pytest", "args"),
    [
        ("python -m pytest", (PY, "-m", "pytest"), True, ()),
        ("python3 -m pytest -q tests", (PY, "-m", "pytest", "-q", "tests"), True, ("-q", "tests")),
        ("pytest -x", (PY, "-m", "pytest", "-x"), True, ("-x",)),
        ("py.test", (PY, "-m", "pytest"), True, ()),
        ("python3.11 -X dev -m pytest", (PY, "-X", "dev", "-m", "pytest"), True, ()),
        ("python -m unittest discover", (PY, "-m", "unittest", "discover"), False, ()),
        ("python check.py", (PY, "check.py"), False, ()),
        ("make test", ("make", "test"), False, ()),
        ("pytest -k 'a or b'", (PY, "-m", "pytest", "-k", "a or b"), True, ("-k", "a or b")),
        ("/x/venv/bin/python -m pytest", ("/x/venv/bin/python", "-m", "pytest"), True, ()),
        (
            ".venv/bin/python3.12 -m pytest -q",
            (".venv/bin/python3.12", "-m", "pytest", "-q"),
            True,
            ("-q",),
        ),
        (
            "/x/venv/bin/pytest tests",
            ("/x/venv/bin/python", "-m", "pytest", "tests"),
            True,
            ("tests",),
        ),
        ("/x/bin/py.test", ("/x/bin/python", "-m", "pytest"), True, ()),
        ("/x/venv/bin/python check.py", ("/x/venv/bin/python", "check.py"), False, ()),
        ("/x/bin/tox -e py", ("/x/bin/tox", "-e", "py"), False, ()),
    ],
)
def test_parse_test_command(
    command: str, argv: tuple[str, ...], is_pytest: bool, args: tuple[str, ...]
) -> None:
    parsed = ts.parse_test_command(command, PY)
    assert parsed.argv == argv
    assert parsed.is_pytest is is_pytest
    assert parsed.pytest_args == args


@pytest.mark.parametrize("command", ["pytest && echo done", "FOO=1 pytest", "pytest > out.txt"])
def test_shell_syntax_runs_through_sh(command: str) -> None:
    parsed = ts.parse_test_command(command, PY)
    assert parsed.argv == ("/bin/sh", "-c", command)
    assert not parsed.is_pytest


@pytest.mark.parametrize(("command", "needle"), [("", "empty"), ("pytest -k 'open", "not a valid")])
def test_bad_test_command_is_a_usage_error(command: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        ts.parse_test_command(command, PY)


def test_paths_and_rerun_options_drop_selection() -> None:
    args = ["-x", "-k", "fast", "tests/unit", "-p", "myplug", "--tb=long", "--maxfail", "2"]
    args += ["--import-mode=importlib", "-q", "--deselect", "tests/t.py::x", "-o", "a=b"]
    parsed = ts.parse_test_command("pytest " + " ".join(args), PY)
    assert parsed.paths == ("tests/unit",)
    assert ts.rerun_options(args) == (
        "-p", "myplug", "--tb=long", "--import-mode=importlib", "-q", "-o", "a=b",
    )  # fmt: skip
    assert ts.split_pytest_args(["-q", "--", "-weird-path"])[1] == ("-weird-path",)


@pytest.mark.parametrize(
    ("args", "kept"),
    [
        (("-x", "tests"), ("tests",)),
        (
            ("-xvs", "--maxfail", "2", "-k", "a"),
            (
                "-vs",
                "-k",
                "a",
            ),
        ),
        (("--maxfail=1", "--exitfirst", "--sw", "-q"), ("-q",)),
        (("-x",), ()),
        (("-p", "no:x", "-m", "slow and x"), ("-p", "no:x", "-m", "slow and x")),
    ],
)
def test_run_all_options_drop_what_stops_a_run_early(
    args: tuple[str, ...], kept: tuple[str, ...]
) -> None:
    assert ts.run_all_options(args) == kept


def test_rerun_command_quotes_the_node_id() -> None:
    assert ts.rerun_command("tests/t.py::test_a[x]") == "python -m pytest 'tests/t.py::test_a[x]'"
    assert ts.rerun_command("t.py::f[it's]") == "python -m pytest 't.py::f[it'\"'\"'s]'"


# ---------------------------------------------------------------- junit


def test_parse_junit_reads_outcomes_messages_and_node_ids() -> None:
    cases = {c.nodeid: c for c in ts.merge_cases(ts.parse_junit(JUNIT))}
    assert list(cases) == [
        "tests/test_bad.py",
        "tests/test_a.py::test_add",
        "tests/test_a.py::test_mul",
        "tests/test_a.py::test_boom[1]",
        "tests/test_a.py::TestK::test_m",
        "tests/test_k.py::test_setup",
        "tests/test_k.py::test_skip",
        "tests/test_k.py::test_td",
        "tests/test_k.py::test_p[c::d]",
    ]
    bad = cases["tests/test_bad.py"]
    assert bad.collection and bad.failed and bad.path == "tests/test_bad.py"
    add = cases["tests/test_a.py::test_add"]
    assert (add.outcome, add.line, add.name) == ("failed", 4, "test_add")
    assert add.message == "assert -1 == 3\n +  where -1 = add(1, 2)"
    assert cases["tests/test_a.py::test_mul"].outcome == "passed"
    assert cases["tests/test_a.py::test_mul"].seconds == 0.25
    klass = cases["tests/test_a.py::TestK::test_m"]
    assert (klass.name, klass.function) == ("TestK.test_m", "TestK.test_m")
    assert cases["tests/test_k.py::test_setup"].outcome == "error"
    assert cases["tests/test_k.py::test_skip"].outcome == "skipped"
    assert (
        cases["tests/test_k.py::test_td"].outcome == "failed"
    )  # call failure beats teardown error
    param = cases["tests/test_k.py::test_p[c::d]"]
    assert (param.name, param.function, param.path) == ("test_p[c::d]", "test_p", "tests/test_k.py")


def test_parse_junit_of_garbage_is_empty() -> None:
    assert ts.parse_junit("") == []
    assert ts.parse_junit("<testsuites><testcase") == []


@pytest.mark.parametrize(
    ("classname", "name", "file", "nodeid"),
    [
        ("tests.test_a", "test_x", "tests/test_a.py", "tests/test_a.py::test_x"),
        (
            "tests.test_a.TestK.Inner",
            "test_x[a.b]",
            "tests/test_a.py",
            "tests/test_a.py::TestK::Inner::test_x[a.b]",
        ),
        ("", "tests.test_bad", "tests/test_bad.py", "tests/test_bad.py"),
        ("src.pkg.mod", "pkg.mod.f", "src/pkg/mod.py", "src/pkg/mod.py::pkg.mod.f"),
        ("tests.test_a.TestK", "test_x", None, "tests/test_a.py::TestK::test_x"),
        ("tests.test_a", "test_x", None, "tests/test_a.py::test_x"),
        ("", "tests.test_bad", None, "tests/test_bad.py"),
    ],
)
def test_nodeid_from_case(classname: str, name: str, file: str | None, nodeid: str) -> None:
    assert ts.nodeid_from_case(classname, name, file) == nodeid


# ---------------------------------------------------------------- tracebacks and messages


def test_parse_traceback_short_style() -> None:
    boom = next(c for c in ts.parse_junit(JUNIT) if c.name == "test_boom[1]")
    assert ts.parse_traceback(boom.text, "/tmp/proj") == [
        ts.TbEntry("tests/test_a.py", 12, "test_boom", "assert boom(x) == 1"),
        ts.TbEntry("src/pkg/mod.py", 12, "boom", 'raise ValueError("bad x %r" % x)'),
    ]


def test_parse_traceback_long_style() -> None:
    entries = ts.parse_traceback(LONG, "/tmp/proj")
    assert [(e.path, e.line, e.code) for e in entries] == [
        ("tests/test_a.py", 12, "assert boom(x) == 1"),
        ("src/pkg/mod.py", 12, 'raise ValueError("bad x %r" % x)'),
    ]
    assert entries[1].render() == 'src/pkg/mod.py:12: raise ValueError("bad x %r" % x)'


def test_parse_traceback_native_style() -> None:
    entries = ts.parse_traceback(NATIVE, "/tmp/proj")
    assert [(e.path, e.line, e.function) for e in entries] == [
        ("tests/test_a.py", 12, "test_boom"),
        ("src/pkg/mod.py", 12, "boom"),
    ]
    assert entries[0].code == "assert boom(x) == 1"


def test_parse_faulthandler_keeps_threads_outermost_first() -> None:
    threads = ts.parse_faulthandler(DUMP, "/tmp/proj")
    assert len(threads) == 2
    main = threads[1]
    assert [(e.path, e.line, e.function) for e in main[-2:]] == [
        ("tests/test_slow.py", 5, "test_spin"),
        ("slow.py", 3, "spin"),
    ]


def test_error_lines_strip_the_traceback() -> None:
    bad = next(c for c in ts.parse_junit(JUNIT) if c.collection)
    text = ts.error_lines(bad.text, "/tmp/proj")
    assert (
        text
        == '  File "tests/test_bad.py", line 1\n    def f(:\n          ^\nSyntaxError: invalid syntax'
    )
    assert "_pytest" not in text


@pytest.mark.parametrize(
    ("message", "name"),
    [
        ("assert -1 == 3\n +  where -1 = add(1, 2)", "AssertionError"),
        ("AssertionError: custom\nassert False", "AssertionError"),
        ("ValueError: bad x 1", "ValueError"),
        ("pkg.errors.LimitError: over", "LimitError"),
        ('failed on setup with "RuntimeError: fixture broke"', "RuntimeError"),
        ("Failed: DID NOT RAISE", "Failed"),
        ("KeyboardInterrupt", "KeyboardInterrupt"),
        ("[XPASS(strict)] known", ""),
        ("something odd happened", ""),
    ],
)
def test_exception_type(message: str, name: str) -> None:
    assert ts.exception_type(message) == name


def test_same_failure_compares_exception_kind() -> None:
    head = ts.CaseResult("t.py::a", "t.py", "a", 1, "failed", "assert 3 == 4")
    assert ts.same_failure(
        head, ts.CaseResult("t.py::a", "t.py", "a", 1, "failed", "assert 5 == 4")
    )
    assert not ts.same_failure(
        head, ts.CaseResult("t.py::a", "t.py", "a", 1, "error", "ImportError: x")
    )
    assert not ts.same_failure(head, ts.CaseResult("t.py::a", "t.py", "a", 1, "passed"))


def test_not_found_reads_pytest_errors() -> None:
    output = (
        "ERROR: not found: /tmp/proj/tests/test_a.py::test_new\n(no match in any of [<Module test_a.py>])\n"
        "ERROR: found no collectors for /tmp/proj/tests/test_b.py::test_x\n"
    )
    assert ts.not_found(output, "/tmp/proj") == {
        "tests/test_a.py::test_new",
        "tests/test_b.py::test_x",
    }


def test_relative_path() -> None:
    assert ts.relative_path("/tmp/proj/src/a.py", "/tmp/proj") == "src/a.py"
    assert ts.relative_path("./src/a.py", None) == "src/a.py"
    assert ts.relative_path("/elsewhere/a.py", "/tmp/proj") == "/elsewhere/a.py"


# ---------------------------------------------------------------- entered functions -> tests

SOURCE = """\
def one(x): return x


class K:
    def method(self):
        return 1
"""
TEST_SOURCE = "def test_k():\n    pass\n\n\nclass TestK:\n    def test_m(self):\n        pass\n"


def test_covering_tests_from_entered_functions_and_for_tests_themselves() -> None:
    targets = all_functions("pkg/mod.py", SOURCE) + all_functions("tests/test_k.py", TEST_SOURCE)
    entered = {
        "tests/test_k.py::test_k": ("pkg/mod.py::one", "pkg/mod.py::gone"),
        "tests/test_k.py::TestK::test_m[1]": ("pkg/mod.py::one",),
    }
    nodeids = [*entered, "tests/test_k.py::TestK::test_m[2]", "tests/test_other.py::test_k"]
    assert ts.covering_tests(entered, nodeids, targets) == {
        "pkg/mod.py::one": ["tests/test_k.py::TestK::test_m[1]", "tests/test_k.py::test_k"],
        "pkg/mod.py::K.method": [],
        "tests/test_k.py::test_k": ["tests/test_k.py::test_k"],
        "tests/test_k.py::TestK.test_m": [
            "tests/test_k.py::TestK::test_m[1]",
            "tests/test_k.py::TestK::test_m[2]",
        ],
    }


@pytest.mark.parametrize(
    ("path", "test"),
    [
        ("tests/test_a.py", True),
        ("a_test.py", True),
        ("conftest.py", True),
        ("pkg/testing.py", False),
    ],
)
def test_is_test_file(path: str, test: bool) -> None:
    assert ts.is_test_file(path) is test


def test_defined_names_sees_defs_classes_assignments_and_imports() -> None:
    source = (
        "import os.path\nfrom x import test_imported as test_alias\n"
        "def test_a(): pass\nclass TestK: pass\ntest_b = test_a\n"
        "if os:\n    def test_c(): pass\n"
    )
    names = ts.defined_names(source)
    assert names is not None
    assert {"os", "test_alias", "test_a", "TestK", "test_b", "test_c"} <= names
    assert "test_new" not in names
    assert ts.defined_names("def f(:\n") is None


def test_nodeid_parts() -> None:
    assert ts.nodeid_path("tests/t.py::TestK::test_m[a::b]") == "tests/t.py"
    assert ts.nodeid_name("tests/t.py::TestK::test_m[a::b]") == "TestK.test_m[a::b]"
    assert ts.nodeid_name("tests/t.py") == "tests/t.py"
