"""Files in and out: atomic writes (never a partial file) and JSON objects read with a clear error."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from codegrad.errors import UsageError


def current_umask() -> int:
    """The process umask, read without changing it where /proc tells it (Linux), else by a
    set-and-restore round trip."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path, text: str) -> None:
    """Write text to path through a temp file renamed over it.

    An existing file keeps its mode; a new one gets the mode any other new file would get
    (0666 less the umask), not the temp file's owner-only 0600. The parent folder is created if
    missing; OSError from the file system propagates, and the temp file is removed on any failure.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~current_umask()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def replace_if_unchanged(path: Path, expected_sha256: str, text: str) -> bool:
    """Atomically write text over path only if its bytes still hash to expected_sha256.

    The check is repeated right before the rename, so an edit saved while the new text was
    being written is kept (False is returned and nothing is written). The file keeps its mode.
    """
    if sha256_of(path) != expected_sha256:
        return False
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        if sha256_of(path) != expected_sha256:
            Path(tmp).unlink()
            return False
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


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


def check_writable(path: Path, what: str) -> Path:
    """path, expanded, once it is known that write_atomic can write it; else UsageError naming
    `what` (e.g. "--output FILE") and why: a folder, a missing folder, a folder without write
    permission or on a read-only file system. Run it before the work whose result goes there."""
    path = path.expanduser()
    if path.is_dir():
        raise UsageError(f"{what}: is a folder; give the path of a file to write")
    folder = path.parent
    if not folder.exists():
        raise UsageError(f"{what}: folder {folder} does not exist; create it first")
    if not folder.is_dir():
        raise UsageError(f"{what}: {folder} is not a folder")
    try:  # the real test: what write_atomic does, a temp file beside the target
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".probe")
    except OSError as exc:
        raise UsageError(
            f"{what}: cannot write in {folder} ({exc.strerror}); choose a folder you can write to"
        ) from None
    os.close(fd)
    os.unlink(probe)
    return path
