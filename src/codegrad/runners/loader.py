"""Import a repository's module by path and resolve a function by qualified name, one root at a time."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any


class LoadError(Exception):
    """The module could not be imported or the name is not there (message says which)."""


def module_name_for(root: Path, relpath: str) -> tuple[str, Path]:
    """The dotted module name of a file and the sys.path entry it imports from."""
    path = (root / relpath).resolve()
    parts = [path.stem] if path.name != "__init__.py" else []
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder != root.resolve().parent:
        parts.insert(0, folder.name)
        folder = folder.parent
    if not parts:  # a bare __init__.py at the root
        parts = [path.parent.name]
        folder = path.parent.parent
    return ".".join(parts), folder


def _purge(root: Path) -> None:
    """Forget modules loaded from another checkout so the next import reads this root's files."""
    for name, mod in list(sys.modules.items()):
        file = getattr(mod, "__file__", None)
        if not file:
            continue
        try:
            Path(file).resolve().relative_to(root.resolve())
        except ValueError:
            continue
        del sys.modules[name]


def _set_path(root: Path, entry: Path, previous_roots: list[Path]) -> None:
    drop = {str(p) for r in previous_roots for p in (r, r / "src")}
    sys.path[:] = [p for p in sys.path if p not in drop]
    for extra in (root / "src", root, entry):
        if extra.is_dir() and str(extra) not in sys.path:
            sys.path.insert(0, str(extra))


_loaded_roots: list[Path] = []


def load_module(root: Path, relpath: str) -> ModuleType:
    """Import relpath under root; a later call with another root re-imports that root's files."""
    root = root.resolve()
    for other in _loaded_roots:
        if other != root:
            _purge(other)
    name, entry = module_name_for(root, relpath)
    _set_path(root, entry, [r for r in _loaded_roots if r != root])
    if root not in _loaded_roots:
        _loaded_roots.append(root)
    target = (root / relpath).resolve()
    cwd = os.getcwd()
    try:
        os.chdir(root)
        try:
            module = importlib.import_module(name)
            file = getattr(module, "__file__", None)
            if not file or Path(file).resolve() != target:
                raise ImportError(f"{name} resolved to {file}")
        except ImportError:
            module = _load_by_path(f"_codegrad_target_{abs(hash((str(root), relpath)))}", target)
    except LoadError:
        raise
    except BaseException as exc:  # noqa: BLE001 - the module's own import-time failure
        raise LoadError(f"importing {relpath} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        os.chdir(cwd)
    return module


def _load_by_path(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise LoadError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def resolve(module: ModuleType, qualname: str) -> Any:
    """The object named by qualname ("f", "C.m", "C.Inner.m"); nested functions are not reachable."""
    obj: Any = module
    for part in qualname.split("."):
        if isinstance(obj, type) and part in obj.__dict__:
            obj = obj.__dict__[part]  # keep staticmethod/classmethod/property wrappers visible
            continue
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise LoadError(
                f"{qualname!r} not found in {module.__name__} (missing {part!r})"
            ) from None
    return obj


def callable_for(module: ModuleType, qualname: str) -> tuple[Callable[..., Any], str]:
    """A plain callable for the target and how it is bound: "function", "static", "class", "method", "property"."""
    obj = resolve(module, qualname)
    if isinstance(obj, staticmethod):
        return obj.__func__, "static"
    if isinstance(obj, classmethod):
        owner = resolve(module, qualname.rsplit(".", 1)[0])
        return obj.__get__(None, owner), "class"
    if isinstance(obj, property):
        if obj.fget is None:
            raise LoadError(f"property {qualname!r} has no getter")
        return obj.fget, "property"
    if "." in qualname and isinstance(resolve(module, qualname.rsplit(".", 1)[0]), type):
        return obj, "method"
    if not callable(obj):
        raise LoadError(f"{qualname!r} is not callable")
    return obj, "function"
