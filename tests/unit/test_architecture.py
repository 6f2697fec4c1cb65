"""The package's shape: no import cycles (module-level or inside functions), layers import downward only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PKG = SRC / "codegrad"

# Each layer may import only from itself and the layers listed (besides the shared vocabulary).
SHARED = {
    "errors",
    "model",
    "settings",
    "redaction",
    "fileio",
    "funcsource",
    "progress",
    "gradient",
    "markup",
}
MAY_IMPORT = {
    "diff": set(),
    "render": set(),
    "llm": set(),
    "verify": {"diff", "llm", "render"},
    "refine": {"diff", "llm", "verify"},
    "harden": {"diff", "llm", "verify", "refine", "render"},
    "review": {"diff", "llm", "verify", "refine"},
    "github": {"diff", "llm", "verify", "refine", "harden", "render", "review"},
    "cli": {"diff", "llm", "verify", "refine", "harden", "render", "review", "github"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every codegrad module path imports, wherever the import statement is (functions included)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("codegrad"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if not base.startswith("codegrad"):
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


MODULES = {module_name(p) for p in PKG.rglob("*.py")}
GRAPH = {module_name(p): imports_of(p) for p in PKG.rglob("*.py")}


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "codegrad"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_has_no_cycle_even_through_imports_inside_functions() -> None:
    assert cycles(GRAPH) == []


def test_the_checker_sees_a_cycle_when_there_is_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_graph_covers_the_package() -> None:
    assert "codegrad.review" in GRAPH["codegrad.cli"]
    assert "codegrad.verify.engine" in GRAPH["codegrad.review"]


def test_runners_import_nothing_of_codegrad_outside_runners() -> None:
    """The runners run inside the sandbox with the project's interpreter: stdlib + hypothesis only."""
    leaks = {
        m: sorted(d for d in deps if not d.startswith("codegrad.runners"))
        for m, deps in GRAPH.items()
        if m.startswith("codegrad.runners")
    }
    assert {m: d for m, d in leaks.items() if d} == {}


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if layer(m) in MAY_IMPORT))
def test_layers_import_downward_only(module: str) -> None:
    own = layer(module)
    allowed = MAY_IMPORT[own]
    wrong = []
    for dep in GRAPH[module]:
        dep_layer = layer(dep)
        if dep_layer in (own, "codegrad", "runners") or dep.split(".")[1] in SHARED:
            continue
        if dep_layer in allowed or ".".join(dep.split(".")[1:3]) in allowed:
            continue
        wrong.append(dep)
    assert wrong == [], f"{module} imports {wrong}, above its layer {own!r}"


@pytest.mark.parametrize("module", sorted(f"codegrad.{m}" for m in SHARED))
def test_the_shared_vocabulary_imports_only_itself(module: str) -> None:
    assert {d for d in GRAPH[module] if d.split(".")[1] not in SHARED} == set()


def test_every_check_name_has_one_class_and_one_description() -> None:
    from codegrad.settings import ALL_CHECKS, CHECKS
    from codegrad.verify.engine import CHECK_CLASSES, make_checks

    assert set(CHECK_CLASSES) == set(ALL_CHECKS) == set(CHECKS)
    assert all(CHECKS[name] for name in ALL_CHECKS)
    assert [c.name for c in make_checks(ALL_CHECKS)][-1] == "llm-checks"
