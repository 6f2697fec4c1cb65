"""Run every finding's pytest reproducer on head and base before publishing; keep those that reproduce.

A reproducer must fail on head; on base it must pass when the finding says base does not fail that
way (a regression or behaviour change), and fail when it says base fails the same way. One pytest run
per tree over all reproducers, in the sandbox, from a scratch folder (the project's conftest and
settings stay out). A reproducer that does not behave is taken off the finding, with the reason.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from codegrad.model import Evidence, Finding
from codegrad.settings import Settings
from codegrad.verify import interpreter, sandbox
from codegrad.verify.checks import testselect as ts

CHECKED = (
    "recorded",
    "differential",
    "properties",
    "docstrings",
)  # their reproducers are pytest source
TIMEOUT = 120.0


def wanted(finding: Finding) -> bool:
    """A finding whose reproducer is a pytest module we can run."""
    if finding.check not in CHECKED or not finding.reproducer:
        return False
    try:
        ast.parse(finding.reproducer)
    except SyntaxError:
        return False
    return True


def expected_on_base(finding: Finding) -> str | None:
    """'passed' / 'failed' on base, or None when base says nothing (no base, or unknown)."""
    if finding.base_fails_same is None:
        return None
    return "failed" if finding.base_fails_same else "passed"


def verdict(finding: Finding, head: str | None, base: str | None, has_base: bool) -> str | None:
    """None when the reproducer behaves as the finding says, else why not."""
    if head != "failed":
        return f"the reproducer {'passes' if head == 'passed' else 'did not run'} on head"
    want = expected_on_base(finding) if has_base else None
    if want is not None and base != want:
        shown = {"passed": "passes", "failed": "fails"}.get(base or "", "did not run")
        return f"the reproducer {shown} on base"
    return None


def _write(folder: Path, findings: Sequence[Finding]) -> list[str]:
    names = []
    for index, finding in enumerate(findings):
        name = f"test_codegrad_repro_{index}.py"
        (folder / name).write_text(finding.reproducer or "", encoding="utf-8")
        names.append(name)
    return names


def plugin_options(sources: Sequence[str]) -> list[str]:
    """Hypothesis's pytest plugin only for reproducers that use Hypothesis (it costs seconds to load)."""
    return (
        [] if any("hypothesis" in source for source in sources) else ["-p", "no:hypothesispytest"]
    )


def run_tree(
    folder: Path,
    root: Path,
    scratch: Path,
    settings: Settings,
    timeout: float,
    options: Sequence[str] = (),
) -> dict[str, str]:
    """Run the reproducers in folder against one tree: file name -> outcome."""
    junit = folder / f"junit-{uuid.uuid4().hex[:6]}.xml"
    argv = [
        interpreter.project_python(), "-m", "pytest", str(folder), "-q", "-p", "no:cacheprovider",
        f"--rootdir={folder}", f"--junitxml={junit}", "-o", "junit_family=xunit1",
        "-o", "addopts=", "-p", "no:randomly", *options,
    ]  # fmt: skip
    paths = [str(root / "src")] if (root / "src").is_dir() else []
    env = {"PYTHONPATH": os.pathsep.join([*paths, str(root)]), "PYTHONHASHSEED": "0"}
    sandbox.run(
        argv,
        cwd=root,
        timeout=timeout,
        limits=sandbox.Limits(memory_mb=settings.memory_mb),
        env=env,
        writable=[scratch],
        readable=[root],
    )
    try:
        text = sandbox.redact(junit.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return {}
    out: dict[str, str] = {}
    for case in ts.parse_junit(text):
        file = ts.nodeid_path(case.nodeid).rsplit("/", 1)[-1]
        previous = out.get(file)
        out[file] = (
            "failed"
            if "failed" in (previous, case.outcome) or case.outcome == "error"
            else case.outcome
        )
    return out


def confirm(
    evidence: Evidence,
    *,
    head_root: Path,
    base_root: Path | None,
    scratch: Path,
    settings: Settings,
    deadline: float,
) -> Evidence:
    """The evidence with every runnable reproducer checked (those that do not reproduce taken off)."""
    chosen = [f for f in evidence.findings if wanted(f)]
    left = deadline - time.monotonic()
    if not chosen or left < 5:
        return evidence
    folder = scratch / f"reproducers-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    names = _write(folder, chosen)
    timeout = min(TIMEOUT, max(5.0, left / 2))
    needs_base = base_root is not None and any(expected_on_base(f) for f in chosen)
    options = plugin_options([f.reproducer or "" for f in chosen])
    trees = [head_root, *([base_root] if needs_base and base_root else [])]

    def run_on(root: Path) -> dict[str, str]:
        return run_tree(folder, root.resolve(), scratch, settings, timeout, options)

    with ThreadPoolExecutor(max_workers=len(trees)) as pool:  # both trees at once
        outcomes = list(pool.map(run_on, trees))
    head, base = outcomes[0], (outcomes[1] if len(outcomes) > 1 else {})
    updated: dict[int, Finding] = {}
    for name, finding in zip(names, chosen, strict=True):
        why = verdict(finding, head.get(name), base.get(name), base_root is not None)
        updated[id(finding)] = _checked(finding, why)
    results = tuple(
        dataclasses.replace(r, findings=tuple(updated.get(id(f), f) for f in r.findings))
        for r in evidence.results
    )
    return Evidence(targets=evidence.targets, results=results)


def _checked(finding: Finding, why: str | None) -> Finding:
    details = dict(finding.details)
    if why is None:
        details["reproducer_checked"] = "fails on head" + (
            "" if expected_on_base(finding) is None else f", {_base_text(finding)} on base"
        )
        return dataclasses.replace(finding, details=details)
    details["reproducer_rejected"] = why
    details["unchecked_reproducer"] = finding.reproducer
    return dataclasses.replace(finding, reproducer=None, details=details)


def _base_text(finding: Finding) -> str:
    return "passes" if expected_on_base(finding) == "passed" else "fails"
