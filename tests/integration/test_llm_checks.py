"""The llm-checks check end to end: the real openai SDK against the loopback fake, the real sandboxed runner."""

from __future__ import annotations

import json
import re
import socket
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from codegrad.diff import changes
from codegrad.model import CheckResult, Finding, Kind, Severity, Target, Workspace
from codegrad.review import review
from codegrad.settings import DEFAULT_CHECKS, Settings, build
from codegrad.verify import engine
from codegrad.verify.checks.base import CheckContext
from codegrad.verify.checks.llm_checks import LLMChecksCheck
from fakes.openai_server import FakeOpenAI
from helpers_git import make_repo
from helpers_llm import local_llm_url

KEY = "sk-llm-checks-test-key-0123456789abcdef"

HEAD = '''
def double(n: int) -> int:
    """Return twice n.

    >>> double(2)
    4
    >>> double(7)
    14
    """
    if n >= 10:
        return n * 3
    return n * 2
'''

BASE = '''
def double(n: int) -> int:
    """Return twice n.

    >>> double(2)
    4
    >>> double(7)
    14
    """
    return n * 2
'''

GOOD_REFERENCE = "Sure:\n```python\ndef double(n: int) -> int:\n    return n + n\n```\n"
GOOD_TESTS = """```python
def double(n):
    return 2 * n

assert double(2) == 4
assert double(10) == 20

def prop(n, result):
    return result % 2 == 0

def precondition(n):
    return isinstance(n, int)
```"""
WRONG_REFERENCE = "```python\ndef double(n):\n    return n + 3\n```"
GARBAGE = "I am sorry, but I cannot help with that request."


def write(root: Path, source: str) -> str:
    root.mkdir(parents=True, exist_ok=True)
    text = textwrap.dedent(source).lstrip()
    (root / "mod.py").write_text(text)
    return text


def settings(fake: FakeOpenAI | None, **more: object) -> Settings:
    values: dict[str, object] = {
        "function_timeout": 8.0,
        "call_timeout": 0.5,
        "max_examples": 60,
        "llm_base_url": fake.base_url if fake else None,
        "llm_api_key": KEY,
        "llm_timeout": 10.0,
        **more,
    }
    return Settings(**values)  # type: ignore[arg-type]


def run_check(
    tmp_path: Path, config: Settings, head: str = HEAD, base: str | None = None
) -> tuple[CheckResult, list[Target]]:
    head_text = write(tmp_path / "head", head)
    targets = changes.all_functions("mod.py", head_text)
    base_root = None
    if base is not None:
        base_text = write(tmp_path / "base", base)
        base_root = tmp_path / "base"
        old = {t.qualname: t for t in changes.all_functions("mod.py", base_text)}
        targets = [
            replace(t, base_path="mod.py", base_source=old[t.qualname].source)
            for t in targets
            if t.qualname in old
        ]
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    ctx = CheckContext(
        settings=config,
        workspace=Workspace(head_root=tmp_path / "head", base_root=base_root),
        scratch=scratch,
        deadline=time.monotonic() + 120,
    )
    return LLMChecksCheck().run(targets, ctx), targets


def bugs(result: CheckResult) -> list[Finding]:
    return [f for f in result.findings if f.kind is Kind.BUG]


def bad_tests(result: CheckResult) -> list[Finding]:
    return [f for f in result.findings if f.kind is Kind.BAD_TEST]


def sent(fake: FakeOpenAI) -> list[str]:
    return [
        "\n".join(m["content"] for m in (r.body or {}).get("messages", []))
        for r in fake.completions
    ]


def test_two_agreeing_proposals_catch_a_bug_as_an_error(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(GOOD_REFERENCE)
    fake_openai.enqueue(GOOD_TESTS)
    result, _ = run_check(tmp_path, settings(fake_openai))
    [bug] = bugs(result)
    assert bug.check == "llm-checks" and bug.level is Severity.ERROR
    assert bug.input == "double(10)"  # shrunk to the smallest input where the bug shows
    assert bug.expected == "20" and bug.actual == "30"
    assert "two validated proposals agree" in bug.message
    assert bug.reproducer is not None and "assert double(10) == 20" in bug.reproducer
    assert result.checked == ("mod.py::double",)
    prompts = sent(fake_openai)
    assert len(prompts) == 2
    for prompt in prompts:  # signature and docstring only: never the body under review
        assert "Return twice n." in prompt and "n * 3" not in prompt and "n >= 10" not in prompt
    for request in fake_openai.completions:
        assert request.headers["authorization"] == f"Bearer {KEY}"


def test_one_proposal_alone_is_a_warning_and_a_case_is_corroborated_by_the_other_reference(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(GOOD_REFERENCE)
    fake_openai.enqueue(GARBAGE)  # the tests prompt gives nothing usable
    fake_openai.enqueue(GARBAGE)  # nor does the generate prompt
    result, _ = run_check(tmp_path, settings(fake_openai))
    [bug] = bugs(result)
    assert bug.level is Severity.WARNING and "not corroborated" in bug.message
    assert len(fake_openai.completions) == 3


def test_a_reference_contradicted_by_the_docstring_is_a_bad_test_not_a_bug(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(WRONG_REFERENCE)
    fake_openai.enqueue(GARBAGE)
    fake_openai.enqueue(GARBAGE)
    result, _ = run_check(tmp_path, settings(fake_openai), head=BASE)
    assert bugs(result) == []
    [note] = bad_tests(result)
    assert note.level is Severity.NOTE and note.check == "llm-checks"
    assert "contradicts the docstring example double(2)" in note.message
    assert "gives 5" in note.message


def test_a_case_contradicting_a_docstring_example_is_dropped_as_a_bad_test(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(GARBAGE)  # no reference: the tests prompt is asked next
    fake_openai.enqueue("```python\nassert double(2) == 5\nassert double(3) == 6\n```")
    fake_openai.enqueue(GARBAGE)
    result, _ = run_check(tmp_path, settings(fake_openai), head=BASE)
    assert bugs(result) == []
    [note] = bad_tests(result)
    assert "the case double(2) proposed by the tests prompt contradicts the docstring example" in (
        note.message
    )


def test_regression_a_proposal_failing_on_base_too_is_a_bad_test(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    # right on the docstring examples, wrong from 9 on: base (correct) fails it as well
    fake_openai.enqueue("```python\ndef double(n):\n    return 2 * n if n < 9 else 0\n```")
    fake_openai.enqueue("```python\nassert double(3) == 6\nassert double(4) == 9\n```")
    fake_openai.enqueue(GARBAGE)
    result, _ = run_check(tmp_path, settings(fake_openai), base=BASE)
    assert bugs(result) == []
    notes = sorted(f.message for f in bad_tests(result))
    assert len(notes) == 2
    assert notes[0].startswith(
        "the case double(4) proposed by the tests prompt fails on base as well"
    )
    assert notes[1].startswith(
        "the reference double proposed by the reference prompt fails on base"
    )
    shown = re.search(r"\(double\((\d+)\)\)", notes[1])
    assert shown and int(shown.group(1)) >= 9  # an input where base disagrees with it
    assert len(fake_openai.completions) == 3  # no usable reference: each prompt was asked once


def test_regression_base_corroborates_a_single_proposal(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(GOOD_REFERENCE)
    result, _ = run_check(tmp_path, settings(fake_openai), base=BASE)
    [bug] = bugs(result)
    assert bug.level is Severity.ERROR and bug.base_fails_same is False
    assert "base agrees with the proposal" in bug.message
    assert len(fake_openai.completions) == 1


def test_garbage_gives_no_finding_and_a_note(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    for _ in range(3):
        fake_openai.enqueue(GARBAGE)
    result, _ = run_check(tmp_path, settings(fake_openai))
    assert result.findings == ()
    assert "held no usable proposal" in result.skipped["mod.py::double"]


def test_a_reference_that_hangs_in_native_code_is_stopped_not_a_crash(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue("```python\ndef double(n):\n    return sum(range(10**15)) and 2 * n\n```")
    result, _ = run_check(tmp_path, settings(fake_openai, function_timeout=3.0))
    assert result.findings == ()
    assert "the runner was stopped" in result.skipped["mod.py::double"]


def test_an_unreachable_llm_skips_the_check_with_the_reason(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = settings(None, llm_base_url=f"http://127.0.0.1:{port}/v1")
    result, _ = run_check(tmp_path, config)
    assert result.findings == ()
    assert result.skipped["mod.py::double"].startswith("LLM unavailable: cannot reach")


def test_no_llm_configured_skips_the_check(tmp_path: Path) -> None:
    result, _ = run_check(tmp_path, settings(None, llm_api_key=None))
    assert result.findings == ()
    assert "no LLM configured" in result.skipped["mod.py::double"]


def test_a_spent_budget_stops_asking_cleanly(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(GOOD_REFERENCE)
    two = (
        HEAD
        + '\n\ndef triple(n: int) -> int:\n    """Three n.\n\n    >>> triple(1)\n    3\n    """\n    return 3 * n\n'
    )
    result, _ = run_check(tmp_path, settings(fake_openai, budget_calls=1), head=two)
    assert len(fake_openai.completions) == 1
    assert result.skipped["mod.py::triple"].startswith("LLM budget reached")
    [bug] = bugs(result)  # the first function's proposal still counts, uncorroborated
    assert bug.function == "double" and bug.level is Severity.WARNING
    assert result.stats["stopped"].startswith("LLM budget reached")


def test_the_key_never_reaches_the_sandboxed_runner(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue(GOOD_REFERENCE)
    fake_openai.enqueue(GOOD_TESTS)
    run_check(tmp_path, settings(fake_openai))
    specs = list((tmp_path / "scratch").glob("*.json"))
    assert specs, "the runner's spec and result files are in the scratch dir"
    for path in specs:
        assert KEY not in path.read_text()
    spec = next(p for p in specs if p.name.endswith(".spec.json"))
    assert json.loads(spec.read_text())["targets"][0]["proposals"]


def test_review_turns_llm_checks_on_by_default_when_an_llm_is_configured(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    assert "llm-checks" in [c.name for c in engine.make_checks(("docstrings", "llm-checks"))]
    assert "llm-checks" not in [c.name for c in engine.make_checks(DEFAULT_CHECKS)]
    repo = make_repo(tmp_path)
    repo.write("mod.py", textwrap.dedent(BASE).lstrip())
    repo.commit("base")
    repo.write("mod.py", textwrap.dedent(HEAD).lstrip())
    repo.commit("head")
    fake_openai.enqueue(GOOD_REFERENCE)
    flags = {"base": "HEAD~1", "llm_base_url": fake_openai.base_url, "budget_seconds": 120}
    outcome = review(build(repo.path, flags, env={"OPENAI_API_KEY": KEY}))
    ran = [r.check for r in outcome.evidence.results]
    assert "llm-checks" in ran and len(fake_openai.completions) == 1
    [bug] = [f for f in outcome.findings if f.check == "llm-checks" and f.kind is Kind.BUG]
    assert bug.input == "double(10)" and bug.level is Severity.ERROR  # base corroborates
    unconfigured = review(build(repo.path, {"base": "HEAD~1", "budget_seconds": 120}, env={}))
    assert "llm-checks" not in [r.check for r in unconfigured.evidence.results]


@pytest.fixture(autouse=True)
def _fresh_memory() -> None:
    """Each test starts without answers remembered from another test."""
    from codegrad.verify.checks import llm_asker

    llm_asker._ANSWERS.clear()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_local_model_raises_no_error_on_correct_code(tmp_path: Path) -> None:
    url = local_llm_url()
    if url is None:
        pytest.skip("the local LLM is not running (../shared/tools/local-llm start)")
    config = settings(None, llm_base_url=url, llm_model="local", llm_timeout=600.0)
    result, _ = run_check(tmp_path, config, head=BASE)
    assert "mod.py::double" in result.checked or "no usable proposal" in str(result.skipped)
    assert not [f for f in result.findings if f.level is Severity.ERROR], result.findings
