"""Plan the efficiency check's inputs: how to build each argument of a function at size n (pure)."""

from __future__ import annotations

import ast
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codegrad.funcsource import FuncNode, parse_def
from codegrad.model import Target
from codegrad.verify.inputs import example_args, prose_values, shape_inference, shapes, strategies

_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Param:
    """How one argument is built: an expression over `n` (the size) and `rng` per input mode."""

    name: str
    keyword: bool
    sized: bool
    spread: str  # element values spread with n (distinct values, like real data)
    shape: str  # element values within the range the docstring examples show
    what: str  # "list of n ints", for messages


@dataclass(frozen=True)
class InputPlan:
    """The arguments of one target at size n, and the instance to call it on (methods)."""

    params: tuple[Param, ...]
    construct: str | None = None

    @property
    def sized(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.sized)

    def describe(self) -> str:
        return ", ".join(f"{p.name}: {p.what}" for p in self.params if p.sized)

    def builders(self) -> dict[str, str]:
        """Builder source per input mode (one mode when both modes build the same values)."""
        spread, shape = builder_source(self, "spread"), builder_source(self, "shape")
        return {"spread": spread} if spread == shape else {"spread": spread, "shape": shape}


_UNIQUE = """def _unique(make, count):
    seen, out = set(), []
    for _ in range(20 * count + 20):
        if len(out) >= count:
            break
        value = make()
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out
"""


def builder_source(plan: InputPlan, mode: str) -> str:
    """`def build(n, rng) -> (args, kwargs)` as source text, deterministic for a seeded rng."""
    args = [getattr(p, mode) for p in plan.params if not p.keyword]
    kwargs = [f"{p.name!r}: {getattr(p, mode)}" for p in plan.params if p.keyword]
    body = [
        "def build(n, rng):",
        f"    args = [{', '.join(args)}]",
        f"    kwargs = {{{', '.join(kwargs)}}}",
        "    return args, kwargs",
    ]
    text = "\n".join(body) + "\n"
    return (_UNIQUE + "\n\n" + text) if "_unique(" in text else text


def _int_expr(shape: shapes.IntS, spread: bool) -> str:
    if not spread:
        return f"rng.randint({shape.lo}, {shape.hi})"
    if shape.lo >= 0:
        return f"rng.randint({shape.lo}, {shape.lo} + 4 * n)"
    return "rng.randint(-2 * n, 2 * n)"


def _float_expr(shape: shapes.FloatS, spread: bool) -> str:
    if not spread:
        return f"rng.uniform({shape.lo!r}, {shape.hi!r})"
    if shape.lo >= 0:
        return f"rng.uniform({shape.lo!r}, {shape.lo!r} + 4.0 * n)"
    return "rng.uniform(-2.0 * n, 2.0 * n)"


def _count(low: int, high: int, cap: int = 6) -> str:
    top = max(low, min(high, cap))
    return str(low) if top == low else f"rng.randint({low}, {top})"


def element(shape: shapes.Shape | None, spread: bool) -> str | None:
    """An expression for one small value of the shape (element of a sized container, or fixed)."""
    s = shapes
    if shape is None:
        return element(s.IntS(-1000, 1000), spread)
    if isinstance(shape, s.IntS):
        return _int_expr(shape, spread)
    if isinstance(shape, s.FloatS):
        return _float_expr(shape, spread)
    if isinstance(shape, s.BoolS):
        return "rng.random() < 0.5"
    if isinstance(shape, s.NoneS):
        return "None"
    if isinstance(shape, s.SampledS):
        return f"rng.choice([{', '.join(shape.values)}])"
    if isinstance(shape, s.NumTextS):
        inner = element(shape.number, False)
        return None if inner is None else f"str({inner})"
    if isinstance(shape, s.TupleS):
        items = [element(i, spread) for i in shape.items]
        if any(i is None for i in items):
            return None
        return f"({', '.join(str(i) for i in items)}{',' if len(items) == 1 else ''})"
    if isinstance(shape, s.OneOfS):
        return next((e for e in (element(o, spread) for o in shape.options) if e), None)
    return _collection(shape, None, spread)


def _collection(shape: shapes.Shape, count: str | None, spread: bool) -> str | None:
    """A container/text expression with `count` elements (None: a small random count)."""
    s = shapes
    if isinstance(shape, s.TextS):
        alphabet = shape.alphabet or _ALPHABET
        size = count or _count(shape.min_size, shape.max_size, 8)
        return f"''.join(rng.choice({alphabet!r}) for _ in range({size}))"
    if isinstance(shape, s.WordsS):
        size = count or _count(max(1, shape.min_size), shape.max_size)
        return f"{shape.sep!r}.join(rng.choice({list(shape.words)!r}) for _ in range({size}))"
    if isinstance(shape, s.BytesS):
        size = count or _count(0, shape.max_size, 8)
        return f"bytes(rng.randrange(256) for _ in range({size}))"
    if isinstance(shape, s.SeqS):
        return _sequence(shape, count, spread)
    if isinstance(shape, s.GridS):
        inner = element(shape.elem, spread)
        if inner is None:
            return None
        rows = count or _count(shape.rows[0], shape.rows[1], 4)
        cols = count if count and shape.square else _count(shape.cols[0], shape.cols[1], 4)
        return f"[[{inner} for _ in range({cols})] for _ in range({rows})]"
    if isinstance(shape, s.DictS):
        key, value = element(shape.key, spread), element(shape.value, spread)
        if key is None or value is None:
            return None
        size = count or _count(shape.min_size, shape.max_size, 4)
        return f"dict(zip(_unique(lambda: {key}, {size}), [{value} for _ in range({size})]))"
    return None


def _sequence(shape: shapes.SeqS, count: str | None, spread: bool) -> str | None:
    inner = element(shape.elem, spread)
    if inner is None:
        return None
    size = count or _count(shape.min_size, shape.max_size)
    unique = shape.unique or shape.container in ("set", "frozenset")
    text = f"_unique(lambda: {inner}, {size})" if unique else f"[{inner} for _ in range({size})]"
    if shape.ordered:
        text = f"sorted({text})"
    return text if shape.container == "list" else f"{shape.container}({text})"


_SIZED_SHAPES = (
    shapes.SeqS,
    shapes.GridS,
    shapes.TextS,
    shapes.WordsS,
    shapes.BytesS,
    shapes.DictS,
)


def sized_option(shape: shapes.Shape | None, *, ints: bool) -> shapes.Shape | None:
    """The part of a shape that can grow with n: a container or text (or an int when `ints`)."""
    if isinstance(shape, _SIZED_SHAPES) or (ints and isinstance(shape, shapes.IntS)):
        return shape
    if isinstance(shape, shapes.OneOfS):
        return next((o for o in shape.options if sized_option(o, ints=ints) is not None), None)
    return None


_NOUNS = {"int": "ints", "float": "floats", "str": "strings", "bool": "bools"}


def describe(shape: shapes.Shape) -> str:
    """ "list of n ints", "str of length n", "int n" for messages."""
    s = shapes
    if isinstance(shape, s.IntS):
        return "int n"
    if isinstance(shape, (s.TextS, s.BytesS)):
        return f"{'bytes' if isinstance(shape, s.BytesS) else 'str'} of length n"
    if isinstance(shape, s.WordsS):
        return "text of n words"
    if isinstance(shape, s.GridS):
        return "n x n grid" if shape.square else "grid of n rows"
    if isinstance(shape, s.DictS):
        return "dict of n entries"
    if isinstance(shape, s.SeqS):
        elem = shape.elem
        noun = {s.IntS: "ints", s.FloatS: "floats", s.TextS: "strings", s.BoolS: "bools"}.get(
            type(elem), "items"
        )
        return f"{shape.container} of n {noun}"
    return "size n"


def sized_expr(shape: shapes.Shape, spread: bool) -> str | None:
    """The expression for a parameter that grows with n."""
    if isinstance(shape, shapes.IntS):
        return "n"
    return _collection(shape, "n", spread)


# ----- parameters of a def


@dataclass(frozen=True)
class _Arg:
    name: str
    annotation: ast.expr | None
    default: ast.expr | None
    keyword: bool


def _arguments(node: FuncNode, drop_first: bool) -> list[_Arg]:
    a = node.args
    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults))
    defaults += list(a.defaults)
    out = [_Arg(p.arg, p.annotation, d, False) for p, d in zip(positional, defaults, strict=True)]
    if drop_first and out:
        out = out[1:]
    out += [
        _Arg(p.arg, p.annotation, d, True) for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)
    ]
    return out


def example_values(
    node: FuncNode, docstring: str | None, args: Sequence[_Arg]
) -> dict[str, list[Any]]:
    """Values the docstring examples (or, failing those, its prose) give each parameter."""
    names = [a.name for a in args]
    positional = [a.name for a in args if not a.keyword]
    found: dict[str, list[Any]] = {name: [] for name in names}
    for call, _expected, raises in example_args.example_calls(docstring, node.name, names):
        parsed = None if raises else example_args.parse_call(call, node.name)
        if parsed is None:
            continue
        try:
            values = [example_args.literal(v) for v in parsed.args]
            keywords = {k: example_args.literal(v) for k, v in parsed.kwargs}
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if len(values) > len(positional):
            continue
        for name, value in [*zip(positional, values, strict=False), *keywords.items()]:
            if name in found:
                found[name].append(value)
    if docstring and not any(found.values()):
        for name in names:
            found[name] = prose_values.mined_values(docstring, name)
    return found


def _literal_default(node: ast.expr | None) -> tuple[bool, Any]:
    if node is None:
        return False, None
    try:
        return True, example_args.literal(ast.unparse(node))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


_TEXT_NAMES = {"s", "text", "string", "word", "line", "sentence", "txt", "st", "chars", "message"}
_INT_NAMES = {"n", "k", "m", "num", "number", "count", "size", "limit", "length", "depth"}
_LIST_NAMES = {"arr", "array", "lst", "seq", "data", "l", "a", "b", "nums", "values", "xs", "ys"}
_STR_LIST_NAMES = {"words", "strings", "names", "lines", "tokens", "keys"}


def guess_by_name(name: str) -> shapes.Shape | None:
    """A last-resort shape from a bare parameter's name: `s` text, `n` an int, `xs` a list."""
    small = shapes.IntS(-1000, 1000)
    if name in _TEXT_NAMES:
        return shapes.TextS(string.ascii_lowercase + " ", 0, 20)
    if name in _INT_NAMES:
        return shapes.IntS(0, 1000)
    if name in _STR_LIST_NAMES:
        return shapes.SeqS(shapes.TextS(string.ascii_lowercase, 1, 8), 0, 10)
    if name in _LIST_NAMES or (len(name) > 2 and name.endswith("s") and name.isidentifier()):
        return shapes.SeqS(small, 0, 10)
    return None


def _shape_of(arg: _Arg, values: list[Any], docstring: str | None) -> shapes.Shape | None:
    annotated = shapes.from_annotation(arg.annotation)
    has_default, default = _literal_default(arg.default)
    pool = [*values, default] if has_default and default is not None else list(values)
    if annotated is None and not pool:
        annotated = prose_values.prose_shape(docstring, arg.name)
    if annotated is None and not pool and arg.default is None and arg.annotation is None:
        annotated = guess_by_name(arg.name)
    observed = shape_inference.infer(pool) if pool else None
    return shapes.narrow(annotated, observed)


def _source(value: Any) -> str | None:
    text = repr(value)
    try:
        same = example_args.literal(text) == value
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return text if same else None


def plan_inputs(target: Target, module_source: str | None) -> InputPlan | str:
    """How to build the target's arguments at size n, or why it cannot be measured."""
    if target.kind in ("nested", "property"):
        return f"{target.kind} functions are not called directly"
    if target.is_async:
        return "async functions are not measured"
    node = parse_def(target.source)
    if node is None:
        return "the function's source does not parse"
    construct = None
    if target.kind == "method":
        owner = target.class_name or target.qualname.rsplit(".", 1)[0]
        if module_source is None or not strategies.constructible(module_source, owner):
            return f"instance method of {owner}, which has no no-argument constructor"
        construct = owner
    docstring = target.docstring if target.docstring is not None else ast.get_docstring(node)
    args = _arguments(node, drop_first=target.kind in ("method", "classmethod"))
    values = example_values(node, docstring, args)
    shapes = {a.name: _shape_of(a, values[a.name], docstring) for a in args}
    grows = {a.name: sized_option(shapes[a.name], ints=False) for a in args}
    if not any(grows.values()):
        grows = {a.name: sized_option(shapes[a.name], ints=True) for a in args}
    if not any(grows.values()):
        return "no size-bearing parameter (a container, text or integer that can grow)"
    params: list[Param] = []
    keyword = False
    for arg in args:
        made = _param(arg, shapes[arg.name], grows[arg.name], values[arg.name], keyword)
        if isinstance(made, str):
            return made
        if made is None:
            keyword = True  # a skipped parameter: later ones must be passed by name
            continue
        params.append(made)
    return InputPlan(tuple(params), construct)


def _param(
    arg: _Arg,
    shape: shapes.Shape | None,
    grows: shapes.Shape | None,
    values: list[Any],
    keyword: bool,
) -> Param | str | None:
    """One parameter's plan; None: leave it out (its default applies); str: why it cannot be built."""
    by_name = keyword or arg.keyword
    if grows is not None:
        spread, narrow = sized_expr(grows, True), sized_expr(grows, False)
        if spread is not None and narrow is not None:
            return Param(arg.name, by_name, True, spread, narrow, describe(grows))
    fixed = next((s for s in (_source(v) for v in values) if s is not None), None)
    if fixed is not None:
        return Param(arg.name, by_name, False, fixed, fixed, repr(values[0]))
    if arg.default is not None:
        return None
    spread, narrow = element(shape, True), element(shape, False)
    if shape is None or spread is None or narrow is None:
        return (
            f"cannot build a value for parameter {arg.name!r} (no annotation, example or default)"
        )
    return Param(arg.name, by_name, False, spread, narrow, "a small value")
