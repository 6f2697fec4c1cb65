"""The sandbox's view of the file system, as planned (pure): what is private, covered, shown again."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from codegrad.verify import fsview


def _plan(tmp_path: Path, env: dict[str, str], **kw: object) -> fsview.View:
    args: dict[str, object] = {
        "env": env,
        "keep": [],
        "writable": [],
        "home_mb": 64,
        "fallback_home": str(tmp_path / "fallback"),
    }
    args.update(kw)
    return fsview.plan(**args)  # type: ignore[arg-type]


def test_runner_folders_sockets_and_the_workspace_are_covered(tmp_path: Path) -> None:
    work = tmp_path / "runner" / "_work"
    workspace = work / "repo" / "repo"
    workspace.mkdir(parents=True)
    env = {
        "HOME": str(tmp_path / "home"),
        "RUNNER_TEMP": str(work / "_temp"),
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_EVENT_PATH": str(work / "_temp" / "_github_workflow" / "event.json"),
        "GIT_CONFIG_GLOBAL": "/etc/special-gitconfig",
        "XDG_CONFIG_HOME": "/srv/config",
        "SSH_AUTH_SOCK": "/srv/agent.sock",
        "DOCKER_HOST": "unix:///srv/docker.sock",
    }
    cover = set(_plan(tmp_path, env).cover)
    assert {
        os.path.realpath(p)
        for p in (
            work / "_temp",
            work / "_temp" / "_github_workflow" / "event.json",
            workspace,
            tmp_path / "runner" / ".credentials",
            "/etc/special-gitconfig",
            "/srv/config",
            "/srv/agent.sock",
            "/srv/docker.sock",
            "/var/run/docker.sock",
            "/run/secrets",
        )
    } <= cover


def test_home_tmp_and_shm_are_private_and_home_keeps_its_own_path(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    view = _plan(tmp_path, {"HOME": str(tmp_path / "home")})
    private = {path: mode for path, _size, mode in view.private}
    assert view.home == os.path.realpath(tmp_path / "home")
    assert (
        private[view.home] == "700" and private["/tmp"] == "1777" and private["/dev/shm"] == "1777"
    )
    assert all(size == 64 for _path, size, _mode in view.private)


def test_a_root_or_missing_home_is_never_used(tmp_path: Path) -> None:
    account = pwd.getpwuid(os.getuid()).pw_dir
    usable = os.path.realpath(account) if os.path.isdir(account) and account != "/" else None
    for home in ("/", str(tmp_path / "absent")):
        view = _plan(tmp_path, {"HOME": home})
        assert view.home == (usable or os.path.realpath(tmp_path / "fallback"))


def test_shown_paths_never_reopen_a_whole_hidden_folder(tmp_path: Path) -> None:
    temp = tmp_path / "work" / "_temp"
    env = {"HOME": str(tmp_path), "RUNNER_TEMP": str(temp)}
    inside = temp / "codegrad-export"
    view = _plan(tmp_path, env, keep=[str(temp), "/", str(inside / "src")], writable=[str(inside)])
    kept = dict(view.keep)
    assert str(temp) not in kept and "/" not in kept  # a hidden root, or everything
    assert kept == {
        os.path.realpath(inside): True
    }  # read-only src inside a writable export: as it was
    assert view.writable[-1] == os.path.realpath(inside) and view.readonly == []


def test_concealed_checkouts_hide_a_worktrees_git_folders(tmp_path: Path) -> None:
    main = tmp_path / "main"
    (main / ".git" / "worktrees" / "wt").mkdir(parents=True)
    (main / ".git" / "worktrees" / "wt" / "commondir").write_text("../..\n")
    worktree = tmp_path / "wt"
    worktree.mkdir()
    (worktree / ".git").write_text(f"gitdir: {main / '.git' / 'worktrees' / 'wt'}\n")
    paths = fsview.repository_paths(worktree)
    assert paths[0] == str(worktree)
    assert str((main / ".git").resolve()) in paths
    assert str((main / ".git" / "worktrees" / "wt").resolve()) in paths


def test_interpreter_folders_are_only_pythons_own(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (tmp_path / "secrets").mkdir()
    (venv / "pyvenv.cfg").write_text(f"home = {tmp_path / 'secrets' / 'bin'}\n")  # lies
    (venv / "bin" / "python").write_text("")
    found = fsview.interpreter_dirs(str(venv / "bin" / "python"))
    assert str(venv) in found and str(tmp_path / "secrets") not in found
