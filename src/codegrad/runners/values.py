"""Compare results (numbers within tolerance, objects by structure) and describe them, in the sandbox.

The one home of "same result": the differential, properties, docstring and LLM-check runners call
`equivalent` on what `materialise` made of a function's return value, and the pytest files codegrad
writes carry a copy of both (codegrad.verify.embedded copies their source), so a kept test compares
exactly as the check did. Those two and the helpers they call use the standard library only.
"""

from __future__ import annotations

import collections.abc
import inspect
import io
import keyword
import math
import re
import reprlib
import types
from typing import Any

GENERATOR_LIMIT = 10_000  # items taken from a generator or iterator a function returns
_ADDRESS = re.compile(r"\s+at\s+0x(?:[0-9a-fA-F]+|\.\.\.)")  # `0x...`: a doctest's ellipsis
_PAIRS = 100_000  # pairs of parts one comparison visits at most
_MATCH = 200  # unordered items (set members, dict keys that are objects) matched one by one
_NAMED = (type, types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.ModuleType)
_EXACT = (str, bytes, bytearray, range, type(None))
_UNSET = object()
_OBJECT_REPR: Any = object.__repr__


def without_addresses(text: str) -> str:
    """The text without memory addresses (`<Node object at 0x7f...>` -> `<Node object>`)."""
    return _ADDRESS.sub("", text)


class Consumed(list):  # type: ignore[type-arg]
    """A generator or iterator a function returned, consumed: its items and the kind it was."""

    def __init__(self, kind: str, items: Any = ()) -> None:
        super().__init__(items)
        self.kind = kind

    def __repr__(self) -> str:
        return f"Consumed({self.kind!r}, {list.__repr__(self)})"


class Like:
    """An expected object: of the class named `kind`, with these attributes (how a test writes down
    a result whose class has no `__eq__`)."""

    def __init__(self, kind: str, /, **state: Any) -> None:
        self.kind, self.state = kind, state

    def __repr__(self) -> str:
        fields = "".join(f", {name}={value!r}" for name, value in self.state.items())
        return f"Like({self.kind!r}{fields})"


NESTING = 3  # levels of iterators yielding iterators that are consumed (ichunked's chunks)


def materialise(value: Any, limit: int = GENERATOR_LIMIT) -> Any:
    """A returned generator or iterator consumed into Consumed (its body runs now), each item that
    is itself an iterator consumed as it comes (as a caller would: `[list(c) for c in chunks]`), at
    most `limit` items in all; any other value as it is."""
    return _consume(value, [limit], NESTING)


def _consume(value: Any, left: list[int], depth: int) -> Any:
    if inspect.isgenerator(value):
        kind = "generator"
    elif isinstance(value, collections.abc.Iterator) and not isinstance(value, io.IOBase):
        cls = type(value)
        kind = ("" if cls.__module__ == "builtins" else cls.__module__ + ".") + cls.__qualname__
    else:
        return value
    items = []
    while left[0] > 0:
        try:
            item = next(value)
        except StopIteration:
            break
        left[0] -= 1
        items.append(_consume(item, left, depth - 1) if depth > 1 else item)
    return Consumed(kind, items)


def equivalent(a: Any, b: Any, rel_tol: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    """Whether two results are the same: ints exactly, other numbers within tolerance (NaN equals
    NaN), containers item by item, objects by their own `__eq__`, and objects without one (or two
    copies of one class, base's and head's) by class name and attributes (`__dict__`, `__slots__`),
    recursively and through cycles; an object without attributes by its repr without addresses."""
    try:
        return _walk(a, b, rel_tol, abs_tol)
    except Exception:  # noqa: BLE001 - a hostile attribute, __len__, __hash__...: == decides
        return _plain_eq(a, b)


def _walk(a: Any, b: Any, rel_tol: float, abs_tol: float) -> bool:
    pending = [(a, b)]
    visited: dict[tuple[int, int], tuple[Any, Any]] = {}
    while pending:
        x, y = pending.pop()
        leaf = _leaf(x, y, rel_tol, abs_tol)
        if leaf is not None:  # numbers and strings: judged at once, never part of a cycle
            if not leaf:
                return False
            continue
        key = (id(x), id(y))
        if key in visited:
            continue  # assumed the same while its parts are compared: how a cycle ends
        visited[key] = (x, y)  # kept alive so that no id is reused during the comparison
        if len(visited) > _PAIRS:
            return _plain_eq(a, b)  # too many containers and objects to walk: == decides
        parts = _parts(x, y, rel_tol, abs_tol)
        if parts is None:
            return False
        pending.extend(parts)
    return True


def _parts(x: Any, y: Any, rel_tol: float, abs_tol: float) -> list[tuple[Any, Any]] | None:
    """The pairs of parts left to compare, or None when x and y differ."""
    if x is y:
        return []
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        if _kind(x) != _kind(y) or len(x) != len(y):
            return None
        if type(x) is type(y) and _surely_equal(x, y):
            return []
        return [(x[i], y[i]) for i in range(len(x))]
    if isinstance(x, dict) and isinstance(y, dict):
        return [] if _surely_equal(x, y) else _dict_parts(x, y, rel_tol, abs_tol)
    if isinstance(x, (set, frozenset)) and isinstance(y, (set, frozenset)):
        same = _plain_eq(x, y) or _matched(list(x), list(y), rel_tol, abs_tol) is not None
        return [] if same else None
    return _object_parts(x, y)


def _leaf(x: Any, y: Any, rel_tol: float, abs_tol: float) -> bool | None:
    """The verdict on two numbers or strings; None for anything else."""
    if type(x) is type(y) and isinstance(x, _EXACT):
        return bool(x == y)
    return _numbers(x, y, rel_tol, abs_tol)


def _surely_equal(x: Any, y: Any) -> bool:
    """`==` says so (it never says so of parts this comparison would tell apart)."""
    try:
        return bool(x == y)
    except Exception:  # noqa: BLE001 - e.g. a cycle's RecursionError: walk it instead
        return False


def _numbers(x: Any, y: Any, rel_tol: float, abs_tol: float) -> bool | None:
    """The verdict when both are numbers; None when they are not."""
    if isinstance(x, bool) or isinstance(y, bool):
        return (
            _plain_eq(x, y) if isinstance(x, (int, float)) and isinstance(y, (int, float)) else None
        )
    if isinstance(x, int) and isinstance(y, int):
        return bool(x == y)
    if isinstance(x, (int, float)) and isinstance(y, (int, float)):
        try:
            fx, fy = float(x), float(y)
        except OverflowError:
            return bool(x == y)
        if math.isnan(fx) or math.isnan(fy):
            return math.isnan(fx) and math.isnan(fy)
        if math.isinf(fx) or math.isinf(fy):
            return fx == fy
        return math.isclose(fx, fy, rel_tol=rel_tol, abs_tol=abs_tol)
    if isinstance(x, complex) and isinstance(y, complex):
        real = _numbers(x.real, y.real, rel_tol, abs_tol)
        return bool(real and _numbers(x.imag, y.imag, rel_tol, abs_tol))
    return None


def _dict_parts(x: Any, y: Any, rel_tol: float, abs_tol: float) -> list[tuple[Any, Any]] | None:
    if len(x) != len(y):
        return None
    if _plain_eq(x.keys(), y.keys()):
        return [(x[key], y[key]) for key in x]
    pairing = _matched(list(x), list(y), rel_tol, abs_tol)  # keys that are objects
    return None if pairing is None else [(x[kx], y[ky]) for kx, ky in pairing]


def _matched(xs: list[Any], ys: list[Any], rel_tol: float, abs_tol: float) -> list[Any] | None:
    """Each item of xs paired with an equivalent item of ys (each used once), or None."""
    if len(xs) != len(ys) or len(xs) > _MATCH:
        return None
    left = list(ys)
    pairs = []
    for item in xs:
        at = next((i for i, o in enumerate(left) if equivalent(item, o, rel_tol, abs_tol)), None)
        if at is None:
            return None
        pairs.append((item, left.pop(at)))
    return pairs


def _object_parts(x: Any, y: Any) -> list[tuple[Any, Any]] | None:
    if isinstance(x, _NAMED) or isinstance(y, _NAMED):
        return [] if _name(x) == _name(y) else None
    if _plain_eq(x, y):
        return []
    if _kind(x) != _kind(y):
        return None
    sx, sy = _state(x), _state(y)
    if not sx and not sy:
        bare = isinstance(x, Like) or isinstance(y, Like) or (_default_repr(x) and _default_repr(y))
        return [] if bare or without_addresses(_repr(x)) == without_addresses(_repr(y)) else None
    if sx.keys() != sy.keys():
        return None
    return [(sx[name], sy[name]) for name in sx]


def _kind(value: Any) -> str:
    """The class by name: base's and head's copies of one class are one kind."""
    return value.kind if isinstance(value, Like) else type(value).__qualname__


def _default_repr(value: Any) -> bool:
    """`<module.Class object at 0x...>`: nothing in it but the class."""
    return type(value).__repr__ is _OBJECT_REPR


def _name(value: Any) -> str:
    return str(getattr(value, "__qualname__", None) or getattr(value, "__name__", "?"))


def _state(value: Any) -> dict[str, Any]:
    """An object's attributes: `__slots__` and `__dict__` (an exception's args too)."""
    if isinstance(value, Like):
        return value.state
    state: dict[str, Any] = {}
    for cls in reversed(type(value).__mro__):
        slots = cls.__dict__.get("__slots__", ())
        for slot in [slots] if isinstance(slots, str) else slots:
            name = slot
            if slot.startswith("__") and not slot.endswith("__"):
                name = f"_{cls.__name__.lstrip('_')}{slot}"
            if name not in ("__dict__", "__weakref__"):
                got = getattr(value, name, _UNSET)
                if got is not _UNSET:
                    state[name] = got
    try:
        own = object.__getattribute__(value, "__dict__")
    except (AttributeError, TypeError):
        own = {}
    state.update(own)
    if isinstance(value, BaseException):
        state["args"] = value.args
    return state


def _plain_eq(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - e.g. numpy arrays' ambiguous truth value
        return _repr(a) == _repr(b)


def _repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ is the target's problem
        return f"<{type(value).__qualname__} with failing repr: {type(exc).__name__}>"


# ---------------------------------------------------------------- describing values in reports


class _Describe(reprlib.Repr):
    """A short repr in which an object shows its attributes instead of its memory address."""

    def repr_instance(self, x: Any, level: int) -> str:
        text = _repr(x)
        if _ADDRESS.search(text) and not isinstance(x, _NAMED):
            state = _state(x)
            if state and level > 0:
                shown = list(state.items())[: self.maxdict]
                fields = [f"{k}={self.repr1(v, level - 1)}" for k, v in shown]
                more = ", ..." if len(state) > len(shown) else ""
                return f"{type(x).__qualname__}({', '.join(fields)}{more})"
            if state:
                return f"{type(x).__qualname__}(...)"
        text = without_addresses(text)
        return text if len(text) <= self.maxother else text[: self.maxother - 3] + "..."

    def repr_Consumed(self, x: Any, level: int) -> str:  # noqa: N802 - reprlib's naming scheme
        if not isinstance(x, Consumed):
            return self.repr_instance(x, level)
        return f"<{x.kind} yielding {self.repr_list(x, level)}>"


_REPR = _Describe()
_REPR.maxstring = 200
_REPR.maxother = 200
_REPR.maxlist = 30
_REPR.maxtuple = 30
_REPR.maxdict = 20
_REPR.maxset = 20


def describe(value: Any, limit: int = 400) -> str:
    """A short, readable repr (cut at `limit` characters) that never raises and never shows a
    memory address: an object whose repr has one shows its class and attributes instead."""
    try:
        text = _REPR.repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ must not break the report
        text = f"<{type(value).__name__} with failing repr: {type(exc).__name__}>"
    text = without_addresses(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def exception_signature(exc: BaseException) -> str:
    """How two runs are judged to fail 'the same way': the exception's type name."""
    return type(exc).__qualname__


# ---------------------------------------------------------------- writing values as source


class _NoSource(Exception):
    """The value cannot be written as source that rebuilds it."""


_REBUILD = {
    "__builtins__": {"float": float, "set": set, "frozenset": frozenset},
    "Like": Like,
    "Consumed": Consumed,
}


def source(value: Any, limit: int = 2000) -> str | None:
    """Python source that rebuilds a value equivalent to this one, for a reproducer: literals,
    `Consumed(...)` for a consumed iterator, `Like(...)` for another object with attributes.
    Checked by rebuilding it; None when there is none (a cycle, an object without attributes)."""
    try:
        text = _source(value, [], limit)
        rebuilt = eval(text, dict(_REBUILD))
    except Exception:  # noqa: BLE001 - no source, or it does not rebuild
        return None
    return text if equivalent(value, rebuilt) else None


def _source(value: Any, stack: list[int], limit: int) -> str:
    kind = type(value)
    if kind in (type(None), bool, int, str, bytes):
        return repr(value)
    if kind is float:
        return f"float('{value}')" if math.isnan(value) or math.isinf(value) else repr(value)
    if id(value) in stack or len(stack) > 30:
        raise _NoSource("a cycle or a deep nest")
    stack.append(id(value))
    try:
        text = _compound(value, stack, limit)
    finally:
        stack.pop()
    if len(text) > limit:
        raise _NoSource("too long")
    return text


def _compound(value: Any, stack: list[int], limit: int) -> str:
    def each(items: Any) -> list[str]:
        return [_source(item, stack, limit) for item in items]

    kind = type(value)
    if kind is Consumed:
        return f"Consumed({value.kind!r}, [{', '.join(each(value))}])"
    if kind is list:
        return f"[{', '.join(each(value))}]"
    if kind is tuple:
        return f"({', '.join(each(value))}{',' if len(value) == 1 else ''})"
    if kind is dict:
        pairs = zip(each(value.keys()), each(value.values()), strict=True)
        return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    if kind in (set, frozenset):
        items = sorted(each(value))
        text = "{" + ", ".join(items) + "}" if items else ""
        return f"frozenset({text})" if kind is frozenset else text or "set()"
    if isinstance(value, (*_NAMED, complex, list, tuple, dict, set, frozenset)):
        raise _NoSource(kind.__qualname__)
    state = _state(value)
    if not state:
        raise _NoSource("no attributes")
    if all(n.isidentifier() and not keyword.iskeyword(n) for n in state):
        fields = "".join(f", {n}={_source(v, stack, limit)}" for n, v in state.items())
        return f"Like({kind.__qualname__!r}{fields})"
    named = ", ".join(f"{n!r}: {_source(v, stack, limit)}" for n, v in state.items())
    return f"Like({kind.__qualname__!r}, **{{{named}}})"
