"""Sandbox runner: evaluate the docstring examples of target functions and record how each one ended.

Usage: python -m codegrad.runners.docstrings SPEC.json RESULT.json

SPEC: {"root": str, "call_timeout": float, "import_timeout": float (optional),
       "targets": [{"path": str, "qualname": str,
                    "examples": [{"call", "expected", "setup", "expects_exception", "line", "form"}]}]}
RESULT (rewritten atomically before each example and after each target, so a killed run still
leaves what it did): {"finished": bool, "targets": [{"path", "qualname", "status", "error",
"examples": [{"index", "line", "status", "actual", "stdout", "exception", "traceback", "reason",
"seconds"}]}]}. Target status: ok | load-error | not-found | loading. Example status: ok | fail |
error | timeout | unrunnable | skipped | running (the run died while this example was running).
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import doctest
import inspect
import io
import json
import math
import os
import re
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

from codegrad.runners import loader, values
from codegrad.runners.record import write_json

_EXAMPLE_FILE = "<docstring example>"
_SETUP_FILE = "<docstring setup>"
_EXPECTED_FILE = "<docstring expected>"
_TEXT_LIMIT = 2000
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


class CallTimeout(BaseException):
    """Raised by the alarm when one example runs past its time limit (BaseException: not caught
    by the target's `except Exception`)."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise CallTimeout()


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise CallTimeout in this (main) thread after `seconds`; inside another limit, that one rules."""
    if (
        seconds <= 0
        or not hasattr(signal, "setitimer")
        or signal.getitimer(signal.ITIMER_REAL)[0] > 0
    ):
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---------------------------------------------------------------------------------------------
# Comparison


def _decimals(number: str) -> int:
    if "." not in number or "e" in number.lower():
        return 0
    return len(number.split(".", 1)[1])


def _numbers_close(want: str, got: str) -> bool:
    """Numbers printed differently: 0.3 vs 0.30000000000000004, 2 vs 2.0, 3.33 vs 3.3333 (shown precision)."""
    a, b = float(want), float(got)
    if math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9):
        return True
    places = _decimals(want)
    return places >= 2 and abs(a - b) <= 0.5 * 10.0**-places + 1e-12


def _skeleton(text: str) -> tuple[str, list[str]]:
    normal = " ".join(text.replace('"', "'").split())
    return _NUMBER.sub("#", normal), _NUMBER.findall(normal)


def text_equivalent(want: str, got: str) -> bool:
    """Doctest-style output comparison that forgives whitespace, quote style, float formatting and
    memory addresses (`<Node object at 0x...>` is written with a different one on every run)."""
    masked = values.without_addresses(want), values.without_addresses(got)
    return _text_same(want, got) or (masked != (want, got) and _text_same(*masked))


def _text_same(want: str, got: str) -> bool:
    if " ".join(want.split()) == " ".join(got.split()):
        return True
    checker = doctest.OutputChecker()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    if checker.check_output(want.rstrip("\n") + "\n", got.rstrip("\n") + "\n", flags):
        return True
    want_shape, want_numbers = _skeleton(want)
    got_shape, got_numbers = _skeleton(got)
    if want_shape != got_shape or len(want_numbers) != len(got_numbers):
        return False
    return all(_numbers_close(w, g) for w, g in zip(want_numbers, got_numbers, strict=True))


def _evaluate_expected(text: str, namespace: dict[str, Any], timeout: float) -> tuple[bool, Any]:
    """(True, value) when the expected text is a Python expression that evaluates, else (False, None)."""
    try:
        return True, ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    try:
        code = compile(text.strip(), _EXPECTED_FILE, "eval")
    except (SyntaxError, ValueError):
        return False, None
    try:
        with time_limit(timeout), contextlib.redirect_stdout(io.StringIO()):
            return True, eval(code, dict(namespace))
    except BaseException:  # an expected value that does not evaluate is compared as text
        return False, None


def _one_tuple_match(expected_text: str, expected: Any, value: Any) -> bool:
    """`("Venus")` written for the 1-tuple `("Venus",)`: the parentheses were meant as a tuple."""
    stripped = expected_text.strip()
    return (
        stripped.startswith("(")
        and isinstance(value, tuple)
        and len(value) == 1
        and not isinstance(expected, tuple)
        and values.equivalent(value[0], expected)
    )


def matches(
    example: dict[str, Any], value: Any, stdout: str, namespace: dict[str, Any], timeout: float
) -> bool:
    """Does the call's result (value and printed output) agree with the example's expectation?"""
    expected: str | None = example.get("expected")
    if expected is None:
        return True
    got = stdout + ("" if value is None else _safe_repr(value) + "\n")
    if example.get("form") == "doctest" and not expected.strip():
        return value is None and not stdout
    if stdout and value is None:
        return text_equivalent(expected, stdout)
    if not stdout:
        ok, wanted = _evaluate_expected(expected, namespace, timeout)
        if ok and (values.equivalent(value, wanted) or _one_tuple_match(expected, wanted, value)):
            return True
    return text_equivalent(expected, got)


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception as exc:  # a broken __repr__ is the target's problem, not ours
        return f"<{type(value).__name__} with failing repr: {type(exc).__name__}>"


def _actual_text(value: Any, stdout: str) -> str:
    shown = values.describe(value)
    if stdout:
        printed = values.without_addresses(stdout).rstrip("\n")
        return printed if value is None else f"{printed}\n{shown}"
    return shown


# ---------------------------------------------------------------------------------------------
# Running one example


def _same_file(name: str, target_file: Path) -> bool:
    try:
        return Path(name).resolve() == target_file
    except (OSError, ValueError):
        return False


def _frames_in(exc: BaseException, target_file: Path, shown_as: str) -> list[str]:
    frames = traceback.extract_tb(exc.__traceback__)
    return [
        f"{shown_as}:{frame.lineno}: {(frame.line or '').strip()}"
        for frame in frames
        if _same_file(frame.filename, target_file)
    ]


def _exception_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _exception_outcome(
    example: dict[str, Any], exc: BaseException, target_file: Path, shown_as: str
) -> dict[str, Any]:
    frames = _frames_in(exc, target_file, shown_as)
    tb = traceback.extract_tb(exc.__traceback__)
    message = values.without_addresses(str(exc))[:_TEXT_LIMIT]
    outcome: dict[str, Any] = {
        "exception": {"type": type(exc).__name__, "message": message},
        "traceback": frames,
        "actual": f"{type(exc).__name__}: {message}" if message else type(exc).__name__,
    }
    wanted = example.get("expects_exception")
    if wanted and wanted in _exception_names(exc):
        return {**outcome, "status": "ok"}
    in_example = bool(tb) and tb[-1].filename == _EXAMPLE_FILE
    if isinstance(exc, NameError) and in_example and not frames:
        return {
            **outcome,
            "status": "unrunnable",
            "reason": f"the example names something undefined: {message}",
        }
    return {**outcome, "status": "error"}


def _call(
    example: dict[str, Any], namespace: dict[str, Any], out: io.StringIO, where: dict[str, str]
) -> Any:
    for source in example.get("setup") or ():
        where["setup"] = source
        try:
            exec(compile(source, _SETUP_FILE, "exec"), namespace)
        except CallTimeout:
            raise
        except BaseException:  # as in doctest, a failing earlier line does not stop later ones
            pass
    where.pop("setup", None)
    out.seek(0)
    out.truncate()
    value = eval(compile(example["call"], _EXAMPLE_FILE, "eval"), namespace)
    if inspect.iscoroutine(value):
        value = asyncio.run(value)
    return value


def run_example(
    example: dict[str, Any],
    globals_: dict[str, Any],
    *,
    timeout: float,
    target_file: Path,
    shown_as: str,
) -> dict[str, Any]:
    """Evaluate setup + call in a fresh copy of the module globals and judge the outcome."""
    namespace = dict(globals_)
    out = io.StringIO()
    started = time.monotonic()
    base: dict[str, Any] = {"index": example.get("index"), "line": example.get("line")}
    where: dict[str, str] = {}
    try:
        with time_limit(timeout), contextlib.redirect_stdout(out):
            value = _call(example, namespace, out, where)
    except CallTimeout:
        elapsed = time.monotonic() - started
        if "setup" in where:
            reason = f"setup line {where['setup']!r} did not finish within {timeout:g}s"
            return {
                **base,
                "status": "skipped",
                "seconds": elapsed,
                "reason": reason,
                "hung": where["setup"],
            }
        return {
            **base,
            "status": "timeout",
            "seconds": elapsed,
            "reason": f"did not finish within {timeout:g}s",
        }
    except SyntaxError as exc:
        return {
            **base,
            "status": "unrunnable",
            "reason": f"does not compile: {exc}",
            "seconds": 0.0,
        }
    except BaseException as exc:  # the target's own failure is the finding
        outcome = _exception_outcome(example, exc, target_file, shown_as)
        return {
            **base,
            **outcome,
            "stdout": values.without_addresses(out.getvalue())[:_TEXT_LIMIT],
            "seconds": time.monotonic() - started,
        }
    stdout = out.getvalue()
    seconds = time.monotonic() - started
    result = {
        **base,
        "actual": _actual_text(value, stdout),
        "stdout": values.without_addresses(stdout)[:_TEXT_LIMIT],
        "seconds": seconds,
    }
    if example.get("expects_exception"):
        return {
            **result,
            "status": "fail",
            "reason": f"expected {example['expects_exception']}, nothing raised",
        }
    try:
        with time_limit(timeout):
            ok = matches(example, value, stdout, namespace, timeout)
    except CallTimeout:
        ok = False
    except Exception as exc:  # a comparison that breaks (odd __eq__) is a mismatch
        return {
            **result,
            "status": "fail",
            "reason": f"comparison raised {type(exc).__name__}: {exc}",
        }
    return {**result, "status": "ok" if ok else "fail"}


# ---------------------------------------------------------------------------------------------
# Targets


def namespace_for(module: ModuleType, qualname: str) -> dict[str, Any]:
    """The module's globals, plus enclosing classes and static/class methods under their own names."""
    namespace = dict(vars(module))
    parts = qualname.split(".")
    for i in range(1, len(parts)):
        try:
            owner = loader.resolve(module, ".".join(parts[:i]))
        except loader.LoadError:
            break
        if isinstance(owner, type):
            namespace.setdefault(parts[i - 1], owner)
    try:
        func, binding = loader.callable_for(module, qualname)
    except loader.LoadError:
        return namespace
    if binding in ("static", "class"):
        namespace.setdefault(parts[-1], func)
    return namespace


def _load(root: Path, path: str, timeout: float) -> ModuleType:
    try:
        with time_limit(timeout), contextlib.redirect_stdout(io.StringIO()):
            return loader.load_module(root, path)
    except loader.LoadError as exc:
        if isinstance(exc.__cause__, CallTimeout):
            raise loader.LoadError(f"importing {path} did not finish within {timeout:g}s") from None
        raise


def run_target(
    root: Path,
    spec: dict[str, Any],
    entry: dict[str, Any],
    *,
    call_timeout: float,
    import_timeout: float,
    save: Callable[[], None],
) -> None:
    """Run every example of one target, filling `entry` and saving before each example."""
    path, qualname = spec["path"], spec["qualname"]
    entry["status"] = "loading"
    save()
    try:
        module = _load(root, path, import_timeout)
    except loader.LoadError as exc:
        entry.update(status="load-error", error=str(exc))
        return
    try:
        loader.callable_for(module, qualname)
    except loader.LoadError as exc:
        entry.update(status="not-found", error=str(exc))
        return
    entry["status"] = "ok"
    globals_ = namespace_for(module, qualname)
    target_file = (root / path).resolve()
    hung: set[str] = set()
    for index, example in enumerate(spec.get("examples") or ()):
        example = {**example, "index": index}
        if hung & set(example.get("setup") or ()):
            reason = "an earlier line of the docstring did not finish"
            entry["examples"].append(
                {"index": index, "line": example.get("line"), "status": "skipped", "reason": reason}
            )
            continue
        entry["examples"].append({"index": index, "line": example.get("line"), "status": "running"})
        save()
        outcome = run_example(
            example, globals_, timeout=call_timeout, target_file=target_file, shown_as=path
        )
        entry["examples"][-1] = outcome
        if outcome["status"] == "timeout":
            hung.add(example["call"])
        if outcome.get("hung"):
            hung.add(outcome["hung"])


def _writer(path: Path, report: dict[str, Any]) -> Callable[[], None]:
    def save() -> None:
        write_json(path, report)

    return save


def main(argv: list[str] | None = None) -> int:
    """Read the spec, run every target, and leave the result JSON behind."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m codegrad.runners.docstrings SPEC.json RESULT.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    report: dict[str, Any] = {"finished": False, "targets": []}
    save = _writer(Path(args[1]), report)
    root = Path(spec["root"])
    call_timeout = float(spec.get("call_timeout", 2.0))
    import_timeout = float(spec.get("import_timeout", 30.0))
    for target in spec.get("targets") or ():
        entry: dict[str, Any] = {
            "path": target["path"],
            "qualname": target["qualname"],
            "status": "pending",
            "error": None,
            "examples": [],
        }
        report["targets"].append(entry)
        run_target(
            root, target, entry, call_timeout=call_timeout, import_timeout=import_timeout, save=save
        )
        save()
    report["finished"] = True
    save()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # do not wait for threads the target code left running
