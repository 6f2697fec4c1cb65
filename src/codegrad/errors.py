"""Exit codes and the one exception type for the user's mistakes."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """What `codegrad` returns: clean, findings at the fail level, usage error, internal error."""

    OK = 0
    FINDINGS = 1
    USAGE = 2
    INTERNAL = 3


class UsageError(Exception):
    """A mistake the user can fix: a bad flag, config key or value, or ref. The message names it."""


class CheckError(Exception):
    """A check could not run at all (its harness broke); reported, never fatal for the review."""
