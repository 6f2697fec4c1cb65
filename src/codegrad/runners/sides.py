"""Base and head of a target loaded side by side in one runner, each with its own modules when active.

Importing a tree purges the other tree's modules from sys.modules (loader), so each side keeps the
table of its own modules; `active()` puts that table (and its sys.path) back while the side decodes
recorded values or runs, so `pkg.mod:Class` resolves to the class of the version being called.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from codegrad.runners import loader, valuecodec

_RESOLVED: dict[str, Path | None] = {}


def _resolved(file: str) -> Path | None:
    """A module file's resolved path, remembered (activation looks at every module, every call)."""
    if file not in _RESOLVED:
        try:
            _RESOLVED[file] = Path(file).resolve()
        except (OSError, ValueError):
            _RESOLVED[file] = None
    return _RESOLVED[file]


def _under(module: ModuleType, root: Path) -> bool:
    file = getattr(module, "__file__", None)
    path = _resolved(file) if isinstance(file, str) else None
    return path is not None and path.is_relative_to(root)


class Side:
    """One version of the target: its module, callable, how it is bound, and its module table."""

    def __init__(self, root: Path, path: str, qualname: str) -> None:
        self.root = root.resolve()
        self.path = path
        self.qualname = qualname
        self.module = loader.load_module(self.root, path)
        self.fn, self.bound = loader.callable_for(self.module, qualname)
        self.file = (self.root / path).resolve()
        self.modules = {n: m for n, m in list(sys.modules.items()) if _under(m, self.root)}
        self.sys_path = list(sys.path)
        self.others: list[Side] = []

    @contextmanager
    def active(self) -> Iterator[None]:
        """sys.modules and sys.path as when this side was imported (other sides' modules out)."""
        roots = [o.root for o in self.others]
        stash = {n: m for n, m in list(sys.modules.items()) if any(_under(m, r) for r in roots)}
        for name in stash:
            del sys.modules[name]
        replaced = {n: sys.modules.get(n) for n in self.modules}
        sys.modules.update(self.modules)
        saved_path = list(sys.path)
        sys.path[:] = self.sys_path
        try:
            yield
        finally:
            for name, module in list(sys.modules.items()):
                if _under(module, self.root):
                    self.modules[name] = module
            for name in self.modules:
                previous = replaced.get(name)
                if previous is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = previous
            sys.modules.update(stash)
            sys.path[:] = saved_path

    def resolve(self, module: str, qualname: str) -> Any:
        """A class or function named in a recording, from this side's modules (call while active)."""
        return valuecodec.import_resolver(module, qualname)


def load_pair(
    base_root: Path, base_path: str, head_root: Path, head_path: str, qualname: str
) -> tuple[Side, Side]:
    """Base then head, each aware of the other so activation swaps their modules."""
    base = Side(base_root, base_path, qualname)
    head = Side(head_root, head_path, qualname)
    base.others, head.others = [head], [base]
    return base, head
