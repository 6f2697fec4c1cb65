"""Loopback fakes of external services (OpenAI-compatible chat, ...) for integration tests."""
