"""Run the project's pytest suite in the sandbox with the recording plugin, on head and on base.

Head runs its whole suite (stopping early once every target has all the calls it keeps); base runs only
the test files that the change removed or edited, since the others call the functions the same way on
both sides. The recordings are JSON lines in the scratch folder (runners.recorder writes them).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codegrad.model import Target
from codegrad.verify import hypothesis_cache, interpreter, project_env, sandbox
from codegrad.verify.checks import shared_suite
from codegrad.verify.checks import testselect as ts
from codegrad.verify.checks.base import CheckContext, codegrad_pythonpath
from codegrad.verify.checks.pytest_runs import run_sandboxed, scan_tree, timed_out, tree_options
from codegrad.verify.inputs import recorded_calls

PLUGIN = "codegrad.runners.record_plugin"
MAX_BYTES = 32 * 1024 * 1024  # of a recording read back (the recorder bounds what it writes)
_PRUNE = frozenset({"node_modules", "__pycache__", "site-packages", "venv", "env", "build", "dist"})


@dataclass(frozen=True)
class RecordRun:
    """One recording run: what the process did and what it wrote."""

    side: str
    process: sandbox.RunResult | None  # None: nothing to run on this side
    text: str

    @property
    def timed_out(self) -> bool:
        return self.process is not None and timed_out(self.process)


def record_spec(
    targets: Sequence[Target],
    root: Path,
    *,
    base: bool,
    stop_when_full: bool,
    consume_iterators: bool = True,
) -> dict[str, object]:
    """The recorder's spec: which function of which file each target is on this side, and whether
    it may take an iterator argument's items before the function does (not while the suite's own
    results count: a test of laziness would see its iterator drained)."""
    entries = []
    for target in targets:
        path = (target.base_path or target.path) if base else target.path
        entries.append(
            {
                "key": target.key,
                "file": str((root / path).resolve()),
                "qualname": target.qualname,
                "kind": target.kind,
            }
        )
    return {
        "targets": entries,
        "stop_when_full": stop_when_full,
        "consume_iterators": consume_iterators,
    }


def _is_test_file(name: str) -> bool:
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def test_files(root: Path) -> dict[str, bytes]:
    """Repo-relative path -> content of every test file pytest would find by its default names."""
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in _PRUNE]
        for name in filenames:
            if _is_test_file(name):
                path = Path(dirpath) / name
                try:
                    out[path.relative_to(root).as_posix()] = path.read_bytes()
                except OSError:
                    continue
    return out


def changed_test_files(base_root: Path, head_root: Path) -> list[str]:
    """Base's test files that head removed or edited (their calls exist only in base's suite)."""
    base, head = test_files(base_root), test_files(head_root)
    return sorted(path for path, content in base.items() if head.get(path) != content)


def run_recording(
    targets: Sequence[Target],
    ctx: CheckContext,
    root: Path,
    *,
    side: str,
    paths: Sequence[str] | None = None,
) -> RecordRun:
    """Run pytest in root with the recorder (only `paths` when given) and return what it wrote."""
    command = ts.parse_test_command(ctx.settings.test_command, interpreter.project_python())
    folder = ctx.scratch / f"recorded-{side}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    spec, out = folder / "spec.json", folder / "calls.jsonl"
    made = record_spec(targets, root, base=side == "base", stop_when_full=paths is None)
    spec.write_text(json.dumps({**made, "out": str(out)}), encoding="utf-8")
    options = ts.rerun_options(command.pytest_args) if paths is not None else command.pytest_args
    argv = [*command.interpreter, "-m", "pytest", *options, *_options(root, folder)]
    argv += [f"--codegrad-record={spec}", *tree_options(scan_tree(root))]
    argv += project_env.plugin_overrides()
    if paths is not None:
        argv += ["--", *paths]
    env = {
        "PYTHONPATH": os.pathsep.join(_pythonpath(root)),
        "PYTHONHASHSEED": "0",
        "HYPOTHESIS_STORAGE_DIRECTORY": str(hypothesis_cache.storage_for(ctx.scratch)),
    }
    process = run_sandboxed(argv, root, env, ctx)
    try:
        with out.open(encoding="utf-8", errors="replace") as handle:
            text = sandbox.redact(handle.read(MAX_BYTES))
    except OSError:
        text = ""
    return RecordRun(side, process, text)


def _pythonpath(root: Path) -> list[str]:
    paths = [str(root / "src")] if (root / "src").is_dir() else []
    return [*paths, str(root), codegrad_pythonpath()]


def _options(root: Path, folder: Path) -> list[str]:
    return [
        f"--rootdir={root}",
        "-q",
        "--continue-on-collection-errors",
        "-o", f"cache_dir={folder / 'pytest-cache'}",
        "-p", PLUGIN,
    ]  # fmt: skip


_CACHE: dict[tuple[str, str], tuple[frozenset[str], recorded_calls.Recording]] = {}


def suite_fingerprint(root: Path) -> str:
    """A hash of a tree's test files: trees with the same tests make the same calls."""
    digest = hashlib.sha256()
    for path, content in sorted(test_files(root).items()):
        digest.update(path.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()


def cached(ctx: CheckContext) -> recorded_calls.Recording | None:
    """The recording the recorded check made for this tree and base, if it ran already."""
    if not _CACHE:
        return None
    base = str(ctx.workspace.base_root.resolve()) if ctx.workspace.base_root else ""
    found = _CACHE.get((base, suite_fingerprint(ctx.workspace.head_root.resolve())))
    return found[1] if found else None


def known_values(ctx: CheckContext, target: Target) -> dict[str, list[object]]:
    """The plain values the project's tests passed to target, per parameter (empty when none)."""
    found = cached(ctx)
    if found is None:
        return {}
    return recorded_calls.values_by_name(target, found.for_key(target.key))


def record_cached(
    targets: Sequence[Target], ctx: CheckContext, suite_targets: Sequence[Target] = ()
) -> tuple[recorded_calls.Recording, list[RecordRun]]:
    """record(), reused for a tree with the same tests and base (the refinement's candidates: only
    the function changed, so the tests make the calls they made on head)."""
    base = str(ctx.workspace.base_root.resolve()) if ctx.workspace.base_root else ""
    key = (base, suite_fingerprint(ctx.workspace.head_root.resolve()))
    wanted = frozenset(t.key for t in targets)
    cached = _CACHE.get(key)
    if cached is not None and wanted <= cached[0]:
        return cached[1], []
    recording, runs = record(targets, ctx, suite_targets)
    _CACHE.clear()  # one review at a time: keep the latest only
    _CACHE[key] = (wanted, recording)
    return recording, runs


def record(
    targets: Sequence[Target], ctx: CheckContext, suite_targets: Sequence[Target] = ()
) -> tuple[recorded_calls.Recording, list[RecordRun]]:
    """Head's whole suite, then base's removed or edited test files, parsed into one recording.

    On head the recorder rides in project-tests' run of the suite (watching `suite_targets`) when
    that check is configured: the suite runs once for both."""
    keys = [t.key for t in targets]
    head_root = ctx.workspace.head_root.resolve()
    runs = [_record_head(targets, ctx, head_root, suite_targets)]
    recording = recorded_calls.parse(runs[0].text, "head", keys)
    base_root = ctx.workspace.base_root
    on_base = [t for t in targets if t.base_source is not None]
    if base_root is not None and on_base and ctx.remaining() > 5:
        paths = changed_test_files(base_root.resolve(), head_root)
        if paths:
            runs.append(run_recording(on_base, ctx, base_root.resolve(), side="base", paths=paths))
            recorded_calls.parse(runs[-1].text, "base", keys, into=recording)
    return recording, runs


def _record_head(
    targets: Sequence[Target], ctx: CheckContext, root: Path, suite_targets: Sequence[Target]
) -> RecordRun:
    """Head's recording: in project-tests' run of the suite when it runs one, else a run of its own."""
    if suite_targets:
        made = record_spec(targets, root, base=False, stop_when_full=False, consume_iterators=False)
        suite = shared_suite.run_with_recorder(suite_targets, made, ctx)
        if suite is not None:
            return RecordRun("head", suite.process, suite.recorded)
    return run_recording(targets, ctx, root, side="head")
