"""Importing repository code instrumented: a meta-path finder and loader that compile with cost hooks."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import os
import sys
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegrad.runners import loader
from codegrad.runners.cost_hooks import Costs
from codegrad.runners.cost_rewrite import HELPER, instrument

_SKIP_DIRS = ("site-packages", "dist-packages", "/.venv/", "/venv/", "/.tox/", "/.nox/")


class _InstrumentingLoader(importlib.machinery.SourceFileLoader):
    """Compiles a repository module with cost hooks and never reads or writes cached bytecode."""

    costs: Costs | None = None

    def get_code(self, fullname: str) -> types.CodeType:
        path = self.get_filename(fullname)
        source = self.get_data(path)
        code = instrument(source, path)
        if code is None:
            return compile(source, path, "exec", dont_inherit=True)
        return code

    def exec_module(self, module: types.ModuleType) -> None:
        module.__dict__[HELPER] = self.costs
        super().exec_module(module)


class Finder(importlib.abc.MetaPathFinder):
    """Hands modules under the checked-out roots to the instrumenting loader."""

    def __init__(self, roots: Sequence[Path], costs: Costs) -> None:
        self.roots = [str(r.resolve()) + os.sep for r in roots]
        self.costs = costs

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            return spec
        if not self._ours(spec.origin):
            return spec
        loader_ = _InstrumentingLoader(fullname, spec.origin)
        loader_.costs = self.costs
        spec.loader = loader_
        return spec

    def _ours(self, origin: str) -> bool:
        full = os.path.abspath(origin)
        return any(full.startswith(r) for r in self.roots) and not any(
            d in full for d in _SKIP_DIRS
        )


@dataclass
class Loaded:
    """The callable to measure, how to call it, and the module it lives in."""

    fn: Callable[..., Any]
    module: types.ModuleType
    code: types.CodeType | None
    construct: Callable[[], Any] | None
    instrumented: bool


def _by_path(root: Path, relpath: str, costs: Costs) -> types.ModuleType:
    path = (root / relpath).resolve()
    name = f"_codegrad_efficiency_{abs(hash((str(root), relpath)))}"
    loader_ = _InstrumentingLoader(name, str(path))
    loader_.costs = costs
    spec = importlib.util.spec_from_file_location(name, path, loader=loader_)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader_.exec_module(module)
    return module


def load(root: Path, relpath: str, qualname: str, construct: str | None, costs: Costs) -> Loaded:
    """Import relpath under root instrumented (re-importing by path if the name resolved elsewhere)."""
    module = loader.load_module(root, relpath)
    if module.__dict__.get(HELPER) is not costs:
        try:
            module = _by_path(root, relpath, costs)
        except BaseException as exc:
            raise loader.LoadError(
                f"importing {relpath} failed: {type(exc).__name__}: {exc}"
            ) from exc
    fn, bound = loader.callable_for(module, qualname)
    make = None
    if bound == "method":
        if construct is None:
            raise loader.LoadError(
                f"{qualname} is an instance method and no constructor was planned"
            )
        owner = loader.resolve(module, construct)
        make = owner
    code = getattr(inspect.unwrap(fn), "__code__", None)
    return Loaded(fn, module, code, make, module.__dict__.get(HELPER) is costs)
