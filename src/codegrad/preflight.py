"""Before a run: the --output path can be written, and --fix has an LLM; after it: notes for stderr."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from codegrad.errors import UsageError
from codegrad.llm.protocol import OUTAGE
from codegrad.model import INTERNAL_NOTE
from codegrad.settings import Settings

NO_LLM = (
    "--fix: no LLM is configured (set OPENAI_API_KEY, or give --llm-base-url / OPENAI_BASE_URL); "
    "the review runs without refinement"
)


def check_output(output: Path | None) -> Path | None:
    """The --output path, expanded, once it is known that a file can be written there.

    UsageError (exit 2) before any work when it is a folder, its folder is missing or not a
    folder, or nothing can be created in that folder (permissions, read-only file system).
    """
    if output is None:
        return None
    path = output.expanduser()
    if path.is_dir():
        raise UsageError(f"--output {output}: is a folder; give the path of a file to write")
    folder = path.parent
    if not folder.exists():
        raise UsageError(f"--output {output}: folder {folder} does not exist; create it first")
    if not folder.is_dir():
        raise UsageError(f"--output {output}: {folder} is not a folder")
    try:  # the real test: what write_atomic will do (a temp file beside the target)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".probe")
    except OSError as exc:
        raise UsageError(
            f"--output {output}: cannot write in {folder} ({exc.strerror}); "
            "choose a folder you can write to"
        ) from None
    os.close(fd)
    os.unlink(probe)
    return path


def fix_warnings(settings: Settings) -> list[str]:
    """What to say on stderr before the run about --fix (nothing when it can work)."""
    return [NO_LLM] if settings.fix and not settings.llm_configured else []


def stderr_notes(notes: Sequence[str]) -> list[str]:
    """Run notes that also belong on stderr: internal errors and an LLM that failed."""
    return [n for n in notes if n.startswith(INTERNAL_NOTE) or OUTAGE in n or "LLM budget" in n]
