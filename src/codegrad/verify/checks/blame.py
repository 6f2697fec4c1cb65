"""Which function a failing project test is blamed on (pure): by its traceback, never by mere coverage.

1. The changed functions its traceback passes through.
2. Else, when the traceback reaches the project's own code (outside tests), the function it failed in,
   changed or not: a changed function the test merely ran before is not blamed.
3. Else the test's own line failed (an assertion on a wrong value): when that line calls functions by
   name, the changed functions of those names that the test ran; none of them: the test itself.
4. Else (a line without calls, e.g. `assert result == 5`), the changed functions the test ran.
Each rule reads only the traceback and the source and filters the changed functions one by one, so
the shards of a split run blame as one run does (a shard that holds none of the functions the line
calls reports the test itself; merging shards drops that when another shard blamed a function).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from codegrad.model import Target
from codegrad.verify.checks import testselect as ts

TEST_FOLDERS = frozenset({"test", "tests", "testing"})
_CALLED = re.compile(r"([A-Za-z_]\w*)\s*\(")

FunctionsIn = Callable[[str], Sequence[Target]]  # repo-relative path -> every function in that file


def inside(entry: ts.TbEntry, target: Target) -> bool:
    return entry.path == target.path and target.lineno <= entry.line <= target.end_lineno


def is_test_code(path: str, test_path: str) -> bool:
    """The failing test's own file, test modules, conftests and files in test folders."""
    if path == test_path or ts.is_test_file(path):
        return True
    return any(part in TEST_FOLDERS for part in PurePosixPath(path).parts[:-1])


def project_frames(entries: Sequence[ts.TbEntry], test_path: str) -> list[ts.TbEntry]:
    """Frames in the project's own code: relative paths (inside the tree), not test code."""
    return [
        e
        for e in entries
        if not e.path.startswith(("/", "<")) and not is_test_code(e.path, test_path)
    ]


def enclosing(functions: Sequence[Target], line: int) -> Target | None:
    """The innermost function whose lines hold `line`."""
    holding = [f for f in functions if f.lineno <= line <= f.end_lineno]
    return min(holding, key=lambda f: f.end_lineno - f.lineno, default=None)


def called_names(code: str) -> set[str]:
    """Names a line of source calls: `f(x)`, `obj.method()` (keywords such as `assert (` left out)."""
    return {n for n in _CALLED.findall(code) if not keyword.iskeyword(n)}


def _test_line(entries: Sequence[ts.TbEntry], test_path: str) -> str | None:
    """The source of the innermost frame in test code (the failing assert), if the traceback shows it."""
    for entry in reversed(entries):
        if not entry.path.startswith(("/", "<")) and is_test_code(entry.path, test_path):
            return entry.code
    return None


@dataclass(frozen=True)
class Blame:
    """Where one failure lands: changed functions, or the (unchanged) function it failed in."""

    targets: tuple[Target, ...] = ()
    failed_in: Target | None = None  # set only when no changed function is blamed

    @property
    def how(self) -> str:
        """`changed`, `failed-in` or `test` (the failure stays on the test itself)."""
        return "changed" if self.targets else "failed-in" if self.failed_in is not None else "test"

    @property
    def functions(self) -> tuple[Target, ...]:
        return self.targets or ((self.failed_in,) if self.failed_in is not None else ())


def blame(
    entries: Sequence[ts.TbEntry],
    test_path: str,
    targets: Sequence[Target],
    ran: Sequence[Target],
    functions_in: FunctionsIn,
) -> Blame:
    """Apply the rule above; an empty Blame leaves the failure on the test itself."""
    through = tuple(t for t in targets if any(inside(e, t) for e in entries))
    if through:
        return Blame(through)
    for entry in reversed(project_frames(entries, test_path)):
        home = enclosing(functions_in(entry.path), entry.line)
        if home is not None:
            return Blame(failed_in=home)
    names = called_names(_test_line(entries, test_path) or "")
    if names:
        return Blame(tuple(t for t in ran if t.qualname.rsplit(".", 1)[-1] in names))
    return Blame(tuple(ran))
