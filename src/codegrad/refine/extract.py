"""Find the function in an LLM answer: fenced or not, in prose, cut off, with helpers folded in."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from codegrad.funcsource import FuncNode, clean, docstring_span

_FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+.-]*)")
_PY_LANGS = ("", "python", "py", "python3", "py3")


@dataclass(frozen=True)
class ExtractResult:
    """The function found in an answer (dedented; "" if none), what else came with it, what went wrong."""

    source: str
    extras: list[str] = field(default_factory=list)
    problem: str | None = None


@dataclass(frozen=True)
class _Block:
    text: str
    lang: str
    closed: bool


def _fenced_blocks(text: str) -> list[_Block]:
    """Markdown code blocks (``` or ~~~); an unclosed last block runs to the end (truncated answer)."""
    blocks: list[_Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE_OPEN.match(lines[i])
        if not match:
            i += 1
            continue
        fence, lang = match.group(1), match.group(2).lower()
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body: list[str] = []
        i += 1
        while i < len(lines) and not close.match(lines[i]):
            body.append(lines[i])
            i += 1
        blocks.append(_Block("\n".join(body) + "\n", lang, i < len(lines)))
        i += 1
    return blocks


def _def_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"^([ \t]*)(?:async[ \t]+)?def[ \t]+{re.escape(name)}[ \t]*[(\[]", re.M)


def _segment(lines: list[str], node: ast.stmt) -> str:
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    end = node.end_lineno or node.lineno
    return clean("\n".join(lines[first - 1 : end]))


def _describe(node: ast.stmt, used: set[str]) -> str | None:
    """A short description of a top-level statement that is not the function; None to ignore it."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return None  # a stray string (module docstring, prose in quotes)
    if isinstance(node, ast.Import | ast.ImportFrom):
        names = {(a.asname or a.name).split(".")[0] for a in node.names}
        note = " (used by the function)" if names & used else ""
        return ast.unparse(node) + note
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return f"def {node.name}"
    if isinstance(node, ast.ClassDef):
        return f"class {node.name}"
    if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
        return "if __name__ == '__main__' block"
    first = ast.unparse(node).splitlines()[0]
    return first if len(first) <= 60 else first[:57] + "..."


def _loads(node: ast.AST) -> set[str]:
    """The names read anywhere under node."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _names_used(func: FuncNode) -> set[str]:
    """Names the function reads but does not bind itself (parameters, assignments)."""
    loads = _loads(func)
    stores = {
        n.id for n in ast.walk(func) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)
    }
    params = {a.arg for a in ast.walk(func.args) if isinstance(a, ast.arg)}
    inner = {
        n.name for n in ast.walk(func) if isinstance(n, FuncNode | ast.ClassDef) and n is not func
    }
    return loads - stores - params - inner


def _defined_names(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


def _needed(tree: ast.Module, func: FuncNode) -> list[ast.stmt]:
    """Top-level imports, helpers and constants the function uses, transitively, in answer order."""
    candidates = [
        n
        for n in tree.body
        if n is not func
        and not (isinstance(n, FuncNode) and n.name == func.name)
        and (isinstance(n, ast.Import | ast.ImportFrom) or _defined_names(n))
    ]
    wanted = _body_names(func)  # annotations and decorators run in the module, not in the body
    chosen: list[ast.stmt] = []
    changed = True
    while changed:
        changed = False
        for node in candidates:
            if node not in chosen and _binds(node) & wanted:
                chosen.append(node)
                wanted |= _reads(node)
                changed = True
    return [n for n in candidates if n in chosen]


def _body_names(func: FuncNode) -> set[str]:
    """Names the function's body reads but does not bind."""
    return _loads(ast.Module(body=list(func.body), type_ignores=[])) & _names_used(func)


def _binds(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    return _defined_names(node)


def _reads(node: ast.stmt) -> set[str]:
    return _names_used(node) if isinstance(node, FuncNode) else _loads(node)


def _fold(func_source: str, pieces: list[str]) -> str | None:
    """The function with pieces (imports, helpers) placed at the top of its body, after its docstring.

    None when the body shares the def's line (`def f(): return g()`), where nothing can go first.
    """
    tree = ast.parse(func_source)
    func = tree.body[0]
    assert isinstance(func, FuncNode)
    first = func.body[0]
    if first.lineno == func.lineno:
        return None
    lines = func_source.splitlines()
    span = docstring_span(func_source)
    at = span[1] + 1 if span else first.lineno - 1
    indent = " " * first.col_offset
    block = [
        indent + line if line.strip() else "" for piece in pieces for line in piece.splitlines()
    ]
    folded = "\n".join([*lines[:at], *block, *lines[at:]]) + "\n"
    try:
        ast.parse(folded)
    except SyntaxError:
        return None
    return folded


def _from_module(tree: ast.Module, lines: list[str], name: str) -> ExtractResult | None:
    """The function from parsed code: top level first (last definition wins), else inside a class.

    Imports and helpers the answer puts beside a top-level function and the function uses are moved
    into its body (only the function may change); a method's helpers cannot be, and are a problem.
    """
    top = [n for n in tree.body if isinstance(n, FuncNode) and n.name == name]
    wrapper: ast.ClassDef | None = None
    if top:
        func: FuncNode = top[-1]
    else:
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            methods = [n for n in cls.body if isinstance(n, FuncNode) and n.name == name]
            if methods:
                func, wrapper = methods[-1], cls
        if wrapper is None:
            return None
    used = _names_used(func)
    extras: list[str] = []
    helpers: list[str] = []
    siblings = wrapper.body if wrapper is not None else tree.body
    source = _segment(lines, func)
    needed = _needed(tree, func) if wrapper is None else []
    folded = _fold(source, [_segment(lines, n) for n in needed]) if needed else None
    if folded is None:
        needed = []
    else:
        source = folded
    for node in tree.body if wrapper is None else [*tree.body, *siblings]:
        if node is func or node is wrapper:
            continue
        if isinstance(node, FuncNode) and node.name == name:
            extras.append(f"an earlier definition of {name} (ignored)")
            continue
        if node in needed:
            extras.append(f"{_describe(node, set())} (moved into {name})")
            continue
        described = _describe(node, used)
        if described is not None:
            extras.append(described)
        helpers.extend(sorted(_defined_names(node) & used))
    if wrapper is not None:
        extras.insert(0, f"class {wrapper.name} around it (ignored)")
    problem = None
    if helpers:
        problem = (
            f"{name} uses {', '.join(helpers)}, which the answer defines outside the function; "
            "only the function itself can change, so define helpers inside it"
        )
    return ExtractResult(source, extras, problem)


def _cut_function(text: str, name: str) -> tuple[str | None, str | None]:
    """From text that does not parse as a whole: the shortest parsable run from `def name`."""
    lines = text.splitlines()
    matches = list(_def_pattern(name).finditer(text))
    error = None
    for match in reversed(matches):
        row = text.count("\n", 0, match.start())
        indent = len(match.group(1).expandtabs())
        start = row
        while start > 0 and lines[start - 1].strip().startswith("@"):
            start -= 1
        ends = [
            i
            for i in range(row + 1, len(lines))
            if lines[i].strip() and len(lines[i]) - len(lines[i].lstrip()) <= indent
        ]
        for end in [*ends, len(lines)]:
            piece = clean("\n".join(lines[start:end]))
            try:
                tree = ast.parse(piece)
            except SyntaxError as exc:
                error = f"line {(exc.lineno or 1) + start}: {exc.msg}"
                continue
            if any(isinstance(n, FuncNode) and n.name == name for n in tree.body):
                return piece, None
    return None, error


_LINE_NUMBER = re.compile(r"^[ \t]*\d+ \| ?")


def _without_line_numbers(text: str) -> str:
    """Code copied with the critic's `12 | ` line numbers, without them (other text unchanged)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or not all(_LINE_NUMBER.match(line) for line in lines):
        return text
    return "\n".join(_LINE_NUMBER.sub("", line) for line in text.splitlines()) + "\n"


def _from_text(text: str, name: str) -> ExtractResult | None:
    """Find the function in one piece of text (a code block or a whole answer)."""
    text = _without_line_numbers(text)
    dedented = clean(text)
    try:
        tree = ast.parse(dedented)
    except SyntaxError:
        tree = None
    if tree is not None:
        return _from_module(tree, dedented.splitlines(), name)
    if not _def_pattern(name).search(text):
        return None
    piece, error = _cut_function(text, name)
    if piece is None:
        return ExtractResult("", [], f"the function {name} in the answer does not parse ({error})")
    return ExtractResult(piece, [], None)


def _other_functions(text: str) -> list[str]:
    return sorted(set(re.findall(r"^[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)", text, re.M)))


def _without_fences(text: str) -> str:
    return re.sub(r"^[ \t]*(`{3,}|~{3,}).*$", "", text, flags=re.M)


def extract_function(llm_text: str, name: str) -> ExtractResult:
    """The definition of `name` in an LLM answer: fenced or not, wrapped in prose, several blocks."""
    blocks = _fenced_blocks(llm_text)
    defining = [b for b in blocks if _def_pattern(name).search(b.text)]
    preferred = [b for b in defining if b.lang in _PY_LANGS] or defining
    failure: ExtractResult | None = None
    for block in reversed(preferred):  # the last block is usually the final version
        found = _from_text(block.text, name)
        if found is not None and found.source:
            if len(preferred) > 1:
                found.extras.append(
                    f"{len(preferred)} code blocks define {name}; used the last one"
                )
            return found
        if found is not None and failure is None:
            cut = "" if block.closed else "; the answer looks cut off"
            failure = ExtractResult("", found.extras, f"{found.problem}{cut}")
    if not defining:  # no code block defines it: an unfenced answer, maybe wrapped in prose
        found = _from_text(_without_fences(llm_text), name)
        if found is not None:
            return found
    if failure is not None:
        return failure
    others = _other_functions(llm_text)
    seen = f" (it defines {', '.join(others)})" if others else ""
    return ExtractResult("", [], f"the answer has no function named {name}{seen}")
