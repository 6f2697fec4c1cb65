"""Hypothesis strategies for a target's parameters, as source text, from annotations, examples and defaults."""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from codegrad.funcsource import FuncNode, parse_def
from codegrad.model import Target
from codegrad.verify.inputs import receivers
from codegrad.verify.inputs.example_args import (
    ExampleArgs,
    example_calls,
    find_call,
    literal,
    parse_call,
)
from codegrad.verify.inputs.prose_values import mined_calls, mined_values, prose_shape
from codegrad.verify.inputs.shape_inference import infer, literal_reprs
from codegrad.verify.inputs.shapes import (
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
    dotted_name,
    from_annotation,
    narrow,
    widen,
)

__all__ = [
    "GUESS",
    "ArgPlan",
    "ExampleArgs",
    "ParamPlan",
    "Skip",
    "constructible",
    "infer",
    "literal",
    "mined_values",
    "parse_call",
    "plan",
    "plan_def",
    "prose_shape",
    "render",
    "widen",
    "with_samples",
]

# ---------------------------------------------------------------- shapes -> strategy source


def render(shape: Shape) -> str | None:
    """Hypothesis strategy source for a shape (None if part of it is still unknown)."""
    renderer = _RENDER.get(type(shape))
    return renderer(shape) if renderer is not None else None


def _r_int(s: Any) -> str:
    return f"st.integers(min_value={s.lo}, max_value={s.hi})"


def _r_float(s: Any) -> str:
    def bound(value: float) -> str:  # `inf` is not a name the strategy source can use
        return repr(float(value)) if math.isfinite(value) else "None"

    return (
        f"st.floats(min_value={bound(s.lo)}, max_value={bound(s.hi)}, "
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
    if s.ordered and not isinstance(s.elem, OneOfS):  # items of mixed kinds may not compare
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
    reprs = literal_reprs(values)
    if not reprs:
        return strategy
    return f"st.one_of(st.sampled_from([{', '.join(reprs)}]), {strategy})"


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


# the origin and name of the parameter that draws constructor arguments for an instance method
RECEIVER = "_codegrad_receiver"


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
    construct: str | None = None  # class to instantiate (instance methods)
    guessed: str | None = None  # why some parameter only has the generic guess (differential only)
    # the constructor argument tuples the first parameter (RECEIVER) draws from, as source; empty:
    # construct() takes no arguments
    receivers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skip:
    """Why no inputs can be generated for a target."""

    reason: str


def plan(
    target: Target,
    module_source: str | None = None,
    extra: Mapping[str, Sequence[Any]] | None = None,
    *,
    constants: Sequence[Any] | None = None,
) -> ArgPlan | Skip:
    """Per-parameter strategies for a target, or why it cannot be planned (extra: more known-good
    values per parameter, e.g. the ones the project's tests pass).

    constants: given (the diff's constants), an instance method of a class that needs constructor
    arguments is called on instances its class's docstrings show how to build (see receivers).
    """
    if target.kind in ("nested", "property"):
        return Skip(f"{target.kind} functions are not called directly")
    node = parse_def(target.source)
    if node is None:
        return Skip("the function's source does not parse")
    docstring = target.docstring if target.docstring is not None else ast.get_docstring(node)
    construct: str | None = None
    built_from: tuple[str, ...] = ()
    if target.kind == "method":
        owner = target.class_name or target.qualname.rsplit(".", 1)[0]
        if module_source is not None and constructible(module_source, owner):
            construct = owner
        elif module_source is not None and constants is not None:
            built_from = receivers.receiver_args(module_source, owner, docstring, constants)
            construct = owner if built_from else None
        if construct is None:
            return Skip(f"instance method of {owner}, which has no no-argument constructor")
    return plan_def(
        node,
        docstring,
        drop_first=target.kind in ("method", "classmethod"),
        construct=construct,
        extra=extra,
        receivers=built_from,
    )


def plan_def(
    node: FuncNode,
    docstring: str | None,
    *,
    drop_first: bool = False,
    construct: str | None = None,
    extra: Mapping[str, Sequence[Any]] | None = None,
    receivers: tuple[str, ...] = (),
) -> ArgPlan | Skip:
    """The plan for one parsed def (also used for round-trip partners).

    extra: more known-good values per parameter name (e.g. recorded in the project's tests).
    receivers: constructor argument tuples as source, drawn first (an instance per call).
    """
    found = _example_args(node, docstring, drop_first)
    examples = _bound_examples(_parameters(node, drop_first), found)
    params: list[ParamPlan] = []
    guessed: str | None = None
    for param in _parameters(node, drop_first):
        values = [v for e in examples for v in e.get(param.name, [])]
        values += [v for v in (extra or {}).get(param.name, ()) if v not in values]
        if not values and docstring:
            values = mined_values(docstring, param.name)
        made = _param_plan(param, values, docstring)
        if isinstance(made, Skip):
            guessed = guessed or made.reason
            made = ParamPlan(param.name, GUESS, GUESS, "guess", keyword=param.keyword)
        if made is not None:
            params.append(made)
    if receivers:
        drawn = f"st.sampled_from([{', '.join(receivers)}])"
        params.insert(0, ParamPlan(RECEIVER, drawn, drawn, RECEIVER))
    if not params:
        return Skip("no parameters to generate")
    return ArgPlan(
        function=node.name,
        params=tuple(params),
        examples=tuple(found),
        returns=ast.unparse(node.returns) if node.returns is not None else None,
        construct=construct,
        guessed=guessed,
        receivers=receivers,
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
    return mined_calls(docstring or "", node.name)


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
    cls = receivers.find_class(module_source, class_qualname)
    if cls is None:
        return False
    if cls.decorator_list or any(dotted_name(b) != "object" for b in cls.bases):
        return False
    init = next(
        (n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None
    )
    if init is None:
        return True
    a = init.args
    required = len(a.posonlyargs) + len(a.args) - 1 - len(a.defaults)
    return required <= 0 and all(d is not None for d in a.kw_defaults)
