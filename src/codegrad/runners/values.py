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
    """A short, readable repr (cut at `limit` characters) that never raises."""
    try:
        text = _REPR.repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ must not break the report
        text = f"<{type(value).__name__} with failing repr: {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
    return _plain_eq(a, b)


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
