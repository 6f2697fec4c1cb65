"""The LLM behind a one-method protocol: the answer it gives, and the error when it cannot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

Messages = Sequence[Mapping[str, str]]


class LLMError(Exception):
    """The endpoint could not give an answer (after retries); the loop stops refining, the review goes on."""


class LLMUnavailable(LLMError):
    """The endpoint cannot serve this run at all (unreachable, failing after every retry, timing
    out, refusing the key or the model): stop asking it; the verification stands without it."""


@dataclass(frozen=True)
class Completion:
    """One answer: its text, what it cost, and whether it came from the on-disk cache."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float  # money actually spent on this answer: 0.0 for a cache hit
    cached: bool
    model: str
    truncated: bool = False  # the server stopped at max_tokens (finish_reason "length")

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class LLM(Protocol):
    """Anything that answers a chat: the OpenAI client, the cache, the meter, a test fake."""

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        temperature: float = 0.0,
        seed: int | None = None,
        max_tokens: int = 1024,
    ) -> Completion: ...
