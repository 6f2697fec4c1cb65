"""Whether the project's code may run: the weak-isolation rule and what counts as a secret (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegrad.errors import UsageError
from codegrad.verify import guard
from codegrad.verify.isolation import Isolation
from helpers_git import make_repo

WEAK = Isolation("none", "CODEGRAD_NO_UNSHARE is set")
STRONG = Isolation("namespaces", "")


def test_held_secrets_are_named_never_shown() -> None:
    env = {
        "GITHUB_TOKEN": "ghs_" + "a" * 36,
        "INNOCENT": "sk-" + "b" * 30,  # token-shaped value under a harmless name
        "SSH_AUTH_SOCK": "/tmp/ssh-x/agent.1",  # an agent socket is a credential too
        "PATH": "/usr/bin",
        "EMPTY_TOKEN": "",
    }
    assert guard.held_secrets(env, ["the LLM API key"]) == [
        "GITHUB_TOKEN",
        "INNOCENT",
        "SSH_AUTH_SOCK",
        "the LLM API key",
    ]


@pytest.mark.parametrize(
    ("iso", "secrets", "strict", "refused"),
    [
        (STRONG, ["GITHUB_TOKEN"], True, False),
        (WEAK, [], False, False),  # the CLI with nothing to expose: runs, with the old warning
        (WEAK, ["OPENAI_API_KEY"], False, True),
        (WEAK, [], True, True),  # the action: always holds a token and the runner's files
        (Isolation("userns", "no pid namespace"), ["X_TOKEN"], False, True),
    ],
)
def test_weak_isolation_is_refused_with_secrets_or_in_the_action(
    iso: Isolation, secrets: list[str], strict: bool, refused: bool
) -> None:
    problem = guard.weak_isolation(iso, secrets=secrets, strict=strict)
    assert (problem is not None) is refused
    if problem:
        assert repr(iso.level) in problem and "isolation: allow-weak" in problem
        assert all(name in problem for name in secrets)


def test_the_policy_is_validated_and_names_its_source() -> None:
    assert guard.policy(None, "--isolation") == "strict"
    assert guard.policy(" Allow-Weak ", "--isolation") == "allow-weak"
    with pytest.raises(
        UsageError, match="CODEGRAD_ISOLATION: 'open' is not one of strict, allow-weak"
    ):
        guard.policy("open", "CODEGRAD_ISOLATION")


def test_a_folder_inside_a_worktree_hides_the_whole_checkout_and_its_git_folders(
    tmp_path: Path,
) -> None:
    main = make_repo(tmp_path, "main")
    main.write("pkg/a.py", "x = 1\n")
    main.commit("base")
    main.git("worktree", "add", "-q", str(tmp_path / "wt"), "-b", "wt")
    found = {str(p) for p in guard.checkout_paths(tmp_path / "wt" / "pkg")}
    real = tmp_path.resolve()
    assert {
        str(tmp_path / "wt" / "pkg"),
        str(real / "wt"),
        str(real / "main" / ".git"),
        str(real / "main" / ".git" / "worktrees" / "wt"),
    } <= found
