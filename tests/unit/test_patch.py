"""patch: extracting a function from LLM answers, validating it, splicing it in, and diffing."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codegrad.model import Target
from codegrad.refine.extract import extract_function
from codegrad.refine.patch import splice, unified_diff, validate_candidate

MODULE = '''"""A module."""

import os

LIMIT = 3


def top(a: int, b: int = 2) -> int:
    """Add."""
    return a - b


class Box:
    size = 1

    @staticmethod
    @cache
    def area(w: float, h: float) -> float:
        """Area of w by h.

        >>> Box.area(2, 3)
        6
        """
        text = """
raw
  block"""
        return w + h

    def other(self):
        def inner(x):
            return x * 3

        return inner(self.size)


def after():
    return LIMIT
'''


def target(qualname: str, source: str = MODULE) -> Target:
    """A Target built from the module the way the change finder does: positions from ast."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    name = qualname.rsplit(".", 1)[-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            end = node.end_lineno or node.lineno
            return Target(
                path="pkg/mod.py",
                qualname=qualname,
                lineno=node.lineno,
                end_lineno=end,
                source="".join(lines[first - 1 : end]),
                decorator_lineno=first if node.decorator_list else None,
                is_async=isinstance(node, ast.AsyncFunctionDef),
            )
    raise AssertionError(qualname)


# --------------------------------------------------------------------------- splice


def test_splice_top_level_function() -> None:
    new = splice(MODULE, target("top"), "def top(a: int, b: int = 2) -> int:\n    return a + b\n")
    assert "def top(a: int, b: int = 2) -> int:\n    return a + b\n\n\nclass Box:" in new
    assert new.replace("    return a + b\n", '    """Add."""\n    return a - b\n') == MODULE


def test_splice_method_reindents_and_replaces_decorators() -> None:
    candidate = (
        "@staticmethod\n@cache\ndef area(w: float, h: float) -> float:\n"
        '    """Area of w by h."""\n    return w * h\n'
    )
    new = splice(MODULE, target("Box.area"), candidate)
    assert (
        "    @staticmethod\n    @cache\n    def area(w: float, h: float) -> float:\n"
        '        """Area of w by h."""\n        return w * h\n\n    def other(self):'
    ) in new
    ast.parse(new)


def test_splice_without_decorators_keeps_the_original_ones() -> None:
    new = splice(
        MODULE, target("Box.area"), "def area(w: float, h: float) -> float:\n    return 0.0\n"
    )
    assert (
        "    @staticmethod\n    @cache\n    def area(w: float, h: float) -> float:\n        return 0.0\n"
        in new
    )


def test_splice_nested_function() -> None:
    indented = (
        "    def inner(x):\n        return x * 4\n"  # the answer's own indentation is ignored
    )
    new = splice(MODULE, target("Box.other.inner"), indented)
    assert (
        "        def inner(x):\n            return x * 4\n\n        return inner(self.size)" in new
    )


def test_splice_keeps_multiline_strings_verbatim_but_reindents_docstrings() -> None:
    candidate = (
        "def area(w: float, h: float) -> float:\n"
        '    """Area.\n\n    >>> Box.area(2, 3)\n    6\n    """\n'
        '    text = """\nraw\n  block"""\n'
        "    return w * h\n"
    )
    new = splice(MODULE, target("Box.area"), candidate)
    assert '        """Area.\n\n        >>> Box.area(2, 3)\n        6\n        """\n' in new
    assert '        text = """\nraw\n  block"""\n        return w * h\n' in new


def test_splice_keeps_crlf_and_missing_final_newline() -> None:
    source = "def f(x):\r\n    return x\r\n\r\ndef g():\r\n    return 1"
    new = splice(source, target("f", source), "def f(x):\n    return -x\n")
    assert new == "def f(x):\r\n    return -x\r\n\r\ndef g():\r\n    return 1"
    last = splice(source, target("g", source), "def g():\n    return 2\n")
    assert last.endswith("def g():\r\n    return 2")


def test_splice_refuses_a_target_that_is_not_there() -> None:
    stale = Target(path="m.py", qualname="top", lineno=2, end_lineno=3, source="")
    with pytest.raises(ValueError, match="no `def top` at line 2"):
        splice(MODULE, stale, "def top(a, b=2):\n    return 0\n")


# --------------------------------------------------------------------------- validate


def test_validate_accepts_a_real_change_with_an_inner_import() -> None:
    candidate = (
        "def top(a: int, b: int = 2) -> int:\n    import operator\n    return operator.add(a, b)\n"
    )
    assert validate_candidate(target("top"), MODULE, candidate) is None


@pytest.mark.parametrize(
    "header",
    [
        "def top(a: int, b: int = 3) -> int:",  # default
        "def top(a: int, b: float = 2) -> int:",  # annotation
        "def top(a: int, b: int = 2) -> float:",  # return annotation
        "def top(a: int, b: int = 2, c=0) -> int:",  # extra parameter
        "def top(a: int, *, b: int = 2) -> int:",  # keyword-only
        "async def top(a: int, b: int = 2) -> int:",  # async
    ],
)
def test_validate_rejects_a_changed_signature(header: str) -> None:
    reason = validate_candidate(target("top"), MODULE, f"{header}\n    return a + b\n")
    assert reason is not None and reason.startswith("the signature changed")
    assert "def top(a: int, b: int = 2) -> int" in reason


def test_validate_rejects_a_module_level_import() -> None:
    candidate = "import math\n\ndef top(a: int, b: int = 2) -> int:\n    return math.floor(a + b)\n"
    reason = validate_candidate(target("top"), MODULE, candidate)
    assert reason == "it adds a module-level import (`import math`); put imports inside top"


def test_validate_rejects_an_extra_helper_function() -> None:
    candidate = (
        "def helper(x):\n    return x\n\n"
        "def top(a: int, b: int = 2) -> int:\n    return helper(a) + b\n"
    )
    reason = validate_candidate(target("top"), MODULE, candidate)
    assert reason is not None and "adds `def helper` outside top" in reason


def test_validate_rejects_other_top_level_code_and_wrong_names() -> None:
    extra = "def top(a: int, b: int = 2) -> int:\n    return a + b\n\nprint(top(1))\n"
    assert "adds code outside top: `print(top(1))`" in (
        validate_candidate(target("top"), MODULE, extra) or ""
    )
    renamed = "def top_fixed(a: int, b: int = 2) -> int:\n    return a + b\n"
    assert validate_candidate(target("top"), MODULE, renamed) == (
        "it does not define top (found top_fixed)"
    )


def test_validate_rejects_unparsable_and_empty_answers() -> None:
    reason = validate_candidate(
        target("top"), MODULE, "def top(a: int, b: int = 2) -> int:\n    return (a\n"
    )
    assert reason is not None and reason.startswith("the new version does not parse (line 2")
    assert validate_candidate(target("top"), MODULE, "\n\n") == "the new version is empty"


def test_validate_rejects_an_unchanged_echo() -> None:
    echo = "def top(a: int, b: int = 2) -> int:\n    # same thing\n    return a - b\n"
    reason = validate_candidate(target("top"), MODULE, echo)
    # the docstring was dropped, so this is a change; the verbatim original is not
    assert reason is None
    assert validate_candidate(target("top"), MODULE, target("top").source) == (
        "it is the same code as the original (only formatting or comments differ)"
    )


def test_validate_decorators_must_match_or_be_left_out() -> None:
    area = target("Box.area")
    body = "def area(w: float, h: float) -> float:\n    return w * h\n"
    assert validate_candidate(area, MODULE, body) is None
    assert validate_candidate(area, MODULE, "@staticmethod\n@cache\n" + body) is None
    reason = validate_candidate(area, MODULE, "@staticmethod\n" + body)
    assert reason is not None and reason.startswith("the decorators changed")


def test_validate_rejects_a_change_outside_the_function() -> None:
    # a stale target whose range runs past the function would swallow the code after it
    real = target("after")
    stale = Target(
        path=real.path,
        qualname="Box.other",
        lineno=real.lineno - 7,
        end_lineno=real.end_lineno,
        source=target("Box.other").source,
    )
    candidate = "def other(self):\n    return self.size\n"
    assert validate_candidate(stale, MODULE, candidate) == "code outside Box.other changed"


# --------------------------------------------------------------------------- extract


def test_extract_from_a_fenced_answer_with_prose() -> None:
    answer = "Sure! The bug is the minus sign.\n\n```python\ndef top(a, b=2):\n    return a + b\n```\n\nHope this helps."
    result = extract_function(answer, "top")
    assert (result.source, result.extras, result.problem) == (
        "def top(a, b=2):\n    return a + b\n",
        [],
        None,
    )


def test_extract_from_an_unfenced_answer() -> None:
    assert extract_function("def top(a, b=2):\n    return a + b\n", "top").source == (
        "def top(a, b=2):\n    return a + b\n"
    )
    prose = (
        "Here is the fixed version:\n\n    def top(a, b=2):\n        return a + b\n\nIt now adds."
    )
    result = extract_function(prose, "top")
    assert result.source == "def top(a, b=2):\n    return a + b\n" and result.problem is None


def test_extract_from_a_multiline_signature_without_fences() -> None:
    prose = (
        "Fixed:\ndef top(\n    a,\n    b=2,\n):\n    return a + b\nDone, I changed the operator."
    )
    result = extract_function(prose, "top")
    assert result.source == "def top(\n    a,\n    b=2,\n):\n    return a + b\n"


def test_extract_picks_the_last_block_that_defines_the_function() -> None:
    answer = (
        "Original:\n```python\ndef top(a, b=2):\n    return a - b\n```\n"
        "Fixed:\n```python\ndef top(a, b=2):\n    return a + b\n```\n"
        "Usage:\n```python\nprint(top(1))\n```\n"
    )
    result = extract_function(answer, "top")
    assert result.source == "def top(a, b=2):\n    return a + b\n"
    assert result.extras == ["2 code blocks define top; used the last one"]


def test_extract_moves_used_imports_and_helpers_into_the_function() -> None:
    answer = (
        "```python\nimport math\nfrom typing import List\n\nLIMIT = 2\n\n"
        "def _half(x):\n    return x / LIMIT\n\n"
        "def unused():\n    return 0\n\n"
        'def top(a: List[int], b=2):\n    """Doc."""\n    return math.floor(_half(a + b))\n\n'
        "print(top(3))\n```"
    )
    result = extract_function(answer, "top")
    assert result.problem is None
    assert result.source == (
        "def top(a: List[int], b=2):\n"
        '    """Doc."""\n'
        "    import math\n"
        "    LIMIT = 2\n"
        "    def _half(x):\n"
        "        return x / LIMIT\n"
        "    return math.floor(_half(a + b))\n"
    )
    assert result.extras == [
        "import math (moved into top)",
        "from typing import List (used by the function)",  # annotations run in the module
        "LIMIT = 2 (moved into top)",
        "def _half (moved into top)",
        "def unused",
        "print(top(3))",
    ]
    namespace: dict[str, object] = {"List": list}
    exec(result.source, namespace)  # noqa: S102 - the folded function runs on its own
    assert namespace["top"](3) == 2  # type: ignore[operator]


def test_extract_reports_helpers_it_cannot_move() -> None:
    one_line = extract_function(
        "```python\ndef h(a):\n    return a\ndef top(a): return h(a)\n```", "top"
    )
    assert one_line.source == "def top(a): return h(a)\n"
    assert one_line.problem is not None and "top uses h" in one_line.problem
    method = extract_function(
        "```python\ndef h(a):\n    return a\n\nclass Box:\n    def top(self, a):\n"
        "        return h(a)\n```",
        "top",
    )
    assert method.problem is not None and "top uses h" in method.problem


def test_extract_a_method_returned_inside_its_class() -> None:
    answer = (
        "```python\nclass Box:\n    @staticmethod\n    def area(w, h):\n        return w * h\n```"
    )
    result = extract_function(answer, "area")
    assert result.source == "@staticmethod\ndef area(w, h):\n    return w * h\n"
    assert result.extras == ["class Box around it (ignored)"]


def test_extract_with_longer_fences_and_tildes() -> None:
    inner = 'def top(a, b=2):\n    """Use like ```top(1)```."""\n    return a + b\n'
    assert extract_function(f"````python\n{inner}````\n", "top").source == inner
    assert extract_function(f"~~~\n{inner}~~~\n", "top").source == inner


def test_extract_strips_copied_line_numbers() -> None:
    answer = "```python\n 9 | def top(a, b=2):\n10 |     return a + b\n```"
    assert extract_function(answer, "top").source == "def top(a, b=2):\n    return a + b\n"


def test_extract_reports_truncated_answers() -> None:
    result = extract_function(
        "```python\ndef top(a, b=2):\n    if a > b:\n        return (a +", "top"
    )
    assert result.source == ""
    assert result.problem is not None
    assert "does not parse" in result.problem and "cut off" in result.problem


def test_extract_reports_a_missing_function() -> None:
    assert extract_function("The code looks right to me.", "top").problem == (
        "the answer has no function named top"
    )
    other = extract_function("```python\ndef add(a, b):\n    return a + b\n```", "top")
    assert other.problem == "the answer has no function named top (it defines add)"


PIECES = st.sampled_from(
    [
        "```python\n",
        "```\n",
        "def top(a, b=2):\n",
        "def top(a: int, b: int = 2) -> int:\n",
        "    return a + b\n",
        "  def top(a: int,\n",
        "):\n",
        "@cache\n",
        "import os\n",
        "class Box:\n",
        "Here is the fix.\n",
        '    """doc\n',
        "\n",
        "\t",
        " 3 | ",
        "~~~\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=12).map("".join))
def test_extract_and_validate_never_raise(answer: str) -> None:
    result = extract_function(answer, "top")
    if result.source:
        tree = ast.parse(result.source)
        assert any(isinstance(n, ast.FunctionDef) and n.name == "top" for n in tree.body)
    else:
        assert result.problem
    reason = validate_candidate(target("top"), MODULE, answer)
    if reason is None:  # accepted: the spliced file parses and only `top` changed
        ast.parse(splice(MODULE, target("top"), answer))


# --------------------------------------------------------------------------- diff


def test_unified_diff_is_git_style_and_applies(tmp_path: Path) -> None:
    new = splice(MODULE, target("top"), "def top(a: int, b: int = 2) -> int:\n    return a + b\n")
    diff = unified_diff("pkg/mod.py", MODULE, new)
    assert diff.startswith(
        "diff --git a/pkg/mod.py b/pkg/mod.py\n--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ "
    )
    assert "-    return a - b\n+    return a + b\n" in diff
    assert unified_diff("pkg/mod.py", MODULE, MODULE) == ""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(MODULE)
    (tmp_path / "fix.patch").write_text(diff)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "apply", "fix.patch"], cwd=tmp_path, check=True)
    assert (tmp_path / "pkg" / "mod.py").read_text() == new


def test_unified_diff_marks_a_missing_final_newline(tmp_path: Path) -> None:
    diff = unified_diff("a.py", "x = 1\ny = 2", "x = 1\ny = 3")
    assert diff.endswith(
        "-y = 2\n\\ No newline at end of file\n+y = 3\n\\ No newline at end of file\n"
    )
    (tmp_path / "a.py").write_text("x = 1\ny = 2")
    (tmp_path / "p.diff").write_text(diff)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "apply", "p.diff"], cwd=tmp_path, check=True)
    assert (tmp_path / "a.py").read_text() == "x = 1\ny = 3"


def test_restore_signature_puts_back_the_original_header_when_only_annotations_differ() -> None:
    from codegrad.refine.patch import restore_signature

    original = 'def pick(items, k=2):\n    """Doc."""\n    return items[k]\n'
    hinted = "def pick(items: list[int], k: int = 2) -> int:\n    return items[0]\n"
    assert restore_signature(original, hinted) == "def pick(items, k=2):\n    return items[0]\n"
    wrapped = "def pick(\n    items: list,\n    k: int = 2,\n) -> int:\n    return items[0]\n"
    assert restore_signature(original, wrapped) == "def pick(items, k=2):\n    return items[0]\n"


def test_restore_signature_leaves_real_signature_changes_for_validation() -> None:
    from codegrad.refine.patch import restore_signature

    original = "def pick(items, k=2):\n    return items[k]\n"
    for changed in (
        "def pick(items, k=3):\n    return items[0]\n",  # a default
        "def pick(items, j=2):\n    return items[0]\n",  # a name
        "def pick(items, *, k=2):\n    return items[0]\n",  # a kind
        "async def pick(items, k=2):\n    return items[0]\n",
        "def pick(items, k=2): return items[0]\n",  # one line: no header to swap
        "def pick(items, k=2:\n",
    ):
        assert restore_signature(original, changed) == changed
