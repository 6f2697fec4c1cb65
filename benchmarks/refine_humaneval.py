"""CodeGrad refinement benchmarks with a real model: HumanEval(+) generation and HumanEvalFix repair.

Methods, all with the same model, the same decoding and the same cap on LLM calls per task:
  single-shot   one greedy answer to the prompt
  self-debug    the single-shot answer, then retries with the failing visible docstring examples
  codegrad      the single-shot answer, then the product's loop (refine.refine_target: critic ->
                update -> verification gate, with history) driven by the product's checks
  codegrad-no-critic / -no-history / -no-gate   ablations of the same loop
  codegrad-no-fresh   the loop without the rewrite-from-spec samples (every candidate a "fix" of the code)
Repair (HumanEvalFix): one-shot "fix this function" vs the codegrad loop on the buggy function.
The first answer of every method is greedy; later steps sample at --temperature with fixed seeds,
the same for self-debug and codegrad. Hidden tests (HumanEval `test`, HumanEval+ inputs,
HumanEvalFix `test`) only score the final answer; nothing derived from them reaches a prompt or check.

    ../shared/tools/local-llm start
    python benchmarks/refine_humaneval.py generation --tasks 40 --cap 5
    python benchmarks/refine_humaneval.py repair --tasks 30 --cap 5
Responses are cached on disk (benchmarks/results/cache), so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import heval  # noqa: E402

from codegrad.diff import changes
from codegrad.llm import prompts  # noqa: E402
from codegrad.llm.budget import Budget, MeteredLLM, PriceTable  # noqa: E402
from codegrad.llm.cache import CachedLLM  # noqa: E402
from codegrad.llm.openai_client import OpenAIClient  # noqa: E402
from codegrad.model import Finding, Target, Workspace  # noqa: E402
from codegrad.refine import extract, patch
from codegrad.refine import loop as refine
from codegrad.settings import Settings  # noqa: E402
from codegrad.verify import engine

RESULTS = Path(__file__).resolve().parent / "results"
CHECKS = ("docstrings", "properties")
MAX_TOKENS = 512


@dataclass
class Env:
    """What every method shares: the cached client factory, settings and the call cap."""

    base_url: str
    model: str
    cache: Path
    cap: int
    temperature: float
    settings: Settings
    samples: int = 3

    def client(self, max_calls: int) -> MeteredLLM:
        inner = OpenAIClient(
            model=self.model, base_url=self.base_url, api_key="sk-no-key", timeout=600
        )
        cached = CachedLLM(inner, self.cache, model=self.model)
        return MeteredLLM(
            cached, model=self.model, budget=Budget(max_calls=max_calls), prices=PriceTable()
        )


# --------------------------------------------------------------------------- files and verification


def split_prompt(prompt: str, name: str) -> tuple[str, str]:
    """(header before the target def, the target's def + docstring stub)."""
    lines = prompt.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.lstrip().startswith(f"def {name}("):
            start = index
            while start > 0 and lines[start - 1].lstrip().startswith("@"):
                start -= 1
            return "".join(lines[:start]), "".join(lines[start:])
    return prompt, ""


def compose(prompt: str, name: str, function_source: str) -> str:
    """The task file: the prompt's header and the function, with the prompt's docstring kept."""
    header, stub = split_prompt(prompt, name)
    stub_function = stub.rstrip() + "\n    ...\n"
    source = (
        refine.keep_docstring(stub_function, function_source) if function_source else stub_function
    )
    if not source.endswith("\n"):
        source += "\n"
    return header + source


def answer_function(text: str, name: str) -> str:
    found = extract.extract_function(text, name)
    return found.source if found.source and not found.problem else ""


def target_of(file_text: str, name: str) -> Target | None:
    try:
        return next(
            (t for t in changes.all_functions("task.py", file_text) if t.qualname == name), None
        )
    except SyntaxError:
        return None


def verify_file(
    file_text: str, name: str, settings: Settings, checks: tuple[str, ...]
) -> tuple[Target | None, tuple[Finding, ...]]:
    """The product's checks on one task file (new-code setting: no base)."""
    target = target_of(file_text, name)
    if target is None:
        return None, ()
    with tempfile.TemporaryDirectory(prefix="cg-refine-") as tmp:
        root = Path(tmp) / "head"
        root.mkdir()
        (root / "task.py").write_text(file_text)
        scratch = Path(tmp) / "scratch"
        scratch.mkdir()
        evidence, _ = engine.verify(
            [target],
            settings=settings.replace(checks=checks),
            workspace=Workspace(head_root=root),
            scratch=scratch,
            deadline=time.monotonic() + 120,
        )
    return target, evidence.for_target(target)


def failing_examples_text(findings: tuple[Finding, ...]) -> str:
    lines = []
    for f in findings:
        if f.check == "docstrings":
            lines.append(f"{f.input}: expected {f.expected}, got {f.actual}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- methods


def single_shot(env: Env, task: dict[str, Any]) -> tuple[str, MeteredLLM]:
    client = env.client(env.cap)
    reply = client.complete(
        prompts.generate(task["prompt"], task["entry_point"]),
        temperature=0.0,
        seed=0,
        max_tokens=MAX_TOKENS,
    )
    return compose(
        task["prompt"], task["entry_point"], answer_function(reply.text, task["entry_point"])
    ), client


def self_debug(env: Env, task: dict[str, Any], start: str, client: MeteredLLM) -> str:
    """Retry with the failing visible examples until they pass or the cap is reached (no gate)."""
    name = task["entry_point"]
    current = start
    for round_ in range(env.cap - 1):
        _, findings = verify_file(current, name, env.settings, ("docstrings",))
        failures = failing_examples_text(findings)
        if not failures:
            break
        source = target_of(current, name)
        if source is None:
            break
        try:
            reply = client.complete(
                prompts.self_debug(source.source, name, failures),
                temperature=0.0 if round_ == 0 else env.temperature,
                seed=round_ * 97,
                max_tokens=MAX_TOKENS,
            )
        except Exception:  # noqa: BLE001 - budget reached
            break
        function = answer_function(reply.text, name)
        if function:
            current = compose(task["prompt"], name, function)
    return current


def codegrad_loop(
    env: Env, task_prompt: str, name: str, start: str, client: MeteredLLM, options: refine.Options
) -> tuple[str, dict[str, Any]]:
    """The product's loop on the task file; returns the final file and loop facts."""
    target, findings = verify_file(start, name, env.settings, CHECKS)
    if target is None or not findings:
        return start, {"initial_findings": len(findings), "verified": False, "stop": "no findings"}
    with tempfile.TemporaryDirectory(prefix="cg-loop-") as tmp:
        root = Path(tmp) / "head"
        root.mkdir()
        (root / "task.py").write_text(start)
        scratch = Path(tmp) / "scratch"
        scratch.mkdir()

        def verify(candidate: Target, tree: Path) -> tuple[Finding, ...]:
            sub = scratch / "verify"
            sub.mkdir(exist_ok=True)
            evidence, _ = engine.verify(
                [candidate],
                settings=env.settings.replace(checks=CHECKS),
                workspace=Workspace(head_root=tree),
                scratch=sub,
                deadline=time.monotonic() + 120,
            )
            return evidence.for_target(candidate)

        fix = refine.refine_target(
            target,
            findings,
            file_source=start,
            llm=client,
            verify=verify,
            scratch=scratch,
            head_root=root,
            options=options,
            ran_checks=CHECKS,
            settings=env.settings,
        )
    final = patch.splice(start, target, fix.source) if fix.diff else start
    return final, {
        "initial_findings": len(findings),
        "remaining": len(fix.remaining),
        "verified": fix.verified,
        "stop": fix.stop_reason,
        "iterations": fix.iterations,
    }


ABLATIONS = {
    "codegrad": {},
    "codegrad-no-critic": {"critic": False},
    "codegrad-no-history": {"history": False},
    "codegrad-no-gate": {"gate": False},
    "codegrad-no-fresh": {"fresh": False},
}


def options_for(env: Env, **switches: bool) -> refine.Options:
    """The loop's options: one critic call then several update samples per step, chosen by verification."""
    return refine.Options(
        max_iterations=env.cap,
        temperature=env.temperature,
        seed=0,
        candidates_per_step=env.samples,
        **switches,
    )


# --------------------------------------------------------------------------- runs


def record(
    method: str,
    task_id: str,
    file_text: str,
    client: MeteredLLM,
    scored: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "method": method,
        "task": task_id,
        "base": bool(scored.get("base")),
        "plus": bool(scored.get("plus")),
        "calls": client.usage.calls,
        "tokens": client.usage.tokens,
        **(extra or {}),
        "file": file_text,
    }


def run_generation(
    env: Env, task_ids: list[str], methods: list[str], out: Path
) -> list[dict[str, Any]]:
    tasks, plus = heval.humaneval(), heval.plus()
    rows = _load(out)
    done = {(r["method"], r["task"]) for r in rows}
    for index, task_id in enumerate(task_ids, 1):
        task = tasks[task_id]
        name = task["entry_point"]
        for method in methods:
            if (method, task_id) in done:
                continue
            started = time.monotonic()
            first, client = single_shot(env, task)
            extra: dict[str, Any] = {}
            if method == "single-shot":
                final = first
            elif method == "self-debug":
                final = self_debug(env, task, first, client)
            else:
                final, extra = codegrad_loop(
                    env, task["prompt"], name, first, client, options_for(env, **ABLATIONS[method])
                )
            row = record(
                method, task_id, final, client, heval.score(task, plus[task_id], final), extra
            )
            row["seconds"] = round(time.monotonic() - started, 1)
            rows.append(row)
            _save(out, rows)
        print(
            f"[{index}/{len(task_ids)}] {task_id} "
            + " ".join(
                f"{r['method']}={'P' if r['plus'] else ('b' if r['base'] else '.')}"
                for r in rows
                if r["task"] == task_id
            ),
            file=sys.stderr,
            flush=True,
        )
    return rows


def run_repair(
    env: Env, task_ids: list[str], methods: list[str], out: Path
) -> list[dict[str, Any]]:
    fixes, plus = heval.humanevalfix(), heval.plus()
    tasks = heval.humaneval()
    rows = _load(out)
    done = {(r["method"], r["task"]) for r in rows}
    for index, task_id in enumerate(task_ids, 1):
        item = fixes[task_id]
        name = item["entry_point"]
        buggy = item["prompt"] + item["buggy_solution"]
        for method in methods:
            if (method, task_id) in done:
                continue
            started = time.monotonic()
            client = env.client(env.cap)
            extra: dict[str, Any] = {}
            if method == "one-shot":
                target = target_of(buggy, name)
                reply = client.complete(
                    prompts.one_shot_fix(target.source if target else buggy, name),
                    temperature=0.0,
                    seed=0,
                    max_tokens=MAX_TOKENS,
                )
                function = answer_function(reply.text, name)
                final = compose(item["prompt"], name, function) if function else buggy
                extra["echo"] = function.strip() == (target.source.strip() if target else "")
            else:
                final, extra = codegrad_loop(
                    env, item["prompt"], name, buggy, client, options_for(env, **ABLATIONS[method])
                )
            row = record(
                method,
                task_id,
                final,
                client,
                heval.score(tasks[task_id], plus[task_id], final),
                extra,
            )
            row["seconds"] = round(time.monotonic() - started, 1)
            rows.append(row)
            _save(out, rows)
        print(
            f"[{index}/{len(task_ids)}] {task_id} "
            + " ".join(
                f"{r['method']}={'P' if r['plus'] else ('b' if r['base'] else '.')}"
                for r in rows
                if r["task"] == task_id
            ),
            file=sys.stderr,
            flush=True,
        )
    return rows


def _load(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())["rows"] if path.is_file() else []


def _save(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"rows": rows}, indent=1))
    tmp.replace(path)


def common_tasks(rows: list[dict[str, Any]], methods: list[str]) -> list[dict[str, Any]]:
    """The rows of the tasks every method has finished, so each row of the table counts the same tasks."""
    done = [{r["task"] for r in rows if r["method"] == m} for m in methods]
    shared = set.intersection(*done) if done else set()
    return [r for r in rows if r["task"] in shared and r["method"] in methods]


def table(rows: list[dict[str, Any]], methods: list[str], title: str) -> str:
    lines = [
        f"### {title}",
        "",
        "| method | tasks | pass@1 base | pass@1 plus | LLM calls/task | tokens/task |",
        "|---|---|---|---|---|---|",
    ]
    for method in methods:
        chosen = [r for r in rows if r["method"] == method]
        if not chosen:
            continue
        n = len(chosen)
        base = sum(r["base"] for r in chosen)
        plus = sum(r["plus"] for r in chosen)
        calls = sum(r["calls"] for r in chosen) / n
        tokens = sum(r["tokens"] for r in chosen) / n
        lines.append(
            f"| {method} | {n} | {base}/{n} = {100 * base / n:.1f}% | {plus}/{n} = {100 * plus / n:.1f}% | {calls:.2f} | {tokens:.0f} |"
        )
    return "\n".join(lines) + "\n"


def chart(rows: list[dict[str, Any]], methods: list[str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names, base, plus = [], [], []
    for method in methods:
        chosen = [r for r in rows if r["method"] == method]
        if chosen:
            names.append(method)
            base.append(100 * sum(r["base"] for r in chosen) / len(chosen))
            plus.append(100 * sum(r["plus"] for r in chosen) / len(chosen))
    fig, ax = plt.subplots(figsize=(8, 4))
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], base, width=0.4, label="base tests")
    ax.bar([x + 0.2 for x in xs], plus, width=0.4, label="HumanEval+")
    ax.set_xticks(list(xs), names, rotation=20, ha="right")
    ax.set_ylabel("pass@1 (%)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=("generation", "repair"))
    parser.add_argument("--base-url", default="http://127.0.0.1:8089/v1")
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--tasks", type=int, default=40, help="first N of the seeded shuffle")
    parser.add_argument("--cap", type=int, default=5, help="LLM calls per task, all methods")
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--methods", help="comma-separated subset")
    parser.add_argument("--max-examples", type=int, default=60)
    parser.add_argument("--samples", type=int, default=2, help="update samples per codegrad step")
    parser.add_argument(
        "--report", action="store_true", help="only rebuild the table and chart from the JSON"
    )
    parser.add_argument(
        "--name", help="file name (no suffix) for the table and chart, e.g. refine_ablation"
    )
    args = parser.parse_args(argv)
    settings = Settings(max_examples=args.max_examples, function_timeout=20.0, memory_mb=2048)
    env = Env(
        args.base_url,
        args.model,
        RESULTS / "cache",
        args.cap,
        args.temperature,
        settings,
        args.samples,
    )
    if args.mode == "generation":
        ids = heval.subset(0, 91)[: args.tasks]
        methods = (
            args.methods.split(",") if args.methods else ["single-shot", "self-debug", *ABLATIONS]
        )
        out = RESULTS / "refine_generation.json"
        rows = _load(out) if args.report else run_generation(env, ids, methods, out)
        title = f"HumanEval generation, {args.model}, cap {args.cap} calls/task"
    else:
        ids = heval.subset(1, 60)[: args.tasks]
        methods = args.methods.split(",") if args.methods else ["one-shot", *ABLATIONS]
        out = RESULTS / "refine_repair.json"
        rows = _load(out) if args.report else run_repair(env, ids, methods, out)
        title = f"HumanEvalFix repair, {args.model}, cap {args.cap} calls/task"
    rows = common_tasks([r for r in rows if r["task"] in ids], methods)
    text = table(rows, methods, title) + (
        f"\nFirst answer greedy; later candidates sampled at temperature {args.temperature} with "
        f"fixed seeds (self-debug and codegrad alike); codegrad: {args.samples} candidates per step.\n"
    )
    table_path = RESULTS / f"{args.name}.md" if args.name else out.with_suffix(".md")
    table_path.write_text(text)
    chart(rows, methods, table_path.with_suffix(".png"), title)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
