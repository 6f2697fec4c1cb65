"""An in-process LLM for tests (as simonw/llm's MockModel): `enqueue` replies, read `history`."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from codegrad.llm.protocol import Completion, LLMError


@dataclass
class FakeLLM:
    """Answers each `complete` with the next enqueued reply; an enqueued LLMError is raised."""

    model: str = "fake"
    history: list[list[dict[str, str]]] = field(default_factory=list)
    _replies: deque[str | LLMError] = field(default_factory=deque)

    def enqueue(self, *replies: str | LLMError) -> FakeLLM:
        self._replies.extend(replies)
        return self

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        temperature: float = 0.0,
        seed: int | None = None,
        max_tokens: int = 1024,
    ) -> Completion:
        self.history.append([dict(m) for m in messages])
        if not self._replies:
            raise AssertionError(f"FakeLLM: no reply enqueued for call {len(self.history)}")
        reply = self._replies.popleft()
        if isinstance(reply, LLMError):
            raise reply
        prompt = sum(len(m.get("content", "")) for m in messages) // 4
        return Completion(
            text=reply,
            prompt_tokens=prompt,
            completion_tokens=len(reply) // 4,
            cost_usd=0.0,
            cached=False,
            model=self.model,
        )
