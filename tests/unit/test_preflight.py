"""Before the run: an --output path that cannot be written is a usage error naming it and why."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from codegrad.errors import UsageError
from codegrad.preflight import NO_LLM, check_output, fix_warnings, stderr_notes
from codegrad.settings import Settings

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
    assert check_output(tmp_path / "report.json") == tmp_path / "report.json"
    assert list(tmp_path.iterdir()) == []
    assert check_output(None) is None


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: p, "is a folder; give the path of a file"),
        (lambda p: p / "missing" / "r.json", "does not exist; create it first"),
        (lambda p: _file(p / "f") / "r.json", "is not a folder"),
    ],
)
def test_unusable_paths_name_the_path_and_the_reason(
    tmp_path: Path, make: object, needle: str
) -> None:
    assert callable(make)
    path = make(tmp_path)
    with pytest.raises(UsageError, match=needle) as info:
        check_output(path)
    assert str(path) in str(info.value)


def test_a_folder_without_write_permission_is_a_usage_error() -> None:
    base = Path(tempfile.mkdtemp(prefix="codegrad-preflight-"))
    try:
        base.chmod(0o755)
        locked = base / "locked"
        locked.mkdir(mode=0o555)
        locked.chmod(0o555)
        with unprivileged(), pytest.raises(UsageError) as info:
            check_output(locked / "report.sarif")
        assert "cannot write in" in str(info.value) and "Permission denied" in str(info.value)
        assert list(locked.iterdir()) == []
    finally:
        shutil.rmtree(base)


def test_fix_without_an_llm_is_said_up_front() -> None:
    assert fix_warnings(Settings(fix=True)) == [NO_LLM]
    assert fix_warnings(Settings(fix=True, llm_base_url="http://127.0.0.1:1/v1")) == []
    assert fix_warnings(Settings()) == []


def test_notes_for_stderr_are_internal_errors_and_llm_failures() -> None:
    notes = [
        "internal error in the properties check: boom",
        "LLM unavailable: cannot reach the LLM endpoint http://x/v1",
        "llm-checks stopped early: LLM unavailable: HTTP 502",
        "LLM budget reached while refining m.py::f: budget: 3 calls",
        "budget: efficiency stopped after 60 s",
    ]
    assert stderr_notes(notes) == notes[:4]
