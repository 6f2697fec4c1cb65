"""Head's suite run once for two checks: project-tests' run with the recorder in the same pytest process."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from codegrad.model import Target
from codegrad.verify.checks.base import CheckContext
from codegrad.verify.checks.pytest_runs import project_command, scan_tree, tree_options
from codegrad.verify.checks.suite_findings import NAME as PROJECT_TESTS
from codegrad.verify.checks.suite_run import SuiteRun, run_suite


@dataclass(frozen=True)
class _Shared:
    """A run made for one verification (its context) and the targets it watched."""

    ctx: CheckContext
    keys: tuple[str, ...]
    suite: SuiteRun


_SHARED: list[_Shared] = []  # at most one: the latest verification's


def _keys(targets: Sequence[Target]) -> tuple[str, ...]:
    return tuple(t.key for t in targets)


def run_with_recorder(
    targets: Sequence[Target], record: dict[str, object], ctx: CheckContext
) -> SuiteRun | None:
    """Head's suite as project-tests runs it, recording as `record` asks, kept for project-tests;
    None when project-tests is not configured or would not run pytest here (nothing is run)."""
    if PROJECT_TESTS not in ctx.settings.checks:
        return None
    command = project_command(ctx)
    root = ctx.workspace.head_root.resolve()
    scan = scan_tree(root)
    if not command.is_pytest or (not command.paths and not scan.has_tests):
        return None
    suite = run_suite(command, targets, ctx, root, tree_options(scan), record=record)
    _SHARED[:] = [_Shared(ctx, _keys(targets), suite)]
    return suite


def take(targets: Sequence[Target], ctx: CheckContext) -> SuiteRun | None:
    """The run made for this verification and these targets, once (None when there is none)."""
    for shared in _SHARED:
        if shared.ctx is ctx and shared.keys == _keys(targets):
            _SHARED.clear()
            return shared.suite
    return None
