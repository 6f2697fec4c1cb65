"""Widen a plan for base-vs-head comparison: boundary values, the diff's constants, `None` defaults (pure).

Base decides what is in the domain (inputs it does not handle are discarded), so the comparison may try
more than the properties check: the boundary values of each parameter's kind (0, -1, 1, empty), the
constants on the changed lines of head and base and their neighbours (`n > 5` asks about 4, 5 and 6;
a string also inside a longer word), the docstring examples' results fed back in, one-shot iterators
for sequence parameters, and for a parameter whose default is `None` both `None` and other values
(`maxsplit=None` also becomes 0).
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from codegrad.funcsource import FuncNode, parse_def
from codegrad.model import Target
from codegrad.verify.inputs.example_args import literal
from codegrad.verify.inputs.shape_inference import literal_reprs
from codegrad.verify.inputs.shapes import (
    FloatS,
    IntS,
    NumTextS,
    PatternS,
    SeqS,
    TextS,
    WordsS,
    from_annotation,
)
from codegrad.verify.inputs.strategies import RECEIVER, ArgPlan, ParamPlan

# the origin of a `None`-default parameter's plan whose other values are guesses
GUESSED_NONE = "guess-for-none-default"
# for a `None`-default parameter nothing else describes: values of the common kinds
NONE_ALTERNATIVES: tuple[Any, ...] = (0, 1, -1, "", [])


def changed_constants(target: Target) -> list[Any]:
    """Numbers and strings written on the changed lines of the target, on head and on base (the
    lines a change removed hold the boundaries it moved); booleans and None left out."""
    out: list[Any] = []
    node = parse_def(target.source)
    if node is not None and target.changed_lines:
        first = min((d.lineno for d in node.decorator_list), default=node.lineno)
        offset = (target.decorator_lineno or target.lineno) - first
        _collect(node, {line - offset for line in target.changed_lines}, out)
    base = parse_def(target.base_source or "")
    if base is not None and target.base_source != target.source:
        _collect(base, _base_only_lines(target.base_source or "", target.source), out)
    return out


def _base_only_lines(base: str, head: str) -> set[int]:
    """Line numbers (1-based, in `base`) of the lines head replaced or removed."""
    matcher = difflib.SequenceMatcher(None, head.splitlines(), base.splitlines(), autojunk=False)
    return {
        j + 1
        for tag, _, _, j1, j2 in matcher.get_opcodes()
        if tag in ("replace", "insert")
        for j in range(j1, j2)
    }


def _collect(node: FuncNode, lines: set[int], out: list[Any]) -> None:
    """Append the constants written on `lines` (numbers negated where written `-n`) not yet in out."""
    for sub in ast.walk(node):
        if getattr(sub, "lineno", 0) not in lines:
            continue
        if isinstance(sub, ast.UnaryOp) and isinstance(sub.op, ast.USub):
            operand = sub.operand
            number = isinstance(operand, ast.Constant) and isinstance(operand.value, (int, float))
            if number and -operand.value not in out:  # type: ignore[attr-defined]
                out.append(-operand.value)  # type: ignore[attr-defined]
            continue
        if not isinstance(sub, ast.Constant):
            continue
        value = sub.value
        if (
            isinstance(value, (int, float, str))
            and not isinstance(value, bool)
            and value not in out
        ):
            if isinstance(value, str) and (len(value) > 40 or "\n" in value):
                continue  # a docstring or message, not a boundary
            out.append(value)


def _kind(annotation: ast.expr | None, values: Sequence[Any]) -> str | None:
    shape = from_annotation(annotation)
    if isinstance(shape, IntS):
        return "int"
    if isinstance(shape, FloatS):
        return "float"
    if isinstance(shape, (TextS, NumTextS, WordsS, PatternS)):
        return "str"
    if isinstance(shape, SeqS):
        return shape.container
    kinds = {type(v) for v in values if v is not None}
    if len(kinds) != 1:
        return None
    only = kinds.pop()
    return {int: "int", float: "float", str: "str", list: "list", tuple: "tuple", dict: "dict"}.get(
        only
    )


def boundary_values(kind: str | None, constants: Iterable[Any]) -> list[Any]:
    """Boundary values of a kind, plus the diff's constants of that kind and their neighbours."""
    numbers = [c for c in constants if isinstance(c, (int, float)) and not isinstance(c, bool)]
    if kind == "int":
        near = [n + d for n in numbers if isinstance(n, int) for d in (-1, 0, 1)]
        return _unique([0, 1, -1, *near])
    if kind == "float":
        return _unique([0.0, 1.0, -1.0, *(float(n) for n in numbers)])
    if kind == "str":
        return _unique(["", " ", *(t for c in constants if isinstance(c, str) for t in _around(c))])
    empty: dict[str, Any] = {"list": [], "tuple": (), "dict": {}}
    return [empty[kind]] if kind in empty else []


def _around(text: str) -> tuple[str, ...]:
    """A string constant of the diff, and it with a letter before and after (`endswith('ss')` asks
    about 'xss', and a branch on a two-letter word may catch 'ss' itself)."""
    return (text, "x" + text, text + "x") if 0 < len(text) <= 20 else (text,)


def _unique(values: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if not any(type(value) is type(v) and value == v for v in out):
            out.append(value)
    return out


def _sampled(values: Sequence[Any]) -> str | None:
    reprs = literal_reprs(values)
    return f"st.sampled_from([{', '.join(reprs)}])" if reprs else None


def _with(wide: str, values: Sequence[Any], none_first: bool) -> str:
    options = [_sampled(values), wide]
    if none_first:
        options.insert(0, "st.none()")
    kept = [o for o in options if o]
    return kept[0] if len(kept) == 1 else f"st.one_of({', '.join(kept)})"


def _example_values(plan: ArgPlan, names: Sequence[str]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for example in plan.examples:
        try:
            args = [literal(a) for a in example.args]
            kwargs = {k: literal(v) for k, v in example.kwargs}
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        for name, value in [*zip(names, args, strict=False), *kwargs.items()]:
            out.setdefault(name, []).append(value)
    return out


def _example_outputs(plan: ArgPlan) -> list[Any]:
    """The docstring examples' expected results that are literals (a result fed back in asks
    whether the function keeps what is already in its range: singularize('Glass'))."""
    out: list[Any] = []
    for example in plan.examples:
        if example.expected is None or example.raises:
            continue
        try:
            out.append(literal(example.expected))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return out


def _or_iterators(wide: str) -> str:
    """A sequence parameter's strategy that also draws one-shot iterators over its lists and tuples
    (`tuple(x)` then `len(x)` breaks only on an iterator)."""
    as_iterator = "lambda v: iter(v) if isinstance(v, (list, tuple)) else v"
    return f"st.one_of({wide}, ({wide}).map({as_iterator}))"


def for_comparison(
    plan: ArgPlan,
    target: Target,
    *,
    drop_first: bool,
    more: Mapping[str, Sequence[Any]] | None = None,
) -> ArgPlan:
    """The plan with wider `wide` strategies (the narrow ones, for properties, stay as they were).

    more: other known-good values per parameter (recorded ones), which tell a parameter's kind.
    """
    node: FuncNode | None = parse_def(target.source)
    if node is None:
        return plan
    a = node.args
    positional = [*a.posonlyargs, *a.args]
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    pairs = list(zip(positional, defaults, strict=True))[1 if drop_first else 0 :]
    pairs += list(zip(a.kwonlyargs, a.kw_defaults, strict=True))
    kwonly = {p.arg for p in a.kwonlyargs}
    constants = changed_constants(target)
    outputs = _example_outputs(plan)
    seen = _example_values(plan, [p.arg for p, _ in pairs if p.arg not in kwonly])
    for name, values in (more or {}).items():
        seen.setdefault(name, []).extend(values)
    by_name = {p.name: p for p in plan.params}
    params = [p for p in plan.params if p.origin == RECEIVER]  # an instance method's receiver
    for arg, default in pairs:
        none_default = isinstance(default, ast.Constant) and default.value is None
        kind = _kind(arg.annotation, seen.get(arg.arg, []))
        extra = boundary_values(kind, constants)
        extra += [value for value in outputs if kind and _kind(None, [value]) == kind]
        planned = by_name.get(arg.arg)
        if planned is not None and planned.origin != "guess":
            wide = _with(planned.wide, _unique(extra), none_default)
            if kind in ("list", "tuple"):
                wide = _or_iterators(wide)
            params.append(replace(planned, wide=wide))
        elif planned is not None:
            params.append(planned)
        elif none_default:
            alternatives = extra or [*NONE_ALTERNATIVES, *constants]
            wide = f"st.one_of(st.none(), {_sampled(alternatives) or 'st.nothing()'})"
            params.append(
                ParamPlan(arg.arg, "st.none()", wide, GUESSED_NONE, keyword=arg.arg in kwonly)
            )
    params += [p for p in plan.params if p.star]
    return replace(plan, params=tuple(params))
