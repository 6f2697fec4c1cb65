"""One call on base and head: rebuild it per side, run it, compare, and describe a difference as source.

Each call is rebuilt fresh for each version (its classes resolve to that version's modules), run under
the call limit with one-shot results consumed, and compared: value (tolerantly), exception type and
message, and what the call did to its arguments (`self` included). The head run is traced to count
the calls that execute the changed lines. Decoding happens only here, inside the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from codegrad.runners import hypo, reach, sides, source, valuecodec, values


@dataclass
class Run:
    """One call on one side: the outcome and the arguments as the call left them."""

    outcome: hypo.Outcome
    args: list[Any]
    kwargs: dict[str, Any]
    hit: set[int] = field(default_factory=set)


class Unreplayable(Exception):
    """The recorded call could not be rebuilt on this side (the message says why)."""


def _message(outcome: hypo.Outcome) -> str:
    return outcome.describe().get("message", "") if outcome.error is not None else ""


def same_outcome(a: hypo.Outcome, b: hypo.Outcome) -> bool:
    """hypo.same, plus the exception message (a recorded input shows what the project's tests see)."""
    return hypo.same(a, b) and _message(a) == _message(b)


def same_arguments(a: Run, b: Run) -> bool:
    return values.equivalent(a.args, b.args) and values.equivalent(a.kwargs, b.kwargs)


class Replayer:
    """Runs recorded calls on base and head and judges them."""

    def __init__(
        self, base: sides.Side, head: sides.Side, timeout: float, tracer: reach.Reach
    ) -> None:
        self.base, self.head, self.timeout, self.tracer = base, head, timeout, tracer

    def run(self, side: sides.Side, call: dict[str, Any], trace: bool = False) -> Run:
        with side.active():
            try:
                args, kwargs = valuecodec.decode_call(call, side.resolve)
            except Exception as exc:  # noqa: BLE001 - whatever the project's classes raise
                raise Unreplayable(f"{type(exc).__name__}: {values.describe(exc, 120)}") from None
            if not trace:
                return Run(
                    hypo.call(side.fn, args, kwargs, self.timeout, copy_args=False), args, kwargs
                )
            with self.tracer.tracing() as hit:
                outcome = hypo.call(side.fn, args, kwargs, self.timeout, copy_args=False)
            return Run(outcome, args, kwargs, set(hit))


@dataclass
class Verdict:
    """How one recorded call compares: in domain, reached the changed lines, and any difference."""

    in_domain: bool
    reached: bool
    base: Run | None = None
    head: Run | None = None
    differs: bool = False
    mutated: bool = False  # same results, but the arguments were left differently
    reproduces: bool = False


def judge(replayer: Replayer, call: dict[str, Any], allowed: list[str]) -> Verdict:
    """Base, head (traced), and base again to rule out a base that is not deterministic."""
    base = replayer.run(replayer.base, call)
    head = replayer.run(replayer.head, call, trace=True)
    reached = bool(head.hit) or not replayer.tracer.measurable
    handled = not base.outcome.timed_out and (
        base.outcome.error is None or hypo.allowed(base.outcome.error, allowed)
    )
    in_domain = handled or head.outcome.ok
    if base.outcome.timed_out:
        return Verdict(False, reached)
    same = same_outcome(base.outcome, head.outcome)
    if same and same_arguments(base, head):
        return Verdict(in_domain, reached)
    again = replayer.run(replayer.base, call)
    if not same_outcome(base.outcome, again.outcome) or not same_arguments(base, again):
        return Verdict(False, reached)  # base itself is not deterministic on this call
    head_again = replayer.run(replayer.head, call)
    reproduces = same_outcome(head.outcome, head_again.outcome)
    return Verdict(in_domain, reached, base, head, True, same, reproduces)


# ---------------------------------------------------------------- describing a difference


def module_namer(side: sides.Side, import_name: str) -> Any:
    """The import name a test uses for a class's module (None when a test cannot import it)."""

    def module_of(kind: type) -> str | None:
        name = getattr(kind, "__module__", None)
        if not isinstance(name, str):
            return None
        if name == side.module.__name__:
            return import_name
        if name.startswith("_codegrad_target_"):
            return None
        return name

    return module_of


def _arg_source(writer: source.Writer, encoded: Any, value: Any) -> str:
    if isinstance(encoded, dict) and "it" in encoded:
        return source.iterator_source(str(encoded["it"]), writer.write(list(value)))
    return writer.write(value)


def call_source(
    side: sides.Side, target: dict[str, Any], call: dict[str, Any]
) -> tuple[str, source.Writer] | None:
    """The recorded call as source on base (with the imports it needs), or None when it has none."""
    writer = source.Writer(module_namer(side, target["import_name"]))
    with side.active():
        try:
            args, kwargs = valuecodec.decode_call(call, side.resolve)
            encoded = list(call.get("args", []))
            parts = [_arg_source(writer, e, v) for e, v in zip(encoded, args, strict=False)]
            parts += [f"{k}={writer.write(v)}" for k, v in kwargs.items()]
        except Exception:  # noqa: BLE001 - NoSource, or a class that cannot be rebuilt
            return None
    qualname = target["qualname"]
    last = qualname.rsplit(".", 1)[-1]
    if side.bound in ("method", "property"):
        if not parts:
            return None
        receiver, parts = parts[0], parts[1:]
        if side.bound == "property":
            return f"{receiver}.{last}", writer
        return f"{receiver}.{last}({', '.join(parts)})", writer
    callee = writer.name(target["import_name"], qualname)
    return f"{callee}({', '.join(parts)})", writer


def mutated_argument(base: Run, head: Run) -> int | None:
    """The first positional argument that base and head left differently."""
    for index, (a, b) in enumerate(zip(base.args, head.args, strict=False)):
        if not values.equivalent(a, b):
            return index
    return None


def failure(
    replayer: Replayer, target: dict[str, Any], record: dict[str, Any], verdict: Verdict
) -> dict[str, Any]:
    """The report entry for a differing recorded call (input and reproducer written as source)."""
    assert verdict.base is not None and verdict.head is not None
    base, head = verdict.base, verdict.head
    written = call_source(replayer.base, target, record["call"])
    shown = written[0] if written else f"{target['qualname']}(<recorded arguments>)"
    entry: dict[str, Any] = {
        "property": "behaviour-change",
        "input": shown,
        "base": base.outcome.describe(),
        "head": head.outcome.describe(),
        "traceback": hypo.frames(head.outcome.error, replayer.head.file)
        if head.outcome.error
        else [],
        "reproduces": verdict.reproduces,
        "from_example": True,
        "source": f"a call recorded in {record.get('test') or 'the tests'} ({record.get('side', 'head')})",
        "test": record.get("test"),
        "side": record.get("side", "head"),
        "recorded_raised": record.get("raised"),
        "test_gone": bool(record.get("test_gone")),
        "reached": verdict.reached,
    }
    index = mutated_argument(base, head) if verdict.mutated else None
    if index is not None:
        entry["mutated"] = {
            "index": index,
            "base": values.describe(base.args[index]),
            "head": values.describe(head.args[index]),
        }
    if written is not None:
        entry["repro"] = _repro(written, base, index, replayer.base.bound)
    return entry


def _repro(
    written: tuple[str, source.Writer], base: Run, index: int | None, bound: str
) -> dict[str, Any]:
    """The call as source; for a changed argument also what base left in it (base's result travels
    as its source in base's description, as for every finding)."""
    call, writer = written
    repro: dict[str, Any] = {"call": call}
    if index is not None:
        receiver = bound in ("method", "property")
        repro["mutated"] = "receiver" if receiver and index == 0 else index - int(receiver)
        repro["after"] = values.source(base.args[index])
    repro["imports"] = {module: sorted(names) for module, names in writer.imports.items()}
    repro["needs_new"] = writer.needs_new
    return repro
