"""The differential check: base and head on the same inputs; a difference is a behaviour change."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from codegrad.funcsource import parse_def
from codegrad.model import CheckResult, Finding, Kind, Severity, Target
from codegrad.verify import reproducer
from codegrad.verify.checks.base import CheckContext
from codegrad.verify.checks.properties import (
    Batch,
    budgets,
    collect,
    examples_json,
    fault_line,
    params_json,
    raised_types,
    read_module,
    run_batched,
)
from codegrad.verify.inputs import strategies

NAME = "differential"


def target_spec(target: Target, plan: strategies.ArgPlan) -> dict[str, Any]:
    """What the differential runner needs for one target."""
    return {
        "key": target.key,
        "path": target.path,
        "qualname": target.qualname,
        "base_path": target.base_path or target.path,
        "base_qualname": target.qualname,
        "construct": plan.construct,
        "params": params_json(plan),
        "examples": examples_json(plan, with_raising=True),
        "base_allowed": list(raised_types(target.base_source or "")),
        "is_async": target.is_async,
    }


def behaviour_finding(target: Target, failure: dict[str, Any]) -> Finding:
    """A behaviour change with the minimal input, both results and a test pinning base's behaviour."""
    base, head = failure.get("base", {}), failure.get("head", {})
    base_text, head_text = reproducer.outcome_text(base), reproducer.outcome_text(head)
    where = failure.get("source") or "a generated input"
    frames = tuple(failure.get("traceback", []))
    subject = reproducer.Subject(target.path, target.qualname, target.kind, target.is_async)
    crash = new_crash(target, base, head)
    return Finding(
        path=target.path,
        function=target.qualname,
        line=fault_line(target, frames),
        check=NAME,
        kind=Kind.CRASH if crash else Kind.BEHAVIOUR_CHANGE,
        severity=Severity.ERROR if crash else None,
        message=(
            f"new crash on {where}: {failure['input']} {head_text}, where base {base_text}"
            if crash
            else f"behaviour changed on {where}: {failure['input']} {head_text} (base {base_text})"
        ),
        input=failure["input"],
        expected=base_text,
        actual=head_text,
        traceback=frames,
        reproduces=bool(failure.get("reproduces")),
        base_fails_same=False,
        reproducer=reproducer.behaviour_test(subject, failure["input"], base, head),
        details={
            "base": base,
            "head": head,
            "args": failure.get("args", {}),
            "from_example": failure.get("from_example"),
        },
    )


def new_crash(target: Target, base: dict[str, Any], head: dict[str, Any]) -> bool:
    """Head raises an exception it does not raise on purpose on an input that base handled: a regression."""
    raised = head.get("raised")
    if not raised or "raised" in base or base.get("timeout") or head.get("timeout"):
        return False
    on_purpose = set(raised_types(target.source))
    return str(raised).rsplit(".", 1)[-1] not in on_purpose and raised not in ("AssertionError",)


def comparable(target: Target, ctx: CheckContext) -> str | None:
    """Why a target cannot be compared with its base (None when it can)."""
    if ctx.workspace.base_root is None:
        return "no base version to compare with"
    if target.base_source is None:
        return "new function: no base version"
    if target.base_source == target.source and (target.base_path or target.path) == target.path:
        return "unchanged"
    base, head = signature(target.base_source), signature(target.source)
    if base != head:
        return (
            f"the signature changed ({base} -> {head}): base and head cannot take the same inputs"
        )
    return None


def signature(source: str) -> str | None:
    """The parameter list of a def, without annotations and defaults: `(a, b, *, c)`."""
    node = parse_def(source)
    if node is None:
        return None
    a = node.args
    parts = [p.arg for p in a.posonlyargs] + (["/"] if a.posonlyargs else [])
    parts += [p.arg for p in a.args]
    parts += [f"*{a.vararg.arg}"] if a.vararg else (["*"] if a.kwonlyargs else [])
    parts += [p.arg for p in a.kwonlyargs] + ([f"**{a.kwarg.arg}"] if a.kwarg else [])
    return f"({', '.join(parts)})"


class DifferentialCheck:
    """Base vs head on docstring examples and generated inputs, batched into one sandboxed runner."""

    name = NAME

    def run(self, targets: Sequence[Target], ctx: CheckContext) -> CheckResult:
        started = time.monotonic()
        head_root = ctx.workspace.head_root
        skipped: dict[str, str] = {}
        specs: list[dict[str, Any]] = []
        by_key: dict[str, tuple[Target, dict[str, Any]]] = {}
        for target in targets:
            reason = comparable(target, ctx)
            made = (
                strategies.plan(target, read_module(head_root, target.path))
                if reason is None
                else None
            )
            if isinstance(made, strategies.Skip):
                reason = made.reason
            if reason is not None or not isinstance(made, strategies.ArgPlan):
                skipped[target.key] = reason or "cannot be planned"
                continue
            spec = target_spec(target, made)
            specs.append(spec)
            by_key[target.key] = (target, spec)
        common = {
            "root": str(head_root),
            "base_root": str(ctx.workspace.base_root) if ctx.workspace.base_root else None,
            "max_examples": ctx.settings.max_examples,
            "seed": ctx.settings.seed,
            **budgets(ctx),
        }
        batch = run_batched(NAME, common, specs, ctx, head_root) if specs else Batch()

        def make(target: Target, spec: dict[str, Any], failure: dict[str, Any]) -> Finding:
            return behaviour_finding(target, failure)

        findings, checked, stats = collect(batch, by_key, make, skipped, lambda t: False, NAME)
        return CheckResult(
            check=NAME,
            findings=tuple(findings),
            checked=tuple(checked),
            skipped=skipped,
            seconds=time.monotonic() - started,
            stats=stats,
        )
