"""Fixtures for every tier: the in-process LLM fake (the loopback HTTP fakes live in integration)."""

from __future__ import annotations

import pytest

from fakes.llm import FakeLLM


@pytest.fixture
def fake_llm() -> FakeLLM:
    """A one-method LLM that answers with what the test enqueues and records every request."""
    return FakeLLM()
