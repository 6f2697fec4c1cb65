"""Incremental verification: a JSON cache keyed by each function's code and what it calls."""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import codegrad
from codegrad import funcsource
from codegrad.errors import UsageError
from codegrad.fileio import write_atomic
from codegrad.model import CheckResult, Finding, Kind, Target
from codegrad.settings import Settings
from codegrad.verify import reproducer

CACHE_VERSION = 1
MAX_CLOSURE = 400  # callee definitions followed per function, at most
CONSTRUCTORS = ("__init__", "__new__", "__post_init__")
CLEAN = "clean"
FINDINGS = "findings"
# skip reasons that say "not this time" rather than "never": such a function is not cached
UNSTABLE_KINDS = frozenset({Kind.TIMEOUT, Kind.ERROR})  # findings verified again, never replayed
TRANSIENT = ("not run", "budget", "timed out", "time limit", "could not run", "internal error")

Node = tuple[str, ...]  # ("f", module, name) | ("m", module, class, name) | ("c", module, class)


# ---------------------------------------------------------------- settings that change verdicts


def settings_fingerprint(settings: Settings, checks: Sequence[str]) -> str:
    """What besides the code decides a verdict: codegrad's version, the checks and their knobs."""
    knobs = {
        "codegrad": codegrad.__version__,
        "cache": CACHE_VERSION,
        "checks": sorted(checks),
        "test_command": settings.test_command,
        "max_examples": settings.max_examples,
        "seed": settings.seed,
        "call_timeout": settings.call_timeout,
        "function_timeout": settings.function_timeout,
        "memory_mb": settings.memory_mb,
        "slowdown_factor": settings.slowdown_factor,
        "complexity_bounds": dict(sorted(settings.complexity_bounds.items())),
    }
    return _sha(json.dumps(knobs, sort_keys=True))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


# ---------------------------------------------------------------- the repository's call graph


@dataclass
class ClassInfo:
    """A class's own statements (not its methods) and its methods' sources."""

    header: str
    methods: dict[str, str] = field(default_factory=dict)


@dataclass
class ModuleInfo:
    """One module's top-level statements, functions, classes and imported names."""

    name: str
    header: str = ""
    functions: dict[str, str] = field(default_factory=dict)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    imports: dict[str, tuple[str, str | None]] = field(
        default_factory=dict
    )  # local -> (module, attr)


@dataclass
class RepoIndex:
    """Every parsable module of the repository by import name and by path."""

    modules: dict[str, ModuleInfo] = field(default_factory=dict)
    by_path: dict[str, str] = field(default_factory=dict)  # repo path -> module name

    @classmethod
    def build(cls, files: Mapping[str, str]) -> RepoIndex:
        index = cls()
        for path, text in sorted(files.items()):
            info = module_info(path, text)
            if info is not None:
                index.modules[info.name] = info
                index.by_path[path] = info.name
        return index


def _segment(lines: list[str], node: ast.stmt) -> str:
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return "".join(lines[first - 1 : node.end_lineno or node.lineno])


def _package(path: str) -> list[str]:
    parts = reproducer.module_name(path).split(".")
    return parts if path.endswith("/__init__.py") else parts[:-1]


def module_info(path: str, text: str) -> ModuleInfo | None:
    """What the call graph needs of one file; None when it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    lines = text.splitlines(keepends=True)
    info = ModuleInfo(reproducer.module_name(path))
    header: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            info.functions.setdefault(node.name, _segment(lines, node))
        elif isinstance(node, ast.ClassDef):
            info.classes.setdefault(node.name, _class_info(node, lines))
        else:
            header.append(_segment(lines, node))
            _imports(node, _package(path), info.imports)
    info.header = "".join(header)
    return info


def _class_info(node: ast.ClassDef, lines: list[str]) -> ClassInfo:
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    own = lines[first - 1 : node.lineno]
    methods: dict[str, str] = {}
    for stmt in node.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            methods.setdefault(stmt.name, _segment(lines, stmt))
        else:
            own.append(_segment(lines, stmt))
    return ClassInfo(header="".join(own), methods=methods)


def _imports(node: ast.stmt, package: list[str], out: dict[str, tuple[str, str | None]]) -> None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                out[alias.asname] = (alias.name, None)
            else:
                top = alias.name.split(".")[0]
                out[top] = (top, None)
    elif isinstance(node, ast.ImportFrom):
        base = package[: len(package) - (node.level - 1)] if node.level else []
        if node.level and node.level - 1 > len(package):
            return
        module = ".".join([*base, *(node.module.split(".") if node.module else [])])
        for alias in node.names:
            if alias.name != "*":
                out[alias.asname or alias.name] = (module, alias.name)


def _resolve_name(index: RepoIndex, module: str, name: str, hops: int = 0) -> Node | None:
    """A bare name in a module -> the repo function or class it means, following imports."""
    info = index.modules.get(module)
    if info is None or hops > 8:
        return None
    if name in info.functions:
        return ("f", module, name)
    if name in info.classes:
        return ("c", module, name)
    if name in info.imports:
        source, attr = info.imports[name]
        if attr is None:
            return None
        if source in index.modules and source != module:
            return _resolve_name(index, source, attr, hops + 1)
        submodule = f"{source}.{attr}" if source else attr
        return ("mod", submodule) if submodule in index.modules else None
    return None


def _module_alias(index: RepoIndex, module: str, name: str) -> str | None:
    """The repo module a local name stands for (`import pkg.util as u`, `from pkg import util`)."""
    info = index.modules.get(module)
    if info is None or name not in info.imports:
        return None
    source, attr = info.imports[name]
    full = source if attr is None else (f"{source}.{attr}" if source else attr)
    return full if full in index.modules else None


def _references(node: ast.AST, index: RepoIndex, module: str, owner: str | None) -> set[Node]:
    """Repo functions, methods and classes a def refers to by name, self./cls. or module alias."""
    found: set[Node] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
            hit = _resolve_name(index, module, sub.id)
            if hit is not None and hit[0] != "mod":
                found.add(hit)
        elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
            base = sub.value.id
            if base in ("self", "cls") and owner is not None:
                found.add(("m", module, owner, sub.attr))
                continue
            alias = _module_alias(index, module, base)
            if alias is not None:
                hit = _resolve_name(index, alias, sub.attr)
                if hit is not None and hit[0] != "mod":
                    found.add(hit)
                continue
            klass = _resolve_name(index, module, base)
            if klass is not None and klass[0] == "c":
                found.add(("m", klass[1], klass[2], sub.attr))
    return found


def _node_source(index: RepoIndex, node: Node) -> str | None:
    info = index.modules.get(node[1])
    if info is None:
        return None
    if node[0] == "f":
        return info.functions.get(node[2])
    klass = info.classes.get(node[2])
    if klass is None:
        return None
    if node[0] == "m":
        return klass.methods.get(node[3])
    return klass.header + "".join(klass.methods.get(n, "") for n in CONSTRUCTORS)


def _node_refs(index: RepoIndex, node: Node, source: str) -> set[Node]:
    module = node[1]
    owner = node[2] if node[0] in ("m", "c") else None
    if node[0] == "c":
        refs: set[Node] = set()
        for name in CONSTRUCTORS:
            method = index.modules[module].classes[node[2]].methods.get(name)
            parsed = funcsource.parse_def(method) if method else None
            if parsed is not None:
                refs |= _references(parsed, index, module, owner)
        return refs
    parsed = funcsource.parse_def(source)
    return _references(parsed, index, module, owner) if parsed is not None else set()


def _start(target: Target, index: RepoIndex) -> tuple[Node, str | None]:
    module = index.by_path.get(target.path, reproducer.module_name(target.path))
    parts = target.qualname.split(".")
    if len(parts) == 2 and target.class_name:
        return ("m", module, parts[0], parts[1]), parts[0]
    return ("f", module, target.qualname), None


def closure(target: Target, index: RepoIndex, limit: int = MAX_CLOSURE) -> dict[Node, str]:
    """Every repo definition the target reaches through calls and references (itself excluded);
    a method also reaches its class's own statements and constructors."""
    start, owner = _start(target, index)
    parsed = funcsource.parse_def(target.source)
    pending = sorted(_references(parsed, index, start[1], owner)) if parsed is not None else []
    if owner is not None:
        pending.append(("c", start[1], owner))
    seen: dict[Node, str] = {}
    while pending and len(seen) < limit:
        node = pending.pop()
        if node in seen or node == start:
            continue
        source = _node_source(index, node)
        if source is None:
            continue
        seen[node] = source
        pending.extend(sorted(_node_refs(index, node, source) - set(seen)))
    return seen


def digest(target: Target, index: RepoIndex, fingerprint: str) -> str:
    """The cache key of a target: its code, its module's top-level statements, everything it
    reaches in the repository, and the settings fingerprint."""
    module = index.modules.get(index.by_path.get(target.path, ""))
    parts = [fingerprint, target.key, target.source, module.header if module else ""]
    for node, source in sorted(closure(target, index).items()):
        header = index.modules[node[1]].header
        parts += ["\x1e".join(node), source, _sha(header)]
    return _sha("\x1f".join(parts))


# ---------------------------------------------------------------- the cache (pure data)


@dataclass(frozen=True)
class Entry:
    """The verdict of the last verification of one function."""

    digest: str
    status: str  # "clean" | "findings"
    findings: int = 0
    seconds: float = 0.0
    tests: int | None = None  # covering tests the project-tests check saw (None: unknown)
    head: str = ""  # the commit it was verified at
    replay: tuple[dict[str, Any], ...] = ()  # its findings (report JSON), when they can stand in


@dataclass
class Cache:
    """Target key -> Entry, plus run-level facts (e.g. how long the project's suite takes)."""

    entries: dict[str, Entry] = field(default_factory=dict)
    meta: dict[str, float] = field(default_factory=dict)

    def clean(self, key: str, digest_: str) -> bool:
        """Verified before with this exact code and settings, and nothing was found."""
        entry = self.entries.get(key)
        return entry is not None and entry.digest == digest_ and entry.status == CLEAN

    def replayable(self, key: str, digest_: str) -> tuple[dict[str, Any], ...]:
        """The findings of an earlier verification of this exact code and settings, when they
        were all deterministic (see `replayable_finding`); () when it must be verified again."""
        entry = self.entries.get(key)
        if entry is None or entry.digest != digest_ or entry.status != FINDINGS:
            return ()
        return entry.replay

    def known_findings(self) -> set[str]:
        """Functions that had findings when last verified (they run first when verified again)."""
        return {k for k, e in self.entries.items() if e.status == FINDINGS}

    def tests(self) -> dict[str, int]:
        return {k: e.tests for k, e in self.entries.items() if e.tests is not None}

    def estimates(self) -> dict[str, float]:
        return {k: e.seconds for k, e in self.entries.items() if e.seconds > 0}

    def prune(self, keys: Iterable[str]) -> None:
        """Forget functions that no longer exist (keeps the file as small as the repository)."""
        alive = set(keys)
        self.entries = {k: e for k, e in self.entries.items() if k in alive}

    def to_json(self) -> dict[str, Any]:
        return {
            "version": CACHE_VERSION,
            "tool_version": codegrad.__version__,
            "meta": dict(sorted(self.meta.items())),
            "entries": {k: asdict(e) for k, e in sorted(self.entries.items())},
        }

    @classmethod
    def from_json(cls, data: Any, where: str) -> Cache:
        """A cache from its JSON; an older or foreign layout is an empty cache, not an error."""
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return cls()
        entries: dict[str, Entry] = {}
        for key, raw in (data.get("entries") or {}).items():
            try:
                entries[str(key)] = Entry(
                    digest=str(raw["digest"]),
                    status=str(raw["status"]),
                    findings=int(raw.get("findings", 0)),
                    seconds=float(raw.get("seconds", 0.0)),
                    tests=None if raw.get("tests") is None else int(raw["tests"]),
                    head=str(raw.get("head", "")),
                    replay=tuple(dict(f) for f in raw.get("replay") or ()),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise UsageError(
                    f"{where}: entry {key!r} is malformed ({exc}); delete the cache file to start afresh"
                ) from None
        meta = {str(k): float(v) for k, v in (data.get("meta") or {}).items()}
        return cls(entries=entries, meta=meta)


def merge(caches: Sequence[Cache]) -> Cache:
    """One cache from several (e.g. one per shard): per key, the entry verified at the latest
    position in the list wins when they disagree; meta keeps the largest value."""
    out = Cache()
    for cache in caches:
        out.entries.update(cache.entries)
        for name, value in cache.meta.items():
            out.meta[name] = max(value, out.meta.get(name, value))
    return out


# ---------------------------------------------------------------- verdicts from one run


def replayable_finding(finding: Finding) -> bool:
    """Whether the same code and settings give this finding again for sure: not a time-out, not
    the check's own failure, not a flaky test, and not one that failed to reproduce."""
    return (
        finding.kind not in UNSTABLE_KINDS
        and finding.reproduces is not False
        and not finding.details.get("flaky")
    )


def _transient(reason: str) -> bool:
    text = reason.lower()
    return any(word in text for word in TRANSIENT)


def verdicts(
    targets: Sequence[Target],
    results: Sequence[CheckResult],
    checks: Sequence[str],
    digests: Mapping[str, str],
    *,
    head: str,
) -> dict[str, Entry]:
    """Entries for the targets whose verification finished: every configured check ran and either
    verified the target or skipped it for a lasting reason (never "out of time")."""
    by_check = {r.check: r for r in results}
    if any(name not in by_check for name in checks):
        return {}
    findings: dict[str, list[Finding]] = {}
    for result in results:
        for f in result.findings:
            findings.setdefault(f"{f.path}::{f.function}", []).append(f)
    out: dict[str, Entry] = {}
    for target in targets:
        key = target.key
        decided = True
        seconds = 0.0
        for name in checks:
            result = by_check[name]
            batch = max(1, len(result.checked) + len(result.skipped))
            seconds += result.seconds / batch
            if key not in result.checked and (
                key not in result.skipped or _transient(result.skipped[key])
            ):
                decided = False
        if not decided or key not in digests:
            continue
        found = findings.get(key, [])
        stable = all(replayable_finding(f) for f in found)
        out[key] = Entry(
            digest=digests[key],
            status=FINDINGS if found else CLEAN,
            findings=len(found),
            seconds=round(seconds, 3),
            tests=_covering(by_check.get("project-tests"), key),
            head=head,
            replay=tuple(f.to_dict() for f in found) if stable else (),
        )
    return out


def _covering(result: CheckResult | None, key: str) -> int | None:
    if result is None:
        return None
    counts = result.stats.get("tests_per_function")
    if isinstance(counts, dict):
        return int(counts.get(key, 0))
    return None


# ---------------------------------------------------------------- the file (I/O)


def load(path: Path | None) -> Cache:
    """The cache at path (an empty one when there is no file yet or it is unreadable JSON)."""
    if path is None or not path.is_file():
        return Cache()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return Cache()
    return Cache.from_json(data, str(path))


def save(cache: Cache, path: Path) -> None:
    """Write the cache atomically (a temp file renamed over the old one); UsageError when the
    folder is missing or not writable."""
    path = path.expanduser()
    if not path.parent.is_dir():
        raise UsageError(f"--cache {path}: folder {path.parent} does not exist; create it first")
    text = json.dumps(cache.to_json(), indent=1, sort_keys=True) + "\n"
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise UsageError(f"--cache {path}: cannot write there ({exc.strerror})") from None
