"""End-to-end fixtures: the loopback OpenAI-compatible fake (importable as `fakes.openai_server`)."""

from fakes.openai_server import fake_openai

__all__ = ["fake_openai"]
