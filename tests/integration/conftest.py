"""Integration fixtures: the loopback OpenAI-compatible fake (importable as `fakes.openai_server`)."""

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:  # tests/ is not a package; make tests/fakes importable as `fakes`
    sys.path.insert(0, _TESTS)

from fakes.openai_server import fake_openai  # noqa: E402

__all__ = ["fake_openai"]
