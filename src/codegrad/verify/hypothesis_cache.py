"""Hypothesis's unicode tables for the runners: built once per machine outside the sandbox, copied per review.

Every runner process that draws text would otherwise rebuild them (about 2 s of CPU each), since the
sandbox keeps nothing between runs. The tables are built by a plain `python -c` that imports only
Hypothesis (no project code), kept in codegrad's own cache folder, and copied into the review's
scratch folder, which is the only copy the sandboxed runners see.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

WARM = (
    "from hypothesis import given, settings, strategies as st\n"
    "@settings(max_examples=1, database=None)\n"
    "@given(st.text())\n"
    "def warm(text):\n"
    "    pass\n"
    "warm()\n"
)


def cache_folder() -> Path:
    version = importlib.metadata.version("hypothesis")
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "codegrad" / f"hypothesis-{version}"


def _build(folder: Path) -> None:
    """Build the tables into folder (atomically: a half-built folder is never seen)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        env = {**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": tmp}
        subprocess.run(
            [sys.executable, "-c", WARM], env=env, capture_output=True, timeout=300, check=False
        )
        if not (Path(tmp) / "unicode_data").is_dir():
            return
        try:
            os.rename(tmp, folder)
        except OSError:  # another process was first
            return
        Path(tmp).mkdir()  # for TemporaryDirectory's cleanup


_LOCK = threading.Lock()  # checks run side by side: one thread copies, the others wait for it


def storage_for(scratch: Path) -> Path:
    """The review's Hypothesis storage folder, with the tables in it when they could be built."""
    target = scratch / "hypothesis"
    with _LOCK:
        if target.is_dir():
            return target
        source = cache_folder()
        try:
            if not (source / "unicode_data").is_dir():
                _build(source)
            shutil.copytree(source, target)
        except (OSError, subprocess.SubprocessError):
            target.mkdir(parents=True, exist_ok=True)
        return target
