"""fileio.write_atomic: whole files only, the existing mode kept, no temp file left behind."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from codegrad.fileio import write_atomic


def test_an_existing_file_keeps_its_mode_and_gets_the_new_text(tmp_path: Path) -> None:
    script = tmp_path / "tool.py"
    script.write_text("old\n")
    script.chmod(0o755)
    write_atomic(script, "new\n")
    assert script.read_text() == "new\n"
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert [p.name for p in tmp_path.iterdir()] == ["tool.py"]


def test_a_new_file_and_its_folder_are_created(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "report.json"
    write_atomic(target, "{}\n")
    assert target.read_text() == "{}\n"


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "data.txt"
    target.write_text("kept\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "\udcff")  # a lone surrogate cannot be encoded
    assert target.read_text() == "kept\n"
    assert [p.name for p in tmp_path.iterdir()] == ["data.txt"]
