"""A loopback OpenAI-compatible chat server with scripted replies, for testing the real SDK over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_api_key",
    403: "permission_denied",
    404: "model_not_found",
    429: "rate_limit_exceeded",
}


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a completion (status 200) or an error status, after an optional delay."""

    text: str = ""
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str = "stop"
    message: str | None = None  # error message for status != 200
    raw: str | None = None  # send this body verbatim (as text/html) instead of JSON


@dataclass(frozen=True)
class Request:
    """What the fake received: method, path, headers (lower-cased names) and the JSON body."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    raw: bytes = b""


class FakeOpenAI:
    """Serves POST /v1/chat/completions from a queue of replies and GET /v1/models; records requests."""

    def __init__(self, models: tuple[str, ...] = ("gpt-4o-mini",)) -> None:
        self.models = models
        self.replies: deque[Reply] = deque()
        self.history: list[Request] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting

    def enqueue(
        self,
        text: str = "",
        *,
        status: int = 200,
        delay: float = 0.0,
        retry_after: float | str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        finish_reason: str = "stop",
        message: str | None = None,
        raw: str | None = None,
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        reply = Reply(
            text,
            status,
            delay,
            headers,
            prompt_tokens,
            completion_tokens,
            finish_reason,
            message,
            raw,
        )
        with self._lock:
            self.replies.append(reply)

    @property
    def completions(self) -> list[Request]:
        return [r for r in self.history if r.path.split("?")[0].endswith("/chat/completions")]

    # -- lifecycle

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the fake first"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAI:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        server.block_on_close = False  # a handler still sleeping out a delay must not block close
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.02,), name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour

    def _record(self, request: Request) -> None:
        with self._lock:
            self.history.append(request)

    def _next(self) -> Reply:
        with self._lock:
            if self.replies:
                return self.replies.popleft()
        return Reply(status=418, message="the fake has no reply enqueued")

    def answer(
        self, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, str], dict[str, Any] | str]:
        reply = self._next()
        if reply.delay:
            time.sleep(reply.delay)
        if reply.raw is not None:
            return reply.status, reply.headers, reply.raw
        if reply.status != 200:
            error = {
                "message": reply.message or f"fake error {reply.status}",
                "type": ERROR_TYPES.get(reply.status, "server_error"),
                "code": ERROR_TYPES.get(reply.status),
            }
            return reply.status, reply.headers, {"error": error}
        messages = (body or {}).get("messages", [])
        prompt = reply.prompt_tokens
        if prompt is None:
            prompt = sum(len(str(m.get("content", ""))) for m in messages) // 4 + 1
        completion = reply.completion_tokens
        if completion is None:
            completion = len(reply.text) // 4 + 1
        payload = {
            "id": f"chatcmpl-fake-{len(self.history)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": (body or {}).get("model", "unknown"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.text},
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }
        return 200, reply.headers, payload

    def models_payload(self) -> dict[str, Any]:
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models]
        return {"object": "list", "data": data}


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _send(
            self, status: int, headers: dict[str, str], payload: dict[str, Any] | str
        ) -> None:
            raw = isinstance(payload, str)
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/html" if raw else "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout); nothing to do

        def _request(self, body: bytes) -> Request:
            parsed: dict[str, Any] | None
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = None
            headers = {k.lower(): v for k, v in self.headers.items()}
            return Request(self.command, self.path, headers, parsed, body)

        def do_GET(self) -> None:
            fake._record(self._request(b""))
            if self.path.split("?")[0].rstrip("/").endswith("/models"):
                self._send(200, {}, fake.models_payload())
            else:
                self._send(404, {}, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = self._request(self.rfile.read(length))
            fake._record(request)
            if not self.path.split("?")[0].endswith("/chat/completions"):
                self._send(404, {}, {"error": {"message": f"no route {self.path}"}})
                return
            self._send(*fake.answer(request.body))

    return Handler


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A running FakeOpenAI on 127.0.0.1 (a free port), stopped after the test."""
    with FakeOpenAI() as server:
        yield server
