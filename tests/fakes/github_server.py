"""A loopback GitHub REST API fake with state: repositories, pull requests, reviews, comments, faults."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlparse

SECONDARY_RATE_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
NOT_IN_DIFF = "Pull request review thread line must be part of the diff"
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


@dataclass
class Fault:
    """Answer `times` matching requests with `status` instead of serving them."""

    method: str
    pattern: str
    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1


@dataclass
class Request:
    method: str
    path: str
    body: Any
    status: int
    token: str | None


@dataclass
class Identity:
    login: str
    type: str = "Bot"
    write: bool = True


def hunks(patch: str | None) -> list[tuple[int, int]]:
    """Head-side line ranges of a patch, as GitHub computes what a review comment may point at."""
    out = []
    for line in (patch or "").splitlines():
        m = _HUNK.match(line)
        if m and int(m.group(2) or "1") > 0:
            start = int(m.group(1))
            out.append((start, start + int(m.group(2) or "1") - 1))
    return out


class FakeGitHub:
    """State plus a ThreadingHTTPServer on 127.0.0.1 that answers like api.github.com."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.repos: dict[str, dict[str, Any]] = {}
        self.pulls: dict[tuple[str, int], dict[str, Any]] = {}
        self.files: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self.pr_commits: dict[tuple[str, int], list[str]] = {}
        self.commits: dict[str, str] = {}  # sha -> message
        self.tokens: dict[str, Identity] = {}
        self.permissions: dict[tuple[str, str], str] = {}
        self.reviews: list[dict[str, Any]] = []
        self.review_comments: list[dict[str, Any]] = []
        self.issue_comments: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self._next_id = 1000
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                fake._handle(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # --- state set-up ---------------------------------------------------------------------------

    def add_token(
        self,
        token: str,
        login: str = "github-actions[bot]",
        *,
        type: str = "Bot",
        write: bool = True,
    ) -> None:
        self.tokens[token] = Identity(login, type, write)

    def add_repo(self, full_name: str, default_branch: str = "main") -> dict[str, Any]:
        owner, name = full_name.split("/")
        repo = {
            "id": len(self.repos) + 1,
            "node_id": f"R_{full_name}",
            "name": name,
            "full_name": full_name,
            "owner": {"login": owner, "type": "User", "id": 1},
            "private": False,
            "default_branch": default_branch,
            "html_url": f"https://github.example/{full_name}",
        }
        self.repos[full_name] = repo
        return repo

    def add_pull(
        self,
        repo: str,
        number: int,
        *,
        base_sha: str,
        head_sha: str,
        head_ref: str = "feature",
        head_repo: str | None = None,
        files: Iterable[tuple[str, str | None]] = (),
        commits: Sequence[tuple[str, str]] = (),
        author: str = "alice",
    ) -> dict[str, Any]:
        """A pull request whose files are (path, patch) and commits (sha, message)."""
        head_repo = head_repo or repo
        for full in (repo, head_repo):
            if full not in self.repos:
                self.add_repo(full)
        pull = {
            "number": number,
            "base": {"sha": base_sha, "ref": self.repos[repo]["default_branch"], "repo": repo},
            "head": {"sha": head_sha, "ref": head_ref, "repo": head_repo},
            "author": author,
        }
        self.pulls[(repo, number)] = pull
        self.files[(repo, number)] = [
            {
                "filename": path,
                "status": "modified",
                "patch": patch,
                "additions": 1,
                "deletions": 0,
                "changes": 1,
            }
            for path, patch in files
        ]
        self.pr_commits[(repo, number)] = [sha for sha, _ in commits]
        for sha, message in commits:
            self.commits[sha] = message
        return pull

    def add_issue_comment(
        self, repo: str, number: int, body: str, login: str = "github-actions[bot]"
    ) -> dict[str, Any]:
        """A conversation comment as if someone (by default the bot) had posted it."""
        return self._create_issue_comment(Identity(login), {"body": body}, repo, str(number))[1]

    def fail(
        self,
        method: str,
        pattern: str,
        status: int,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` requests `method` whose path matches `pattern` get `status`."""
        self.faults.append(Fault(method, pattern, status, message, headers or {}, times))

    def secondary_rate_limit(
        self, method: str, pattern: str, *, retry_after: int = 1, times: int = 1
    ) -> None:
        self.fail(
            method,
            pattern,
            403,
            SECONDARY_RATE_LIMIT,
            headers={"Retry-After": str(retry_after)},
            times=times,
        )

    # --- inspection -----------------------------------------------------------------------------

    @property
    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.method != "GET"]

    def bodies(self) -> list[str]:
        """Every body GitHub stored: reviews, inline comments and conversation comments."""
        return [
            str(x["body"]) for x in (*self.reviews, *self.review_comments, *self.issue_comments)
        ]

    # --- HTTP -----------------------------------------------------------------------------------

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        path = unquote(urlparse(h.path).path)
        auth = (h.headers.get("Authorization") or "").split()
        token = auth[-1] if auth else None
        with self.lock:
            status, data, headers = self._answer(h.command, path, body, token)
            self.requests.append(Request(h.command, path, body, status, token))
        payload = b"" if data is None else json.dumps(data).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(payload)))
        for key, value in headers.items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(payload)

    def _answer(
        self, method: str, path: str, body: Any, token: str | None
    ) -> tuple[int, Any, dict[str, str]]:
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and re.search(fault.pattern, path):
                fault.times -= 1
                return (
                    fault.status,
                    {"message": fault.message, "documentation_url": "https://docs.github.com/rest"},
                    fault.headers,
                )
        who = self.tokens.get(token or "")
        if who is None:
            return 401, {"message": "Bad credentials"}, {}
        if method != "GET" and not who.write:
            return 403, {"message": "Resource not accessible by integration"}, {}
        for verb, pattern, handler in self._routes():
            m = re.fullmatch(pattern, path)
            if verb == method and m:
                return handler(who, body, *m.groups())
        return 404, {"message": "Not Found"}, {}

    def _routes(self) -> list[tuple[str, str, Callable[..., tuple[int, Any, dict[str, str]]]]]:
        repo = r"/repos/([^/]+/[^/]+)"
        return [
            ("GET", rf"{repo}", self._get_repo),
            ("GET", rf"{repo}/pulls/(\d+)", self._get_pull),
            ("GET", rf"{repo}/pulls/(\d+)/files", self._get_files),
            ("GET", rf"{repo}/pulls/(\d+)/commits", self._get_pr_commits),
            ("GET", rf"{repo}/commits/([0-9a-f]+)", self._get_commit),
            ("GET", rf"{repo}/collaborators/([^/]+)/permission", self._get_permission),
            ("GET", rf"{repo}/pulls/(\d+)/reviews", self._list_reviews),
            ("POST", rf"{repo}/pulls/(\d+)/reviews", self._create_review),
            ("GET", rf"{repo}/pulls/(\d+)/reviews/(\d+)", self._get_review),
            ("PUT", rf"{repo}/pulls/(\d+)/reviews/(\d+)", self._edit_review),
            ("GET", rf"{repo}/pulls/(\d+)/comments", self._list_review_comments),
            ("GET", rf"{repo}/pulls/comments/(\d+)", self._get_review_comment),
            ("DELETE", rf"{repo}/pulls/comments/(\d+)", self._delete_review_comment),
            ("GET", rf"{repo}/issues/(\d+)/comments", self._list_issue_comments),
            ("POST", rf"{repo}/issues/(\d+)/comments", self._create_issue_comment),
            ("GET", rf"{repo}/issues/comments/(\d+)", self._get_issue_comment),
            ("PATCH", rf"{repo}/issues/comments/(\d+)", self._edit_issue_comment),
            ("DELETE", rf"{repo}/issues/comments/(\d+)", self._delete_issue_comment),
        ]

    # --- JSON shapes ----------------------------------------------------------------------------

    def _repo_json(self, full: str) -> dict[str, Any]:
        return {**self.repos[full], "url": f"{self.url}/repos/{full}"}

    def _user(self, login: str, type: str = "User") -> dict[str, Any]:
        return {"login": login, "id": abs(hash(login)) % 10**6, "type": type}

    def _pull_json(self, full: str, pull: dict[str, Any]) -> dict[str, Any]:
        n = pull["number"]
        side = lambda s: {  # noqa: E731
            "sha": pull[s]["sha"],
            "ref": pull[s]["ref"],
            "label": f"{pull[s]['repo'].split('/')[0]}:{pull[s]['ref']}",
            "repo": self._repo_json(pull[s]["repo"]),
        }
        return {
            "id": n,
            "number": n,
            "state": "open",
            "title": f"PR {n}",
            "draft": False,
            "url": f"{self.url}/repos/{full}/pulls/{n}",
            "issue_url": f"{self.url}/repos/{full}/issues/{n}",
            "html_url": f"https://github.example/{full}/pull/{n}",
            "user": self._user(pull["author"]),
            "head": side("head"),
            "base": side("base"),
        }

    def _review_json(self, r: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in r.items() if not k.startswith("_")}

    # --- handlers -------------------------------------------------------------------------------

    def _pull(self, full: str, n: str) -> dict[str, Any] | None:
        return self.pulls.get((full, int(n)))

    def _get_repo(self, who: Identity, body: Any, full: str) -> tuple[int, Any, dict[str, str]]:
        if full not in self.repos:
            return 404, {"message": "Not Found"}, {}
        return 200, self._repo_json(full), {}

    def _get_pull(
        self, who: Identity, body: Any, full: str, n: str
    ) -> tuple[int, Any, dict[str, str]]:
        pull = self._pull(full, n)
        return (
            (200, self._pull_json(full, pull), {}) if pull else (404, {"message": "Not Found"}, {})
        )

    def _get_files(
        self, who: Identity, body: Any, full: str, n: str
    ) -> tuple[int, Any, dict[str, str]]:
        return 200, self.files.get((full, int(n)), []), {}

    def _commit_json(self, full: str, sha: str) -> dict[str, Any]:
        return {
            "sha": sha,
            "url": f"{self.url}/repos/{full}/commits/{sha}",
            "commit": {
                "message": self.commits.get(sha, ""),
                "author": {"name": "x", "email": "x@example.com"},
            },
            "parents": [],
        }

    def _get_pr_commits(
        self, who: Identity, body: Any, full: str, n: str
    ) -> tuple[int, Any, dict[str, str]]:
        return (
            200,
            [self._commit_json(full, sha) for sha in self.pr_commits.get((full, int(n)), [])],
            {},
        )

    def _get_commit(
        self, who: Identity, body: Any, full: str, sha: str
    ) -> tuple[int, Any, dict[str, str]]:
        return 200, self._commit_json(full, sha), {}

    def _get_permission(
        self, who: Identity, body: Any, full: str, login: str
    ) -> tuple[int, Any, dict[str, str]]:
        permission = self.permissions.get((full, login), "read")
        return 200, {"permission": permission, "user": self._user(login)}, {}

    def _list_reviews(
        self, who: Identity, body: Any, full: str, n: str
    ) -> tuple[int, Any, dict[str, str]]:
        return 200, [self._review_json(r) for r in self.reviews if r["_pr"] == (full, int(n))], {}

    def _create_review(
        self, who: Identity, body: Any, full: str, n: str
    ) -> tuple[int, Any, dict[str, str]]:
        pull = self._pull(full, n)
        if pull is None:
            return 404, {"message": "Not Found"}, {}
        files = {f["filename"]: hunks(f["patch"]) for f in self.files[(full, int(n))]}
        comments = body.get("comments") or []
        for c in comments:
            ranges = files.get(c.get("path"), [])
            line, start = c.get("line"), c.get("start_line") or c.get("line")
            if not any(a <= start <= line <= b for a, b in ranges):
                return 422, {"message": "Unprocessable Entity", "errors": [NOT_IN_DIFF]}, {}
        review_id = self._id()
        pr_url = f"{self.url}/repos/{full}/pulls/{int(n)}"
        review = {
            "id": review_id,
            "node_id": f"PRR_{review_id}",
            "body": body.get("body") or "",
            "state": "COMMENTED",
            "commit_id": body.get("commit_id") or pull["head"]["sha"],
            "user": self._user(who.login, who.type),
            "pull_request_url": pr_url,
            "html_url": f"https://github.example/{full}/pull/{n}#pullrequestreview-{review_id}",
            "_pr": (full, int(n)),
        }
        self.reviews.append(review)
        for c in comments:
            cid = self._id()
            self.review_comments.append(
                {
                    "id": cid,
                    "node_id": f"PRRC_{cid}",
                    "body": c["body"],
                    "path": c["path"],
                    "line": c["line"],
                    "start_line": c.get("start_line"),
                    "side": c.get("side", "RIGHT"),
                    "commit_id": review["commit_id"],
                    "pull_request_review_id": review_id,
                    "user": self._user(who.login, who.type),
                    "url": f"{self.url}/repos/{full}/pulls/comments/{cid}",
                    "pull_request_url": pr_url,
                    "_pr": (full, int(n)),
                }
            )
        return 200, self._review_json(review), {}

    def _find(self, items: list[dict[str, Any]], ident: str) -> dict[str, Any] | None:
        return next((x for x in items if x["id"] == int(ident)), None)

    def _get_review(
        self, who: Identity, body: Any, full: str, n: str, rid: str
    ) -> tuple[int, Any, dict[str, str]]:
        review = self._find(self.reviews, rid)
        return (
            (200, self._review_json(review), {}) if review else (404, {"message": "Not Found"}, {})
        )

    def _edit_review(
        self, who: Identity, body: Any, full: str, n: str, rid: str
    ) -> tuple[int, Any, dict[str, str]]:
        review = self._find(self.reviews, rid)
        if review is None:
            return 404, {"message": "Not Found"}, {}
        review["body"] = body["body"]
        return 200, self._review_json(review), {}

    def _list_review_comments(
        self, who: Identity, body: Any, full: str, n: str
    ) -> tuple[int, Any, dict[str, str]]:
        return (
            200,
            [self._review_json(c) for c in self.review_comments if c["_pr"] == (full, int(n))],
            {},
        )

    def _get_review_comment(
        self, who: Identity, body: Any, full: str, cid: str
    ) -> tuple[int, Any, dict[str, str]]:
        comment = self._find(self.review_comments, cid)
        return (
            (200, self._review_json(comment), {})
            if comment
            else (404, {"message": "Not Found"}, {})
        )

    def _delete_review_comment(
        self, who: Identity, body: Any, full: str, cid: str
    ) -> tuple[int, Any, dict[str, str]]:
        comment = self._find(self.review_comments, cid)
        if comment is None:
            return 404, {"message": "Not Found"}, {}
        self.review_comments.remove(comment)
        return 204, None, {}

    def _issue_comment_json(self, c: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in c.items() if not k.startswith("_")}

    def _list_issue_comments(
        self, who: Identity, body: Any, full: str, n: str
    ) -> tuple[int, Any, dict[str, str]]:
        return (
            200,
            [
                self._issue_comment_json(c)
                for c in self.issue_comments
                if c["_pr"] == (full, int(n))
            ],
            {},
        )

    def _create_issue_comment(
        self, who: Identity, body: Any, full: str, n: str
    ) -> tuple[int, Any, dict[str, str]]:
        if len(body.get("body", "")) > 65536:
            return (
                422,
                {
                    "message": "Validation Failed",
                    "errors": [{"message": "Body is too long (maximum is 65536 characters)"}],
                },
                {},
            )
        cid = self._id()
        comment = {
            "id": cid,
            "node_id": f"IC_{cid}",
            "body": body["body"],
            "user": self._user(who.login, who.type),
            "url": f"{self.url}/repos/{full}/issues/comments/{cid}",
            "issue_url": f"{self.url}/repos/{full}/issues/{n}",
            "html_url": f"https://github.example/{full}/pull/{n}#issuecomment-{cid}",
            "_pr": (full, int(n)),
        }
        self.issue_comments.append(comment)
        return 201, self._issue_comment_json(comment), {}

    def _get_issue_comment(
        self, who: Identity, body: Any, full: str, cid: str
    ) -> tuple[int, Any, dict[str, str]]:
        comment = self._find(self.issue_comments, cid)
        return (
            (200, self._issue_comment_json(comment), {})
            if comment
            else (404, {"message": "Not Found"}, {})
        )

    def _edit_issue_comment(
        self, who: Identity, body: Any, full: str, cid: str
    ) -> tuple[int, Any, dict[str, str]]:
        comment = self._find(self.issue_comments, cid)
        if comment is None:
            return 404, {"message": "Not Found"}, {}
        if len(body.get("body", "")) > 65536:
            return 422, {"message": "Validation Failed"}, {}
        comment["body"] = body["body"]
        return 200, self._issue_comment_json(comment), {}

    def _delete_issue_comment(
        self, who: Identity, body: Any, full: str, cid: str
    ) -> tuple[int, Any, dict[str, str]]:
        comment = self._find(self.issue_comments, cid)
        if comment is None:
            return 404, {"message": "Not Found"}, {}
        self.issue_comments.remove(comment)
        return 204, None, {}
