"""Files in and out: atomic writes (never a partial file) and JSON objects read with a clear error."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from codegrad.errors import UsageError


def write_atomic(path: Path, text: str) -> None:
    """Write text to path through a temp file renamed over it; an existing file keeps its mode.

    The parent folder is created if missing; OSError from the file system propagates, and the
    temp file is removed on any failure.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = None  # a new file: mkstemp's owner-only mode
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json_object(path: Path, what: str, hint: str = "") -> dict[str, Any]:
    """A JSON object from a file; UsageError naming `what` (e.g. "--coverage FILE") and the
    problem when the file is missing, unreadable, not JSON or not an object."""
    suffix = f"; {hint}" if hint else ""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{what}: no such file{suffix}") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{what}: not a readable JSON file ({exc}){suffix}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{what}: not a JSON object{suffix}")
    return data
