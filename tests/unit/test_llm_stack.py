"""The LLM wrappers over the in-process fake: the budget stops calls, the cache replays offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegrad.llm.budget import BudgetExceeded
from codegrad.llm.build import metered
from codegrad.llm.cache import CachedLLM
from codegrad.llm.protocol import LLMError
from codegrad.settings import build
from fakes.llm import FakeLLM

ASK = [{"role": "user", "content": "write add(a, b)"}]


def settings(tmp_path: Path, **flags: object):  # type: ignore[no-untyped-def]
    return build(tmp_path, dict(flags), env={})


def test_the_budget_stops_the_call_after_the_last_allowed_one(
    tmp_path: Path, fake_llm: FakeLLM
) -> None:
    fake = fake_llm.enqueue("def add(a, b):\n    return a + b", "unused")
    llm = metered(fake, settings(tmp_path, budget_calls=1))
    assert "return a + b" in llm.complete(ASK).text
    with pytest.raises(BudgetExceeded):
        llm.complete(ASK)
    assert len(fake.history) == 1  # the refused call never reached the model
    assert llm.usage.calls == 1


def test_the_cache_answers_a_repeated_request_without_the_model(tmp_path: Path) -> None:
    fake = FakeLLM().enqueue("first answer")
    cached = CachedLLM(fake, tmp_path / "cache", model="fake")
    assert cached.complete(ASK).text == "first answer"
    again = cached.complete(ASK)
    assert again.text == "first answer" and again.cached
    assert len(fake.history) == 1
    offline = CachedLLM(None, tmp_path / "cache", model="fake")
    assert offline.complete(ASK).text == "first answer"


def test_an_enqueued_error_is_raised_like_an_endpoint_failure() -> None:
    fake = FakeLLM().enqueue(LLMError("HTTP 503 from the endpoint"))
    with pytest.raises(LLMError, match="503"):
        fake.complete(ASK)
