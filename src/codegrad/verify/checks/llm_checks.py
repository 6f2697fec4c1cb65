"""The LLM-derived checks: proposals from the docstring (reference, cases, properties), validated, then run.

On when an LLM is configured. For each changed function with a docstring the LLM sees only the
signature and docstring (never the body) and proposes, in up to three prompts (see
llm_proposals): a reference implementation; a second implementation with asserts on new inputs, a
property and a precondition; and a third implementation. Nothing counts before it is validated in
the sandbox:

- every part must compile and load; a reference must reproduce each docstring example, a property
  must hold on each example's (input, expected output), a precondition must accept each example's
  input, a proposed case must agree with any docstring example on the same input. A part that
  fails this is a bad test: dropped, and reported as a Kind.BAD_TEST note;
- in the regression setting (the function has a base version), a part or case that the base
  version fails as well is a bad test too. Base is searched on its own, before head, so what is
  dropped never depends on the head under review (a refinement candidate sees the same notes).

Then the validated parts test the function: Hypothesis inputs from the parameters' strategies
(filtered by a validated precondition) plus the proposed cases; crashes and hangs are left to the
properties check. The next prompt is asked only when it can change the verdict: when no validated
reference came yet, or when a new function disagrees with one proposal alone and passes its
docstring examples (when it fails one, the docstrings check already reports an error). Prose
examples that the docstrings check leaves alone (`is_happy(abc) => True`, bare words read as
strings) validate the proposals too, and one that fails is a finding of this check: an error when
a validated reference confirms that reading of the docstring.

Severity (an LLM's expected outputs are often wrong, and a false alarm costs more than a miss):
- ERROR only when corroborated: the base version agrees with a validated proposal where the head
  does not (regression); or, for new code, proposals from at least two prompts, each validated on
  at least one docstring example, say the function is wrong on the same input, agree with each
  other (the same result from their references, or a proposed case whose expected output another
  prompt's reference also computes), and outnumber the prompts whose validated reference agrees
  with the function (one vote per prompt);
- dropped (listed in the check's stats) when at least as many prompts side with the function; a
  split vote asks the next prompt;
- WARNING otherwise: a single validated proposal, or any proposal on a function without docstring
  examples to validate against.
The LLM is asked at temperature 0 and every answer is remembered per process, so re-verifying
candidates in the refinement loop costs no further calls. An LLM that cannot be reached, a budget
that is spent, or a time budget that runs out skips the remaining functions with the reason.
The client is built from the settings (llm_build.build_client) with its own usage meter: the budget
applies to this check's calls on their own, apart from the refinement loop's.

The parts: llm_plan (what to ask about, the runner spec), llm_asker (the LLM), llm_verdicts
(the votes), llm_findings (the findings); the sandbox side is codegrad.runners.llm_checks.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from codegrad.model import LLM_OUTAGE, CheckResult, Finding, Target
from codegrad.verify.checks import llm_proposals as lp
from codegrad.verify.checks.base import CheckContext
from codegrad.verify.checks.llm_asker import Asker, make_client
from codegrad.verify.checks.llm_findings import NAME, findings_for, need_more
from codegrad.verify.checks.llm_plan import Asked, Plan, plan_for, target_spec
from codegrad.verify.checks.properties import Batch, budgets, run_batched

RUNNER = "llm_checks"


def _module_source(ctx: CheckContext, target: Target) -> str | None:
    try:
        return (ctx.workspace.head_root / target.path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _regression(target: Target, ctx: CheckContext) -> bool:
    return target.base_source is not None and ctx.workspace.base_root is not None


class LLMChecksCheck:
    """Checks proposed by an LLM from the docstring, validated before they count."""

    name = NAME

    def run(self, targets: Sequence[Target], ctx: CheckContext) -> CheckResult:
        started = time.monotonic()
        skipped: dict[str, str] = {}
        client = make_client(ctx.settings)
        if isinstance(client, str):
            stopped = {"stopped": client} if client.startswith(LLM_OUTAGE) else {}
            return CheckResult(check=NAME, skipped={t.key: client for t in targets}, stats=stopped)
        asker = Asker(client, ctx.settings.llm_model)
        plans: list[Plan] = []
        for target in targets:
            made = plan_for(target, _module_source(ctx, target))
            if isinstance(made, str):
                skipped[target.key] = made
            else:
                plans.append(made)
        asked = self._ask(plans, lp.REFERENCE, asker, ctx, skipped)
        batch = self._run(list(asked.values()), ctx, {})
        final = dict(batch.results)
        hung = dict(batch.hung)
        for origin in lp.ORIGINS[1:]:
            more: list[Asked] = []
            for key, item in asked.items():
                if need_more(item, final.get(key), _regression(item.plan.target, ctx)):
                    proposal = self._ask_one(item.plan, origin, asker, ctx)
                    if isinstance(proposal, lp.Proposal):
                        item.add(proposal)
                        more.append(item)
            if not more:
                break
            inputs = {
                key: [found]
                for key, result in final.items()
                if (found := _input_of(result.get("found") or {})) is not None
            }
            again = self._run(more, ctx, inputs)
            final.update(again.results)
            hung.update(again.hung)
        findings: list[Finding] = []
        checked: list[str] = []
        dropped: dict[str, list[str]] = {}
        for key, item in asked.items():
            result = final.get(key)
            if result is None or result.get("status") in ("skipped", "error"):
                reason = (result or {}).get("reason") or batch.broken or "the time budget was spent"
                if key in hung:
                    reason = f"a call ignored the time limit; the runner was stopped after {hung[key]:g}s"
                skipped[key] = f"proposals could not run: {reason}"
                continue
            if all(p.empty for p in item.proposals) and not item.bad_cases:
                notes = "; ".join(n for p in item.proposals for n in p.notes)[:300]
                skipped[key] = "the LLM's answer held no usable proposal" + (
                    f" ({notes})" if notes else ""
                )
                continue
            checked.append(key)
            produced, dropped[key] = findings_for(item, result, _regression(item.plan.target, ctx))
            findings += produced
        stats = {
            "llm_calls": asker.calls,
            "llm_cached": asker.cached,
            "llm_failures": asker.failures[:5],
            "stopped": asker.stopped,
            "dropped": {k: v for k, v in dropped.items() if v},
        }
        return CheckResult(
            check=NAME,
            findings=tuple(findings),
            checked=tuple(checked),
            skipped=skipped,
            seconds=time.monotonic() - started,
            stats=stats,
        )

    def _ask_one(
        self, plan: Plan, origin: str, asker: Asker, ctx: CheckContext
    ) -> lp.Proposal | str:
        if ctx.remaining() < 5:
            return "the time budget ran out before the LLM was asked"
        return asker.ask(origin, plan.subject)

    def _ask(
        self,
        plans: Sequence[Plan],
        origin: str,
        asker: Asker,
        ctx: CheckContext,
        skipped: dict[str, str],
    ) -> dict[str, Asked]:
        asked: dict[str, Asked] = {}
        for plan in plans:
            proposal = self._ask_one(plan, origin, asker, ctx)
            if isinstance(proposal, str):
                skipped[plan.target.key] = proposal
                continue
            item = Asked(plan)
            item.add(proposal)
            asked[plan.target.key] = item
        return asked

    def _run(
        self, items: Sequence[Asked], ctx: CheckContext, inputs: dict[str, list[dict[str, Any]]]
    ) -> Batch:
        if not items:
            return Batch()
        head = ctx.workspace.head_root
        specs = [
            target_spec(i, _regression(i.plan.target, ctx), inputs.get(i.plan.target.key, []))
            for i in items
        ]
        common = {
            "root": str(head),
            "base_root": str(ctx.workspace.base_root) if ctx.workspace.base_root else None,
            "max_examples": ctx.settings.max_examples,
            "seed": ctx.settings.seed,
            **budgets(ctx),
        }
        return run_batched(RUNNER, common, specs, ctx, head)


def _input_of(found: dict[str, Any]) -> dict[str, Any] | None:
    """The input found, as literal sources the runner can try first next time (None if not literal)."""
    if not found:
        return None
    args = found.get("args") or []
    kwargs = found.get("kwargs") or []
    if any(a is None for a in args) or any(v is None for _, v in kwargs):
        return None
    return {"args": list(args), "kwargs": [list(kv) for kv in kwargs]}


__all__ = ["LLMChecksCheck"]
