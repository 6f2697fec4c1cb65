"""Shared test builders: a Target and a Finding with sensible defaults, one golden-file assertion."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from codegrad.model import Finding, Kind, Target

UPDATE_GOLDEN = "CODEGRAD_UPDATE_GOLDEN"


def make_target(
    qualname: str = "f",
    path: str = "pkg/m.py",
    *,
    line: int = 1,
    body: str = "return 1",
    **more: Any,
) -> Target:
    """A one-line function `def <name>(): <body>` at `line` of `path`; `more` sets any other field."""
    name = qualname.rsplit(".", 1)[-1]
    fields: dict[str, Any] = {
        "path": path,
        "qualname": qualname,
        "lineno": line,
        "end_lineno": line + 1,
        "source": f"def {name}():\n    {body}",
    }
    fields.update(more)
    return Target(**fields)


def make_finding(
    target: Target | None = None,
    *,
    check: str = "properties",
    kind: Kind = Kind.CRASH,
    message: str | None = None,
    **more: Any,
) -> Finding:
    """A finding on target's first body line (a crash found by the properties check by default)."""
    target = target or make_target()
    fields: dict[str, Any] = {
        "path": target.path,
        "function": target.qualname,
        "line": target.lineno + 1,
        "check": check,
        "kind": kind,
        "message": message if message is not None else f"{target.qualname}() raises",
        "input": f"{target.qualname}()",
    }
    fields.update(more)
    return Finding(**fields)


def assert_golden(golden: Path, text: str) -> None:
    """text equals the recorded file; with CODEGRAD_UPDATE_GOLDEN=1 the file is rewritten instead."""
    if os.environ.get(UPDATE_GOLDEN) == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), f"missing {golden}; run with {UPDATE_GOLDEN}=1 to record it"
    expected = golden.read_text(encoding="utf-8")
    assert text == expected, (
        f"{golden.name} differs; if the change is intended, rerun with {UPDATE_GOLDEN}=1"
    )
