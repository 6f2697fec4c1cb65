"""Runtime shared by the properties and differential runners: load, call under a time limit, drive Hypothesis."""

from __future__ import annotations

import ast
import asyncio
import copy
import faulthandler
import inspect
import json
import random
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegrad.runners import guard, loader, values
from codegrad.runners.record import write_json


class OutOfTime(BaseException):
    """The per-target time budget is spent: stop generating, report what was found."""


@dataclass
class Outcome:
    """What one call did: returned a value, raised, or ran out of time."""

    value: Any = None
    error: BaseException | None = None
    timed_out: bool = False
    consuming: bool = False  # the error came while the returned iterator was consumed

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out

    def describe(self) -> dict[str, Any]:
        if self.timed_out:
            return {"timeout": True}
        if self.error is not None:
            raised = {"raised": type(self.error).__name__, "message": _message(self.error)}
            return {**raised, "consumed": True} if self.consuming else raised
        out = {
            "value": values.describe(self.value),
            "literal": _literal_repr(self.value),
            **expectation(self.value),
        }
        if isinstance(self.value, values.Consumed):
            out["consumed"] = self.value.kind
        return out


def expectation(value: Any, limit: int = 2000) -> dict[str, str]:
    """How a reproducer checks for this value: {"source": ...} that rebuilds an equivalent value,
    else {"repr": ...}, its repr without memory addresses (when short), else nothing."""
    rebuilt = values.source(value, limit)
    if rebuilt is not None:
        return {"source": rebuilt}
    try:
        text = values.without_addresses(repr(value))
    except Exception:  # noqa: BLE001 - a broken __repr__
        return {}
    return {"repr": text} if len(text) <= limit else {}


def _message(error: BaseException, limit: int = 300) -> str:
    try:
        text = str(error)
    except Exception:  # noqa: BLE001 - a broken __str__ must not break the report
        text = ""
    text = values.without_addresses(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _literal_repr(value: Any, limit: int = 2000) -> str | None:
    """The full repr when it is short and evaluates back to an equal value (for reproducers)."""
    try:
        text = repr(value)
        if len(text) > limit or literal(text) != value:
            return None
    except Exception:  # noqa: BLE001 - not a literal (or a broken __repr__/__eq__)
        return None
    return text


def same(a: Outcome, b: Outcome) -> bool:
    """Same behaviour: both time out, both raise the same exception type, or equivalent values."""
    if a.timed_out or b.timed_out:
        return a.timed_out and b.timed_out
    if a.error is not None or b.error is not None:
        return (
            a.error is not None
            and b.error is not None
            and values.exception_signature(a.error) == values.exception_signature(b.error)
        )
    return values.equivalent(a.value, b.value)


def allowed(error: BaseException, names: list[str]) -> bool:
    """Whether the function raises this exception type (or a base of it) on purpose."""
    return any(cls.__name__ in names for cls in type(error).__mro__)


CALL_SEED = 20250810  # the state of the global `random` at the start of every call


def call(
    fn: Callable[..., Any],
    args: list[Any],
    kwargs: dict[str, Any],
    timeout: float,
    *,
    copy_args: bool = True,
) -> Outcome:
    """Call fn (on copies of the arguments unless told otherwise: the replay rebuilds them fresh and
    compares what the call did to them) with a wall-clock limit; never raises for fn's failures.
    The global `random` starts every call in the same state, so base and head draw the same numbers
    (`random_sample(0.1, data)` is compared, not its luck)."""
    if copy_args:
        args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
    random.seed(CALL_SEED)
    previous = signal.signal(signal.SIGALRM, guard.on_alarm)
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, timeout)
            consuming = False
            with guard.quiet():
                value = fn(*args, **kwargs)
                if inspect.iscoroutine(value):
                    value = asyncio.run(value)
                consuming = True
                value = values.materialise(value)  # a generator's body only runs when consumed
            signal.setitimer(signal.ITIMER_REAL, 0)
            return Outcome(value=value)
        except guard.Alarm:
            return Outcome(timed_out=True)
        except (OutOfTime, KeyboardInterrupt):
            raise
        except BaseException as exc:  # noqa: BLE001 - SystemExit and friends are failures of fn too
            signal.setitimer(signal.ITIMER_REAL, 0)
            return Outcome(error=exc, consuming=consuming)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except guard.Alarm:  # fired between the return and the timer reset
        return Outcome(timed_out=True)
    finally:
        signal.signal(signal.SIGALRM, previous)


# ---------------------------------------------------------------- loading targets


@dataclass
class Loaded:
    """A callable for the target and how to show a call of it."""

    fn: Callable[..., Any]
    label: str  # "f" or "C().m"
    file: Path
    path: str = ""  # the file's repository path, as tracebacks show it
    raw: Any = None  # the object defined at the qualified name (whose code the tracer looks for)
    receiver_of: str = ""  # the class whose constructor arguments the first argument holds


def show_call(loaded: Loaded, args: list[Any], kwargs: dict[str, Any]) -> str:
    """The call as source: `f(1)`, `C().m(1)`, or `C(0, 1).m(1)` when the first argument holds the
    constructor arguments of the instance."""
    if loaded.receiver_of and args:
        made = ", ".join(_arg_repr(a) for a in args[0])
        method = loaded.label.rsplit(".", 1)[-1]
        return call_text(f"{loaded.receiver_of}({made}).{method}", args[1:], kwargs)
    return call_text(loaded.label, args, kwargs)


def load(
    root: Path, path: str, qualname: str, construct: str | None, receiver: bool = False
) -> Loaded:
    """The target as a plain callable; instance methods get a fresh instance per call, built with
    no arguments, or (receiver) with the constructor arguments the call's first argument holds."""
    module = loader.load_module(root, path)
    fn, bound = loader.callable_for(module, qualname)
    file = (root / path).resolve()
    if bound == "method":
        if construct is None:
            raise loader.LoadError(
                f"{qualname} is an instance method and no constructor was planned"
            )
        owner = loader.resolve(module, construct)
        method = fn
        if receiver:

            def built(made: Any, *args: Any, **kwargs: Any) -> Any:
                return method(owner(*made), *args, **kwargs)

            label = f"{construct}.{qualname.rsplit('.', 1)[-1]}"
            return Loaded(built, label, file, path, fn, receiver_of=construct)

        def fresh(*args: Any, **kwargs: Any) -> Any:
            return method(owner(), *args, **kwargs)

        return Loaded(fresh, f"{construct}().{qualname.rsplit('.', 1)[-1]}", file, path, fn)
    return Loaded(fn, qualname, file, path, fn)


def frames(error: BaseException, file: Path, shown: str = "") -> list[str]:
    """Traceback lines inside the target's file: "path:line: code", path as `shown` (the
    repository path) or else the file's name."""
    out = []
    for frame in traceback.extract_tb(error.__traceback__):
        try:
            inside = Path(frame.filename).resolve() == file
        except OSError:
            inside = False
        if inside:
            out.append(f"{shown or file.name}:{frame.lineno}: {(frame.line or '').strip()}")
    return out[-8:]


# ---------------------------------------------------------------- arguments


@dataclass(frozen=True)
class Param:
    name: str
    strategy: str
    keyword: bool = False
    star: bool = False


def params_of(raw: list[dict[str, Any]], key: str = "strategy") -> list[Param]:
    return [Param(p["name"], p[key], bool(p.get("keyword")), bool(p.get("star"))) for p in raw]


def bind(params: list[Param], drawn: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword arguments from one draw."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for param in params:
        if param.name not in drawn:
            continue
        if param.star:
            args.extend(drawn[param.name])
        elif param.keyword:
            kwargs[param.name] = drawn[param.name]
        else:
            args.append(drawn[param.name])
    return args, kwargs


def literal(source: str) -> Any:
    if source in ("set()", "frozenset()"):
        return set() if source == "set()" else frozenset()
    return ast.literal_eval(source)


def example_inputs(raw: list[dict[str, Any]]) -> list[tuple[list[Any], dict[str, Any]]]:
    """Docstring example arguments as values (examples that do not evaluate are dropped)."""
    out = []
    for example in raw:
        try:
            args = [literal(a) for a in example.get("args", [])]
            kwargs = {k: literal(v) for k, v in example.get("kwargs", [])}
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        out.append((args, kwargs))
    return out


def call_text(label: str, args: list[Any], kwargs: dict[str, Any]) -> str:
    parts = [_arg_repr(a) for a in args] + [f"{k}={_arg_repr(v)}" for k, v in kwargs.items()]
    return f"{label}({', '.join(parts)})"


_SEQUENCE_ITERATORS: tuple[type, ...] = (type(iter([])), type(iter(())))


def _arg_repr(value: Any) -> str:
    if type(value) in _SEQUENCE_ITERATORS:  # a generated one-shot iterator: the code that builds it
        _, (items, *_), *state = value.__reduce__()
        return f"iter({_arg_repr(list(items)[state[0] if state else 0 :])})"
    try:
        return values.without_addresses(repr(value))
    except Exception:  # noqa: BLE001 - a broken __repr__
        return values.describe(value)


def arg_reprs(params: list[Param], args: list[Any], kwargs: dict[str, Any]) -> dict[str, str]:
    """Each named parameter's argument as source (for @example(...) in reproducers)."""
    out: dict[str, str] = {}
    positional = [p for p in params if not (p.keyword or p.star)]
    for param, value in zip(positional, args, strict=False):
        out[param.name] = _arg_repr(value)
    star = next((p for p in params if p.star), None)
    if star is not None:
        out[star.name] = _arg_repr(list(args[len(positional) :]))
    for name, value in kwargs.items():
        out[name] = _arg_repr(value)
    return out


# ---------------------------------------------------------------- Hypothesis


def strategy(source: str) -> Any:
    """Evaluate generated strategy source (it only refers to `st`)."""
    from hypothesis import strategies as st

    return eval(source, {"st": st, "__builtins__": __builtins__})


@dataclass
class Budget:
    """The per-target deadline plus counters the runners report."""

    seconds: float
    started: float = field(default_factory=time.monotonic)
    calls: int = 0
    out_of_domain: int = 0
    partial: bool = False

    def tick(self) -> None:
        self.calls += 1
        if time.monotonic() - self.started > self.seconds:
            self.partial = True
            raise OutOfTime()

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.started)


class Failed(Exception):
    """A property failed on the current input (details are recorded beside)."""


def drive(
    params: list[Param],
    body: Callable[[list[Any], dict[str, Any]], None],
    *,
    max_examples: int,
    seed: int,
    budget: Budget,
) -> None:
    """Run body on generated arguments with shrinking; stops quietly at the end or when out of time."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis.errors import HypothesisException

    strategies = {p.name: strategy(p.strategy) for p in params}

    @hypothesis_seed(seed)
    @settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate, Phase.target, Phase.shrink),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
    )
    @given(**strategies)
    def test(**drawn: Any) -> None:
        budget.tick()
        args, kwargs = bind(params, drawn)
        body(args, kwargs)

    random.seed(seed)
    try:
        test()
    except (Failed, OutOfTime):
        pass
    except HypothesisException:  # Unsatisfiable etc.: nothing valid to test
        pass


def reject() -> None:
    """Discard the current input (outside the function's domain)."""
    from hypothesis import reject as hypothesis_reject

    hypothesis_reject()


# ---------------------------------------------------------------- the runner's I/O


class Results:
    """Per-target results, rewritten atomically after each target so a kill keeps what was done."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {"results": {}, "current": None}
        self._side = ""

    def start(self, key: str, hard_limit: float) -> None:
        self.data["current"] = key
        self._write()
        faulthandler.dump_traceback_later(hard_limit, exit=True)

    def done(self, key: str, result: dict[str, Any]) -> None:
        faulthandler.cancel_dump_traceback_later()
        self.data["results"][key] = result
        self.data["current"] = None
        self._write()
        self._side = ""
        self.side_path.unlink(missing_ok=True)

    @property
    def side_path(self) -> Path:
        return self.path.with_name(self.path.name + ".side")

    def side(self, name: str) -> None:
        """Which version the current target is calling, in a small file of its own (so a hard hang
        can be put on base or head without rewriting the results on every call)."""
        if self._side != name:
            self._side = name
            self.side_path.write_text(name, encoding="utf-8")

    def _write(self) -> None:
        write_json(self.path, self.data)


_RESULTS: Results | None = None  # this runner process's results, while main runs


def calling(side: str) -> None:
    """Record that the next call is on `side` ("base" or "head"), for a hard hang's report."""
    if _RESULTS is not None:
        _RESULTS.side(side)


def main(run_target: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]) -> int:
    """`python -m codegrad.runners.X SPEC RESULT`: run each target of the spec, recording as it goes."""
    global _RESULTS
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    results = _RESULTS = Results(Path(sys.argv[2]))
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 3000))
    for target in spec["targets"]:
        results.start(target["key"], float(spec["hard_limit"]))
        started = time.monotonic()
        try:
            result = run_target(spec, target)
        except loader.LoadError as exc:
            result = {"status": "skipped", "reason": str(exc)}
        except Exception as exc:  # noqa: BLE001 - one broken target must not stop the others
            result = {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
        result["seconds"] = round(time.monotonic() - started, 3)
        results.done(target["key"], result)
    return 0
