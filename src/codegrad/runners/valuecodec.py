"""A restricted JSON format for recorded call arguments: encode in the tests' process, decode in the sandbox.

Plain data (None, bool, int, float, str, bytes, complex, list, tuple, dict, set, frozenset) is encoded
as tagged JSON; other objects by the reduce protocol (a class or function named by `module:qualname`,
its arguments and state), shared references and cycles by id. Only runners inside the sandbox decode
objects; codegrad's own process reads nothing but plain data from it (`plain`), never runs a reduce.
Stdlib only: this file is also loaded into the project's pytest process by the recording plugin.
"""

from __future__ import annotations

import base64
import importlib
import itertools
import math
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

MAX_DEPTH = 24
MAX_NODES = 4000
MAX_ITEMS = 1000  # items taken from an iterator argument
_SCALARS = (type(None), bool, int, str)
_ITERATOR_MODULES = ("builtins", "itertools")
_TAGS: dict[type, str] = {list: "l", tuple: "t", set: "s", frozenset: "fs"}


class Unencodable(Exception):
    """The value cannot be written in the restricted format (the message names its type)."""


class _Encoder:
    def __init__(self) -> None:
        self.memo: dict[int, int] = {}
        self.keep: list[Any] = []  # keeps encoded objects alive so their ids stay unique
        self.nodes = 0

    def encode(self, value: Any, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise Unencodable("the value is too large")
        if depth > MAX_DEPTH:
            raise Unencodable("the value is nested too deeply")
        kind = type(value)
        if kind in _SCALARS:
            return value
        if kind is float:
            return value if math.isfinite(value) else {"f": repr(value)}
        if kind is complex:
            return {"c": [self.encode(value.real, depth), self.encode(value.imag, depth)]}
        if kind is bytes:
            return {"b": base64.b64encode(value).decode("ascii")}
        ident = self.memo.get(id(value))
        if ident is not None:
            return {"ref": ident}
        ident = len(self.memo)
        self.memo[id(value)] = ident
        self.keep.append(value)
        if kind in (list, tuple, set, frozenset):
            tag = _TAGS[kind]
            return {tag: [self.encode(v, depth + 1) for v in value], "#": ident}
        if kind is dict:
            pairs = [
                [self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()
            ]
            return {"d": pairs, "#": ident}
        if kind is Materialised:
            return {"it": value.kind, "items": self.encode(value.items, depth + 1)}
        if kind is bytearray:
            return {"ba": base64.b64encode(bytes(value)).decode("ascii"), "#": ident}
        if isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType)):
            return {"g": global_name(value), "#": ident}
        return self._reduce(value, ident, depth)

    def _reduce(self, value: Any, ident: int, depth: int) -> Any:
        try:
            reduced = value.__reduce_ex__(4)
        except Exception as exc:  # noqa: BLE001 - any refusal means: not recordable
            raise Unencodable(f"{type(value).__qualname__} cannot be recorded: {exc}") from None
        if isinstance(reduced, str) or not isinstance(reduced, tuple) or len(reduced) < 2:
            raise Unencodable(f"{type(value).__qualname__} cannot be recorded")
        fn, args, *rest = (*reduced, None, None, None)[:5]
        out: dict[str, Any] = {
            "r": self.encode(fn, depth + 1),
            "a": self.encode(tuple(args), depth + 1),
            "#": ident,
        }
        state, items, pairs = rest[0], rest[1], rest[2]
        if state is not None:
            out["st"] = self.encode(state, depth + 1)
        if items is not None:
            out["i"] = [self.encode(v, depth + 1) for v in itertools.islice(items, MAX_ITEMS)]
        if pairs is not None:
            out["kv"] = [
                [self.encode(k, depth + 1), self.encode(v, depth + 1)]
                for k, v in itertools.islice(pairs, MAX_ITEMS)
            ]
        return out


def global_name(obj: Any) -> str:
    """`module:qualname` of a class or function that importing the module gives back, else Unencodable."""
    module = getattr(obj, "__module__", None)
    if module is None and hasattr(obj, "__objclass__"):
        module = getattr(obj.__objclass__, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        raise Unencodable(f"{qualname or type(obj).__name__} is not importable by name")
    found = sys.modules.get(module)
    try:
        resolved: Any = found
        for part in qualname.split("."):
            resolved = getattr(resolved, part)
    except AttributeError:
        resolved = None
    if resolved is not obj:
        raise Unencodable(f"{module}.{qualname} is not importable by name")
    return f"{module}:{qualname}"


def encode(value: Any) -> Any:
    """The restricted JSON form of value (raises Unencodable)."""
    return _Encoder().encode(value)


def encode_call(args: tuple[Any, ...] | list[Any], kwargs: dict[str, Any]) -> Any:
    """Positional and keyword arguments in one encoding, so shared objects stay shared."""
    encoder = _Encoder()
    return {
        "args": [encoder.encode(a) for a in args],
        "kwargs": [[k, encoder.encode(v)] for k, v in kwargs.items()],
    }


# ---------------------------------------------------------------- iterator arguments


def is_iterator(value: Any) -> bool:
    """A one-shot iterator the recorder must materialise (generators, builtin and itertools ones)."""
    if isinstance(value, types.GeneratorType):
        return True
    kind = type(value)
    return getattr(kind, "__module__", "") in _ITERATOR_MODULES and isinstance(value, Iterator)


def materialise(value: Any) -> tuple[list[Any], Any, Exception | None]:
    """(the items, an iterator for the real call that yields what value would have, why the items
    cannot be recorded: Unencodable past MAX_ITEMS, or the error the iterator raised)."""
    items: list[Any] = []
    try:
        items.extend(itertools.islice(value, MAX_ITEMS + 1))
    except Exception as exc:  # noqa: BLE001 - the project's iterator; the real call sees it again
        return items, _resumed(items, value, exc), exc
    if len(items) > MAX_ITEMS:
        too_long = Unencodable(f"an iterator argument yields more than {MAX_ITEMS} items")
        return items, _resumed(items, value, None), too_long
    return items, regenerate(type(value).__name__, items), None


def _resumed(items: list[Any], rest: Iterator[Any], error: Exception | None) -> Iterator[Any]:
    """The items already taken, then the error the iterator raised or the rest of it."""
    yield from items
    if error is not None:
        raise error
    yield from rest


def regenerate(kind: str, items: list[Any]) -> Any:
    """An iterator over items: a generator when the original was one."""
    if kind == "generator":
        return (item for item in items)
    return iter(items)


class Materialised:
    """An iterator argument taken out to a list (the recorded call shows the items and the kind)."""

    def __init__(self, kind: str, items: list[Any]) -> None:
        self.kind, self.items = kind, items


# ---------------------------------------------------------------- decoding (sandbox only)


Resolver = Callable[[str, str], Any]


def import_resolver(module: str, qualname: str) -> Any:
    """The default: import the module and walk the qualified name."""
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


class _Decoder:
    def __init__(self, resolve: Resolver) -> None:
        self.resolve = resolve
        self.memo: dict[int, Any] = {}

    def decode(self, data: Any) -> Any:
        if data is None or isinstance(data, (bool, int, float, str)):
            return data
        if isinstance(data, list):
            raise ValueError("bare list in encoded value")
        if "ref" in data:
            return self.memo[data["ref"]]
        if "f" in data:
            return float(data["f"])
        if "c" in data:
            return complex(self.decode(data["c"][0]), self.decode(data["c"][1]))
        if "b" in data:
            return base64.b64decode(data["b"])
        if "it" in data:
            return regenerate(data["it"], self.decode(data["items"]))
        ident = data.get("#")
        return self._compound(data, ident)

    def _remember(self, ident: Any, value: Any) -> Any:
        if ident is not None:
            self.memo[ident] = value
        return value

    def _compound(self, data: dict[str, Any], ident: Any) -> Any:
        if "l" in data:
            out: list[Any] = self._remember(ident, [])
            out.extend(self.decode(v) for v in data["l"])
            return out
        if "d" in data:
            table: dict[Any, Any] = self._remember(ident, {})
            for k, v in data["d"]:
                table[self.decode(k)] = self.decode(v)
            return table
        if "t" in data:
            return self._remember(ident, tuple(self.decode(v) for v in data["t"]))
        if "s" in data:
            return self._remember(ident, {self.decode(v) for v in data["s"]})
        if "fs" in data:
            return self._remember(ident, frozenset(self.decode(v) for v in data["fs"]))
        if "ba" in data:
            return self._remember(ident, bytearray(base64.b64decode(data["ba"])))
        if "g" in data:
            module, _, qualname = str(data["g"]).partition(":")
            return self._remember(ident, self.resolve(module, qualname))
        if "r" in data:
            return self._reduced(data, ident)
        raise ValueError(f"unknown encoded value: {sorted(data)}")

    def _reduced(self, data: dict[str, Any], ident: Any) -> Any:
        fn = self.decode(data["r"])
        args = self.decode(data["a"])
        obj = self._remember(ident, fn(*args))
        if "st" in data:
            state = self.decode(data["st"])
            setstate = getattr(obj, "__setstate__", None)
            if setstate is not None and _custom_setstate(obj):
                setstate(state)
            else:
                _default_setstate(obj, state)
        for item in data.get("i", []):
            obj.append(self.decode(item))
        for key, value in data.get("kv", []):
            obj[self.decode(key)] = self.decode(value)
        return obj


def _custom_setstate(obj: Any) -> bool:
    method = getattr(type(obj), "__setstate__", None)
    return method is not None and method is not getattr(object, "__setstate__", None)


def _default_setstate(obj: Any, state: Any) -> None:
    """What pickle does without __setstate__: a dict updates __dict__, (dict, slots) sets both."""
    slots = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
    if state:
        obj.__dict__.update(state)
    for name, value in (slots or {}).items():
        setattr(obj, name, value)


def decode(data: Any, resolve: Resolver = import_resolver) -> Any:
    """A fresh value from its encoding (sandbox only: it imports and calls what the encoding names)."""
    return _Decoder(resolve).decode(data)


def decode_call(
    data: dict[str, Any], resolve: Resolver = import_resolver
) -> tuple[list[Any], dict[str, Any]]:
    """Fresh positional and keyword arguments from encode_call's output (shared objects stay shared)."""
    decoder = _Decoder(resolve)
    args = [decoder.decode(a) for a in data.get("args", [])]
    kwargs = {str(k): decoder.decode(v) for k, v in data.get("kwargs", [])}
    return args, kwargs


# ---------------------------------------------------------------- plain data (safe anywhere)


class NotPlain(Exception):
    """The encoding holds an object that only the sandbox may rebuild."""


def plain(data: Any) -> Any:
    """The value of an encoding made only of plain data; raises NotPlain otherwise (never imports)."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if not isinstance(data, dict):
        raise NotPlain("malformed")
    if "f" in data:
        return float(data["f"])
    if "c" in data:
        return complex(plain(data["c"][0]), plain(data["c"][1]))
    if "b" in data:
        return base64.b64decode(data["b"])
    builders: dict[str, Callable[[list[Any]], Any]] = {
        "l": list,
        "t": tuple,
        "s": set,
        "fs": frozenset,
    }
    for tag, build in builders.items():
        if tag in data:
            return build([plain(v) for v in data[tag]])
    if "d" in data:
        return {plain(k): plain(v) for k, v in data["d"]}
    if "it" in data:
        return plain(data["items"])
    raise NotPlain("an object")
