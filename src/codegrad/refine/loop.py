"""The CodeGrad loop: critic gradient -> update step -> verification gate, keeping the best candidate."""

from __future__ import annotations

import ast
import hashlib
import logging
import os
import shutil
import textwrap
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from codegrad import funcsource, gradient
from codegrad.diff import changes
from codegrad.llm import prompts
from codegrad.llm.budget import BudgetExceeded, MeteredLLM, Usage
from codegrad.llm.build import build_client, metered
from codegrad.llm.protocol import LLM, LLMError, LLMUnavailable
from codegrad.model import (
    LLM_BUDGET_NOTE,
    LLM_OUTAGE,
    Evidence,
    Finding,
    Fix,
    Loss,
    Target,
    Workspace,
)
from codegrad.progress import Progress, Silent
from codegrad.refine import extract, outage, patch, powers
from codegrad.settings import Settings
from codegrad.verify import engine

log = logging.getLogger(__name__)

# Checks a fix must pass for `verified`: the project's own tests and the docstring examples.
REQUIRED_CHECKS = ("project-tests", "docstrings")
HISTORY_LIMIT = 4


@dataclass(frozen=True)
class Options:
    """Switches for ablations; the product runs with all on."""

    critic: bool = True
    history: bool = True
    gate: bool = True
    max_iterations: int = 4
    temperature: float = 0.8  # for steps after the first (the first answer is greedy)
    candidates_per_step: int = 1
    seed: int = 0
    fresh: bool = True  # some sampled candidates are written from the spec (see is_fresh)


@dataclass(frozen=True)
class Attempt:
    """One candidate the loop tried and what verification said about it."""

    iteration: int
    source: str
    loss: Loss | None
    verdict: str  # "accepted", "rejected: <why>", "invalid: <why>", "identical"
    findings: tuple[Finding, ...] = ()


@dataclass
class LoopState:
    """Best-so-far and the history of one function's refinement."""

    target: Target
    file_source: str
    best_source: str
    best_findings: tuple[Finding, ...]
    initial_findings: tuple[Finding, ...]
    attempts: list[Attempt] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    @property
    def echoed(self) -> bool:
        """Whether the model has sent back code that was already tried."""
        return any(
            a.verdict.startswith(("identical", f"invalid: {patch.SAME_CODE}"))
            for a in self.attempts
        )

    @property
    def best_loss(self) -> Loss:
        return Loss.of(self.best_findings)


Verifier = Callable[[Target, Path], tuple[Finding, ...]]


def gate_key(finding: Finding) -> tuple[str, str, str]:
    """What counts as "the same failure" across candidates (generated counterexamples may move).

    A fixed input (an example, a test) is the same failure whatever it fails with: a candidate that
    turns a crash on an example into a wrong value has broken nothing that passed before.
    """
    fixed = finding.check == "recorded" and not finding.details.get("grown")  # a test's own call
    if fixed or finding.check in ("docstrings", "project-tests", "llm-checks"):
        return (finding.check, "", finding.input or finding.message)
    return (finding.check, finding.kind.value, str(finding.details.get("property", "")))


def judge(before: Sequence[Finding], after: Sequence[Finding]) -> tuple[bool, str]:
    """The projection's rule: accept only if the loss drops and nothing that passed now fails."""
    old = {gate_key(f) for f in before}
    added = [f for f in after if gate_key(f) not in old]
    if added:
        first = added[0]
        return False, f"new failure ({first.check}/{first.kind.value}): {first.message[:200]}"
    if Loss.of(after).total >= Loss.of(before).total:
        return (
            False,
            f"loss did not decrease ({Loss.of(before).total:g} -> {Loss.of(after).total:g})",
        )
    return True, "accepted"


def is_verified(
    initial: Sequence[Finding], final: Sequence[Finding], ran_checks: Iterable[str]
) -> bool:
    """A fix is verified when it removes findings, adds none, and the required checks pass."""
    ok, _ = judge(initial, final)
    required_failures = [f for f in final if f.check in REQUIRED_CHECKS and f.level.rank >= 3]
    return ok and not required_failures and "docstrings" in set(ran_checks)


def _fingerprint_source(source: str) -> str:
    normalised = "\n".join(line.rstrip() for line in source.strip().splitlines())
    return hashlib.sha256(normalised.encode()).hexdigest()


def _history(state: LoopState) -> list[prompts.Attempt]:
    items = []
    for attempt in state.attempts[-HISTORY_LIMIT:]:
        diff = patch.unified_diff(state.target.path, state.target.source, attempt.source)
        items.append(
            prompts.Attempt(
                diff=diff,
                outcome=attempt.verdict,
                loss=attempt.loss.total if attempt.loss else None,
            )
        )
    return items


def keep_docstring(original: str, candidate: str) -> str:
    """The candidate with the original docstring: the spec and its examples are not the LLM's to edit.

    Otherwise a candidate could "pass" the docstring examples by deleting them.
    """
    old = funcsource.docstring_span(original)
    if old is None:
        return candidate
    indent_of = len(original.splitlines()[0]) - len(original.splitlines()[0].lstrip())
    doc_lines = [
        line[indent_of:] if line[:indent_of].isspace() else line.lstrip()
        for line in original.splitlines()[old[0] : old[1] + 1]
    ]
    doc_lines = textwrap.dedent("\n".join(doc_lines)).splitlines()
    cand_lines = candidate.splitlines()
    new = funcsource.docstring_span(candidate)
    try:
        tree = ast.parse(textwrap.dedent(candidate))
    except SyntaxError:
        return candidate
    node = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)), None
    )
    if node is None or not node.body:
        return candidate
    base_indent = len(cand_lines[0]) - len(cand_lines[0].lstrip()) if cand_lines else 0
    body_col = base_indent + node.body[0].col_offset
    shaped = [(" " * body_col + line) if line.strip() else "" for line in doc_lines]
    if new is not None:
        start, end = new[0], new[1]
    else:
        start = end = node.body[0].lineno - 1
        end = start - 1
    merged = cand_lines[:start] + shaped + cand_lines[end + 1 :]
    text = "\n".join(merged) + ("\n" if candidate.endswith("\n") else "")
    try:
        ast.parse(textwrap.dedent(text))
    except SyntaxError:
        return candidate
    return text


def candidate_tree(head_root: Path, dest: Path, relpath: str, new_file: str) -> Path:
    """A copy of head with one file replaced; other files are hard links (cheap, read-only use)."""
    if dest.exists():
        shutil.rmtree(dest)

    def link_or_copy(src: str, dst: str) -> object:
        try:
            os.link(src, dst)
            return dst
        except OSError:
            return shutil.copy2(src, dst)

    # Bytecode is left behind: a cached .pyc of the original can match the candidate's mtime and
    # size (written in the same second, `* 3` -> `* 2`), and Python would run the original.
    shutil.copytree(
        head_root,
        dest,
        copy_function=link_or_copy,
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    target_file = dest / relpath
    target_file.unlink()
    target_file.write_text(new_file, encoding="utf-8")
    return dest


def retarget(target: Target, new_file: str) -> Target | None:
    """The Target for the same qualname in the candidate file (lines move when code changes)."""
    for candidate in changes.all_functions(target.path, new_file):
        if candidate.qualname == target.qualname:
            return replace(
                candidate,
                base_path=target.base_path,
                base_source=target.base_source,
                base_lineno=target.base_lineno,
                changed_lines=tuple(range(candidate.lineno, candidate.end_lineno + 1)),
            )
    return None


def step(
    state: LoopState, *, llm: LLM, options: Options, iteration: int
) -> tuple[list[str], str | None]:
    """Critic then update; the raw candidate answers (one per sample) and why sampling stopped early.

    Answers already received are kept when the budget or the endpoint stops the later samples.
    """
    evidence_text = gradient.textual_gradient(state.target, state.best_findings)
    history = _history(state) if options.history else []
    feedback = evidence_text
    current = replace(state.target, source=state.best_source)
    left = calls_left(llm)
    if options.critic and (
        left is None or left >= 2
    ):  # the last call goes to an update, not to feedback
        messages = prompts.fit(prompts.critic(current, evidence=evidence_text, history=history))
        reply = llm.complete(messages, temperature=0.0, seed=options.seed, max_tokens=512)
        if not prompts.says_no_changes(reply.text):
            feedback = reply.text
    answers: list[str] = []
    for sample in range(options.candidates_per_step):
        greedy = iteration == 0 and sample == 0
        number = iteration * options.candidates_per_step + sample
        if is_fresh(options, current, number, greedy=greedy, echoed=state.echoed):
            messages = prompts.rewrite(current, feedback=feedback, evidence=evidence_text)
        else:
            messages = prompts.update(
                current, feedback=feedback, evidence=evidence_text, history=history
            )
        messages = prompts.fit(messages)
        try:
            reply = llm.complete(
                messages,
                temperature=0.0 if greedy else options.temperature,
                seed=options.seed + iteration * 97 + sample,
                max_tokens=1024,
            )
        except (BudgetExceeded, LLMError) as exc:
            if not answers:
                raise
            return answers, _stop_text(exc)
        answers.append(reply.text)
    return answers, None


def is_fresh(options: Options, current: Target, number: int, *, greedy: bool, echoed: bool) -> bool:
    """Whether candidate `number` is written from the spec instead of as a fix of the code in sight.

    Only functions with a docstring (the spec) qualify: every other sampled candidate, and every
    sampled one once the model has sent code back that was already tried.

    Asked to fix code it can see, a small model often sends the same code back; a candidate written
    without it in sight cannot be that echo, and the gate still judges it like any other.
    """
    return (
        options.fresh
        and not greedy
        and (echoed or number % 2 == 1)
        and prompts.spec_stub(current.source) is not None
    )


def calls_left(llm: LLM) -> int | None:
    """How many calls the budget still allows (None: no call budget)."""
    if isinstance(llm, MeteredLLM) and llm.budget.max_calls is not None:
        return max(0, llm.budget.max_calls - llm.usage.calls)
    return None


def _stop_text(exc: BudgetExceeded | LLMError) -> str:
    if isinstance(exc, BudgetExceeded):
        return f"budget: {exc.reason}"
    return f"{LLM_OUTAGE}: {exc}" if isinstance(exc, LLMUnavailable) else f"LLM error: {exc}"


def consider(
    state: LoopState,
    answer: str,
    *,
    iteration: int,
    verify: Verifier,
    scratch: Path,
    head_root: Path,
    options: Options,
) -> Attempt:
    """Parse, confine, verify and judge one candidate; update the best-so-far when accepted."""
    extracted = extract.extract_function(answer, state.target.name)
    if extracted.problem or not extracted.source:
        return Attempt(
            iteration, answer[:2000], None, f"invalid: {extracted.problem or 'no function found'}"
        )
    source = keep_docstring(
        state.target.source, patch.restore_signature(state.target.source, extracted.source)
    )
    if funcsource.docstring_span(state.target.source) and not funcsource.docstring_span(source):
        return Attempt(
            iteration, source, None, "invalid: the docstring (the specification) must stay"
        )
    key = _fingerprint_source(source)
    if key in state.seen:
        return Attempt(iteration, source, None, "identical: this exact version was tried before")
    state.seen.add(key)
    reason = patch.validate_candidate(state.target, state.file_source, source)
    if reason:
        return Attempt(iteration, source, None, f"invalid: {reason}")
    new_file = patch.splice(state.file_source, state.target, source)
    new_target = retarget(state.target, new_file)
    if new_target is None:
        return Attempt(iteration, source, None, "invalid: the function is gone after the edit")
    tree = candidate_tree(
        head_root, scratch / f"candidate-{iteration}", state.target.path, new_file
    )
    findings = verify(new_target, tree)
    ok, why = judge(state.best_findings, findings) if options.gate else (True, "accepted (no gate)")
    attempt = Attempt(
        iteration, source, Loss.of(findings), "accepted" if ok else f"rejected: {why}", findings
    )
    if ok:
        state.best_source = source
        state.best_findings = findings
    return attempt


def refine_target(
    target: Target,
    findings: Sequence[Finding],
    *,
    file_source: str,
    llm: MeteredLLM,
    verify: Verifier,
    scratch: Path,
    head_root: Path,
    options: Options,
    ran_checks: Iterable[str],
    settings: Settings,
    refused: list[str] | None = None,
) -> Fix:
    """Refine one function until zero loss, the iteration limit or the budget; the best candidate wins.

    Why candidates that would add powers were refused is appended to `refused`.
    """
    state = LoopState(
        target=target,
        file_source=file_source,
        best_source=target.source,
        best_findings=tuple(findings),
        initial_findings=tuple(findings),
    )
    state.seen.add(_fingerprint_source(target.source))
    before = replace(llm.usage, unpriced_models=set(llm.usage.unpriced_models))
    stop = "iteration limit"
    repeats = 0
    for iteration in range(options.max_iterations):
        if state.best_loss.count == 0:
            stop = "zero loss"
            break
        try:
            answers, stopped = step(state, llm=llm, options=options, iteration=iteration)
        except (BudgetExceeded, LLMError) as exc:
            stop = _stop_text(exc)
            break
        for answer in answers:
            attempt = consider(
                state,
                answer,
                iteration=iteration,
                verify=verify,
                scratch=scratch,
                head_root=head_root,
                options=options,
            )
            log.info("%s iteration %d: %s", target.key, iteration, attempt.verdict)
            state.attempts.append(attempt)
            if refused is not None and attempt.verdict.startswith(f"invalid: {powers.REFUSED}"):
                refused.append(attempt.verdict.removeprefix("invalid: "))
        repeats = repeats + 1 if _all_identical(state.attempts[-len(answers) :]) else 0
        # Identical candidates stop the loop: at once when decoding is greedy (the next answer
        # would be the same again), after two such steps when later steps sample.
        if repeats and (options.temperature == 0.0 or repeats >= 2):
            stop = "identical candidate"
            break
        if stopped:
            stop = "zero loss" if state.best_loss.count == 0 else stopped
            break
    else:
        if state.best_loss.count == 0:
            stop = "zero loss"
    return _fix_from(state, usage=_spent(before, llm.usage), stop=stop, ran_checks=ran_checks)


def _all_identical(attempts: Sequence[Attempt]) -> bool:
    return bool(attempts) and all(a.verdict.startswith("identical") for a in attempts)


def _spent(before: Usage, after: Usage) -> Usage:
    return Usage(
        calls=after.calls - before.calls,
        cached_calls=after.cached_calls - before.cached_calls,
        prompt_tokens=after.prompt_tokens - before.prompt_tokens,
        completion_tokens=after.completion_tokens - before.completion_tokens,
        cost_usd=after.cost_usd - before.cost_usd,
        notional_usd=after.notional_usd - before.notional_usd,
    )


def _fix_from(state: LoopState, *, usage: Usage, stop: str, ran_checks: Iterable[str]) -> Fix:
    target = state.target
    changed = _fingerprint_source(state.best_source) != _fingerprint_source(target.source)
    new_file = (
        patch.splice(state.file_source, target, state.best_source) if changed else state.file_source
    )
    remaining_keys = {gate_key(f) for f in state.best_findings}
    fixed = tuple(f for f in state.initial_findings if gate_key(f) not in remaining_keys)
    initial_keys = {gate_key(f) for f in state.initial_findings}
    added = tuple(f for f in state.best_findings if gate_key(f) not in initial_keys)
    verified = changed and is_verified(state.initial_findings, state.best_findings, ran_checks)
    return Fix(
        path=target.path,
        function=target.qualname,
        verified=verified,
        diff=patch.unified_diff(target.path, state.file_source, new_file) if changed else "",
        source=state.best_source,
        iterations=len({a.iteration for a in state.attempts}),
        fixed=fixed if changed else (),
        remaining=state.best_findings,
        added=added,
        tokens=usage.prompt_tokens + usage.completion_tokens,
        cost_usd=usage.cost_usd,
        calls=usage.calls,
        stop_reason=stop,
    )


def refine_all(
    evidence: Evidence,
    *,
    settings: Settings,
    workspace: Workspace,
    scratch: Path,
    progress: Progress | None = None,
    llm: LLM | None = None,
) -> tuple[list[Fix], list[str]]:
    """Refine every target with findings at warning level or above; verified by the same checks.
    Returns the fixes and run-level notes (a budget hit and the like)."""
    progress = progress or Silent()
    notes: list[str] = []
    pending = [t for t in evidence.targets if _to_refine(evidence, t)]
    down = outage.reported_outage(evidence)
    if down is not None and pending:  # an earlier check found the endpoint down: do not wait again
        return [], [outage.note(down, not_refined=len(pending))]
    client = build_client(settings) if llm is None else metered(llm, settings)
    options = Options(
        max_iterations=settings.max_iterations,
        temperature=settings.temperature,
        candidates_per_step=settings.candidates_per_step,
        seed=settings.seed,
        critic=settings.critic,
    )
    ran = [r.check for r in evidence.results]
    checks = engine.make_checks(settings.checks)
    fixes: list[Fix] = []
    for number, target in enumerate(pending):
        findings = _to_refine(evidence, target)
        progress.step(f"refining {target.qualname} ({len(findings)} finding(s))")
        file_source = (workspace.head_root / target.path).read_text(encoding="utf-8")

        def verify(candidate: Target, tree: Path, _target: Target = target) -> tuple[Finding, ...]:
            cand_scratch = scratch / "verify"
            cand_scratch.mkdir(exist_ok=True)
            ev, _notes = engine.verify(
                [candidate],
                settings=settings,
                workspace=Workspace(head_root=tree, base_root=workspace.base_root),
                scratch=cand_scratch,
                deadline=time.monotonic() + settings.function_timeout * 4 + settings.test_timeout,
                checks=checks,
            )
            return ev.for_target(candidate)

        refused: list[str] = []
        try:
            fix = refine_target(
                target,
                findings,
                file_source=file_source,
                llm=client,
                verify=verify,
                scratch=scratch,
                head_root=workspace.head_root,
                options=options,
                ran_checks=ran,
                settings=settings,
                refused=refused,
            )
        except Exception as exc:  # noqa: BLE001 - refinement must never cost the review its results
            log.exception("refining %s failed", target.key)
            notes.append(
                f"internal error while refining {target.key}: {type(exc).__name__}: {exc}; "
                f"refinement stopped, {outage.KEEPS}"
            )
            break
        digest = hashlib.sha256((workspace.head_root / target.path).read_bytes()).hexdigest()
        fixes.append(replace(fix, file_sha256=digest))  # the version --apply needs
        notes.extend(
            f"refused a candidate fix for {target.key}: {why}" for why in dict.fromkeys(refused)
        )
        if outage.is_outage(fix):
            left = len(pending) - number - (1 if fix.diff else 0)
            notes.append(outage.note(fix.stop_reason, not_refined=left))
            break
        if fix.stop_reason.startswith("budget"):
            notes.append(f"{LLM_BUDGET_NOTE} while refining {target.key}: {fix.stop_reason}")
            break
    return outage.kept(fixes), notes


def _to_refine(evidence: Evidence, target: Target) -> list[Finding]:
    """The findings refinement works on: warning level and above."""
    return [f for f in evidence.for_target(target) if f.level.rank >= 2]
