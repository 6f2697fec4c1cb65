"""Write a runtime value as Python source a test can rebuild it from (literals, iterators, objects).

Objects of the project's classes become `_new(Class, attr=value, ...)`: an instance made without
calling `__init__`, with the recorded attributes (the helper is defined in every reproducer that
uses it: verify.recorded_reproducer.NEW_HELPER). Enum members become `Class.NAME`; objects whose repr rebuilds them are written as repr.
"""

from __future__ import annotations

import ast
import math
import sys
from collections.abc import Callable
from typing import Any

from codegrad.runners import values

MAX_LENGTH = 4000


class NoSource(Exception):
    """The value has no source form a test could rebuild it from."""


class Writer:
    """Renders values; collects the names to import and whether `_new` is needed."""

    def __init__(self, module_of: Callable[[type], str | None]) -> None:
        self.module_of = module_of  # the import name a test uses for a class's module, or None
        self.imports: dict[str, set[str]] = {}
        self.needs_new = False

    def write(self, value: Any, depth: int = 0) -> str:
        text = self._write(value, depth)
        if len(text) > MAX_LENGTH:
            raise NoSource("too long")
        return text

    def _write(self, value: Any, depth: int) -> str:
        if depth > 20:
            raise NoSource("nested too deeply")
        kind = type(value)
        if value is None or kind in (bool, int, str, bytes):
            return repr(value)
        if kind is float:
            return repr(value) if math.isfinite(value) else f"float({repr(value)!r})"
        if kind is complex:
            return (
                repr(value) if _literal(repr(value)) else f"complex({value.real!r}, {value.imag!r})"
            )
        if kind in (list, tuple):
            items = [self._write(v, depth + 1) for v in value]
            if kind is tuple:
                return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
            return "[" + ", ".join(items) + "]"
        if kind in (set, frozenset):
            items = sorted(self._write(v, depth + 1) for v in value)
            body = "{" + ", ".join(items) + "}" if items else ""
            return body if kind is set and items else f"{kind.__name__}({body})"
        if kind is dict:
            pairs = [
                f"{self._write(k, depth + 1)}: {self._write(v, depth + 1)}"
                for k, v in value.items()
            ]
            return "{" + ", ".join(pairs) + "}"
        return self._object(value, depth)

    def _name(self, kind: type) -> str:
        if kind.__module__ == "builtins":
            return kind.__qualname__
        module = self.module_of(kind)
        if module is None or "." in kind.__qualname__ or "<" in kind.__qualname__:
            raise NoSource(f"{kind.__qualname__} is not importable")
        self.imports.setdefault(module, set()).add(kind.__qualname__)
        return kind.__qualname__

    def name(self, module: str, qualname: str) -> str:
        """Import the top-level name of qualname from module; the dotted path to use in calls."""
        self.imports.setdefault(module, set()).add(qualname.split(".", 1)[0])
        return qualname

    def _global(self, value: Any) -> str | None:
        """A function, class or builtin method by the name a test imports it with (`str.lower`)."""
        owner = getattr(value, "__objclass__", None)
        module = getattr(owner if owner is not None else value, "__module__", None)
        qualname = getattr(value, "__qualname__", None)
        if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
            return None
        found: Any = sys.modules.get(module)
        for part in qualname.split("."):
            found = getattr(found, part, None)
        if found is not value and not (owner is not None and found == value):
            return None
        if module == "builtins":
            return qualname
        holder = type("_Holder", (), {"__module__": module})  # module_of reads a type's module
        name = self.module_of(holder)
        if name is None:
            return None
        self.imports.setdefault(name, set()).add(qualname.split(".", 1)[0])
        return qualname

    def _object(self, value: Any, depth: int) -> str:
        kind = type(value)
        if callable(value) and (named := self._global(value)) is not None:
            return named
        if _is_enum(value):
            return f"{self._name(kind)}.{value.name}"
        if getattr(kind, "__repr__", None) is not object.__repr__:
            shown = self._repr_source(value)
            if shown is not None:
                return shown
        attrs = attributes(value)
        if kind.__module__ == "builtins":  # functions, modules, object(): nothing to rebuild from
            raise NoSource(f"a {kind.__qualname__} cannot be written as source")
        if attrs is None or not all(isinstance(k, str) and k.isidentifier() for k in attrs):
            raise NoSource(f"{kind.__qualname__} has no recordable state")
        name = self._name(kind)
        self.needs_new = True
        parts = [f"{k}={self._write(v, depth + 1)}" for k, v in attrs.items()]
        return f"_new({', '.join([name, *parts])})"

    def _repr_source(self, value: Any) -> str | None:
        """repr(value) when evaluating it with the class in scope gives an equivalent value."""
        kind = type(value)
        try:
            text = repr(value)
            tree = ast.parse(text, mode="eval")
        except Exception:  # noqa: BLE001 - a broken __repr__ or not an expression
            return None
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        if not names <= {kind.__name__, "True", "False", "None"} or len(text) > MAX_LENGTH:
            return None
        try:
            rebuilt = eval(compile(tree, "<repr>", "eval"), {kind.__name__: kind})
        except Exception:  # noqa: BLE001 - the repr is not source
            return None
        if type(rebuilt) is not kind or not values.equivalent(rebuilt, value):
            return None
        if kind.__name__ in names:
            self._name(kind)
        return text

    def import_lines(self) -> list[str]:
        return [
            f"from {module} import {', '.join(sorted(names))}"
            for module, names in sorted(self.imports.items())
        ]


def _literal(text: str) -> bool:
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


def iterator_source(kind: str, items_source: str) -> str:
    """A fresh iterator over the items, of the kind the test passed (a generator when it was one)."""
    if kind == "generator":
        return f"(item for item in {items_source})"
    return f"iter({items_source})"


def _is_enum(value: Any) -> bool:
    return any(k.__name__ == "Enum" and k.__module__ == "enum" for k in type(value).__mro__)


def attributes(value: Any) -> dict[str, Any] | None:
    """An object's attributes (`__dict__` and `__slots__`), or None when it has neither."""
    out: dict[str, Any] = {}
    found = False
    own = getattr(value, "__dict__", None)
    if isinstance(own, dict):
        out.update(own)
        found = True
    for kind in type(value).__mro__:
        slots = kind.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name in ("__dict__", "__weakref__"):
                continue
            found = True
            try:
                out[name] = object.__getattribute__(value, name)
            except AttributeError:
                continue
    return out if found else None
