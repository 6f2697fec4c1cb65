"""Powers a fix may not add: modules, builtins and attributes that neither the original function nor
its module uses (processes, network, files, environment, dynamic code, native code, introspection).

A candidate is LLM output shaped by the pull request (a docstring can carry a prompt injection), so
what it may use is bounded by what the code already used: a name or attribute chain that resolves
to a module (`os.system`, `system` from `from os import system`) must already appear in the file,
or a shorter chain of it must appear as a value (`p = os.path` allows `p.join` and
`os.path.exists`); dangerous builtins (`eval`, `open`, `getattr`, …) and escape-hatch attributes
(`__class__`, `__globals__`, frame attributes) must already be used. Modules without such powers
(math, re, itertools, …) are free to add.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from codegrad.model import Outcome

REFUSED = "it adds powers"  # how every refusal's reason starts
PURE_MODULES = frozenset(
    {
        "__future__",
        "abc",
        "array",
        "base64",
        "binascii",
        "bisect",
        "calendar",
        "cmath",
        "collections",
        "colorsys",
        "contextlib",
        "copy",
        "dataclasses",
        "datetime",
        "decimal",
        "difflib",
        "enum",
        "fnmatch",
        "fractions",
        "functools",
        "graphlib",
        "hashlib",
        "heapq",
        "hmac",
        "html",
        "itertools",
        "json",
        "keyword",
        "math",
        "numbers",
        "operator",
        "pprint",
        "random",
        "re",
        "reprlib",
        "secrets",
        "statistics",
        "string",
        "struct",
        "textwrap",
        "time",
        "typing",
        "typing_extensions",
        "unicodedata",
        "warnings",
        "zlib",
    }
)
_CATEGORY = {
    **dict.fromkeys(("os", "posix", "nt"), "process, file and environment access"),
    **dict.fromkeys(
        ("subprocess", "pty", "multiprocessing", "signal", "concurrent", "threading", "_thread"),
        "running processes or threads",
    ),
    **dict.fromkeys(
        (
            "socket",
            "ssl",
            "http",
            "urllib",
            "ftplib",
            "smtplib",
            "poplib",
            "imaplib",
            "telnetlib",
            "xmlrpc",
            "asyncio",
            "select",
            "selectors",
            "webbrowser",
            "requests",
            "httpx",
            "aiohttp",
            "urllib3",
        ),
        "network access",
    ),
    **dict.fromkeys(
        (
            "io",
            "shutil",
            "pathlib",
            "tempfile",
            "glob",
            "fileinput",
            "zipfile",
            "tarfile",
            "sqlite3",
            "dbm",
            "shelve",
        ),
        "file access",
    ),
    **dict.fromkeys(("ctypes", "cffi", "mmap"), "native code"),
    **dict.fromkeys(("importlib", "pkgutil", "runpy", "zipimport", "imp"), "dynamic imports"),
    **dict.fromkeys(("pickle", "marshal", "copyreg"), "code execution through deserialisation"),
    **dict.fromkeys(
        ("sys", "builtins", "inspect", "gc", "code", "codeop", "types", "dis", "ast"),
        "interpreter internals",
    ),
}
BUILTINS = {
    **dict.fromkeys(("exec", "eval", "compile", "__import__"), "dynamic code"),
    **dict.fromkeys(("__builtins__", "__loader__", "__spec__"), "interpreter internals"),
    **dict.fromkeys(("globals", "locals", "vars"), "access to any name"),
    **dict.fromkeys(("getattr", "setattr", "delattr"), "access to any attribute"),
    "open": "file access",
    "input": "console input",
    "breakpoint": "a debugger",
    **dict.fromkeys(("exit", "quit"), "ending the process"),
}
_NOT_CALLED = frozenset({"__builtins__", "__loader__", "__spec__"})
_HARMLESS_DUNDERS = frozenset({"__name__", "__qualname__", "__doc__"})
_FRAME_ATTRIBUTES = frozenset(
    {
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_back",
        "f_code",
        "tb_frame",
        "tb_next",
        "gi_frame",
        "gi_code",
        "cr_frame",
        "cr_code",
        "ag_frame",
        "ag_code",
        "co_code",
    }
)


@dataclass(frozen=True, order=True)
class Power:
    """One thing code can do: a module chain, a builtin or an attribute, and what it gives."""

    name: str
    gives: str

    def __str__(self) -> str:
        return f"`{self.name}` ({self.gives})"


@dataclass
class Uses:
    """What a piece of code reaches: resolved module chains, imported modules, builtins, attributes."""

    chains: set[str] = field(default_factory=set)
    imports: set[str] = field(default_factory=set)
    builtins: set[str] = field(default_factory=set)
    attributes: set[str] = field(default_factory=set)


def added(file_source: str, candidate: str) -> list[Power]:
    """Powers the candidate function uses that its file (original function included) does not."""
    try:
        module = ast.parse(file_source)
        function = ast.parse(candidate)
    except SyntaxError:
        return []  # the structural checks report unparsable code
    module_aliases = aliases(module)
    allowed = uses(module, module_aliases)
    bound = _bound(function) | _top_level_names(module)
    used = uses(function, {**module_aliases, **aliases(function)}, bound=bound)
    found: set[Power] = set()
    for chain in used.chains:
        if not _covered(chain, allowed.chains) and not _pure(chain):
            found.add(Power(chain, _category(chain)))
    for name in used.imports - allowed.imports:
        if not _pure(name) and not _covered(name, allowed.chains):
            found.add(Power(f"import {name}", _category(name)))
    for name in used.builtins - allowed.builtins:
        shown = name if name in _NOT_CALLED else f"{name}()"
        found.add(Power(shown, BUILTINS[name]))
    for attribute in used.attributes - allowed.attributes:
        found.add(Power(f".{attribute}", "access to interpreter internals"))
    return sorted(found)


def reason(powers: Iterable[Power], function: str) -> str:
    """Why a candidate with these powers is refused, naming them (at most three)."""
    listed = list(powers)
    shown = ", ".join(str(p) for p in listed[:3]) + (" …" if len(listed) > 3 else "")
    return (
        f"{REFUSED} that neither {function} nor its module uses: {shown}; a fix may only "
        "use what the code already uses"
    )


def guard_fixes(outcome: Outcome, read: Callable[[str], str | None]) -> Outcome:
    """The outcome with every verified fix that adds powers to its file (as `read` gives it) made
    unverified, and a note: a second gate just before anything is suggested or committed."""
    fixes, notes = [], []
    for fix in outcome.fixes:
        source = read(fix.path) if fix.verified else None
        found = added(source, fix.source) if source is not None else []
        if fix.verified and (source is None or found):
            why = reason(found, fix.function) if found else f"{fix.path} could not be read"
            fix = dataclasses.replace(fix, verified=False, stop_reason=f"refused: {why}")
            notes.append(f"refused the fix for {fix.path}::{fix.function}: {why}")
        fixes.append(fix)
    if not notes:
        return outcome
    return dataclasses.replace(outcome, fixes=tuple(fixes), notes=(*outcome.notes, *notes))


def aliases(tree: ast.AST) -> dict[str, str]:
    """Names bound by imports anywhere in tree -> the dotted module path they stand for."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found[alias.asname] = alias.name
                else:
                    root = alias.name.split(".")[0]
                    found[root] = root
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            joiner = "." if node.module else ""
            for alias in node.names:
                if alias.name != "*":
                    found[alias.asname or alias.name] = f"{base}{joiner}{alias.name}"
    return found


def uses(tree: ast.AST, names: Mapping[str, str], bound: frozenset[str] = frozenset()) -> Uses:
    """Everything tree reaches through the aliases in `names` (locally bound names excepted)."""
    out = Uses()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.imports.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            out.imports.add(module)
            if any(a.name == "*" for a in node.names):
                out.chains.add(f"{module}.*")
        elif isinstance(node, ast.Attribute) and _dangerous_attribute(node.attr):
            out.attributes.add(node.attr)
        elif isinstance(node, ast.Name) and _builtin(node.id, names, bound):
            out.builtins.add(node.id)
    _chains(tree, names, bound, out.chains)
    return out


def _chains(tree: ast.AST, names: Mapping[str, str], bound: frozenset[str], out: set[str]) -> None:
    """The maximal dotted chains that start at an imported name, resolved to module paths."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        dotted = _dotted(node)
        if dotted is not None:
            root, _, rest = dotted.partition(".")
            if root in names and root not in bound:
                out.add(names[root] + (f".{rest}" if rest else ""))
                continue
        stack.extend(ast.iter_child_nodes(node))


def _dotted(node: ast.AST) -> str | None:
    """ "a.b.c" for a Name or an attribute chain on a Name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def _bound(function: ast.Module) -> frozenset[str]:
    """Names the candidate binds itself (parameters, assignments, loop and with targets, defs)."""
    names: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
    for node in function.body:  # the function's own name is the module's, not a local binding
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.discard(node.name)
    return frozenset(names)


def _top_level_names(module: ast.Module) -> frozenset[str]:
    """Functions, classes and variables the module defines (they are its code, not builtins)."""
    names: set[str] = set()
    for node in module.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return frozenset(names)


def _covered(chain: str, allowed: set[str]) -> bool:
    """Whether the chain, or a shorter chain of it used as a value, is already in use."""
    parts = chain.split(".")
    return any(".".join(parts[:n]) in allowed for n in range(1, len(parts) + 1))


def _pure(chain: str) -> bool:
    return chain.split(".")[0] in PURE_MODULES and not any(
        _dangerous_attribute(part) for part in chain.split(".")[1:]
    )


def _category(chain: str) -> str:
    root = chain.split(".")[0]
    return _CATEGORY.get(root, f"a module the code did not use ({root or 'relative import'})")


def _builtin(name: str, names: Mapping[str, str], bound: frozenset[str]) -> bool:
    """Whether the name is a dangerous builtin here (not imported or bound under that name)."""
    return name in BUILTINS and name not in names and name not in bound


def _dangerous_attribute(name: str) -> bool:
    dunder = name.startswith("__") and name.endswith("__") and name not in _HARMLESS_DUNDERS
    return dunder or name in _FRAME_ATTRIBUTES
