"""What sandboxed code sees of the file system: credential folders and files hidden, private HOME, /tmp, /dev/shm."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Inside the new mount namespace, before the sandbox's init (pid 1) starts: covers, private folders and
# the paths shown again, in order from the root down. It then becomes the init (pid 1), running its
# source in this same interpreter (started with the same -I -S) or exec'ing it.
# Anything it cannot hide stops the run: a command never starts with a credential in sight.
MASK_PROGRAM = r"""
import ctypes, json, os, stat, sys
plan, rest = json.loads(sys.argv[1]), sys.argv[2:]
libc = ctypes.CDLL(None, use_errno=True)
BIND, REC, REMOUNT, RDONLY = 4096, 16384, 32, 1

def fail(what, path):
    os.write(2, ("sandbox: cannot %s %s: %s\n" % (what, path, os.strerror(ctypes.get_errno()))).encode())
    os._exit(126)

def mount(source, target, fstype, flags, data):
    enc = lambda s: None if s is None else s.encode()
    return libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) == 0

class MountAttr(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in ("attr_set", "attr_clr", "propagation", "userns_fd")]

def readonly(path):
    attr = MountAttr(1, 0, 0, 0)
    args = (ctypes.c_int(-100), ctypes.c_char_p(path.encode()), ctypes.c_uint(0x8000))
    if libc.syscall(ctypes.c_long(442), *args, ctypes.byref(attr), ctypes.c_size_t(32)) == 0:
        return True
    keep = os.statvfs(path).f_flag & (os.ST_NOSUID | os.ST_NODEV | os.ST_NOEXEC)
    return mount(None, path, None, REMOUNT | BIND | RDONLY | keep, None)

fds = {}
for path, _writable in plan["keep"]:
    try:
        fds[path] = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        pass  # nothing there to show

def depth(path):
    return path.rstrip("/").count("/")

order = {"private": 0, "cover": 1, "keep": 2}
ops = [("private", p, extra) for p, *extra in plan["private"]]
ops += [("cover", p, ()) for p in plan["cover"]]
ops += [("keep", p, (w,)) for p, w in plan["keep"]]
ops.sort(key=lambda op: (depth(op[1]), order[op[0]]))
done = []

def hidden(path):
    above = [(p, kind) for p, kind in done if (path + "/").startswith(p.rstrip("/") + "/") and p != path]
    return bool(above) and max(above, key=lambda a: len(a[0]))[1] != "keep"

def mountpoint(path, is_dir):
    if is_dir:
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "a").close()

for kind, path, extra in ops:
    under = hidden(path)
    if kind == "private":
        size, mode = extra
        if under:
            mountpoint(path, True)
        if not mount("tmpfs", path, "tmpfs", 6, "size=%dm,mode=%s" % (size, mode)):  # nosuid,nodev
            fail("make a private", path)
    elif kind == "cover":
        if under or not os.path.lexists(path):
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            ok = mount("tmpfs", path, "tmpfs", 6, "size=64k,mode=755")
        else:
            ok = mount("/dev/null", path, None, BIND, None)
        if not ok:
            fail("hide", path)
    else:
        if not under or path not in fds:
            continue
        mountpoint(path, stat.S_ISDIR(os.fstat(fds[path]).st_mode))
        if not mount("/proc/self/fd/%d" % fds[path], path, None, BIND | REC, None):
            fail("show", path)
        if not extra[0] and not readonly(path):
            fail("make read-only", path)
    done.append((path, kind))
for fd in fds.values():
    os.close(fd)
if rest[1:4] == ["-I", "-S", "-c"]:  # the init is a Python program too: run it here, no second start
    sys.argv = ["-c", *rest[5:]]
    exec(compile(rest[4], "<init>", "exec"), {"__name__": "__main__"})
else:
    os.execv(rest[0], rest)
"""

SHM = "/dev/shm"
SHARED_TMP = ("/tmp", "/var/tmp")
RUNNER_SECRETS = (".credentials", ".credentials_rsaparams", ".runner")  # a runner's own folder
# Sockets that hand out more power than the user has (a Docker daemon is root on the host), agent
# sockets, and the folders where containers and clusters mount their secrets.
HOST_SECRETS = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd",
    "/run/podman",
    "/run/secrets",
    "/var/run/secrets",
)

_CONCEALED: list[str] = []
_LOCK = threading.Lock()


@dataclass(frozen=True)
class View:
    """The mount plan: private writable folders, hidden paths, and paths shown again inside them."""

    home: str  # the HOME the command gets (a private folder)
    private: tuple[tuple[str, int, str], ...]  # (path, size in MiB, mode)
    cover: tuple[str, ...]
    keep: tuple[tuple[str, bool], ...]  # (path, writable)

    def program(self) -> list[str]:
        """The argv that applies the plan, to be followed by the argv it becomes."""
        plan = {"private": self.private, "cover": self.cover, "keep": self.keep}
        return [sys.executable, "-I", "-S", "-c", MASK_PROGRAM, json.dumps(plan)]

    @property
    def writable(self) -> list[str]:
        return [p for p, *_ in self.private] + [p for p, w in self.keep if w]

    @property
    def readonly(self) -> list[str]:
        return [p for p, w in self.keep if not w]


def repository_paths(repo: str | os.PathLike[str]) -> list[str]:
    """A checkout and, when its `.git` is a file (a worktree), the git folders it points to."""
    dot_git = Path(repo) / ".git"
    return [str(repo), *(git_dirs(dot_git) if dot_git.is_file() else ())]


def conceal(path: str | os.PathLike[str]) -> None:
    """Hide this path (for a checkout, with its git folders) from every later sandboxed run."""
    with _LOCK:
        for item in repository_paths(path):
            real = os.path.realpath(item)
            if real not in _CONCEALED:
                _CONCEALED.append(real)


def concealed() -> list[str]:
    with _LOCK:
        return list(_CONCEALED)


def git_dirs(dot_git: Path) -> list[str]:
    """A worktree's `.git` file, the folder it points to and that folder's common git folder."""
    found = [str(dot_git)]
    try:
        text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return found
    if not text.startswith("gitdir:"):
        return found
    gitdir = (dot_git.parent / text.split(":", 1)[1].strip()).resolve()
    found.append(str(gitdir))
    try:
        common = (gitdir / "commondir").read_text(encoding="utf-8").strip()
        found.append(str((gitdir / common).resolve()))
    except OSError:
        pass
    return found


def _home_dirs(env: Mapping[str, str]) -> list[str]:
    """HOME, and the user's home folder from the password database when HOME points elsewhere."""
    homes = [env.get("HOME", "")]
    with contextlib.suppress(KeyError):  # a uid without an entry has no home of record
        homes.append(pwd.getpwuid(os.getuid()).pw_dir)
    return [h for h in dict.fromkeys(homes) if h and os.path.isabs(h)]


def secret_paths(env: Mapping[str, str]) -> list[str]:
    """Folders and files outside HOME that may hold a credential, from the environment of codegrad's
    process (pure but for reading a worktree's `.git` file): the runner's temp folders, event file and
    own credentials, the workspace (its .git holds the checkout's token), git's global config and
    credential stores, the Docker socket, agent sockets and mounted container secrets. Sandboxed code
    works on exported trees, never on the workspace itself."""
    found = [env.get("RUNNER_TEMP", ""), env.get("GITHUB_EVENT_PATH", "")]
    found += [env.get(name, "") for name in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM")]
    found += [env.get(name, "") for name in ("NETRC", "DOCKER_CONFIG", "CLOUDSDK_CONFIG")]
    found += [env.get("XDG_CONFIG_HOME", "")]  # git's credential store may live here
    found += [*HOST_SECRETS, env.get("XDG_RUNTIME_DIR", "") or f"/run/user/{os.getuid()}"]
    found += [env.get("SSH_AUTH_SOCK", ""), env.get("DOCKER_HOST", "").removeprefix("unix://")]
    workspace = env.get("GITHUB_WORKSPACE", "")
    if workspace:
        work = Path(workspace).parent.parent  # <runner>/_work/<repo>/<repo>
        found += [str(work / "_temp"), *(str(work.parent / n) for n in RUNNER_SECRETS)]
        found += repository_paths(workspace)  # its .git, and files earlier steps left there
    return [os.path.realpath(p) for p in dict.fromkeys(found) if p and os.path.isabs(p)]


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def plan(
    *,
    env: Mapping[str, str],
    keep: Iterable[str],
    writable: Iterable[str],
    home_mb: int,
    fallback_home: str,
    extra_hidden: Sequence[str] = (),
) -> View:
    """The view for one run (pure): private HOME, /tmp, /var/tmp, /dev/shm; every secret path covered;
    `writable` and `keep` shown again (writable or read-only) unless that would show a whole hidden root."""
    homes = [os.path.realpath(h) for h in _home_dirs(env)]
    homes = [h for h in homes if h != "/" and os.path.isdir(h)]
    home = homes[0] if homes else os.path.realpath(fallback_home)
    private_paths = [home, *(h for h in homes[1:] if h != home)]
    private_paths += [os.path.realpath(p) for p in (*SHARED_TMP, SHM) if os.path.isdir(p)]
    private_paths = list(dict.fromkeys(private_paths))
    private = tuple(
        (p, home_mb, "700" if p in homes or p == home else "1777") for p in private_paths
    )
    roots = set(private_paths)
    cover = [p for p in dict.fromkeys([*secret_paths(env), *extra_hidden]) if p not in roots]
    cover = [p for p in cover if p != "/"]  # a checkout at the root: its files stay, seen read-only
    hidden_roots = {*private_paths, *cover}
    shown: dict[str, bool] = {}
    for path, is_writable in [*((p, True) for p in writable), *((p, False) for p in keep)]:
        real = os.path.realpath(path)
        if real != "/" and real not in hidden_roots:  # never a whole hidden folder again
            shown[real] = shown.get(real, False) or is_writable
    rw = [p for p, w in shown.items() if w]
    # a read-only path inside a writable one stays as writable as it was
    kept = [(p, w) for p, w in shown.items() if w or not any(_inside(p, f) for f in rw)]
    return View(home, private, tuple(cover), tuple(kept))


def _python_home(path: Path) -> bool:
    """Whether a folder looks like a Python installation, a venv or a bin folder with a python in it."""
    patterns = ("pyvenv.cfg", "lib*/python3*", "bin/python*", "python*")
    return any(next(path.glob(pattern), None) is not None for pattern in patterns)


def interpreter_dirs(python: str) -> list[str]:
    """The folders an interpreter needs to start: its venv (if any) and its installation's prefix
    (only folders that look like Python's own, whatever a pyvenv.cfg claims)."""
    exe = Path(python)
    found: list[Path] = []
    venv = exe.parent.parent
    if (venv / "pyvenv.cfg").is_file():
        found.append(venv)
        for line in (
            (venv / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace").splitlines()
        ):
            key, _, value = line.partition("=")
            if key.strip() == "home" and value.strip():
                found.append(Path(value.strip()).parent)
    real = Path(os.path.realpath(exe))
    found.append(real.parent.parent if real.parent.name == "bin" else real.parent)
    found.append(exe.parent)
    return [str(p) for p in dict.fromkeys(found) if p.is_absolute() and _python_home(p)]
