"""Sandbox runner: validate LLM proposals on the docstring examples, then test the target against them.

Usage: python -m codegrad.runners.llm_checks SPEC.json RESULT.json (the hypo.main protocol).

Per target the spec holds the docstring examples with literal arguments, the proposals (their code
and the names of their reference implementation, properties and precondition, their cases), the
parameters' Hypothesis strategies and explicit inputs to try first. Nothing an LLM wrote runs
anywhere else: its code is executed here, in a copy of the target module's globals, each call
under the per-call time limit.

Steps: (1) validate every part of every proposal on the docstring examples: a reference must
reproduce each example, a property must hold for each example's (input, expected output), a
precondition must accept each example's input; (2) search inputs (explicit ones, then Hypothesis,
filtered by the validated preconditions) for one where a validated part says the target is wrong;
with a base version, an input on which base is wrong by the same part counts against that part
(it fails on base as well) and is skipped; (3) at the input found, ask every validated part for
its verdict (the votes); (4) run the proposed cases on the target, the references and base.

The parts: llm_validation (step 1), llm_search and llm_neighbours (steps 2-3), llm_reports
(the result entries, step 4).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codegrad.runners import hypo, loader
from codegrad.runners.llm_reports import failing_examples, found_report, run_cases, run_lenient
from codegrad.runners.llm_search import search, validate_on_base
from codegrad.runners.llm_validation import (
    Subject,
    base_namespace,
    load_examples,
    load_proposal,
    validate_strategy,
)


def _strategies(target: dict[str, Any], subject: Subject, reports: list[dict[str, Any]]) -> None:
    """Mix validated LLM strategies into the parameters' own strategies (in place)."""
    by_param: dict[str, list[Any]] = {}
    for example in subject.examples:
        for name, value in zip(
            [p["name"] for p in target.get("params") or []], example.args, strict=False
        ):
            by_param.setdefault(name, []).append(value)
    for proposal, report in zip(target.get("proposals") or [], reports, strict=False):
        for name, source in proposal.get("strategies") or []:
            status = validate_strategy(source, by_param.get(name, []))
            report["strategies"].append({"param": name, "source": source, "status": status})
            if status != "valid":
                continue
            for param in target.get("params") or []:
                if param["name"] == name:
                    param["strategy"] = f"st.one_of({param['strategy']}, {source})"


def run_target(spec: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    root = Path(spec["root"])
    timeout = float(spec["call_timeout"])
    budget = hypo.Budget(float(spec["budget"]))
    head = hypo.load(root, target["path"], target["qualname"], target.get("construct"))
    base = _load_base(spec, target)
    subject = Subject(
        head=head,
        base=base,
        namespace=base_namespace(head.fn),
        examples=load_examples(target.get("examples") or []),
        timeout=timeout,
    )
    reports = [load_proposal(p, subject) for p in target.get("proposals") or []]
    _strategies(target, subject, reports)
    if base is not None:
        validate_on_base(subject, spec, target, hypo.Budget(float(spec["budget"]) * 0.4))
    searcher = search(subject, spec, target, budget)
    found = found_report(subject, searcher.found) if searcher.found else None
    for report, proposal in zip(reports, target.get("proposals") or [], strict=False):
        report["cases"] = run_cases(subject, proposal) if report["error"] is None else []
    lenient = run_lenient(subject)
    strict_failures = failing_examples(subject)
    parts = {p.ident: p for p in [*subject.parts, *subject.preconditions]}
    for report in reports:  # base failures are counted during the search
        for entry in report["parts"]:
            if entry["id"] in parts:
                entry.update(parts[entry["id"]].report())
    return {
        "status": "partial" if budget.partial else "ok",
        "proposals": reports,
        "found": found,
        "lenient": lenient,
        "head_fails_examples": strict_failures,
        "examples": len(subject.examples),
        "calls": budget.calls,
        "out_of_domain": searcher.out_of_domain,
    }


def _load_base(spec: dict[str, Any], target: dict[str, Any]) -> hypo.Loaded | None:
    if not spec.get("base_root") or not target.get("base_path"):
        return None
    try:
        return hypo.load(
            Path(spec["base_root"]),
            target["base_path"],
            target["qualname"],
            target.get("construct"),
        )
    except loader.LoadError:
        return None
    finally:
        loader.load_module(Path(spec["root"]), target["path"])  # head's modules back in place


if __name__ == "__main__":
    raise SystemExit(hypo.main(run_target))
