"""The sandbox's comparison helpers as source to copy into generated tests (pure, apart from reading
codegrad's own codegrad/runners/values.py once), so a kept test compares results as the check did."""

from __future__ import annotations

import ast
import functools
import inspect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from codegrad.runners import values

ORIGIN = "codegrad.runners.values"
NOTE = (
    f"# Copied from {ORIGIN} (codegrad's comparison of results), so that this test compares "
    "what the function returns as codegrad did."
)


@dataclass(frozen=True)
class Copied:
    """Definitions copied out of a module: the imports they need, their source, the names they bind."""

    imports: tuple[str, ...]
    body: str
    names: frozenset[str]


def helpers(names: Sequence[str]) -> Copied:
    """codegrad.runners.values' definitions of `names` and of everything they use."""
    return copy_of(_values_source(), names)


@functools.cache
def _values_source() -> str:
    return inspect.getsource(values)


def copy_of(module_source: str, names: Sequence[str]) -> Copied:
    """The top-level statements of a module that bind `names` or what those use (in the module's
    order, annotations removed so that they run on any Python the project supports)."""
    tree = ast.parse(module_source)
    statements = [
        _Strip().visit(node)
        for node in tree.body
        if not (isinstance(node, ast.ImportFrom) and node.module == "__future__")
    ]
    binders: dict[str, int] = {}
    for index, node in enumerate(statements):
        for name in _binds(node):
            binders.setdefault(name, index)
    needed: set[int] = set()
    todo = list(names)
    while todo:
        index = binders.get(todo.pop(), -1)
        if index < 0 or index in needed:
            continue
        needed.add(index)
        todo.extend(_loads(statements[index]))
    kept = [statements[i] for i in sorted(needed)]
    imports = tuple(ast.unparse(n) for n in kept if isinstance(n, ast.Import | ast.ImportFrom))
    defs = [n for n in kept if not isinstance(n, ast.Import | ast.ImportFrom)]
    body = _layout(defs)
    bound = frozenset(name for node in defs for name in _binds(node))
    return Copied(imports, body, bound)


def _layout(nodes: Iterable[ast.stmt]) -> str:
    """Constants one per line, definitions two blank lines apart (as a formatter would)."""
    out: list[str] = []
    previous_def = False
    for node in nodes:
        is_def = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        if out:
            out.append("\n\n\n" if is_def or previous_def else "\n")
        out.append(ast.unparse(node))
        previous_def = is_def
    return "".join(out) + "\n" if out else ""


def _binds(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Import | ast.ImportFrom):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    return []


def _loads(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


class _Strip(ast.NodeTransformer):
    """Removes annotations: `x: T = v` becomes `x = v`, a def loses its parameter and return types."""

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.annotation = None
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:  # noqa: N802 - ast's naming
        node.returns = None
        self.generic_visit(node)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.stmt | None:  # noqa: N802 - ast's naming
        if node.value is None:
            return None
        return ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node)
