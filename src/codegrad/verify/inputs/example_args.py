"""Read a function's docstring example calls: argument sources, expected output, literal values (pure)."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codegrad.verify.inputs import examples


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
