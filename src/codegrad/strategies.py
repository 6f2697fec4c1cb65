"""Hypothesis strategies for a target's parameters, as source text, from annotations, examples and defaults."""

from __future__ import annotations

import ast
import math
import re
import string
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from codegrad import examples
from codegrad.model import Target

# ---------------------------------------------------------------- shapes: what a value looks like

INT_LIMIT = 1000  # annotation-only integers stay in [-INT_LIMIT, INT_LIMIT]: loops over n must end
FLOAT_LIMIT = 1e6
TEXT_MAX = 20
LIST_MAX = 10


@dataclass(frozen=True)
class IntS:
    lo: int
    hi: int


@dataclass(frozen=True)
class FloatS:
    lo: float
    hi: float


@dataclass(frozen=True)
class BoolS:
    pass


@dataclass(frozen=True)
class NoneS:
    pass


@dataclass(frozen=True)
class TextS:
    alphabet: str | None  # None: any text
    min_size: int
    max_size: int


@dataclass(frozen=True)
class NumTextS:
    """Strings that spell a number, e.g. "10" or "-14.5"."""

    number: IntS | FloatS


@dataclass(frozen=True)
class WordsS:
    """Strings made of the observed words joined by one separator."""

    words: tuple[str, ...]
    sep: str
    min_size: int
    max_size: int


@dataclass(frozen=True)
class PatternS:
    """Strings with one layout of runs, e.g. digits "/" digits for "1/5" and "10/2"."""

    parts: tuple[Shape, ...]  # literal separators are one-value SampledS


@dataclass(frozen=True)
class BytesS:
    max_size: int


@dataclass(frozen=True)
class SeqS:
    elem: Shape | None  # None: not known yet (only empty examples); an annotation may fill it
    min_size: int
    max_size: int
    container: str = "list"  # list | tuple | set | frozenset
    unique: bool = False
    ordered: bool = False


@dataclass(frozen=True)
class GridS:
    """Lists of equally long rows (square when every example is square)."""

    elem: Shape
    rows: tuple[int, int]
    cols: tuple[int, int]
    square: bool


@dataclass(frozen=True)
class TupleS:
    items: tuple[Shape, ...]


@dataclass(frozen=True)
class DictS:
    key: Shape | None
    value: Shape | None
    min_size: int
    max_size: int


@dataclass(frozen=True)
class OneOfS:
    options: tuple[Shape, ...]


@dataclass(frozen=True)
class SampledS:
    values: tuple[str, ...]  # source reprs


Shape = (
    IntS
    | FloatS
    | BoolS
    | PatternS
    | NoneS
    | TextS
    | NumTextS
    | WordsS
    | BytesS
    | SeqS
    | GridS
    | TupleS
    | DictS
    | OneOfS
    | SampledS
)


# ---------------------------------------------------------------- shapes from observed values


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
    lo, hi = float(min(values)), float(max(values))
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
    return TextS(_alphabet("".join(values)), *_sizes([len(v) for v in values], TEXT_MAX * 2))


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
    return _one_of([_pattern(layout, group) for layout, group in groups.items()])


def _pattern(layout: tuple[str, ...], values: list[str]) -> Shape:
    columns = list(zip(*(_runs(v) for v in values), strict=True))
    parts: list[Shape] = []
    for kind, column in zip(layout, columns, strict=True):
        if kind == "9" and not any(len(c) > 1 and c.startswith("0") for c in column):
            parts.append(NumTextS(IntS(*_bounds(_infer_int([int(c) for c in column])))))
        elif kind in ("9", "a"):
            sizes = _sizes([len(c) for c in column], TEXT_MAX)
            parts.append(TextS(_alphabet("".join(column)), max(1, sizes[0]), max(1, sizes[1])))
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


def _alphabet(text: str) -> str:
    """Letters, digits and symbols seen; a class seen with 3+ members stands for its whole class."""
    seen = set(text)
    out: set[str] = set()
    for members in (string.ascii_lowercase, string.ascii_uppercase, string.digits):
        present = seen & set(members)
        out |= set(members) if len(present) >= 3 else present
        seen -= set(members)
    out |= seen
    return "".join(sorted(out))


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
    reprs = _literal_reprs(values)
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


def _literal_reprs(values: Sequence[Any]) -> list[str]:
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


# ---------------------------------------------------------------- shapes from annotations

_SEQ_NAMES = {
    "list": "list",
    "List": "list",
    "Sequence": "list",
    "MutableSequence": "list",
    "Iterable": "list",
    "Collection": "list",
    "Reversible": "list",
    "set": "set",
    "Set": "set",
    "AbstractSet": "set",
    "MutableSet": "set",
    "frozenset": "frozenset",
    "FrozenSet": "frozenset",
}
_MAP_NAMES = {"dict", "Dict", "Mapping", "MutableMapping", "OrderedDict", "DefaultDict"}


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.attr if node.value.id in ("typing", "t", "collections", "abc") else None
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
        return node.attr if _dotted(node.value) == "abc" else None
    return None


def from_annotation(node: ast.expr | None) -> Shape | None:
    """The shape an annotation allows (None: not one we can generate)."""
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        if node.value is None:
            return NoneS()
        if isinstance(node.value, str):
            try:
                return from_annotation(ast.parse(node.value, mode="eval").body)
            except SyntaxError:
                return None
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _one_of([from_annotation(node.left), from_annotation(node.right)])
    if isinstance(node, ast.Subscript):
        return _from_generic(node)
    name = _dotted(node)
    simple: dict[str, Shape] = {
        "int": IntS(-INT_LIMIT, INT_LIMIT),
        "float": FloatS(-FLOAT_LIMIT, FLOAT_LIMIT),
        "str": TextS(None, 0, TEXT_MAX),
        "bool": BoolS(),
        "bytes": BytesS(TEXT_MAX),
        "None": NoneS(),
        "NoneType": NoneS(),
        "tuple": SeqS(IntS(-INT_LIMIT, INT_LIMIT), 0, LIST_MAX, "tuple"),
        "Tuple": SeqS(IntS(-INT_LIMIT, INT_LIMIT), 0, LIST_MAX, "tuple"),
    }
    if name in simple:
        return simple[name]
    if name in _SEQ_NAMES:
        return SeqS(None, 0, LIST_MAX, _SEQ_NAMES[name])
    if name in _MAP_NAMES:
        return DictS(None, None, 0, 5)
    return None


def _one_of(shapes: Sequence[Shape | None]) -> Shape | None:
    if any(s is None for s in shapes):
        return None
    flat: list[Shape] = []
    for shape in shapes:
        assert shape is not None
        for option in shape.options if isinstance(shape, OneOfS) else (shape,):
            if option not in flat:
                flat.append(option)
    return flat[0] if len(flat) == 1 else OneOfS(tuple(flat))


def _from_generic(node: ast.Subscript) -> Shape | None:
    name = _dotted(node.value)
    args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
    if name == "Optional":
        return _one_of([NoneS(), from_annotation(args[0])])
    if name == "Union":
        return _one_of([from_annotation(a) for a in args])
    if name in _SEQ_NAMES:
        elem = from_annotation(args[0])
        return None if elem is None else SeqS(elem, 0, LIST_MAX, _SEQ_NAMES[name])
    if name in ("tuple", "Tuple"):
        if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis:
            elem = from_annotation(args[0])
            return None if elem is None else SeqS(elem, 0, LIST_MAX, "tuple")
        items = [from_annotation(a) for a in args]
        if any(i is None for i in items):
            return None
        return TupleS(tuple(i for i in items if i is not None))
    if name in _MAP_NAMES and len(args) == 2:
        key, value = from_annotation(args[0]), from_annotation(args[1])
        return None if key is None or value is None else DictS(key, value, 0, 5)
    if name == "Literal":
        reprs = [ast.unparse(a) for a in args]
        return SampledS(tuple(reprs))
    return None


# ---------------------------------------------------------------- combining and widening


def narrow(annotated: Shape | None, observed: Shape | None) -> Shape | None:
    """Examples narrow the annotation's domain; the annotation fills what examples leave open."""
    if observed is None:
        return annotated
    if annotated is None:
        return observed
    if isinstance(annotated, FloatS) and isinstance(observed, IntS):
        return FloatS(float(observed.lo), float(observed.hi))
    if isinstance(annotated, SeqS) and isinstance(observed, SeqS):
        elem = narrow(annotated.elem, observed.elem)
        return replace(observed, elem=elem, container=annotated.container)
    if (
        isinstance(annotated, TupleS)
        and isinstance(observed, TupleS)
        and len(annotated.items) == len(observed.items)
    ):
        items = [narrow(a, o) for a, o in zip(annotated.items, observed.items, strict=True)]
        return TupleS(tuple(i for i in items if i is not None))
    if isinstance(annotated, DictS) and isinstance(observed, DictS):
        return replace(
            observed,
            key=narrow(annotated.key, observed.key),
            value=narrow(annotated.value, observed.value),
        )
    if isinstance(annotated, OneOfS) and not isinstance(observed, OneOfS):
        for option in annotated.options:
            if type(option) is type(observed) or (
                isinstance(option, FloatS) and isinstance(observed, IntS)
            ):
                return narrow(option, observed)
    return observed


def widen(shape: Shape) -> Shape:
    """A looser domain for the differential check: the base version decides what is out of domain."""
    if isinstance(shape, IntS):
        return OneOfS((shape, IntS(min(shape.lo, -3), max(shape.hi, 3))))
    if isinstance(shape, FloatS):
        return OneOfS((shape, FloatS(min(shape.lo, -3.0), max(shape.hi, 3.0))))
    if isinstance(shape, TextS):
        alphabet = (
            None if shape.alphabet is None else "".join(sorted(set(shape.alphabet) | set(" aZ0")))
        )
        return OneOfS((shape, TextS(alphabet, 0, shape.max_size)))
    if isinstance(shape, WordsS):
        letters = _alphabet("".join(shape.words))
        return OneOfS(
            (shape, replace(shape, min_size=0), TextS(letters + shape.sep, 0, 2 * TEXT_MAX))
        )
    if isinstance(shape, NumTextS):
        return OneOfS((shape, NumTextS(_as_wide_number(shape.number))))
    if isinstance(shape, SeqS):
        elem = widen(shape.elem) if shape.elem is not None else None
        return replace(
            shape,
            elem=elem,
            min_size=0,
            unique=shape.container in ("set", "frozenset"),
            ordered=False,
        )
    if isinstance(shape, TupleS):
        return TupleS(tuple(widen(i) for i in shape.items))
    if isinstance(shape, GridS):
        row = SeqS(widen(shape.elem), 0, shape.cols[1])
        return OneOfS((shape, SeqS(row, 0, shape.rows[1])))
    if isinstance(shape, DictS):
        return replace(
            shape,
            key=shape.key,
            value=widen(shape.value) if shape.value is not None else None,
            min_size=0,
        )
    if isinstance(shape, OneOfS):
        return OneOfS(tuple(widen(o) for o in shape.options))
    return shape


def _as_wide_number(number: IntS | FloatS) -> IntS | FloatS:
    if isinstance(number, IntS):
        return IntS(min(number.lo, -3), max(number.hi, 3))
    return FloatS(min(number.lo, -3.0), max(number.hi, 3.0))


# ---------------------------------------------------------------- shapes -> strategy source


def render(shape: Shape) -> str | None:
    """Hypothesis strategy source for a shape (None if part of it is still unknown)."""
    renderer = _RENDER.get(type(shape))
    return renderer(shape) if renderer is not None else None


def _r_int(s: Any) -> str:
    return f"st.integers(min_value={s.lo}, max_value={s.hi})"


def _r_float(s: Any) -> str:
    return (
        f"st.floats(min_value={float(s.lo)!r}, max_value={float(s.hi)!r}, "
        "allow_nan=False, allow_infinity=False, allow_subnormal=False)"
    )


def _r_bool(s: Any) -> str:
    return "st.booleans()"


def _r_none(s: Any) -> str:
    return "st.none()"


def _r_text(s: Any) -> str:
    alphabet = "" if s.alphabet is None else f"alphabet={s.alphabet!r}, "
    return f"st.text({alphabet}min_size={s.min_size}, max_size={s.max_size})"


def _r_numtext(s: Any) -> str:
    if isinstance(s.number, IntS):
        return f"{_r_int(s.number)}.map(str)"
    lo, hi = math.floor(s.number.lo * 10), math.ceil(s.number.hi * 10)
    return (
        f"st.one_of(st.integers(min_value={math.floor(s.number.lo)}, max_value={math.ceil(s.number.hi)}).map(str), "
        f"st.integers(min_value={lo}, max_value={hi}).map(lambda n: str(n / 10)))"
    )


def _r_words(s: Any) -> str:
    return (
        f"st.lists(st.sampled_from({list(s.words)!r}), min_size={s.min_size}, max_size={s.max_size})"
        f".map({s.sep!r}.join)"
    )


def _r_pattern(s: Any) -> str | None:
    parts = [render(p) for p in s.parts]
    if any(p is None for p in parts):
        return None
    return f"st.tuples({', '.join(p for p in parts if p is not None)}).map(''.join)"


def _r_bytes(s: Any) -> str:
    return f"st.binary(max_size={s.max_size})"


def _r_seq(s: Any) -> str | None:
    if s.elem is None:  # only empty examples and no annotation: the empty container
        return f"st.builds({s.container})"
    elem = render(s.elem)
    if elem is None:
        return None
    if s.container in ("set", "frozenset"):
        return f"st.{s.container}s({elem}, min_size={s.min_size}, max_size={s.max_size})"
    unique = ", unique=True" if s.unique else ""
    text = f"st.lists({elem}, min_size={s.min_size}, max_size={s.max_size}{unique})"
    if s.ordered:
        text += ".map(sorted)"
    if s.container == "tuple":
        text += ".map(tuple)"
    return text


def _r_grid(s: Any) -> str | None:
    elem = render(s.elem)
    if elem is None:
        return None
    if s.square:
        lo, hi = max(s.rows[0], s.cols[0]), max(s.rows[1], s.cols[1])
        return (
            f"st.integers(min_value={lo}, max_value={hi}).flatmap("
            f"lambda n: st.lists(st.lists({elem}, min_size=n, max_size=n), min_size=n, max_size=n))"
        )
    return (
        f"st.integers(min_value={s.cols[0]}, max_value={s.cols[1]}).flatmap("
        f"lambda m: st.lists(st.lists({elem}, min_size=m, max_size=m), "
        f"min_size={s.rows[0]}, max_size={s.rows[1]}))"
    )


def _r_tuple(s: Any) -> str | None:
    items = [render(i) for i in s.items]
    if any(i is None for i in items):
        return None
    return f"st.tuples({', '.join(i for i in items if i is not None)})"


def _r_dict(s: Any) -> str | None:
    if s.key is None and s.value is None:
        return "st.builds(dict)"
    key = render(s.key) if s.key is not None else None
    value = render(s.value) if s.value is not None else None
    if key is None or value is None:
        return None
    return f"st.dictionaries({key}, {value}, min_size={s.min_size}, max_size={s.max_size})"


def _r_one_of(s: Any) -> str | None:
    options = [render(o) for o in s.options]
    if any(o is None for o in options):
        return None
    return f"st.one_of({', '.join(o for o in options if o is not None)})"


def _r_sampled(s: Any) -> str:
    return f"st.sampled_from([{', '.join(s.values)}])"


_RENDER: dict[type, Callable[[Any], str | None]] = {
    IntS: _r_int,
    FloatS: _r_float,
    BoolS: _r_bool,
    NoneS: _r_none,
    TextS: _r_text,
    NumTextS: _r_numtext,
    WordsS: _r_words,
    PatternS: _r_pattern,
    BytesS: _r_bytes,
    SeqS: _r_seq,
    GridS: _r_grid,
    TupleS: _r_tuple,
    DictS: _r_dict,
    OneOfS: _r_one_of,
    SampledS: _r_sampled,
}


def with_samples(strategy: str, values: Sequence[Any]) -> str:
    """Mix the example values themselves in, so shrinking lands on realistic inputs."""
    reprs = _literal_reprs(values)
    if not reprs:
        return strategy
    return f"st.one_of(st.sampled_from([{', '.join(reprs)}]), {strategy})"


# ---------------------------------------------------------------- docstring examples


@dataclass(frozen=True)
class ExampleArgs:
    """One docstring example call: argument reprs (and the expected output's source, if any)."""

    args: tuple[str, ...]
    kwargs: tuple[tuple[str, str], ...] = ()
    expected: str | None = None
    raises: bool = False  # the docstring says this call raises: an input outside the domain


def example_calls(
    docstring: str | None, name: str, params: Sequence[str] = ()
) -> list[tuple[str, str | None, bool]]:
    """(call source, expected source, raises) for each docstring example of `name`."""
    if not docstring:
        return []
    found = examples.extract(docstring, name, params=list(params) or None)
    return [(e.call, e.expected, e.expects_exception is not None) for e in found]


def _called(node: ast.Call) -> str | None:
    func = node.func
    return (
        func.id
        if isinstance(func, ast.Name)
        else func.attr
        if isinstance(func, ast.Attribute)
        else None
    )


def find_call(call: str, name: str) -> tuple[ast.Call, bool] | None:
    """The first call of `name` in an expression, and whether it is the whole expression."""
    try:
        tree = ast.parse(call.strip(), mode="eval")
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called(node) == name:
            return node, node is tree.body
    return None


def parse_call(call: str, name: str, *, bare_names: bool = False) -> ExampleArgs | None:
    """Argument reprs of the `name(...)` call in an expression when all are literals, else None.

    bare_names: prose such as `is_happy(abc)` means the string 'abc'.
    """
    found = find_call(call, name)
    if found is None:
        return None
    node = found[0]
    if any(isinstance(a, ast.Starred) for a in node.args) or any(
        k.arg is None for k in node.keywords
    ):
        return None
    try:
        args = tuple(_literal_source(a, bare_names) for a in node.args)
        kwargs = tuple(
            (k.arg, _literal_source(k.value, bare_names)) for k in node.keywords if k.arg
        )
    except ValueError:
        return None
    return ExampleArgs(args, kwargs)


def _literal_source(node: ast.expr, bare_names: bool = False) -> str:
    if bare_names and isinstance(node, ast.Name) and node.id not in ("True", "False", "None"):
        return repr(node.id)
    source = ast.unparse(node)
    try:
        ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        if source not in ("set()", "frozenset()"):
            raise ValueError(source) from None
    return source


def literal(source: str) -> Any:
    """The value of a literal's source (set() and frozenset() included)."""
    if source == "set()":
        return set()
    if source == "frozenset()":
        return frozenset()
    return ast.literal_eval(source)


# ---------------------------------------------------------------- values mined from prose


def _mined_calls(docstring: str, name: str) -> list[ExampleArgs]:
    """`name(...)` calls anywhere in the text, bare words read as strings (when no example parses)."""
    out: list[ExampleArgs] = []
    for match in re.finditer(rf"\b{re.escape(name)}\s*\(", docstring):
        end = _closing(docstring, match.end() - 1)
        if end is None:
            continue
        parsed = parse_call(docstring[match.start() : end], name, bare_names=True)
        if parsed is not None and parsed not in out:
            out.append(parsed)
    return out


def _closing(text: str, start: int) -> int | None:
    """Index just past the bracket matching text[start] (quotes respected, one line of slack)."""
    depth, quote = 0, ""
    for index in range(start, min(len(text), start + 2000)):
        char = text[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return index + 1
    return None


def mined_values(docstring: str, param: str) -> list[Any]:
    """Literal values the prose assigns to a parameter: `arr = [1, 2]`, `grid : [[0, 1]]`."""
    out: list[Any] = []
    pattern = rf"(?<![\w.])(?:\w+_)?{re.escape(param)}\s*[:=]\s*(?=[-\w\[({{'\"])"
    for match in re.finditer(pattern, docstring):
        value = _leading_literal(docstring[match.end() :])
        if value is not _NO_VALUE and value not in out:
            out.append(value)
    return out


class _NoValue:
    pass


_NO_VALUE = _NoValue()


def _leading_literal(text: str) -> Any:
    """The literal at the start of text (a bracketed one, or one word), else _NO_VALUE."""
    if text[:1] in "[({'\"":
        end = _closing(text, 0) if text[0] in "[({" else text.find(text[0], 1) + 1
        candidate = text[:end] if end else ""
    else:
        candidate = re.split(r"[\s,;]", text, maxsplit=1)[0].rstrip(".")
    try:
        return literal(candidate)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _NO_VALUE


_PROSE = (
    ("positive integer", IntS(1, 20)),
    ("non-negative integer", IntS(0, 20)),
    ("nonnegative integer", IntS(0, 20)),
    ("integer", IntS(-20, 20)),
    ("string", TextS(string.ascii_letters + " ", 0, TEXT_MAX)),
)


def prose_shape(docstring: str | None, param: str) -> Shape | None:
    """`a positive integer n`, `n is an integer`, `string s` in the docstring, for a bare parameter."""
    if not docstring:
        return None
    text = " ".join(docstring.split())
    name = re.escape(param)
    for phrase, shape in _PROSE:
        words = phrase.replace(" ", r"\s+")
        if re.search(rf"\b{words}s?\s+{name}\b", text, re.I) or re.search(
            rf"\b{name}\s+(?:is|be)\s+an?\s+{words}\b", text, re.I
        ):
            return shape
    return None


# ---------------------------------------------------------------- the plan


# For a parameter nothing describes: simple values of common kinds. Only the differential uses it,
# where the base version decides what is in the domain (inputs it crashes on are discarded).
GUESS = (
    "st.one_of(st.integers(min_value=-10, max_value=10), st.text(alphabet='abc xyzAB1', max_size=6), "
    "st.lists(st.integers(min_value=-10, max_value=10), max_size=6), "
    "st.lists(st.text(alphabet='abcxyz', max_size=4), max_size=5), "
    "st.floats(min_value=-10, max_value=10, allow_nan=False), "
    "st.lists(st.lists(st.integers(min_value=0, max_value=3), max_size=4), max_size=4), st.booleans())"
)


@dataclass(frozen=True)
class ParamPlan:
    """How to generate one argument."""

    name: str
    strategy: str  # narrow: the function's real domain (properties)
    wide: str  # looser: the differential (the base version rejects what is out of domain)
    origin: str  # annotation | examples | default | annotation+examples
    keyword: bool = False  # keyword-only: passed as name=value
    star: bool = False  # *args: the strategy draws a list of extra positional arguments


@dataclass(frozen=True)
class ArgPlan:
    """Everything needed to call the target on generated inputs."""

    function: str
    params: tuple[ParamPlan, ...]
    examples: tuple[ExampleArgs, ...] = ()
    returns: str | None = None  # the return annotation's source
    construct: str | None = None  # class to instantiate with no arguments (instance methods)
    guessed: str | None = None  # why some parameter only has the generic guess (differential only)


@dataclass(frozen=True)
class Skip:
    """Why no inputs can be generated for a target."""

    reason: str


FuncNode = ast.FunctionDef | ast.AsyncFunctionDef


def parse_def(source: str) -> FuncNode | None:
    """The function definition in a target's source (dedented; decorators allowed)."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return node
    return None


def plan(target: Target, module_source: str | None = None) -> ArgPlan | Skip:
    """Per-parameter strategies for a target, or why it cannot be planned."""
    if target.kind in ("nested", "property"):
        return Skip(f"{target.kind} functions are not called directly")
    node = parse_def(target.source)
    if node is None:
        return Skip("the function's source does not parse")
    construct = None
    if target.kind == "method":
        owner = target.class_name or target.qualname.rsplit(".", 1)[0]
        if module_source is None or not constructible(module_source, owner):
            return Skip(f"instance method of {owner}, which has no no-argument constructor")
        construct = owner
    docstring = target.docstring if target.docstring is not None else ast.get_docstring(node)
    return plan_def(
        node, docstring, drop_first=target.kind in ("method", "classmethod"), construct=construct
    )


def plan_def(
    node: FuncNode,
    docstring: str | None,
    *,
    drop_first: bool = False,
    construct: str | None = None,
) -> ArgPlan | Skip:
    """The plan for one parsed def (also used for round-trip partners)."""
    found = _example_args(node, docstring, drop_first)
    examples = _bound_examples(_parameters(node, drop_first), found)
    params: list[ParamPlan] = []
    guessed: str | None = None
    for param in _parameters(node, drop_first):
        values = [v for e in examples for v in e.get(param.name, [])]
        if not values and docstring:
            values = mined_values(docstring, param.name)
        made = _param_plan(param, values, docstring)
        if isinstance(made, Skip):
            guessed = guessed or made.reason
            made = ParamPlan(param.name, GUESS, GUESS, "guess", keyword=param.keyword)
        if made is not None:
            params.append(made)
    if not params:
        return Skip("no parameters to generate")
    return ArgPlan(
        function=node.name,
        params=tuple(params),
        examples=tuple(found),
        returns=ast.unparse(node.returns) if node.returns is not None else None,
        construct=construct,
        guessed=guessed,
    )


@dataclass(frozen=True)
class _Param:
    name: str
    annotation: ast.expr | None
    default: ast.expr | None
    keyword: bool = False
    star: bool = False
    double_star: bool = False


def _parameters(node: FuncNode, drop_first: bool) -> list[_Param]:
    a = node.args
    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults)) + list(
        a.defaults
    )
    out = [_Param(p.arg, p.annotation, d) for p, d in zip(positional, defaults, strict=True)]
    if drop_first and out:
        out = out[1:]
    if a.vararg is not None:
        out.append(_Param(a.vararg.arg, a.vararg.annotation, None, star=True))
    out += [
        _Param(p.arg, p.annotation, d, keyword=True)
        for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)
    ]
    if a.kwarg is not None:
        out.append(_Param(a.kwarg.arg, None, None, double_star=True))
    return out


def _param_plan(param: _Param, values: list[Any], docstring: str | None) -> ParamPlan | Skip | None:
    """One parameter's plan; None means: leave it out of the call (its default applies)."""
    if param.double_star:
        return None
    annotated = from_annotation(param.annotation)
    if annotated is None and not values and param.default is None:
        annotated = prose_shape(docstring, param.name)
    if param.star:
        return _star_plan(param, values, annotated)
    default = _default_value(param.default)
    has_default = param.default is not None
    usable_default = default is not _NO_DEFAULT and default is not None
    if not values and has_default and not usable_default:
        return None  # e.g. `key=None`: only the default is known to be in the domain
    pool = [*values, default] if usable_default else list(values)
    observed = infer(pool) if pool else None
    shape = narrow(annotated, observed)
    if shape is None:
        if has_default:
            return None
        return Skip(
            f"cannot infer a strategy for parameter {param.name!r} (no annotation, example or default)"
        )
    narrow_src, wide_src = render(shape), render(widen(shape))
    if narrow_src is None or wide_src is None:
        if has_default:
            return None
        return Skip(f"cannot build a strategy for parameter {param.name!r} (its type is not known)")
    sources = [
        ("annotation", annotated is not None),
        ("examples", bool(values)),
        ("default", usable_default),
    ]
    return ParamPlan(
        name=param.name,
        strategy=with_samples(narrow_src, values),
        wide=with_samples(wide_src, values),
        origin="+".join(name for name, used in sources if used),
        keyword=param.keyword,
    )


def _star_plan(param: _Param, values: list[Any], annotated: Shape | None) -> ParamPlan | None:
    counts = [len(v) for v in values if isinstance(v, list)]
    pool = [x for v in values if isinstance(v, list) for x in v]
    elem = narrow(annotated, infer(pool) if pool else None)
    if not counts or elem is None:
        return None
    low, high = min(counts), max(counts)
    source = render(SeqS(elem, low, high))
    wide = render(SeqS(widen(elem), low, high))
    if source is None or wide is None:
        return None
    return ParamPlan(param.name, source, wide, "examples", star=True)


class _NoDefault:
    pass


_NO_DEFAULT = _NoDefault()


def _default_value(node: ast.expr | None) -> Any:
    if node is None:
        return _NO_DEFAULT
    try:
        return literal(ast.unparse(node))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _NO_DEFAULT


def _example_args(node: FuncNode, docstring: str | None, drop_first: bool) -> list[ExampleArgs]:
    names = [p.name for p in _parameters(node, drop_first) if not (p.star or p.double_star)]
    out: list[ExampleArgs] = []
    calls = example_calls(docstring, node.name, names)
    for call, expected, raises in calls:
        parsed = parse_call(call, node.name)
        found = find_call(call, node.name)
        if parsed is not None and found is not None:
            out.append(replace(parsed, expected=expected if found[1] else None, raises=raises))
    if out or calls:
        # Real examples whose arguments are names (`f(iseven, sum, data)`) are not prose: reading
        # their names as strings would test the function far outside its domain.
        return out
    return _mined_calls(docstring or "", node.name)


def _bound_examples(
    params: Sequence[_Param], found: Sequence[ExampleArgs]
) -> list[dict[str, list[Any]]]:
    """Each in-domain example's values per parameter name (*args gets the list of extras)."""
    positional = [p for p in params if not (p.keyword or p.star or p.double_star)]
    star = next((p for p in params if p.star), None)
    out: list[dict[str, list[Any]]] = []
    for example in found:
        if example.raises:
            continue  # the docstring shows this input being rejected: outside the domain
        try:
            args = [literal(a) for a in example.args]
            kwargs = {k: literal(v) for k, v in example.kwargs}
        except (ValueError, SyntaxError):
            continue
        bound: dict[str, list[Any]] = {}
        for param, value in zip(positional, args, strict=False):
            bound[param.name] = [value]
        extra = args[len(positional) :]
        if extra and star is None:
            continue  # more arguments than the signature takes: not an example of this function
        if star is not None:
            bound[star.name] = [extra]
        for key, value in kwargs.items():
            bound.setdefault(key, []).append(value)
        out.append(bound)
    return out


def constructible(module_source: str, class_qualname: str) -> bool:
    """Whether `Class()` works by the source: no __init__ (or one whose parameters all have defaults)."""
    try:
        tree = ast.parse(module_source)
    except SyntaxError:
        return False
    body: list[ast.stmt] = tree.body
    cls: ast.ClassDef | None = None
    for part in class_qualname.split("."):
        cls = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == part), None)
        if cls is None:
            return False
        body = cls.body
    assert cls is not None
    if cls.decorator_list or any(_dotted(b) != "object" for b in cls.bases):
        return False
    init = next(
        (n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None
    )
    if init is None:
        return True
    a = init.args
    required = len(a.posonlyargs) + len(a.args) - 1 - len(a.defaults)
    return required <= 0 and all(d is not None for d in a.kw_defaults)
