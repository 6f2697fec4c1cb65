"""Run untrusted code: namespaces, wall-clock timeout, rlimits, scrubbed env, temp HOME, capped output, redaction."""

from __future__ import annotations

import collections
import contextlib
import ctypes
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from codegrad.redaction import REDACTED, SECRET_NAME, longest_secret, redact, register_secret
from codegrad.verify import fsview, interpreter
from codegrad.verify.isolation import (
    LEVELS,
    PID_RESERVED,
    Isolation,
    capped_level,
    isolation,
    namespace_prefix,
)

__all__ = [
    "LEVELS",
    "REDACTED",
    "Isolation",
    "Limits",
    "RunResult",
    "classify",
    "conceal",
    "harden_self",
    "is_dumpable",
    "isolation",
    "python_argv",
    "redact",
    "register_secret",
    "run",
    "scrubbed_env",
]

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
conceal = fsview.conceal
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
    home_mb: int = 512  # size of each private in-memory HOME, /tmp, /var/tmp, /dev/shm (namespaces)


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


# --------------------------------------------------------------------------- environment (pure)


def scrubbed_env(
    home: Path, extra: Mapping[str, str] | None = None, *, tmpdir: Path | None = None
) -> dict[str, str]:
    """An allow-listed environment with a private HOME; never carries a secret-looking name or value,
    nor anything that names the sandbox (the code under test should see an ordinary CI shell)."""
    env = {k: v for k, v in os.environ.items() if k in ENV_ALLOW}
    env.setdefault("PATH", os.defpath)
    exe_dir = str(Path(interpreter.project_python()).parent)
    if exe_dir not in env["PATH"].split(os.pathsep):
        env["PATH"] = exe_dir + os.pathsep + env["PATH"]
    # No PYTHONNOUSERSITE: HOME is private and empty, so the user site adds nothing, and the flag
    # changes how suites set themselves up (SQLAlchemy's conftest puts lib/ on the path only without it).
    env.update(
        {
            "HOME": str(home),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONIOENCODING": "utf-8",
            "PIP_NO_INPUT": "1",
            "NO_COLOR": "1",
            "CI": "true",
        }
    )
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    for key, value in (extra or {}).items():
        if SECRET_NAME.search(key) or redact(value) != value:
            continue
        env[key] = value
    return env


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


def _shown(argv: Sequence[str], env: Mapping[str, str], readable: Sequence[Path]) -> list[str]:
    """What a command needs to see besides its cwd: its interpreter, the import path, `readable`."""
    paths = [str(p) for p in readable]
    paths += fsview.interpreter_dirs(interpreter.project_python())
    if argv and os.path.isabs(argv[0]):
        paths += fsview.interpreter_dirs(argv[0])
    paths += [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if os.path.isabs(p)]
    return paths


def _view(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    writable: Sequence[Path] | None,
    readable: Sequence[Path],
    limits: Limits,
    fallback_home: Path,
) -> fsview.View:
    return fsview.plan(
        env=os.environ,
        keep=_shown(argv, env, readable),
        writable=[str(cwd), *(str(p) for p in writable or ())],
        home_mb=limits.home_mb,
        fallback_home=str(fallback_home),
        extra_hidden=fsview.concealed(),
    )


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
    readable: Sequence[Path] = (),
) -> RunResult:
    """Run argv under the sandbox; never raises for the child's failures, only for our own misuse.

    `isolation_level` caps the probed level ("none", "userns", "namespaces"); `output_limit` caps the
    bytes kept per stream (the middle is dropped); the child is killed, whole tree, at `timeout`.
    Under "namespaces" the command sees a private, empty HOME, /tmp, /var/tmp and /dev/shm, none of
    the places credentials live (fsview), and of the rest reads all and writes only cwd and
    `writable`; of what is private it sees again only cwd, `writable`, `readable`, its interpreter
    and the PYTHONPATH of `env`. Below that level (no mount namespace) HOME is a fresh temporary
    folder and `writable` (default: the temp dir) is only advisory."""
    limits = limits or Limits()
    level = capped_level(isolation().level, isolation_level)
    cpu = limits.cpu_seconds or int(timeout) + 5
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as home_dir:
        home = Path(home_dir)
        (home / "tmp").mkdir()
        view = None
        if level == "namespaces":
            view = _view(
                argv,
                cwd=cwd,
                env=env or {},
                writable=writable,
                readable=readable,
                limits=limits,
                fallback_home=home,
            )
            child_env = scrubbed_env(Path(view.home), env)
        else:
            child_env = scrubbed_env(home, env, tmpdir=home / "tmp")
        if not argv or not _findable(argv[0], cwd, child_env["PATH"]):
            return _cannot_start(argv or ("",), "no such program", level)
        status_read, status_write = os.pipe()
        prefix = namespace_prefix(
            level,
            network=network,
            status_fd=status_write,
            pid_max=PID_RESERVED + limits.max_processes + 2,
            home=None if view else home,
            home_mb=limits.home_mb,
            writable=view.writable if view else _writable_paths(cwd, home, writable),
            protected=[*_protected_dirs(), *(view.readonly if view else ())],
            view=view.program() if view else (),
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
    margin = longest_secret()
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
    """argv for running the project's Python (interpreter.project_python: its deps are there; codegrad's
    runners come on the PYTHONPATH, checks.base.codegrad_pythonpath)."""
    return [interpreter.project_python(), *args]
