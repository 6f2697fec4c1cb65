"""Before the run: an output path that cannot be written is a usage error naming it and why;
after it: the run notes that also go to stderr."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from codegrad.errors import UsageError
from codegrad.fileio import check_writable
from codegrad.model import Evidence, Outcome

NOBODY = 65534


@contextmanager
def unprivileged() -> Iterator[None]:
    """Run the body as an ordinary user: root may write anywhere, a user may not."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def _file(path: Path) -> Path:
    path.write_text("x")
    return path


def test_a_writable_path_comes_back_expanded_and_nothing_is_left_behind(tmp_path: Path) -> None:
    assert check_writable(tmp_path / "report.json", "--output") == tmp_path / "report.json"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: p, "is a folder; give the path of a file"),
        (lambda p: p / "missing" / "r.json", "does not exist; create it first"),
        (lambda p: _file(p / "f") / "r.json", "is not a folder"),
    ],
)
def test_unusable_paths_name_the_flag_and_the_reason(
    tmp_path: Path, make: Callable[[Path], Path], needle: str
) -> None:
    path = make(tmp_path)
    with pytest.raises(UsageError, match=needle) as info:
        check_writable(path, f"--output {path}")
    assert str(info.value).startswith(f"--output {path}: ")


def test_a_folder_without_write_permission_is_a_usage_error() -> None:
    base = Path(tempfile.mkdtemp(prefix="codegrad-output-"))
    try:
        base.chmod(0o755)
        locked = base / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        with unprivileged(), pytest.raises(UsageError) as info:
            check_writable(locked / "report.sarif", "--output")
        assert "cannot write in" in str(info.value) and "Permission denied" in str(info.value)
        assert list(locked.iterdir()) == []
    finally:
        shutil.rmtree(base)


def test_llm_failures_are_the_notes_about_an_outage_or_a_spent_budget() -> None:
    notes = (
        "internal error in the properties check: boom",
        "LLM unavailable: cannot reach the LLM endpoint http://x/v1",
        "llm-checks stopped early: LLM unavailable: HTTP 502",
        "LLM budget reached while refining m.py::f: budget: 3 calls",
        "budget: efficiency stopped after 60 s",
    )
    outcome = Outcome(base="a", head="b", targets=(), evidence=Evidence((), ()), notes=notes)
    assert outcome.llm_failures == notes[1:4]
    assert outcome.internal_errors == notes[:1]
