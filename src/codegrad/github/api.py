"""The one thin PyGithub adapter: PR files, one review per run, the sticky summary, cleanup,
permissions; and for hardening the repository's pull requests (list, create, edit)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from github import Auth, Github, GithubException, GithubRetry

from codegrad.redaction import redact

DEFAULT_API_URL = "https://api.github.com"
PERMISSION_HINT = (
    "give the workflow `permissions: pull-requests: write` (and `contents: write` for auto-fix: commit); "
    "a fork's pull_request run gets a read-only token: pair it with the workflow_run companion"
)


class GitHubError(Exception):
    """A GitHub API call failed; says which operation, the HTTP status and GitHub's own message."""

    def __init__(self, operation: str, status: int, message: str) -> None:
        self.operation = operation
        self.status = status
        self.message = message
        hint = f" ({PERMISSION_HINT})" if status in (401, 403) else ""
        super().__init__(redact(f"GitHub refused to {operation}: HTTP {status} {message}{hint}"))

    @property
    def forbidden(self) -> bool:
        return self.status in (401, 403)

    @property
    def unprocessable(self) -> bool:
        return self.status == 422


@dataclass(frozen=True)
class PRFile:
    """One changed file of a pull request as the API lists it."""

    path: str
    status: str
    patch: str | None


@dataclass(frozen=True)
class Comment:
    """A comment already on the pull request (inline or in the conversation)."""

    id: int
    body: str
    author: str
    path: str | None = None
    line: int | None = None
    review_id: int | None = None


def _message(exc: GithubException) -> str:
    data = exc.data
    if isinstance(data, Mapping):
        text = str(data.get("message", ""))
        errors = data.get("errors")
        if errors:
            text += f" {errors}"
        return text.strip() or str(exc.status)
    return str(data)


@contextlib.contextmanager
def api_call(operation: str) -> Iterator[None]:
    """Turn PyGithub's exceptions into one GitHubError that names the operation."""
    try:
        yield
    except GithubException as exc:
        raise GitHubError(operation, exc.status, _message(exc)) from None


def make_retry(
    *, total: int = 5, secondary_rate_wait: float = 60.0, max_wait: float = 300.0
) -> GithubRetry:
    """Retries for 5xx and GitHub's rate limits; a secondary limit's Retry-After is honoured."""
    return GithubRetry(
        total=total, secondary_rate_wait=secondary_rate_wait, max_rate_limit_wait=max_wait
    )


def make_client(
    *,
    token: str,
    api_url: str,
    retry: GithubRetry | int | None,
    timeout: int,
    pace: tuple[float, float],
) -> Github:
    """A PyGithub client with token auth, codegrad's user agent, retries (default: make_retry()) and
    `pace` (seconds between requests, between writes)."""
    return Github(
        base_url=api_url.rstrip("/"),
        auth=Auth.Token(token),
        retry=retry if retry is not None else make_retry(),
        timeout=timeout,
        user_agent="codegrad",
        seconds_between_requests=pace[0],
        seconds_between_writes=pace[1],
    )


class PullRequestAPI:
    """The calls codegrad makes on one pull request; every body passes through the redactor."""

    def __init__(self, client: Github, repository: str, number: int) -> None:
        self._client = client
        self.repository = repository
        self.number = number
        with api_call(f"read repository {repository}"):
            self._repo = client.get_repo(repository)
        with api_call(f"read pull request #{number}"):
            self._pull = self._repo.get_pull(number)

    @classmethod
    def connect(
        cls,
        *,
        token: str,
        repository: str,
        number: int,
        api_url: str = DEFAULT_API_URL,
        retry: GithubRetry | int | None = None,
        timeout: int = 30,
        pace: tuple[float, float] = (0.25, 1.0),
    ) -> PullRequestAPI:
        """A client for one pull request; `pace` is (seconds between requests, between writes),
        PyGithub's defaults, which keep a busy run clear of GitHub's secondary rate limits."""
        client = make_client(token=token, api_url=api_url, retry=retry, timeout=timeout, pace=pace)
        return cls(client, repository, number)

    # --- reads --------------------------------------------------------------------------------

    @property
    def head_sha(self) -> str:
        return str(self._pull.head.sha)

    def files(self) -> list[PRFile]:
        with api_call(f"list the files of pull request #{self.number}"):
            return [PRFile(f.filename, f.status, f.patch) for f in self._pull.get_files()]

    def commit_messages(self) -> list[str]:
        with api_call(f"list the commits of pull request #{self.number}"):
            return [str(c.commit.message) for c in self._pull.get_commits()]

    def commit_message(self, sha: str) -> str:
        with api_call(f"read commit {sha[:12]}"):
            return str(self._repo.get_commit(sha).commit.message)

    def permission(self, login: str) -> str:
        """The user's permission on the repository: admin, maintain, write, triage, read or none."""
        with api_call(f"read the permission of {login}"):
            return str(self._repo.get_collaborator_permission(login))

    def inline_comments(self) -> list[Comment]:
        with api_call(f"list the review comments of pull request #{self.number}"):
            return [
                Comment(
                    c.id, c.body or "", _login(c.user), c.path, c.line, c.pull_request_review_id
                )
                for c in self._pull.get_review_comments()
            ]

    def issue_comments(self) -> list[Comment]:
        with api_call(f"list the comments of pull request #{self.number}"):
            return [
                Comment(c.id, c.body or "", _login(c.user)) for c in self._pull.get_issue_comments()
            ]

    def reviews(self) -> list[Comment]:
        with api_call(f"list the reviews of pull request #{self.number}"):
            return [Comment(r.id, r.body or "", _login(r.user)) for r in self._pull.get_reviews()]

    # --- writes -------------------------------------------------------------------------------

    def create_review(
        self, *, commit_sha: str, body: str, comments: Sequence[Mapping[str, Any]]
    ) -> int:
        """One COMMENT review with all inline comments; returns its id."""
        safe = [{**c, "body": redact(str(c["body"]))} for c in comments]
        with api_call(
            f"create a review with {len(safe)} inline comment(s) on pull request #{self.number}"
        ):
            commit = self._repo.get_commit(commit_sha)
            review = self._pull.create_review(
                commit=commit, body=redact(body), event="COMMENT", comments=cast(Any, safe)
            )
        return int(review.id)

    def delete_inline_comment(self, comment_id: int) -> None:
        with api_call(f"delete review comment {comment_id}"):
            self._pull.get_review_comment(comment_id).delete()

    def edit_review(self, review_id: int, body: str) -> None:
        with api_call(f"edit review {review_id}"):
            self._pull.get_review(review_id).edit(redact(body))

    def upsert_comment(self, marker: str, body: str) -> tuple[int, bool]:
        """Edit the first comment that starts with `marker` (later ones by the same author are
        duplicates from racing runs and are deleted) or create one; returns (id, created)."""
        body = redact(body)
        mine = [c for c in self.issue_comments() if c.body.startswith(marker)]
        if not mine:
            with api_call(f"create the summary comment on pull request #{self.number}"):
                return int(self._pull.create_issue_comment(body).id), True
        keep = mine[0]
        duplicates = [c for c in mine[1:] if c.author == keep.author]
        with api_call(f"update summary comment {keep.id}"):
            self._pull.get_issue_comment(keep.id).edit(body)
        for dup in duplicates:
            with api_call(f"delete duplicate summary comment {dup.id}"):
                self._pull.get_issue_comment(dup.id).delete()
        return keep.id, False


def _login(user: Any) -> str:
    return str(getattr(user, "login", "") or "") if user is not None else ""


# --- the repository, for hardening: its open pull requests, create one, edit one -------------


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
