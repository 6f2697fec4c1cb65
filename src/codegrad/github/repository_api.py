"""PyGithub adapter for hardening: the repository's open pull requests, create one, edit one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from github import Github, GithubRetry

from codegrad.github.api import DEFAULT_API_URL, api_call, make_client
from codegrad.redaction import redact


@dataclass(frozen=True)
class PullInfo:
    """An open pull request as hardening needs it."""

    number: int
    head_ref: str
    head_sha: str
    head_repo: str
    base_ref: str
    title: str
    body: str
    url: str


def _info(pull: Any) -> PullInfo:
    head_repo = getattr(pull.head, "repo", None)
    return PullInfo(
        number=int(pull.number),
        head_ref=str(pull.head.ref),
        head_sha=str(pull.head.sha),
        head_repo=str(getattr(head_repo, "full_name", "") or ""),
        base_ref=str(pull.base.ref),
        title=str(pull.title or ""),
        body=str(pull.body or ""),
        url=str(pull.html_url or ""),
    )


class RepositoryAPI:
    """The repository-level calls of a hardening run; every text passes through the redactor."""

    def __init__(self, client: Github, repository: str) -> None:
        self._client = client
        self.repository = repository
        with api_call(f"read repository {repository}"):
            self._repo = client.get_repo(repository)

    @classmethod
    def connect(
        cls,
        *,
        token: str,
        repository: str,
        api_url: str = DEFAULT_API_URL,
        retry: GithubRetry | int | None = None,
        timeout: int = 30,
        pace: tuple[float, float] = (0.25, 1.0),
    ) -> RepositoryAPI:
        client = make_client(token=token, api_url=api_url, retry=retry, timeout=timeout, pace=pace)
        return cls(client, repository)

    @property
    def default_branch(self) -> str:
        return str(self._repo.default_branch)

    def open_pulls(self) -> list[PullInfo]:
        with api_call(f"list the open pull requests of {self.repository}"):
            return [_info(p) for p in self._repo.get_pulls(state="open")]

    def create_pull(self, *, title: str, body: str, head: str, base: str) -> PullInfo:
        with api_call(f"open a pull request from {head} into {base}"):
            pull = self._repo.create_pull(
                title=redact(title), body=redact(body), head=head, base=base
            )
            return _info(pull)

    def edit_pull(self, number: int, *, title: str, body: str) -> None:
        with api_call(f"update pull request #{number}"):
            self._repo.get_pull(number).edit(title=redact(title), body=redact(body))
