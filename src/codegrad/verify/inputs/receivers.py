"""Instances to call a method on: the constructor calls its class's docstrings show, varied (pure).

A method of a class that needs constructor arguments is called on instances built from the calls the
class documents (`numeric_range(3)`, `numeric_range(0, 1, 0.25)`), each also with one argument moved
to a boundary of its kind (0, 1, -1, the empty string) and to the diff's constants: an empty range
is a one-argument change away from a documented one. Base decides the domain: an instance base
cannot build, or a call base fails on by accident, is discarded.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any

from codegrad.verify.inputs.example_args import example_calls, literal, parse_call
from codegrad.verify.inputs.shape_inference import literal_reprs

MAX_RECEIVERS = 40  # constructor calls one method is tried on
_BOUNDARIES: dict[type, tuple[Any, ...]] = {int: (0, 1, -1), float: (0.0, 1.0, -1.0), str: ("",)}


def find_class(module_source: str, class_qualname: str) -> ast.ClassDef | None:
    """The class statement at a dotted qualified name (`Outer.Inner`), if the module has one."""
    try:
        body: list[ast.stmt] = ast.parse(module_source).body
    except SyntaxError:
        return None
    found: ast.ClassDef | None = None
    for part in class_qualname.split("."):
        found = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == part), None)
        if found is None:
            return None
        body = found.body
    return found


def documented_calls(cls: ast.ClassDef, method_doc: str | None) -> list[tuple[Any, ...]]:
    """The literal positional arguments of each `Class(...)` call in the class's, its __init__'s
    and the method's docstrings (calls with keywords or non-literal arguments are left out)."""
    docs = [ast.get_docstring(cls), method_doc]
    docs += [
        ast.get_docstring(n)
        for n in cls.body
        if isinstance(n, ast.FunctionDef) and n.name in ("__init__", "__new__")
    ]
    out: list[tuple[Any, ...]] = []
    for doc in docs:
        for call, _, raises in example_calls(doc, cls.name):
            parsed = parse_call(call, cls.name)
            if raises or parsed is None or parsed.kwargs:
                continue
            try:
                args = tuple(literal(a) for a in parsed.args)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
            if args not in out:
                out.append(args)
    return out


def varied(calls: Sequence[tuple[Any, ...]], constants: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The documented calls, then each with one argument moved to a boundary or a constant of its
    kind (the documented ones first; at most MAX_RECEIVERS)."""
    out: list[tuple[Any, ...]] = []
    for args in calls:
        if args not in out:
            out.append(args)
    for args in calls:
        for i, value in enumerate(args):
            kind = type(value)
            others = [c for c in constants if type(c) is kind]
            for new in (*_BOUNDARIES.get(kind, ()), *others):
                changed = (*args[:i], new, *args[i + 1 :])
                if changed not in out:
                    out.append(changed)
    return out[:MAX_RECEIVERS]


def receiver_args(
    module_source: str, owner: str, method_doc: str | None, constants: Sequence[Any]
) -> tuple[str, ...]:
    """The constructor argument tuples, as source, to build instances of owner from; empty when
    its docstrings show no constructor call to start from."""
    cls = find_class(module_source, owner)
    if cls is None:
        return ()
    return tuple(literal_reprs(varied(documented_calls(cls, method_doc), constants)))
