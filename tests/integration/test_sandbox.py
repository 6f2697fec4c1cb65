"""Hostile programs against the sandbox: secrets, hangs, memory, forks, files, output floods, network."""

from __future__ import annotations

import json
import logging
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import codegrad
from codegrad.verify import sandbox
from codegrad.verify.checks.base import codegrad_pythonpath

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the sandbox targets Linux"
)

PY = sys.executable
CODEGRAD_SRC = str(Path(codegrad.__file__).resolve().parents[1])  # for drivers that import codegrad
LEVEL = sandbox.isolation().level
NAMESPACES = LEVEL == "namespaces"

# Reads everything a malicious test could reach: its own environment and the environ and cmdline of
# every process it can see. It writes what it found, raw, to found.txt in its cwd (so the test checks
# reachability, not redaction) and prints token-looking strings.
HOSTILE = r"""
import os, re, sys
found = ["== os.environ"] + ["%s=%s" % kv for kv in os.environ.items()]
readable = []
for name in os.listdir("/proc"):
    if not name.isdigit():
        continue
    for part in ("environ", "cmdline"):
        try:
            with open("/proc/%s/%s" % (name, part), "rb") as f:
                data = f.read().replace(b"\0", b"\n").decode("utf-8", "replace")
        except OSError:
            continue
        found.append("== /proc/%s/%s" % (name, part))
        found.append(data)
        if part == "environ":
            readable.append(int(name))
text = "\n".join(found)
with open("found.txt", "w") as f:
    f.write(text)
with open("summary.txt", "w") as f:
    f.write("%d %d %s" % (os.getpid(), os.getuid(), sorted(readable)))
for hit in re.findall(r"(?:ghp_|sk-)[A-Za-z0-9_-]{8,}", text):
    print("stolen:", hit)
"""


def fake_secrets() -> dict[str, str]:
    return {
        "GITHUB_TOKEN": "ghp_" + secrets.token_hex(18),
        "OPENAI_API_KEY": "sk-test-" + secrets.token_hex(16),
        "DB_PASSWORD": "pw-" + secrets.token_hex(8),
    }


def write(path: Path, source: str) -> Path:
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def processes_with(marker: str) -> list[int]:
    """Pids (in our view of /proc) whose command line mentions marker."""
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            try:
                if marker.encode() in Path(f"/proc/{name}/cmdline").read_bytes():
                    pids.append(int(name))
            except OSError:
                pass
    return pids


def wait_gone(marker: str, seconds: float = 2.0) -> list[int]:
    end = time.monotonic() + seconds
    while (left := processes_with(marker)) and time.monotonic() < end:
        time.sleep(0.05)
    return left


def test_probe_reports_a_level_and_runs_say_which(tmp_path: Path) -> None:
    iso = sandbox.isolation()
    assert iso.level in sandbox.LEVELS
    assert (iso.reason == "") == (iso.level == "namespaces")
    result = sandbox.run(["true"], cwd=tmp_path, timeout=10)
    assert result.ok and result.isolation == iso.level


def test_secrets_in_our_environment_never_reach_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = fake_secrets()
    for name, value in planted.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("INNOCENT_NAME", planted["GITHUB_TOKEN"])  # a token under a harmless name
    script = write(tmp_path / "hostile.py", HOSTILE)

    result = sandbox.run(
        [PY, str(script)], cwd=tmp_path, timeout=20, env={"SMUGGLED": planted["OPENAI_API_KEY"]}
    )

    assert result.ok, result.stderr
    found = (tmp_path / "found.txt").read_text()
    assert "== os.environ" in found and "\nPATH=" in found  # the script really looked
    assert "CODEGRAD" not in found.upper().split("== /PROC")[0]  # no tell in its environment
    assert "proxy" not in found.lower().split("== /proc")[0]
    for value in planted.values():
        assert value not in found
        assert value not in result.stdout + result.stderr


def test_secrets_of_codegrad_and_the_ci_shell_are_unreachable_through_proc(tmp_path: Path) -> None:
    """A CI shell holding tokens starts codegrad (tokens in its environ and argv); codegrad runs the hostile
    script twice: with isolation off (the control: it must find them) and at the best level (it must not)."""
    planted = fake_secrets()
    write(tmp_path / "hostile.py", HOSTILE)
    for name in ("control", "isolated"):
        (tmp_path / name).mkdir()
    driver = write(
        tmp_path / "driver.py",
        """
        import json, sys
        from pathlib import Path
        from codegrad.verify import sandbox
        root = Path(sys.argv[1])
        argv = [sys.executable, str(root / "hostile.py")]
        levels = {"control": "none", "isolated": None}
        out = {}
        for name, level in levels.items():
            r = sandbox.run(
                argv, cwd=root / name, timeout=20, isolation_level=level, readable=[Path(argv[1])]
            )
            out[name] = [r.returncode, r.isolation, r.stdout, r.stderr]
        print(json.dumps(out))
        """,
    )
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": CODEGRAD_SRC, **planted}
    shell = '"$1" "$2" "$3" --llm-api-key="$OPENAI_API_KEY"; echo shell-done'
    done = subprocess.run(
        ["sh", "-c", shell, "sh", PY, str(driver), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    runs = json.loads(done.stdout.splitlines()[0])
    control = (tmp_path / "control" / "found.txt").read_text()
    assert (
        runs["control"][0] == 0 and planted["GITHUB_TOKEN"] in control
    )  # the attack works unsandboxed
    assert all(value not in runs["control"][2] for value in planted.values())  # ... but is redacted

    if not sandbox.isolation().environ_isolated:
        pytest.skip(
            f"no user namespace here ({sandbox.isolation().reason}): same-uid environ is readable"
        )
    isolated = (tmp_path / "isolated" / "found.txt").read_text()
    assert runs["isolated"][0] == 0, runs["isolated"][3]
    for value in planted.values():
        assert value not in isolated
    if NAMESPACES:  # a fresh /proc: the child sees itself (pid 2) and its init, nothing of ours
        pid, _uid, readable = (tmp_path / "isolated" / "summary.txt").read_text().split(" ", 2)
        assert pid == "2"
        assert "/proc/1/cmdline" in isolated and "--llm-api-key" not in isolated
        assert json.loads(readable) == [2]


@pytest.mark.skipif(
    not NAMESPACES, reason=f"namespace isolation unavailable: {sandbox.isolation().reason}"
)
def test_the_private_proc_and_read_only_mounts_cannot_be_undone(tmp_path: Path) -> None:
    script = write(
        tmp_path / "unmount.py",
        """
        import ctypes, os, sys
        if os.getpid() != 2:
            sys.exit("refusing: not inside a private PID namespace")
        libc = ctypes.CDLL(None, use_errno=True)
        rc = libc.umount2(b"/proc", 2)  # MNT_DETACH
        mounted = libc.mount(b"proc", b"/tmp", b"proc", 0, None)
        remounted = libc.mount(None, b"/", None, 32 | 4096, None)  # MS_REMOUNT | MS_BIND, read-write
        print(rc, mounted, remounted, len([p for p in os.listdir("/proc") if p.isdigit()]))
        """,
    )
    result = sandbox.run([PY, str(script)], cwd=tmp_path, timeout=20)
    rc, mounted, remounted, visible = result.stdout.split()
    assert (rc, mounted, remounted) == ("-1", "-1", "-1"), result.stdout
    assert int(visible) <= 3  # init, the script (and nothing else)


@pytest.mark.skipif(not sandbox.isolation().readonly_fs, reason="no read-only file system here")
def test_only_cwd_home_and_named_paths_are_writable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work, outside, scratch = tmp_path / "work", tmp_path / "outside", tmp_path / "scratch"
    for folder in (work, outside, scratch, work / "runner"):
        folder.mkdir()
    monkeypatch.setenv(
        "GITHUB_ENV", str(work / "runner" / "set_env_1")
    )  # inside cwd, still protected
    package_dir = Path(sandbox.__file__).parent
    targets = {
        "cwd": work / "a.txt",
        "home": "$HOME/a.txt",
        "scratch": scratch / "a.txt",
        "outside": outside / "a.txt",
        "codegrad": package_dir / f"planted-{secrets.token_hex(4)}.py",
        "github_env": work / "runner" / "set_env_1",
    }
    script = "; ".join(
        f"(echo x >> {target} && echo {name}=ok || echo {name}=ro)"
        for name, target in targets.items()
    )
    try:
        result = sandbox.run(["sh", "-c", script], cwd=work, timeout=20, writable=[scratch])
    finally:
        Path(targets["codegrad"]).unlink(missing_ok=True)
    verdicts = dict(line.split("=") for line in result.stdout.split())
    assert verdicts == {
        "cwd": "ok",
        "home": "ok",
        "scratch": "ok",
        "outside": "ro",
        "codegrad": "ro",
        "github_env": "ro",
    }, result.stderr
    assert "Read-only file system" in result.stderr


def test_an_infinite_loop_gets_a_verdict_within_the_timeout(tmp_path: Path) -> None:
    result = sandbox.run([PY, "-c", "while True: pass"], cwd=tmp_path, timeout=1.0)
    assert result.timed_out and result.killed_by == "timeout" and not result.ok
    assert result.seconds < 1.0 + 1.0


@pytest.mark.parametrize("level", sorted({LEVEL, "none"}))
def test_a_sigterm_proof_tree_with_a_daemon_holding_stdout_is_killed_on_time(
    tmp_path: Path, level: str
) -> None:
    marker = f"cg-daemon-{secrets.token_hex(4)}"
    script = write(
        tmp_path / f"{marker}.py",
        """
        import os, signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # a grandchild in its own session, ignoring SIGTERM too, keeping our stdout open forever
        subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)", sys.argv[0]], start_new_session=True)
        print("spawned", flush=True)
        while True:
            time.sleep(0.01)
        """,
    )
    result = sandbox.run([PY, str(script)], cwd=tmp_path, timeout=1.5, isolation_level=level)
    assert result.timed_out and result.killed_by == "timeout"
    assert "spawned" in result.stdout
    assert result.seconds < 1.5 + 1.5
    assert wait_gone(marker) == []


@pytest.mark.parametrize("level", sorted({LEVEL, "none"}))
def test_background_jobs_die_when_the_command_ends(tmp_path: Path, level: str) -> None:
    marker = f"{1000 + secrets.randbelow(9000)}.{secrets.randbelow(1000)}"  # sleep's argument
    result = sandbox.run(
        ["sh", "-c", f"sleep {marker} & (setsid sleep {marker} &); echo ok"],
        cwd=tmp_path,
        timeout=10,
        isolation_level=level,
    )
    assert result.ok and result.stdout == "ok\n"
    assert result.seconds < 3
    assert wait_gone(f"sleep\0{marker}") == []


def test_unbounded_allocation_is_stopped_quickly(tmp_path: Path) -> None:
    code = "chunks = []\nwhile True: chunks.append(bytearray(16 * 1024 * 1024))"
    result = sandbox.run(
        [PY, "-c", code], cwd=tmp_path, timeout=20, limits=sandbox.Limits(memory_mb=256)
    )
    assert not result.ok and result.killed_by == "memory"
    assert result.seconds < 10


def test_a_cpu_limit_stops_a_busy_child_before_the_wall_clock(tmp_path: Path) -> None:
    limits = sandbox.Limits(cpu_seconds=1)
    result = sandbox.run([PY, "-c", "while True: pass"], cwd=tmp_path, timeout=15, limits=limits)
    assert result.killed_by == "cpu" and not result.timed_out
    assert result.seconds < 5


def test_filling_the_disk_is_stopped_by_the_file_size_limit(tmp_path: Path) -> None:
    code = "f = open('big.bin', 'wb')\nwhile True: f.write(b'x' * 65536)"
    limits = sandbox.Limits(file_size_mb=2)
    result = sandbox.run([PY, "-c", code], cwd=tmp_path, timeout=20, limits=limits)
    assert result.killed_by == "file-size" and not result.ok
    assert (tmp_path / "big.bin").stat().st_size <= 2 * 1024 * 1024


def test_a_child_printing_hundreds_of_megabytes_does_not_exhaust_our_memory(tmp_path: Path) -> None:
    code = "import sys\nb = b'z' * (1 << 20)\nfor _ in range(300): sys.stdout.buffer.write(b)\nprint('END')"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = sandbox.run([PY, "-c", code], cwd=tmp_path, timeout=30, output_limit=100_000)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert result.ok and result.truncated
    assert len(result.stdout) < 110_000 and result.stdout.endswith("END\n")
    assert "bytes of output truncated" in result.stdout
    assert grown_mb < 50


def test_a_fork_storm_is_contained_and_cleaned_up(tmp_path: Path) -> None:
    if not sandbox.isolation().process_cap:
        pytest.skip("no process cap here: root without a per-namespace pid_max (Linux >= 6.14)")
    marker = f"cg-forks-{secrets.token_hex(4)}"
    script = write(
        tmp_path / f"{marker}.py",
        """
        import os, time
        started = 0
        try:
            for _ in range(2000):
                if os.fork() == 0:
                    time.sleep(300)
                    os._exit(0)
                started += 1
        except OSError as exc:
            print("fork refused:", exc.errno)
        print("started", started)
        """,
    )
    limits = sandbox.Limits(max_processes=64)
    result = sandbox.run([PY, str(script)], cwd=tmp_path, timeout=30, limits=limits)
    assert "fork refused" in result.stdout, result.stdout + result.stderr
    started = int(result.stdout.split("started")[1])
    assert started < 2000
    assert wait_gone(marker) == []


def test_the_network_is_unreachable_even_on_loopback(tmp_path: Path) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    code = f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3).sendall(b"leak")
    print("connected")
except OSError as exc:
    print("blocked", exc.errno)
"""
    try:
        opened = sandbox.run([PY, "-c", code], cwd=tmp_path, timeout=20, network=True)
        assert opened.stdout.startswith(
            "connected"
        )  # control: the server is reachable when allowed
        server.accept()[0].close()
        if not sandbox.isolation().network_isolated:
            pytest.skip(f"no network namespace here: {sandbox.isolation().reason}")
        closed = sandbox.run([PY, "-c", code], cwd=tmp_path, timeout=20)
        assert closed.stdout.startswith("blocked"), closed.stdout + closed.stderr
        with pytest.raises(TimeoutError):
            server.accept()
    finally:
        server.close()


# A test suite's own localhost server: it listens and answers inside the sandbox. The interfaces and the
# routing table show what else the namespace could reach: nothing but `lo`, no route anywhere.
LOCAL_SERVER = r"""
import json, socket, threading
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
def answer():
    conn, _ = server.accept()
    conn.sendall(conn.recv(5).upper())
    conn.close()
threading.Thread(target=answer, daemon=True).start()
client = socket.create_connection(server.getsockname(), timeout=5)
client.sendall(b"hello")
routes = [line.split()[0] for line in open("/proc/net/route").read().splitlines()[1:]]
print(json.dumps({"reply": client.recv(5).decode(), "interfaces": [n for _, n in socket.if_nameindex()],
                  "routes": routes}))
"""


@pytest.mark.parametrize("level", ["namespaces", "userns"])
def test_loopback_works_inside_and_nothing_else_is_reachable(tmp_path: Path, level: str) -> None:
    if sandbox.LEVELS.index(LEVEL) < sandbox.LEVELS.index(level):
        pytest.skip(f"isolation level {level} unavailable: {sandbox.isolation().reason}")
    result = sandbox.run([PY, "-c", LOCAL_SERVER], cwd=tmp_path, timeout=20, isolation_level=level)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen == {"reply": "HELLO", "interfaces": ["lo"], "routes": []}


@pytest.mark.parametrize("level", ["none", "namespaces"])
def test_home_is_private_empty_writable_and_named_like_any_home(
    tmp_path: Path, level: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if level == "namespaces" and not NAMESPACES:
        pytest.skip(f"no namespaces here: {sandbox.isolation().reason}")
    real_home = tmp_path / "home" / "runner"
    real_home.mkdir(parents=True)
    (real_home / ".netrc").write_text("machine github.com password hunter2\n")
    monkeypatch.setenv("HOME", str(real_home))
    code = (
        "import os, pathlib, tempfile; h = pathlib.Path(os.environ['HOME']); (h / 'dotfile').write_text('x');"
        "print(h, tempfile.gettempdir(), os.access(h, os.W_OK), sorted(os.listdir(h)))"
    )
    (tmp_path / "cwd").mkdir()
    result = sandbox.run([PY, "-c", code], cwd=tmp_path / "cwd", timeout=20, isolation_level=level)
    home, tmpdir, writable, listing = result.stdout.strip().split(maxsplit=3)
    assert result.ok and writable == "True", result.stdout
    assert listing == ("['dotfile']" if level == "namespaces" else "['dotfile', 'tmp']")
    assert "codegrad" not in home and "codegrad" not in tmpdir
    if level == "namespaces":  # the user's own HOME path, empty and private; the real one untouched
        assert home == str(real_home) and tmpdir == "/tmp"
        assert sorted(p.name for p in real_home.iterdir()) == [".netrc"]
    else:  # a fresh temporary folder, gone afterwards
        assert home != str(real_home) and tmpdir == f"{home}/tmp"
        assert not Path(home).exists()


def test_codegrad_runners_and_project_tests_work_inside(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    write(
        project / "test_inside.py",
        """
        import os
        import hypothesis
        from codegrad.runners import loader, values

        def test_tmp_and_imports(tmp_path):
            (tmp_path / "f.txt").write_text("ok")
            assert not any("CODEGRAD" in name.upper() for name in os.environ)
            assert values.equivalent([1.0], [1.0]) and callable(loader.load_module)
        """,
    )
    env = {"PYTHONPATH": codegrad_pythonpath(), "PYTHONHASHSEED": "0"}
    argv = sandbox.python_argv("-m", "pytest", "-q", "-p", "no:cacheprovider", "test_inside.py")
    result = sandbox.run(argv, cwd=project, timeout=60, env=env)
    assert result.ok, result.stdout[-2000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout


def test_registered_secrets_are_redacted_from_child_output(tmp_path: Path) -> None:
    token = "tok-" + secrets.token_hex(12)
    sandbox.register_secret(token)
    code = f"import base64; print({token!r}); print(base64.b64encode(b'x-access-token:{token}').decode())"
    result = sandbox.run([PY, "-c", code], cwd=tmp_path, timeout=20)
    assert result.ok and token not in result.stdout
    assert result.stdout.count(sandbox.REDACTED) == 2


def test_a_missing_program_or_cwd_is_a_result_not_an_exception(tmp_path: Path) -> None:
    missing = sandbox.run(["no-such-program-xyz"], cwd=tmp_path, timeout=5)
    assert missing.returncode == 127 and "no-such-program-xyz" in missing.stderr
    nowhere = sandbox.run(["true"], cwd=tmp_path / "absent", timeout=5)
    assert nowhere.returncode == 127 and not nowhere.ok


def test_harden_self_hides_codegrad_environ_from_same_uid_children(tmp_path: Path) -> None:
    """Degraded mode (no namespaces), same uid, no capabilities: only non-dumpable codegrad is safe."""
    drop_caps = ["setpriv", "--bounding-set=-all", "--inh-caps=-all"] if os.geteuid() == 0 else []
    if drop_caps and shutil.which("setpriv") is None:
        pytest.skip("needs setpriv to shed root's capabilities")
    reader = write(
        tmp_path / "reader.py",
        "import sys\ntry:\n    print(open(f'/proc/{sys.argv[1]}/environ', 'rb').read().count(b'HARDEN_ME'))\n"
        "except OSError as exc:\n    print('denied', exc.errno)\n",
    )
    launcher = (
        "import os, sys\nfrom codegrad.verify import sandbox\n"
        "hardened = sandbox.harden_self() if sys.argv[1] == 'yes' else False\n"
        "r = sandbox.run([sys.executable, sys.argv[2], str(os.getpid())], cwd=sandbox.Path(sys.argv[3]),"
        " timeout=20, isolation_level='none')\n"
        "print(hardened, sandbox.is_dumpable(), r.stdout.strip())"
    )
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": CODEGRAD_SRC, "HARDEN_ME": "x"}
    outputs = {}
    for choice in ("no", "yes"):
        argv = [*drop_caps, PY, "-c", launcher, choice, str(reader), str(tmp_path)]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=True)
        outputs[choice] = done.stdout.strip()
    assert outputs["no"] == "False True 1"  # readable: the secret-bearing environ leaks
    assert outputs["yes"].startswith("True False denied")


def test_stdin_is_fed_and_closed(tmp_path: Path) -> None:
    code = "import sys; data = sys.stdin.read(); print(len(data), data[:5])"
    result = sandbox.run([PY, "-c", code], cwd=tmp_path, timeout=20, stdin="hello" * 100_000)
    assert result.ok and result.stdout.split() == ["500000", "hello"]


def test_a_degraded_probe_warns_once_and_is_cached(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    before = sandbox.isolation().level
    monkeypatch.setenv("CODEGRAD_NO_UNSHARE", "1")
    try:
        with caplog.at_level(logging.WARNING, logger="codegrad.verify.sandbox"):
            degraded = sandbox.isolation(refresh=True)
            assert sandbox.isolation() is degraded  # cached: no second probe, no second warning
        assert degraded.level == "none" and "CODEGRAD_NO_UNSHARE" in degraded.reason
        warnings = [r for r in caplog.records if "isolation degraded" in r.getMessage()]
        assert len(warnings) == 1
    finally:
        monkeypatch.undo()
        assert sandbox.isolation(refresh=True).level == before


FILE_THIEF = r"""
import json, os, sys
places = json.loads(sys.argv[1])
seen = {}
for path in places:
    try:
        with open(path) as f:
            seen[path] = f.read()
    except OSError as exc:
        seen[path] = "denied: %s" % exc.strerror
writes = {}
for path in json.loads(sys.argv[2]):
    try:
        with open(os.path.join(path, "planted-by-pr"), "w") as f:
            f.write("x")
        writes[path] = "written"
    except OSError as exc:
        writes[path] = exc.strerror
print(json.dumps({"seen": seen, "writes": writes, "home": os.environ["HOME"], "tmp": sorted(os.listdir("/tmp"))}))
"""


@pytest.mark.skipif(not NAMESPACES, reason=f"no namespaces here: {sandbox.isolation().reason}")
def test_credential_files_are_out_of_sight_and_the_interpreter_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, temp, workspace = (
        tmp_path / "home",
        tmp_path / "work" / "_temp",
        tmp_path / "work" / "r" / "r",
    )
    for folder in (home, temp / "_github_workflow", workspace / ".git"):
        folder.mkdir(parents=True)
    planted = {
        home / ".git-credentials": "home credential hunter2",
        temp / "git-credentials-0.config": "[http] extraheader = AUTHORIZATION: basic c2VjcmV0",
        temp / "_github_workflow" / "event.json": '{"secret": "hunter2-event"}',
        workspace / ".git" / "config": "[http] extraheader = AUTHORIZATION: basic aHVudGVy",
        workspace / ".env": "API_KEY=hunter2-dotenv",
        tmp_path / "elsewhere-in-tmp.txt": "hunter2-tmp",
        Path("/dev/shm") / f"codegrad-test-{secrets.token_hex(4)}": "hunter2-shm",
    }
    for path, text in planted.items():
        path.write_text(text)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("RUNNER_TEMP", str(temp))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(workspace))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(temp / "_github_workflow" / "event.json"))
    cwd = tmp_path / "export"
    cwd.mkdir()
    script = write(cwd / "thief.py", FILE_THIEF)
    runners = Path(codegrad_pythonpath())
    pythons = [Path(p) for p in sandbox.fsview.interpreter_dirs(PY)]
    try:
        for level, hidden in (("none", False), (None, True)):  # control first: it can read them
            result = sandbox.run(
                [
                    PY,
                    str(script),
                    json.dumps([str(p) for p in planted]),
                    json.dumps([str(p) for p in (cwd, runners, *pythons)]),
                ],
                cwd=cwd,
                timeout=30,
                isolation_level=level,
                env={"PYTHONPATH": str(runners)},
            )
            report = json.loads(result.stdout)
            for path, text in planted.items():
                assert (report["seen"][str(path)] == text) is not hidden, (
                    level,
                    path,
                    report["seen"],
                )
            if hidden:
                assert report["home"] == str(home) and report["writes"][str(cwd)] == "written"
                assert report["writes"][str(runners)] == "Read-only file system"
                for folder in pythons:  # wherever the interpreter lives (even under HOME)
                    assert report["writes"][str(folder)] == "Read-only file system", folder
                # /tmp shows only what the run needs: its folder, codegrad's runners, and the
                # interpreter when it lives there too (a checkout under /tmp)
                needed = (str(cwd), str(runners), *map(str, pythons))
                assert report["tmp"] == sorted(
                    {p.split("/")[2] for p in needed if p.startswith("/tmp/")}
                )
                assert not any((f / "planted-by-pr").exists() for f in (runners, *pythons))
            for folder in (runners, *pythons):  # the control could write there
                (folder / "planted-by-pr").unlink(missing_ok=True)
    finally:
        for path in planted:
            path.unlink(missing_ok=True)
        for folder in (runners, *pythons):
            (folder / "planted-by-pr").unlink(missing_ok=True)
