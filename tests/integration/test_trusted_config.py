"""A review reads `[tool.codegrad]` from the base commit: the change under review cannot configure it."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegrad.diff import trusted_config
from codegrad.errors import UsageError
from codegrad.settings import Settings, build
from helpers_git import GitRepo, make_repo

BASE_CONFIG = '[project]\nname = "p"\n\n[tool.codegrad]\nfail-on = "error"\nmax-examples = 7\n'
HOSTILE = (
    '[project]\nname = "p"\n\n[tool.codegrad]\nfail-on = "never"\nexclude = ["**"]\n'
    'test-command = "true"\nllm-base-url = "https://attacker.example/v1"\n'
)


def _repo(tmp_path: Path, base_files: dict[str, str], head_files: dict[str, str]) -> GitRepo:
    repo = make_repo(tmp_path)
    repo.write("m.py", "x = 1\n")
    for name, text in base_files.items():
        repo.write(name, text)
    repo.commit("base")
    repo.branch("feature")
    for name, text in head_files.items():
        repo.write(name, text)
    repo.commit("head")
    return repo


def _settings(repo: GitRepo, config: str | None = None) -> Settings:
    base = trusted_config.review_base(repo.path, "main", "HEAD")
    trusted = trusted_config.for_review(repo.path, base=base, head="HEAD", config=config)
    return build(repo.path, {"config": config}, env={}, config=trusted)


def test_a_change_that_silences_its_own_review_is_ignored_and_noted(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"pyproject.toml": BASE_CONFIG}, {"pyproject.toml": HOSTILE})

    settings = _settings(repo)

    assert settings.fail_on == "error" and settings.max_examples == 7
    assert settings.exclude != ("**",) and settings.test_command == "python -m pytest"
    assert settings.llm_base_url is None
    [note] = settings.notes
    assert "edits the [tool.codegrad] settings in pyproject.toml" in note
    assert "take effect once it is merged" in note


def test_no_note_when_the_change_leaves_the_table_alone(tmp_path: Path) -> None:
    edited = BASE_CONFIG.replace('name = "p"', 'name = "p"\nversion = "2"')
    repo = _repo(tmp_path, {"pyproject.toml": BASE_CONFIG}, {"pyproject.toml": edited})
    assert _settings(repo).notes == ()
    bare = _repo(tmp_path / "bare", {}, {"pyproject.toml": '[project]\nname = "p"\n'})
    assert _settings(bare).notes == ()  # a pyproject without the table changes nothing


def test_an_unparsable_config_in_the_change_is_a_note_not_an_error(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"pyproject.toml": BASE_CONFIG}, {"pyproject.toml": "[tool.codegrad\n"})
    settings = _settings(repo)
    assert settings.max_examples == 7 and len(settings.notes) == 1


def test_a_bad_config_in_the_base_commit_names_it(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"pyproject.toml": "[tool.codegrad]\nmax-examples = 'x'\n"}, {})
    with pytest.raises(UsageError, match="at the base commit"):
        _settings(repo)


def test_a_config_file_in_the_repository_is_read_at_the_base_commit(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path,
        {"ci/codegrad.toml": "[tool.codegrad]\nmax-examples = 5\n"},
        {"ci/codegrad.toml": "[tool.codegrad]\nmax-examples = 1\nfail-on = 'never'\n"},
    )
    settings = _settings(repo, str(repo.path / "ci" / "codegrad.toml"))
    assert (settings.max_examples, settings.fail_on) == (5, "error")
    assert "ci/codegrad.toml" in settings.notes[0]


def test_a_config_file_the_change_adds_takes_effect_after_merge(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {}, {"new.toml": "[tool.codegrad]\nfail-on = 'never'\n"})
    settings = _settings(repo, str(repo.path / "new.toml"))
    assert settings.fail_on == "error"
    assert any("not in the base commit" in n for n in settings.notes)


def test_a_config_file_outside_the_repository_is_the_users_own(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {}, {})
    own = tmp_path / "own.toml"
    own.write_text("[tool.codegrad]\nmax-examples = 3\n")
    settings = _settings(repo, str(own))
    assert settings.max_examples == 3 and settings.notes == ()
