"""Probe the strongest isolation (namespaces, userns, none) and build the bootstrap argv run before a command."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(
    "codegrad.verify.sandbox"
)  # the degraded-isolation warning belongs to the sandbox's log

LEVELS = ("none", "userns", "namespaces")  # weakest first
PID_RESERVED = 300  # the kernel re-uses pids from 300 upwards after wrapping (RESERVED_PIDS)


# The parent of the command at every level. Under "namespaces" it is pid 1 of the new PID namespace:
# it caps the pid range and mounts the private in-memory HOME; when it exits the kernel kills whatever is
# left in the namespace. Elsewhere it is a child subreaper: orphans (double-forked or setsid daemons)
# become its children, and it kills them when the command ends or when it gets SIGTERM (the timeout).
# It reports the command's raw wait status on a pipe the command cannot reach (a namespace's pid 1
# cannot re-raise a signal on itself).
_INIT = r"""
import ctypes, os, signal, sys, time
fd, pid_max, home, home_mb, writable, protected = int(sys.argv[1]), *sys.argv[2:7]
cmd = sys.argv[7:]
libc = ctypes.CDLL(None, use_errno=True)
if os.getpid() != 1:
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
if pid_max:
    try:
        with open("/proc/sys/kernel/pid_max", "w") as f:
            f.write(pid_max)
    except OSError:
        pass
if home and libc.mount(b"tmpfs", home.encode(), b"tmpfs", 6, ("size=%sm,mode=700" % home_mb).encode()) == 0:
    os.mkdir(home + "/tmp")

def loopback_up():  # a new network namespace has only `lo`, and it is down: tests serve on 127.0.0.1
    try:
        import _socket, fcntl, struct
        if [name for _, name in _socket.if_nameindex()] != ["lo"]:
            return  # not a namespace of our own: leave the host's interfaces alone
        s = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
        try:
            got = fcntl.ioctl(s.fileno(), 0x8913, struct.pack("16sH22x", b"lo", 0))  # SIOCGIFFLAGS
            flags = struct.unpack("16sH22x", got)[1]
            if not flags & 1:  # IFF_UP
                fcntl.ioctl(s.fileno(), 0x8914, struct.pack("16sH22x", b"lo", flags | 1))
        finally:
            s.close()
    except (OSError, ImportError):
        pass

loopback_up()

class MountAttr(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in ("attr_set", "attr_clr", "propagation", "userns_fd")]

def set_readonly(path, readonly, recursive=True):  # mount_setattr(2), Linux >= 5.12
    attr = MountAttr(1, 0, 0, 0) if readonly else MountAttr(0, 1, 0, 0)
    flags = 0x8000 if recursive else 0  # AT_RECURSIVE
    args = (ctypes.c_int(-100), ctypes.c_char_p(path.encode()), ctypes.c_uint(flags))
    return libc.syscall(ctypes.c_long(442), *args, ctypes.byref(attr), ctypes.c_size_t(32)) == 0

def bind(path):  # MS_BIND | MS_REC onto itself: a mount point of its own
    return libc.mount(path.encode(), path.encode(), None, 4096 | 16384, None) == 0

# everything read-only except the writable paths (the command's nested namespace cannot undo it)
def inside(path, folders):
    return any((path + "/").startswith(f.rstrip("/") + "/") for f in folders)

tops = []
for w in sorted(w for w in writable.split("\n") if w and os.path.isdir(w)):
    if not inside(w, tops):  # a recursive bind of the parent carries it
        tops.append(w)
writable = [w for w in tops if bind(w)]
if writable and set_readonly("/", True):
    if not all(set_readonly(w, False) for w in writable + ["/proc"]):
        set_readonly("/", False)  # fail open rather than break every run
    for p in protected.split("\n"):
        if p and os.path.isdir(p) and not any(inside(w, [p]) for w in writable):
            bind(p) and set_readonly(p, True, recursive=False)
os.chdir(os.getcwd())  # through the new mounts, not the one the cwd was pinned to

def children():
    try:
        with open("/proc/self/task/%d/children" % os.getpid()) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        found = []
        for name in os.listdir("/proc"):
            try:
                with open("/proc/%s/stat" % name) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == os.getpid():
                        found.append(int(name))
            except (OSError, ValueError, IndexError):
                pass
        return found

def kill_all(*_):
    end = time.monotonic() + 2
    while time.monotonic() < end:
        kids = children()
        for kid in kids:
            try:
                os.kill(kid, signal.SIGKILL)
            except OSError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            break
        if not kids:
            time.sleep(0.005)

def on_term(*_):
    kill_all()
    os._exit(137)

os.set_inheritable(fd, False)
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    except OSError as exc:
        os.write(2, ("sandbox: cannot run %s: %s\n" % (cmd[0], exc)).encode())
    os._exit(127)
signal.signal(signal.SIGTERM, on_term)
while True:
    try:
        done, status = os.wait()
    except ChildProcessError:
        done, status = pid, 127 << 8
    if done == pid:
        break
os.write(fd, str(status).encode())
signal.signal(signal.SIGTERM, signal.SIG_IGN)
if os.getpid() != 1:
    kill_all()
os._exit(os.waitstatus_to_exitcode(status) & 255)
"""


@dataclass(frozen=True)
class Isolation:
    """The strongest isolation this machine allows, as probed once per process."""

    level: str  # "namespaces", "userns" or "none" (see LEVELS)
    reason: str  # why nothing stronger is available ("" at the top level)
    # whether Limits.max_processes binds (a soft pid_max in the namespace, or RLIMIT_NPROC)
    process_cap: bool = False
    # whether all but the writable paths (cwd, HOME, temp dir) are read-only
    readonly_fs: bool = False

    @property
    def network_isolated(self) -> bool:
        return self.level != "none"

    @property
    def environ_isolated(self) -> bool:
        """Whether /proc/<pid>/environ of codegrad and its parents is out of the child's reach."""
        return self.level != "none"


_ISOLATION: Isolation | None = None
_ISOLATION_LOCK = threading.Lock()


def namespace_prefix(
    level: str,
    *,
    network: bool,
    status_fd: int,
    pid_max: int,
    home: Path | None,
    home_mb: int,
    writable: Sequence[str] = (),
    protected: Sequence[str] = (),
    view: Sequence[str] = (),
) -> list[str]:
    """The argv put in front of the command for an isolation level (pure). Under "namespaces", `view`
    (fsview.View.program) runs first, as pid 1, and hides what the command must not see; `home`
    (None when the view makes it) becomes a private in-memory folder."""
    net = [] if network else ["--net"]
    init = [sys.executable, "-I", "-S", "-c", _INIT, str(status_fd)]
    if level == "none":
        return [*init, "", "", "", "", ""]
    if level == "userns":
        return ["unshare", "--user", "--map-root-user", *net, "--", *init, "", "", "", "", ""]
    outer = ["unshare", "--user", "--map-root-user", *net, "--pid", "--ipc", "--uts"]
    outer += ["--mount-proc", "--fork", "--kill-child", "--"]
    # a second user+mount namespace "locks" the fresh /proc (the command cannot unmount it to reveal
    # the host's) and gives the command the uid it would have had without a sandbox
    uid, gid = os.getuid(), os.getgid()
    inner = ["unshare", "--user", f"--map-user={uid}", f"--map-group={gid}", "--mount", "--"]
    paths = ["\n".join(writable), "\n".join(protected)]
    return [*outer, *view, *init, str(pid_max), str(home or ""), str(home_mb), *paths, *inner]


_PROBE = (
    "import os, socket; print(os.getpid(), len(socket.if_nameindex()),"
    " open('/proc/sys/kernel/pid_max').read().strip(), os.statvfs('/').f_flag & os.ST_RDONLY)"
)


def _probe_level(level: str) -> tuple[str, bool, bool]:
    """('', process cap works, read-only fs works) if the level works here (the child is pid 2 of its
    own, only `lo`), else (the reason, False, False)."""
    not_root = os.geteuid() != 0
    if level == "none":
        return "", not_root, False
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return "not Linux or no `unshare` (util-linux)", False, False
    pid_max = PID_RESERVED + 64
    with tempfile.TemporaryDirectory(prefix="codegrad-probe-") as home:
        read_fd, write_fd = os.pipe()
        prefix = namespace_prefix(
            level,
            network=False,
            status_fd=write_fd,
            pid_max=pid_max,
            home=Path(home),
            home_mb=8,
            writable=[home],
        )
        try:
            probe = subprocess.run(
                [*prefix, sys.executable, "-I", "-S", "-c", _PROBE],
                capture_output=True,
                timeout=10,
                env={"PATH": os.environ.get("PATH", os.defpath)},
                pass_fds=(write_fd,),
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return f"{level}: {exc}", False, False
        finally:
            os.close(write_fd)
            os.close(read_fd)
    out = probe.stdout.decode(errors="replace").split()
    works = len(out) == 4 and out[1] == "1" and (level != "namespaces" or out[0] == "2")
    if probe.returncode != 0 or not works:
        err = probe.stderr.decode(errors="replace").strip().splitlines()
        return (
            f"{level}: exit {probe.returncode}, {err[-1] if err else ' '.join(out)!r}",
            False,
            False,
        )
    if level != "namespaces":
        return "", not_root, False
    return "", out[2] == str(pid_max), out[3] != "0"


def isolation(*, refresh: bool = False) -> Isolation:
    """Probe (once per process, cached) the strongest isolation level; warn once when degraded."""
    global _ISOLATION
    with _ISOLATION_LOCK:
        if _ISOLATION is None or refresh:
            _ISOLATION = _probe_all()
            if _ISOLATION.level != LEVELS[-1]:
                log.warning(
                    "sandbox isolation degraded to %r (%s); untrusted code can see other processes%s",
                    _ISOLATION.level,
                    _ISOLATION.reason,
                    ", their environment and the network" if _ISOLATION.level == "none" else "",
                )
        return _ISOLATION


def _probe_all() -> Isolation:
    reasons: list[str] = []
    if os.environ.get("CODEGRAD_NO_UNSHARE"):
        reasons.append("CODEGRAD_NO_UNSHARE is set")
    candidates = ("none",) if reasons else tuple(reversed(LEVELS))
    for candidate in candidates:
        why, process_cap, readonly_fs = _probe_level(candidate)
        if not why:
            return Isolation(candidate, "; ".join(reasons), process_cap, readonly_fs)
        reasons.append(why)
    raise AssertionError("the 'none' level always works")  # pragma: no cover


def capped_level(best: str, cap: str | None) -> str:
    if cap is None:
        return best
    if cap not in LEVELS:
        raise ValueError(f"isolation level {cap!r} is not one of {LEVELS}")
    return LEVELS[min(LEVELS.index(best), LEVELS.index(cap))]
