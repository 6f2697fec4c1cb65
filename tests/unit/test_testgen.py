"""Tests the project keeps: placement and naming, readable merged files that fail before a fix and pass after."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from builders import make_finding, make_target
from codegrad.harden import testgen
from codegrad.model import Finding, Fix
from codegrad.verify import reproducer

OLD = '''def last_item(xs: list[int]) -> int | None:
    """The last element, or None for an empty list."""
    return xs[len(xs) - 1]


def double(x: int) -> int:
    """Twice x.

    >>> double(3)
    6
    """
    return x * 3
'''
FIXED = OLD.replace("return xs[len(xs) - 1]", "return xs[-1] if xs else None").replace(
    "x * 3", "x * 2"
)


def _property_reproducer() -> str:
    subject = reproducer.Subject("pkg/items.py", "last_item")
    case = reproducer.PropertyCase(
        prop="crash",
        params=(("xs", "st.lists(st.integers(), max_size=5)", False, False),),
        example={"xs": "[]"},
        note="found by codegrad: last_item([])",
    )
    return reproducer.property_test(subject, case)


DOCTEST = '''"""The docstring example of double at pkg/items.py:9, as a test."""

from pkg.items import double


def test_double_docstring_example_9():
    assert double(3) == 6
'''


def _finding(function: str, source: str | None, check: str = "properties") -> Finding:
    target = make_target(function, "pkg/items.py", line=2)
    return make_finding(target, check=check, message="boom", input=None, reproducer=source)


def _fix(function: str, *findings: Finding, tests: str | None = None) -> Fix:
    return Fix(
        path="pkg/items.py",
        function=function,
        verified=True,
        diff="",
        source="",
        iterations=1,
        fixed=findings,
        tests=tests,
    )


# ---------------------------------------------------------------- placement


def test_layout_of_a_top_level_tests_folder_with_prefix_names() -> None:
    paths = ["pkg/__init__.py", "pkg/items.py", "tests/test_other.py", "tests/conftest.py"]
    layout = testgen.detect_layout(paths)
    assert (layout.style, layout.beside) == ("prefix", False)
    assert testgen.test_path("pkg/items.py", layout, paths) == "tests/test_items.py"
    assert testgen.test_path("src/pkg/__init__.py", layout, paths) == "tests/test_pkg.py"


def test_layout_with_suffix_names_beside_the_sources() -> None:
    paths = ["lib/a.py", "lib/a_test.py", "lib/b.py", "lib/b_test.py", "lib/c.py"]
    layout = testgen.detect_layout(paths)
    assert (layout.style, layout.beside) == ("suffix", True)
    assert testgen.test_path("lib/c.py", layout, paths) == "lib/c_test.py"


def test_tests_inside_the_package_and_mirrored_sub_folders() -> None:
    inside = ["toolz/itertoolz.py", "toolz/tests/test_dicttoolz.py"]
    assert (
        testgen.test_path("toolz/itertoolz.py", testgen.detect_layout(inside), inside)
        == "toolz/tests/test_itertoolz.py"
    )
    mirrored = ["src/pkg/io/read.py", "tests/io/test_write.py", "tests/test_core.py"]
    assert (
        testgen.test_path("src/pkg/io/read.py", testgen.detect_layout(mirrored), mirrored)
        == "tests/io/test_read.py"
    )
    assert testgen.test_path("pkg/x.py", testgen.detect_layout([]), []) == "tests/test_x.py"


def test_an_existing_file_of_the_project_is_never_taken_but_codegrads_own_is_reused() -> None:
    paths = ["pkg/items.py", "tests/test_items.py"]
    layout = testgen.detect_layout(paths)
    assert testgen.test_path("pkg/items.py", layout, paths) == "tests/test_items_codegrad.py"
    ours = {"tests/test_items.py"}
    assert (
        testgen.test_path("pkg/items.py", layout, paths, ours=lambda p: p in ours)
        == "tests/test_items.py"
    )
    taken = {"tests/test_items.py": "other/items.py"}
    assert testgen.test_path(
        "pkg/items.py", layout, ["pkg/items.py", "tests/x_test.py"], taken=taken
    ) in (
        "tests/test_items_codegrad.py",
        "tests/items_codegrad_test.py",
    )


# ---------------------------------------------------------------- content


def test_combine_merges_imports_renames_clashes_and_drops_repeats() -> None:
    prop = _property_reproducer()
    clash = DOCTEST.replace("assert double(3) == 6", "assert double(0) == 0")

    text = testgen.combine([prop, DOCTEST, DOCTEST, clash], title="Tests for pkg.items.")

    ast.parse(text)
    assert text.startswith('"""Tests for pkg.items."""\n\n' + testgen.MARKER)
    assert text.count("from pkg.items import double, last_item") == 1
    assert text.index("from hypothesis import example, given, settings") < text.index(
        "from pkg.items"
    )
    assert "@example(xs=[])" in text and "# found by codegrad: last_item([])" in text
    assert testgen.test_names(text) == [
        "test_last_item_does_not_crash",
        "test_double_docstring_example_9",
        "test_double_docstring_example_9_2",
    ]
    extended = testgen.combine([_property_reproducer()], title="T.", existing=text)
    assert testgen.test_names(extended) == testgen.test_names(text)  # nothing twice


def test_only_pytest_reproducers_become_tests() -> None:
    command = _finding(
        "last_item", "python -m pytest tests/test_items.py::test_x", check="project-tests"
    )
    assert not testgen.usable(command)
    assert not testgen.usable(_finding("last_item", None))
    assert testgen.usable(_finding("last_item", DOCTEST))
    assert testgen.tests_for(_fix("last_item", command)) is None


def test_files_for_groups_fixes_by_module_and_extends_codegrads_earlier_file() -> None:
    paths = ["pkg/items.py", "tests/test_items.py", "tests/test_util.py"]
    earlier = testgen.combine([DOCTEST], title="Earlier.")
    fixes = [
        _fix(
            "last_item",
            tests=testgen.tests_for(
                _fix("last_item", _finding("last_item", _property_reproducer()))
            ),
        ),
        _fix("double", tests=DOCTEST),
        Fix(
            path="pkg/items.py",
            function="unverified",
            verified=False,
            diff="",
            source="",
            iterations=1,
            tests=DOCTEST,
        ),
    ]

    files = testgen.files_for(
        fixes, paths, lambda p: earlier if p == "tests/test_items.py" else None
    )

    assert list(files) == ["tests/test_items.py"]
    assert testgen.test_names(files["tests/test_items.py"]) == [
        "test_double_docstring_example_9",
        "test_last_item_does_not_crash",
    ]


# ---------------------------------------------------------------- they fail before the fix and pass after it


def _pytest(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "tests"],
        cwd=project,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin", "HOME": str(project)},
        check=False,
        timeout=120,
    )


def test_generated_file_fails_on_the_old_code_and_passes_on_the_fixed_code(tmp_path: Path) -> None:
    fixes = [
        _fix(
            "last_item",
            tests=testgen.tests_for(
                _fix("last_item", _finding("last_item", _property_reproducer()))
            ),
        ),
        _fix(
            "double",
            tests=testgen.tests_for(
                _fix("double", _finding("double", DOCTEST, check="docstrings"))
            ),
        ),
    ]
    paths = ["pkg/__init__.py", "pkg/items.py", "tests/test_smoke.py"]
    [(path, text)] = testgen.files_for(fixes, paths, lambda p: None).items()
    assert path == "tests/test_items.py"
    for name, code in (("old", OLD), ("fixed", FIXED)):
        project = tmp_path / name
        (project / "pkg").mkdir(parents=True)
        (project / "tests").mkdir()
        (project / "pkg" / "__init__.py").write_text("")
        (project / "pkg" / "items.py").write_text(code)
        (project / path).write_text(text)

    old, fixed = _pytest(tmp_path / "old"), _pytest(tmp_path / "fixed")

    assert old.returncode == 1 and "2 failed" in old.stdout, old.stdout + old.stderr
    assert "Falsifying explicit example" in old.stdout or "IndexError" in old.stdout
    assert fixed.returncode == 0 and "2 passed" in fixed.stdout, fixed.stdout + fixed.stderr


def test_reproducers_that_carry_the_comparison_combine_into_one_runnable_file(
    tmp_path: Path,
) -> None:
    def pinned(qualname: str, call: str, source: str) -> str:
        base = {"value": "...", "literal": None, "source": source}
        return reproducer.behaviour_test(
            reproducer.Subject("pkg/shapes.py", qualname), call, base, {"value": "None"}
        )

    text = testgen.combine(
        [
            pinned("span", "span(1)", "Like('Span', low=1, high=2)"),
            pinned("span", "span(2)", "Like('Span', low=2, high=3)"),
            pinned("steps", "steps(2)", "Consumed('generator', [1, 2])"),
        ],
        title="Tests for pkg.shapes.",
    )
    assert text.count("\ndef equivalent(") == 1 and text.count("\nclass Like:") == 1
    assert text.count("import math\n") == 1 and "equivalent_2" not in text
    project = tmp_path / "project"
    (project / "pkg").mkdir(parents=True)
    (project / "pkg" / "__init__.py").write_text("")
    (project / "pkg" / "shapes.py").write_text(
        "class Span:\n"
        "    def __init__(self, low, high):\n"
        "        self.low, self.high = low, high\n\n\n"
        "def span(n):\n    return Span(n, n + 1)\n\n\n"
        "def steps(n):\n    yield from range(1, n + 1)\n"
    )
    (project / "tests").mkdir()
    (project / "tests" / "test_shapes.py").write_text(text)
    proc = _pytest(project)
    assert proc.returncode == 0 and "3 passed" in proc.stdout, proc.stdout + proc.stderr
