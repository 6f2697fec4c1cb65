"""Golden cases for changes.py: real git diffs of small repos -> changed functions and findings."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from codegrad.diff import gitops
from codegrad.diff.changes import all_functions, changed_functions, matches, syntax_finding
from codegrad.model import Finding, Kind, Target

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers_git import make_repo

Files = dict[str, "str | bytes | None"]


def review(
    tmp_path: Path,
    base: Files,
    head: Files,
    *,
    include: tuple[str, ...] = ("**/*.py",),
    exclude: tuple[str, ...] = (),
) -> tuple[list[Target], list[Finding]]:
    """Commit base, apply head (None deletes a file), and run changed_functions on the real diff."""
    repo = make_repo(tmp_path)
    for path, text in base.items():
        assert text is not None
        repo.write(path, _dedent(text))
    base_sha = repo.commit("base")
    for path, text in head.items():
        if text is None:
            (repo.path / path).unlink()
        else:
            repo.write(path, _dedent(text))
    head_sha = repo.commit("head")
    diff = gitops.diff(repo.path, base_sha, head_sha)
    return changed_functions(
        diff,
        lambda p: gitops.read_file(repo.path, head_sha, p),
        lambda p: gitops.read_file(repo.path, base_sha, p),
        include=include,
        exclude=exclude,
    )


def _dedent(text: str | bytes) -> str | bytes:
    return textwrap.dedent(text).lstrip("\n") if isinstance(text, str) else text


def by_name(targets: list[Target]) -> dict[str, Target]:
    return {t.qualname: t for t in targets}


BASE = """
    import functools


    def top(x):
        \"\"\"Double x.\"\"\"
        return x * 2


    class Shape:
        sides = 4

        def area(self):
            return 1

        @staticmethod
        def make():
            return Shape()

        @classmethod
        def unit(cls):
            return cls()

        @property
        def name(self):
            return "shape"

        @name.setter
        def name(self, value):
            self._name = value

        class Inner:
            def deep(self):
                return 0


    @functools.lru_cache(maxsize=None)
    def cached(n):
        return n


    async def fetch(url):
        return url


    def outer(a):
        b = a + 1

        def inner(c):
            return c + b

        return inner(a)
"""


def edit(old: str, new: str) -> str:
    text = textwrap.dedent(BASE).lstrip("\n")
    assert textwrap.dedent(old).strip("\n") in text, old
    return text.replace(textwrap.dedent(old).strip("\n"), textwrap.dedent(new).strip("\n"), 1)


def test_top_level_function_fills_every_field(tmp_path: Path) -> None:
    head = edit("return x * 2", "return x * 3")
    targets, findings = review(tmp_path, {"pkg/mod.py": BASE}, {"pkg/mod.py": head})
    assert findings == []
    [t] = targets
    assert t.path == "pkg/mod.py" and t.base_path == "pkg/mod.py"
    assert t.qualname == "top" and t.kind == "function" and t.class_name is None
    assert (t.lineno, t.end_lineno, t.decorator_lineno) == (4, 6, None)
    assert t.changed_lines == (6,)
    assert t.source == 'def top(x):\n    """Double x."""\n    return x * 3\n'
    assert t.base_source == 'def top(x):\n    """Double x."""\n    return x * 2\n'
    assert t.base_lineno == 4
    assert t.docstring == "Double x."
    assert not t.is_async and not t.is_new


def test_method_and_nested_class_method(tmp_path: Path) -> None:
    head = edit("return 1", "return 2").replace("return 0", "return -1")
    targets, _ = review(tmp_path, {"m.py": BASE}, {"m.py": head})
    got = by_name(targets)
    assert set(got) == {"Shape.area", "Shape.Inner.deep"}
    assert (got["Shape.area"].kind, got["Shape.area"].class_name) == ("method", "Shape")
    assert (got["Shape.Inner.deep"].kind, got["Shape.Inner.deep"].class_name) == (
        "method",
        "Shape.Inner",
    )
    assert got["Shape.Inner.deep"].source == "        def deep(self):\n            return -1\n"


def test_static_class_and_property_kinds(tmp_path: Path) -> None:
    head = (
        edit("return Shape()", "return Shape()  # new")
        .replace("return cls()", "return cls()  # new")
        .replace('return "shape"', 'return "square"')
        .replace("self._name = value", "self._name = str(value)")
    )
    targets, _ = review(tmp_path, {"m.py": BASE}, {"m.py": head})
    kinds = [(t.qualname, t.kind, t.decorator_lineno, t.lineno) for t in targets]
    assert kinds == [
        ("Shape.make", "staticmethod", 15, 16),
        ("Shape.unit", "classmethod", 19, 20),
        ("Shape.name", "property", 23, 24),
        ("Shape.name", "property", 27, 28),  # the setter shares the qualname
    ]
    assert targets[3].base_source is not None and "self._name = value" in targets[3].base_source


def test_nested_function_change_also_targets_its_callable_owner(tmp_path: Path) -> None:
    only_inner = edit("return c + b", "return c - b")
    targets, _ = review(tmp_path, {"m.py": BASE}, {"m.py": only_inner})
    outer, inner = targets
    assert (inner.qualname, inner.kind, inner.class_name) == ("outer.inner", "nested", None)
    assert inner.base_source == "    def inner(c):\n        return c + b\n"
    # the nested def is reachable only through outer, so outer is verified too
    assert (outer.qualname, outer.kind, outer.changed_lines) == ("outer", "function", (49,))

    both = only_inner.replace("b = a + 1", "b = a + 2")
    targets, _ = review(tmp_path / "2", {"m.py": BASE}, {"m.py": both})
    assert [(t.qualname, t.changed_lines) for t in targets] == [
        ("outer", (46, 49)),
        ("outer.inner", (49,)),
    ]
    assert "def inner(c):" in targets[0].source  # the outer source includes the inner def


def test_decorator_change_counts_and_source_includes_decorators(tmp_path: Path) -> None:
    head = edit("@functools.lru_cache(maxsize=None)", "@functools.lru_cache(maxsize=8)")
    targets, _ = review(tmp_path, {"m.py": BASE}, {"m.py": head})
    [t] = targets
    assert (t.qualname, t.decorator_lineno, t.lineno, t.changed_lines) == ("cached", 36, 37, (36,))
    assert t.source.startswith("@functools.lru_cache(maxsize=8)\ndef cached(n):")
    assert t.base_source is not None and t.base_source.startswith(
        "@functools.lru_cache(maxsize=None)"
    )


def test_async_function(tmp_path: Path) -> None:
    head = edit("return url", "return url.strip()")
    targets, _ = review(tmp_path, {"m.py": BASE}, {"m.py": head})
    [t] = targets
    assert (t.qualname, t.is_async, t.kind) == ("fetch", True, "function")


def test_deletion_only_hunk_marks_the_function(tmp_path: Path) -> None:
    base = """
        def first(x):
            y = x + 1
            print(y)
            return y


        def second():
            return 2
    """
    head = """
        def first(x):
            y = x + 1
            return y


        def second():
            return 2
    """
    targets, _ = review(tmp_path, {"m.py": base}, {"m.py": head})
    [t] = targets
    assert t.qualname == "first" and t.changed_lines == (3,)


def test_deletion_at_end_of_body_and_of_whole_function(tmp_path: Path) -> None:
    base = """
        def first(x):
            x += 1
            return x


        def gone():
            return 0


        def last():
            a = 1
            return a
    """
    head = """
        def first(x):
            x += 1
            return x


        def last():
            a = 1
    """
    targets, _ = review(tmp_path, {"m.py": base}, {"m.py": head})
    # deleting `gone` entirely touches no surviving function; `last` lost its final line
    assert [(t.qualname, t.changed_lines) for t in targets] == [("last", (7,))]


def test_deleting_a_nested_function_marks_the_outer_one(tmp_path: Path) -> None:
    head = edit(
        """
    def outer(a):
        b = a + 1

        def inner(c):
            return c + b

        return inner(a)
""",
        """
    def outer(a):
        b = a + 1

        return a
""",
    )
    targets, _ = review(tmp_path, {"m.py": BASE}, {"m.py": head})
    assert [t.qualname for t in targets] == ["outer"]


def test_moved_function_with_identical_text_is_not_a_target(tmp_path: Path) -> None:
    base = "def a():\n    return 1\n\n\ndef b():\n    return 2\n"
    head = "def b():\n    return 2\n\n\ndef a():\n    return 1\n"
    targets, findings = review(tmp_path, {"m.py": base}, {"m.py": head})
    assert (targets, findings) == ([], [])


def test_renamed_file_without_edits_has_no_targets(tmp_path: Path) -> None:
    targets, findings = review(tmp_path, {"old.py": BASE}, {"old.py": None, "new.py": BASE})
    assert (targets, findings) == ([], [])


def test_renamed_file_with_edits_keeps_base_path(tmp_path: Path) -> None:
    head = edit("return x * 2", "return x * 4")
    targets, _ = review(tmp_path, {"old/m.py": BASE}, {"old/m.py": None, "new/m.py": head})
    [t] = targets
    assert (t.path, t.base_path, t.qualname) == ("new/m.py", "old/m.py", "top")
    assert t.base_source is not None and "x * 2" in t.base_source


def test_added_file_reports_every_function_as_new(tmp_path: Path) -> None:
    targets, _ = review(tmp_path, {"keep.py": "X = 1\n"}, {"added.py": BASE})
    names = [t.qualname for t in targets]
    assert names == [
        "top",
        "Shape.area",
        "Shape.make",
        "Shape.unit",
        "Shape.name",
        "Shape.name",
        "Shape.Inner.deep",
        "cached",
        "fetch",
        "outer",
        "outer.inner",
    ]
    assert all(t.is_new and t.base_path is None and t.base_lineno is None for t in targets)


def test_deleted_and_non_python_files_are_skipped(tmp_path: Path) -> None:
    base = {"gone.py": BASE, "README.md": "hello\n", "tool": "def f():\n    return 1\n"}
    head: Files = {"gone.py": None, "README.md": "bye\n", "tool": "def f():\n    return 2\n"}
    assert review(tmp_path, base, head) == ([], [])


def test_binary_file_is_skipped(tmp_path: Path) -> None:
    head: Files = {"data.py": b"\x00\x01\x02 binary"}
    assert review(tmp_path, {"data.py": b"\x00 old"}, head) == ([], [])


def test_syntax_error_is_a_finding_with_its_line(tmp_path: Path) -> None:
    head = edit("return x * 2", "return x *")
    targets, findings = review(
        tmp_path,
        {"m.py": BASE, "ok.py": "def f():\n    return 1\n"},
        {"m.py": head, "ok.py": "def f():\n    return 2\n"},
    )
    assert [t.key for t in targets] == ["ok.py::f"]
    [f] = findings
    assert (f.path, f.line, f.kind, f.check, f.function) == (
        "m.py",
        6,
        Kind.SYNTAX,
        "syntax",
        "<module>",
    )
    assert "invalid syntax" in f.message and "line 6" in f.message


def test_base_that_does_not_parse_gives_targets_without_base_source(tmp_path: Path) -> None:
    base = "def f(:\n    return 1\n"
    head = "def f():\n    return 1\n"
    targets, findings = review(tmp_path, {"m.py": base}, {"m.py": head})
    assert findings == []
    [t] = targets
    assert (t.qualname, t.base_path, t.base_source) == ("f", "m.py", None)


def test_crlf_and_tabs(tmp_path: Path) -> None:
    base = "def f(x):\r\n\tif x:\r\n\t\treturn 1\r\n\treturn 0\r\n"
    head = "def f(x):\r\n\tif x:\r\n\t\treturn 2\r\n\treturn 0\r\n"
    targets, _ = review(tmp_path, {"m.py": base}, {"m.py": head})
    [t] = targets
    assert t.source == head and t.base_source == base
    assert (t.lineno, t.end_lineno, t.changed_lines) == (1, 4, (3,))


def test_non_utf8_bytes_give_a_finding_but_a_coding_line_is_honoured(tmp_path: Path) -> None:
    bad = b"def f():\n    return 1\n\n\ndef g():\n    return '\xff'\n"
    latin = b"# -*- coding: latin-1 -*-\ndef h():\n    return '\xe9'\n"
    targets, findings = review(
        tmp_path,
        {"bad.py": b"X = 1\n", "lat.py": b"# -*- coding: latin-1 -*-\n"},
        {"bad.py": bad, "lat.py": latin},
    )
    [f] = findings
    assert (f.path, f.line, f.kind) == ("bad.py", 6, Kind.SYNTAX)
    assert "cannot decode as utf-8" in f.message and "0xff" in f.message
    [t] = targets
    assert t.qualname == "h" and "'é'" in t.source


def test_function_in_module_level_if_and_path_with_spaces(tmp_path: Path) -> None:
    base = 'import sys\nif sys.version_info >= (3, 11):\n    def f():\n        return "new"\nelse:\n    def f():\n        return "old"\n'
    head = base.replace('"old"', '"older"')
    targets, _ = review(tmp_path, {'my dir/we"ird.py': base}, {'my dir/we"ird.py': head})
    [t] = targets
    assert (t.path, t.qualname, t.lineno, t.kind) == ('my dir/we"ird.py', "f", 6, "function")
    assert t.base_source == '    def f():\n        return "old"\n'


def test_change_outside_any_function_is_not_a_target(tmp_path: Path) -> None:
    head = edit("sides = 4", "sides = 5").replace("import functools", "import functools  # x")
    assert review(tmp_path, {"m.py": BASE}, {"m.py": head}) == ([], [])


def test_include_and_exclude_filter_paths(tmp_path: Path) -> None:
    head = edit("return x * 2", "return x * 5")
    files = ["src/pkg/a.py", "tests/test_a.py", "scripts/b.py", "c.py"]
    targets, _ = review(
        tmp_path,
        dict.fromkeys(files, BASE),
        dict.fromkeys(files, head),
        include=("src/**/*.py", "*.py", "tests/**"),
        exclude=("tests/**",),
    )
    assert sorted(t.path for t in targets) == ["c.py", "src/pkg/a.py"]


def test_empty_diff() -> None:
    def no_source(path: str) -> str | None:
        raise AssertionError(path)

    assert changed_functions("", no_source, no_source, include=["**"], exclude=[]) == ([], [])


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("a.py", "**/*.py", True),  # ** matches zero folders
        ("x/y/a.py", "**/*.py", True),
        ("a.py", "*.py", True),
        ("x/a.py", "*.py", False),  # * never crosses /
        ("tests/a.py", "tests/**", True),
        ("tests/x/y/a.py", "tests/**", True),
        ("src/tests/a.py", "tests/**", False),
        ("src/tests/a.py", "**/tests/**", True),
        ("tests/a.py", "**/tests/**", True),
        ("src/a/b/c/d.py", "src/**/d.py", True),
        ("src/d.py", "src/**/d.py", True),
        ("srcd.py", "src/**/d.py", False),
        ("pkg/test_x.py", "**/test_*.py", True),
        ("pkg/a_test.py", "**/*_test.py", True),
        ("a1.py", "a?.py", True),
        ("a/.py", "a?.py", False),
        ("ab.py", "a[bc].py", True),
        ("ad.py", "a[!bc].py", True),
        ("ab.py", "a[!bc].py", False),
        ("a+b.py", "a+b.py", True),
        ("./src/a.py", "src/*.py", True),
    ],
)
def test_matches(path: str, pattern: str, expected: bool) -> None:
    assert matches(path, [pattern]) is expected


def test_matches_needs_any_pattern() -> None:
    assert not matches("a.py", [])
    assert matches("a.py", ["b.py", "a.py"])


def test_all_functions_and_syntax_finding() -> None:
    source = textwrap.dedent(BASE).lstrip("\n")
    found = all_functions("m.py", source)
    assert [(t.qualname, t.kind) for t in found][:3] == [
        ("top", "function"),
        ("Shape.area", "method"),
        ("Shape.make", "staticmethod"),
    ]
    assert all(t.changed_lines == () and t.base_source is None for t in found)
    assert syntax_finding("m.py", source) is None
    finding = syntax_finding("m.py", "def f(:\n")
    assert finding is not None and finding.line == 1 and finding.kind is Kind.SYNTAX
    with pytest.raises(SyntaxError):
        all_functions("m.py", "def f(:\n")
    nul = syntax_finding("m.py", "x = 1\0\n")
    assert nul is not None and "null bytes" in nul.message


def test_nested_in_method_class_in_function_and_empty_base_file(tmp_path: Path) -> None:
    base = """
        class C:
            def m(self):
                def helper():
                    return 1
                return helper()


        def factory():
            class K:
                def m(self):
                    return 1
            return K
    """
    head = textwrap.dedent(base).replace("return 1", "return 2")
    targets, _ = review(
        tmp_path,
        {"m.py": base, "pkg/__init__.py": ""},
        {"m.py": head, "pkg/__init__.py": "def g():\n    pass\n"},
    )
    got = [(t.path, t.qualname, t.kind, t.class_name, t.base_path) for t in targets]
    assert got == [
        ("m.py", "C.m", "method", "C", "m.py"),
        ("m.py", "C.m.helper", "nested", None, "m.py"),
        ("m.py", "factory.K.m", "method", "factory.K", "m.py"),
        ("pkg/__init__.py", "g", "function", None, "pkg/__init__.py"),
    ]
    assert targets[3].is_new
