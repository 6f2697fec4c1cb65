"""Inside the project's pytest process: which changed functions each test enters, and a watchdog that ends a test past its limit.

Copied beside codegrad's pytest plugin (as `codegrad_suite_watch`) and imported by it; stdlib only.
Entry into a changed function is recorded by a statement put at the top of its body when its module
is imported (an import hook that rewrites only the changed files), so the rest of the suite runs at
full speed: no tracer, no per-line coverage. The watchdog raises `Hang` in the main thread when a test
runs past its limit (the test fails there, with a traceback through the loop), and ends the process
when the test does not come back to Python code.
"""

from __future__ import annotations

import ast
import builtins
import ctypes
import importlib.machinery
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from types import CodeType, ModuleType
from typing import Any

HOOK = "__codegrad_entered__"  # the builtin the inserted statement calls with the function's index
EXIT_STUCK = 86  # the process's exit status when a test ignored the Hang for GRACE seconds
GRACE = 3.0
STACK_FRAMES = 40

Emit = Callable[[dict[str, Any]], None]


# ---------------------------------------------------------------- marking the changed functions


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


class _Marker(ast.NodeTransformer):
    """Puts `__codegrad_entered__(index)` first in the body of each def whose line is listed."""

    def __init__(self, lines: Mapping[int, int]) -> None:
        self.lines = lines

    def _mark(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        self.generic_visit(node)
        index = self.lines.get(node.lineno)
        if index is not None and node.body:
            at = 1 if _is_docstring(node.body[0]) else 0
            anchor = node.body[min(at, len(node.body) - 1)]
            call = ast.Call(ast.Name(HOOK, ast.Load()), [ast.Constant(index)], [])
            statement = ast.Expr(call)
            parts: list[ast.stmt | ast.expr] = [statement, call, call.func, *call.args]
            for part in parts:
                ast.copy_location(part, anchor)
                part.end_lineno, part.end_col_offset = anchor.lineno, anchor.col_offset
            node.body.insert(at, statement)
        return node

    visit_FunctionDef = _mark
    visit_AsyncFunctionDef = _mark


def marked_code(source: bytes | str, path: str, lines: Mapping[int, int]) -> CodeType:
    """The module's code with entry statements in the listed defs (line numbers unchanged)."""
    tree = ast.parse(source, path)
    tree = _Marker(lines).visit(tree)
    code: CodeType = compile(tree, path, "exec", dont_inherit=True)
    return code


class _Loader(importlib.machinery.SourceFileLoader):
    """A source loader that compiles the marked module (never from or to a .pyc)."""

    def __init__(self, fullname: str, path: str, lines: Mapping[int, int]) -> None:
        super().__init__(fullname, path)
        self.lines = lines

    def get_code(self, fullname: str) -> CodeType:
        path = self.get_filename(fullname)
        source = self.get_data(path)
        try:
            return marked_code(source, path, self.lines)
        except SyntaxError:
            return compile(source, path, "exec", dont_inherit=True)  # the usual error


class Finder:
    """A meta path finder that hands the changed files to `_Loader`; other modules pass untouched."""

    def __init__(self, files: Mapping[str, Mapping[int, int]]) -> None:
        self.files = files  # real path -> def line -> index
        self.names = {_module_name(path) for path in files}

    def find_spec(self, name: str, path: Sequence[str] | None = None, target: Any = None) -> Any:
        if name.rpartition(".")[2] not in self.names:
            return None  # the cheap test: only a module named like a changed file is looked at
        spec = None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                break
        if spec is None or not spec.origin:
            return spec
        lines = self.files.get(os.path.realpath(spec.origin))
        if lines is None or type(spec.loader) is not importlib.machinery.SourceFileLoader:
            return spec  # not a changed file, or a loader of its own (pytest's assertion rewriting)
        spec.loader = _Loader(name, spec.origin, lines)
        return spec

    def invalidate_caches(self) -> None:
        pass


def _module_name(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    return os.path.basename(os.path.dirname(path)) if stem == "__init__" else stem


# ---------------------------------------------------------------- the watchdog


class Hang(BaseException):
    """Raised in the main thread when a test runs past its limit (a BaseException: `except Exception`
    in the test does not swallow it)."""

    limit = 0.0

    def __str__(self) -> str:
        return f"the test did not finish within {self.limit:g}s (codegrad's per-test limit)"


def _stack(thread_id: int) -> list[list[Any]]:
    frame = sys._current_frames().get(thread_id)
    if frame is None:
        return []
    summary = traceback.extract_stack(frame)[-STACK_FRAMES:]
    return [[f.filename, f.lineno, f.name] for f in summary]


class Watchdog:
    """One thread that waits for the running test's deadline; idle between deadlines."""

    def __init__(self, emit: Emit, grace: float = GRACE) -> None:
        self.emit = emit
        self.grace = grace
        self.main = threading.get_ident()
        self.cond = threading.Condition()
        self.current: tuple[str, float, float] | None = None  # node id, deadline, limit
        self.generation = 0  # bumped on every arm/disarm: the test moved on
        self.hung: set[str] = set()
        threading.Thread(target=self._run, name="codegrad-watchdog", daemon=True).start()

    def arm(self, nodeid: str, limit: float) -> None:
        with self.cond:
            self.current = (nodeid, time.monotonic() + limit, limit)
            self.generation += 1
            self.cond.notify()

    def disarm(self) -> None:
        with self.cond:
            self.current = None
            self.generation += 1
            self.cond.notify()

    def _run(self) -> None:
        while True:
            with self.cond:
                while self.current is None:
                    self.cond.wait()
                nodeid, deadline, limit = self.current
                left = deadline - time.monotonic()
                if left > 0:
                    self.cond.wait(left)
                    continue
                self.current = None
                generation = self.generation
            self._fire(nodeid, limit, generation)

    def _fire(self, nodeid: str, limit: float, generation: int) -> None:
        self.hung.add(nodeid)
        self.emit({"event": "hang", "nodeid": nodeid, "limit": limit, "frames": _stack(self.main)})
        Hang.limit = limit
        raise_in = ctypes.pythonapi.PyThreadState_SetAsyncExc
        raise_in(ctypes.c_ulong(self.main), ctypes.py_object(Hang))
        end = time.monotonic() + self.grace
        with self.cond:
            while self.generation == generation and time.monotonic() < end:
                self.cond.wait(max(0.0, end - time.monotonic()))
            moved = self.generation != generation
        if not moved:  # blocked outside Python code, or it swallowed the Hang: end the run here
            self.emit({"event": "stuck", "nodeid": nodeid, "frames": _stack(self.main)})
            os._exit(EXIT_STUCK)


# ---------------------------------------------------------------- what the plugin drives


class Watch:
    """Per-test bookkeeping for the plugin: entries into changed functions, limits, stopping."""

    def __init__(self, options: Mapping[str, Any], emit: Emit) -> None:
        functions = options.get("functions") or []
        self.keys = [str(f["key"]) for f in functions]
        files: dict[str, dict[int, int]] = {}
        for index, function in enumerate(functions):
            real = os.path.realpath(str(function["file"]))
            files.setdefault(real, {})[int(function["line"])] = index
        self.entered: set[int] = set()
        setattr(builtins, HOOK, self.entered.add)
        if files:
            sys.meta_path.insert(0, Finder(files))
        self.unmarked = sorted(p for p in files if _loaded_before(p))
        limits = options.get("limits") or {}
        self.default: float | None = limits.get("default")
        self.limits: dict[str, float] = limits.get("tests") or {}
        self.stop_on_hang = bool(options.get("stop_on_hang"))
        self.skip = frozenset(options.get("skip") or ())
        wanted = self.default is not None or self.limits
        self.dog = Watchdog(emit) if wanted else None

    def begin(self, nodeid: str) -> None:
        self.entered.clear()
        limit = self.limits.get(nodeid, self.default)
        if self.dog is not None and limit:
            self.dog.arm(nodeid, float(limit))

    def end(self, nodeid: str) -> tuple[list[str], bool]:
        """The changed functions the test entered, and whether it ran past its limit."""
        if self.dog is not None:
            self.dog.disarm()
        hung = self.dog is not None and nodeid in self.dog.hung
        return [self.keys[i] for i in sorted(self.entered)], hung


def _loaded_before(path: str) -> bool:
    """Whether a changed file was imported before the hook (its functions then go unrecorded)."""
    modules: list[ModuleType] = [m for m in list(sys.modules.values()) if m is not None]
    return any(os.path.realpath(getattr(m, "__file__", None) or "") == path for m in modules)
