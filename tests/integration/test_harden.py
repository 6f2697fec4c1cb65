"""Whole-repository hardening on real git repositories: planted bugs, shards, the cache, fixes with tests,
and the branch + pull request flow against the loopback GitHub fake with a real bare remote."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from codegrad.diff import changes
from codegrad.github import context as action_context
from codegrad.github import harden_pr as harden_action
from codegrad.github import output as action_output
from codegrad.github.api import RepositoryAPI, make_retry
from codegrad.harden import engine as harden
from codegrad.harden import shard, testgen
from codegrad.model import Evidence, Kind, Outcome
from codegrad.render import jsonout
from codegrad.settings import Settings
from fakes.github_pulls_ext import FakeGitHubPulls
from fakes.openai_server import FakeOpenAI
from helpers_git import GitRepo, make_repo

ITEMS = '''"""Items."""


def last_item(xs: list[int]) -> int | None:
    """The last element, or None for an empty list."""
    return xs[len(xs) - 1]


def first_item(xs: list[int]) -> int | None:
    """The first element, or None for an empty list."""
    return xs[0] if xs else None
'''
WORDS = '''"""Words."""


def double(x: int) -> int:
    """Twice x.

    >>> double(3)
    6
    """
    return x * 3


def shout(s: str) -> str:
    """Upper-cased, with an exclamation mark.

    >>> shout("hi")
    'HI!'
    """
    return s.upper() + "!"
'''
ADDERS = "\n\n".join(
    f'def add_{i}(x: int) -> int:\n    """x plus {i}."""\n    return x + {i}\n' for i in range(20)
)
BOTH = '\n\ndef add_both(x: int) -> int:\n    """add_1 and add_2 of x, summed."""\n    return add_1(x) + add_2(x)\n'
TESTS = "from pkg.items import first_item\n\n\ndef test_first_item():\n    assert first_item([4, 5]) == 4\n"
BUGS = {"pkg/items.py::last_item", "pkg/words.py::double"}
FAST = ("docstrings", "properties")
FIXED_LAST = '''def last_item(xs: list[int]) -> int | None:
    """The last element, or None for an empty list."""
    return xs[-1] if xs else None'''
FIXED_DOUBLE = '''def double(x: int) -> int:
    """Twice x.

    >>> double(3)
    6
    """
    return x * 2'''
TOKEN = "ghs_hardentoken_0123456789abcdef"
REPO = "octo/lib"
TODAY = date(2024, 5, 6)


def planted(tmp_path: Path, name: str = "lib") -> GitRepo:
    """Two commits: the bugs are in the first; the last commit's diff touches other code only."""
    repo = make_repo(tmp_path, name)
    repo.write("pkg/__init__.py", "")
    repo.write("pkg/items.py", ITEMS)
    repo.write("pkg/words.py", WORDS)
    repo.write("pkg/adders.py", ADDERS)
    repo.write("tests/test_items.py", TESTS)
    repo.commit("base with two hidden bugs")
    repo.write("pkg/adders.py", ADDERS + BOTH)
    repo.commit("add add_both")
    return repo


def settings(repo: GitRepo, checks: tuple[str, ...] = FAST, **more: Any) -> Settings:
    return Settings(repo=repo.path, checks=checks, max_examples=25, function_timeout=10.0, **more)


def keys(outcome: Outcome) -> set[str]:
    return {f"{f.path}::{f.function}" for f in outcome.findings}


def harden_stats(outcome: Outcome) -> dict[str, Any]:
    [result] = [r for r in outcome.evidence.results if r.check == harden.CHECK]
    return result.stats


# ---------------------------------------------------------------- finding and sharding


def test_planted_bugs_in_functions_no_diff_touches_are_found(tmp_path: Path) -> None:
    repo = planted(tmp_path)
    diff = repo.git("diff", "HEAD~1", "HEAD")
    read = lambda ref: lambda p: repo.git("show", f"{ref}:{p}")  # noqa: E731
    changed, _ = changes.changed_functions(
        diff, read("HEAD"), read("HEAD~1"), include=("**/*.py",), exclude=()
    )
    assert {t.key for t in changed} == {
        "pkg/adders.py::add_both"
    }  # a PR review would not look at the bugs

    outcome = harden.harden(settings(repo, checks=(*FAST, "project-tests")))

    assert keys(outcome) == BUGS
    kinds = {f.function: f.kind for f in outcome.findings}
    assert kinds == {"last_item": Kind.CRASH, "double": Kind.BUG}
    assert len(outcome.targets) == 25 and outcome.base is None
    stats = harden_stats(outcome)
    assert (stats["functions"], stats["verified"], stats["cached"]) == (25, 25, 0)
    by_check = {r.check: r for r in outcome.evidence.results}
    assert "differential" not in by_check  # nothing to compare with in a whole-repo run
    assert by_check["project-tests"].checked == ("pkg/items.py::first_item",)
    crash = next(f for f in outcome.findings if f.function == "last_item")
    assert crash.input == "last_item([])" and testgen.usable(crash)


def test_the_union_of_shards_equals_the_full_run(tmp_path: Path) -> None:
    repo = planted(tmp_path)
    full = harden.harden(settings(repo), max_functions=18)
    parts = [
        harden.harden(settings(repo), shard=shard.Shard(k, 2), max_functions=18) for k in (1, 2)
    ]

    merged = jsonout.from_dict(shard.merge([jsonout.to_dict(p) for p in parts]))

    assert all(p.targets for p in parts)  # both shards had work
    assert {t.key for t in merged.targets} == {t.key for t in full.targets}
    assert len(full.targets) == 18  # the function budget is for the whole run, not per shard
    assert {f.fingerprint for f in merged.findings} == {f.fingerprint for f in full.findings}
    for name in (*FAST, harden.CHECK):
        mine = next(r for r in merged.evidence.results if r.check == name)
        theirs = next(r for r in full.evidence.results if r.check == name)
        assert set(mine.checked) == set(theirs.checked) and mine.skipped == theirs.skipped, name
    assert harden_stats(merged)["over_budget"] == 25 - 18


def test_the_second_run_skips_what_did_not_change_and_a_callee_edit_rechecks_its_callers(
    tmp_path: Path,
) -> None:
    repo = planted(tmp_path)
    cache = tmp_path / "verify-cache.json"
    first = harden.harden(settings(repo), cache_path=cache)
    second = harden.harden(settings(repo), cache_path=cache)

    stats = harden_stats(second)
    assert (stats["functions"], stats["verified"], stats["cached"], stats["replayed"]) == (
        25,
        0,
        25,
        2,
    )
    assert {f.fingerprint for f in second.findings} == {f.fingerprint for f in first.findings}
    assert (
        keys(second) == BUGS and {t.key for t in second.targets} == BUGS
    )  # carried over, not lost
    entries = json.loads(cache.read_text())["entries"]
    assert entries["pkg/adders.py::add_3"]["status"] == "clean"
    assert entries["pkg/items.py::last_item"]["replay"][0]["input"] == "last_item([])"

    repo.write("pkg/adders.py", (ADDERS + BOTH).replace("return x + 1\n", "return 1 + x\n"))
    repo.commit("reorder add_1")
    third = harden.harden(settings(repo), cache_path=cache)

    assert harden_stats(third)["verified"] == 2
    assert {t.key for t in third.targets} == BUGS | {
        "pkg/adders.py::add_1",
        "pkg/adders.py::add_both",
    }
    assert keys(third) == BUGS


def test_a_bad_cache_folder_or_shard_is_the_users_mistake(tmp_path: Path) -> None:
    from codegrad.cli import add_harden_arguments, harden_main
    from codegrad.errors import UsageError

    repo = planted(tmp_path)
    import argparse

    parser = argparse.ArgumentParser()
    add_harden_arguments(parser.add_subparsers(dest="command"))
    with pytest.raises(UsageError, match="expected K/N"):
        harden_main(parser.parse_args(["harden", "--repo", str(repo.path), "--shard", "x"]))
    with pytest.raises(UsageError, match="at least 1"):
        harden_main(parser.parse_args(["harden", "--repo", str(repo.path), "--max-functions", "0"]))
    missing = tmp_path / "nope" / "cache.json"
    args = [
        "harden",
        "--repo",
        str(repo.path),
        "--checks",
        "docstrings",
        "--cache",
        str(missing),
        "-q",
    ]
    with pytest.raises(UsageError, match="does not exist"):
        harden_main(parser.parse_args(args))


# ---------------------------------------------------------------- fixes and the tests that prove them


def _both_fixed() -> str:
    return (
        f"Here are the fixes.\n\n```python\n{FIXED_LAST}\n```\n\n```python\n{FIXED_DOUBLE}\n```\n"
    )


@dataclass
class Fixed:
    repo: GitRepo
    outcome: Outcome


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fixed]:
    """One real hardening run with refinement against the loopback OpenAI-compatible fake."""
    repo = planted(tmp_path_factory.mktemp("fixed"))
    with FakeOpenAI() as llm:
        for _ in range(2):  # per function: the critic, then the update step
            llm.enqueue("The function mishandles its input; see the evidence.")
            llm.enqueue(_both_fixed())
        outcome = harden.harden(
            settings(
                repo,
                fix=True,
                llm_base_url=llm.base_url,
                llm_api_key="sk-fake-harden-key-0123456789",
                max_iterations=1,
            )
        )
    yield Fixed(repo, outcome)


def test_fixes_carry_tests_that_fail_before_and_pass_after(fixed: Fixed) -> None:
    verified = {f.function: f for f in fixed.outcome.fixes if f.verified}
    assert set(verified) == {"last_item", "double"}
    last = verified["last_item"].tests or ""
    assert "@example(xs=[])" in last and "def test_last_item_does_not_crash" in last
    assert "assert double(3) == 6" in (verified["double"].tests or "")
    assert not any(n.startswith("no regression test") for n in fixed.outcome.notes)


# ---------------------------------------------------------------- the action: branch and pull request


@dataclass
class Hub:
    """A bare origin with main, a checkout of main (the action's workspace), and the API fake."""

    tmp: Path
    fake: FakeGitHubPulls
    origin: Path
    work: GitRepo
    head: str
    runs: int = 0
    log: str = ""
    summary: str = ""

    def branches(self) -> dict[str, str]:
        out = _git(
            self.origin, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads/"
        )
        return dict(line.split() for line in out.splitlines())

    def run(
        self,
        outcome: Outcome,
        *,
        today: date = TODAY,
        inputs: dict[str, str] | None = None,
        use_case: Callable[[Settings], Outcome] | None = None,
    ) -> int:
        self.runs += 1
        run_dir = self.tmp / f"run{self.runs}"
        run_dir.mkdir()
        (run_dir / "event.json").write_text(json.dumps({"schedule": "0 3 * * 1"}))
        env = {
            "GITHUB_EVENT_NAME": "schedule",
            "GITHUB_EVENT_PATH": str(run_dir / "event.json"),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": self.fake.url,
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_WORKSPACE": str(self.work.path),
            "GITHUB_RUN_ID": f"500{self.runs}",
            "GITHUB_OUTPUT": str(run_dir / "output"),
            "GITHUB_STEP_SUMMARY": str(run_dir / "summary.md"),
            "RUNNER_TEMP": str(run_dir),
            "INPUT_GITHUB-TOKEN": TOKEN,
            "INPUT_MODE": "harden",
            "INPUT_FAIL-ON": "never",
            **{f"INPUT_{k.upper()}": v for k, v in (inputs or {}).items()},
        }
        stream = io.StringIO()
        log = action_output.Log(stream)
        ins = action_context.read_inputs(env)
        ctx = action_context.read_context(env, ins.report_dir)

        def connect() -> RepositoryAPI:
            return RepositoryAPI.connect(
                token=TOKEN,
                repository=REPO,
                api_url=self.fake.url,
                retry=make_retry(total=2),
                pace=(0, 0),
            )

        code = harden_action.run(
            ctx,
            ins,
            log,
            connect=connect,
            harden=use_case or (lambda s: outcome),
            env=env,
            today=today,
        )
        self.log = stream.getvalue()
        self.summary = (
            (run_dir / "summary.md").read_text() if (run_dir / "summary.md").exists() else ""
        )
        return code


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def hub(tmp_path: Path, fixed: Fixed) -> Iterator[Hub]:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    fixed.repo.git("push", "-q", str(origin), "HEAD:refs/heads/main")
    work = GitRepo(tmp_path / "work")
    subprocess.run(["git", "clone", "-q", str(origin), str(work.path)], check=True)

    def resolve(repo: str, branch: str) -> str | None:
        proc = subprocess.run(
            ["git", "-C", str(origin), "rev-parse", "--verify", "-q", f"refs/heads/{branch}"],
            capture_output=True,
            text=True,
            check=False,
        )
        return proc.stdout.strip() or None

    with FakeGitHubPulls(resolve) as fake:
        fake.add_token(TOKEN)
        fake.add_repo(REPO)
        yield Hub(tmp_path, fake, origin, work, fixed.outcome.head)


def _pytest(folder: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", *paths],
        cwd=folder,
        capture_output=True,
        text=True,
        # No .pyc: checking out another commit within the same second can leave a same-sized
        # source with the same mtime, and Python would then run the other commit's bytecode.
        env={
            "PYTHONPATH": str(folder),
            "PATH": "/usr/bin:/bin",
            "HOME": str(folder),
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        check=False,
        timeout=120,
    )


def test_verified_fixes_open_one_pull_request_with_one_commit_of_fixes_and_tests(
    hub: Hub, fixed: Fixed
) -> None:
    code = hub.run(fixed.outcome)

    assert code == 0, hub.log
    branch = "codegrad/harden-2024-05-06"
    tip = hub.branches()[branch]
    assert hub.branches()["main"] == hub.head  # the default branch is untouched
    assert _git(hub.origin, "rev-parse", f"{tip}^@").split() == [hub.head]  # one commit on main
    files = _git(hub.origin, "show", "--name-only", "--format=", tip).split()
    assert files == [
        "pkg/items.py",
        "pkg/words.py",
        "tests/test_items_codegrad.py",
        "tests/test_words.py",
    ]
    message = _git(hub.origin, "log", "-1", "--format=%an|%B", tip)
    assert message.startswith("codegrad[bot]|") and "Codegrad-Fix: 5001" in message
    [pull] = hub.fake.open_pulls(REPO)
    assert (pull["head"]["ref"], pull["base"]["ref"]) == (branch, "main")
    assert pull["title"] == "codegrad hardening: 2 verified fixes"
    assert harden_action.MARKER in pull["body"] and "`tests/test_words.py`" in pull["body"]
    assert "opened pull request #1" in hub.summary
    # the committed tests fail on main and pass on the fixed commit
    checkout = hub.tmp / "checkout"
    subprocess.run(["git", "clone", "-q", str(hub.origin), str(checkout)], check=True)
    tests = ["tests/test_items_codegrad.py", "tests/test_words.py"]
    _git(checkout, "checkout", "-q", tip)
    assert _pytest(checkout, *tests).returncode == 0
    _git(checkout, "checkout", "-q", "main")
    _git(checkout, "checkout", tip, "--", *tests)
    failed = _pytest(checkout, *tests)
    assert failed.returncode == 1 and "2 failed" in failed.stdout, failed.stdout


def test_an_open_hardening_pull_request_is_updated_not_duplicated(hub: Hub, fixed: Fixed) -> None:
    hub.run(fixed.outcome)
    first_tip = hub.branches()["codegrad/harden-2024-05-06"]

    code = hub.run(fixed.outcome, today=date(2024, 5, 13))

    assert code == 0, hub.log
    [pull] = hub.fake.open_pulls(REPO)  # still one
    assert pull["number"] == 1 and "codegrad/harden-2024-05-13" not in hub.branches()
    second_tip = hub.branches()["codegrad/harden-2024-05-06"]
    assert second_tip != first_tip
    _git(
        hub.origin, "merge-base", "--is-ancestor", first_tip, second_tip
    )  # a fast-forward, no force
    assert any(
        r.method == "PATCH" and r.path == f"/repos/{REPO}/pulls/1" for r in hub.fake.requests
    )
    assert "updated pull request #1" in hub.summary

    hub.fake.close_pull(REPO, 1)
    hub.run(fixed.outcome)
    assert [p["head"]["ref"] for p in hub.fake.open_pulls(REPO)] == ["codegrad/harden-2024-05-06-2"]


def test_nothing_is_pushed_without_a_verified_fix(hub: Hub, fixed: Fixed) -> None:
    unverified = tuple(replace(f, verified=False) for f in fixed.outcome.fixes)

    for outcome in (replace(fixed.outcome, fixes=()), replace(fixed.outcome, fixes=unverified)):
        code = hub.run(outcome, inputs={"fail-on": "error"})
        assert code == 1  # the findings still fail the run
        assert set(hub.branches()) == {"main"}
        assert hub.fake.writes == [] and hub.fake.open_pulls(REPO) == []
        assert "no verified fix: nothing pushed" in hub.summary
        assert "last_item" in hub.summary  # the report is there instead


def test_a_branch_someone_else_pushed_to_is_left_alone(hub: Hub, fixed: Fixed) -> None:
    hub.run(fixed.outcome)
    branch = "codegrad/harden-2024-05-06"
    clone = GitRepo(hub.tmp / "human")
    subprocess.run(
        ["git", "clone", "-q", "-b", branch, str(hub.origin), str(clone.path)], check=True
    )
    clone.write("NOTES.md", "a human edit\n")
    theirs = clone.commit("human tweak")
    clone.git("push", "-q", "origin", branch)

    hub.run(fixed.outcome, today=date(2024, 5, 13))

    assert hub.branches()[branch] == theirs
    assert "has commits that are not codegrad's" in hub.log
    assert len(hub.fake.open_pulls(REPO)) == 1


def test_a_merged_shard_report_is_published_without_verifying_again(
    hub: Hub, fixed: Fixed, tmp_path: Path
) -> None:
    report = tmp_path / "merged.json"
    report.write_text(json.dumps(shard.merge([jsonout.to_dict(fixed.outcome)])))

    def refuse(settings: Settings) -> Outcome:
        raise AssertionError("must not verify when given a report")

    hub.run(fixed.outcome, inputs={"harden-report": str(report)}, use_case=refuse)

    assert "codegrad/harden-2024-05-06" in hub.branches(), hub.log
    assert len(hub.fake.open_pulls(REPO)) == 1


def test_the_command_line_shards_merge_reports_and_caches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from codegrad.cli import add_harden_arguments, harden_main, merge_main

    repo = planted(tmp_path)
    parser = argparse.ArgumentParser()
    add_harden_arguments(parser.add_subparsers(dest="command"))
    common = [
        "--repo",
        str(repo.path),
        "--checks",
        "docstrings",
        "-q",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]
    for k in (1, 2):
        out, cache = tmp_path / f"shard-{k}.json", tmp_path / f"cache-{k}.json"
        args = ["harden", *common, "--shard", f"{k}/2", "--output", str(out), "--cache", str(cache)]
        assert harden_main(parser.parse_args(args)) == 0

    reports = [str(tmp_path / f"shard-{k}.json") for k in (1, 2)]
    caches = [str(tmp_path / f"cache-{k}.json") for k in (1, 2)]
    merged_cache = tmp_path / "merged-cache.json"
    merge_args = [
        "merge",
        *reports,
        "--format",
        "markdown",
        "--cache-from",
        *caches,
        "--cache",
        str(merged_cache),
    ]
    status = merge_main(parser.parse_args(merge_args))

    assert status == 1  # the docstring bug is an error
    text = capsys.readouterr().out
    assert (
        "25 functions checked in the whole repository" in text and "`pkg/words.py::double`" in text
    )
    assert (
        "docstrings skipped" in text and "`pkg/adders.py::add_0`" not in text.split("### Notes")[-1]
    )
    assert len(json.loads(merged_cache.read_text())["entries"]) == 25
    again = tmp_path / "again.json"
    args = ["harden", *common, "--output", str(again), "--cache", str(merged_cache)]
    assert harden_main(parser.parse_args(args)) == 0
    assert harden_stats(jsonout.from_dict(json.loads(again.read_text())))["verified"] == 0


def test_apply_writes_the_fixes_and_their_tests_into_the_working_tree(
    fixed: Fixed, tmp_path: Path
) -> None:
    from codegrad.cli import apply_with_tests

    clone = GitRepo(tmp_path / "clone")
    subprocess.run(["git", "clone", "-q", str(fixed.repo.path), str(clone.path)], check=True)
    clone.write("pkg/words.py", WORDS + "\n# a local edit\n")

    lines = apply_with_tests(fixed.outcome, Settings(repo=clone.path, fix=True, apply=True))

    assert (  # harden verified the committed file; the local edit is newer: left alone
        "not applied to pkg/words.py: it changed after it was reviewed (the fix was verified on"
        " the earlier version; your edits are left as they are); run codegrad review --fix"
        " --apply again" in lines
    )
    assert (clone.path / "pkg/words.py").read_text() == WORDS + "\n# a local edit\n"
    assert "applied the verified fix for last_item to pkg/items.py" in lines
    assert "wrote regression tests to tests/test_items_codegrad.py" in lines
    assert not any(
        "test_words" in line for line in lines
    )  # its fix was not applied: no tests either
    assert FIXED_LAST in (clone.path / "pkg/items.py").read_text()
    result = _pytest(clone.path, "tests")
    assert result.returncode == 0 and "2 passed" in result.stdout, result.stdout


def test_the_action_hardens_with_its_inputs_and_reports_when_nothing_is_fixed(
    hub: Hub, tmp_path: Path
) -> None:
    cache = tmp_path / "action-cache.json"
    inputs = {"INPUT_MAX-FUNCTIONS": "5", "INPUT_HARDEN-CACHE": str(cache)}
    real = harden_action.use_case(inputs, hub.work.path)
    seen: list[Outcome] = []

    def run_it(settings: Settings) -> Outcome:
        assert settings.repo == hub.work.path.resolve() and not settings.fix  # no LLM configured
        seen.append(real(settings.replace(checks=("docstrings",))))
        return seen[-1]

    unused = Outcome(
        base=None, head="", targets=(), evidence=Evidence((), ())
    )  # the use case decides
    code = hub.run(unused, use_case=run_it)

    assert code == 0 and harden_stats(seen[0])["verified"] == 5
    assert len(json.loads(cache.read_text())["entries"]) == 5
    assert set(hub.branches()) == {"main"} and hub.fake.writes == []
    assert "no verified fix: nothing pushed" in hub.summary and "docstrings skipped" in hub.summary
