"""llm-checks I/O with the LLM: the client from the settings, one call per distinct request."""

from __future__ import annotations

import hashlib
import json

from codegrad.errors import UsageError
from codegrad.llm.budget import BudgetExceeded
from codegrad.llm.build import build_client
from codegrad.llm.protocol import LLM, LLMError, LLMUnavailable
from codegrad.model import LLM_OUTAGE
from codegrad.settings import Settings
from codegrad.verify.checks import llm_proposals as lp

_MEMO_LIMIT = 512

# Tests (or a harness) may set this to answer instead of the configured endpoint.
client_override: LLM | None = None
_ANSWERS: dict[str, str] = {}  # request hash -> answer text, for this process


def _request_key(model: str, messages: list[dict[str, str]]) -> str:
    raw = json.dumps([model, messages], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class Asker:
    """Asks the LLM (once per distinct request in this process); remembers why it stopped."""

    def __init__(self, client: LLM, model: str) -> None:
        self.client = client
        self.model = model
        self.stopped: str | None = None
        self.calls = 0  # requests answered by the client (its disk cache included)
        self.cached = 0
        self.failures: list[str] = []

    def ask(self, origin: str, subject: lp.Subject) -> lp.Proposal | str:
        """The parsed proposal, or why there is none."""
        if self.stopped:
            return self.stopped
        messages = lp.messages_for(origin, subject)
        key = _request_key(self.model, messages)
        text = _ANSWERS.get(key)
        if text is None:
            try:
                completion = self.client.complete(
                    messages, temperature=0.0, max_tokens=lp.MAX_TOKENS
                )
            except BudgetExceeded as exc:
                self.stopped = f"LLM budget reached: {exc.reason}"
                return self.stopped
            except LLMUnavailable as exc:
                self.stopped = f"{LLM_OUTAGE}: {exc}"
                return self.stopped
            except LLMError as exc:
                self.failures.append(str(exc))
                return f"LLM error: {exc}"
            self.calls += 1
            self.cached += int(completion.cached)
            text = completion.text
            if len(_ANSWERS) >= _MEMO_LIMIT:
                _ANSWERS.pop(next(iter(_ANSWERS)))
            _ANSWERS[key] = text
        return lp.parse_answer(text, subject, origin)


def make_client(settings: Settings) -> LLM | str:
    """The client to ask, or why there is none."""
    if client_override is not None:
        return client_override
    if not settings.llm_configured:
        return "no LLM configured (set OPENAI_API_KEY or --llm-base-url)"
    try:
        return build_client(settings, max_attempts=2)
    except UsageError as exc:
        return f"{LLM_OUTAGE}: {exc}"
