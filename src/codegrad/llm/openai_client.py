"""The OpenAI-compatible client over the openai SDK: bounded retries, backoff, clear errors."""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import openai

from codegrad.errors import UsageError
from codegrad.llm.budget import CHARS_PER_TOKEN, PriceTable, estimate_tokens
from codegrad.llm.protocol import Completion, LLMError
from codegrad.redaction import redact, register_secret

log = logging.getLogger("codegrad.llm")  # the LLM's log, under its name from before the split

# The SDK insists on a key; llama.cpp, Ollama and vLLM accept any, so a keyless base URL gets this.
PLACEHOLDER_KEY = "sk-no-key"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
RETRY_STATUS = (408, 409, 429)  # plus every 5xx, as the SDK's own retry rule


def split_base_url(base_url: str) -> tuple[str, dict[str, str]]:
    """Validate a base URL; move its query (Azure's ?api-version=...) into default query params."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            f"LLM base URL {base_url!r} is not an http(s) URL; give one like "
            "http://127.0.0.1:8080/v1 or https://api.openai.com/v1"
        )
    query = dict(parse_qsl(parts.query))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), query


def retry_after(exc: openai.APIStatusError) -> float | None:
    """Seconds the server asked us to wait (Retry-After / retry-after-ms), or None."""
    headers = exc.response.headers
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with equal jitter: half fixed, half random, never over cap."""
    delay = min(cap, base * 2.0 ** (attempt - 1))
    return delay / 2 + rng.uniform(0, delay / 2)


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return exc.message


class OpenAIClient:
    """Chat completions over the real openai SDK, with our own bounded retries and clear errors.

    Works with OpenAI, Azure OpenAI's v1 API (base URL https://RESOURCE.openai.azure.com/openai/v1/;
    a query such as ?api-version=... in the base URL is sent with every request), and local
    servers (llama.cpp, Ollama, vLLM), which get a placeholder key when none is set.
    """

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_attempts: int = 4,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        max_wait: float = 120.0,
        prices: PriceTable | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not model:
            raise UsageError("no LLM model given; set llm-model (e.g. gpt-4o-mini)")
        query: dict[str, str] = {}
        if base_url:
            base_url, query = split_base_url(base_url)
        elif not api_key:
            raise UsageError(
                "no LLM configured: set OPENAI_API_KEY (or CODEGRAD_LLM_API_KEY), "
                "or give an OpenAI-compatible endpoint with llm-base-url / OPENAI_BASE_URL"
            )
        register_secret(api_key)
        self.model = model
        self.base_url = base_url or DEFAULT_BASE_URL
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_wait = max_wait
        self.prices = prices or PriceTable()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._dropped: set[str] = set()  # parameters this model rejected (reasoning models)
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key or PLACEHOLDER_KEY,
            timeout=timeout,
            max_retries=0,
            default_query=query or None,
        )

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIClient(model={self.model!r}, base_url={self.base_url!r})"

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        temperature: float = 0.0,
        seed: int | None = None,
        max_tokens: int = 1024,
    ) -> Completion:
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._once(
                    messages, temperature=temperature, seed=seed, max_tokens=max_tokens
                )
            except openai.BadRequestError as exc:
                if self._adapt(exc):
                    attempt -= 1  # a parameter the model does not take: not a failed attempt
                    continue
                raise LLMError(self._describe(exc, "rejected the request")) from None
            except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
                raise UsageError(
                    f"the LLM endpoint {self.base_url} refused the API key (HTTP {exc.status_code}: "
                    f"{redact(_server_message(exc))}); check OPENAI_API_KEY / CODEGRAD_LLM_API_KEY"
                ) from None
            except openai.NotFoundError as exc:
                raise UsageError(
                    f"the LLM endpoint {self.base_url} does not serve model {self.model!r} "
                    f"(HTTP 404: {redact(_server_message(exc))}); check llm-model and llm-base-url"
                ) from None
            except openai.APIStatusError as exc:
                retryable = exc.status_code in RETRY_STATUS or exc.status_code >= 500
                if not retryable:
                    raise LLMError(self._describe(exc, "failed")) from None
                wait = self._wait(exc, attempt)
                if attempt >= self.max_attempts or wait is None:
                    raise LLMError(
                        self._describe(exc, f"failed after {attempt} attempts")
                    ) from None
                self._retrying(f"HTTP {exc.status_code}", attempt, wait)
            except openai.APITimeoutError:
                if attempt >= self.max_attempts:
                    raise LLMError(
                        f"the LLM endpoint {self.base_url} did not answer within {self.timeout:g}s "
                        f"({attempt} attempts); raise llm-timeout or check the server"
                    ) from None
                self._retrying("timeout", attempt, self._backoff(attempt))
            except openai.APIConnectionError as exc:
                if attempt >= self.max_attempts:
                    cause = redact(str(exc.__cause__ or exc))
                    raise UsageError(
                        f"cannot reach the LLM endpoint {self.base_url} ({cause}; {attempt} attempts); "
                        "check llm-base-url / OPENAI_BASE_URL and that the server is running"
                    ) from None
                self._retrying("connection error", attempt, self._backoff(attempt))
            except openai.OpenAIError as exc:  # e.g. a reply that is not a chat completion
                raise LLMError(
                    f"the LLM endpoint {self.base_url} gave an unusable answer for model "
                    f"{self.model!r}: {redact(str(exc))}"
                ) from None

    def _once(
        self,
        messages: list[dict[str, str]],
        *,
        temperature: float,
        seed: int | None,
        max_tokens: int,
    ) -> Completion:
        params: dict[str, Any] = {"temperature": temperature, "max_tokens": max_tokens}
        if seed is not None:
            params["seed"] = seed
        if "max_tokens" in self._dropped:
            params["max_completion_tokens"] = params.pop("max_tokens")
        for name in self._dropped - {"max_tokens"}:
            params.pop(name, None)
        response = self._client.chat.completions.create(
            model=self.model,
            messages=messages,  # type: ignore[arg-type]
            **params,
        )
        if not hasattr(response, "choices"):  # a 200 that is not JSON (a proxy's HTML page)
            raise LLMError(
                f"the LLM endpoint {self.base_url} did not return a chat completion; "
                "is llm-base-url the API root (usually ending in /v1)?"
            )
        choice = response.choices[0] if response.choices else None
        text = (choice.message.content if choice else None) or ""
        usage = response.usage
        prompt = usage.prompt_tokens if usage else estimate_tokens(messages)
        completion = usage.completion_tokens if usage else len(text) // CHARS_PER_TOKEN + 1
        return Completion(
            text=text,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=self.prices.cost(self.model, prompt, completion),
            cached=False,
            model=self.model,
            truncated=bool(choice and choice.finish_reason == "length"),
        )

    def _adapt(self, exc: openai.BadRequestError) -> bool:
        """Reasoning models reject max_tokens / temperature / seed; drop them once and retry."""
        message = _server_message(exc)
        for name in ("max_tokens", "temperature", "seed"):
            if name not in self._dropped and f"'{name}'" in message and "support" in message:
                self._dropped.add(name)
                log.info("LLM: model %s does not take %s; retrying without it", self.model, name)
                return True
        return False

    def _wait(self, exc: openai.APIStatusError, attempt: int) -> float | None:
        """How long to wait before retrying; None when the server asks for longer than max_wait."""
        asked = retry_after(exc)
        if asked is None:
            return self._backoff(attempt)
        if asked > self.max_wait:
            return None
        return asked + self._rng.uniform(0, min(1.0, self.backoff_base))

    def _backoff(self, attempt: int) -> float:
        return backoff(attempt, base=self.backoff_base, cap=self.backoff_max, rng=self._rng)

    def _retrying(self, why: str, attempt: int, wait: float) -> None:
        log.warning(
            "LLM: %s from %s; retrying in %.1fs (attempt %d of %d)",
            why,
            self.base_url,
            wait,
            attempt + 1,
            self.max_attempts,
        )
        self._sleep(wait)

    def _describe(self, exc: openai.APIStatusError, what: str) -> str:
        return (
            f"the LLM endpoint {self.base_url} {what} for model {self.model!r} "
            f"(HTTP {exc.status_code}: {redact(_server_message(exc))})"
        )
