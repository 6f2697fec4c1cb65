"""refine.candidate_tree: a copy of head with one file replaced, without stale bytecode."""

from __future__ import annotations

import py_compile
import subprocess
import sys
from pathlib import Path

from codegrad.refine import loop as refine


def test_the_candidate_runs_its_own_code_not_the_originals_bytecode(tmp_path: Path) -> None:
    head = tmp_path / "head"
    (head / "pkg").mkdir(parents=True)
    (head / "pkg" / "__init__.py").write_text("")
    (head / "pkg" / "words.py").write_text("def double(x):\n    return x * 3\n")
    py_compile.compile(str(head / "pkg" / "words.py"), doraise=True)  # the user's own runs did
    assert list((head / "pkg" / "__pycache__").iterdir())
    tree = refine.candidate_tree(
        head, tmp_path / "candidate", "pkg/words.py", "def double(x):\n    return x * 2\n"
    )
    assert not (tree / "pkg" / "__pycache__").exists()
    run = subprocess.run(
        [sys.executable, "-c", "from pkg.words import double; print(double(3))"],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.stdout.strip() == "6"
    assert (head / "pkg" / "words.py").read_text().endswith("x * 3\n")  # head is untouched
