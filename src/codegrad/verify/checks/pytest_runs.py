"""Running the project's pytest suite in the sandbox: the tree scan, the scratch files, the coverage run, reruns."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codegrad.model import Target
from codegrad.verify import project_env, sandbox
from codegrad.verify.checks import testselect as ts
from codegrad.verify.checks.base import CheckContext
from codegrad.verify.checks.pytest_plugin import COVERAGE_RC, PLUGIN_MODULE, PLUGIN_SOURCE

_PRUNE = frozenset({"node_modules", "__pycache__", "site-packages", "venv", "env", "build", "dist"})
_CONFIGS = ("pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini")


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
    """The scratch files of one pytest run (plugin, coverage rc and data, junit, progress, dump)."""

    folder: Path

    @classmethod
    def create(cls, scratch: Path, tag: str) -> RunFiles:
        folder = scratch / f"project-tests-{tag}-{uuid.uuid4().hex[:8]}"
        folder.mkdir(parents=True)
        (folder / f"{PLUGIN_MODULE}.py").write_text(PLUGIN_SOURCE, encoding="utf-8")
        return cls(folder)

    @property
    def junit(self) -> Path:
        return self.folder / "junit.xml"

    @property
    def rc(self) -> Path:
        return self.folder / "coveragerc"

    @property
    def coverage(self) -> Path:
        return self.folder / "coverage.data"

    @property
    def progress(self) -> Path:
        return self.folder / "progress.jsonl"

    @property
    def dump(self) -> Path:
        return self.folder / "hang.txt"

    def read(self, path: Path) -> str:
        try:
            return sandbox.redact(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return ""

    def scrub(self, text: str, root: Path) -> str:
        return text.replace(str(self.folder), "<scratch>").replace(str(root) + "/", "")


def run_env(root: Path, files: RunFiles, dump_at: float | None = None) -> dict[str, str]:
    """The run's environment (its import path) and the plugin's options file (progress, hang dump)."""
    paths = [str(files.folder)]
    if (root / "src").is_dir():
        paths.append(str(root / "src"))  # src layout: the tree's own package beats an installed one
    paths.append(str(root))
    options: dict[str, str] = {"progress": str(files.progress)}
    if dump_at is not None:
        options.update(dump=str(files.dump), at=f"{dump_at:.3f}")
    # the plugin reads these beside itself: the environment names nothing of codegrad's
    (files.folder / f"{PLUGIN_MODULE}.json").write_text(json.dumps(options), encoding="utf-8")
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
        f"--junitxml={files.junit}",
        "-o", "junit_family=xunit1",  # keeps the file attribute, so node ids can be rebuilt
        "--tb=short",
        "-o", f"cache_dir={files.folder / 'pytest-cache'}",  # nothing written into the tree
        "-o", "faulthandler_timeout=0",  # ours is the one pending stack dump
        "-p", PLUGIN_MODULE,
    ]  # fmt: skip
    if clear_addopts:
        options += ["-o", "addopts="]
    return [*options, *extra, *project_env.plugin_overrides()]


@dataclass(frozen=True)
class SuiteRun:
    """One run of the project's pytest suite and what it left behind."""

    process: sandbox.RunResult
    cases: tuple[ts.CaseResult, ...]
    progress: ts.Progress
    files: RunFiles
    clear_addopts: bool
    timeout: float  # seconds the run was given

    @property
    def output(self) -> str:
        return self.process.stdout + "\n" + self.process.stderr


def _usage_error(process: sandbox.RunResult) -> bool:
    text = process.stderr + process.stdout
    return process.returncode == 4 and (
        "unrecognized arguments" in text or "error: argument" in text
    )


def run_suite(
    command: ts.ProjectCommand,
    targets: Sequence[Target],
    ctx: CheckContext,
    root: Path,
    extra: Sequence[str] = (),
) -> SuiteRun:
    """The whole suite under coverage with per-test contexts; without the project's addopts if they break it."""
    files = RunFiles.create(ctx.scratch, "head")
    include = "\n".join(f"    {root / path}" for path in sorted({t.path for t in targets}))
    files.rc.write_text(COVERAGE_RC.format(include=include), encoding="utf-8")
    for clear in (False, True):
        timeout = ctx.timeout(ctx.settings.test_timeout)
        cov = ["-m", "coverage", "run", f"--rcfile={files.rc}", f"--data-file={files.coverage}"]
        argv = [*command.interpreter, *cov, "-m", "pytest", *command.pytest_args]
        argv += ["--continue-on-collection-errors", *_pytest_options(root, files, clear, extra)]
        dump_at = time.time() + timeout - min(2.0, timeout * 0.25)
        for stale in (files.junit, files.progress, files.dump, files.coverage):
            stale.unlink(missing_ok=True)
        process = run_sandboxed(argv, root, run_env(root, files, dump_at), ctx, timeout)
        if clear or not _usage_error(process):
            break
    cases = ts.merge_cases(ts.parse_junit(files.read(files.junit)))
    progress = ts.parse_progress(files.read(files.progress))
    return SuiteRun(process, tuple(cases), progress, files, clear, timeout)


def rerun(
    command: ts.ProjectCommand,
    nodeids: Sequence[str],
    ctx: CheckContext,
    root: Path,
    *,
    clear_addopts: bool,
    tag: str,
    extra: Sequence[str] = (),
) -> dict[str, ts.CaseResult] | None:
    """Run only these tests in root; node id (or module path, for a collection error) -> result.

    None when the rerun itself did not finish. Node ids that root does not have are left out.
    """
    files = RunFiles.create(ctx.scratch, tag)
    ids = list(nodeids)
    options = ts.rerun_options(command.pytest_args)
    for attempt in range(2):
        files.junit.unlink(missing_ok=True)
        argv = [*command.interpreter, "-m", "pytest", *options]
        argv += [*_pytest_options(root, files, clear_addopts, extra), "--", *ids]
        process = run_sandboxed(argv, root, run_env(root, files), ctx)
        if timed_out(process):
            return None
        missing = ts.not_found(process.stdout + process.stderr, str(root))
        if process.returncode == 4 and missing and attempt == 0:
            ids = [i for i in ids if i not in missing]
            if not ids:
                return {}
            continue
        break
    return {c.nodeid: c for c in ts.merge_cases(ts.parse_junit(files.read(files.junit)))}
