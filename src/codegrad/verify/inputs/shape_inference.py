"""Infer a parameter's shape from the values seen for it: examples, defaults, values in prose (pure)."""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from codegrad.verify.inputs.shapes import (
    LIST_MAX,
    TEXT_MAX,
    BoolS,
    BytesS,
    DictS,
    FloatS,
    GridS,
    IntS,
    NoneS,
    NumTextS,
    OneOfS,
    PatternS,
    SampledS,
    SeqS,
    Shape,
    TextS,
    TupleS,
    WordsS,
    alphabet_of,
    one_of,
)


def _kind_of(value: Any) -> str:
    for kind, types in (
        ("bool", bool),
        ("int", int),
        ("float", float),
        ("str", str),
        ("bytes", bytes),
        ("list", list),
        ("tuple", tuple),
        ("dict", dict),
        ("set", set),
        ("frozenset", frozenset),
    ):
        if isinstance(value, types):
            return kind
    return "none" if value is None else "other"


def infer(values: Sequence[Any]) -> Shape | None:
    """The shape of a parameter's domain from the values seen for it (None: cannot tell)."""
    groups: dict[str, list[Any]] = {}
    for value in values:
        groups.setdefault(_kind_of(value), []).append(value)
    shapes: list[Shape] = []
    for kind, group in groups.items():
        shape = _INFER[kind](group)
        if shape is None:
            return None
        shapes.append(shape)
    if not shapes:
        return None
    return shapes[0] if len(shapes) == 1 else OneOfS(tuple(shapes))


def _widen(lo: float, hi: float) -> float:
    return max(2.0, (hi - lo) / 2, max(abs(lo), abs(hi)) / 2)


def _infer_int(values: list[Any]) -> Shape:
    lo, hi = min(values), max(values)
    room = int(_widen(lo, hi))
    # the sign and the small boundary values (0, 1) that no example shows stay out
    new_lo = lo if lo <= 1 and lo >= 0 else max(2, lo - room) if lo >= 2 else lo - room
    new_hi = hi + room if hi > 0 else hi if hi >= -1 else min(-2, hi + room)
    return IntS(new_lo, new_hi)


def _infer_float(values: list[Any]) -> Shape:
    """The range the values span, widened; infinities and NaN (tests pass `math.inf` too) do not
    stretch it."""
    finite = [float(v) for v in values if math.isfinite(v)] or [0.0]
    lo, hi = min(finite), max(finite)
    room = _widen(lo, hi)
    new_lo = 0.0 if lo >= 0 else lo - room
    new_hi = hi + room if hi > 0 else 0.0
    return FloatS(new_lo, new_hi)


def _infer_bool(values: list[Any]) -> Shape:
    return BoolS()


def _infer_none(values: list[Any]) -> Shape:
    return NoneS()


def _is_int_text(s: str) -> bool:
    body = s[1:] if s.startswith("-") else s
    return body.isdigit() and body.isascii()


def _is_float_text(s: str) -> bool:
    body = s[1:] if s.startswith("-") else s
    whole, dot, frac = body.partition(".")
    return bool(dot) and whole.isdigit() and frac.isdigit() and body.isascii()


def _infer_str(values: list[Any]) -> Shape:
    shape = _infer_number_text(values) or _infer_patterns(values)
    if shape is not None:
        return shape
    if any(" " in v.strip(" ") for v in values):
        return _infer_words(values)
    return TextS(alphabet_of("".join(values)), *_sizes([len(v) for v in values], TEXT_MAX * 2))


def _infer_number_text(values: list[str]) -> Shape | None:
    """Strings that all spell an int (or all a decimal number)."""
    if not values or not all(values):
        return None
    if all(_is_int_text(v) for v in values):
        return NumTextS(IntS(*_bounds(_infer_int([int(v) for v in values]))))
    if all(_is_int_text(v) or _is_float_text(v) for v in values):
        return NumTextS(FloatS(*_bounds(_infer_float([float(v) for v in values]))))
    return None


_RUN = re.compile(r"\d+|[A-Za-z]+|.", re.DOTALL)


def _runs(value: str) -> list[str]:
    return _RUN.findall(value)


def _layout(value: str) -> tuple[str, ...]:
    return tuple("9" if r.isdigit() else "a" if r.isalpha() else r for r in _runs(value))


def _infer_patterns(values: list[str]) -> Shape | None:
    """At most 3 layouts of digit runs, letter runs and symbols, e.g. "1/5" or "5,1" and "6"."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for value in values:
        groups.setdefault(_layout(value), []).append(value)
    if len(groups) > 3 or any("9" not in layout for layout in groups):
        return None
    if all(k in ("9", "a") for layout in groups for k in layout):
        return None  # plain letters and digits: an alphabet describes them as well
    return one_of([_pattern(layout, group) for layout, group in groups.items()])


def _pattern(layout: tuple[str, ...], values: list[str]) -> Shape:
    columns = list(zip(*(_runs(v) for v in values), strict=True))
    parts: list[Shape] = []
    for kind, column in zip(layout, columns, strict=True):
        if kind == "9" and not any(len(c) > 1 and c.startswith("0") for c in column):
            parts.append(NumTextS(IntS(*_bounds(_infer_int([int(c) for c in column])))))
        elif kind in ("9", "a"):
            sizes = _sizes([len(c) for c in column], TEXT_MAX)
            parts.append(TextS(alphabet_of("".join(column)), max(1, sizes[0]), max(1, sizes[1])))
        else:
            parts.append(SampledS((repr(kind),)))
    return parts[0] if len(parts) == 1 else PatternS(tuple(parts))


def _bounds(shape: Shape) -> tuple[Any, Any]:
    assert isinstance(shape, IntS | FloatS)
    return shape.lo, shape.hi


def _infer_words(values: list[str]) -> Shape:
    words: list[str] = []
    counts = []
    for value in values:
        parts = value.split(" ")
        counts.append(len(parts) if value else 0)
        words.extend(p for p in parts if p not in words)
    return WordsS(tuple(words), " ", *_sizes(counts, 12))


def _sizes(lengths: list[int], cap: int) -> tuple[int, int]:
    """(min_size, max_size): empty only if an example is empty, and at most 2 required items."""
    low = min(min(lengths), 2)
    return low, max(low, min(cap, max(max(lengths) * 2, 5)))


def _hashable(values: list[Any]) -> bool:
    try:
        for value in values:
            hash(value)
    except TypeError:
        return False
    return True


def _infer_seq(values: list[Any], container: str) -> Shape | None:
    pool = [item for value in values for item in value]
    elem = infer(pool) if pool else None
    if pool and elem is None:
        return None
    low, high = _sizes([len(v) for v in values], LIST_MAX * 2)
    lists = [list(v) for v in values]
    unique = container in ("set", "frozenset") or (
        _hashable(pool)
        and any(len(v) >= 2 for v in lists)
        and all(len(set(v)) == len(v) for v in lists)
    )
    ordered = container in ("list", "tuple") and _all_sorted(lists)
    return SeqS(elem, low, high, container, unique, ordered)


def _all_sorted(lists: list[list[Any]]) -> bool:
    long = [v for v in lists if len(v) >= 3]
    try:
        return len(long) >= 2 and all(v == sorted(v) for v in lists)
    except TypeError:
        return False


def _infer_list(values: list[Any]) -> Shape | None:
    return _infer_grid(values) or _infer_seq(values, "list")


def _infer_grid(values: list[Any]) -> Shape | None:
    """Every example is a non-empty list of equally long, non-empty lists: a grid."""
    if not all(v and all(isinstance(r, list) and r for r in v) for v in values):
        return None
    if not all(len({len(r) for r in v}) == 1 for v in values) or all(len(v) < 2 for v in values):
        return None
    elem = infer([x for v in values for r in v for x in r])
    if elem is None:
        return None
    rows = _sizes([len(v) for v in values], 6)
    cols = _sizes([len(v[0]) for v in values], 6)
    square = all(len(v) == len(v[0]) for v in values)
    return GridS(elem, (max(1, rows[0]), rows[1]), (max(1, cols[0]), cols[1]), square)


def _infer_tuple(values: list[Any]) -> Shape | None:
    lengths = {len(v) for v in values}
    if len(lengths) == 1 and 0 < next(iter(lengths)) <= 6:
        items = [infer([v[i] for v in values]) for i in range(next(iter(lengths)))]
        if all(item is not None for item in items):
            return TupleS(tuple(i for i in items if i is not None))
    return _infer_seq(values, "tuple")


def _infer_set(values: list[Any]) -> Shape | None:
    return _infer_seq(values, "set")


def _infer_frozenset(values: list[Any]) -> Shape | None:
    return _infer_seq(values, "frozenset")


def _infer_dict(values: list[Any]) -> Shape | None:
    keys = [k for v in values for k in v]
    items = [x for v in values for x in v.values()]
    key, value = (infer(keys), infer(items)) if keys else (None, None)
    if keys and (key is None or value is None):
        return None
    low = min(min(len(v) for v in values), 1)
    return DictS(key, value, low, max(5, 2 * max(len(v) for v in values)))


def _infer_other(values: list[Any]) -> Shape | None:
    reprs = literal_reprs(values)
    return SampledS(tuple(reprs)) if reprs else None


def _infer_bytes(values: list[Any]) -> Shape:
    return BytesS(max(TEXT_MAX, 2 * max(len(v) for v in values)))


_INFER: dict[str, Callable[[list[Any]], Shape | None]] = {
    "bool": _infer_bool,
    "int": _infer_int,
    "float": _infer_float,
    "str": _infer_str,
    "bytes": _infer_bytes,
    "list": _infer_list,
    "tuple": _infer_tuple,
    "dict": _infer_dict,
    "set": _infer_set,
    "frozenset": _infer_frozenset,
    "none": _infer_none,
    "other": _infer_other,
}


def literal_reprs(values: Sequence[Any]) -> list[str]:
    """Distinct reprs that evaluate back to an equal value (so they can be written into source)."""
    out: list[str] = []
    for value in values:
        text = repr(value)
        try:
            same = ast.literal_eval(text) == value
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            same = isinstance(value, set | frozenset) and not value  # set() / frozenset()
        if same and text not in out:
            out.append(text)
    return out
