"""Find a function's examples in its docstring (doctest `>>>` blocks and common prose forms), as source text."""

from __future__ import annotations

import ast
import builtins
import re
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from codegrad.verify.inputs import comment_outputs

_BUILTIN_NAMES = frozenset(dir(builtins))
_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {")", "]", "}"}
_MAX_SPAN_LINES = 30


@dataclass(frozen=True)
class Example:
    """One example: evaluate `setup` then `call`, and compare with `expected` (or the exception)."""

    call: str  # a Python expression that invokes the function, e.g. "f([1, 2], 3)"
    expected: str | None  # a Python expression (prose forms) or doctest output text
    line: int  # 1-based line inside the raw docstring (line 1 holds the opening quotes)
    form: str  # doctest | equals | arrow | assign | returns | should-return | comment | for-output | input-output
    setup: tuple[str, ...] = ()  # earlier doctest statements the call needs, in order
    expects_exception: str | None = None  # exception type name a doctest traceback expects


@dataclass(frozen=True)
class Unparsed:
    """An example that states its output in a form that cannot be read, so it is not run."""

    line: int  # 1-based line inside the raw docstring
    text: str
    reason: str


@dataclass(frozen=True)
class Scan:
    """What a docstring holds: the examples that can run, and those skipped as unreadable."""

    examples: tuple[Example, ...]
    unparsed: tuple[Unparsed, ...] = ()


# ---------------------------------------------------------------------------------------------
# Lexical helpers: string- and bracket-aware scanning of prose text


def _lex(text: str) -> Iterator[tuple[int, str, int]]:
    """Yield (index, char, depth) for characters outside string literals; depth counts open brackets."""
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"":
            triple = text[i : i + 3] == ch * 3
            quote = ch * 3 if triple else ch
            j = i + len(quote)
            while j < n:
                if text[j] == "\\":
                    j += 2
                    continue
                if text.startswith(quote, j):
                    break
                if not triple and text[j] == "\n":
                    break
                j += 1
            i = j + len(quote)
            continue
        if ch in _OPEN:
            yield i, ch, depth
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
            yield i, ch, depth
        else:
            yield i, ch, depth
        i += 1


def match_close(text: str, open_index: int) -> int | None:
    """Index just past the bracket that closes the one at open_index, or None if unbalanced."""
    base: int | None = None
    for i, ch, depth in _lex(text[open_index:]):
        if base is None:
            base = depth
            continue
        if ch in _CLOSE and depth == base:
            return open_index + i + 1
    return None


def _balanced(text: str) -> bool:
    final = 0
    for _i, ch, depth in _lex(text):
        final = depth + 1 if ch in _OPEN else depth
    return final == 0


def _cut_comment(text: str) -> str:
    for i, ch, _depth in _lex(text):
        if ch == "#":
            return text[:i]
    return text


def _split_top(text: str, sep: str = ",") -> list[str]:
    """Split at separators that lie outside strings and brackets."""
    parts: list[str] = []
    start = 0
    for i, ch, depth in _lex(text):
        if ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _after_last_assign(text: str) -> str:
    """The text after the last top-level single '=' ("1 + 2 = 3" -> "3"); text itself if none."""
    cut = -1
    for i, ch, depth in _lex(text):
        if ch != "=" or depth != 0:
            continue
        before = text[i - 1] if i > 0 else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if before in "=<>!:+-*/%&|^@" or after in "=>":
            continue
        cut = i
    return text[cut + 1 :] if cut >= 0 else text


def _top_spaces(text: str) -> list[int]:
    return [i for i, ch, depth in _lex(text) if depth == 0 and ch.isspace()]


# ---------------------------------------------------------------------------------------------
# AST helpers


def _parse_eval(source: str) -> ast.Expression | None:
    try:
        return ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError):
        return None


def _attribute_bases(tree: ast.AST) -> set[int]:
    return {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}


def _free_names_ok(tree: ast.AST, skip: set[int] | None = None) -> bool:
    """Prose values may name builtins, Capitalised names and module attributes, not bare words."""
    bases = _attribute_bases(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value is Ellipsis:
            return False
        if not isinstance(node, ast.Name) or id(node) in bases or (skip and id(node) in skip):
            continue
        if node.id in _BUILTIN_NAMES or node.id[:1].isupper():
            continue
        return False
    return True


def _calls_function(tree: ast.AST, name: str) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == name:
                return True
            if isinstance(func, ast.Attribute) and func.attr == name:
                return True
    return False


def _loaded_names(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _bound_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
    return names


def _invokes(tree: ast.AST, name: str, bound: set[str]) -> bool:
    """Does the code call `name`, or use it as an attribute of a setup object or a Class?"""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name:
            return True
        if isinstance(node, ast.Attribute) and node.attr == name:
            base = node.value
            if isinstance(base, ast.Call):
                base = base.func
            if isinstance(base, ast.Name) and (base.id in bound or base.id[:1].isupper()):
                return True
    return False


def _prose_call_ok(source: str, name: str) -> bool:
    tree = _parse_eval(source)
    if tree is None or not isinstance(tree.body, ast.Call):
        return False
    func = tree.body.func
    direct = isinstance(func, ast.Name) and func.id == name
    on_class = (
        isinstance(func, ast.Attribute)
        and func.attr == name
        and isinstance(func.value, ast.Name)
        and func.value.id[:1].isupper()
    )
    if not (direct or on_class):
        return False
    skip = {id(func)}
    if isinstance(func, ast.Attribute):
        skip.add(id(func.value))
    return _free_names_ok(tree, skip=skip)


# ---------------------------------------------------------------------------------------------
# Expected values in prose

_WORD_VALUES = {"true": "True", "false": "False", "none": "None", "null": "None", "nil": "None"}


def _expression_ok(source: str, name: str) -> bool:
    tree = _parse_eval(source)
    return tree is not None and _free_names_ok(tree) and not _calls_function(tree, name)


def clean_expected(text: str, func_name: str) -> str | None:
    """The expected value at the start of prose text, as parseable source, or None."""
    text = _cut_comment(text).strip().strip("`").strip()
    text = _after_last_assign(text).strip().rstrip(" .,;:`").strip()
    text = _WORD_VALUES.get(text.lower(), text) if text.isalpha() else text
    if not text:
        return None
    if _expression_ok(text, func_name):
        return text
    for cut in reversed(_top_spaces(text)):
        head = text[:cut].rstrip(" .,;:")
        rest = text[cut:].strip()
        if rest and (rest[0].isalnum() or rest[0] in "'\"_"):
            continue
        head = _WORD_VALUES.get(head.lower(), head) if head.isalpha() else head
        if head and _expression_ok(head, func_name):
            return head
    return None


# ---------------------------------------------------------------------------------------------
# Doctest blocks

_PROMPT = re.compile(r"^(\s*)>>>(?:[ \t](.*)|$)")
_CONTINUATION = re.compile(r"^\s*\.\.\.(?:[ \t](.*)|$)")
_TRACEBACK = re.compile(r"^Traceback \((?:most recent call last|innermost last)\):")
_EXC_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")
_SKIP = re.compile(r"#\s*doctest:.*[+]SKIP")


@dataclass(frozen=True)
class _Block:
    source: str
    want: str
    line: int  # 1-based
    end: int  # 1-based, last line of the block (inclusive)


def _doctest_blocks(lines: Sequence[str]) -> list[_Block]:
    blocks: list[_Block] = []
    i = 0
    while i < len(lines):
        match = _PROMPT.match(lines[i])
        if not match:
            i += 1
            continue
        indent = match.group(1)
        start = i
        source = [match.group(2) or ""]
        i += 1
        while i < len(lines) and (cont := _CONTINUATION.match(lines[i])):
            source.append(cont.group(1) or "")
            i += 1
        want: list[str] = []
        while i < len(lines) and lines[i].strip() and not _PROMPT.match(lines[i]):
            line = lines[i]
            want.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            i += 1
        text = "\n".join("" if w.strip() == "<BLANKLINE>" else w.rstrip() for w in want)
        blocks.append(_Block("\n".join(source).rstrip(), text, start + 1, max(start, i - 1) + 1))
    return blocks


def _exception_in(want: str) -> tuple[str, str] | None:
    """(type name, exception line) when the doctest output is a traceback."""
    lines = want.splitlines()
    if not lines or not _TRACEBACK.match(lines[0]):
        return None
    for line in lines[1:]:
        if line[:1].isspace() or line.startswith("..."):
            continue
        match = _EXC_LINE.match(line)
        if match:
            return match.group(1).rsplit(".", 1)[-1], line.strip()
    return None


def _assertion_parts(expr: ast.Expression, name: str) -> tuple[str, str] | None:
    """`>>> f(x) == y` with no output (an assertion, not a doctest) -> ("f(x)", "y"); also the
    `>>> f(x) [1, 2]` typo, which parses as an index by a list and can only mean `== [1, 2]`."""
    body = expr.body
    if isinstance(body, ast.Compare) and len(body.ops) == 1 and isinstance(body.ops[0], ast.Eq):
        left, right = body.left, body.comparators[0]
    elif isinstance(body, ast.Subscript) and isinstance(body.slice, (ast.List, ast.Tuple)):
        left, right = body.value, ast.List(elts=list(body.slice.elts), ctx=ast.Load())
    else:
        return None
    if not (isinstance(left, ast.Call) and _calls_function(left, name)):
        return None
    return ast.unparse(left), ast.unparse(right)


def _comment_output(source: str, name: str) -> tuple[str, comment_outputs.Reading] | None:
    """(the call without its comment, what the comment says it returns) for `>>> f(x)  # => 3`
    with no output line; None when there is no such comment or it is prose."""
    lines = source.split("\n")
    code = _cut_comment(lines[-1])
    if code == lines[-1]:
        return None
    reading = comment_outputs.read(lines[-1][len(code) :], lambda text: clean_expected(text, name))
    if reading is None:
        return None
    return "\n".join([*lines[:-1], code.rstrip()]), reading


def _doctest_examples(
    blocks: Sequence[_Block], name: str, unparsed: list[Unparsed]
) -> list[Example]:
    found: list[Example] = []
    setup: list[str] = []
    bound: set[str] = set()
    producers: set[str] = set()  # names bound by statements that call the function
    for block in blocks:
        if _SKIP.search(block.source):
            continue
        expr = _parse_eval(block.source)
        if expr is None:
            try:
                tree = ast.parse(block.source)
            except (SyntaxError, ValueError):
                continue
            new = _bound_names(tree)
            if _invokes(tree, name, bound):
                producers |= new
            bound |= new
            setup.append(block.source)
            continue
        used = _loaded_names(expr)
        if _invokes(expr, name, bound) or used & producers:
            exc = _exception_in(block.want)
            call, expected, form = block.source, exc[1] if exc else block.want, "doctest"
            assertion = _assertion_parts(expr, name) if not block.want.strip() else None
            said = _comment_output(block.source, name) if not block.want.strip() else None
            if assertion:
                call, expected = assertion
            elif said and said[1].unreadable:
                unparsed.append(Unparsed(block.line, block.source, said[1].unreadable))
                call = ""
            elif said:
                call, expected, form = said[0], said[1].expected or "", "comment"
            if call:
                found.append(
                    Example(
                        call=call,
                        expected=expected,
                        line=block.line,
                        form=form,
                        setup=tuple(setup),
                        expects_exception=exc[0] if exc else None,
                    )
                )
        if used & bound:
            setup.append(block.source)  # a stateful step (s.push(1)) later examples depend on
    return found


# ---------------------------------------------------------------------------------------------
# Prose: f(x) == y, f(x) -> y, f(x) returns y, ...

_PREFIX = re.compile(
    r"^\s*(?:[-*•+>]\s*|\d+[.)]\s*|\(\w\)\s*)?"
    r"(?:(?:assert|for|e\.?g\.?|i\.?e\.?|examples?\s*\d*|ex\.?|for\s+examples?|such\s+as|so|thus|"
    r"calling|call|sample|usage|test)\s*[:,]?\s*)?`{0,2}$",
    re.I,
)
_SEPARATOR = re.compile(
    r"""^\s*`{0,2}\s*(?:
      (?P<comment>\#)
    | (?P<arrow>==>|=>|-->|->|➞|→|⟶|⇒|↦)
    | (?P<equals>==(?!=))
    | (?P<assign>=(?![=>]))
    | (?P<should>(?:should|must|will|shall)\s+(?:return|be|give|equal|output|yield)\b:?)
    | (?P<returns>(?:returns?|gives|yields|outputs?|evaluates\s+to|results\s+in|is\s+equal\s+to|equals)\b:?)
    )""",
    re.X | re.I,
)
_FORMS = {
    "comment": "comment",
    "arrow": "arrow",
    "equals": "equals",
    "assign": "assign",
    "should": "should-return",
    "returns": "returns",
}


def _one_line(source: str) -> str:
    if "\n" not in source:
        return source.strip()
    tree = _parse_eval(source)
    return (
        ast.unparse(tree) if tree is not None else " ".join(s.strip() for s in source.splitlines())
    )


def _span(lines: Sequence[str], row: int, col: int) -> tuple[str, int, int] | None:
    """From lines[row][col] (an opening bracket) to its close: (that text, end row, end column)."""
    text = "\n".join(lines[row : row + _MAX_SPAN_LINES])
    end = match_close(text, col)
    if end is None:
        return None
    end_row = row + text.count("\n", 0, end)
    end_col = end - (text.rfind("\n", 0, end) + 1)
    return text[col:end], end_row, end_col


def _expected_text(lines: Sequence[str], row: int, rest: str) -> tuple[str, int]:
    """The expected text from `rest` to the line's end, extended over lines while brackets are open."""
    text = _cut_comment(rest)
    end = row
    while not _balanced(text) and end + 1 < len(lines) and end - row < _MAX_SPAN_LINES:
        end += 1
        text += "\n" + _cut_comment(lines[end])
    return text, end


def _call_pattern(name: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w.])((?:[A-Z]\w*\.)?" + re.escape(name) + r")\s*\(")


def _prose_examples(
    lines: Sequence[str], name: str, used: set[int], unparsed: list[Unparsed]
) -> list[Example]:
    """Prose examples; a run of lines that also defines the function (`f(n) = f(n-1) + 1`) is a
    recurrence stating math facts, not calls, so its examples are dropped."""
    pattern = _call_pattern(name)
    groups: list[list[_Prose]] = []
    row = 0
    while row < len(lines):
        match = pattern.search(lines[row]) if row not in used else None
        if match is None or not _PREFIX.match(lines[row][: match.start()]):
            row += 1
            continue
        item = _prose_at(lines, row, match, name)
        if groups and groups[-1][-1].last + 1 >= row:
            groups[-1].append(item)
        else:
            groups.append([item])
        row = item.last + 1
    found: list[Example] = []
    for group in groups:
        if any(item.definition for item in group):
            continue
        for item in group:
            if item.unreadable is not None:
                unparsed.append(Unparsed(item.row + 1, lines[item.row].strip(), item.unreadable))
            if item.example is not None:
                found.append(item.example)
                used.update(range(item.example.line - 1, item.last + 1))
    return found


@dataclass(frozen=True)
class _Prose:
    example: Example | None
    last: int  # last row the example (or the scanned call) covers
    definition: bool = False  # the line defines the function rather than showing a call
    row: int = 0  # the row the call starts on
    unreadable: str | None = None  # why the output a comment states cannot be read


def _prose_at(lines: Sequence[str], row: int, match: re.Match[str], name: str) -> _Prose:
    span = _span(lines, row, match.end() - 1)
    if span is None:
        return _Prose(None, row)
    text, end_row, end_col = span
    call = lines[row][match.start() : match.end() - 1] + text
    rest = lines[end_row][end_col:]
    sep = _SEPARATOR.match(rest)
    tree = _parse_eval(call)
    if tree is None or sep is None or sep.lastgroup is None:
        return _Prose(None, end_row)
    raw, last = _expected_text(lines, end_row, rest[sep.end() :])
    if not _prose_call_ok(call, name) or _call_pattern(name).search(raw):
        return _Prose(None, last, definition=_calls_function(tree, name))
    if sep.lastgroup == "comment":
        reading = comment_outputs.read(raw, lambda text: clean_expected(text, name))
        expected = reading.expected if reading else None
        if reading is None or expected is None:
            return _Prose(None, last, row=row, unreadable=reading.unreadable if reading else None)
    else:
        expected = clean_expected(raw, name)
    if expected is None:
        return _Prose(None, last)
    form = _FORMS[sep.lastgroup]
    return _Prose(Example(_one_line(call), _one_line(expected), row + 1, form), last)


# ---------------------------------------------------------------------------------------------
# "For x = 1, y = 2 the output should be 3" and "Input: ... Output: ..."

_FOR_OUTPUT = re.compile(
    r"^\s*(?:[-*•]\s*)?(?:for|given|if|when|with)\s+(?:input\s+)?(?P<assigns>[A-Za-z_]\w*\s*=.*?)[,;]?\s*"
    r"(?:then\s+)?(?:the\s+)?(?:output|result|answer|return\s+value|returned\s+value|function)\s+"
    r"(?:should|will|must|would)\s+(?:be|return)\s*:?\s*(?P<expected>.+)$",
    re.I,
)
_INPUT = re.compile(r"^\s*(?:[-*•]\s*)?(?:sample\s+|example\s+)?inputs?\s*:\s*(?P<rest>.*)$", re.I)
_OUTPUT = re.compile(
    r"^\s*(?:[-*•]\s*)?(?:sample\s+|expected\s+|example\s+)?(?:output|result|returns?)\s*:\s*(?P<rest>.*)$",
    re.I,
)
_INLINE_OUTPUT = re.compile(r"[,;]?\s*\b(?:output|result)\s*:\s*", re.I)
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:=|:)\s*(\S.*?)\s*$", re.S)


def _assignments(text: str, *, stop_at_prose: bool = False) -> list[tuple[str, str]] | None:
    """`a = 1, b = [2, 3]` -> [("a", "1"), ("b", "[2, 3]")]; None if the text is not that."""
    pairs: list[tuple[str, str]] = []
    for piece in _split_top(text):
        match = _ASSIGNMENT.match(piece)
        value = match.group(2).rstrip(" .;") if match else ""
        if not match or _parse_eval(value) is None:
            if stop_at_prose and pairs:
                break
            return None
        pairs.append((match.group(1), value))
    return pairs or None


def _call_from(name: str, pairs: Sequence[tuple[str, str]], params: Sequence[str] | None) -> str:
    names = [k for k, _ in pairs]
    values = [v.strip() for _, v in pairs]
    positional = params is not None and (
        names == list(params[: len(names)])
        or (not set(names) <= set(params) and len(names) == len(params))
    )
    if positional:
        return f"{name}({', '.join(values)})"
    return f"{name}({', '.join(f'{k}={v}' for k, v in zip(names, values, strict=True))})"


def _checked(call: str, expected: str | None, line: int, form: str, name: str) -> Example | None:
    if expected is None or not _prose_call_ok(call, name):
        return None
    return Example(_one_line(call), _one_line(expected), line, form)


def _for_output_examples(
    lines: Sequence[str], name: str, params: Sequence[str] | None, used: set[int]
) -> list[Example]:
    found: list[Example] = []
    for row, line in enumerate(lines):
        match = _FOR_OUTPUT.match(line) if row not in used else None
        if match is None:
            continue
        pairs = _assignments(match.group("assigns"), stop_at_prose=True)
        if params is not None and pairs:
            pairs = pairs[: len(params)]
        if not pairs:
            continue
        example = _checked(
            _call_from(name, pairs, params),
            clean_expected(match.group("expected"), name),
            row + 1,
            "for-output",
            name,
        )
        if example is not None:
            found.append(example)
            used.add(row)
    return found


def _input_call(name: str, chunks: Sequence[str], params: Sequence[str] | None) -> str | None:
    chunks = [c.strip() for c in chunks if c.strip()]
    if not chunks:
        return None
    per_line = [_assignments(c) for c in chunks]
    if all(per_line):
        return _call_from(name, [p for pairs in per_line if pairs for p in pairs], params)
    joined = " ".join(chunks)
    pairs = _assignments(joined)
    if pairs:
        return _call_from(name, pairs, params)
    return f"{name}({joined.rstrip(' .;')})"


def _input_output_examples(
    lines: Sequence[str], name: str, params: Sequence[str] | None, used: set[int]
) -> list[Example]:
    found: list[Example] = []
    row = 0
    while row < len(lines):
        match = _INPUT.match(lines[row]) if row not in used else None
        if match is None:
            row += 1
            continue
        result = _read_input_output(lines, row, match.group("rest"))
        if result is None:
            row += 1
            continue
        chunks, output, last = result
        call = _input_call(name, chunks, params)
        example = (
            _checked(call, clean_expected(output, name), row + 1, "input-output", name)
            if call
            else None
        )
        if example is not None:
            found.append(example)
            used.update(range(row, last + 1))
        row = last + 1
    return found


def _read_input_output(
    lines: Sequence[str], row: int, first: str
) -> tuple[list[str], str, int] | None:
    inline = _INLINE_OUTPUT.search(first)
    if inline:
        return [first[: inline.start()]], first[inline.end() :], row
    chunks = [first]
    for nxt in range(row + 1, min(len(lines), row + _MAX_SPAN_LINES)):
        line = lines[nxt]
        out = _OUTPUT.match(line)
        if out:
            output, last = out.group("rest"), nxt
            if not output.strip():
                following = [
                    i for i in range(nxt + 1, min(len(lines), nxt + 3)) if lines[i].strip()
                ]
                if not following:
                    return None
                last = following[0]
                output = lines[last]
            return chunks, output, last
        if not line.strip() or _INPUT.match(line):
            return None
        chunks.append(line)
    return None


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocstringSite:
    """A function's raw docstring, the source line its opening quotes are on, and its parameters."""

    text: str
    line: int  # 1-based line in the given source
    params: tuple[str, ...]


def find_docstring(source: str, func_name: str) -> DocstringSite | None:
    """The raw docstring of the (last) function named func_name in source, or None."""
    shift = 0
    try:
        tree = ast.parse(textwrap.dedent(source))
    except (SyntaxError, ValueError):
        try:  # an indented method whose docstring has lines left of the def: dedent cannot help
            tree, shift = ast.parse("if True:\n" + source), 1
        except (SyntaxError, ValueError):
            return None
    funcs = [
        node
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == func_name
    ]
    if not funcs:
        return None
    func = max(funcs, key=lambda node: node.lineno)
    first = func.body[0] if func.body else None
    if not (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return None
    args = func.args
    params = [a.arg for a in (*args.posonlyargs, *args.args)]
    if params and params[0] in ("self", "cls"):
        params = params[1:]
    return DocstringSite(first.value.value, first.value.lineno - shift, tuple(params))


def extract(
    docstring: str, func_name: str, *, params: Sequence[str] | None = None
) -> list[Example]:
    """All examples of `func_name` in a raw docstring, in order of appearance.

    `params` (the function's parameter names, without self/cls) lets prose forms such as
    "For n = 3 the output should be 6" become positional calls; without it they use keywords.
    """
    return list(scan(docstring, func_name, params=params).examples)


def scan(docstring: str, func_name: str, *, params: Sequence[str] | None = None) -> Scan:
    """The examples of `func_name` (as `extract`), and those whose stated output cannot be read
    (`f(x)  # 3 items`): skipped and counted rather than guessed."""
    lines = docstring.expandtabs(4).splitlines()
    blocks = _doctest_blocks(lines)
    used: set[int] = {r - 1 for b in blocks for r in range(b.line, b.end + 1)}
    unparsed: list[Unparsed] = []
    found = _doctest_examples(blocks, func_name, unparsed)
    found += _for_output_examples(lines, func_name, params, used)
    found += _input_output_examples(lines, func_name, params, used)
    found += _prose_examples(lines, func_name, used, unparsed)
    unique: dict[tuple[str, str | None, tuple[str, ...]], Example] = {}
    for example in sorted(found, key=lambda e: e.line):
        unique.setdefault((example.call, example.expected, example.setup), example)
    return Scan(tuple(unique.values()), tuple(sorted(unparsed, key=lambda u: u.line)))
