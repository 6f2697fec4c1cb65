"""benchmarks/real_commits.py on a small real git history: the PRs it builds, and a whole run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import real_commits  # noqa: E402
from real_commits_cases import (  # noqa: E402
    BenchError,
    build_pull_request,
    find_mirrors,
    load_manifest,
    select_units,
)

BUGGY = "def mean(xs):\n    return sum(xs) / len(xs)\n"
FIXED = "def mean(xs):\n    if not xs:\n        return 0.0\n    return sum(xs) / len(xs)\n"
TESTS = "from lib.stats import mean\n\n\ndef test_mean():\n    assert mean([1, 3]) == 2\n"
FIX_TEST = "\n\ndef test_mean_of_nothing():\n    assert mean([]) == 0.0\n"
SHOUT = 'def shout(text):\n    return text.upper() + "!"\n'


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    """A library's history: a bug, its fix with a regression test, then a correct refactor."""
    root = tmp_path_factory.mktemp("clones")
    repo = root / "lib-clone"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    first = commit(
        repo,
        {
            "lib/__init__.py": "",
            "lib/stats.py": BUGGY,
            "lib/text.py": 'def shout(text):\n    return text.upper() + "" + "!"\n',
            "tests/test_stats.py": TESTS,
        },
        "start",
    )
    fix = commit(
        repo,
        {"lib/stats.py": FIXED, "tests/test_stats.py": TESTS + FIX_TEST, "CHANGES": "fix\n"},
        "fix mean([])",
    )
    refactor = commit(repo, {"lib/text.py": SHOUT}, "simpler shout")
    manifest = root / "cases.toml"
    manifest.write_text(
        '[projects.lib]\nurl = "https://example.invalid/lib"\n\n'
        f'[[cases]]\nid = "lib-fix"\nproject = "lib"\nkind = "fix"\ncommit = "{fix}"\n'
        'note = "mean of nothing"\n\n'
        f'[[cases]]\nid = "lib-ok"\nproject = "lib"\nkind = "correct"\ncommit = "{refactor}"\n'
    )
    return {
        "root": root,
        "repo": repo,
        "first": first,
        "fix": fix,
        "refactor": refactor,
        "manifest": manifest,
    }


def show(repo: Path, sha: str, path: str) -> str:
    return git(repo, "show", f"{sha}:{path}") + "\n"


def changed(repo: Path, a: str, b: str) -> list[str]:
    return git(repo, "diff", "--name-only", a, b).split()


def test_pull_requests_put_the_bug_back_with_and_without_the_fix_tests(
    library: dict[str, Path | str], tmp_path: Path
) -> None:
    repo, first, fix = Path(library["repo"]), str(library["first"]), str(library["fix"])
    manifest = load_manifest(Path(library["manifest"]))
    kept, removed, correct = select_units(manifest.cases, [], ("kept", "removed", "correct"))

    pr = build_pull_request(repo, kept, tmp_path)
    assert pr.base == fix and git(repo, "rev-parse", f"{pr.head}^") == fix
    assert changed(repo, pr.base, pr.head) == ["lib/stats.py"]
    assert show(repo, pr.head, "lib/stats.py") == BUGGY
    assert show(repo, pr.head, "tests/test_stats.py") == TESTS + FIX_TEST.rstrip("\n") + "\n"

    pr = build_pull_request(repo, removed, tmp_path)
    assert git(repo, "rev-parse", f"{pr.base}^") == first
    assert show(repo, pr.base, "lib/stats.py").rstrip() == FIXED.rstrip()
    assert show(repo, pr.base, "tests/test_stats.py").rstrip() == TESTS.rstrip()
    assert changed(repo, pr.base, pr.head) == ["lib/stats.py"]
    assert show(repo, pr.head, "lib/stats.py").rstrip() == BUGGY.rstrip()
    assert (pr.source_paths, pr.test_paths) == (("lib/stats.py",), ("tests/test_stats.py",))
    assert build_pull_request(repo, removed, tmp_path) == pr  # the same ids every time

    pr = build_pull_request(repo, correct, tmp_path)
    assert (pr.base, pr.head) == (fix, str(library["refactor"]))


def test_mirrors_are_found_by_their_commits_or_named_with_a_clone_command(
    library: dict[str, Path | str], tmp_path: Path
) -> None:
    manifest = load_manifest(Path(library["manifest"]))
    found = find_mirrors([Path(library["root"])], manifest, ["lib"])
    assert found == {"lib": Path(library["repo"])}
    with pytest.raises(BenchError, match=r"git clone https://example.invalid/lib DIR"):
        find_mirrors([tmp_path], manifest, ["lib"])


def test_a_run_reviews_times_resumes_and_writes_the_tables(
    library: dict[str, Path | str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, work = tmp_path / "out", tmp_path / "work"
    argv = [
        "--manifest", str(library["manifest"]), "--mirror", str(library["root"]),
        "--workdir", str(work), "--out", str(out), "--python", sys.executable,
        "--cases", "lib-fix.kept", "--timeout", "240",
        "--review-arg=--checks=project-tests,docstrings",  # the harness is under test, not the checks
    ]  # fmt: skip
    assert real_commits.main(argv) == 0
    result = work / "results" / "lib-fix.kept.json"
    record = json.loads(result.read_text())
    assert record["review"]["status"] == "ok", record["review"]
    assert record["review"]["targets"] == ["lib/stats.py::mean"]
    assert record["pytest"]["exit_codes"] == [1]  # the fix's own test fails on the head
    assert len(record["review"]["seconds"]) == len(record["pytest"]["seconds"]) == 1
    assert record["review_args"] == ["--checks=project-tests,docstrings"]
    assert "--timeout 240" in record["provenance"]["command"]

    data = json.loads((out / "real_commits.json").read_text())
    assert data["summary"]["settings"]["kept"]["detected_warning"] == 1
    found = data["results"][0]["review"]["findings"]
    assert [(f["check"], f["kind"], f["function"]) for f in found] == [
        ("project-tests", "regression", "mean")
    ]
    text = (out / "real_commits.md").read_text()
    assert "| bug put back, the fix's tests kept | 1 | 1/1 = 100% |" in text

    stamp = result.stat().st_mtime_ns  # a second run keeps the result and only rebuilds the tables
    assert real_commits.main(argv) == 0
    assert result.stat().st_mtime_ns == stamp

    capsys.readouterr()
    assert real_commits.main([*argv[:10], "--validate", "--cases", "lib-fix"]) == 0
    assert "1/1 fix cases valid" in capsys.readouterr().out


def test_bad_arguments_exit_2_with_the_bad_value(
    library: dict[str, Path | str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--manifest", str(library["manifest"]), "--workdir", str(tmp_path)]
    assert real_commits.main([*argv, "--cases", "nothing-like-this"]) == 2
    assert "no case matches --cases 'nothing-like-this'" in capsys.readouterr().err
    assert real_commits.main([*argv, "--cases", "lib-ok"]) == 2
    assert "pass --mirror DIR" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        real_commits.main([*argv, "--settings", "kept,sideways"])
    assert info.value.code == 2
