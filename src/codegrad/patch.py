"""Confine LLM output to one function: extract it from an answer, validate it, splice it in, diff."""

from __future__ import annotations

import ast
import copy
import difflib
import io
import re
import textwrap
import tokenize
from dataclasses import dataclass, field

from codegrad.model import Target

FuncNode = ast.FunctionDef | ast.AsyncFunctionDef
_FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+.-]*)")
_PY_LANGS = ("", "python", "py", "python3", "py3")
SAME_CODE = "it is the same code as the original (only formatting or comments differ)"


@dataclass(frozen=True)
class ExtractResult:
    """The function found in an answer (dedented; "" if none), what else came with it, what went wrong."""

    source: str
    extras: list[str] = field(default_factory=list)
    problem: str | None = None


# --------------------------------------------------------------------------- extraction


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


def _names_used(func: FuncNode) -> set[str]:
    """Names the function reads but does not bind itself (parameters, assignments)."""
    loads = {
        n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }
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
    body = ast.Module(body=list(func.body), type_ignores=[])
    loads = {
        n.id for n in ast.walk(body) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }
    return loads & _names_used(func)


def _binds(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    return _defined_names(node)


def _reads(node: ast.stmt) -> set[str]:
    if isinstance(node, FuncNode):
        return _names_used(node)
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


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
    docstring = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    at = (first.end_lineno or first.lineno) if docstring else first.lineno - 1
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


# --------------------------------------------------------------------------- splicing


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
    """Why this candidate may not replace the original function (None when it may)."""
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
