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
    return [
        (bind_setup(e.call, e.setup), e.expected, e.expects_exception is not None) for e in found
    ]


def literal_bindings(setup: Sequence[str]) -> dict[str, str]:
    """Names a chained doctest binds to literals (`data = [3, 1]`) and still holds at the call: a
    name that a later statement uses or rebinds to something else is dropped."""
    bound: dict[str, str] = {}
    for statement in setup:
        try:
            tree = ast.parse(statement)
        except (SyntaxError, ValueError):
            bound.clear()
            continue
        node = tree.body[0] if len(tree.body) == 1 else None
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name = node.targets[0].id
            for other in used - {name}:
                bound.pop(other, None)
            try:
                bound[name] = _literal_source(node.value)
            except ValueError:
                bound.pop(name, None)
            continue
        for other in used:
            bound.pop(other, None)
    return bound


def bind_setup(call: str, setup: Sequence[str]) -> str:
    """The call with names the setup bound to literals written out (`f(data)` -> `f([3, 1])`)."""
    bound = literal_bindings(setup)
    if not bound:
        return call
    try:
        tree = ast.parse(call.strip(), mode="eval")
    except SyntaxError:
        return call

    class _Bind(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            if isinstance(node.ctx, ast.Load) and node.id in bound:
                return ast.parse(bound[node.id], mode="eval").body
            return node

    return ast.unparse(_Bind().visit(tree))


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


# builtins whose call on literals is itself a value (examples write `range(10)`, `set('abc')`)
_PURE_BUILTINS: dict[str, Any] = {
    f.__name__: f for f in (range, list, tuple, set, frozenset, sorted, str, int, float, bool, dict)
}
_ITEMS_LIMIT = 1000  # items a pure call may build


def _literal_source(node: ast.expr, bare_names: bool = False) -> str:
    if bare_names and isinstance(node, ast.Name) and node.id not in ("True", "False", "None"):
        return repr(node.id)
    source = ast.unparse(node)
    try:
        ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        if source in ("set()", "frozenset()"):
            return source
        made = _pure_call_literal(node)
        if made is None:
            raise ValueError(source) from None
        return made
    return source


def _pure_call_literal(node: ast.expr) -> str | None:
    """`range(3)` as `[0, 1, 2]`, `tuple('ab')` as `('a', 'b')`: a call of a pure builtin on
    literals, as the literal of its value (a range becomes its list); None for anything else."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _PURE_BUILTINS
        and not node.keywords
        and len(node.args) <= 3
    ):
        return None
    try:
        args = [ast.literal_eval(_literal_source(a)) for a in node.args]
        if node.func.id == "range" and len(range(*args)) > _ITEMS_LIMIT:
            return None
        if any(isinstance(a, (str, list, tuple)) and len(a) > _ITEMS_LIMIT for a in args):
            return None
        value: Any = _PURE_BUILTINS[node.func.id](*args)
    except Exception:  # noqa: BLE001 - not a value this call can make from these arguments
        return None
    if isinstance(value, range):
        value = list(value)
    text = repr(value)
    if isinstance(value, set):  # in a stable order: a string's hash differs between processes
        text = "{" + ", ".join(sorted(map(repr, value))) + "}" if value else "set()"
    try:
        return text if text == "set()" or ast.literal_eval(text) == value else None
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def literal(source: str) -> Any:
    """The value of a literal's source (set() and frozenset() included)."""
    if source == "set()":
        return set()
    if source == "frozenset()":
        return frozenset()
    return ast.literal_eval(source)
