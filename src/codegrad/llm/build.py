"""The configured LLM: the OpenAI-compatible client, optional disk cache, usage meter and budget."""

from __future__ import annotations

import time
from collections.abc import Callable

from codegrad.llm.budget import Budget, MeteredLLM, PriceTable
from codegrad.llm.cache import CachedLLM
from codegrad.llm.protocol import LLM
from codegrad.redaction import register_secret
from codegrad.settings import Settings


def build_client(
    settings: Settings, *, sleep: Callable[[float], None] = time.sleep, max_attempts: int = 4
) -> MeteredLLM:
    """The configured LLM: OpenAI-compatible client, optional disk cache, usage meter and budget."""
    # Lazy on purpose: the openai SDK is ~60% of the CLI's import time (`python -X importtime -c
    # "import codegrad.cli"`), and a review without an LLM never needs it.
    from codegrad.llm.openai_client import OpenAIClient

    register_secret(settings.llm_api_key)
    prices = PriceTable(dict(settings.llm_prices))
    client = OpenAIClient(
        model=settings.llm_model,
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key,
        timeout=settings.llm_timeout,
        max_attempts=max_attempts,
        prices=prices,
        sleep=sleep,
    )
    inner: LLM = client
    if settings.llm_cache is not None:
        inner = CachedLLM(client, settings.llm_cache, model=settings.llm_model)
    return metered(inner, settings)


def metered(llm: LLM, settings: Settings) -> MeteredLLM:
    """Wrap any LLM in the usage meter and the settings' budget (a MeteredLLM is kept as it is)."""
    if isinstance(llm, MeteredLLM):
        return llm
    budget = Budget(
        max_calls=settings.budget_calls,
        max_tokens=settings.budget_tokens,
        max_usd=settings.budget_usd,
    )
    prices = PriceTable(dict(settings.llm_prices))
    return MeteredLLM(llm, model=settings.llm_model, budget=budget, prices=prices)
