"""LLM usage metering: token and USD accounting per model, and a budget checked before each call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from codegrad.llm.protocol import LLM, Completion, Messages

CHARS_PER_TOKEN = (
    4  # rough estimate, only used when a server reports no usage or for budget look-ahead
)

# USD per 1M tokens (input, output), list prices as of mid-2025. Override with `llm-prices`
# in [tool.codegrad]; a dated snapshot (gpt-4o-mini-2024-07-18) matches its family by prefix.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o1": (15.00, 60.00),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
}


class BudgetExceeded(Exception):
    """The next call would go over the configured budget; raised before anything is sent."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PriceTable:
    """USD per 1M input/output tokens per model; overrides win; unknown models cost 0."""

    overrides: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def lookup(self, model: str) -> tuple[float, float] | None:
        for table in (self.overrides, PRICES):
            if model in table:
                return table[model]
        for table in (self.overrides, PRICES):
            family = [name for name in table if model.startswith(name + "-")]
            if family:
                return table[max(family, key=len)]
        return None

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        price = self.lookup(model)
        if price is None:
            return 0.0
        return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000


@dataclass
class Usage:
    """Running totals over all calls. Cache hits count as calls and tokens, never as money spent.

    `calls`, the token counts and `notional_usd` describe the work the loop consumed, whether it
    came from the endpoint or from the cache, so a replay from the cache follows the same path
    and stops at the same budget as the recorded run. `cost_usd` is the money actually spent.
    """

    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    notional_usd: float = 0.0
    unpriced_models: set[str] = field(default_factory=set)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, completion: Completion, prices: PriceTable) -> None:
        self.calls += 1
        self.cached_calls += int(completion.cached)
        self.prompt_tokens += completion.prompt_tokens
        self.completion_tokens += completion.completion_tokens
        self.cost_usd += completion.cost_usd
        self.notional_usd += prices.cost(
            completion.model, completion.prompt_tokens, completion.completion_tokens
        )
        if prices.lookup(completion.model) is None:
            self.unpriced_models.add(completion.model)

    def summary(self) -> str:
        cached = f" ({self.cached_calls} from cache)" if self.cached_calls else ""
        text = (
            f"{self.calls} LLM call{'s' if self.calls != 1 else ''}{cached}, "
            f"{self.tokens:,} tokens ({self.prompt_tokens:,} in, {self.completion_tokens:,} out), "
            f"${self.cost_usd:.4f}"
        )
        if self.unpriced_models:
            names = ", ".join(sorted(self.unpriced_models))
            text += (
                f"; no price known for {names} (counted as $0; set llm-prices in [tool.codegrad])"
            )
        return text


@dataclass(frozen=True)
class Budget:
    """Upper bounds on calls, tokens and USD; None means unbounded."""

    max_calls: int | None = None
    max_tokens: int | None = None
    max_usd: float | None = None

    def check(self, usage: Usage, *, next_prompt_tokens: int = 0, price: float = 0.0) -> None:
        """Raise BudgetExceeded if one more call (with about this many prompt tokens) would exceed it."""
        if self.max_calls is not None and usage.calls + 1 > self.max_calls:
            raise BudgetExceeded(f"call budget spent ({usage.calls} of {self.max_calls} calls)")
        if self.max_tokens is not None and usage.tokens + next_prompt_tokens > self.max_tokens:
            raise BudgetExceeded(
                f"token budget spent ({usage.tokens:,} used, the next prompt needs about "
                f"{next_prompt_tokens:,}; limit {self.max_tokens:,})"
            )
        if self.max_usd is not None and usage.notional_usd + price > self.max_usd:
            raise BudgetExceeded(
                f"USD budget spent (${usage.notional_usd:.4f} used; limit ${self.max_usd:.4f})"
            )


def estimate_tokens(messages: Messages) -> int:
    """A rough prompt size in tokens (about 4 characters each), for look-ahead only."""
    chars = sum(len(m.get("content", "")) + 8 for m in messages)
    return chars // CHARS_PER_TOKEN + 1


class MeteredLLM:
    """Counts every call in a Usage and refuses a call the Budget does not allow."""

    def __init__(
        self,
        inner: LLM,
        *,
        model: str,
        budget: Budget | None = None,
        prices: PriceTable | None = None,
        usage: Usage | None = None,
    ) -> None:
        self.inner = inner
        self.model = model
        self.budget = budget or Budget()
        self.prices = prices or PriceTable()
        self.usage = usage if usage is not None else Usage()

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        temperature: float = 0.0,
        seed: int | None = None,
        max_tokens: int = 1024,
    ) -> Completion:
        ahead = estimate_tokens(messages)
        self.budget.check(
            self.usage, next_prompt_tokens=ahead, price=self.prices.cost(self.model, ahead, 0)
        )
        completion = self.inner.complete(
            messages, temperature=temperature, seed=seed, max_tokens=max_tokens
        )
        self.usage.add(completion, self.prices)
        return completion
