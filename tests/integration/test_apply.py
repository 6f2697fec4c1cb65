"""--apply on real files: fixes land on top of the reviewed version, never over a newer one."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from codegrad import fileio
from codegrad.model import Evidence, Fix, Outcome
from codegrad.refine.apply import apply_file, apply_fixes
from codegrad.settings import Settings
from helpers_git import GitRepo, make_repo

REVIEWED = '''import math

# my uncommitted notes


def clamp(value: int, low: int, high: int) -> int:
    """Limit value to [low, high]."""
    return min(low, max(value, high))


def double(x: int) -> int:
    return x + 3  # a second bug
'''
CLAMP = (
    "def clamp(value: int, low: int, high: int) -> int:\n    return max(low, min(value, high))\n"
)
DOUBLE = "def double(x: int) -> int:\n    return x * 2\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fix(function: str, source: str, digest: str | None, path: str = "m.py") -> Fix:
    return Fix(
        path=path,
        function=function,
        verified=True,
        diff="(diff)",
        source=source,
        iterations=1,
        file_sha256=digest,
    )


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = make_repo(tmp_path)
    r.write("m.py", REVIEWED.replace("# my uncommitted notes\n", ""))
    r.commit("base")
    r.write("m.py", REVIEWED)  # the user's uncommitted edit, part of what was reviewed
    return r


def test_fixes_land_on_top_of_the_reviewed_edits(repo: GitRepo) -> None:
    digest = sha(REVIEWED.encode())
    path = repo.path / "m.py"
    path.chmod(0o640)
    messages = apply_file(
        repo.path, "m.py", [fix("double", DOUBLE, digest), fix("clamp", CLAMP, digest)]
    )
    assert messages == [
        "applied the verified fix for clamp to m.py",
        "applied the verified fix for double to m.py",
    ]
    text = path.read_text()
    assert "# my uncommitted notes" in text and "import math" in text
    assert "return max(low, min(value, high))" in text and "return x * 2" in text
    assert oct(path.stat().st_mode & 0o777) == "0o640"
    assert sorted(p.name for p in repo.path.iterdir()) == [".git", "m.py"]  # no temp file left


def test_a_file_saved_after_the_review_is_left_alone(repo: GitRepo) -> None:
    digest = sha(REVIEWED.encode())
    newer = REVIEWED + "\n# typed while codegrad was running\n"
    (repo.path / "m.py").write_text(newer)
    [message] = apply_file(repo.path, "m.py", [fix("clamp", CLAMP, digest)])
    assert message.startswith("not applied to m.py: it changed after it was reviewed")
    assert (repo.path / "m.py").read_text() == newer


def test_a_save_between_the_check_and_the_rename_wins(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = sha(REVIEWED.encode())
    path = repo.path / "m.py"
    real = fileio.sha256_of

    def user_saves_during_the_write(target: Path) -> str:
        pending = [p for p in target.parent.iterdir() if p.name.startswith(".m.py.")]
        if pending:  # the new text sits in its temp file, not renamed yet: the editor saves now
            target.write_text(REVIEWED + "# saved\n")
        return real(target)

    monkeypatch.setattr(fileio, "sha256_of", user_saves_during_the_write)
    [message] = apply_file(repo.path, "m.py", [fix("clamp", CLAMP, digest)])
    assert "changed after it was reviewed" in message
    assert path.read_text() == REVIEWED + "# saved\n"
    assert sorted(p.name for p in repo.path.iterdir()) == [".git", "m.py"]


def test_crlf_files_keep_their_line_endings(repo: GitRepo) -> None:
    data = REVIEWED.replace("\n", "\r\n").encode()
    (repo.path / "m.py").write_bytes(data)
    apply_file(repo.path, "m.py", [fix("clamp", CLAMP, sha(data))])
    written = (repo.path / "m.py").read_bytes()
    assert b"return max(low, min(value, high))\r\n" in written
    assert b"\n" not in written.replace(b"\r\n", b"")


def test_refusals_name_the_file_and_the_reason(repo: GitRepo) -> None:
    [message] = apply_file(repo.path, "m.py", [fix("clamp", CLAMP, None)])
    assert "no record of the file version" in message
    os.symlink("m.py", repo.path / "link.py")
    digest = sha(REVIEWED.encode())
    [message] = apply_file(repo.path, "link.py", [fix("clamp", CLAMP, digest, "link.py")])
    assert "no longer a regular file" in message
    [message] = apply_file(repo.path, "m.py", [fix("missing", CLAMP, digest)])
    assert message == "not applied: missing not found in m.py"
    assert (repo.path / "m.py").read_text() == REVIEWED


def test_apply_fixes_resolves_paths_from_the_top_of_the_repository(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "nested")
    repo.write("pkg/m.py", REVIEWED)
    repo.commit("base")
    digest = sha(REVIEWED.encode())
    outcome = Outcome(
        base=None,
        head=repo.sha(),
        targets=(),
        evidence=Evidence(targets=(), results=()),
        fixes=(fix("clamp", CLAMP, digest, "pkg/m.py"), fix("double", DOUBLE, None, "pkg/m.py")),
    )
    settings = Settings(repo=repo.path / "pkg", fix=True, apply=True)
    assert apply_fixes(outcome, settings) == [
        "not applied to pkg/m.py: no record of the file version the fix was made for;"
        " run codegrad review --fix --apply again"
    ]  # one fix without a record holds back the whole file
    verified_only = Outcome(**{**outcome.__dict__, "fixes": outcome.fixes[:1]})
    assert apply_fixes(verified_only, settings) == [
        "applied the verified fix for clamp to pkg/m.py"
    ]
    assert "return max(low, min(value, high))" in (repo.path / "pkg/m.py").read_text()
