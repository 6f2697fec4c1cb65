"""Record the arguments the changed functions receive while the project's tests run (in its pytest process).

Each target function keeps its identity: its `__code__` is swapped for a one-line trampoline with the
same signature that hands the bound arguments to the recorder, which encodes them (valuecodec) and
calls a copy of the original function. Every reference to the function (imported names, registries,
decorator closures) therefore records, whenever it was taken. Bounded per function and per test;
written as JSON lines to a file in the scratch folder. Stdlib only.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegrad.runners import valuecodec

HOOK = "__codegrad_recorder__"
_CO_VARARGS, _CO_VARKEYWORDS = 0x04, 0x08
_CO_GENERATOR, _CO_COROUTINE, _CO_ASYNC_GENERATOR = 0x20, 0x80, 0x200


@dataclass
class Limits:
    """How much to record per target."""

    calls: int = 64  # distinct calls kept per function
    per_test: int = 8  # distinct calls kept per function from one test
    attempts: int = 2000  # calls encoded per function before the recorder stops trying
    size: int = 65536  # bytes of JSON per call


@dataclass
class Target:
    """One function to record, and what was seen of it."""

    index: int
    key: str
    file: str
    qualname: str
    kind: str
    fn: Any = None  # the (first) function whose code was swapped
    why_not: str | None = None
    seen: int = 0
    attempts: int = 0
    recorded: int = 0
    per_test: dict[str, int] = field(default_factory=dict)
    digests: set[str] = field(default_factory=set)
    unrecordable: dict[str, int] = field(default_factory=dict)


def trampoline(code: types.CodeType, index: int) -> types.CodeType | None:
    """A code object with code's signature and free variables whose body calls the recorder hook."""
    flags = code.co_flags
    if flags & _CO_ASYNC_GENERATOR:
        return None
    names = code.co_varnames
    argc, posonly, kwonly = code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount
    positional, keywords = names[:argc], names[argc : argc + kwonly]
    rest = argc + kwonly
    star = names[rest] if flags & _CO_VARARGS else None
    dstar = names[rest + (1 if star else 0)] if flags & _CO_VARKEYWORDS else None
    params = [*positional[:posonly], *(["/"] if posonly else []), *positional[posonly:]]
    params += [f"*{star}"] if star else (["*"] if keywords else [])
    params += [*keywords, *([f"**{dstar}"] if dstar else [])]
    args = "[" + ", ".join([*positional, *([f"*{star}"] if star else [])]) + "]"
    kwargs = (
        "{"
        + ", ".join([*(f"{k!r}: {k}" for k in keywords), *([f"**{dstar}"] if dstar else [])])
        + "}"
    )
    call = f"{HOOK}({index}, {args}, {kwargs})"
    # pytest leaves a frame with __tracebackhide__ out of its reports: a failing test's traceback
    # reads as it does without the recorder
    touch = "__tracebackhide__ = True; " + "".join(f"{name}; " for name in code.co_freevars)
    if flags & _CO_COROUTINE:
        line = f"async def _t({', '.join(params)}): {touch}return await {call}"
    elif flags & _CO_GENERATOR:
        line = f"def _t({', '.join(params)}): {touch}return (yield from {call})"
    else:
        line = f"def _t({', '.join(params)}): {touch}return {call}"
    cells = "".join(f"    {name} = None\n" for name in code.co_freevars)
    source = f"def _outer():\n{cells}    {line}\n    return _t\n"
    try:
        outer = compile(source, code.co_filename, "exec")
    except SyntaxError:
        return None
    made = next(
        c
        for f in outer.co_consts
        if isinstance(f, types.CodeType)
        for c in f.co_consts
        if isinstance(c, types.CodeType)
    )
    if made.co_freevars != code.co_freevars:
        return None
    changes: dict[str, Any] = {"co_name": code.co_name, "co_firstlineno": code.co_firstlineno}
    if hasattr(code, "co_qualname"):
        changes["co_qualname"] = code.co_qualname
    return made.replace(**changes)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return False


def find_function(module: types.ModuleType, qualname: str, file: str) -> types.FunctionType | None:
    """The plain function defined at qualname in module (through staticmethod, classmethod, property
    and `__wrapped__` decorators), if its code lives in file."""
    obj: Any = module
    for part in qualname.split("."):
        space = getattr(obj, "__dict__", {})
        obj = space[part] if isinstance(obj, type) and part in space else getattr(obj, part, None)
        if obj is None:
            return None
    for _ in range(20):
        if isinstance(obj, (staticmethod, classmethod)):
            obj = obj.__func__
        elif isinstance(obj, property):
            obj = obj.fget
        elif isinstance(obj, types.FunctionType) and _same_file(obj.__code__.co_filename, file):
            return obj
        elif getattr(obj, "__wrapped__", None) is not None:
            obj = obj.__wrapped__
        else:
            return None
    return None


# why a call with an iterator argument is not recorded while the suite's own results count
LAZY = "an iterator argument (taking its items first would change what the test sees)"


class Recorder:
    """Installs trampolines into target functions and writes the calls they receive."""

    def __init__(self, spec: dict[str, Any], out: Path) -> None:
        self.limits = Limits(**spec.get("limits", {}))
        self.consume_iterators = bool(spec.get("consume_iterators", True))
        self.targets = [
            Target(i, t["key"], t["file"], t["qualname"], t.get("kind", "function"))
            for i, t in enumerate(spec["targets"])
        ]
        self.out = out.open("a", encoding="utf-8")
        self.local = threading.local()
        self.lock = threading.Lock()
        self.test = ""
        self.modules_seen = -1
        self.installs: list[tuple[Target, Any]] = []  # (target, copy of its original function)
        self.originals: list[tuple[Target, Any, types.CodeType]] = []  # (target, function, code)
        self.modules_done: set[int] = set()
        self.swapped: set[int] = set()
        self.keep: list[Any] = []  # what the ids above refer to stays alive

    # ------------------------------------------------------------ installing

    def install_pending(self) -> None:
        """Swap the code of the targets in every module imported since the last look (a file imported
        under two names is two modules: both are swapped). Cheap when nothing was imported."""
        if len(sys.modules) == self.modules_seen:
            return
        self.modules_seen = len(sys.modules)
        by_file: dict[str, list[Target]] = {}
        for target in self.targets:
            if target.why_not is None:
                by_file.setdefault(os.path.realpath(target.file), []).append(target)
        for module in list(sys.modules.values()):
            if id(module) in self.modules_done:
                continue  # each module object is looked at once
            self.modules_done.add(id(module))
            self.keep.append(module)
            path = getattr(module, "__file__", None)
            for target in by_file.get(os.path.realpath(path), []) if isinstance(path, str) else []:
                self._install(target, module)

    def _install(self, target: Target, module: types.ModuleType) -> None:
        fn = find_function(module, target.qualname, target.file)
        if fn is None or id(fn) in self.swapped or target.recorded >= self.limits.calls:
            return  # maybe another module object for the same file has it; or nothing more to keep
        code = trampoline(fn.__code__, len(self.installs))
        if code is None:
            target.why_not = "its signature or kind (async generator, closure) cannot be wrapped"
            return
        copy = types.FunctionType(
            fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__
        )
        copy.__kwdefaults__ = fn.__kwdefaults__
        copy.__qualname__ = fn.__qualname__
        fn.__globals__[HOOK] = self.hook
        fn.__code__ = code
        self.installs.append((target, copy))
        self.originals.append((target, fn, copy.__code__))
        self.swapped.add(id(fn))
        self.keep.append(fn)
        target.fn = target.fn or fn

    # ------------------------------------------------------------ recording

    def full(self) -> bool:
        """Every target is installed and has all the calls it may keep."""
        return all(t.fn is not None and t.recorded >= self.limits.calls for t in self.targets)

    def hook(self, index: int, args: list[Any], kwargs: dict[str, Any]) -> Any:
        __tracebackhide__ = True  # noqa: F841 - read by pytest: the report shows the test's frames only
        target, copy = self.installs[index]
        target.seen += 1
        line = None
        if self._wanted(target) and not getattr(self.local, "busy", False):
            self.local.busy = True
            try:
                args, kwargs, line = self._capture(target, copy, args, kwargs)
            finally:
                self.local.busy = False
        try:
            result = copy(*args, **kwargs)
        except BaseException as exc:
            if line is not None:
                self._write(target, line, type(exc).__name__)
            raise
        if line is not None:
            self._write(target, line, None)
        return result

    def _wanted(self, target: Target) -> bool:
        limits = self.limits
        return (
            target.recorded < limits.calls
            and target.attempts < limits.attempts
            and target.per_test.get(self.test, 0) < limits.per_test
        )

    def _capture(
        self, target: Target, copy: Any, args: list[Any], kwargs: dict[str, Any]
    ) -> tuple[list[Any], dict[str, Any], dict[str, Any] | None]:
        target.attempts += 1
        args, kwargs = _trim_defaults(copy, list(args), dict(kwargs))
        shown = args[1:] if target.kind == "classmethod" else args
        if not self.consume_iterators and any(valuecodec.is_iterator(a) for a in shown):
            target.unrecordable[LAZY] = target.unrecordable.get(LAZY, 0) + 1
            return args, kwargs, None
        try:
            shown = self._materialise(shown, args, target.kind == "classmethod")
            encoded = valuecodec.encode_call(shown, kwargs)
            text = json.dumps(encoded, sort_keys=True, allow_nan=False)
        except (valuecodec.Unencodable, TypeError, ValueError, RecursionError) as exc:
            reason = str(exc).split(":", 1)[0][:120] or type(exc).__name__
            target.unrecordable[reason] = target.unrecordable.get(reason, 0) + 1
            return args, kwargs, None
        except Exception as exc:  # noqa: BLE001 - a project's __reduce__ may raise anything
            reason = f"{type(exc).__name__} while recording"
            target.unrecordable[reason] = target.unrecordable.get(reason, 0) + 1
            return args, kwargs, None
        if len(text) > self.limits.size:
            target.unrecordable["the arguments are too large"] = (
                target.unrecordable.get("the arguments are too large", 0) + 1
            )
            return args, kwargs, None
        digest = hashlib.sha1(text.encode()).hexdigest()
        if digest in target.digests:
            return args, kwargs, None
        target.digests.add(digest)
        target.recorded += 1
        target.per_test[self.test] = target.per_test.get(self.test, 0) + 1
        if target.recorded >= self.limits.calls:
            self._restore(target)
        return args, kwargs, encoded

    def _restore(self, target: Target) -> None:
        """A full target gets its own code back: the rest of the suite calls it at full speed."""
        for owner, fn, code in self.originals:
            if owner is target:
                fn.__code__ = code

    def _materialise(self, shown: list[Any], args: list[Any], skip_first: bool) -> list[Any]:
        """Iterator arguments become lists in the record; in args (changed in place) fresh iterators
        that yield what the originals would have, also when recording them fails."""
        if not any(valuecodec.is_iterator(a) for a in shown):
            return shown
        offset = 1 if skip_first else 0
        new_shown = list(shown)
        for i, value in enumerate(new_shown):
            if valuecodec.is_iterator(value):
                items, fresh, error = valuecodec.materialise(value)
                args[i + offset] = fresh
                if error is not None:
                    raise error
                new_shown[i] = valuecodec.Materialised(type(value).__name__, items)
        return new_shown

    def _write(self, target: Target, call: dict[str, Any], raised: str | None) -> None:
        record = {"key": target.key, "test": self.test, "call": call, "raised": raised}
        with self.lock:
            self.out.write(json.dumps(record, allow_nan=False) + "\n")
            self.out.flush()

    def close(self) -> None:
        summary = {
            t.key: {
                "installed": t.fn is not None,
                "why_not": t.why_not,
                "seen": t.seen,
                "recorded": t.recorded,
                "unrecordable": dict(sorted(t.unrecordable.items(), key=lambda kv: -kv[1])[:3]),
            }
            for t in self.targets
        }
        with self.lock:
            self.out.write(json.dumps({"summary": summary}) + "\n")
            self.out.close()


def _trim_defaults(
    fn: Any, args: list[Any], kwargs: dict[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """Leave out trailing arguments that are the default object itself: the call as written."""
    count = fn.__code__.co_argcount
    defaults = fn.__defaults__ or ()
    first = count - len(defaults)
    if len(args) == count:  # nothing passed through *args
        while len(args) > first and args[-1] is defaults[len(args) - 1 - first]:
            args.pop()
    kwdefaults = fn.__kwdefaults__ or {}
    for name in [n for n, v in kwargs.items() if n in kwdefaults and kwdefaults[n] is v]:
        del kwargs[name]
    return args, kwargs
