"""Redaction of secrets: which values count, their encoded forms, token shapes, logs, env, output seams."""

from __future__ import annotations

import base64
import io
import logging
import secrets
from pathlib import Path

import pytest

from codegrad import redaction
from codegrad.redaction import REDACTED, Redactor
from codegrad.verify import sandbox


def token(prefix: str = "ghp_", size: int = 36) -> str:
    return prefix + secrets.token_hex(size)[:size]


def test_from_env_takes_secret_names_and_token_shaped_values_only() -> None:
    gh, key, shaped = token(), "k" + secrets.token_hex(8), token()
    env = {
        "GITHUB_TOKEN": gh,
        "MY_API_KEY": key,
        "GH_PAT": "pat-" + secrets.token_hex(6),
        "DEPLOY_NOTE": shaped,  # innocent name, but shaped like a GitHub token
        "PATH": "/usr/bin:/bin",
        "SHORT_SECRET": "abc",  # too short to redact without mangling ordinary text
        "PATIENCE": "ordinary-value",  # PAT only counts as a whole word
    }
    redactor = Redactor.from_env(env)
    text = f"{gh} {key} {env['GH_PAT']} {shaped} /usr/bin:/bin abc ordinary-value"
    assert (
        redactor(text)
        == f"{REDACTED} {REDACTED} {REDACTED} {REDACTED} /usr/bin:/bin abc ordinary-value"
    )


def test_the_longest_secret_wins_when_one_contains_another() -> None:
    redactor = Redactor.from_env({}, extra=["abcdef", "abcdefghij"])
    assert redactor("x abcdefghij y abcdef z") == f"x {REDACTED} y {REDACTED} z"


def test_a_token_inside_a_base64_basic_auth_header_is_redacted() -> None:
    secret = "tok" + secrets.token_hex(15)
    redactor = Redactor.from_env({}, extra=[secret])
    for prefix in ("x-access-token:", "a:", "ab:"):  # all three base64 alignments
        header = "AUTHORIZATION: basic " + base64.b64encode(f"{prefix}{secret}".encode()).decode()
        cleaned = redactor(header)
        assert REDACTED in cleaned
        assert base64.b64encode(secret.encode()).decode()[4:20] not in cleaned


def test_url_quoted_secrets_are_redacted() -> None:
    secret = "p@ss/w0rd!!" + secrets.token_hex(4)
    redactor = Redactor.from_env({"DB_PASSWORD": secret})
    quoted = secret.replace("@", "%40").replace("/", "%2F").replace("!", "%21")
    assert redactor(f"dsn=postgres://u:{quoted}@db/x") == "dsn=postgres://u:***@db/x"


def test_short_encoded_forms_are_not_used() -> None:
    assert all(len(v) >= redaction.MIN_ENCODED_LEN for v in redaction.encoded_variants("abcdefg"))
    assert redaction.encoded_variants("abcdef") == []


@pytest.mark.parametrize(
    "shaped",
    [
        token("ghp_"),
        token("ghs_"),
        "github_pat_" + secrets.token_hex(20),
        "sk-" + secrets.token_hex(16),
        "sk-proj-" + secrets.token_hex(16),
        "AKIA" + secrets.token_hex(8).upper(),
        "xoxb-" + secrets.token_hex(8),
    ],
)
def test_well_known_token_shapes_are_redacted_without_registration(shaped: str) -> None:
    assert Redactor()(f"value={shaped};") == f"value={REDACTED};"


@pytest.mark.parametrize(
    "text", ["skeleton sk-1 task-42", "ghp_short", "http://host:8080/path", "a:b@c"]
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert Redactor()(text) == text


def test_credentials_in_urls_are_redacted() -> None:
    text = "clone https://x-access-token:abc123@github.com/o/r.git and ftp://me:pw@host/f"
    assert (
        Redactor()(text)
        == "clone https://x-access-token:***@github.com/o/r.git and ftp://me:***@host/f"
    )


def test_redaction_stays_linear_on_huge_hostile_text() -> None:
    import time

    started = time.monotonic()
    Redactor()("y" * 2_000_000 + "a://u:" * 100_000)
    assert time.monotonic() - started < 5


def test_register_secret_feeds_the_process_wide_redact() -> None:
    secret = "reg-" + secrets.token_hex(8)
    assert redaction.redact(secret) == secret
    redaction.register_secret(secret)
    redaction.register_secret(None)  # ignored
    assert redaction.redact(f"[{secret}]") == f"[{REDACTED}]"


def test_the_log_filter_redacts_messages_arguments_and_tracebacks() -> None:
    secret = "log-" + secrets.token_hex(8)
    redaction.register_secret(secret)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(redaction.RedactFilter())
    logger = logging.getLogger(f"test-redaction-{secrets.token_hex(3)}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.warning("calling with %s", secret)
    try:
        raise RuntimeError(f"bad token {secret}")
    except RuntimeError:
        logger.exception("failed")
    logged = stream.getvalue()
    assert secret not in logged
    assert logged.count(REDACTED) == 2 and "RuntimeError" in logged


def test_scrubbed_env_is_an_allow_list_with_a_private_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gh = token()
    redaction.register_secret(gh)
    monkeypatch.setenv("GITHUB_TOKEN", gh)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-" + secrets.token_hex(8))
    monkeypatch.setenv("RANDOM_TOOL_SETTING", "on")
    env = sandbox.scrubbed_env(
        tmp_path,
        {"PYTHONPATH": "/src", "EXTRA_TOKEN": "x" * 12, "LOOKS_FINE": gh, "PYTHONHASHSEED": "0"},
        tmpdir=tmp_path / "tmp",
    )
    assert env["HOME"] == str(tmp_path) and env["TMPDIR"] == str(tmp_path / "tmp")
    assert "TMPDIR" not in sandbox.scrubbed_env(tmp_path)  # under namespaces /tmp is private
    assert env["PYTHONPATH"] == "/src" and env["PYTHONHASHSEED"] == "0"
    for dropped in (
        "GITHUB_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "RANDOM_TOOL_SETTING",
        "EXTRA_TOKEN",
        "LOOKS_FINE",
    ):
        assert dropped not in env
    assert gh not in "".join(env.values())


def test_a_secret_cut_by_the_output_cap_does_not_leak_in_pieces() -> None:
    secret = "seam-" + secrets.token_hex(10)  # 25 characters
    redaction.register_secret(secret)
    capture = sandbox._Capture(100)  # keeps 50 bytes at each end
    capture.feed(("A" * 40 + secret + "B" * 300).encode())  # the head ends inside the secret
    capture.feed(("C" * 10 + secret + "D" * 30).encode())  # the tail starts inside it
    text = capture.text(margin=len(secret))
    assert capture.truncated and "truncated" in text
    pieces = {secret[i : i + 6] for i in range(len(secret) - 5)}
    assert not any(piece in text for piece in pieces)


def test_the_capture_holds_a_bounded_amount_whatever_it_is_fed() -> None:
    capture = sandbox._Capture(1000)
    chunk = b"x" * 65536
    for _ in range(200):
        capture.feed(chunk)
    assert capture.total == 200 * 65536
    assert len(capture.head) + capture.tail_size <= 500 + 500 + 65536
    assert len(capture.text(margin=0)) < 1100


def _disguises(secret: str) -> dict[str, str]:
    raw = secret.encode()
    return {
        "reversed": secret[::-1],
        "hex": raw.hex(),
        "HEX": raw.hex().upper(),
        "hex of reversed": raw[::-1].hex(),
        "reversed hex": raw.hex()[::-1],
        "dashed": "-".join(secret),
        "spaced reversed": " ".join(secret[::-1]),
        "list repr": repr(list(secret)),
        "colon hex": ":".join(raw.hex()[i : i + 2] for i in range(0, 2 * len(raw), 2)),
        "split over lines": "\n".join(secret[i : i + 5] for i in range(0, len(secret), 5)),
        "upper": secret.upper(),
    }


@pytest.mark.parametrize("form", sorted(_disguises("x").keys()))
def test_disguised_forms_of_a_secret_are_redacted(form: str) -> None:
    secret = "ghs_" + secrets.token_hex(16)
    redactor = Redactor.from_env({}, extra=[secret])
    disguised = _disguises(secret)[form]
    cleaned = redactor(f"actual: {disguised} (end)")
    assert cleaned.startswith("actual: ") and cleaned.endswith(" (end)")
    assert REDACTED in cleaned
    letters = [c for c in secret if c.isalnum()]
    assert "".join(c for c in cleaned if c.isalnum()).lower().find("".join(letters)) == -1


def test_disguise_matching_leaves_text_without_the_secret_alone() -> None:
    secret = "ghs_" + secrets.token_hex(16)
    redactor = Redactor.from_env({}, extra=[secret])
    text = "def f(x):\n    return 'a-b-c-d' + str(x) * 2  # 0123456789 abcdef\n"
    assert redactor(text) == text
    short = Redactor.from_env({}, extra=["abc123"])  # too short to chase across separators
    assert short("a-b-c-1-2-3") == "a-b-c-1-2-3"


def test_disguise_matching_stays_fast_on_large_output() -> None:
    import time

    secret = "ghs_" + secrets.token_hex(16)
    redactor = Redactor.from_env({}, extra=[secret])
    words = " ".join(f"w{i}" for i in range(300_000))  # ~2 MB, 300k separate runs
    started = time.monotonic()
    assert redactor(words) == words
    leaked = words + " " + "-".join(secret[::-1])
    assert redactor(leaked) == words + " " + REDACTED
    assert time.monotonic() - started < 5


def test_redact_tree_decodes_json_escapes_before_matching() -> None:
    import json

    secret = "tree-" + secrets.token_hex(8)
    redaction.register_secret(secret)
    escaped = "".join(
        f"\\u{ord(c):04x}" for c in secret
    )  # how a hostile runner result could spell it
    data = json.loads(f'{{"actual": "{escaped}", "n": 1, "list": ["{secret[::-1]}"]}}')
    assert redaction.redact_tree(data) == {"actual": REDACTED, "n": 1, "list": [REDACTED]}
