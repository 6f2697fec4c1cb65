"""Which Python runs the project's code in the sandbox (the project's own), and codegrad's runners staged for it."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from codegrad.errors import UsageError

ENV = (
    "CODEGRAD_PYTHON"  # read from codegrad's own (trusted) environment, never from [tool.codegrad]
)

_CHOSEN: str | None = None
_STAGED: Path | None = None
_LOCK = threading.Lock()


def resolve(value: str, source: str) -> str:
    """An absolute path to an executable Python: a path, or a name found on PATH; UsageError otherwise."""
    found = shutil.which(value) if os.sep not in value else value
    if not found or not os.path.isfile(found) or not os.access(found, os.X_OK):
        raise UsageError(
            f"{source}: {value!r} is not an executable Python; give the interpreter of the project's "
            "environment (the one with its dependencies, pytest, hypothesis and coverage), "
            "e.g. .venv/bin/python"
        )
    return os.path.abspath(found)


def choose(value: str | None, source: str) -> None:
    """Use this interpreter (None or empty: $CODEGRAD_PYTHON, else codegrad's own) from now on."""
    global _CHOSEN
    if not value:
        value, source = os.environ.get(ENV) or None, ENV
    chosen = resolve(value, source) if value else None
    with _LOCK:
        _CHOSEN = chosen


def project_python() -> str:
    """The interpreter for the project's tests and codegrad's runners: the chosen one, else
    $CODEGRAD_PYTHON, else codegrad's own (when both share one environment, as with the CLI)."""
    with _LOCK:
        chosen = _CHOSEN
    if chosen is None and os.environ.get(ENV):
        chosen = resolve(os.environ[ENV], ENV)
    return chosen or sys.executable


def runners_path() -> str:
    """A folder holding only codegrad's runners (stdlib + hypothesis programs), for the PYTHONPATH of
    the project's interpreter: none of codegrad's own dependencies come with them. Made once per process."""
    global _STAGED
    with _LOCK:
        if _STAGED is None or not _STAGED.is_dir():
            _STAGED = _stage()
        return str(_STAGED)


def _stage() -> Path:
    package = Path(__file__).resolve().parents[1]
    folder = Path(tempfile.mkdtemp())
    atexit.register(shutil.rmtree, folder, True)
    (folder / "codegrad").mkdir()
    (folder / "codegrad" / "__init__.py").write_text(
        (package / "__init__.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    shutil.copytree(
        package / "runners",
        folder / "codegrad" / "runners",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    return folder  # read-only to sandboxed code (fsview shows it read-only)
