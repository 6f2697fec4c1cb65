"""The local OpenAI-compatible model of ../shared/tools/local-llm, for the slow tests that use it."""

from __future__ import annotations

import subprocess
import urllib.request
from pathlib import Path

# The project's root is tests/..; the shared tools sit beside it (../shared from the root).
LOCAL_LLM = Path(__file__).resolve().parents[1].parent / "shared" / "tools" / "local-llm"


def local_llm_url(wait: float = 120.0) -> str | None:
    """The base URL of the local model when it answers, else None (the caller skips).

    The server answers one request at a time, so a busy one is given `wait` seconds to reply.
    """
    if not LOCAL_LLM.exists():
        return None
    try:
        done = subprocess.run(
            [str(LOCAL_LLM), "url"], capture_output=True, text=True, timeout=10, check=False
        )
        url = done.stdout.strip()
        if done.returncode != 0 or not url.startswith("http://127.0.0.1:"):
            return None
        with urllib.request.urlopen(url + "/models", timeout=wait) as reply:  # noqa: S310 - loopback
            reply.read()
    except (OSError, subprocess.SubprocessError):
        return None
    return url
