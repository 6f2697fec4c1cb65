"""Tests the project keeps (pure): findings' reproducers -> readable pytest files, placed as the project does."""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from codegrad.model import Finding, Fix
from codegrad.verify import reproducer

MARKER = "# codegrad: generated regression tests; keep them, edit them freely"
TEST_FOLDERS = ("tests", "test", "testing")
_THIRD_PARTY = frozenset({"pytest", "hypothesis"})
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"asyncio", "math", "typing"}
_DEF = re.compile(r"^(\s*(?:async\s+)?def\s+)(\w+)(\s*\()", re.M)


# ---------------------------------------------------------------- where the project keeps tests


def is_test_file(path: str) -> bool:
    name = PurePosixPath(path).name
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


@dataclass(frozen=True)
class Layout:
    """How a project names and places its tests."""

    style: str = "prefix"  # "prefix": test_mod.py, "suffix": mod_test.py
    beside: bool = False  # tests sit next to the modules they test
    test_dirs: frozenset[str] = field(default_factory=frozenset)  # folders holding test files


def detect_layout(paths: Iterable[str]) -> Layout:
    """The project's conventions from its file list (tests/test_<module>.py when it has no tests)."""
    files = [p.removeprefix("./") for p in paths]
    tests = [p for p in files if is_test_file(p)]
    if not tests:
        return Layout()
    suffix = sum(1 for p in tests if PurePosixPath(p).name.endswith("_test.py"))
    style = "suffix" if suffix * 2 > len(tests) else "prefix"
    dirs = frozenset(str(PurePosixPath(p).parent) for p in tests)
    in_folder = sum(1 for p in tests if _under_test_folder(p))
    return Layout(style=style, beside=in_folder * 2 < len(tests), test_dirs=dirs)


def _under_test_folder(path: str) -> bool:
    return any(part in TEST_FOLDERS for part in PurePosixPath(path).parts[:-1])


def file_name(stem: str, style: str) -> str:
    return f"{stem}_test.py" if style == "suffix" else f"test_{stem}.py"


def module_stem(path: str) -> str:
    """`pkg/util.py` -> util; `pkg/__init__.py` -> pkg."""
    parts = PurePosixPath(path).parts
    if parts[-1] == "__init__.py" and len(parts) > 1:
        return parts[-2]
    return PurePosixPath(path).stem


def test_folder(source_path: str, layout: Layout) -> str:
    """The folder the tests of source_path belong in: next to it, or the nearest tests folder
    (mirroring the package's sub-folders when the project does), else a top-level tests/."""
    source = PurePosixPath(source_path)
    if layout.beside:
        return str(source.parent)
    ancestors = [str(p) for p in reversed(source.parents)]  # ".", "src", "src/pkg", ...
    for ancestor in reversed(ancestors):
        for name in TEST_FOLDERS:
            folder = name if ancestor == "." else f"{ancestor}/{name}"
            if any(d == folder or d.startswith(folder + "/") for d in layout.test_dirs):
                return _mirrored(folder, source, ancestor, layout)
    return "tests"


def _mirrored(folder: str, source: PurePosixPath, ancestor: str, layout: Layout) -> str:
    """folder/<sub>/... when the project already has such a sub-folder for the module's package."""
    rel = source.parent.parts[len(PurePosixPath(ancestor).parts) if ancestor != "." else 0 :]
    rel = rel[1:] if rel and rel[0] == "src" else rel
    for start in range(len(rel)):
        candidate = "/".join([folder, *rel[start:]])
        if candidate != folder and candidate in layout.test_dirs:
            return candidate
    return folder


def test_path(
    source_path: str,
    layout: Layout,
    existing: Collection[str],
    *,
    ours: Callable[[str], bool] = lambda path: False,
    taken: Mapping[str, str] | None = None,
) -> str:
    """Where the generated tests for source_path go: the project's own name for them
    (tests/test_<module>.py, <module>_test.py, ...) when free or already codegrad's, else the
    same name with a `_codegrad` mark. `taken` maps paths already given to other modules."""
    folder = test_folder(source_path, layout)
    stem = module_stem(source_path)
    others = taken or {}
    names = [stem, f"{stem}_codegrad"]
    parent = PurePosixPath(source_path).parent.name
    if parent:
        names += [f"{parent}_{stem}", f"{parent}_{stem}_codegrad"]
    for name in names:
        path = _join(folder, file_name(name, layout.style))
        if others.get(path, source_path) != source_path:
            continue
        if path not in existing or ours(path):
            return path
    n = 2
    while True:
        path = _join(folder, file_name(f"{stem}_codegrad_{n}", layout.style))
        if path not in existing and others.get(path, source_path) == source_path:
            return path
        n += 1


def _join(folder: str, name: str) -> str:
    return name if folder in ("", ".") else f"{folder}/{name}"


# ---------------------------------------------------------------- reproducers -> one test module


def usable(finding: Finding) -> bool:
    """A finding whose reproducer is a pytest module (not a shell command) with a test in it."""
    return bool(finding.reproducer) and _tests_in(finding.reproducer or "") > 0


def _tests_in(source: str) -> int:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return 0
    return sum(
        1
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test")
    )


@dataclass
class _Parts:
    """Imports and top-level definitions gathered from several modules."""

    plain: set[str] = field(default_factory=set)  # "import x" / "import x as y"
    names: dict[str, set[str]] = field(default_factory=dict)  # from-module -> "name [as alias]"
    blocks: list[str] = field(default_factory=list)
    defined: set[str] = field(default_factory=set)


def _add_module(parts: _Parts, source: str) -> None:
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    for node in tree.body:
        if isinstance(node, ast.Import):
            parts.plain.update(_alias(a) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            parts.names.setdefault(node.module or "", set()).update(_alias(a) for a in node.names)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the module docstring
        else:
            _add_block(parts, node, lines)


def _alias(alias: ast.alias) -> str:
    return f"{alias.name} as {alias.asname}" if alias.asname else alias.name


def _add_block(parts: _Parts, node: ast.stmt, lines: list[str]) -> None:
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    text = "".join(lines[first - 1 : node.end_lineno or node.lineno]).rstrip() + "\n"
    if text in parts.blocks:
        return  # the same test twice (e.g. one reproducer for two findings)
    name = getattr(node, "name", None)
    if isinstance(name, str):
        unique, n = name, 2
        while unique in parts.defined:
            unique, n = f"{name}_{n}", n + 1
        if unique != name:
            text = _DEF.sub(
                lambda m: m.group(1) + unique + m.group(3) if m.group(2) == name else m.group(0),
                text,
                count=1,
            )
        parts.defined.add(unique)
    parts.blocks.append(text)


def _group(module: str) -> int:
    top = module.split(".")[0]
    return 0 if top in _STDLIB else 1 if top in _THIRD_PARTY else 2


def _import_lines(parts: _Parts) -> list[str]:
    groups: list[list[str]] = [[], [], []]
    for item in sorted(parts.plain):
        groups[_group(item.split()[0])].append(f"import {item}")
    for module in sorted(parts.names, key=lambda m: (m.split(".")[0] != "hypothesis", m)):
        names = sorted(parts.names[module], key=lambda n: (" as " in n, n))
        plain = [n for n in names if " as " not in n]
        aliased = [n for n in names if " as " in n]
        if plain:
            groups[_group(module)].append(f"from {module} import {', '.join(plain)}")
        groups[_group(module)] += [f"from {module} import {n}" for n in aliased]
    out: list[str] = []
    for group in groups:
        if group:
            out += [*group, ""]
    return out


def combine(sources: Sequence[str], *, title: str, existing: str | None = None) -> str:
    """One readable pytest module from reproducer modules (imports merged and sorted, test names
    made unique, duplicates dropped), appended to `existing` when codegrad wrote that file."""
    parts = _Parts()
    for source in ([existing] if existing else []) + list(sources):
        try:
            _add_module(parts, source)
        except (SyntaxError, ValueError):
            continue
    lines = [f'"""{title}"""', "", MARKER, "", *_import_lines(parts), ""]
    body = "\n\n".join(block.rstrip("\n") + "\n" for block in parts.blocks)
    return "\n".join(lines).rstrip("\n") + "\n\n\n" + body.rstrip("\n") + "\n"


def test_names(source: str) -> list[str]:
    """The test functions a module defines, in order."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    return [
        n.name
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test")
    ]


def tests_for(fix: Fix) -> str | None:
    """One test module for a fix from the reproducers of the findings it fixed (None if none)."""
    sources = [f.reproducer or "" for f in fix.fixed if usable(f)]
    if not sources:
        return None
    title = (
        f"Regression tests for {fix.path}::{fix.function}: each failed before codegrad's fix "
        "and passes after it."
    )
    return combine(sources, title=title)


def files_for(
    fixes: Sequence[Fix], paths: Collection[str], read: Callable[[str], str | None]
) -> dict[str, str]:
    """Test files for the verified fixes that carry tests, one per source module, placed and
    named as the project does; a file codegrad wrote earlier is extended, never another file."""
    layout = detect_layout(paths)
    by_module: dict[str, list[str]] = {}
    for fix in fixes:
        if fix.verified and fix.tests:
            by_module.setdefault(fix.path, []).append(fix.tests)
    out: dict[str, str] = {}
    given: dict[str, str] = {}
    existing = set(paths)

    def ours(path: str) -> bool:
        text = read(path)
        return text is not None and MARKER in text

    for module, sources in sorted(by_module.items()):
        path = test_path(module, layout, existing, ours=ours, taken=given)
        given[path] = module
        title = f"Regression tests for {reproducer.module_name(module)}, written by codegrad: each failed before a fix and passes after it."
        out[path] = combine(sources, title=title, existing=read(path) if path in existing else None)
    return out
