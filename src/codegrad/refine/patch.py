"""Confine LLM output to one function: restore its header, validate it, splice it in, diff."""

from __future__ import annotations

import ast
import copy
import difflib
import re

from codegrad.funcsource import FuncNode, clean, reindent
from codegrad.model import Target
from codegrad.refine import powers

SAME_CODE = "it is the same code as the original (only formatting or comments differ)"


# --------------------------------------------------------------------------- splicing


def _has_decorators(candidate: str) -> bool:
    try:
        tree = ast.parse(candidate)
    except SyntaxError:
        return candidate.lstrip().startswith("@")
    node = tree.body[0] if tree.body else None
    return bool(isinstance(node, FuncNode | ast.ClassDef) and node.decorator_list)


def splice(file_source: str, target: Target, new_function_source: str) -> str:
    """The file with the target's lines replaced by the new function, at the original indentation.

    A new version with decorators replaces the decorators too; one without keeps the original ones.
    """
    lines = file_source.splitlines(keepends=True)
    if target.end_lineno > len(lines) or not re.search(
        rf"\bdef\s+{re.escape(target.name)}\b", lines[target.lineno - 1]
    ):
        raise ValueError(
            f"{target.key}: no `def {target.name}` at line {target.lineno} of this file"
        )
    candidate = clean(new_function_source)
    start = target.lineno
    if target.decorator_lineno and _has_decorators(candidate):
        start = target.decorator_lineno
    def_line = lines[target.lineno - 1]
    indent = def_line[: len(def_line) - len(def_line.lstrip())]
    newline = "\r\n" if def_line.endswith("\r\n") else "\n"
    body = reindent(candidate, indent).splitlines()
    last = lines[target.end_lineno - 1]
    tail = newline if last.endswith(("\n", "\r")) else ""
    replaced = newline.join(body) + tail
    return "".join(lines[: start - 1]) + replaced + "".join(lines[target.end_lineno :])


# --------------------------------------------------------------------------- validation


def _signature(node: FuncNode, source: str) -> str:
    """The def line(s) as written (joined into one line), without the colon."""
    lines = source.splitlines()
    end = node.body[0].lineno - 1 if node.body else node.lineno
    if end < node.lineno:  # `def f(): return 1`
        prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
        returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
        return f"{prefix} {node.name}({ast.unparse(node.args)}){returns}"
    text = " ".join(line.strip() for line in lines[node.lineno - 1 : end] if line.strip())
    return text.rstrip().removesuffix(":").rstrip()


def _top_level_problem(tree: ast.Module, name: str) -> str | None:
    """Why the candidate is not exactly one function named `name` (None when it is)."""
    if not tree.body:
        return "the new version is empty"
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            return (
                f"it adds a module-level import (`{ast.unparse(node)}`); put imports inside {name}"
            )
    funcs = [n for n in tree.body if isinstance(n, FuncNode)]
    others = [n for n in funcs if n.name != name]
    if not any(n.name == name for n in funcs):
        found = f" (found {', '.join(n.name for n in funcs)})" if funcs else ""
        return f"it does not define {name}{found}"
    if others:
        return (
            f"it adds `def {others[0].name}` outside {name}; "
            "only the function can change, so define helpers inside it"
        )
    if len(funcs) > 1:
        return f"it defines {name} more than once"
    rest = [n for n in tree.body if not isinstance(n, FuncNode)]
    if rest:
        return f"it adds code outside {name}: `{ast.unparse(rest[0]).splitlines()[0][:60]}`"
    return None


def _find_def(tree: ast.AST, name: str, line: int) -> FuncNode | None:
    for node in ast.walk(tree):
        if isinstance(node, FuncNode) and node.name == name and node.lineno == line:
            return node
    return None


def _dump_without(tree: ast.Module, node: ast.AST) -> str:
    """ast.dump of the module with `node` replaced by `pass` (positions ignored)."""
    for parent in ast.walk(tree):
        for _name, value in ast.iter_fields(parent):
            if isinstance(value, list) and any(item is node for item in value):
                index = next(i for i, item in enumerate(value) if item is node)
                value[index] = ast.Pass()
                try:
                    return ast.dump(tree)
                finally:
                    value[index] = node
    return ast.dump(tree)


def _parse_original(source: str) -> FuncNode | None:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    node = tree.body[0] if tree.body else None
    return node if isinstance(node, FuncNode) else None


def _dump(node: ast.AST | None) -> str:
    return ast.dump(node) if node is not None else ""


def _compare(old: FuncNode, new: FuncNode, old_source: str, new_source: str) -> str | None:
    """Signature, async-ness and decorators must stay; the body must change."""
    old_params = ast.List(getattr(old, "type_params", []))
    new_params = ast.List(getattr(new, "type_params", []))
    if (
        type(old) is not type(new)
        or _dump(old.args) != _dump(new.args)
        or _dump(old.returns) != _dump(new.returns)
        or _dump(old_params) != _dump(new_params)
    ):
        return (
            f"the signature changed from `{_signature(old, old_source)}` "
            f"to `{_signature(new, new_source)}`; "
            "keep the name, parameters, defaults and annotations exactly"
        )
    old_decorators = [_dump(d) for d in old.decorator_list]
    if new.decorator_list and [_dump(d) for d in new.decorator_list] != old_decorators:
        return "the decorators changed; keep them as they are (or leave them out)"
    if _dump(ast.Module(old.body, [])) == _dump(ast.Module(new.body, [])):
        return SAME_CODE
    return None


def _bare_args(args: ast.arguments) -> str:
    """The parameters' names, kinds and defaults, annotations left out."""
    bare = copy.deepcopy(args)
    for arg in [*bare.posonlyargs, *bare.args, *bare.kwonlyargs, bare.vararg, bare.kwarg]:
        if arg is not None:
            arg.annotation = None
    return ast.dump(bare)


def _header(node: FuncNode, lines: list[str]) -> list[str] | None:
    """The def line(s) of a parsed function, decorators excluded; None for a one-line function."""
    if not node.body or node.body[0].lineno == node.lineno:
        return None
    return lines[node.lineno - 1 : node.body[0].lineno - 1]


def restore_signature(original_source: str, candidate_source: str) -> str:
    """The candidate with the original def line when they differ only in annotations.

    Small models add or drop type hints; the call signature is the same, so the original's header
    goes back rather than the candidate being rejected. Any other difference is left for
    validate_candidate to report.
    """
    old_text, new_text = clean(original_source), clean(candidate_source)
    try:
        old_tree, new_tree = ast.parse(old_text), ast.parse(new_text)
    except SyntaxError:
        return candidate_source
    old, new = old_tree.body[:1], new_tree.body[:1]
    if not (old and new and isinstance(old[0], FuncNode) and isinstance(new[0], FuncNode)):
        return candidate_source
    old_node, new_node = old[0], new[0]
    if type(old_node) is not type(new_node) or old_node.name != new_node.name:
        return candidate_source
    if _bare_args(old_node.args) != _bare_args(new_node.args):
        return candidate_source
    new_lines = new_text.splitlines()
    old_header = _header(old_node, old_text.splitlines())
    new_header = _header(new_node, new_lines)
    if old_header is None or new_header is None or old_header == new_header:
        return candidate_source
    start = new_node.lineno - 1
    restored = [*new_lines[:start], *old_header, *new_lines[start + len(new_header) :]]
    text = "\n".join(restored) + "\n"
    try:
        ast.parse(text)
    except SyntaxError:
        return candidate_source
    return text


def validate_candidate(original: Target, file_source: str, candidate_source: str) -> str | None:
    """Why this candidate may not replace the original function (None when it may): not exactly
    the one function with its signature, code outside it changed, or powers it adds."""
    candidate = clean(candidate_source)
    try:
        tree = ast.parse(candidate)
    except SyntaxError as exc:
        return f"the new version does not parse (line {exc.lineno}: {exc.msg})"
    problem = _top_level_problem(tree, original.name)
    if problem:
        return problem
    new = tree.body[0]
    old_source = clean(original.source)
    old = _parse_original(old_source)
    if old is None or not isinstance(new, FuncNode):
        return f"the original {original.qualname} could not be parsed from its source"
    problem = _compare(old, new, old_source, candidate)
    if problem:
        return problem
    try:
        spliced = splice(file_source, original, candidate)
        new_tree = ast.parse(spliced)
        old_tree = ast.parse(file_source)
    except (SyntaxError, ValueError) as exc:
        return f"the file with the new version spliced in does not parse ({exc})"
    start = original.lineno
    if original.decorator_lineno and new.decorator_list:
        start = original.decorator_lineno
    old_node = _find_def(old_tree, original.name, original.lineno)
    new_node = _find_def(new_tree, original.name, start + new.lineno - 1)
    if old_node is None or new_node is None:
        return f"could not find {original.qualname} in the file after splicing"
    if _dump_without(old_tree, old_node) != _dump_without(new_tree, new_node):
        return f"code outside {original.qualname} changed"
    added = powers.added(file_source, candidate)
    if added:
        return powers.reason(added, original.qualname)
    return None


# --------------------------------------------------------------------------- diff


def unified_diff(path: str, old_text: str, new_text: str, *, context: int = 3) -> str:
    """A git-style unified diff (a/ and b/ prefixes) that `git apply` accepts; "" when equal."""
    if old_text == new_text:
        return ""
    lines = difflib.unified_diff(
        old_text.splitlines(keepends=True),
        new_text.splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
        n=context,
    )
    out = [f"diff --git a/{path} b/{path}\n"]
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)
