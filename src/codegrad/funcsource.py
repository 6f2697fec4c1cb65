"""A function's source text: dedent and re-indent it (multi-line strings kept), find its docstring."""

from __future__ import annotations

import ast
import io
import textwrap
import tokenize

FuncNode = ast.FunctionDef | ast.AsyncFunctionDef


def docstring_span(source: str) -> tuple[int, int, int] | None:
    """(first line, last line, column) of the function's docstring in the dedented source, 0-based
    lines; None without one, or when it shares the def's line."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return None
    node = next((n for n in tree.body if isinstance(n, FuncNode)), None)
    if node is None or not node.body or node.body[0].lineno == node.lineno:
        return None
    first = node.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return first.lineno - 1, (first.end_lineno or first.lineno) - 1, first.col_offset
    return None


def _parse_indented(source: str) -> tuple[ast.Module | None, int]:
    """Parse code that may be indented as a whole (a method's source); the int is the line shift."""
    try:
        return ast.parse(source), 0
    except SyntaxError:
        pass
    try:
        return ast.parse("if True:\n" + source), 1
    except SyntaxError:
        return None, 0


def _verbatim_lines(source: str) -> set[int]:
    """1-based lines that start inside a multi-line string other than a docstring: never re-indented."""
    doc_starts: set[tuple[int, int]] = set()
    tree, shift = _parse_indented(source)
    for node in ast.walk(tree) if tree is not None else ():
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                doc_starts.add((value.lineno - shift, value.col_offset))
    verbatim: set[int] = set()
    starts: list[tuple[int, int]] = []
    fstring_start = getattr(tokenize, "FSTRING_START", -1)
    fstring_end = getattr(tokenize, "FSTRING_END", -1)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == fstring_start:
                starts.append(tok.start)
                continue
            if tok.type == tokenize.STRING:
                begin = tok.start
            elif tok.type == fstring_end and starts:
                begin = starts.pop()
            else:
                continue
            if tok.end[0] > begin[0] and begin not in doc_starts:
                verbatim.update(range(begin[0] + 1, tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        pass
    return verbatim


def clean(source: str) -> str:
    """The candidate without surrounding blank lines, dedented so that its first line has no indent."""
    lines = source.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return reindent("\n".join(lines) + "\n", "") if lines else ""


def reindent(source: str, indent: str) -> str:
    """Shift code to start at `indent`; lines inside non-docstring multi-line strings stay as they are."""
    lines = source.splitlines()
    if not lines:
        return ""
    verbatim = _verbatim_lines(source)
    first = next((line for line in lines if line.strip()), "")
    base = first[: len(first) - len(first.lstrip())]
    out: list[str] = []
    for number, line in enumerate(lines, start=1):
        if number in verbatim:
            out.append(line)
        elif not line.strip():
            out.append("")
        elif line.startswith(base):
            out.append(indent + line[len(base) :])
        else:
            out.append(indent + line.lstrip())
    return "\n".join(out) + "\n"


def parse_def(source: str) -> FuncNode | None:
    """The function definition in a target's source (dedented; decorators allowed)."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return node
    return None
