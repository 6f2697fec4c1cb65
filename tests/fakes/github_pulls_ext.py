"""The loopback GitHub fake plus the pull-request endpoints hardening uses: list, create, edit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fakes.github_server import FakeGitHub, Identity

Answer = tuple[int, Any, dict[str, str]]


class FakeGitHubPulls(FakeGitHub):
    """FakeGitHub that can also list open pull requests, open one from a branch and edit one.

    `resolve_branch(repo, branch)` gives the sha a branch points at (None when it does not exist),
    e.g. read from a real bare remote; GitHub refuses a pull request from a missing branch."""

    def __init__(self, resolve_branch: Callable[[str, str], str | None] | None = None) -> None:
        super().__init__()
        self.resolve_branch = resolve_branch or (lambda repo, branch: None)

    def close_pull(self, repo: str, number: int) -> None:
        self.pulls[(repo, number)]["state"] = "closed"

    def open_pulls(self, repo: str) -> list[dict[str, Any]]:
        return [
            p for (full, _), p in sorted(self.pulls.items()) if full == repo and _state(p) == "open"
        ]

    def _routes(self) -> list[tuple[str, str, Callable[..., Answer]]]:
        repo = r"/repos/([^/]+/[^/]+)"
        return [
            ("GET", rf"{repo}/pulls", self._list_pulls),
            ("POST", rf"{repo}/pulls", self._create_pull),
            ("PATCH", rf"{repo}/pulls/(\d+)", self._edit_pull),
            *super()._routes(),
        ]

    def _pull_json(self, full: str, pull: dict[str, Any]) -> dict[str, Any]:
        data = super()._pull_json(full, pull)
        data.update(
            state=_state(pull), title=pull.get("title", data["title"]), body=pull.get("body", "")
        )
        return data

    def _list_pulls(self, who: Identity, body: Any, full: str) -> Answer:
        return 200, [self._pull_json(full, p) for p in self.open_pulls(full)], {}

    def _create_pull(self, who: Identity, body: Any, full: str) -> Answer:
        if full not in self.repos:
            return 404, {"message": "Not Found"}, {}
        head, base = str(body.get("head", "")), str(body.get("base", ""))
        head_branch = head.split(":", 1)[-1]
        sha = self.resolve_branch(full, head_branch)
        base_sha = self.resolve_branch(full, base)
        if sha is None or base_sha is None:
            return (
                422,
                {"message": "Validation Failed", "errors": [{"field": "head", "code": "invalid"}]},
                {},
            )
        if any(p["head"]["ref"] == head_branch for p in self.open_pulls(full)):
            message = f"A pull request already exists for {full.split('/')[0]}:{head_branch}."
            return 422, {"message": "Validation Failed", "errors": [{"message": message}]}, {}
        number = max([n for (r, n) in self.pulls if r == full] or [0]) + 1
        self.add_pull(
            full, number, base_sha=base_sha, head_sha=sha, head_ref=head_branch, author=who.login
        )
        pull = self.pulls[(full, number)]
        pull.update(title=body.get("title", ""), body=body.get("body", ""), state="open")
        pull["base"]["ref"] = base
        return 201, self._pull_json(full, pull), {}

    def _edit_pull(self, who: Identity, body: Any, full: str, n: str) -> Answer:
        pull = self._pull(full, n)
        if pull is None:
            return 404, {"message": "Not Found"}, {}
        for key in ("title", "body", "state"):
            if key in body:
                pull[key] = body[key]
        return 200, self._pull_json(full, pull), {}


def _state(pull: dict[str, Any]) -> str:
    return str(pull.get("state", "open"))
