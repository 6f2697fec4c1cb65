"""The check protocol, its context, and the one way checks start a sandboxed runner."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from codegrad.model import CheckResult, Target, Workspace
from codegrad.redaction import redact_tree
from codegrad.settings import Settings
from codegrad.verify import hypothesis_cache, interpreter, sandbox


@dataclass(frozen=True)
class CheckContext:
    """What every check receives: settings, the checked-out trees, a scratch dir and a deadline."""

    settings: Settings
    workspace: Workspace
    scratch: Path  # private temp dir for specs and results; outside the user's repository
    deadline: float  # time.monotonic() by which the whole review should be done

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def timeout(self, wanted: float) -> float:
        """A timeout no longer than what is left of the budget (at least one second)."""
        return max(1.0, min(wanted, self.remaining()))


class Check(Protocol):
    """One verification step over a batch of targets."""

    name: str

    def run(self, targets: Sequence[Target], ctx: CheckContext) -> CheckResult: ...


@dataclass(frozen=True)
class RunnerOutput:
    """The JSON a runner wrote (None if it wrote none) and how its process ended."""

    data: dict[str, Any] | None
    process: sandbox.RunResult


def codegrad_pythonpath() -> str:
    """A folder with codegrad's runners only (interpreter.runners_path), so the project's interpreter
    imports them inside the sandbox and nothing else of codegrad's environment."""
    return interpreter.runners_path()


def run_runner(
    runner: str,
    spec: dict[str, Any],
    *,
    ctx: CheckContext,
    cwd: Path,
    timeout: float,
) -> RunnerOutput:
    """Run `python -m codegrad.runners.<runner> SPEC RESULT` in the sandbox and read RESULT."""
    token = uuid.uuid4().hex[:12]
    spec_path = ctx.scratch / f"{runner}-{token}.spec.json"
    result_path = ctx.scratch / f"{runner}-{token}.result.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    process = sandbox.run(
        sandbox.python_argv("-m", f"codegrad.runners.{runner}", str(spec_path), str(result_path)),
        cwd=cwd,
        timeout=ctx.timeout(timeout),
        limits=sandbox.Limits(memory_mb=ctx.settings.memory_mb),
        env={
            "PYTHONPATH": codegrad_pythonpath(),
            "PYTHONHASHSEED": "0",
            # Hypothesis caches its unicode tables there: computed once per review, not per runner
            "HYPOTHESIS_STORAGE_DIRECTORY": str(hypothesis_cache.storage_for(ctx.scratch)),
        },
        writable=[ctx.scratch],
        readable=ctx.workspace.trees,
    )
    data: dict[str, Any] | None = None
    if result_path.is_file():
        try:
            loaded = redact_tree(json.loads(result_path.read_text(encoding="utf-8")))
            data = loaded if isinstance(loaded, dict) else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
    side = _read_side(result_path.with_name(result_path.name + ".side"))
    if data is not None and side:
        data["side"] = side
    return RunnerOutput(data=data, process=process)


def _read_side(path: Path) -> str:
    """Which version ("base" or "head") the runner was calling when it stopped; "" if unknown."""
    try:
        text = path.read_text(encoding="utf-8")[:8]
    except (OSError, UnicodeDecodeError):
        return ""
    return text if text in ("base", "head") else ""
