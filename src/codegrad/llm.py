"""The LLM behind a one-method protocol: OpenAI-compatible client, retries, usage, budget, cache."""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import os
import random
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import openai

from codegrad.errors import UsageError
from codegrad.sandbox import redact, register_secret
from codegrad.settings import Settings

log = logging.getLogger(__name__)

Messages = Sequence[Mapping[str, str]]

# The SDK insists on a key; llama.cpp, Ollama and vLLM accept any, so a keyless base URL gets this.
PLACEHOLDER_KEY = "sk-no-key"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
CACHE_FORMAT = 1
RETRY_STATUS = (408, 409, 429)  # plus every 5xx, as the SDK's own retry rule
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


class LLMError(Exception):
    """The endpoint could not give an answer (after retries); the loop stops refining, the review goes on."""


class BudgetExceeded(Exception):
    """The next call would go over the configured budget; raised before anything is sent."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


# --------------------------------------------------------------------------- prices and usage


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


# --------------------------------------------------------------------------- the HTTP client


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


# --------------------------------------------------------------------------- the on-disk cache


def cache_key(
    model: str, messages: Messages, temperature: float, seed: int | None, max_tokens: int
) -> str:
    """sha256 over everything that determines an answer (not the endpoint, not the key)."""
    payload = {
        "format": CACHE_FORMAT,
        "model": model,
        "messages": [dict(m) for m in messages],
        "temperature": temperature,
        "seed": seed,
        "max_tokens": max_tokens,
    }
    raw = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def write_atomic(path: Path, text: str) -> None:
    """Write text to path so that readers see the old file or the whole new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class CachedLLM:
    """Answers identical requests from JSON files on disk; with inner=None it replays offline only.

    Samples at temperature > 0 are cached too: callers that want distinct samples pass distinct seeds.
    """

    def __init__(self, inner: LLM | None, cache_dir: Path, *, model: str | None = None) -> None:
        self.inner = inner
        self.cache_dir = Path(cache_dir)
        self.model = model if model is not None else str(getattr(inner, "model", ""))

    def path_for(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.json"

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        temperature: float = 0.0,
        seed: int | None = None,
        max_tokens: int = 1024,
    ) -> Completion:
        key = cache_key(self.model, messages, temperature, seed, max_tokens)
        path = self.path_for(key)
        hit = self._read(path)
        if hit is not None:
            return hit
        if self.inner is None:
            raise LLMError(
                f"no cached answer for this request in {self.cache_dir} (offline replay); "
                "run once with an LLM endpoint to record it"
            )
        completion = self.inner.complete(
            messages, temperature=temperature, seed=seed, max_tokens=max_tokens
        )
        record = {
            "format": CACHE_FORMAT,
            "model": self.model,
            "request": {
                "messages": messages,
                "temperature": temperature,
                "seed": seed,
                "max_tokens": max_tokens,
            },
            "response": {
                "text": completion.text,
                "prompt_tokens": completion.prompt_tokens,
                "completion_tokens": completion.completion_tokens,
                "cost_usd": completion.cost_usd,
                "truncated": completion.truncated,
                "model": completion.model,
            },
            "created": int(time.time()),
        }
        try:
            write_atomic(path, json.dumps(record, indent=1, ensure_ascii=False))
        except OSError as exc:
            log.warning("LLM cache: could not write %s (%s); continuing without it", path, exc)
        return completion

    def _read(self, path: Path) -> Completion | None:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            response = record["response"]
            return Completion(
                text=str(response["text"]),
                prompt_tokens=int(response["prompt_tokens"]),
                completion_tokens=int(response["completion_tokens"]),
                cost_usd=0.0,
                cached=True,
                model=str(response.get("model", self.model)),
                truncated=bool(response.get("truncated", False)),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("LLM cache: ignoring unreadable entry %s (%s)", path, exc)
            return None


# --------------------------------------------------------------------------- wiring


def build_client(
    settings: Settings, *, sleep: Callable[[float], None] = time.sleep, max_attempts: int = 4
) -> MeteredLLM:
    """The configured LLM: OpenAI-compatible client, optional disk cache, usage meter and budget."""
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
    budget = Budget(
        max_calls=settings.budget_calls,
        max_tokens=settings.budget_tokens,
        max_usd=settings.budget_usd,
    )
    return MeteredLLM(inner, model=settings.llm_model, budget=budget, prices=prices)
