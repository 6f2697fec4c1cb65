"""The project's interpreter and the runners staged for it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from codegrad.errors import UsageError
from codegrad.verify import interpreter


def test_the_runners_folder_holds_codegrads_runners_and_nothing_else() -> None:
    folder = Path(interpreter.runners_path())
    assert sorted(p.name for p in folder.iterdir()) == ["codegrad"]
    assert sorted(p.name for p in (folder / "codegrad").iterdir()) == ["__init__.py", "runners"]
    assert (folder / "codegrad" / "runners" / "loader.py").is_file()
    assert interpreter.runners_path() == str(folder)  # made once per process


def test_choose_resolves_names_and_rejects_what_is_not_an_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(interpreter.ENV, raising=False)
    try:
        interpreter.choose(sys.executable, "--python")
        assert interpreter.project_python() == sys.executable
        (tmp_path / "notes.txt").write_text("")
        with pytest.raises(
            UsageError, match=r"input python: .*notes\.txt' is not an executable Python"
        ):
            interpreter.choose(str(tmp_path / "notes.txt"), "input python")
        monkeypatch.setenv(interpreter.ENV, sys.executable)
        interpreter.choose(None, "--python")  # falls back to $CODEGRAD_PYTHON
        assert interpreter.project_python() == sys.executable
    finally:
        interpreter.choose("", "--python")
    monkeypatch.delenv(interpreter.ENV)
    interpreter.choose(None, "--python")
    assert interpreter.project_python() == sys.executable  # the default: codegrad's own
