"""Unified diff + ast -> the functions a change touched (pure: sources come in through callables)."""

from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchedFile, PatchSet

from codegrad.funcsource import FuncNode
from codegrad.model import Finding, Kind, Target

SourceReader = Callable[[str], str | None]  # repo-relative path -> file text, None if absent
_PROPERTY_DECORATORS = {"property", "cached_property", "setter", "getter", "deleter"}
_CHILD_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")
MODULE = "<module>"


@dataclass(frozen=True)
class _Func:
    """One def found by the walk, with where it sits."""

    node: FuncNode
    qualname: str
    kind: str
    class_name: str | None
    parent: int | None  # index of the enclosing function in the walk's list
    occurrence: int  # how many earlier defs in the file share this qualname

    @property
    def start(self) -> int:
        return min([self.node.lineno, *(d.lineno for d in self.node.decorator_list)])

    @property
    def end(self) -> int:
        return self.node.end_lineno or self.node.lineno

    @property
    def key(self) -> tuple[str, int]:
        return (self.qualname, self.occurrence)


# ---------------------------------------------------------------- globs


def matches(path: str, patterns: Sequence[str]) -> bool:
    """Whether the repo-relative POSIX path fully matches any glob (`**` spans zero or more folders)."""
    path = path.removeprefix("./")
    return any(_glob_regex(p).fullmatch(path) for p in patterns)


@functools.lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    parts = pattern.removeprefix("./").split("/")
    out = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            out.append(".*" if last else "(?:[^/]+/)*")
        else:
            out.append(_segment_regex(part) + ("" if last else "/"))
    return re.compile("".join(out), re.DOTALL)


def _segment_regex(segment: str) -> str:
    """fnmatch for one path segment: `*` and `?` never cross `/`; `[...]` classes, `[!...]` negated."""
    out, i = [], 0
    while i < len(segment):
        c = segment[i]
        i += 1
        if c == "*":
            while i < len(segment) and segment[i] == "*":
                i += 1
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1 if i < len(segment) and segment[i] in "!]" else i
            j = j + 1 if j < len(segment) and segment[j] == "]" else j
            close = segment.find("]", j)
            if close < 0:
                out.append(re.escape(c))
                continue
            body = segment[i:close].replace("\\", "\\\\")
            body = "^" + body[1:] if body.startswith("!") else body
            out.append(f"(?!/)[{body}]")
            i = close + 1
        else:
            out.append(re.escape(c))
    return "".join(out)


# ---------------------------------------------------------------- ast walk


def _walk(tree: ast.Module) -> list[_Func]:
    """Every def in the file, outer before inner, in source order."""
    found: list[_Func] = []
    seen: dict[str, int] = {}

    def visit(body: Sequence[ast.AST], prefix: str, owner: str | None, parent: int | None) -> None:
        # owner: "class:<qualname>" when directly in a class body, "function" in a def, None at module level
        for stmt in body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                qualname = prefix + stmt.name
                kind, class_name = _kind(stmt, owner)
                found.append(_Func(stmt, qualname, kind, class_name, parent, seen.get(qualname, 0)))
                seen[qualname] = seen.get(qualname, 0) + 1
                visit(stmt.body, qualname + ".", "function", len(found) - 1)
            elif isinstance(stmt, ast.ClassDef):
                visit(
                    stmt.body,
                    prefix + stmt.name + ".",
                    "class:" + prefix + stmt.name,
                    parent,
                )
            else:
                for child in _child_bodies(stmt):
                    visit(child, prefix, owner, parent)

    visit(tree.body, "", None, None)
    return found


def _child_bodies(stmt: ast.AST) -> Iterator[Sequence[ast.AST]]:
    """Statement lists nested in a compound statement (if/for/while/with/try/match)."""
    for name in _CHILD_BODIES:
        value = getattr(stmt, name, None)
        if not isinstance(value, list):
            continue
        if name in ("handlers", "cases"):
            for item in value:
                yield item.body
        else:
            yield value


def _kind(node: FuncNode, owner: str | None) -> tuple[str, str | None]:
    if owner is None:
        return "function", None
    if owner == "function":
        return "nested", None
    class_name = owner.removeprefix("class:")
    names = {_decorator_name(d) for d in node.decorator_list}
    if "staticmethod" in names:
        return "staticmethod", class_name
    if "classmethod" in names:
        return "classmethod", class_name
    if names & _PROPERTY_DECORATORS:
        return "property", class_name
    return "method", class_name


def _decorator_name(node: ast.expr) -> str:
    """The last dotted name of a decorator: `functools.cached_property` -> cached_property."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


# ---------------------------------------------------------------- source text


def _split_lines(text: str) -> list[str]:
    """Lines as git counts them (split on "\\n" only), each with its original ending."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _decode(text: str) -> str:
    """Text as Python would read it: undecodable bytes (kept as surrogates) retried per PEP 263.

    Raises UnicodeDecodeError (or SyntaxError for a bad coding line) when the bytes cannot be read.
    """
    if not any("\udc80" <= c <= "\udcff" for c in text):
        return text
    raw = text.encode("utf-8", "surrogateescape")
    encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    return raw.decode(encoding)


def _parse(path: str, text: str) -> ast.Module:
    """ast.parse that only raises SyntaxError (null bytes, decode errors and deep nesting included)."""
    try:
        return ast.parse(_decode(text).removeprefix("\ufeff"), filename=path)
    except SyntaxError:
        raise
    except UnicodeDecodeError as exc:
        raw = text.encode("utf-8", "surrogateescape")
        line = raw[: exc.start].count(b"\n") + 1
        msg = (
            f"cannot decode as {exc.encoding}: byte 0x{raw[exc.start]:02x} ({exc.reason});"
            " save the file as UTF-8 or declare its encoding (PEP 263)"
        )
        raise SyntaxError(msg, (path, line, 0, "")) from exc
    except (ValueError, RecursionError, MemoryError) as exc:
        raise SyntaxError(str(exc) or type(exc).__name__, (path, 1, 0, "")) from exc


def _syntax_finding(path: str, exc: SyntaxError) -> Finding:
    line = exc.lineno or 1
    where = f"line {line}" + (f", column {exc.offset}" if exc.offset else "")
    return Finding(
        path=path,
        function=MODULE,
        line=line,
        check="syntax",
        kind=Kind.SYNTAX,
        message=f"{path} does not parse: {type(exc).__name__}: {exc.msg} ({where})",
        details={"text": (exc.text or "").rstrip("\r\n")},
    )


def syntax_finding(path: str, source: str) -> Finding | None:
    """A SYNTAX finding when source does not parse (or cannot be decoded), else None."""
    try:
        _parse(path, source)
    except SyntaxError as exc:
        return _syntax_finding(path, exc)
    return None


def _target(path: str, func: _Func, lines: list[str], changed: Sequence[int] = ()) -> Target:
    node = func.node
    return Target(
        path=path,
        qualname=func.qualname,
        lineno=node.lineno,
        end_lineno=func.end,
        source="".join(lines[func.start - 1 : func.end]),
        changed_lines=tuple(sorted(set(changed))),
        decorator_lineno=func.start if node.decorator_list else None,
        is_async=isinstance(node, ast.AsyncFunctionDef),
        kind=func.kind,
        class_name=func.class_name,
        docstring=ast.get_docstring(node),
    )


def all_functions(path: str, source: str) -> list[Target]:
    """Every function in a file as a Target (no base); raises SyntaxError when it does not parse."""
    tree = _parse(path, source)
    lines = _split_lines(_decode(source))
    return [_target(path, f, lines) for f in _walk(tree)]


# ---------------------------------------------------------------- diff -> changed lines


def _unquote(name: str) -> str:
    """Undo git's C-style quoting of a path ("a/we\\"ird.py" -> a/we"ird.py)."""
    if not (len(name) >= 2 and name[0] == name[-1] == '"'):
        return name
    raw = name[1:-1].encode("utf-8", "surrogateescape")
    escapes = {
        b"n": b"\n",
        b"t": b"\t",
        b'"': b'"',
        b"\\": b"\\",
        b"a": b"\a",
        b"b": b"\b",
        b"f": b"\f",
        b"r": b"\r",
        b"v": b"\v",
    }
    out, i = bytearray(), 0
    while i < len(raw):
        if raw[i : i + 1] == b"\\" and re.fullmatch(rb"[0-7]{3}", raw[i + 1 : i + 4]):
            out.append(int(raw[i + 1 : i + 4], 8))
            i += 4
        elif raw[i : i + 1] == b"\\" and raw[i + 1 : i + 2] in escapes:
            out += escapes[raw[i + 1 : i + 2]]
            i += 2
        else:
            out += raw[i : i + 1]
            i += 1
    return out.decode("utf-8", "surrogateescape")


def _side_path(name: str | None, prefix: str) -> str | None:
    if name is None or name == "/dev/null":
        return None
    name = _unquote(name)
    return name[len(prefix) :] if name.startswith(prefix) else name


@dataclass(frozen=True)
class _FileChange:
    """What one file's hunks say: added head lines and removed base lines with their head position."""

    added: frozenset[int]
    removed: tuple[tuple[int, int], ...]  # (base line, head line where the removal sits)


def _file_change(pf: PatchedFile) -> _FileChange:
    added: set[int] = set()
    removed: list[tuple[int, int]] = []
    for hunk in pf:
        pending: list[int] = []
        last_head = max(hunk.target_start - 1, 1)
        for line in hunk:
            if line.is_removed and line.source_line_no is not None:
                pending.append(line.source_line_no)
                continue
            if line.target_line_no is None:
                continue
            if line.is_added:
                added.add(line.target_line_no)
            removed += [(base, line.target_line_no) for base in pending]
            pending = []
            last_head = line.target_line_no
        removed += [(base, last_head) for base in pending]
    return _FileChange(frozenset(added), tuple(removed))


def _owners(funcs: Sequence[_Func]) -> dict[int, int]:
    """Line -> index of the innermost def covering it (inner defs come later in the walk)."""
    owner: dict[int, int] = {}
    for i, f in enumerate(funcs):
        owner.update(dict.fromkeys(range(f.start, f.end + 1), i))
    return owner


def _attribute(
    head: list[_Func], base: list[_Func] | None, change: _FileChange
) -> dict[int, set[int]]:
    """Head function index -> the head lines that changed directly in it (not in a nested def)."""
    head_owner = _owners(head)
    hits: dict[int, set[int]] = {}
    for line in change.added:
        if line in head_owner:
            hits.setdefault(head_owner[line], set()).add(line)
    by_key = {f.key: i for i, f in enumerate(head)}
    base_owner = _owners(base) if base is not None else None
    for base_line, head_line in change.removed:
        if base is None or base_owner is None:  # base unreadable: the def just before the removal
            i = head_owner.get(max(head_line - 1, 1) if head_line > 1 else head_line)
        else:
            i = _removal_owner(base, base_owner, by_key, base_line)
        if i is not None:
            hits.setdefault(i, set()).add(min(max(head_line, head[i].start), head[i].end))
    return hits


def _removal_owner(
    base: list[_Func],
    base_owner: dict[int, int],
    by_key: dict[tuple[str, int], int],
    base_line: int,
) -> int | None:
    """The head def that lost base_line: the innermost base def around it that head still has."""
    j = base_owner.get(base_line)
    while j is not None:
        if base[j].key in by_key:
            return by_key[base[j].key]
        j = base[j].parent
    return None


# ---------------------------------------------------------------- public entry point


def changed_functions(
    diff_text: str,
    head_source: SourceReader,
    base_source: SourceReader,
    *,
    include: Sequence[str],
    exclude: Sequence[str],
) -> tuple[list[Target], list[Finding]]:
    """The functions a diff changed (innermost def per changed line) and SYNTAX findings for broken files.

    head_source/base_source map a repo-relative path to that file's text at head/base (None if absent).
    """
    try:
        patch = PatchSet(diff_text)
    except UnidiffParseError as exc:
        raise ValueError(f"cannot parse the diff: {exc}") from exc
    targets: list[Target] = []
    findings: list[Finding] = []
    for pf in patch:
        head_path = _side_path(pf.target_file, "b/")
        if (
            head_path is None
            or pf.is_removed_file
            or pf.is_binary_file
            or pf.is_symlink
            or pf.is_submodule
        ):
            continue
        if (
            not head_path.endswith(".py")
            or not matches(head_path, include)
            or matches(head_path, exclude)
        ):
            continue
        base_path = _side_path(pf.source_file, "a/")
        new_targets, finding = _file_targets(pf, head_path, base_path, head_source, base_source)
        targets += new_targets
        findings += [finding] if finding else []
    return targets, findings


def _file_targets(
    pf: PatchedFile,
    head_path: str,
    base_path: str | None,
    head_source: SourceReader,
    base_source: SourceReader,
) -> tuple[list[Target], Finding | None]:
    change = _file_change(pf)
    if not change.added and not change.removed:
        return [], None  # pure rename or mode change: no function text differs
    head_text = head_source(head_path)
    if head_text is None:
        return [], None
    try:
        head_funcs = _walk(_parse(head_path, head_text))
    except SyntaxError as exc:
        return [], _syntax_finding(head_path, exc)
    base_text = base_source(base_path) if base_path is not None else None
    base_funcs, base_lines = _base_functions(base_path, base_text)
    head_lines = _split_lines(_decode(head_text))
    base_index = {f.key: f for f in base_funcs or []}
    out = []
    for i, lines in sorted(
        _with_reachable_owners(head_funcs, _attribute(head_funcs, base_funcs, change)).items(),
        key=lambda kv: head_funcs[kv[0]].start,
    ):
        target = _target(head_path, head_funcs[i], head_lines, sorted(lines))
        old = base_index.get(head_funcs[i].key)
        if old is not None:
            base_source_text = "".join(base_lines[old.start - 1 : old.end])
            if base_source_text == target.source:
                continue
            target = _with_base(target, base_path, base_source_text, old.node.lineno)
        elif base_path is not None:
            target = _with_base(target, base_path, None, None)
        out.append(target)
    return out, None


def _with_reachable_owners(
    funcs: Sequence[_Func], attributed: dict[int, set[int]]
) -> dict[int, set[int]]:
    """Add the enclosing function of each changed nested def: it is only callable through it."""
    out = {i: set(lines) for i, lines in attributed.items()}
    for i, lines in attributed.items():
        owner = i
        while funcs[owner].kind == "nested" and funcs[owner].parent is not None:
            owner = funcs[owner].parent  # type: ignore[assignment]
        if owner != i:
            out.setdefault(owner, set()).update(lines)
    return out


def _base_functions(
    base_path: str | None, base_text: str | None
) -> tuple[list[_Func] | None, list[str]]:
    """The base file's defs and lines; (None, []) when there is no base file or it does not parse."""
    if base_path is None or base_text is None:
        return None, []
    try:
        return _walk(_parse(base_path, base_text)), _split_lines(_decode(base_text))
    except SyntaxError:
        return None, []


def _with_base(
    target: Target, base_path: str | None, source: str | None, lineno: int | None
) -> Target:
    return replace(target, base_path=base_path, base_source=source, base_lineno=lineno)
