"""Real suites in the sandbox: localhost servers, hanging tests checked against base within bounded
time, any Python as the test command, failures blamed by their traceback (shards agree with one run)."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from codegrad.diff.changes import all_functions
from codegrad.harden import engine as harden
from codegrad.harden import shard
from codegrad.model import CheckResult, Finding, Kind, Target, Workspace
from codegrad.render import jsonout
from codegrad.settings import Settings
from codegrad.verify import sandbox
from codegrad.verify.checks.base import CheckContext
from codegrad.verify.checks.project_tests import ProjectTestsCheck
from helpers_git import make_repo


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def targets_of(root: Path, path: str) -> list[Target]:
    return all_functions(path, (root / path).read_text(encoding="utf-8"))


def run_check(
    head: Path,
    targets: list[Target],
    scratch: Path,
    base: Path | None = None,
    repo: Path | None = None,
    **settings: Any,
) -> CheckResult:
    scratch.mkdir(parents=True, exist_ok=True)
    ctx = CheckContext(
        settings=Settings(**settings),
        workspace=Workspace(head_root=head, base_root=base, repo_root=repo),
        scratch=scratch,
        deadline=time.monotonic() + 300,
    )
    return ProjectTestsCheck().run(targets, ctx)


def on(result: CheckResult, path: str, function: str) -> list[Finding]:
    return [f for f in result.findings if f.path == path and f.function == function]


# ---------------------------------------------------------------- localhost servers

SERVER_TEST = """\
import socket
import threading

from echo import shout


def test_a_local_server_answers():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer():
        conn, _ = server.accept()
        conn.sendall(shout(conn.recv(5).decode()).encode())
        conn.close()

    threading.Thread(target=answer, daemon=True).start()
    client = socket.create_connection(server.getsockname(), timeout=5)
    client.sendall(b"hello")
    assert client.recv(6) == b"HELLO!"
"""


def test_a_suite_with_a_localhost_server_passes_in_the_sandbox(tmp_path: Path) -> None:
    head = write_tree(
        tmp_path / "head",
        {
            "echo.py": "def shout(s):\n    return s.upper() + '!'\n",
            "tests/test_server.py": SERVER_TEST,
        },
    )
    result = run_check(head, targets_of(head, "echo.py"), tmp_path / "scratch", test_timeout=60)
    assert result.findings == ()
    assert result.stats["passed"] == 1
    assert result.checked == ("echo.py::shout",)


# ---------------------------------------------------------------- hangs

SPIN_HEAD = "def spin(n):\n    while n >= 0:\n        n += 1\n    return n\n"
SPIN_BASE = "def spin(n):\n    while n > 0:\n        n -= 1\n    return n\n"
SPIN_TESTS = {
    "tests/test_a.py": "def test_first():\n    assert True\n",
    "tests/test_b.py": (
        "from slow import spin\n\n\ndef test_spin_one():\n    assert spin(3) == 0\n\n\n"
        "def test_spin_two():\n    assert spin(5) == 0\n"
    ),
    "tests/test_c.py": "from slow import spin\n\n\ndef test_spin_three():\n    assert spin(1) == 0\n",
    "tests/test_d.py": "from slow import spin\n\n\ndef test_last():\n    assert spin(-1) == -1\n",
    "tests/test_e.py": "def test_after():\n    assert True\n",
}
HUNG = [
    "tests/test_b.py::test_spin_one",
    "tests/test_b.py::test_spin_two",
    "tests/test_c.py::test_spin_three",
]


def test_an_infinite_loop_ends_in_bounded_time_with_the_hanging_tests_named(
    tmp_path: Path,
) -> None:
    head = write_tree(tmp_path / "head", {"slow.py": SPIN_HEAD, **SPIN_TESTS})
    base = write_tree(tmp_path / "base", {"slow.py": SPIN_BASE, **SPIN_TESTS})
    started = time.monotonic()
    result = run_check(
        head, targets_of(head, "slow.py"), tmp_path / "scratch", base, test_timeout=30
    )
    seconds = time.monotonic() - started

    # the first hang costs a tenth of the suite timeout (3 s), every later one base's time x5 (2 s floor)
    assert seconds < 25, seconds
    findings = on(result, "slow.py", "spin")
    assert sorted(f.input or "" for f in findings) == HUNG
    for finding in findings:
        assert finding.kind is Kind.TIMEOUT
        assert finding.base_fails_same is False
        assert finding.line in (2, 3)  # inside the loop: the watchdog's Hang went off there
        assert finding.message.startswith(f"test {finding.input} hung: the test did not finish")
        assert "passed on base in" in finding.message
        assert any(line.startswith("slow.py:") for line in finding.traceback)
    assert result.stats["hung"] == HUNG
    # test_d's spin(-1) ends on head too; the tests after the stop still ran and map to spin
    assert result.stats["tests_per_function"] == {"slow.py::spin": 4}
    assert result.stats["passed"] == 3 and result.stats["tests"] == 6


def test_a_hang_base_has_too_is_pre_existing(tmp_path: Path) -> None:
    tests = {
        "tests/test_wait.py": (
            "import threading\n\n\ndef test_waits_forever():\n    threading.Event().wait()\n"
        ),
        "tests/test_calc.py": "from calc import double\n\n\ndef test_double():\n    assert double(2) == 4\n",
    }
    head = write_tree(tmp_path / "head", {"calc.py": "def double(x):\n    return x + x\n", **tests})
    base = write_tree(tmp_path / "base", {"calc.py": "def double(x):\n    return 2 * x\n", **tests})
    started = time.monotonic()
    result = run_check(
        head, targets_of(head, "calc.py"), tmp_path / "scratch", base, test_timeout=20
    )
    assert time.monotonic() - started < 40  # 2 s on head, 6 s on base (3 limits: slow or hung?)
    [finding] = result.findings
    assert finding.kind is Kind.PRE_EXISTING and finding.base_fails_same is True
    assert (finding.path, finding.function) == ("tests/test_wait.py", "test_waits_forever")
    assert finding.details["outcome"] == "hung"
    assert result.stats["hung"] == ["tests/test_wait.py::test_waits_forever"]
    assert result.checked == ("calc.py::double",)


def test_a_suite_slower_than_its_timeout_is_a_timeout_naming_the_running_test(
    tmp_path: Path,
) -> None:
    slow = "import time\n\n\ndef test_{0}():\n    time.sleep(1.5)\n"
    head = write_tree(
        tmp_path / "head",
        {
            "calc.py": "def double(x):\n    return 2 * x\n",
            **{f"tests/test_{n}.py": slow.format(n) for n in ("a", "b", "c", "d")},
        },
    )
    result = run_check(head, targets_of(head, "calc.py"), tmp_path / "scratch", test_timeout=4)
    [finding] = result.findings
    assert finding.kind is Kind.TIMEOUT
    assert "did not finish within 4s" in finding.message and "was still running" in finding.message
    assert finding.input is not None and finding.input.startswith("tests/test_")


# ---------------------------------------------------------------- the test command's Python

CALC_TESTS = {
    "calc.py": "def double(x):\n    return 2 * x\n\n\ndef half(x):\n    return x / 2\n",
    "tests/test_a.py": "def test_fails_first():\n    assert 1 == 2\n",
    "tests/test_calc.py": (
        "from calc import double, half\n\n\ndef test_double():\n    assert double(2) == 4\n\n\n"
        "def test_half():\n    assert half(4) == 2\n"
    ),
}


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real virtual environment (no pip) that sees pytest through a .pth file."""
    root = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    purelib = sysconfig.get_paths()["purelib"]
    [site] = list(root.glob("lib/python*/site-packages"))
    (site / "codegrad_test_deps.pth").write_text(purelib + "\n", encoding="utf-8")
    return root / "bin" / "python"


@pytest.mark.parametrize(
    "command",
    [
        "{venv} -m pytest",
        "python3 -m pytest",
        f"python{sys.version_info[0]}.{sys.version_info[1]} -m pytest",
        "pytest",
        "py.test",
        "python -m pytest -x tests",
        "{venv} -m pytest -xq tests",
        "env/bin/python -m pytest",
        "env/bin/pytest --maxfail=1",
    ],
)
def test_any_python_as_the_test_command_keeps_the_mapping(
    tmp_path: Path, venv_python: Path, command: str
) -> None:
    head = write_tree(tmp_path / "head", CALC_TESTS)
    repo = venv_python.parent.parent.parent  # holds env/: relative paths are the repository's
    if command.startswith("env/bin/pytest"):
        script = venv_python.parent / "pytest"
        script.write_text(f"#!{venv_python}\nimport sys, pytest\nsys.exit(pytest.main())\n")
        script.chmod(0o755)
    result = run_check(
        head,
        targets_of(head, "calc.py"),
        tmp_path / "scratch",
        repo=repo,
        test_command=command.format(venv=venv_python),
        test_timeout=60,
    )
    assert result.stats["tests_per_function"] == {"calc.py::double": 1, "calc.py::half": 1}
    assert result.stats["tests"] == 3  # -x and --maxfail do not stop the run at the first failure
    [finding] = result.findings
    assert finding.input == "tests/test_a.py::test_fails_first"


def test_a_python_path_that_does_not_exist_is_the_users_mistake(tmp_path: Path) -> None:
    from codegrad.errors import UsageError

    head = write_tree(tmp_path / "head", CALC_TESTS)
    with pytest.raises(UsageError, match=r"'nope/bin/python' is not an executable file"):
        run_check(
            head,
            targets_of(head, "calc.py"),
            tmp_path / "scratch",
            repo=tmp_path,
            test_command="nope/bin/python -m pytest",
        )


# ---------------------------------------------------------------- blame by traceback

SHAPES = """\
class Box:
    def __init__(self, items):
        self.items = list(items)

    def total(self):
        return sum(self.items) + 1

    def count(self):
        return len(self.items)


def helper(x):
    return x


def checked_total(box):
    return helper(box).total()
"""
SHAPES_TESTS = """\
from shapes import Box, checked_total


def test_total():
    assert Box([1, 2]).total() == 3


def test_count():
    assert Box([1, 2]).count() == 2


def test_checked_total_raises():
    box = Box([1])
    box.items = None
    checked_total(box)
"""


TOTAL = "tests/test_shapes.py::test_total"
RAISES = "tests/test_shapes.py::test_checked_total_raises"


def test_a_failure_is_blamed_on_the_function_it_fails_in_not_on_what_it_ran(
    tmp_path: Path,
) -> None:
    head = write_tree(
        tmp_path / "head", {"shapes.py": SHAPES, "tests/test_shapes.py": SHAPES_TESTS}
    )
    every = targets_of(head, "shapes.py")
    init = [t for t in every if t.qualname in ("Box.__init__", "Box.count")]
    result = run_check(head, init, tmp_path / "scratch", test_timeout=60)
    # test_checked_total_raises fails inside Box.total (unchanged): there, not on __init__ it ran
    [raised] = [f for f in result.findings if f.input == RAISES]
    assert (raised.path, raised.function) == ("shapes.py", "Box.total")
    assert raised.details["changed_functions_run"] == ["Box.__init__"]
    # test_total's own assert calls Box(...) and .total(): no changed function of those names ran
    [wrong] = [f for f in result.findings if f.input == TOTAL]
    assert (wrong.path, wrong.function) == ("tests/test_shapes.py", "test_total")

    all_of_them = run_check(head, every, tmp_path / "scratch2", test_timeout=60)
    blamed = {(f.function, f.input) for f in all_of_them.findings}
    # every function changed: the traceback's changed functions, and the function the assert calls
    assert blamed == {("checked_total", RAISES), ("Box.total", RAISES), ("Box.total", TOTAL)}


def test_harden_shards_blame_as_one_run(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "lib")
    repo.write("shapes.py", SHAPES)
    repo.write("tests/test_shapes.py", SHAPES_TESTS)
    repo.commit("shapes")
    keys = [f"shapes.py::{t.qualname}" for t in targets_of(repo.path, "shapes.py")]
    owners = {key: shard.shard_of(key, 2) for key in keys}
    assert owners["shapes.py::Box.__init__"] != owners["shapes.py::Box.total"]  # the case in point
    config = Settings(repo=repo.path, checks=("project-tests",), test_timeout=60.0)
    full = harden.harden(config)
    parts = [harden.harden(config, shard=shard.Shard(k, 2)) for k in (1, 2)]
    merged = jsonout.from_dict(shard.merge([jsonout.to_dict(p) for p in parts]))
    blamed = {(f.function, f.input) for f in full.findings}
    assert blamed == {("checked_total", RAISES), ("Box.total", RAISES), ("Box.total", TOTAL)}
    assert {f.fingerprint for f in merged.findings} == {f.fingerprint for f in full.findings}


def test_the_sandbox_is_what_runs_them() -> None:
    assert sandbox.isolation().level in sandbox.LEVELS
