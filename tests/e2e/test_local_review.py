"""`codegrad review` on what a user is working on: uncommitted, staged and untracked edits, in a terminal.

Every test runs the CLI as a subprocess on a real git repository in a temp dir (the shipped demo,
or a small one), with no CI variables unless the test sets them.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from builders import assert_golden
from fakes.openai_server import FakeOpenAI
from helpers_git import GitRepo, make_repo
from helpers_schemas import report_schema, schema_errors

ROOT = Path(__file__).resolve().parents[2]
RECORDED = Path(__file__).parent / "recorded"
QUICK = ("--checks", "docstrings,differential")
ROUNDS = "    return round(price * (100 - percent) / 100, 2)\n"
FLOORS = "    return math.floor(price * (100 - percent)) / 100\n"


def environment(**extra: str) -> dict[str, str]:
    """A user's shell: PATH and HOME, no CI variables, no keys."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    return {**base, **extra}


def codegrad(
    repo: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codegrad", "review", "--repo", str(repo), "--no-progress", *args],
        capture_output=True,
        text=True,
        env=env or environment(),
        timeout=240,
        check=False,
    )


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[GitRepo]:
    """The shipped demo repository, on a new branch off main, as the issue's user had it."""
    dest = tmp_path / "demo"
    subprocess.run(
        [sys.executable, str(ROOT / "examples" / "make_demo_repo.py"), str(dest)],
        check=True,
        capture_output=True,
    )
    repo = GitRepo(dest)
    repo.checkout("main")
    repo.branch("mywork")
    yield repo


def floor_instead_of_rounding(repo: GitRepo) -> Path:
    """The issue's edit: apply_discount floors, which its docstring example catches."""
    path = repo.path / "shop" / "pricing.py"
    text = path.read_text()
    assert ROUNDS in text
    text = text.replace(ROUNDS, FLOORS).replace(
        "from __future__ import annotations\n",
        "from __future__ import annotations\n\nimport math\n",
    )
    path.write_text(text)
    return path


def report(proc: subprocess.CompletedProcess[str]) -> dict[str, object]:
    """The JSON report on stdout, checked against docs/report-schema.json as a consumer would."""
    data: dict[str, object] = json.loads(proc.stdout)
    assert schema_errors(data, report_schema()) == []
    return data


def bugs(data: dict[str, object]) -> set[tuple[str, str, str]]:
    findings = data["findings"]
    assert isinstance(findings, list)
    return {(f["function"], f["check"], f["kind"]) for f in findings}


# --- what is reviewed ---------------------------------------------------------------------------


def test_an_uncommitted_edit_is_found_without_flags(demo: GitRepo) -> None:
    floor_instead_of_rounding(demo)
    proc = codegrad(demo.path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.startswith("## codegrad: 1 error")  # not a terminal: markdown
    main = demo.sha("main")[:7]
    assert f"1 function checked in `{main}`..the working tree (HEAD `{main}`)" in proc.stdout
    assert "apply_discount(19.99, 0)" in proc.stdout and "19.98" in proc.stdout
    with_base = codegrad(demo.path, "--base", "main", "--format", "json", *QUICK)
    data = report(with_base)
    assert with_base.returncode == 1 and data["tree"] == "worktree"
    assert data["base"] == data["head"] == demo.sha("main")
    assert ("apply_discount", "docstrings", "bug") in bugs(data)
    assert demo.git("status", "--porcelain") == " M shop/pricing.py\n"  # nothing else touched


def test_staged_reviews_the_index_only(demo: GitRepo) -> None:
    path = floor_instead_of_rounding(demo)
    demo.git("add", "shop/pricing.py")
    path.write_text(path.read_text().replace(FLOORS, ROUNDS))  # fixed on disk, bug still staged
    staged = codegrad(demo.path, "--staged", "--format", "json", *QUICK)
    assert staged.returncode == 1, staged.stderr
    assert report(staged)["tree"] == "index"
    assert ("apply_discount", "docstrings", "bug") in bugs(report(staged))
    on_disk = codegrad(demo.path, "--format", "json", *QUICK)
    data = report(on_disk)
    assert on_disk.returncode == 0 and data["tree"] == "worktree"
    assert data["nothing_checked"] == (  # the import stays; no function body differs from main
        "the changes to shop/pricing.py touch no function body (module-level code, imports,"
        " class attributes or deleted functions only; those are not checked)"
    )
    assert codegrad(demo.path, "--staged", "--head", "HEAD").returncode == 2


def test_an_untracked_new_file_is_reviewed(demo: GitRepo) -> None:
    demo.write(
        "shop/coupons.py",
        'def coupon_value(cents: int) -> float:\n    """In euros.\n\n    >>> coupon_value(250)\n'
        '    2.5\n    """\n    return cents // 100\n',
    )
    demo.write("scratch.txt", "not Python\n")
    demo.write("tests/test_coupons.py", "def test_x():\n    assert False\n")  # excluded by default
    proc = codegrad(demo.path, "--format", "json", *QUICK)
    data = report(proc)
    assert proc.returncode == 1, proc.stderr
    assert ("coupon_value", "docstrings", "bug") in bugs(data)
    assert [t["path"] for t in data["targets"]] == ["shop/coupons.py"]  # type: ignore[index]
    assert "untracked files included (new Python files in scope): shop/coupons.py" in data["notes"]  # type: ignore[operator]


def test_a_clean_tree_on_the_default_branch_says_nothing_was_checked(demo: GitRepo) -> None:
    demo.checkout("main")
    proc = codegrad(demo.path, "--format", "json")
    data = report(proc)
    assert proc.returncode == 0, proc.stderr
    assert data["nothing_checked"] == "no file differs between the two trees"
    assert data["summary"]["verdict"] == "nothing-checked"  # type: ignore[index]
    md = codegrad(demo.path)
    assert md.stdout.startswith("## codegrad: nothing checked\n")
    assert "Nothing was checked: no file differs between the two trees." in md.stdout
    assert "No findings" not in md.stdout


def test_an_edit_on_the_default_branch_itself_is_reviewed_against_head(demo: GitRepo) -> None:
    demo.checkout("main")
    floor_instead_of_rounding(demo)
    proc = codegrad(demo.path, "--format", "json", *QUICK)
    data = report(proc)
    assert proc.returncode == 1
    assert data["base"] == data["head"] == demo.sha("main")
    assert ("apply_discount", "docstrings", "bug") in bugs(data)


def test_in_ci_the_head_stays_the_commit_and_errors_name_the_cause(demo: GitRepo) -> None:
    floor_instead_of_rounding(demo)
    ci = environment(CI="true")
    proc = codegrad(demo.path, env=ci)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "it is on main (its tip or an ancestor) and is a root commit" in proc.stderr
    assert "shares history" not in proc.stderr
    proc = codegrad(demo.path, "--base", "main", "--format", "json", env=ci)
    data = report(proc)
    assert proc.returncode == 0 and data["tree"] == "commit"
    assert data["nothing_checked"] == "no file differs between the two trees"
    assert any(
        str(n).startswith("uncommitted changes to shop/pricing.py were not reviewed")
        for n in data["notes"]  # type: ignore[attr-defined]
    )


# --- --fix --apply on a file with the user's edits ----------------------------------------------

GOOD = '''```python
def apply_discount(price: float, percent: int) -> float:
    """Return the price after taking off `percent` percent, rounded to cents."""
    if not 0 <= percent <= 100:
        raise ValueError(f"percent must be between 0 and 100, got {percent}")
    return round(price * (100 - percent) / 100, 2)
```'''


def test_apply_writes_the_fix_and_keeps_every_other_edit(
    demo: GitRepo, fake_openai: FakeOpenAI
) -> None:
    path = floor_instead_of_rounding(demo)
    mine = path.read_text().replace('"""Prices, discounts', '"""My notes. Prices, discounts')
    mine = mine.replace(
        'return "-".join(name.lower().split())', 'return "-".join(name.split()).lower()'
    )
    path.write_text(mine)
    fake_openai.enqueue(GOOD)
    env = environment(OPENAI_API_KEY="sk-e2e-local-0123456789")
    proc = codegrad(
        demo.path,
        "--fix",
        "--apply",
        "--no-critic",
        "--checks",
        "docstrings",
        "--llm-base-url",
        fake_openai.base_url,
        "--format",
        "json",
        env=env,
    )
    assert proc.returncode == 1, proc.stderr  # the review's findings still decide the status
    [fix] = report(proc)["fixes"]  # type: ignore[misc]
    assert fix["verified"] is True, fix
    assert "applied the verified fix for apply_discount to shop/pricing.py" in proc.stderr
    text = path.read_text()
    assert text == mine.replace(FLOORS, ROUNDS)  # the fix, and nothing else changed
    assert "My notes." in text and "import math" in text  # the user's other edits
    assert "join(name.split()).lower()" in text


# --- the terminal format ------------------------------------------------------------------------


def in_a_terminal(repo: Path, *args: str, env: dict[str, str]) -> tuple[int, str]:
    """Run codegrad with stdout on a pseudo-terminal, as in an interactive shell."""
    leader, follower = pty.openpty()
    with open(os.devnull, "w") as devnull:
        proc = subprocess.Popen(
            [sys.executable, "-m", "codegrad", "review", "--repo", str(repo), *args],
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=devnull,
            env=env,
        )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    status = proc.wait(timeout=240)
    return status, b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def normalised(text: str) -> str:
    text = re.sub(r"\b[0-9a-f]{7}\b", "<sha>", text)
    return re.sub(r"\b\d+\.\d s\b", "<t> s", text)


def test_terminal_format_in_a_terminal_with_and_without_no_color(demo: GitRepo) -> None:
    floor_instead_of_rounding(demo)
    status, coloured = in_a_terminal(demo.path, *QUICK, env=environment())
    assert status == 1
    assert "\x1b[1;31m[error]\x1b[0m" in coloured
    assert_golden(RECORDED / "terminal_color.txt", normalised(coloured))
    status, plain = in_a_terminal(demo.path, *QUICK, env=environment(NO_COLOR="1"))
    assert status == 1 and "\x1b[" not in plain
    assert_golden(RECORDED / "terminal_no_color.txt", normalised(plain))
    assert normalised(re.sub(r"\x1b\[[0-9;]*m", "", coloured)) == normalised(plain)
    lines = plain.splitlines()
    assert lines[0].startswith("shop/pricing.py:13: apply_discount: [error] docstrings/bug: ")
    assert lines[1].startswith(
        "    input: apply_discount(19.99, 0) · expected: 19.99 · actual: 19.98"
    )
    assert lines[-1].startswith("1 error, 1 note in 1 of 1 function · ")
    status, verbose = in_a_terminal(demo.path, *QUICK, "-v", env=environment(NO_COLOR="1"))
    assert "    reproducer:\n" in verbose and "    gradient:\n" in verbose
    piped = codegrad(demo.path, *QUICK)  # not a terminal: markdown, no colour
    assert piped.stdout.startswith("## codegrad:") and "\x1b[" not in piped.stdout


def test_before_the_first_commit_every_staged_function_is_new(tmp_path: Path) -> None:
    fresh = make_repo(tmp_path, "fresh")
    fresh.write(
        "calc.py",
        'def double(x: int) -> int:\n    """Twice.\n\n    >>> double(2)\n    4\n    """\n'
        "    return x + 3\n",
    )
    fresh.git("add", "calc.py")
    proc = codegrad(fresh.path, "--staged", "--format", "json", *QUICK)
    data = report(proc)
    assert proc.returncode == 1, proc.stderr
    assert data["head"] == "" and data["tree"] == "index"
    assert data["base"] == fresh.git("hash-object", "-t", "tree", "/dev/null").strip()
    assert ("double", "docstrings", "bug") in bugs(data)
    assert any("no commit yet" in str(n) for n in data["notes"])  # type: ignore[attr-defined]
