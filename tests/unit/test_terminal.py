"""The terminal report: golden files (plain, coloured, verbose), escaping, scope and empty results."""

from __future__ import annotations

import dataclasses
import re

import pytest
from test_render import CRASH, DOC_BUG, HEAD, RECORDED, build_outcome, clean_outcome

from builders import assert_golden
from codegrad import render
from codegrad.render import terminal
from codegrad.render.terminal import Style

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize(
    ("name", "style"),
    [
        ("terminal.txt", Style()),
        ("terminal_color.txt", Style(color=True)),
        ("terminal_verbose.txt", Style(verbose=True)),
    ],
)
def test_terminal_matches_recorded(name: str, style: Style) -> None:
    assert_golden(RECORDED / name, terminal.render(build_outcome(), style))


def test_one_line_per_finding_then_values_then_a_summary() -> None:
    lines = terminal.render(build_outcome()).splitlines()
    assert lines[0] == (
        "pkg/stats.py:13: mean: [error] docstrings/bug: docstring example `mean([1, 2])` failed"
    )
    assert lines[1] == "    input: mean([1, 2]) · expected: 1.5 · actual: 1 · new in this change"
    assert (
        lines[-1] == "3 errors, 1 warning, 1 note in 2 of 3 functions · 0123456..fedcba9 · 12.3 s"
    )
    assert "pkg/stats.py: mean: verified fix (fixes 1, 1 remaining)" in lines
    assert "note: budget: efficiency stopped after 60 s" in lines
    behaviour = lines.index(
        "pkg/text.py:6: Slugger.slug: [note] differential/behaviour-change: head and base differ"
    )
    assert lines[behaviour + 1] == "    input: Slugger().slug(s='A B') · base: 'a_b' · head: 'a-b'"


def test_colour_only_adds_escape_codes() -> None:
    plain = terminal.render(build_outcome())
    coloured = terminal.render(build_outcome(), Style(color=True))
    assert "\x1b[" not in plain
    assert "\x1b[1;31m[error]\x1b[0m" in coloured and "\x1b[36m[note]\x1b[0m" in coloured
    assert ANSI.sub("", coloured) == plain


def test_verbose_adds_gradient_tracebacks_reproducers_and_skips() -> None:
    text = terminal.render(build_outcome(), Style(verbose=True))
    assert "    gradient:\n        Gradient for `mean`" in text
    assert "    traceback inside the function:\n        pkg/stats.py:16: return" in text
    assert "    reproducer:\n        from pkg.stats import mean" in text
    assert "note: properties skipped pkg/text.py::strip_all: no annotations or examples" in text
    assert "\n    -    return sum(xs) // len(xs)\n" in text  # the fix's diff
    assert "gradient:" not in terminal.render(build_outcome())


def test_values_from_the_change_cannot_drive_the_terminal() -> None:
    hostile = dataclasses.replace(
        DOC_BUG,
        message="ok\x1b]0;pwned\x07\x1b[2J\rhidden\u202eevil",
        actual="x\x1b[31m\nnext\tline",
        path="pkg/\x1b[8mstats.py",
    )
    outcome = build_outcome((hostile, CRASH))
    for style in (Style(), Style(color=True, verbose=True)):
        text = ANSI.sub("", terminal.render(outcome, style))
        assert "\x1b" not in text and "\x07" not in text and "\r" not in text
        assert "\u202e" not in text
    plain = terminal.render(outcome)
    assert "ok\\u001b]0;pwned\\u0007\\u001b[2J\\nhidden\\u202eevil" in plain
    assert "actual: x\\u001b[31m\\nnext line" in plain
    assert "pkg/\\u001b[8mstats.py:13:" in plain


def test_clean_and_nothing_checked_summaries() -> None:
    assert terminal.render(clean_outcome()) == (
        "no findings in 3 functions · 0123456..fedcba9 · 12.3 s\n"
    )
    empty = dataclasses.replace(
        clean_outcome(),
        targets=(),
        tree="worktree",
        nothing_checked="no Python file changed (changed: README.md)",
    )
    assert terminal.render(empty) == (
        "nothing checked: no Python file changed (changed: README.md)"
        " · 0123456..the working tree (HEAD fedcba9)\n"
    )
    assert "\x1b[33mnothing checked" in terminal.render(empty, Style(color=True))


def test_scope_names_the_tree_reviewed_in_every_format() -> None:
    staged = dataclasses.replace(build_outcome(), tree="index")
    assert "0123456..the staged changes (HEAD fedcba9)" in terminal.render(staged)
    assert "`0123456`..the staged changes (HEAD `fedcba9`)" in render.render(staged, "markdown")
    assert '"tree": "index"' in render.render(staged, "json")
    assert HEAD in render.render(staged, "sarif")
    first = dataclasses.replace(staged, head="")  # before the repository's first commit
    assert "0123456..the staged changes (no commit yet)" in terminal.render(first)


def test_auto_format_and_colour_rules() -> None:
    assert render.choose_format("auto", to_terminal=True) == "terminal"
    assert render.choose_format("auto", to_terminal=False) == "markdown"
    assert render.choose_format("json", to_terminal=True) == "json"
    assert render.use_color(to_terminal=True, no_color=None)
    assert not render.use_color(to_terminal=True, no_color="1")
    assert render.use_color(to_terminal=True, no_color="")  # NO_COLOR= (empty) does not count
    assert not render.use_color(to_terminal=False, no_color=None)
    assert render.render(build_outcome(), "auto") == render.render(build_outcome(), "markdown")
    assert "\x1b[" in render.render(build_outcome(), "terminal", color=True)


def test_functions_no_check_verified_are_said_so_not_counted_as_clean() -> None:
    clean = clean_outcome()
    results = tuple(
        dataclasses.replace(r, checked=tuple(k for k in r.checked if k != "pkg/text.py::strip_all"))
        for r in clean.evidence.results
    )
    partly = dataclasses.replace(
        clean, evidence=dataclasses.replace(clean.evidence, results=results)
    )
    assert terminal.render(partly) == (
        "no findings in 3 functions (1 not verified by any check, -v says why)"
        " · 0123456..fedcba9 · 12.3 s\n"
    )
    text = render.render(partly, "markdown")
    assert (
        "Not verified by any check (their reasons are in the notes): `pkg/text.py::strip_all`."
        in text
    )
    assert "Not verified" not in render.render(clean, "markdown")
