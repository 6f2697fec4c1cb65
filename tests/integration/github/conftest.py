"""GitHub integration fixtures (defined in github_world.py so tests can import its helpers by name)."""

from github_world import fake, world

__all__ = ["fake", "world"]
