"""What the project's interpreter has, asked inside the sandbox: the modules codegrad runs in it, the plugins to neutralise."""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
import threading
from pathlib import Path

from codegrad.errors import UsageError
from codegrad.verify import interpreter, sandbox

_LOCK = threading.Lock()

NEEDED = ("pytest", "hypothesis", "coverage")  # what the runners and the project-tests check use
_PROBE = (
    "import importlib.util as u, json, sys\n"
    "print(json.dumps({n: u.find_spec(n) is not None for n in sys.argv[1:]}))"
)
_MODULES: dict[tuple[str, tuple[str, ...]], dict[str, bool]] = {}


def installed(names: tuple[str, ...] = (*NEEDED, "pytest_cov", "xdist")) -> dict[str, bool]:
    """Which of these modules the project's interpreter has; asked in the sandbox (its site-packages
    are the project's, so they never run in codegrad's process), once per process."""
    python = interpreter.project_python()
    if python == sys.executable:
        return {name: importlib.util.find_spec(name) is not None for name in names}
    key = (python, names)
    with _LOCK:
        if key in _MODULES:
            return _MODULES[key]
    with tempfile.TemporaryDirectory() as cwd:
        result = sandbox.run([python, "-c", _PROBE, *names], cwd=Path(cwd), timeout=60)
    try:
        found = json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise UsageError(
            f"the project's Python {python} did not start in the sandbox (exit {result.returncode}: "
            f"{result.stderr.strip()[-300:] or 'no output'}); check the python input / --python"
        ) from None
    answer = {name: bool(found.get(name)) for name in names}
    with _LOCK:
        _MODULES[key] = answer
    return answer


def require() -> None:
    """UsageError when the project's interpreter lacks what codegrad runs in it."""
    have = installed()
    missing = [name for name in NEEDED if not have.get(name)]
    if missing:
        raise UsageError(
            f"the project's Python {interpreter.project_python()} lacks {', '.join(missing)}, which codegrad's "
            f"checks run in it: install them there (python -m pip install {' '.join(missing)}; "
            "the action does this for you) or choose another interpreter (--python, $CODEGRAD_PYTHON, "
            "the action's python input)"
        )


def plugin_overrides() -> list[str]:
    """pytest options that keep the project's plugins from undoing the measurement: no second
    coverage (pytest-cov), no worker processes (xdist) our coverage contexts would not see."""
    have = installed()
    return (["--no-cov"] if have.get("pytest_cov") else []) + (
        ["-n", "0"] if have.get("xdist") else []
    )
