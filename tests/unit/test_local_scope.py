"""Pure steps of local review: which tree a review looks at, and why nothing was checked."""

from __future__ import annotations

import pytest

from codegrad.cli import in_ci, review_tree
from codegrad.diff.empty import nothing_checked
from codegrad.errors import UsageError
from codegrad.settings import DEFAULT_EXCLUDE

INCLUDE = ("**/*.py", "*.py")


def modified(path: str, old: str = "X = 1", new: str = "X = 2") -> str:
    return (
        f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n+++ b/{path}\n"
        f"@@ -1 +1 @@\n-{old}\n+{new}\n"
    )


def deleted(path: str) -> str:
    return (
        f"diff --git a/{path} b/{path}\ndeleted file mode 100644\nindex 1111111..0000000\n"
        f"--- a/{path}\n+++ /dev/null\n@@ -1 +0,0 @@\n-def f():\n-    return 1\n"
    )


@pytest.mark.parametrize(
    ("diff", "expected"),
    [
        ("", "no file differs between the two trees"),
        (modified("README.md"), "no Python file changed (changed: README.md)"),
        (
            modified("tests/test_m.py"),
            "every changed Python file is out of scope: tests/test_m.py (excluded by 'tests/**')",
        ),
        (deleted("pkg/old.py"), "the change only deletes Python files: pkg/old.py"),
        (
            modified("pkg/m.py"),
            "the changes to pkg/m.py touch no function body (module-level code, imports,"
            " class attributes or deleted functions only; those are not checked)",
        ),
    ],
)
def test_nothing_checked_names_the_reason(diff: str, expected: str) -> None:
    assert nothing_checked(diff, INCLUDE, DEFAULT_EXCLUDE) == expected


def test_nothing_checked_says_which_glob_left_a_file_out_and_counts_the_rest() -> None:
    diff = modified("scripts/x.py") + modified("src/a.py")
    reason = nothing_checked(diff, ("src/**",), ("src/a.py",))
    assert reason == (
        "every changed Python file is out of scope: scripts/x.py (not matched by include),"
        " src/a.py (excluded by 'src/a.py')"
    )
    many = "".join(modified(f"doc{i}.txt") for i in range(8))
    assert nothing_checked(many, INCLUDE, ()) == (
        "no Python file changed (changed: doc0.txt, doc1.txt, doc2.txt, doc3.txt, doc4.txt"
        " and 3 more)"
    )


@pytest.mark.parametrize(
    ("head", "staged", "env", "tree"),
    [
        (None, False, {}, "worktree"),
        (None, True, {}, "index"),
        ("HEAD", False, {}, "commit"),
        (None, False, {"CI": "true"}, "commit"),
        (None, False, {"GITHUB_ACTIONS": "true"}, "commit"),
        (None, False, {"CI": "false"}, "worktree"),
        (None, False, {"CI": "0"}, "worktree"),
        (None, False, {"CI": ""}, "worktree"),
        (None, True, {"CI": "1"}, "index"),  # asked for explicitly: the index even in CI
    ],
)
def test_review_tree(head: str | None, staged: bool, env: dict[str, str], tree: str) -> None:
    assert review_tree(head, staged, env) == tree


def test_staged_and_head_together_is_a_usage_error_naming_both() -> None:
    with pytest.raises(UsageError, match=r"--staged .* --head main"):
        review_tree("main", True, {})


def test_in_ci() -> None:
    assert in_ci({"CI": "True"}) and in_ci({"GITHUB_ACTIONS": "true"})
    assert not in_ci({}) and not in_ci({"CI": " false "})
