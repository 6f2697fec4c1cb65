"""The pure rules of fix commits: trailer, guards, splicing, test paths, message, push auth."""

from __future__ import annotations

import base64

import pytest

from codegrad.github import autofix, botgit
from codegrad.model import Fix, Target


def test_trailer_is_recognised_only_as_a_trailer_line() -> None:
    assert autofix.has_trailer("fix\n\nCodegrad-Fix: 123\n")
    assert not autofix.has_trailer("mentions Codegrad-Fix: in prose")
    assert not autofix.has_trailer("Codegrad-Fix:\n")
    assert autofix.count_fix_commits(["a", "b\n\nCodegrad-Fix: 1", "Codegrad-Fix: 2"]) == 2


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"fixes": 0}, "no verified fixes"),
        ({"same_repo": False}, "lives in a fork"),
        ({"branch": "main"}, "never pushes to the default branch (main)"),
        ({"branch": ""}, "never pushes to the default branch"),
        ({"fix_commits": 3}, "already has 3 codegrad fix commit(s), the cap is 3"),
    ],
)
def test_blockers(kw: dict[str, object], reason: str) -> None:
    args: dict[str, object] = {
        "same_repo": True,
        "branch": "feature",
        "default_branch": "main",
        "fix_commits": 0,
        "cap": 3,
        "fixes": 1,
    }
    args.update(kw)
    assert reason in (autofix.blocker(**args) or "")  # type: ignore[arg-type]


def test_no_blocker_for_a_same_repo_feature_branch_under_the_cap() -> None:
    assert (
        autofix.blocker(
            same_repo=True, branch="feature", default_branch="main", fix_commits=2, cap=3, fixes=1
        )
        is None
    )


def test_splice_replaces_lines_and_keeps_line_endings() -> None:
    text = "a\nb\nc\nd\n"
    assert autofix.splice(text, 2, 3, "X\nY\nZ") == "a\nX\nY\nZ\nd\n"
    assert autofix.splice("a\r\nb\r\n", 2, 2, "B") == "a\r\nB\r\n"
    assert autofix.splice("a\nb", 2, 2, "B") == "a\nB"  # no newline added at the end of file


def test_matches_checks_the_file_still_holds_the_target() -> None:
    t = Target(path="m.py", qualname="f", lineno=3, end_lineno=4, source="def f():\n    pass")
    assert autofix.matches("x\nx\ndef f():\n    pass\n", t)
    assert not autofix.matches("x\nx\ndef f():\n    return 1\n", t)
    decorated = Target(
        path="m.py",
        qualname="f",
        lineno=3,
        end_lineno=4,
        source="@d\ndef f():\n    pass",
        decorator_lineno=2,
    )
    assert autofix.matches("x\n@d\ndef f():\n    pass\n", decorated)


def test_test_path_is_unique_and_safe() -> None:
    f = Fix(
        path="src/pkg/my-mod.py",
        function="Cls.run",
        verified=True,
        diff="",
        source="",
        iterations=1,
    )
    assert autofix.test_path(f, set()) == "tests/test_codegrad_my_mod_cls_run.py"
    assert (
        autofix.test_path(f, {"tests/test_codegrad_my_mod_cls_run.py"})
        == "tests/test_codegrad_my_mod_cls_run_2.py"
    )


def test_commit_message_ends_with_the_trailer() -> None:
    f = Fix(path="m.py", function="f", verified=True, diff="", source="", iterations=1)
    message = autofix.commit_message([f], "42")
    assert message.startswith("codegrad: apply 1 verified fix\n") and message.endswith(
        "\nCodegrad-Fix: 42\n"
    )
    assert autofix.has_trailer(message)


def _config(env: dict[str, str]) -> list[tuple[str, str]]:
    count = int(env["GIT_CONFIG_COUNT"])
    return [(env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"]) for i in range(count)]


def test_auth_env_keeps_the_token_out_of_argv_and_plain_text() -> None:
    env = botgit.auth_env("s3cr3t-token", "https://github.example/", "https://github.example/o/r")
    pairs = _config(env)
    assert ("credential.helper", "") in pairs and ("http.extraheader", "") in pairs
    for url in ("https://github.example/", "https://github.example/o/r"):
        key = f"http.{url}.extraheader"
        [reset, header] = [value for k, value in pairs if k == key]  # saved headers reset first
        assert reset == "" and "s3cr3t-token" not in header
        assert base64.b64decode(header.split()[-1]).decode() == "x-access-token:s3cr3t-token"


def test_without_a_token_saved_credentials_are_reset_and_none_sent() -> None:
    pairs = _config(botgit.auth_env("", "https://github.example"))
    assert pairs == [
        ("credential.helper", ""),
        ("http.extraheader", ""),
        ("http.https://github.example/.extraheader", ""),
    ]
