"""fileio.write_atomic: whole files only, the existing mode kept, a new file as the umask says, no temp file left."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from codegrad.fileio import current_umask, write_atomic


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


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_a_new_file_gets_the_mode_the_umask_gives_any_new_file(
    tmp_path: Path, umask: int, mode: int
) -> None:
    old = os.umask(umask)
    try:
        assert current_umask() == umask
        write_atomic(tmp_path / "report.json", "{}\n")
        (tmp_path / "plain.txt").write_text("x")  # what open() would have made
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "report.json").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == mode
