"""Shapes: what a parameter's values look like, read from annotations, then narrowed or widened (pure)."""

from __future__ import annotations

import ast
import string
from collections.abc import Sequence
from dataclasses import dataclass, replace

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


def dotted_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.attr if node.value.id in ("typing", "t", "collections", "abc") else None
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
        return node.attr if dotted_name(node.value) == "abc" else None
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
        return one_of([from_annotation(node.left), from_annotation(node.right)])
    if isinstance(node, ast.Subscript):
        return _from_generic(node)
    name = dotted_name(node)
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


def one_of(shapes: Sequence[Shape | None]) -> Shape | None:
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
    name = dotted_name(node.value)
    args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
    if name == "Optional":
        return one_of([NoneS(), from_annotation(args[0])])
    if name == "Union":
        return one_of([from_annotation(a) for a in args])
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
        letters = alphabet_of("".join(shape.words))
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


def alphabet_of(text: str) -> str:
    """Letters, digits and symbols seen; a class seen with 3+ members stands for its whole class."""
    seen = set(text)
    out: set[str] = set()
    for members in (string.ascii_lowercase, string.ascii_uppercase, string.digits):
        present = seen & set(members)
        out |= set(members) if len(present) >= 3 else present
        seen -= set(members)
    out |= seen
    return "".join(sorted(out))
