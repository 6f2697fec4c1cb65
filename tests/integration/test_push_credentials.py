"""The auto-fix push authenticates with the token input, never with a header the checkout saved."""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from codegrad.github import botgit
from codegrad.github.botgit import push_env
from helpers_git import GitRepo, make_repo


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[list[str]]] = []

    def do_GET(self) -> None:
        _Recorder.seen.append(self.headers.get_all("Authorization") or [])
        self.send_response(403)  # enough: git has sent its headers
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Recorder.seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _basic(token: str) -> str:
    return "basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()


def _checkout(tmp_path: Path, url: str) -> GitRepo:
    """A checkout as actions/checkout leaves it with persist-credentials: the token saved as headers
    (for the server, and a more specific one for the repository's own URL)."""
    repo = make_repo(tmp_path, "ws")
    repo.write("a.py", "x = 1\n")
    repo.commit("base")
    repo.git("remote", "add", "origin", f"{url}/o/r")
    repo.git(
        "config", f"http.{url}/.extraheader", f"AUTHORIZATION: {_basic('ghs_saved_in_checkout1')}"
    )
    repo.git(
        "config",
        "--add",
        f"http.{url}/o/r.extraheader",
        f"AUTHORIZATION: {_basic('ghs_saved_in_checkout2')}",
    )
    return repo


def test_the_push_sends_the_token_input_and_not_the_saved_headers(
    tmp_path: Path, server: str
) -> None:
    repo = _checkout(tmp_path, server)
    proc = botgit.git(
        repo.path,
        "push",
        "origin",
        "HEAD:refs/heads/x",
        env=push_env(repo.path, "ghs_from_the_input", server),
    )
    assert proc.returncode != 0  # the recorder refuses; what matters is what git sent
    assert _Recorder.seen, proc.stderr
    for headers in _Recorder.seen:
        assert headers == [_basic("ghs_from_the_input")], headers


def test_without_a_token_input_no_saved_credential_is_sent(tmp_path: Path, server: str) -> None:
    repo = _checkout(tmp_path, server)
    botgit.git(
        repo.path, "push", "origin", "HEAD:refs/heads/x", env=push_env(repo.path, "", server)
    )
    assert _Recorder.seen and all(headers == [] for headers in _Recorder.seen)


def test_control_git_alone_sends_the_saved_headers(tmp_path: Path, server: str) -> None:
    repo = _checkout(tmp_path, server)
    botgit.git(repo.path, "push", "origin", "HEAD:refs/heads/x")
    assert _Recorder.seen and _basic("ghs_saved_in_checkout1") in _Recorder.seen[0]
