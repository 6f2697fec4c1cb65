"""The real openai SDK against the loopback fake: retries, errors, usage, budget, cache, secrecy."""

from __future__ import annotations

import json
import random
import socket
import time
from pathlib import Path

import pytest

from codegrad.errors import UsageError
from codegrad.llm.budget import Budget, BudgetExceeded, MeteredLLM, PriceTable
from codegrad.llm.build import build_client
from codegrad.llm.cache import CachedLLM
from codegrad.llm.openai_client import PLACEHOLDER_KEY, OpenAIClient
from codegrad.llm.protocol import LLMError
from codegrad.refine.extract import extract_function
from codegrad.settings import Settings
from fakes.openai_server import FakeOpenAI
from helpers_llm import local_llm_url

KEY = "sk-test-Secret-0123456789abcdef"
MESSAGES = [
    {"role": "system", "content": "You fix Python functions."},
    {"role": "user", "content": "def add(a, b):\n    return a - b"},
]
GOOD = "Here is the fix:\n\n```python\ndef add(a, b):\n    return a + b\n```\n"


class Sleeps:
    """Records requested waits without waiting (the retry schedule is what we test)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def client(fake: FakeOpenAI, sleeps: Sleeps | None = None, **kw: object) -> OpenAIClient:
    options: dict[str, object] = {
        "model": "gpt-4o-mini",
        "base_url": fake.base_url,
        "api_key": KEY,
        "timeout": 5.0,
        "max_attempts": 3,
        "backoff_base": 0.5,
        "sleep": sleeps if sleeps is not None else Sleeps(),
        "rng": random.Random(0),
    }
    options.update(kw)
    return OpenAIClient(**options)  # type: ignore[arg-type]


def test_good_reply_is_extracted_and_priced(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(GOOD, prompt_tokens=1000, completion_tokens=200)
    answer = client(fake_openai).complete(MESSAGES, temperature=0.0, seed=7, max_tokens=300)
    assert answer.text == GOOD
    assert (answer.prompt_tokens, answer.completion_tokens, answer.cached) == (1000, 200, False)
    assert answer.cost_usd == pytest.approx((1000 * 0.15 + 200 * 0.60) / 1e6)
    body = fake_openai.completions[0].body
    assert body is not None
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"] == MESSAGES
    assert (body["temperature"], body["seed"], body["max_tokens"]) == (0.0, 7, 300)
    assert extract_function(answer.text, "add").source == "def add(a, b):\n    return a + b\n"


def test_garbage_reply_reports_a_problem(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue("I'm sorry, as an AI I cannot see any bug here.")
    answer = client(fake_openai).complete(MESSAGES)
    result = extract_function(answer.text, "add")
    assert result.source == ""
    assert result.problem is not None and "no function named add" in result.problem


def test_truncated_reply_is_flagged(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue("```python\ndef add(a, b):\n    return (a +", finish_reason="length")
    answer = client(fake_openai).complete(MESSAGES, max_tokens=8)
    assert answer.truncated
    result = extract_function(answer.text, "add")
    assert result.problem is not None and "cut off" in result.problem


def test_429_honours_retry_after_and_counts_once(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(status=429, retry_after=2)
    fake_openai.enqueue(GOOD, prompt_tokens=10, completion_tokens=5)
    sleeps = Sleeps()
    metered = MeteredLLM(client(fake_openai, sleeps), model="gpt-4o-mini")
    answer = metered.complete(MESSAGES)
    assert answer.text == GOOD
    assert len(fake_openai.completions) == 2
    assert len(sleeps.waits) == 1 and 2.0 <= sleeps.waits[0] <= 2.5  # Retry-After plus jitter
    assert (metered.usage.calls, metered.usage.tokens) == (1, 15)


def test_429_asking_for_too_long_a_wait_gives_up(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(status=429, retry_after=3600, message="daily quota exhausted")
    with pytest.raises(LLMError, match="HTTP 429: daily quota exhausted"):
        client(fake_openai, max_wait=60).complete(MESSAGES)
    assert len(fake_openai.completions) == 1


def test_500_twice_then_success_backs_off_exponentially(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(status=500)
    fake_openai.enqueue(status=503)
    fake_openai.enqueue(GOOD)
    sleeps = Sleeps()
    answer = client(fake_openai, sleeps).complete(MESSAGES)
    assert answer.text == GOOD
    assert len(fake_openai.completions) == 3
    first, second = sleeps.waits
    assert 0.25 <= first <= 0.5 and 0.5 <= second <= 1.0  # base 0.5, doubling, equal jitter


def test_500_until_attempts_run_out_is_an_llm_error(fake_openai: FakeOpenAI) -> None:
    for _ in range(3):
        fake_openai.enqueue(status=502, message="bad gateway")
    with pytest.raises(LLMError, match=r"failed after 3 attempts .*HTTP 502: bad gateway"):
        client(fake_openai).complete(MESSAGES)
    assert len(fake_openai.completions) == 3


def test_401_is_a_usage_error_without_the_key(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(status=401, message=f"Incorrect API key provided: {KEY}")
    with pytest.raises(UsageError) as info:
        client(fake_openai).complete(MESSAGES)
    text = str(info.value)
    assert "refused the API key" in text and "HTTP 401" in text and fake_openai.base_url in text
    assert KEY not in text
    assert len(fake_openai.completions) == 1  # not retried


def test_403_is_a_usage_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(status=403, message="project has no access")
    with pytest.raises(UsageError, match="HTTP 403: project has no access"):
        client(fake_openai).complete(MESSAGES)


def test_404_names_the_model_and_url(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(status=404, message="The model `gpt-9` does not exist")
    with pytest.raises(UsageError) as info:
        client(fake_openai, model="gpt-9").complete(MESSAGES)
    assert "'gpt-9'" in str(info.value) and fake_openai.base_url in str(info.value)


def test_timeout_is_retried_then_a_clear_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(GOOD, delay=1.5)
    fake_openai.enqueue(GOOD, delay=1.5)
    started = time.monotonic()
    with pytest.raises(LLMError) as info:
        client(fake_openai, timeout=0.3, max_attempts=2).complete(MESSAGES)
    assert time.monotonic() - started < 1.5
    assert "did not answer within 0.3s (2 attempts)" in str(info.value)
    assert fake_openai.base_url in str(info.value)
    assert len(fake_openai.completions) == 2


def test_timeout_then_success(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(GOOD, delay=1.5)
    fake_openai.enqueue(GOOD)
    assert client(fake_openai, timeout=0.3).complete(MESSAGES).text == GOOD


def test_connection_refused_names_the_url() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    sleeps = Sleeps()
    llm = OpenAIClient(model="m", base_url=url, timeout=2, max_attempts=2, sleep=sleeps)
    with pytest.raises(UsageError, match=f"cannot reach the LLM endpoint {url}"):
        llm.complete(MESSAGES)
    assert len(sleeps.waits) == 1


def test_bad_url_and_missing_configuration_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="'localhost:8080' is not an http"):
        OpenAIClient(model="m", base_url="localhost:8080")
    with pytest.raises(UsageError, match="OPENAI_API_KEY"):
        OpenAIClient(model="m")


def test_keyless_local_server_gets_a_placeholder_key(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(GOOD)
    OpenAIClient(model="qwen", base_url=fake_openai.base_url).complete(MESSAGES)
    assert fake_openai.completions[0].headers["authorization"] == f"Bearer {PLACEHOLDER_KEY}"


def test_query_in_base_url_becomes_a_query_parameter(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(GOOD)
    url = fake_openai.base_url + "?api-version=2024-10-21"
    OpenAIClient(model="m", base_url=url, api_key=KEY).complete(MESSAGES)
    assert fake_openai.completions[0].path == "/v1/chat/completions?api-version=2024-10-21"


def test_reasoning_model_parameters_are_adapted(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(
        status=400,
        message="Unsupported parameter: 'max_tokens' is not supported with this model. "
        "Use 'max_completion_tokens' instead.",
    )
    fake_openai.enqueue(GOOD)
    llm = client(fake_openai, model="o3-mini")
    assert llm.complete(MESSAGES, max_tokens=50).text == GOOD
    second = fake_openai.completions[1].body
    assert second is not None
    assert "max_tokens" not in second and second["max_completion_tokens"] == 50


def test_other_400_is_an_llm_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(status=400, message="context length exceeded")
    with pytest.raises(LLMError, match="context length exceeded"):
        client(fake_openai).complete(MESSAGES)


def test_a_page_that_is_not_a_completion_is_an_llm_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(raw="<html>Welcome to nginx</html>")
    with pytest.raises(LLMError, match="did not return a chat completion"):
        client(fake_openai).complete(MESSAGES)


def test_the_fake_lists_models_to_the_sdk(fake_openai: FakeOpenAI) -> None:
    import openai

    sdk = openai.OpenAI(base_url=fake_openai.base_url, api_key=KEY, max_retries=0)
    assert [m.id for m in sdk.models.list()] == ["gpt-4o-mini"]
    assert fake_openai.history[0].method == "GET"


def test_budget_stops_before_sending(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(GOOD, prompt_tokens=10, completion_tokens=5)
    metered = MeteredLLM(client(fake_openai), model="gpt-4o-mini", budget=Budget(max_calls=1))
    metered.complete(MESSAGES)
    with pytest.raises(BudgetExceeded, match="call budget spent") as info:
        metered.complete(MESSAGES)
    assert "1 of 1" in info.value.reason
    assert len(fake_openai.completions) == 1


def test_token_and_usd_budgets(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(GOOD, prompt_tokens=900, completion_tokens=100)
    tokens = MeteredLLM(client(fake_openai), model="gpt-4o-mini", budget=Budget(max_tokens=1000))
    tokens.complete(MESSAGES)
    with pytest.raises(BudgetExceeded, match="token budget"):
        tokens.complete(MESSAGES)
    fake_openai.enqueue(GOOD, prompt_tokens=1_000_000, completion_tokens=0)
    usd = MeteredLLM(client(fake_openai), model="gpt-4o-mini", budget=Budget(max_usd=0.10))
    usd.complete(MESSAGES)  # $0.15: the first call may overshoot, the next is refused
    with pytest.raises(BudgetExceeded, match="USD budget"):
        usd.complete(MESSAGES)
    assert len(fake_openai.completions) == 2
    assert usd.usage.cost_usd == pytest.approx(0.15)


def test_unknown_model_costs_nothing_and_says_so(fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(GOOD, prompt_tokens=100, completion_tokens=10)
    metered = MeteredLLM(client(fake_openai, model="qwen2.5-coder"), model="qwen2.5-coder")
    assert metered.complete(MESSAGES).cost_usd == 0.0
    assert "no price known for qwen2.5-coder" in metered.usage.summary()
    priced = PriceTable({"qwen2.5-coder": (1.0, 2.0)})
    assert priced.cost("qwen2.5-coder", 1_000_000, 1_000_000) == 3.0
    assert PriceTable().lookup("gpt-4o-mini-2024-07-18") == (0.15, 0.60)


def test_cache_serves_the_second_request_from_disk(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    fake_openai.enqueue(GOOD, prompt_tokens=100, completion_tokens=20)
    cached = CachedLLM(client(fake_openai), tmp_path / "cache")
    metered = MeteredLLM(cached, model="gpt-4o-mini")
    first = metered.complete(MESSAGES, seed=1)
    second = metered.complete(MESSAGES, seed=1)
    assert not first.cached and second.cached
    assert second.text == first.text and second.cost_usd == 0.0
    assert len(fake_openai.completions) == 1
    usage = metered.usage
    assert (usage.calls, usage.cached_calls, usage.tokens) == (2, 1, 240)
    assert usage.cost_usd == pytest.approx(first.cost_usd)  # money: only the real call
    assert usage.notional_usd == pytest.approx(2 * first.cost_usd)  # budget: both
    files = list((tmp_path / "cache").rglob("*.json"))
    assert len(files) == 1 and not list((tmp_path / "cache").rglob("*.tmp"))
    # a different seed is a different request
    fake_openai.enqueue("other")
    assert metered.complete(MESSAGES, seed=2).text == "other"
    assert len(fake_openai.completions) == 2


def test_cache_replays_offline(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    fake_openai.enqueue(GOOD)
    CachedLLM(client(fake_openai), tmp_path).complete(MESSAGES)
    fake_openai.stop()  # no server any more
    replay = CachedLLM(None, tmp_path, model="gpt-4o-mini")
    assert replay.complete(MESSAGES).text == GOOD
    with pytest.raises(LLMError, match="no cached answer"):
        replay.complete([{"role": "user", "content": "something new"}])


def test_corrupt_cache_entry_is_a_miss(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    fake_openai.enqueue(GOOD)
    fake_openai.enqueue("fresh")
    cached = CachedLLM(client(fake_openai), tmp_path)
    cached.complete(MESSAGES)
    (entry,) = tmp_path.rglob("*.json")
    entry.write_text("{not json")
    assert cached.complete(MESSAGES).text == "fresh"
    assert json.loads(entry.read_text())["response"]["text"] == "fresh"


def test_key_goes_only_to_the_endpoint(
    fake_openai: FakeOpenAI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake_openai.enqueue(status=500)
    fake_openai.enqueue(GOOD)
    fake_openai.enqueue(status=401, message=f"bad key {KEY}")
    settings = Settings(
        llm_base_url=fake_openai.base_url,
        llm_api_key=KEY,
        llm_model="gpt-4o-mini",
        llm_cache=tmp_path / "cache",
        llm_timeout=5.0,
    )
    caplog.set_level("DEBUG")
    llm = build_client(settings, sleep=Sleeps())
    llm.complete(MESSAGES)
    with pytest.raises(UsageError) as info:
        llm.complete([{"role": "user", "content": "again"}])
    assert [r.headers["authorization"] for r in fake_openai.completions] == [f"Bearer {KEY}"] * 3
    assert all(KEY not in json.dumps(r.body) for r in fake_openai.completions)
    assert KEY not in str(info.value) and KEY not in repr(llm.inner) and KEY not in repr(settings)
    assert KEY not in caplog.text
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text()
    # the key is registered with the sandbox's redactor, so child output never shows it
    from codegrad.redaction import redact

    assert redact(f"echo {KEY}") == "echo ***"


def test_build_client_wires_budget_and_cache(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    fake_openai.enqueue(GOOD)
    settings = Settings(
        llm_base_url=fake_openai.base_url, llm_cache=tmp_path, budget_calls=2, llm_model="m"
    )
    llm = build_client(settings)
    assert llm.complete(MESSAGES).text == GOOD
    assert llm.complete(MESSAGES).cached
    with pytest.raises(BudgetExceeded):
        llm.complete(MESSAGES)
    assert len(fake_openai.completions) == 1


@pytest.mark.slow
def test_local_model_applies_the_update_prompt() -> None:
    url = local_llm_url()
    if url is None:
        pytest.skip("the local LLM is not running (../shared/tools/local-llm start)")
    from codegrad.llm import prompts
    from codegrad.model import Target
    from codegrad.refine.patch import validate_candidate

    source = (
        'def add(a: int, b: int) -> int:\n    """Return the sum of a and b."""\n    return a - b\n'
    )
    target = Target(path="calc.py", qualname="add", lineno=1, end_lineno=3, source=source)
    messages = prompts.update(
        target,
        evidence="docstrings: add(2, 3) expected 5, got -1 (line 3: return a - b)",
        feedback="1. Correctness: line 3 subtracts; the sum needs addition.",
    )
    llm = OpenAIClient(model="local", base_url=url, timeout=300, max_attempts=1)
    answer = llm.complete(messages, max_tokens=200)
    result = extract_function(answer.text, "add")
    assert result.problem is None, answer.text
    assert validate_candidate(target, source, result.source) is None, answer.text
    assert "a + b" in result.source, answer.text
