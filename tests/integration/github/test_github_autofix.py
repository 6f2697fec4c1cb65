"""auto-fix: commit: one bot commit per run, pushed to the PR branch in a real bare remote, never forced."""

from __future__ import annotations

import stat
import subprocess

from github_world import NUMBER, REPO, World, pr_event

from codegrad.github import autofix

COMMIT = {"auto-fix": "commit"}


def _fixed_outcome(world: World):  # type: ignore[no-untyped-def]
    bug = world.bug()
    return world.outcome((bug,), (world.fix(bug),))


def _git(repo: object, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def test_verified_fix_is_pushed_as_one_bot_commit_with_its_tests(world: World) -> None:
    code = world.run(_fixed_outcome(world), inputs=COMMIT)

    assert code == 1  # the reviewed head still has the bug; the fix lands in a new commit
    tip = world.origin_sha()
    assert tip != world.head
    assert _git(world.origin, "rev-parse", f"{tip}^").strip() == world.head
    author = _git(world.origin, "log", "-1", "--format=%an <%ae>|%cn", tip).strip()
    assert author == f"{autofix.BOT_NAME} <{autofix.BOT_EMAIL}>|{autofix.BOT_NAME}"
    message = _git(world.origin, "log", "-1", "--format=%B", tip)
    assert "Codegrad-Fix: 1001" in message and autofix.has_trailer(message)
    files = _git(world.origin, "show", "--name-only", "--format=", tip).split()
    assert files == ["pkg/calc.py", "tests/test_codegrad_calc_mean.py"]
    fixed = _git(world.origin, "show", f"{tip}:pkg/calc.py")
    assert "    return total / len(xs)\n" in fixed and "(len(xs) - 1)" not in fixed
    assert "def test_mean_of_two" in _git(
        world.origin, "show", f"{tip}:tests/test_codegrad_calc_mean.py"
    )
    # the checkout the review ran in is untouched: same HEAD, clean tree and index
    assert world.work.sha("HEAD") == world.head and world.work.git("status", "--porcelain") == ""
    # the committed fix is not offered again as a suggestion; the summary says what was pushed
    assert not any("```suggestion" in c["body"] for c in world.fake.review_comments)
    [summary] = world.fake.issue_comments
    assert f"pushed fix commit {tip[:12]} to feature" in summary["body"]


def test_branch_that_moved_before_the_push_is_left_alone_and_nothing_is_lost(world: World) -> None:
    world.dev.write("NOTES.md", "someone else pushed\n")
    theirs = world.dev.commit("their commit")
    world.dev.git("push", "-q", "origin", "feature")

    code = world.run(_fixed_outcome(world), inputs=COMMIT)

    assert code == 1
    assert world.origin_sha() == theirs  # not forced over, not rewritten
    patch = world.report_dir / autofix.PATCH_NAME
    assert (
        "Codegrad-Fix: 1001" in patch.read_text()
        and "+    return total / len(xs)" in patch.read_text()
    )
    kept = world.work.git("rev-parse", "refs/codegrad/fix-1001").strip()
    assert world.work.git("rev-parse", f"{kept}^").strip() == world.head
    assert "::warning::codegrad: branch feature moved" in world.log
    [summary] = world.fake.issue_comments
    assert "fix commit not pushed" in summary["body"]
    assert any("```suggestion" in c["body"] for c in world.fake.review_comments)  # still offered


def test_branch_that_moves_during_the_push_is_rejected_not_forced(world: World) -> None:
    world.dev.write("NOTES.md", "raced\n")
    theirs = world.dev.commit("racing commit")
    world.dev.git("push", "-q", "origin", f"{theirs}:refs/heads/racer")
    wrapper = world.tmp / "receive-pack"
    wrapper.write_text(
        f'#!/bin/sh\ngit --git-dir={world.origin} update-ref refs/heads/feature {theirs}\nexec git-receive-pack "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    world.work.git("config", "remote.origin.receivepack", str(wrapper))

    code = world.run(_fixed_outcome(world), inputs=COMMIT)

    assert code == 1
    assert world.origin_sha() == theirs
    assert "push rejected, not forced" in world.log
    assert (world.report_dir / autofix.PATCH_NAME).is_file()


def test_cap_on_fix_commits_per_pull_request(world: World) -> None:
    commits = [(f"{i:040x}", f"codegrad: fix\n\nCodegrad-Fix: {i}") for i in range(1, 4)]
    world.fake.add_pull(
        REPO,
        NUMBER,
        base_sha=world.base,
        head_sha=world.head,
        files=[("pkg/calc.py", world.patch)],
        commits=commits,
    )

    world.run(_fixed_outcome(world), inputs=COMMIT)

    assert world.origin_sha() == world.head
    assert "already has 3 codegrad fix commit(s), the cap is 3" in world.log


def test_never_pushes_to_the_default_branch(world: World) -> None:
    event = pr_event(base_sha=world.base, head_sha=world.head, head_ref="main")

    world.run(_fixed_outcome(world), event=event, inputs=COMMIT)

    assert world.origin_sha("main") == world.base and world.origin_sha() == world.head
    assert "never pushes to the default branch (main)" in world.log


def test_fork_head_gets_suggestions_not_a_commit(world: World) -> None:
    event = pr_event(base_sha=world.base, head_sha=world.head, head_repo="mallory/calc")

    world.run(_fixed_outcome(world), event=event, inputs=COMMIT)

    assert world.origin_sha() == world.head
    assert "lives in a fork" in world.log
    assert world.fake.writes == []
