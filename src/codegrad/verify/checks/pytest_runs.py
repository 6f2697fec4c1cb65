"""Running the project's pytest in the sandbox: the tree scan, the scratch files and options, one run, reruns of named tests."""

from __future__ import annotations

import dataclasses
import json
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codegrad.errors import UsageError
from codegrad.verify import hypothesis_cache, interpreter, project_env, sandbox
from codegrad.verify.checks import suite_log
from codegrad.verify.checks import testselect as ts
from codegrad.verify.checks.base import CheckContext, codegrad_pythonpath
from codegrad.verify.checks.pytest_plugin import (
    PLUGIN_MODULE,
    PLUGIN_SOURCE,
    WATCH_MODULE,
    watch_source,
)

_PRUNE = frozenset({"node_modules", "__pycache__", "site-packages", "venv", "env", "build", "dist"})
_CONFIGS = ("pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini")
RECORD_PLUGIN = "codegrad.runners.record_plugin"
RECORD_MAX_BYTES = 32 * 1024 * 1024  # of a recording read back (the recorder bounds what it writes)


# ---------------------------------------------------------------- small I/O helpers


def _is_test_file(name: str) -> bool:
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


@dataclass(frozen=True)
class TreeScan:
    """What a cheap look at a tree tells before pytest starts."""

    has_tests: bool  # pytest could find tests by its default rules (or discovery is customised)
    uses_hypothesis: bool  # a test file, conftest or config mentions hypothesis


def scan_tree(root: Path, read_limit: int = 2000) -> TreeScan:
    """Walk the tree once (skipping hidden, virtualenv and build folders) and read test files."""
    found = hypothesis = False
    for name in _CONFIGS:
        config = root / name
        if config.is_file():
            text = config.read_text(encoding="utf-8", errors="replace")
            found = found or "python_files" in text or "doctest-modules" in text
            hypothesis = hypothesis or "hypothesis" in text
    read = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in _PRUNE]
        for name in filenames:
            if not (_is_test_file(name) or name == "conftest.py"):
                continue
            found = found or _is_test_file(name)
            if not hypothesis:
                read += 1
                hypothesis = read > read_limit or "hypothesis" in (Path(dirpath) / name).read_text(
                    encoding="utf-8", errors="replace"
                )
        if found and hypothesis:
            break
    return TreeScan(found, hypothesis)


def tree_options(scan: TreeScan) -> tuple[str, ...]:
    """pytest options a tree allows: hypothesis's plugin costs a second at start-up; unused, it stays off."""
    return () if scan.uses_hypothesis else ("-p", "no:hypothesispytest")


def absolute_interpreter(command: ts.ProjectCommand, repo: Path | None) -> ts.ProjectCommand:
    """The command with a relative interpreter path made absolute against the repository; a path that
    is not an executable is the user's mistake."""
    if not command.is_pytest or "/" not in command.interpreter[0]:
        return command
    exe = Path(command.interpreter[0])
    if not exe.is_absolute():
        exe = (repo or Path.cwd()) / exe
    if not (exe.is_file() and os.access(exe, os.X_OK)):
        raise UsageError(
            f"test-command: the Python {command.interpreter[0]!r} is not an executable file "
            f"(looked at {exe}); give the interpreter of the project's environment, "
            "e.g. '.venv/bin/python -m pytest', or plain 'python -m pytest'"
        )
    interp = (str(exe), *command.interpreter[1:])
    return dataclasses.replace(
        command, argv=(*interp, "-m", "pytest", *command.pytest_args), interpreter=interp
    )


def project_command(ctx: CheckContext) -> ts.ProjectCommand:
    """The configured test command, its interpreter path absolute."""
    command = ts.parse_test_command(ctx.settings.test_command, interpreter.project_python())
    return absolute_interpreter(command, ctx.workspace.repo_root)


def on_base(base_root: Path, nodeid: str) -> bool:
    """Whether base has this test: its file, and (when the file parses) its top-level name."""
    path = base_root / ts.nodeid_path(nodeid)
    if not path.is_file():
        return False
    if path.suffix != ".py":
        return True
    names = ts.defined_names(path.read_text(encoding="utf-8", errors="replace"))
    first = ts.nodeid_name(nodeid).partition("[")[0].split(".", 1)[0]
    return names is None or not first or first in names


@dataclass(frozen=True)
class RunFiles:
    """The scratch files of one pytest run: the plugin, its watch module and options, its log, the dump."""

    folder: Path

    @classmethod
    def create(cls, scratch: Path, tag: str) -> RunFiles:
        folder = scratch / f"project-tests-{tag}-{uuid.uuid4().hex[:8]}"
        folder.mkdir(parents=True)
        (folder / f"{PLUGIN_MODULE}.py").write_text(PLUGIN_SOURCE, encoding="utf-8")
        (folder / f"{WATCH_MODULE}.py").write_text(watch_source(), encoding="utf-8")
        return cls(folder)

    @property
    def progress(self) -> Path:
        return self.folder / "progress.jsonl"

    @property
    def dump(self) -> Path:
        return self.folder / "hang.txt"

    @property
    def options(self) -> Path:
        return self.folder / f"{PLUGIN_MODULE}.json"

    @property
    def record_spec(self) -> Path:
        return self.folder / "record.json"

    @property
    def calls(self) -> Path:
        return self.folder / "calls.jsonl"

    def read_calls(self) -> str:
        """What the recorder wrote (bounded, redacted; empty when nothing)."""
        try:
            with self.calls.open(encoding="utf-8", errors="replace") as handle:
                return sandbox.redact(handle.read(RECORD_MAX_BYTES))
        except OSError:
            return ""

    def read(self, path: Path) -> str:
        try:
            return sandbox.redact(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return ""

    def scrub(self, text: str, root: Path) -> str:
        return text.replace(str(self.folder), "<scratch>").replace(str(root) + "/", "")


@dataclass(frozen=True)
class Watching:
    """What the plugin watches in one run: changed functions, per-test limits, a skip list, stopping."""

    functions: tuple[dict[str, object], ...] = ()  # {"key", "file" (absolute), "line" (of the def)}
    default_limit: float | None = None
    limits: Mapping[str, float] | None = None
    stop_on_hang: bool = False
    skip: tuple[str, ...] = ()

    def options(self) -> dict[str, object]:
        return {
            "functions": list(self.functions),
            "limits": {"default": self.default_limit, "tests": dict(self.limits or {})},
            "stop_on_hang": self.stop_on_hang,
            "skip": list(self.skip),
        }


def run_env(
    root: Path, files: RunFiles, dump_at: float | None = None, watching: Watching | None = None
) -> dict[str, str]:
    """The run's environment (its import path) and the plugin's options file beside it."""
    paths = [str(files.folder)]
    if (root / "src").is_dir():
        paths.append(str(root / "src"))  # src layout: the tree's own package beats an installed one
    paths.append(str(root))
    options: dict[str, object] = {
        "progress": str(files.progress),
        **(watching or Watching()).options(),
    }
    if dump_at is not None:
        options.update(dump=str(files.dump), at=f"{dump_at:.3f}")
    # the plugin reads these beside itself: the environment names nothing of codegrad's
    files.options.write_text(json.dumps(options), encoding="utf-8")
    return {"PYTHONPATH": os.pathsep.join(paths), "PYTHONHASHSEED": "0"}


def run_sandboxed(
    argv: Sequence[str],
    root: Path,
    env: Mapping[str, str],
    ctx: CheckContext,
    timeout: float | None = None,
) -> sandbox.RunResult:
    return sandbox.run(
        argv,
        cwd=root,
        timeout=timeout if timeout is not None else ctx.timeout(ctx.settings.test_timeout),
        limits=sandbox.Limits(memory_mb=ctx.settings.memory_mb),
        env=env,
        writable=[ctx.scratch],
        readable=ctx.workspace.trees,
    )


def timed_out(process: sandbox.RunResult) -> bool:
    return process.timed_out or process.killed_by in ("timeout", "cpu")


# ---------------------------------------------------------------- running pytest


def _pytest_options(
    root: Path, files: RunFiles, clear_addopts: bool, extra: Sequence[str]
) -> list[str]:
    options = [
        f"--rootdir={root}",  # node ids relative to the tree, whatever ini file pytest picks
        "--tb=short",
        "-o", f"cache_dir={files.folder / 'pytest-cache'}",  # nothing written into the tree
        "-o", "faulthandler_timeout=0",  # ours is the one pending stack dump
        "-p", PLUGIN_MODULE,
    ]  # fmt: skip
    if clear_addopts:
        options += ["-o", "addopts="]
    return [*options, *extra, *project_env.plugin_overrides()]


def _recording(
    files: RunFiles, record: Mapping[str, object], ctx: CheckContext, env: dict[str, str]
) -> list[str]:
    """The recorder in this run too (its spec beside the run's files): its options; env gains
    codegrad's runners on the import path (last) and the review's Hypothesis storage."""
    spec = {**record, "out": str(files.calls)}
    files.record_spec.write_text(json.dumps(spec), encoding="utf-8")
    env["PYTHONPATH"] += os.pathsep + codegrad_pythonpath()
    env["HYPOTHESIS_STORAGE_DIRECTORY"] = str(hypothesis_cache.storage_for(ctx.scratch))
    return ["-p", RECORD_PLUGIN, f"--codegrad-record={files.record_spec}"]


@dataclass(frozen=True)
class PytestRun:
    """One pytest process and what its log says."""

    process: sandbox.RunResult
    log: suite_log.SuiteLog
    files: RunFiles
    timeout: float  # seconds it was given
    recorded: str = ""  # what the recorder wrote, when it ran too

    @property
    def output(self) -> str:
        return self.process.stdout + "\n" + self.process.stderr


def usage_error(process: sandbox.RunResult) -> bool:
    text = process.stderr + process.stdout
    return process.returncode == 4 and (
        "unrecognized arguments" in text or "error: argument" in text
    )


def run_pytest(
    command: ts.ProjectCommand,
    args: Sequence[str],
    ctx: CheckContext,
    root: Path,
    *,
    tag: str,
    clear_addopts: bool,
    extra: Sequence[str] = (),
    watching: Watching | None = None,
    dump: bool = False,
    record: Mapping[str, object] | None = None,
) -> PytestRun:
    """`pytest ARGS` in root under codegrad's plugin (and the recorder, given its spec: the
    recording plugin's targets); the log read back with paths relative to root."""
    files = RunFiles.create(ctx.scratch, tag)
    timeout = ctx.timeout(ctx.settings.test_timeout)
    argv = [*command.interpreter, "-m", "pytest", *args]
    argv += _pytest_options(root, files, clear_addopts, extra)
    dump_at = time.time() + timeout - min(2.0, timeout * 0.25) if dump else None
    env = run_env(root, files, dump_at, watching)
    if record is not None:
        argv += _recording(files, record, ctx, env)
    process = run_sandboxed(argv, root, env, ctx, timeout)
    log = suite_log.parse_log(files.read(files.progress), str(root))
    recorded = files.read_calls() if record is not None else ""
    return PytestRun(process, log, files, timeout, recorded)


def rerun_log(
    command: ts.ProjectCommand,
    nodeids: Sequence[str],
    ctx: CheckContext,
    root: Path,
    *,
    clear_addopts: bool,
    tag: str,
    extra: Sequence[str] = (),
    watching: Watching | None = None,
) -> suite_log.SuiteLog | None:
    """Run only these tests in root and read its log; None when the rerun itself did not finish.

    Node ids that root does not have are left out.
    """
    ids = list(nodeids)
    options = ts.rerun_options(command.pytest_args)
    for attempt in range(2):
        run = run_pytest(
            command, [*options, "--", *ids], ctx, root, tag=tag,
            clear_addopts=clear_addopts, extra=extra, watching=watching,
        )  # fmt: skip
        if timed_out(run.process):
            return None
        missing = ts.not_found(run.output, str(root))
        if run.process.returncode == 4 and missing and attempt == 0:
            ids = [i for i in ids if i not in missing]
            if not ids:
                return suite_log.SuiteLog()
            continue
        break
    return run.log


def rerun(
    command: ts.ProjectCommand,
    nodeids: Sequence[str],
    ctx: CheckContext,
    root: Path,
    *,
    clear_addopts: bool,
    tag: str,
    extra: Sequence[str] = (),
    watching: Watching | None = None,
) -> dict[str, ts.CaseResult] | None:
    """Node id (or module path, for a collection error) -> result of running only these tests in root."""
    log = rerun_log(
        command, nodeids, ctx, root, clear_addopts=clear_addopts, tag=tag, extra=extra,
        watching=watching,
    )  # fmt: skip
    return None if log is None else {c.nodeid: c for c in log.cases}
