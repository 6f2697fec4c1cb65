"""Run untrusted code: namespaces, wall-clock timeout, rlimits, scrubbed env, temp HOME, capped output, redaction."""

from __future__ import annotations

import base64
import collections
import contextlib
import ctypes
import logging
import os
import re
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

# Variables passed through to untrusted code. Everything else (tokens, keys, CI secrets) is dropped.
ENV_ALLOW = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TERM",
    "VIRTUAL_ENV",
    "PYTHONHASHSEED",
    "PYTHONIOENCODING",
    "PYTHONUTF8",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CONDA_PREFIX",
    "PYENV_ROOT",
    "PYENV_VERSION",
    "JAVA_HOME",
    "LD_LIBRARY_PATH",
)
SECRET_NAME = re.compile(
    r"TOKEN|SECRET|KEY|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE|(?:^|_)PAT(?:$|_)",
    re.I,
)
# Shapes of well-known credentials: redacted wherever they appear, whatever variable (or file) they came from.
TOKEN_SHAPES = re.compile(
    r"\b(?:gh[opusr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|sk-[A-Za-z0-9_-]{20,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|glpat-[A-Za-z0-9_-]{20,})"
)
URL_CREDENTIALS = re.compile(
    r"(?P<head>\b[a-z][a-z0-9+.-]{0,30}://[^/\s:@]{1,256}:)[^/\s@]{1,256}(?=@)", re.I
)
MIN_SECRET_LEN = 6
MIN_ENCODED_LEN = 16  # shorter encoded variants would match innocent text
REDACTED = "***"

LEVELS = ("none", "userns", "namespaces")  # weakest first
PID_RESERVED = 300  # the kernel re-uses pids from 300 upwards after wrapping (RESERVED_PIDS)
DRAIN_SECONDS = 0.5  # how long to read leftovers after the child is gone
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Limits:
    """Resource limits applied to the child process (and its children)."""

    memory_mb: int = 2048  # address space per process (RLIMIT_AS); keep >= 64 for Python to start
    cpu_seconds: int | None = None  # default: wall timeout + 5
    max_processes: int = 256  # RLIMIT_NPROC when not root; a soft per-namespace pid_max otherwise
    file_size_mb: int = 256  # largest file the child may write (RLIMIT_FSIZE)
    open_files: int = 1024
    home_mb: int = 512  # size of the private in-memory HOME (and TMPDIR) under namespace isolation


@dataclass(frozen=True)
class RunResult:
    """What a sandboxed command did; stdout/stderr are already redacted."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    seconds: float
    killed_by: str | None = None  # "timeout", "memory", "cpu", "file-size", signal name, or None
    isolation: str = "none"  # the level it ran under: "namespaces", "userns" or "none"
    truncated: bool = False  # stdout or stderr exceeded output_limit and lost its middle

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


# --------------------------------------------------------------------------- redaction (pure)


def encoded_variants(secret: str) -> list[str]:
    """Forms a secret takes inside other text: URL-quoted, and base64 at each of the 3 alignments."""
    variants = {urllib.parse.quote(secret, safe="")}
    raw = secret.encode()
    for pad in range(3):
        whole = (pad + len(raw)) // 3 * 3  # bytes that end on a group boundary
        encoded = base64.b64encode((b"\0" * pad + raw)[:whole]).decode()
        skip = (0, 2, 3)[pad]  # leading characters that mix padding bits with the secret's
        variants.add(encoded[skip:])
    return [v for v in variants if v != secret and len(v) >= MIN_ENCODED_LEN]


@dataclass
class Redactor:
    """Replaces the values of secrets found in codegrad's own environment (and token-shaped text) with ***."""

    secrets: list[str] = field(default_factory=list)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, extra: Sequence[str] = ()) -> Redactor:
        env = os.environ if env is None else env
        redactor = cls()
        for key, value in env.items():
            if SECRET_NAME.search(key) or TOKEN_SHAPES.search(value):
                redactor.add(value)
        for value in extra:
            redactor.add(value)
        return redactor

    def add(self, value: str | None) -> None:
        if not value or len(value) < MIN_SECRET_LEN:
            return
        for form in (value, *encoded_variants(value)):
            if form not in self.secrets:
                self.secrets.append(form)
        self.secrets.sort(key=len, reverse=True)

    @property
    def longest(self) -> int:
        return len(self.secrets[0]) if self.secrets else 0

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        text = TOKEN_SHAPES.sub(REDACTED, text)
        return URL_CREDENTIALS.sub(lambda m: m.group("head") + REDACTED, text)


_REDACTOR = Redactor.from_env()


def redact(text: str) -> str:
    """Redact every known secret value from text (the process-wide redactor)."""
    return _REDACTOR(text)


def register_secret(value: str | None) -> None:
    """Add a secret (e.g. a token read from a file or flag) to the process-wide redactor."""
    _REDACTOR.add(value)


class RedactFilter(logging.Filter):
    """A logging filter (put it on handlers) that redacts messages, arguments and tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


# --------------------------------------------------------------------------- environment (pure)


def scrubbed_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """An allow-listed environment with a private HOME; never carries a secret-looking name or value."""
    env = {k: v for k, v in os.environ.items() if k in ENV_ALLOW}
    env.setdefault("PATH", os.defpath)
    exe_dir = str(Path(sys.executable).parent)
    if exe_dir not in env["PATH"].split(os.pathsep):
        env["PATH"] = exe_dir + os.pathsep + env["PATH"]
    env.update(
        {
            "HOME": str(home),
            "TMPDIR": str(home / "tmp"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "PYTHONIOENCODING": "utf-8",
            "PIP_NO_INPUT": "1",
            "NO_COLOR": "1",
            "CI": "true",
            "CODEGRAD_SANDBOX": "1",
            # well-behaved HTTP clients honour these: a dead proxy means no network
            "http_proxy": "http://127.0.0.1:9",
            "https_proxy": "http://127.0.0.1:9",
            "HTTP_PROXY": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "no_proxy": "",
        }
    )
    for key, value in (extra or {}).items():
        if SECRET_NAME.search(key) or _REDACTOR(value) != value:
            continue
        env[key] = value
    return env


# --------------------------------------------------------------------------- isolation

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
    home: Path,
    home_mb: int,
    writable: Sequence[str] = (),
    protected: Sequence[str] = (),
) -> list[str]:
    """The argv put in front of the command for an isolation level (pure)."""
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
    return [*outer, *init, str(pid_max), str(home), str(home_mb), *paths, *inner]


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


def _capped_level(best: str, cap: str | None) -> str:
    if cap is None:
        return best
    if cap not in LEVELS:
        raise ValueError(f"isolation level {cap!r} is not one of {LEVELS}")
    return LEVELS[min(LEVELS.index(best), LEVELS.index(cap))]


# --------------------------------------------------------------------------- hardening codegrad itself

PR_SET_PDEATHSIG = 1
PR_GET_DUMPABLE = 3
PR_SET_DUMPABLE = 4


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:  # pragma: no cover - no C library to speak of
        return None


_LIBC = _libc()


def harden_self() -> bool:
    """Make this process non-dumpable: same-uid processes without CAP_SYS_PTRACE can no longer read its
    /proc/<pid>/environ, mem or fds. Call it at CLI start. Needless under namespace isolation, useless
    against a root child; the shell that started codegrad stays readable. True if it took effect."""
    if _LIBC is None:
        return False
    return bool(_LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0)


def is_dumpable() -> bool:
    """Whether this process can still be read by same-uid processes through /proc."""
    return _LIBC is None or bool(_LIBC.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1)


# --------------------------------------------------------------------------- running


class _Capture:
    """Bounded output buffer: keeps the first and last `limit // 2` bytes and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.half = max(1, limit // 2)
        self.head = bytearray()
        self.tail: collections.deque[bytes] = collections.deque()
        self.tail_size = 0
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail.append(chunk)
            self.tail_size += len(chunk)
            while self.tail_size - len(self.tail[0]) >= self.half:
                self.tail_size -= len(self.tail.popleft())

    @property
    def truncated(self) -> bool:
        return self.total > len(self.head) + self.tail_size or self.tail_size > self.half

    def text(self, margin: int) -> str:
        """Decoded text; when truncated, `margin` bytes more are cut at the seam so no secret is split."""
        tail = b"".join(self.tail)
        if not self.truncated:
            return (bytes(self.head) + tail).decode("utf-8", errors="replace")
        tail = tail[-self.half :]
        head, tail = bytes(self.head[: len(self.head) - margin]), tail[margin:]
        lost = self.total - len(head) - len(tail)
        seam = f"\n...[{lost} bytes of output truncated]...\n"
        return (
            head.decode("utf-8", errors="replace") + seam + tail.decode("utf-8", errors="replace")
        )


def _preexec(limits: Limits, cpu_seconds: int) -> None:  # pragma: no cover - runs in the child
    """Between fork and exec: plain syscalls only (no imports, no locks)."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # codegrad dies -> the sandbox dies

    def cap(which: int, value: int, slack: int = 0) -> None:
        try:
            _soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard - slack)
            resource.setrlimit(which, (value, value + slack))
        except (ValueError, OSError):
            pass

    cap(resource.RLIMIT_AS, limits.memory_mb * 1024 * 1024)
    cap(resource.RLIMIT_CPU, cpu_seconds, slack=1)  # SIGXCPU at the soft limit, SIGKILL 1 s later
    cap(resource.RLIMIT_FSIZE, limits.file_size_mb * 1024 * 1024)
    cap(resource.RLIMIT_NOFILE, limits.open_files)
    cap(resource.RLIMIT_CORE, 0)
    # RLIMIT_NPROC does not bind root; where it binds it counts all the user's processes
    if os.geteuid() != 0:
        cap(resource.RLIMIT_NPROC, limits.max_processes)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _exited(pid: int) -> bool:
    """Whether the child has exited, without reaping it (its pid, our process group id, stays reserved)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _feed_stdin(pipe: IO[bytes], data: bytes) -> None:
    with contextlib.suppress(OSError, ValueError):
        pipe.write(data)
        pipe.close()


def _stop(proc: subprocess.Popen[bytes], *, subreaper: bool) -> None:
    """Kill the child's whole tree: ask the subreaper init to kill its orphans first, then the group."""
    if subreaper:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(proc.pid, signal.SIGTERM)
        end = time.monotonic() + DRAIN_SECONDS
        while not _exited(proc.pid) and time.monotonic() < end:
            time.sleep(0.005)
    _kill_group(proc.pid)


def _exit_fd(pid: int) -> int | None:
    """A pidfd that becomes readable when the child exits (Linux >= 5.3), so we need not poll."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _pump(
    proc: subprocess.Popen[bytes], captures: dict[int, _Capture], timeout: float, *, subreaper: bool
) -> bool:
    """Read stdout/stderr until the child is gone or the deadline; kill the whole group. True if timed out."""
    deadline = time.monotonic() + timeout
    drain_until: float | None = None
    timed_out = False
    open_pipes = set(captures)
    sel = selectors.DefaultSelector()
    for fd in captures:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    exit_fd = _exit_fd(proc.pid)
    if exit_fd is not None:
        sel.register(exit_fd, selectors.EVENT_READ)
    try:
        while True:
            now = time.monotonic()
            if drain_until is None and (now >= deadline or _exited(proc.pid)):
                timed_out = not _exited(proc.pid)
                _stop(proc, subreaper=subreaper and timed_out)  # grandchildren and daemons go too
                drain_until = now + DRAIN_SECONDS
                if exit_fd is not None:
                    sel.unregister(exit_fd)
            if drain_until is not None and (not open_pipes or now >= drain_until):
                break  # all read, or an escaped grandchild still holds a pipe: stop listening
            wait = min(max((drain_until or deadline) - now, 0.0), POLL_SECONDS)
            for key, _ in sel.select(wait):
                if key.fd not in open_pipes:
                    continue  # the exit fd: checked at the top of the loop
                try:
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if chunk:
                    captures[key.fd].feed(chunk)
                else:
                    sel.unregister(key.fd)
                    open_pipes.discard(key.fd)
    finally:
        sel.close()
        if exit_fd is not None:
            os.close(exit_fd)
        _kill_group(proc.pid)
    return timed_out


def _read_status(fd: int) -> int | None:
    """The command's wait status as reported by the namespace's init, if it reported one."""
    os.set_blocking(fd, False)
    try:
        data = os.read(fd, 64)
    except BlockingIOError:
        return None
    finally:
        os.close(fd)
    try:
        return os.waitstatus_to_exitcode(int(data)) if data else None
    except ValueError:
        return None


def classify(returncode: int, timed_out: bool, stderr: str) -> str | None:
    """Why the child died: timeout, a limit, a signal name, or None (pure)."""
    if timed_out:
        return "timeout"
    if returncode < 0:
        sig = signal.Signals(-returncode)
        names = {signal.SIGXCPU: "cpu", signal.SIGKILL: "killed", signal.SIGXFSZ: "file-size"}
        return names.get(sig, sig.name)
    tail = stderr[-2000:]
    if "MemoryError" in tail or "std::bad_alloc" in tail:
        return "memory"
    if "File too large" in tail:  # Python ignores SIGXFSZ; the write fails with EFBIG instead
        return "file-size"
    return None


def _findable(program: str, cwd: Path, path: str) -> bool:
    if os.sep in program:
        return os.access(cwd / program, os.X_OK)
    return shutil.which(program, path=path) is not None


def _writable_paths(cwd: Path, home: Path, extra: Sequence[Path] | None) -> list[str]:
    default = [Path(tempfile.gettempdir())]
    wanted = [cwd, home, Path("/dev/shm"), *(default if extra is None else extra)]
    return list(dict.fromkeys(os.path.realpath(p) for p in wanted))


# GitHub Actions files that steer later steps (GITHUB_ENV can set LD_PRELOAD for a step holding secrets)
GITHUB_FILE_COMMANDS = (
    "GITHUB_ENV",
    "GITHUB_PATH",
    "GITHUB_OUTPUT",
    "GITHUB_STATE",
    "GITHUB_STEP_SUMMARY",
)


def _protected_dirs() -> list[str]:
    """Folders kept read-only even inside a writable path: those of the runner's file commands."""
    found = (os.environ.get(name) for name in GITHUB_FILE_COMMANDS)
    return sorted({os.path.realpath(os.path.dirname(f)) for f in found if f})


def _cannot_start(argv: Sequence[str], why: str, level: str) -> RunResult:
    return RunResult(
        tuple(argv), 127, "", redact(f"could not start {argv[0]}: {why}"), False, 0.0, None, level
    )


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    limits: Limits | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    network: bool = False,
    output_limit: int = 2_000_000,
    isolation_level: str | None = None,
    writable: Sequence[Path] | None = None,
) -> RunResult:
    """Run argv under the sandbox; never raises for the child's failures, only for our own misuse.

    `isolation_level` caps the probed level ("none", "userns", "namespaces"); `output_limit` caps the
    bytes kept per stream (the middle is dropped); the child is killed, whole tree, at `timeout`.
    Under "namespaces" the file system is read-only except cwd, HOME, /dev/shm and `writable`
    (default: the temp dir, where checks keep their scratch files; pass the scratch dir to narrow it)."""
    limits = limits or Limits()
    level = _capped_level(isolation().level, isolation_level)
    cpu = limits.cpu_seconds or int(timeout) + 5
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="codegrad-home-") as home_dir:
        home = Path(home_dir)
        (home / "tmp").mkdir()
        child_env = scrubbed_env(home, env)
        if not argv or not _findable(argv[0], cwd, child_env["PATH"]):
            return _cannot_start(argv or ("",), "no such program", level)
        status_read, status_write = os.pipe()
        prefix = namespace_prefix(
            level,
            network=network,
            status_fd=status_write,
            pid_max=PID_RESERVED + limits.max_processes + 2,
            home=home,
            home_mb=limits.home_mb,
            writable=_writable_paths(cwd, home, writable),
            protected=_protected_dirs(),
        )
        try:
            proc = subprocess.Popen(
                [*prefix, *argv],
                cwd=str(cwd),
                env=child_env,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # own process group: the whole tree is killed at once
                pass_fds=(status_write,),
                preexec_fn=lambda: _preexec(limits, cpu),
            )
        except OSError as exc:
            os.close(status_read)
            return _cannot_start(argv, str(exc), level)
        finally:
            os.close(status_write)
        assert proc.stdout is not None and proc.stderr is not None
        out, err = _Capture(output_limit), _Capture(output_limit)
        captures = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
        if stdin is not None:
            threading.Thread(
                target=_feed_stdin, args=(proc.stdin, stdin.encode()), daemon=True
            ).start()
        try:
            timed_out = _pump(proc, captures, timeout, subreaper=level != "namespaces")
        finally:
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        reported = _read_status(status_read)
        seconds = time.monotonic() - started
    code = reported if reported is not None else proc.returncode
    if timed_out:
        code = -signal.SIGKILL  # the same at every level
    margin = _REDACTOR.longest
    stderr = err.text(margin)
    return RunResult(
        argv=tuple(argv),
        returncode=code,
        stdout=redact(out.text(margin)),
        stderr=redact(stderr),
        timed_out=timed_out,
        seconds=seconds,
        killed_by=classify(code, timed_out, stderr),
        isolation=level,
        truncated=out.truncated or err.truncated,
    )


def python_argv(*args: str) -> list[str]:
    """argv for running Python (this interpreter, so codegrad's runners and the project's deps are there)."""
    return [sys.executable, *args]
