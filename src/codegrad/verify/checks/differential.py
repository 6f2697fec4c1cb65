"""The differential check: base and head on the same inputs; a difference is a behaviour change."""

from __future__ import annotations

import ast
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from codegrad.funcsource import parse_def
from codegrad.model import CheckResult, Finding, Kind, Severity, Target
from codegrad.runners.properties import type_ok
from codegrad.verify import reproducer
from codegrad.verify.checks import recording
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
    type_spec,
)
from codegrad.verify.inputs import strategies, widening

NAME = "differential"


def base_examples(target: Target) -> tuple[strategies.ExampleArgs, ...]:
    """The docstring examples of the base version (a fix's example the change removed counts most)."""
    node = parse_def(target.base_source or "")
    if node is None:
        return ()
    made = strategies.plan_def(
        node, ast.get_docstring(node), drop_first=target.kind in ("method", "classmethod")
    )
    return made.examples if isinstance(made, strategies.ArgPlan) else ()


def with_base_examples(target: Target, plan: strategies.ArgPlan) -> tuple[strategies.ArgPlan, int]:
    """The plan with base's examples that head lacks appended, and how many there are."""
    mine = {(e.args, e.kwargs) for e in plan.examples}
    extra = tuple(e for e in base_examples(target) if (e.args, e.kwargs) not in mine)
    return replace(plan, examples=(*plan.examples, *extra)), len(extra)


def target_spec(target: Target, plan: strategies.ArgPlan) -> dict[str, Any]:
    """What the differential runner needs for one target: head's and base's docstring examples, and
    strategies widened with boundary values, the diff's constants and `None` defaults."""
    plan, from_base = with_base_examples(target, plan)
    plan = widening.for_comparison(
        plan, target, drop_first=target.kind in ("method", "classmethod")
    )
    examples = examples_json(plan, with_raising=True)
    for example in examples[len(examples) - from_base :] if from_base else []:
        example["base"] = True
    return {
        "key": target.key,
        "path": target.path,
        "qualname": target.qualname,
        "base_path": target.base_path or target.path,
        "base_qualname": target.qualname,
        "construct": plan.construct,
        "receivers": list(plan.receivers),
        "params": params_json(plan),
        "examples": examples,
        "base_allowed": list(raised_types(target.base_source or "")),
        "changed_lines": list(target.changed_lines),
        "is_async": target.is_async,
    }


def crash_severity(target: Target, spec: dict[str, Any], failure: dict[str, Any]) -> Severity:
    """A new crash on a documented input or one of the declared types: an error; on inputs of types
    read from examples or defaults: a warning; where some type was only guessed: a note."""
    if failure.get("from_example") or declared(target, failure.get("args", {})):
        return Severity.ERROR
    guessed = any(
        p.get("origin") in ("guess", widening.GUESSED_NONE) for p in spec.get("params", [])
    )
    return Severity.NOTE if guessed else Severity.WARNING


def behaviour_finding(
    target: Target, failure: dict[str, Any], spec: dict[str, Any] | None = None
) -> Finding:
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
        severity=crash_severity(target, spec or {}, failure) if crash else None,
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
            "source": failure.get("source"),
        },
    )


def declared(target: Target, args: dict[str, str]) -> bool:
    """Every argument is a literal of its parameter's annotated type (so inside the declared domain)."""
    node = parse_def(target.source)
    if node is None or not args:
        return False
    a = node.args
    annotations = {
        p.arg: p.annotation
        for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)
        if p.annotation is not None
    }
    for name, text in args.items():
        spec = type_spec(ast.unparse(annotations[name])) if name in annotations else None
        if spec is None:
            return False
        try:
            value = strategies.literal(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return False
        if not type_ok(value, spec):
            return False
    return True


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


def _reached(key: str, batch: Batch, skipped: dict[str, str]) -> bool:
    """Checked means: at least one input inside base's domain executed the changed lines."""
    result = batch.results.get(key)
    if result is None or "in_domain" not in result:
        return True  # hung (a finding of its own) or an older runner
    in_domain, reached = int(result.get("in_domain", 0)), int(result.get("reached", 0))
    if reached:
        return True
    calls = int(result.get("calls", 0))
    skipped[key] = (
        f"no input inside base's domain: all {calls} call(s) were rejected by base"
        if not in_domain
        else f"none of the {in_domain} input(s) inside base's domain reached the changed lines"
    )
    return False


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
                strategies.plan(
                    target,
                    read_module(head_root, target.path),
                    recording.known_values(ctx, target),
                    constants=widening.changed_constants(target),
                )
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
        for key in [k for k, side in batch.hung_side.items() if side == "base"]:
            del batch.hung[key], by_key[key]  # base hangs too: outside the domain, not a change
            skipped[key] = (
                "base itself hung on a generated input (a long computation in native code)"
            )

        def make(target: Target, spec: dict[str, Any], failure: dict[str, Any]) -> Finding:
            return behaviour_finding(target, failure, spec)

        findings, checked, stats = collect(batch, by_key, make, skipped, lambda t: False, NAME)
        checked = [key for key in checked if _reached(key, batch, skipped)]
        for name in ("in_domain", "reached", "unstable"):
            stats[name] = sum(int(r.get(name, 0)) for r in batch.results.values())
        return CheckResult(
            check=NAME,
            findings=tuple(findings),
            checked=tuple(checked),
            skipped=skipped,
            seconds=time.monotonic() - started,
            stats=stats,
        )
