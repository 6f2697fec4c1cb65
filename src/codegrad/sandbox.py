"""Run untrusted code: subprocess, wall-clock timeout, rlimits, scrubbed env, temp HOME, redaction."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
SECRET_NAME = re.compile(r"TOKEN|SECRET|KEY|PASSWORD|PASSWD|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE", re.I)
MIN_SECRET_LEN = 6
REDACTED = "***"


@dataclass(frozen=True)
class Limits:
    """Resource limits applied to the child process (and its children)."""

    memory_mb: int = 2048
    cpu_seconds: int | None = None  # default: wall timeout + 5
    max_processes: int = 256
    file_size_mb: int = 256
    open_files: int = 1024


@dataclass(frozen=True)
class RunResult:
    """What a sandboxed command did; stdout/stderr are already redacted."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    seconds: float
    killed_by: str | None = None  # "timeout", "memory", "cpu", signal name, or None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


@dataclass
class Redactor:
    """Replaces the values of secrets found in codegrad's own environment with ***."""

    secrets: list[str] = field(default_factory=list)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, extra: Sequence[str] = ()) -> Redactor:
        env = os.environ if env is None else env
        values = [v for k, v in env.items() if SECRET_NAME.search(k) and len(v) >= MIN_SECRET_LEN]
        values.extend(v for v in extra if v and len(v) >= MIN_SECRET_LEN)
        return cls(sorted(set(values), key=len, reverse=True))

    def add(self, value: str | None) -> None:
        if value and len(value) >= MIN_SECRET_LEN and value not in self.secrets:
            self.secrets.append(value)
            self.secrets.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


_REDACTOR = Redactor.from_env()


def redact(text: str) -> str:
    """Redact every known secret value from text (the process-wide redactor)."""
    return _REDACTOR(text)


def register_secret(value: str | None) -> None:
    """Add a secret (e.g. a token read from a file or flag) to the process-wide redactor."""
    _REDACTOR.add(value)


def scrubbed_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """An allow-listed environment with a private HOME; never carries a secret-looking name."""
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
        if SECRET_NAME.search(key) and key not in ("PYTHONHASHSEED",):
            continue
        env[key] = value
    return env


def _preexec(limits: Limits, cpu_seconds: int) -> None:  # pragma: no cover - runs in the child
    import resource

    os.setsid()  # own process group: the whole tree is killed on timeout

    def cap(which: int, value: int) -> None:
        try:
            _soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass

    cap(resource.RLIMIT_AS, limits.memory_mb * 1024 * 1024)
    cap(resource.RLIMIT_CPU, cpu_seconds)
    cap(resource.RLIMIT_FSIZE, limits.file_size_mb * 1024 * 1024)
    cap(resource.RLIMIT_NOFILE, limits.open_files)
    cap(resource.RLIMIT_CORE, 0)
    if os.geteuid() != 0:  # RLIMIT_NPROC does not bind root; where it binds it counts the user's processes
        cap(resource.RLIMIT_NPROC, limits.max_processes)


def _unshare_prefix() -> list[str]:
    """`unshare -rn` (no network namespace) when the machine allows it, else nothing."""
    if os.environ.get("CODEGRAD_NO_UNSHARE") or not sys.platform.startswith("linux"):
        return []
    global _UNSHARE_OK
    if _UNSHARE_OK is None:
        tool = shutil.which("unshare")
        _UNSHARE_OK = False
        if tool:
            try:
                probe = subprocess.run(
                    [tool, "-rn", "true"], capture_output=True, timeout=5, env={"PATH": os.defpath}
                )
                _UNSHARE_OK = probe.returncode == 0
            except (OSError, subprocess.SubprocessError):
                _UNSHARE_OK = False
    return ["unshare", "-rn"] if _UNSHARE_OK else []


_UNSHARE_OK: bool | None = None


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass


def _decode(data: bytes, limit: int) -> str:
    text = data.decode("utf-8", errors="replace")
    if len(text) > limit:
        text = text[: limit // 2] + "\n...[output truncated]...\n" + text[-limit // 2 :]
    return text


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
) -> RunResult:
    """Run argv under the sandbox; never raises for the child's failures, only for our own misuse."""
    limits = limits or Limits()
    cpu = limits.cpu_seconds or int(timeout) + 5
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="codegrad-home-") as home_dir:
        home = Path(home_dir)
        (home / "tmp").mkdir()
        child_env = scrubbed_env(home, env)
        prefix = [] if network else _unshare_prefix()
        full = [*prefix, *argv]
        try:
            proc = subprocess.Popen(
                full,
                cwd=str(cwd),
                env=child_env,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                preexec_fn=lambda: _preexec(limits, cpu),  # noqa: PLW1509 - no threads hold locks here
            )
        except OSError as exc:
            return RunResult(tuple(argv), 127, "", redact(f"could not start {argv[0]}: {exc}"), False, 0.0)
        timed_out = False
        try:
            out, err = proc.communicate(stdin.encode() if stdin is not None else None, timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_tree(proc)
            out, err = proc.communicate()
        finally:
            _kill_tree(proc)  # stray grandchildren in the group
        seconds = time.monotonic() - started
    code = proc.returncode
    killed_by: str | None = "timeout" if timed_out else None
    if not timed_out and code < 0:
        sig = -code
        killed_by = {signal.SIGXCPU: "cpu", signal.SIGKILL: "killed", signal.SIGXFSZ: "file-size"}.get(
            signal.Signals(sig), signal.Signals(sig).name
        )
    stderr = _decode(err, output_limit)
    if killed_by is None and "MemoryError" in stderr[-2000:]:
        killed_by = "memory"
    return RunResult(
        argv=tuple(argv),
        returncode=code,
        stdout=redact(_decode(out, output_limit)),
        stderr=redact(stderr),
        timed_out=timed_out,
        seconds=seconds,
        killed_by=killed_by,
    )


def python_argv(*args: str) -> list[str]:
    """argv for running Python (this interpreter, so codegrad's runners and the project's deps are there)."""
    return [sys.executable, *args]
