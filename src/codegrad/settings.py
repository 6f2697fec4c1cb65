"""Settings: defaults <- `[tool.codegrad]` (the base commit's, see diff/trusted_config.py) <- CODEGRAD_* env <- flags."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from codegrad.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

# auto: terminal when stdout is a terminal, markdown otherwise (decided where stdout is known)
FORMATS = ("auto", "terminal", "markdown", "json", "sarif")
TREES = ("commit", "worktree", "index")  # what a review's head is: see codegrad.diff.worktree
FAIL_LEVELS = ("note", "warning", "error", "never")
# The one list of checks (cheap first), with what each one looks at; the engine, the config
# validation and the SARIF rules all read it.
CHECKS: dict[str, str] = {
    "project-tests": "the project's own tests that exercise the changed function",
    "docstrings": "the docstring examples (>>> lines) of the changed function",
    "properties": "Hypothesis property tests generated for the changed function",
    "differential": "base-versus-head comparison on the same generated inputs",
    "recorded": "base-versus-head comparison on the inputs the project's own tests pass",
    "efficiency": "growth of cost with input size, against base and against a stated bound",
    "llm-checks": "checks proposed by an LLM from the docstring and verified by running them",
}
ALL_CHECKS = tuple(CHECKS)
DEFAULT_CHECKS = (
    "project-tests",
    "recorded",
    "docstrings",
    "properties",
    "differential",
    "efficiency",
)
DEFAULT_EXCLUDE = (
    "tests/**",
    "test/**",
    "**/tests/**",
    "**/test_*.py",
    "**/*_test.py",
    "test_*.py",
    "*_test.py",
    "**/conftest.py",
    "conftest.py",
    "docs/**",
    "setup.py",
    "noxfile.py",
)


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know; frozen, built once in the CLI or action entry point."""

    repo: Path = Path(".")
    base: str | None = None
    head: str = "HEAD"
    tree: str = (
        "commit"  # head is a commit; "worktree"/"index": the files on disk / the staged ones
    )
    format: str = "auto"
    output: Path | None = None
    fail_on: str = "error"
    include: tuple[str, ...] = ("**/*.py", "*.py")
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    checks: tuple[str, ...] = DEFAULT_CHECKS
    test_command: str = "python -m pytest"
    test_timeout: float = 300.0  # seconds for one run of the project's test suite
    function_timeout: float = 30.0  # seconds for one check on one function
    call_timeout: float = 2.0  # seconds for one call of the target on one input
    budget_seconds: float = 900.0  # wall-clock budget for the whole review
    max_examples: int = 100  # Hypothesis examples per property
    seed: int = 0
    memory_mb: int = 2048  # address-space limit for sandboxed code
    slowdown_factor: float = 4.0  # efficiency: head cost / base cost at the largest size that fails
    complexity_bounds: Mapping[str, str] = field(default_factory=dict)  # qualname -> "O(n log n)"
    # LLM (refinement and LLM-derived checks)
    fix: bool = False
    apply: bool = False
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: str | None = field(default=None, repr=False)
    llm_timeout: float = 120.0
    llm_cache: Path | None = None
    llm_prices: Mapping[str, tuple[float, float]] = field(
        default_factory=dict
    )  # model -> USD per 1M in/out
    max_iterations: int = 4
    budget_usd: float | None = None
    budget_calls: int | None = None
    budget_tokens: int | None = None
    temperature: float = 0.8  # for sampled (non-first) candidates; the first answer is greedy
    candidates_per_step: int = 1
    critic: bool = True  # the LLM critic's feedback before each update step
    progress: bool | None = None  # None: on when stderr is a TTY
    notes: tuple[str, ...] = ()  # about the settings themselves (a config change under review)

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_api_key or self.llm_base_url)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


_FIELD_TYPES = {f.name: f for f in fields(Settings)}
# Keys allowed in [tool.codegrad]; secrets are never read from a committed file.
_CONFIG_KEYS = {
    "include",
    "exclude",
    "checks",
    "test-command",
    "test-timeout",
    "function-timeout",
    "call-timeout",
    "budget-seconds",
    "max-examples",
    "seed",
    "memory-mb",
    "fail-on",
    "format",
    "slowdown-factor",
    "complexity-bounds",
    "llm-timeout",
    "max-iterations",
    "budget-usd",
    "budget-calls",
    "budget-tokens",
    "temperature",
    "candidates-per-step",
    "critic",
}


# Where the API key goes, and what a run may spend, are not for a committed file to say: a pull
# request could point the key at its own host. These come from flags, action inputs or env only.
NOT_IN_CONFIG = {
    "llm-base-url": "--llm-base-url, the llm-base-url input or OPENAI_BASE_URL",
    "llm-model": "--llm-model, the llm-model input or OPENAI_MODEL",
    "llm-prices": 'CODEGRAD_LLM_PRICES (JSON: {"model": [input, output] USD per 1M tokens})',
}
_ENV_ONLY = frozenset(NOT_IN_CONFIG)

AT_LEAST_ONE = frozenset({"candidates_per_step"})


def _coerce(name: str, value: Any, where: str) -> Any:
    """Convert a raw config/env/flag value to the field's type, or raise UsageError naming it."""
    default = _default(name)
    try:
        if name in ("include", "exclude", "checks"):
            items = value.split(",") if isinstance(value, str) else list(value)
            out = tuple(str(v).strip() for v in items if str(v).strip())
            if name == "checks":
                bad = [c for c in out if c not in ALL_CHECKS]
                if bad:
                    raise UsageError(
                        f"{where}: unknown check {bad[0]!r}; choose from {', '.join(ALL_CHECKS)}"
                    )
            return out
        if name in ("complexity_bounds",):
            if not isinstance(value, Mapping):
                raise TypeError("a table of function name -> bound")
            return {str(k): str(v) for k, v in value.items()}
        if name == "llm_prices":
            if isinstance(value, str):
                value = json.loads(value)
            if not isinstance(value, Mapping):
                raise TypeError("a table of model -> [input, output] USD per 1M tokens")
            return {str(k): _price_pair(k, v) for k, v in value.items()}
        if isinstance(default, bool) or name in ("fix", "apply", "progress"):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError("expected true or false")
        if isinstance(default, int) or name in ("budget_calls", "budget_tokens"):
            if isinstance(value, bool):
                raise TypeError("expected an integer")
            number = int(value)
            if number < 0:
                raise ValueError("must not be negative")
            if number < 1 and name in AT_LEAST_ONE:
                raise ValueError("must be at least 1")
            return number
        if isinstance(default, float) or name == "budget_usd":
            if isinstance(value, bool):
                raise TypeError("expected a number")
            real = float(value)
            if real < 0:
                raise ValueError("must not be negative")
            if name == "temperature" and real > 2:
                raise ValueError("must be between 0 and 2 (the OpenAI API's range)")
            return real
        if isinstance(default, Path) or name in ("output", "llm_cache"):
            return Path(str(value))
        text = str(value)
    except UsageError:
        raise
    except (TypeError, ValueError, IndexError, KeyError) as exc:
        raise UsageError(
            f"{where}: bad value {value!r} for {name.replace('_', '-')}: {_reason(exc)}"
        ) from None
    if name == "format" and text not in FORMATS:
        raise UsageError(f"{where}: bad format {text!r}; choose from {', '.join(FORMATS)}")
    if name == "tree" and text not in TREES:
        raise UsageError(f"{where}: bad tree {text!r}; choose from {', '.join(TREES)}")
    if name == "fail_on" and text not in FAIL_LEVELS:
        raise UsageError(f"{where}: bad fail level {text!r}; choose from {', '.join(FAIL_LEVELS)}")
    if name == "llm_base_url" and text.strip():
        parts = urlsplit(text.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(
                f"{where}: LLM base URL {text!r} is not an http(s) URL; give one like "
                "http://127.0.0.1:8080/v1 or https://api.openai.com/v1"
            )
    return text


def _default(name: str) -> Any:
    spec = _FIELD_TYPES[name]
    if spec.default is dataclasses.MISSING and spec.default_factory is not dataclasses.MISSING:
        return spec.default_factory()
    return spec.default


def _price_pair(model: Any, pair: Any) -> tuple[float, float]:
    numbers = isinstance(pair, (list, tuple)) and len(pair) == 2
    if not numbers or any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in pair):
        raise TypeError(
            f"model {model!r} needs [input, output] USD per 1M tokens, like [0.15, 0.6]"
        )
    return float(pair[0]), float(pair[1])


def _reason(exc: Exception) -> str:
    """Why a value did not convert, in words (not Python's "invalid literal for int()")."""
    text = str(exc)
    if "invalid literal for int()" in text:
        return "expected a whole number"
    if "could not convert string to float" in text:
        return "expected a number"
    return text


_LISTS = ("include", "exclude", "checks")
_TABLES = {"complexity_bounds": 'a table of function name = bound, like { "pkg.mod.f" = "O(n)" }'}


def _toml_kind(value: Any) -> str:
    """How a TOML value reads in a message: "the string 'ten'", "the list [1]", "true (a boolean)"."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (int, float)):
        return f"{value!r} ({'a whole number' if isinstance(value, int) else 'a decimal number'})"
    if isinstance(value, list):
        return f"the list {value!r}"[:120]
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


def _expected_toml(name: str, value: Any) -> str | None:
    """What a [tool.codegrad] value should have been, when its TOML type is wrong (else None)."""
    key = name.replace("_", "-")
    if name in _LISTS:
        if isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            return None
        return f'a list of strings, like {key} = ["a", "b"]'
    if name in _TABLES:
        return None if isinstance(value, dict) else _TABLES[name]
    default = _default(name)
    if isinstance(default, bool) or name in ("fix", "apply", "progress"):
        return None if isinstance(value, bool) else f"true or false, like {key} = true"
    if isinstance(default, int) or name in ("budget_calls", "budget_tokens"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"a whole number, like {key} = {default if default else 100}"
    if isinstance(default, float) or name == "budget_usd":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else f"a number, like {key} = {default if default else 1.5}"
    return None if isinstance(value, str) else f'a string, like {key} = "..."'


@dataclass(frozen=True)
class Config:
    """A raw `[tool.codegrad]` table, where it was read from, and notes about it."""

    table: Mapping[str, Any]
    where: str
    notes: tuple[str, ...] = ()


def parse_config(text: str, where: str) -> dict[str, Any]:
    """The raw `[tool.codegrad]` table of a TOML text (empty if it has none)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(
            f"{where}: not valid TOML ({exc}); fix the file or remove [tool.codegrad]"
        ) from None
    tool = data.get("tool", {})
    table = tool.get("codegrad", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise UsageError(f"{where}: [tool.codegrad] must be a table, not {_toml_kind(table)}")
    return table


def read_pyproject(repo: Path) -> dict[str, Any]:
    """The raw `[tool.codegrad]` table of the repository's pyproject.toml on disk (empty if none)."""
    path = repo / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text ({exc})") from None
    return parse_config(text, str(path))


def from_config(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Validate a `[tool.codegrad]`-style table (kebab or snake keys) into field values."""
    values: dict[str, Any] = {}
    for raw_key, raw_value in table.items():
        key = raw_key.replace("_", "-")
        if key in NOT_IN_CONFIG:
            raise UsageError(
                f"{where}: {raw_key!r} is not read from [tool.codegrad] (a committed file does not "
                f"decide where the API key is sent or what it costs); set it with {NOT_IN_CONFIG[key]}"
            )
        if key not in _CONFIG_KEYS:
            raise UsageError(
                f"{where}: unknown key {raw_key!r} in [tool.codegrad]; "
                f"known keys: {', '.join(sorted(_CONFIG_KEYS))}"
            )
        name = key.replace("-", "_")
        place = f"{where} [tool.codegrad] {raw_key}"
        expected = _expected_toml(name, raw_value)
        if expected is not None:
            raise UsageError(f"{place}: expected {expected}; got {_toml_kind(raw_value)}")
        values[name] = _coerce(name, raw_value, place)
    return values


def from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """CODEGRAD_* variables plus the openai SDK's own OPENAI_API_KEY / OPENAI_BASE_URL / OPENAI_MODEL."""
    values: dict[str, Any] = {}
    if env.get("OPENAI_API_KEY"):
        values["llm_api_key"] = env["OPENAI_API_KEY"]
    if env.get("OPENAI_BASE_URL"):
        values["llm_base_url"] = _coerce(
            "llm_base_url", env["OPENAI_BASE_URL"], "environment variable OPENAI_BASE_URL"
        )
    if env.get("OPENAI_MODEL"):
        values["llm_model"] = env["OPENAI_MODEL"]
    for key, raw in env.items():
        if not key.startswith("CODEGRAD_") or key in ("CODEGRAD_LLM_HOME", "CODEGRAD_LLM_PORT"):
            continue
        name = key[len("CODEGRAD_") :].lower()
        if name == "llm_api_key":
            values[name] = raw
            continue
        if name.replace("_", "-") not in _CONFIG_KEYS | _ENV_ONLY:
            continue  # other tools' variables share the prefix rarely; ignore rather than fail
        values[name] = _coerce(name, raw, f"environment variable {key}")
    return values


def build(
    repo: Path,
    flags: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    *,
    config: Config | None = None,
) -> Settings:
    """Merge defaults, the config table, the environment and flags (later wins).

    `config` is the table to use (a review passes the base commit's); without it the file named
    by the `config` flag, else the repository's pyproject.toml, is read from disk.
    """
    env = os.environ if env is None else env
    repo = repo.resolve()
    merged: dict[str, Any] = {"repo": repo}
    if config is None:
        config = read_config_file(repo, flags.get("config"))
    merged.update(from_config(config.table, config.where))
    merged.update(from_env(env))
    for name, value in flags.items():
        if value is None or name == "config":
            continue
        if name not in _FIELD_TYPES:
            raise UsageError(f"unknown setting {name!r}")
        merged[name] = _coerce(name, value, f"--{name.replace('_', '-')}")
    if merged.get("apply") and not merged.get("fix"):
        raise UsageError("--apply needs --fix: it writes the verified fixes that --fix produces")
    return Settings(**merged, notes=config.notes)


def read_config_file(repo: Path, config_path: Any) -> Config:
    """The `[tool.codegrad]` table of the named file, else of the repository's pyproject.toml."""
    if not config_path:
        return Config(read_pyproject(repo), str(repo / "pyproject.toml"))
    path = Path(str(config_path))
    if not path.is_file():
        raise UsageError(
            f"--config {config_path}: no such file; give a TOML file with a [tool.codegrad] table"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"--config {config_path}: not UTF-8 text ({exc})") from None
    return Config(parse_config(text, f"--config {config_path}"), str(path))
