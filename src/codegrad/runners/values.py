"""Describe values for reports and compare them tolerantly (floats, containers, NaN), in the sandbox."""

from __future__ import annotations

import math
import reprlib
from typing import Any

_REPR = reprlib.Repr()
_REPR.maxstring = 200
_REPR.maxother = 200
_REPR.maxlist = 30
_REPR.maxtuple = 30
_REPR.maxdict = 20
_REPR.maxset = 20


def describe(value: Any, limit: int = 400) -> str:
    """A short, readable repr (cut at `limit` characters) that never raises; an object with the
    default repr (which shows a memory address) is shown by its attributes instead."""
    try:
        text = _by_state(value) if _default_repr(value) else _REPR.repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ must not break the report
        text = f"<{type(value).__name__} with failing repr: {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _default_repr(value: Any) -> bool:
    return getattr(type(value), "__repr__", None) is object.__repr__


def _by_state(value: Any) -> str:
    attrs = state(value)
    if attrs is None:
        return f"<{type(value).__qualname__} object>"
    parts = ", ".join(f"{k}={_REPR.repr(v)}" for k, v in list(attrs.items())[:20])
    return f"<{type(value).__qualname__} {parts}>"


def equivalent(
    a: Any, b: Any, rel_tol: float = 1e-6, abs_tol: float = 1e-9, _depth: int = 0
) -> bool:
    """Equality that forgives float formatting/rounding noise and treats NaN as equal to NaN."""
    if _depth > 50:
        return bool(a == b)
    if isinstance(a, bool) or isinstance(b, bool):
        return (
            type(a) is type(b) and a == b
            if isinstance(a, bool) and isinstance(b, bool)
            else _plain_eq(a, b)
        )
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        fa, fb = float(a), float(b)
        if math.isnan(fa) and math.isnan(fb):
            return True
        if math.isinf(fa) or math.isinf(fb):
            return fa == fb
        return math.isclose(fa, fb, rel_tol=rel_tol, abs_tol=abs_tol)
    if isinstance(a, complex) and isinstance(b, complex):
        return equivalent(a.real, b.real, rel_tol, abs_tol, _depth + 1) and equivalent(
            a.imag, b.imag, rel_tol, abs_tol, _depth + 1
        )
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if type(a) is not type(b) or len(a) != len(b):
            return False
        return all(
            equivalent(x, y, rel_tol, abs_tol, _depth + 1) for x, y in zip(a, b, strict=False)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return False
        return all(equivalent(a[k], b[k], rel_tol, abs_tol, _depth + 1) for k in a)
    if _plain_eq(a, b):
        return True
    if twins(a, b) or (type(a) is type(b) and _identity_eq(type(a))):
        return _same_state(a, b, rel_tol, abs_tol, _depth)
    return False


def twins(a: Any, b: Any) -> bool:
    """Objects of two versions of the same class (base's and head's copy of a module)."""
    ta, tb = type(a), type(b)
    return ta is not tb and ta.__qualname__ == tb.__qualname__ and ta.__name__ == tb.__name__


def _identity_eq(kind: type) -> bool:
    return getattr(kind, "__eq__", None) is object.__eq__


def state(value: Any) -> dict[str, Any] | None:
    """An object's attributes (its __dict__ and __slots__), or None when it has neither."""
    out: dict[str, Any] = {}
    found = False
    attrs = getattr(value, "__dict__", None)
    if isinstance(attrs, dict):
        out.update(attrs)
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


def _same_state(a: Any, b: Any, rel_tol: float, abs_tol: float, depth: int) -> bool:
    """Structural equality: same class name and equivalent attributes (enum members by name)."""
    if _is_enum(a) or _is_enum(b):
        return _is_enum(a) and _is_enum(b) and a.name == b.name
    sa, sb = state(a), state(b)
    if sa is None or sb is None:
        return False
    return equivalent(sa, sb, rel_tol, abs_tol, depth + 1)


def _is_enum(value: Any) -> bool:
    return any(k.__name__ == "Enum" and k.__module__ == "enum" for k in type(value).__mro__)


def _plain_eq(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - e.g. numpy arrays' ambiguous truth value
        try:
            return repr(a) == repr(b)
        except Exception:  # noqa: BLE001
            return False


def exception_signature(exc: BaseException) -> str:
    """How two runs are judged to fail 'the same way': the exception's type name."""
    return type(exc).__qualname__
