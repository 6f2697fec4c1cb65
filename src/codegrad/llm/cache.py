"""The on-disk LLM response cache: answers identical requests from JSON files, or replays offline."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

from codegrad.fileio import write_atomic
from codegrad.llm.protocol import LLM, Completion, LLMError, Messages

log = logging.getLogger("codegrad.llm")  # the LLM's log, under its name from before the split

CACHE_FORMAT = 1


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
