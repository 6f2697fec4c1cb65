"""Sandbox runner: generated property tests (no crash, return type, idempotence, round-trip) per target."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegrad.runners import hypo, loader, values


@dataclass
class Problem:
    """One property violation on one input."""

    prop: str  # crash | timeout | return-type | idempotence | round-trip
    outcome: hypo.Outcome
    detail: str = ""  # e.g. the type that was returned, or f(f(x))'s value


def type_ok(value: Any, spec: dict[str, Any] | None, depth: int = 0) -> bool:
    """Whether value fits a return-type spec (lenient: int is a float, bool is not an int)."""
    if spec is None or depth > 20:
        return True
    kind = spec["t"]
    checks: dict[str, Callable[[], bool]] = {
        "any": lambda: True,
        "none": lambda: value is None,
        "bool": lambda: isinstance(value, bool),
        "int": lambda: isinstance(value, int) and not isinstance(value, bool),
        "float": lambda: isinstance(value, int | float) and not isinstance(value, bool),
        "complex": lambda: isinstance(value, int | float | complex) and not isinstance(value, bool),
        "str": lambda: isinstance(value, str),
        "bytes": lambda: isinstance(value, bytes),
        "union": lambda: any(type_ok(value, s, depth + 1) for s in spec["of"]),
        "list": lambda: _container_ok(value, list, spec, depth),
        "set": lambda: _container_ok(value, set | frozenset, spec, depth),
        "frozenset": lambda: _container_ok(value, frozenset, spec, depth),
        "tuple": lambda: _tuple_ok(value, spec, depth),
        "dict": lambda: _dict_ok(value, spec, depth),
    }
    check = checks.get(kind)
    return True if check is None else check()


def _container_ok(value: Any, kind: Any, spec: dict[str, Any], depth: int) -> bool:
    if not isinstance(value, kind):
        return False
    elem = spec.get("elem")
    return elem is None or all(type_ok(v, elem, depth + 1) for v in list(value)[:200])


def _tuple_ok(value: Any, spec: dict[str, Any], depth: int) -> bool:
    if not isinstance(value, tuple):
        return False
    items = spec.get("of")
    if items is None:
        return _container_ok(value, tuple, spec, depth)
    return len(items) == len(value) and all(
        type_ok(v, s, depth + 1) for v, s in zip(value, items, strict=True)
    )


def _dict_ok(value: Any, spec: dict[str, Any], depth: int) -> bool:
    if not isinstance(value, dict):
        return False
    key, item = spec.get("key"), spec.get("value")
    pairs = list(value.items())[:200]
    return all(type_ok(k, key, depth + 1) and type_ok(v, item, depth + 1) for k, v in pairs)


def type_name(value: Any) -> str:
    if isinstance(value, list | tuple | set | frozenset) and value:
        inner = sorted({type(v).__name__ for v in list(value)[:50]})
        return f"{type(value).__name__}[{' | '.join(inner)}]"
    return type(value).__name__


class Judge:
    """Checks one target's properties on one input, against one loaded version of it."""

    def __init__(
        self, target: dict[str, Any], fn: hypo.Loaded, timeout: float, allowed: list[str]
    ) -> None:
        self.target = target
        self.fn = fn
        self.timeout = timeout
        self.allowed = allowed

    def check(self, args: list[Any], kwargs: dict[str, Any]) -> Problem | None:
        outcome = hypo.call(self.fn.fn, args, kwargs, self.timeout)
        if outcome.timed_out:
            return Problem("timeout", outcome)
        if outcome.error is not None:
            return None if hypo.allowed(outcome.error, self.allowed) else Problem("crash", outcome)
        if not type_ok(outcome.value, self.target.get("returns")):
            return Problem("return-type", outcome, type_name(outcome.value))
        if self.target.get("idempotent") and len(args) + len(kwargs) == 1:
            return self._idempotence(args, kwargs, outcome)
        return None

    def _idempotence(
        self, args: list[Any], kwargs: dict[str, Any], first: hypo.Outcome
    ) -> Problem | None:
        given = args[0] if args else next(iter(kwargs.values()))
        if type(given) is not type(first.value):
            return None
        again_args: list[Any] = [first.value] if args else []
        again_kwargs: dict[str, Any] = {} if args else {k: first.value for k in kwargs}
        again = hypo.call(self.fn.fn, again_args, again_kwargs, self.timeout)
        if again.ok and not values.equivalent(again.value, first.value):
            return Problem("idempotence", first, values.describe(again.value))
        return None


class RoundTrip:
    """encode(decode(encode(x))) == encode(x): decode inverts encode on everything encode produces."""

    def __init__(self, encode: hypo.Loaded, decode: hypo.Loaded, timeout: float) -> None:
        self.encode, self.decode, self.timeout = encode, decode, timeout

    def check(self, args: list[Any], kwargs: dict[str, Any]) -> Problem | None:
        encoded = hypo.call(self.encode.fn, args, kwargs, self.timeout)
        if not encoded.ok:
            return None  # outside the encoder's domain
        decoded = hypo.call(self.decode.fn, [encoded.value], {}, self.timeout)
        if not decoded.ok:
            return Problem("round-trip", decoded, "decoding the encoded value failed")
        again = hypo.call(self.encode.fn, [decoded.value], {}, self.timeout)
        if again.ok and values.equivalent(again.value, encoded.value):
            return None
        enc, dec = values.describe(encoded.value), values.describe(decoded.value)
        result = values.describe(again.value) if again.ok else "a failure"
        detail = (
            f"{self.encode.label}(x) = {enc}, {self.decode.label}({enc}) = {dec}, "
            f"and {self.encode.label}({dec}) = {result}, not {enc}"
        )
        return Problem("round-trip", again, detail)


@dataclass
class Found:
    """The last (after shrinking: the minimal) failing input of a property test."""

    problem: Problem | None = None
    from_example: bool = False  # a docstring example: certainly inside the domain
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None


def _confirm(
    judge: Callable[[list[Any], dict[str, Any]], Problem | None],
    base: Callable[[list[Any], dict[str, Any]], Problem | None] | None,
    budget: hypo.Budget,
    found: Found,
    args: list[Any],
    kwargs: dict[str, Any],
    *,
    explicit: bool,
) -> bool:
    """Judge one input; record and report a failure unless base fails on it too (out of domain)."""
    problem = judge(args, kwargs)
    if problem is None:
        return False
    if base is not None and base(args, kwargs) is not None:
        budget.out_of_domain += 1
        if not explicit:
            hypo.reject()
        return False
    found.problem, found.args, found.kwargs = problem, args, kwargs
    found.from_example = explicit
    return True


def _search(
    params: list[hypo.Param],
    examples: list[tuple[list[Any], dict[str, Any]]],
    judge: Callable[[list[Any], dict[str, Any]], Problem | None],
    base: Callable[[list[Any], dict[str, Any]], Problem | None] | None,
    spec: dict[str, Any],
    budget: hypo.Budget,
) -> Found:
    found = Found()
    for args, kwargs in examples:
        budget.calls += 1
        if _confirm(judge, base, budget, found, args, kwargs, explicit=True):
            return found

    def body(args: list[Any], kwargs: dict[str, Any]) -> None:
        if _confirm(judge, base, budget, found, args, kwargs, explicit=False):
            raise hypo.Failed(found.problem.prop if found.problem else "")

    hypo.drive(
        params, body, max_examples=int(spec["max_examples"]), seed=int(spec["seed"]), budget=budget
    )
    return found


def _report(
    found: Found, fn: hypo.Loaded, params: list[hypo.Param], recheck: Callable[..., Any]
) -> dict[str, Any]:
    assert found.problem is not None and found.args is not None and found.kwargs is not None
    problem = found.problem
    again = recheck(found.args, found.kwargs)
    return {
        "property": problem.prop,
        "input": hypo.call_text(fn.label, found.args, found.kwargs),
        "args": hypo.arg_reprs(params, found.args, found.kwargs),
        "outcome": problem.outcome.describe(),
        "detail": problem.detail,
        "traceback": hypo.frames(problem.outcome.error, fn.file, fn.path)
        if problem.outcome.error
        else [],
        "reproduces": again is not None and again.prop == problem.prop,
        "from_example": found.from_example,
    }


def run_target(spec: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """All properties of one target: the main test, then the round-trip test if one was planned."""
    root = Path(spec["root"])
    timeout = float(spec["call_timeout"])
    budget = hypo.Budget(float(spec["budget"]))
    head = hypo.load(root, target["path"], target["qualname"], target.get("construct"))
    head_judge = Judge(target, head, timeout, target.get("allowed", []))
    base_judge = _base_judge(spec, target, timeout)
    params = hypo.params_of(target["params"])
    examples = hypo.example_inputs(target.get("examples", []))
    found = _search(
        params, examples, head_judge.check, base_judge.check if base_judge else None, spec, budget
    )
    failures = [_report(found, head, params, head_judge.check)] if found.problem else []
    trip = target.get("round_trip")
    if trip and not failures and budget.left() > 0:
        failures += _round_trip(spec, target, trip, budget)
    return {
        "status": "partial" if budget.partial else "ok",
        "failures": failures,
        "calls": budget.calls,
        "out_of_domain": budget.out_of_domain,
    }


def _base_judge(spec: dict[str, Any], target: dict[str, Any], timeout: float) -> Judge | None:
    if not spec.get("base_root") or not target.get("base_path"):
        return None
    try:
        base = hypo.load(
            Path(spec["base_root"]),
            target["base_path"],
            target["qualname"],
            target.get("construct"),
        )
    except loader.LoadError:
        return None
    finally:
        loader.load_module(Path(spec["root"]), target["path"])  # head's modules back in place
    return Judge(target, base, timeout, target.get("base_allowed", []))


def _round_trip(
    spec: dict[str, Any], target: dict[str, Any], trip: dict[str, Any], budget: hypo.Budget
) -> list[dict[str, Any]]:
    root = Path(spec["root"])
    timeout = float(spec["call_timeout"])
    encode = hypo.load(root, target["path"], trip["encode"], None)
    decode = hypo.load(root, target["path"], trip["decode"], None)
    check = RoundTrip(encode, decode, timeout)
    base_check = None
    if spec.get("base_root") and target.get("base_path"):
        try:
            base_root = Path(spec["base_root"])
            base_check = RoundTrip(
                hypo.load(base_root, target["base_path"], trip["encode"], None),
                hypo.load(base_root, target["base_path"], trip["decode"], None),
                timeout,
            ).check
        except loader.LoadError:
            base_check = None
        finally:
            loader.load_module(root, target["path"])
    params = hypo.params_of(trip["params"])
    found = _search(params, [], check.check, base_check, spec, budget)
    if not found.problem:
        return []
    report = _report(found, encode, params, check.check)
    report["input"] = f"{decode.label}({report['input']})"
    return [report]


if __name__ == "__main__":
    raise SystemExit(hypo.main(run_target))
