"""Sandbox runner: call base and head on the same inputs (docstring examples first, then generated)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegrad.runners import hypo, reach


@dataclass
class Difference:
    """The last (after shrinking: the minimal) input on which base and head behave differently."""

    args: list[Any]
    kwargs: dict[str, Any]
    base: hypo.Outcome
    head: hypo.Outcome


class Compare:
    """Runs both versions on one input and decides whether they differ; head runs traced, to count
    the inputs that execute the changed lines and to steer Hypothesis toward them."""

    def __init__(
        self,
        base: hypo.Loaded,
        head: hypo.Loaded,
        timeout: float,
        base_allowed: list[str],
        tracer: reach.Reach | None = None,
    ) -> None:
        self.base, self.head, self.timeout, self.base_allowed = base, head, timeout, base_allowed
        self.tracer = tracer or reach.Reach([], set())
        self.inside = 0  # inputs base handled
        self.unstable = 0  # inputs dropped because base gave two different results
        self.reached = 0
        self.hit: set[int] = set()

    def in_domain(self, outcome: hypo.Outcome) -> bool:
        """Base ran out of time or crashed by accident: the input is outside the domain."""
        if outcome.timed_out:
            return False
        return outcome.error is None or hypo.allowed(outcome.error, self.base_allowed)

    def differ(self, args: list[Any], kwargs: dict[str, Any]) -> Difference | bool | None:
        """A Difference, None (same behaviour), or False (out of domain or base is not deterministic)."""
        hypo.calling("base")
        base = hypo.call(self.base.fn, args, kwargs, self.timeout)
        if not self.in_domain(base):
            return False
        hypo.calling("head")
        with self.tracer.tracing() as hit:
            head = hypo.call(self.head.fn, args, kwargs, self.timeout)
        self.hit = set(hit)
        self.inside += 1
        self.reached += bool(hit) or not self.tracer.measurable
        if hypo.same(base, head):
            return None
        hypo.calling("base")
        again = hypo.call(self.base.fn, args, kwargs, self.timeout)
        if not hypo.same(base, again):
            self.unstable += 1
            return False
        return Difference(args, kwargs, base, head)


MAX_EXPLICIT = 200  # calls tried before the generated ones, on methods with built instances
BASE_EXAMPLE = "a docstring example of base"  # one the change removed from the docstring
# where an input is the docstring's own call (a difference there is an error); the inputs derived
# from one (permuted, an iterator in place of a list) are not documented
DOCUMENTED = ("a docstring example", BASE_EXAMPLE)


def explicit_inputs(target: dict[str, Any]) -> list[tuple[list[Any], dict[str, Any], str]]:
    """Docstring examples, then their positional arguments permuted (realistic inputs for
    functions whose parameters play symmetric roles; base rejects the ones out of domain), then with
    one list or tuple argument passed as a one-shot iterator."""
    out = [
        (args, kwargs, BASE_EXAMPLE if raw.get("base") else "a docstring example")
        for raw in target.get("examples", [])
        for args, kwargs in hypo.example_inputs([raw])
    ]
    examples = [(args, kwargs) for args, kwargs, _ in out]
    seen = list(examples)
    for args, kwargs in examples:
        if not 2 <= len(args) <= 4:
            continue
        for order in itertools.permutations(range(len(args))):
            permuted = [args[i] for i in order]
            if (permuted, kwargs) not in seen:
                seen.append((permuted, kwargs))
                out.append((permuted, kwargs, "a docstring example with its arguments permuted"))
    for args, kwargs in examples:
        for i, arg in enumerate(args):
            if isinstance(arg, (list, tuple)):
                one_shot = [*args[:i], iter(arg), *args[i + 1 :]]
                out.append((one_shot, kwargs, "a docstring example with an iterator argument"))
    return _on_instances(out, target.get("receivers", []))


def _on_instances(
    calls: list[tuple[list[Any], dict[str, Any], str]], receivers: list[str]
) -> list[tuple[list[Any], dict[str, Any], str]]:
    """Each call on each instance the class's docstrings show how to build (varied), when the method
    needs one built with arguments; the calls as they are otherwise."""
    if not receivers:
        return calls
    made = [hypo.literal(r) for r in receivers]
    plain = [(args, kwargs) for args, kwargs, _ in calls] or [([], {})]
    source = "an instance built as the class's docstring shows (varied)"
    return [([m, *args], kwargs, source) for args, kwargs in plain for m in made][:MAX_EXPLICIT]


def strength(difference: Difference) -> int:
    """How much a difference says: 2 when head fails where base returned, 1 when both return
    different values, 0 when base raised (a changed rejection says the least)."""
    if not difference.base.ok:
        return 0
    return 2 if not difference.head.ok else 1


def _search(
    compare: Compare, spec: dict[str, Any], target: dict[str, Any], budget: hypo.Budget
) -> tuple[Difference | None, str]:
    """The minimal differing input (explicit inputs first) and where it came from. A difference
    where base returned a value is looked for first; only when there is none is the minimal one
    where base raised searched for (shrinking would otherwise prefer it, being smaller)."""
    weak: tuple[Difference, str] | None = None
    for args, kwargs, source in explicit_inputs(target):
        budget.calls += 1
        verdict = compare.differ(args, kwargs)
        if isinstance(verdict, Difference):
            if strength(verdict) > 0:
                return verdict, source
            weak = weak or (verdict, source)
        elif verdict is False:
            budget.out_of_domain += 1
    seen_weak = _generated(compare, spec, target, budget, least=1)
    if isinstance(seen_weak, Difference):
        return seen_weak, "a generated input"
    if weak is not None:
        return weak
    if seen_weak and not budget.partial:
        found = _generated(compare, spec, target, budget, least=0)
        if isinstance(found, Difference):
            return found, "a generated input"
    return None, "a generated input"


def _generated(
    compare: Compare, spec: dict[str, Any], target: dict[str, Any], budget: hypo.Budget, least: int
) -> Difference | bool:
    """The minimal generated input with a difference of at least `least` strength, else whether a
    weaker difference was seen."""
    found: list[Difference] = []
    weaker: list[Difference] = []

    def body(args: list[Any], kwargs: dict[str, Any]) -> None:
        from hypothesis import target as steer

        verdict = compare.differ(args, kwargs)
        if verdict is False:
            budget.out_of_domain += 1
            hypo.reject()
        steer(float(len(compare.hit)), label="changed lines executed")
        if isinstance(verdict, Difference):
            if strength(verdict) < least:
                weaker.append(verdict)
                return
            found.append(verdict)
            raise hypo.Failed("behaviour-change")

    params = hypo.params_of(target["params"], key="wide")
    hypo.drive(
        params, body, max_examples=int(spec["max_examples"]), seed=int(spec["seed"]), budget=budget
    )
    return found[-1] if found else bool(weaker)


def run_target(spec: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """Compare base and head of one target on the same inputs."""
    timeout = float(spec["call_timeout"])
    budget = hypo.Budget(float(spec["budget"]))
    receiver = bool(target.get("receivers"))
    base = hypo.load(
        Path(spec["base_root"]),
        target["base_path"],
        target["base_qualname"],
        target.get("construct"),
        receiver,
    )
    head = hypo.load(
        Path(spec["root"]), target["path"], target["qualname"], target.get("construct"), receiver
    )
    tracer = reach.Reach(
        reach.code_objects(head.raw, head.file), set(target.get("changed_lines", []))
    )
    compare = Compare(base, head, timeout, target.get("base_allowed", []), tracer)
    difference, source = _search(compare, spec, target, budget)
    inside, reached = compare.inside, compare.reached  # the search's calls, not the re-check below
    failures = []
    if difference is not None:
        params = hypo.params_of(target["params"], key="wide")
        again = compare.differ(difference.args, difference.kwargs)
        failures.append(
            {
                "property": "behaviour-change",
                "input": hypo.show_call(head, difference.args, difference.kwargs),
                "args": hypo.arg_reprs(params, difference.args, difference.kwargs),
                "base": difference.base.describe(),
                "head": difference.head.describe(),
                "traceback": hypo.frames(difference.head.error, head.file, head.path)
                if difference.head.error
                else [],
                "reproduces": isinstance(again, Difference),
                "from_example": source in DOCUMENTED,
                "source": source,
            }
        )
    return {
        "status": "partial" if budget.partial else "ok",
        "failures": failures,
        "calls": budget.calls,
        "out_of_domain": budget.out_of_domain,
        "in_domain": min(inside, budget.calls),
        "reached": min(reached, inside, budget.calls),
        "unstable": compare.unstable,
        "measurable": tracer.measurable,
    }


if __name__ == "__main__":
    raise SystemExit(hypo.main(run_target))
