"""Settings precedence (defaults < pyproject < env < flags) and errors that name the bad value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codegrad.errors import UsageError
from codegrad.settings import build


def write_pyproject(tmp_path: Path, body: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(body)
    return tmp_path


def test_defaults_without_config(tmp_path: Path) -> None:
    s = build(tmp_path, {}, env={})
    assert s.fail_on == "error" and s.format == "auto" and s.test_command == "python -m pytest"
    assert "docstrings" in s.checks and "llm-checks" not in s.checks
    assert not s.llm_configured


def test_precedence_pyproject_env_flags(tmp_path: Path) -> None:
    write_pyproject(
        tmp_path,
        '[tool.codegrad]\nmax-examples = 7\ntest-command = "pytest -x"\nfail-on = "warning"\n',
    )
    s = build(tmp_path, {}, env={"CODEGRAD_MAX_EXAMPLES": "9"})
    assert (s.max_examples, s.test_command, s.fail_on) == (9, "pytest -x", "warning")
    s = build(tmp_path, {"max_examples": 11, "fail_on": "note"}, env={"CODEGRAD_MAX_EXAMPLES": "9"})
    assert (s.max_examples, s.fail_on) == (11, "note")


def test_lists_and_tables(tmp_path: Path) -> None:
    write_pyproject(
        tmp_path,
        '[tool.codegrad]\ninclude = ["src/**/*.py"]\nchecks = ["docstrings", "properties"]\n'
        'complexity-bounds = { "m.f" = "O(n)" }\n',
    )
    prices = '{"my-model": [1.0, 2.0]}'
    s = build(tmp_path, {"exclude": "a/**,b/**"}, env={"CODEGRAD_LLM_PRICES": prices})
    assert s.include == ("src/**/*.py",) and s.exclude == ("a/**", "b/**")
    assert s.checks == ("docstrings", "properties")
    assert s.complexity_bounds == {"m.f": "O(n)"} and s.llm_prices == {"my-model": (1.0, 2.0)}


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ('llm-base-url = "https://attacker.example/v1"', "OPENAI_BASE_URL"),
        ('llm_model = "gpt-4"', "OPENAI_MODEL"),
        ('llm-prices = { "m" = [0, 0] }', "CODEGRAD_LLM_PRICES"),
    ],
)
def test_where_the_key_goes_and_what_it_costs_is_never_read_from_the_config(
    tmp_path: Path, line: str, where: str
) -> None:
    write_pyproject(tmp_path, f"[tool.codegrad]\n{line}\n")
    with pytest.raises(UsageError) as info:
        build(tmp_path, {}, env={})
    assert line.split(" ")[0] in str(info.value) and where in str(info.value)
    env = {"CODEGRAD_LLM_BASE_URL": "http://127.0.0.1:9/v1", "CODEGRAD_LLM_MODEL": "m"}
    s = build(tmp_path / "elsewhere", {}, env=env)
    assert (s.llm_base_url, s.llm_model) == ("http://127.0.0.1:9/v1", "m")


def test_openai_conventions_and_secret_not_in_repr(tmp_path: Path) -> None:
    s = build(
        tmp_path,
        {},
        env={"OPENAI_API_KEY": "sk-secret-value-123", "OPENAI_BASE_URL": "http://127.0.0.1:1/v1"},
    )
    assert s.llm_configured and s.llm_base_url == "http://127.0.0.1:1/v1"
    assert "sk-secret-value-123" not in repr(s)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("[tool.codegrad]\nmax-exampels = 3\n", "max-exampels"),
        ('[tool.codegrad]\nfail-on = "sometimes"\n', "sometimes"),
        ('[tool.codegrad]\nchecks = ["docstrings", "fuzz"]\n', "fuzz"),
        ('[tool.codegrad]\nmax-examples = "many"\n', "many"),
        ("[tool.codegrad]\nbudget-seconds = -1\n", "-1"),
        ("[tool.codegrad]\ncandidates-per-step = 0\n", "must be at least 1"),
        ("[tool.codegrad]\ntemperature = 2.5\n", "between 0 and 2"),
        ("[tool.codegrad\n", "not valid TOML"),
        ('[tool.codegrad]\nllm-api-key = "sk-do-not-commit"\n', "llm-api-key"),
    ],
)
def test_bad_config_names_the_value(tmp_path: Path, body: str, needle: str) -> None:
    write_pyproject(tmp_path, body)
    with pytest.raises(UsageError, match=None) as info:
        build(tmp_path, {}, env={})
    assert needle in str(info.value)


def test_bad_env_and_flag_values(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="CODEGRAD_SEED"):
        build(tmp_path, {}, env={"CODEGRAD_SEED": "abc"})
    with pytest.raises(UsageError, match="--apply needs --fix"):
        build(tmp_path, {"apply": True}, env={})
    with pytest.raises(UsageError, match="no such file"):
        build(tmp_path, {"config": str(tmp_path / "missing.toml")}, env={})


def test_refinement_flags_reach_the_settings(tmp_path: Path) -> None:
    settings = build(tmp_path, {"candidates_per_step": 3, "temperature": 0.3}, env={})
    assert (settings.candidates_per_step, settings.temperature) == (3, 0.3)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'max-examples = "ten"',
            "[tool.codegrad] max-examples: expected a whole number, like max-examples = 100; "
            "got the string 'ten'",
        ),
        ("max-examples = 2.5", "max-examples: expected a whole number"),
        ("max-examples = true", "max-examples: expected a whole number"),
        ('budget-seconds = "900"', "budget-seconds: expected a number, like budget-seconds = 900"),
        ('critic = "yes"', "critic: expected true or false, like critic = true"),
        ("test-command = 5", 'test-command: expected a string, like test-command = "..."'),
        ("checks = 5", 'checks: expected a list of strings, like checks = ["a", "b"]'),
        ("include = [1, 2]", "include: expected a list of strings"),
        ('complexity-bounds = "O(n)"', "complexity-bounds: expected a table of function name"),
    ],
)
def test_a_value_of_the_wrong_type_names_the_key_and_the_type_wanted(
    tmp_path: Path, line: str, message: str
) -> None:
    write_pyproject(tmp_path, f"[tool.codegrad]\n{line}\n")
    with pytest.raises(UsageError) as info:
        build(tmp_path, {}, env={})
    assert message in str(info.value) and "invalid literal" not in str(info.value)


def test_a_codegrad_section_that_is_not_a_table_is_a_usage_error(tmp_path: Path) -> None:
    body = '[tool]\ncodegrad = "on"\n'
    message = "[tool.codegrad] must be a table, not the string 'on'"
    write_pyproject(tmp_path, body)
    with pytest.raises(UsageError, match=re.escape(message)):
        build(tmp_path, {}, env={})
    config = tmp_path / "ci.toml"
    config.write_text(body)
    with pytest.raises(UsageError, match=re.escape(message)):
        build(tmp_path, {"config": str(config)}, env={})


def test_prices_from_the_environment_name_the_model_with_a_bad_pair(tmp_path: Path) -> None:
    env = {"CODEGRAD_LLM_PRICES": '{"m": 1}'}
    with pytest.raises(UsageError, match=re.escape("model 'm' needs [input, output] USD per 1M")):
        build(tmp_path, {}, env=env)
    env = {"CODEGRAD_LLM_PRICES": '{"m": [0.15, 0.6]}'}
    assert build(tmp_path, {}, env=env).llm_prices == {"m": (0.15, 0.6)}


def test_strings_from_the_environment_are_still_parsed_and_bad_ones_named(tmp_path: Path) -> None:
    assert build(tmp_path, {}, env={"CODEGRAD_MAX_EXAMPLES": "12"}).max_examples == 12
    with pytest.raises(UsageError) as info:
        build(tmp_path, {}, env={"CODEGRAD_MAX_EXAMPLES": "ten"})
    assert str(info.value) == (
        "environment variable CODEGRAD_MAX_EXAMPLES: bad value 'ten' for max-examples: "
        "expected a whole number"
    )


def test_a_base_url_that_is_not_http_is_refused_before_the_run(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--llm-base-url: LLM base URL 'localhost:8080' is not"):
        build(tmp_path, {"llm_base_url": "localhost:8080"}, env={})
    with pytest.raises(UsageError, match="environment variable OPENAI_BASE_URL"):
        build(tmp_path, {}, env={"OPENAI_BASE_URL": "ftp://x"})
