"""The AST rewrite that routes size-dependent built-in work through the cost helper (pure: source -> code)."""

from __future__ import annotations

import ast
import types

HELPER = "__codegrad_cost__"  # the global name instrumented code calls; ends in __: never mangled

_OPS: dict[type[ast.operator], str] = {
    ast.Add: "add",
    ast.Mult: "mul",
    ast.Sub: "sub",
    ast.BitOr: "or_",
    ast.BitAnd: "and_",
    ast.BitXor: "xor",
}
# Calls whose cost grows with their arguments or result although no Python line runs for it.
SIZED_NAMES = frozenset(
    [
        "sorted",
        "sum",
        "min",
        "max",
        "any",
        "all",
        "list",
        "tuple",
        "set",
        "frozenset",
        "dict",
        "str",
        "repr",
        "bytes",
        "bytearray",
        "heapify",
        "insort",
        "insort_left",
        "insort_right",
        "bisect",
        "bisect_left",
        "bisect_right",
        "prod",
        "fsum",
    ]
)
SIZED_METHODS = frozenset(
    [
        "sort",
        "index",
        "count",
        "remove",
        "insert",
        "pop",
        "copy",
        "reverse",
        "extend",
        "join",
        "replace",
        "find",
        "rfind",
        "rindex",
        "split",
        "rsplit",
        "splitlines",
        "strip",
        "lstrip",
        "rstrip",
        "lower",
        "upper",
        "title",
        "casefold",
        "translate",
        "encode",
        "decode",
        "update",
        "union",
        "intersection",
        "difference",
        "symmetric_difference",
        "issubset",
        "issuperset",
        "isdisjoint",
        "intersection_update",
        "difference_update",
        "symmetric_difference_update",
        "rotate",
        "heapify",
        "insort",
        "insort_left",
        "insort_right",
        "bisect",
        "bisect_left",
        "bisect_right",
        "prod",
        "fsum",
        "values",
        "items",
        "fromkeys",
    ]
)


def _helper(method: str, node: ast.AST, *args: ast.expr) -> ast.Call:
    func = ast.Attribute(ast.Name(HELPER, ast.Load()), method, ast.Load())
    return ast.copy_location(ast.Call(func, list(args), []), node)


def _numeric(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float, complex)


class Instrument(ast.NodeTransformer):
    """Route size-dependent built-in work (`in` on sequences, `+` of sequences, slices, sorted(),
    list.index(), ...) through the cost helper; everything else is left as it was."""

    def visit_arg(self, node: ast.arg) -> ast.arg:
        return node  # annotations are not executed work

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        return self._function(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        returns = node.returns
        node.returns = None
        self.generic_visit(node)
        node.returns = returns
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is not None:
            node.value = self.visit(node.value)
        return node

    def visit_match_case(self, node: ast.match_case) -> ast.AST:
        if node.guard is not None:
            node.guard = self.visit(node.guard)
        node.body = [self.visit(stmt) for stmt in node.body]
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        node.comparators = [
            _helper("contains", c, c) if isinstance(op, (ast.In, ast.NotIn)) else c
            for op, c in zip(node.ops, node.comparators, strict=True)
        ]
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        name = _OPS.get(type(node.op))
        if name is None or (_numeric(node.left) and _numeric(node.right)):
            return node
        if name != "mul" and (_numeric(node.left) or _numeric(node.right)):
            return node
        return _helper("binop", node, ast.Constant(name), node.left, node.right)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        name = _OPS.get(type(node.op))
        if name is None or not isinstance(node.target, ast.Name):
            return node
        if name != "mul" and _numeric(node.value):
            return node
        load = ast.copy_location(ast.Name(node.target.id, ast.Load()), node.target)
        call = _helper("inplace", node, ast.Constant(name), load, node.value)
        return ast.copy_location(ast.Assign([node.target], call), node)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load) and isinstance(node.slice, ast.Slice):
            return _helper("sized", node, node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        name = (
            func.id
            if isinstance(func, ast.Name)
            else func.attr
            if isinstance(func, ast.Attribute)
            else None
        )
        if name is None or name not in (
            SIZED_NAMES if isinstance(func, ast.Name) else SIZED_METHODS
        ):
            return node
        new = ast.Call(
            ast.Attribute(ast.Name(HELPER, ast.Load()), "call", ast.Load()),
            [func, *node.args],
            node.keywords,
        )
        return ast.copy_location(new, node)


def instrument(source: str | bytes, filename: str) -> types.CodeType | None:
    """The module compiled with cost hooks (None when the rewrite does not compile)."""
    try:
        tree = ast.parse(source, filename)
        tree = ast.fix_missing_locations(Instrument().visit(tree))
        code: types.CodeType = compile(tree, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, TypeError, RecursionError):
        return None
    return code
