"""Hypothesis's unicode tables: built once outside the sandbox, copied into each review's scratch."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegrad.verify import hypothesis_cache


def test_tables_are_built_once_and_copied_per_review(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = hypothesis_cache.storage_for(tmp_path / "review1")
    assert first == tmp_path / "review1" / "hypothesis"
    tables = sorted(p.name for p in (first / "unicode_data").rglob("*.json.gz"))
    assert "charmap.json.gz" in tables
    cached = hypothesis_cache.cache_folder()
    assert cached.is_relative_to(tmp_path / "cache") and (cached / "unicode_data").is_dir()
    # a second review copies the same tables without building them again
    stamp = (cached / "unicode_data").stat().st_mtime_ns
    second = hypothesis_cache.storage_for(tmp_path / "review2")
    assert sorted(p.name for p in (second / "unicode_data").rglob("*.json.gz")) == tables
    assert (cached / "unicode_data").stat().st_mtime_ns == stamp
    assert hypothesis_cache.storage_for(tmp_path / "review2") == second
