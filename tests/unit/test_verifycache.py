"""The verify cache: keys from a function's code and what it calls, verdicts, the JSON file."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from builders import make_finding, make_target
from codegrad.diff import changes
from codegrad.errors import UsageError
from codegrad.harden import verifycache
from codegrad.model import CheckResult, Finding, Kind, Target
from codegrad.settings import Settings

UTIL = '''"""Helpers."""
LIMIT = 10


def clip(x):
    return min(x, LIMIT)


def unrelated(y):
    return y * 2
'''
MAIN = '''"""Uses the helpers."""
from pkg.util import clip
from pkg import util as u
from . import shapes


def top(x):
    return helper(x) + clip(x)


def helper(x):
    return x + 1


def via_module(x):
    return u.unrelated(x)


def lonely(x):
    return x


def makes_box():
    return shapes.Box(1)
'''
SHAPES = """class Box:
    SIDES = 4

    def __init__(self, size):
        self.size = size

    def area(self):
        return self._square()

    def _square(self):
        return self.size * self.size

    def name(self):
        return "box"
"""
FILES = {"pkg/__init__.py": "", "pkg/util.py": UTIL, "pkg/main.py": MAIN, "pkg/shapes.py": SHAPES}
FP = verifycache.settings_fingerprint(Settings(), ["docstrings", "properties"])


def _digests(files: dict[str, str], fingerprint: str = FP) -> dict[str, str]:
    index = verifycache.RepoIndex.build(files)
    out = {}
    for path, text in files.items():
        for target in changes.all_functions(path, text):
            out[target.key] = verifycache.digest(target, index, fingerprint)
    return out


def _edit(path: str, old: str, new: str) -> dict[str, str]:
    assert old in FILES[path]
    return {**FILES, path: FILES[path].replace(old, new)}


def _changed(files: dict[str, str]) -> set[str]:
    before, after = _digests(FILES), _digests(files)
    return {k for k in before if before[k] != after.get(k)}


def test_digest_is_stable_for_the_same_code() -> None:
    assert _digests(FILES) == _digests(dict(reversed(list(FILES.items()))))


def test_editing_a_function_changes_it_and_its_callers_only() -> None:
    assert _changed(_edit("pkg/main.py", "return x + 1", "return x + 2")) == {
        "pkg/main.py::helper",
        "pkg/main.py::top",
    }


def test_a_callee_imported_from_another_module_counts() -> None:
    assert _changed(_edit("pkg/util.py", "min(x, LIMIT)", "max(x, LIMIT)")) == {
        "pkg/util.py::clip",
        "pkg/main.py::top",
    }
    assert _changed(_edit("pkg/util.py", "y * 2", "y * 3")) == {
        "pkg/util.py::unrelated",
        "pkg/main.py::via_module",
    }


def test_module_level_statements_count_for_the_module_and_its_importers() -> None:
    changed = _changed(_edit("pkg/util.py", "LIMIT = 10", "LIMIT = 11"))
    assert {"pkg/util.py::clip", "pkg/util.py::unrelated", "pkg/main.py::top"} <= changed
    assert "pkg/main.py::lonely" not in changed


def test_methods_reach_self_calls_the_constructor_and_class_attributes() -> None:
    assert _changed(_edit("pkg/shapes.py", "self.size * self.size", "self.size ** 2")) == {
        "pkg/shapes.py::Box._square",
        "pkg/shapes.py::Box.area",
    }
    constructor = _changed(_edit("pkg/shapes.py", "self.size = size", "self.size = abs(size)"))
    assert {
        "pkg/shapes.py::Box.area",
        "pkg/shapes.py::Box.name",
        "pkg/main.py::makes_box",
    } <= constructor
    assert "pkg/shapes.py::Box.__init__" in constructor
    assert "pkg/main.py::lonely" not in constructor
    attribute = _changed(_edit("pkg/shapes.py", "SIDES = 4", "SIDES = 5"))
    assert "pkg/shapes.py::Box.name" in attribute


def test_settings_and_version_are_part_of_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    other = verifycache.settings_fingerprint(Settings(max_examples=7), ["docstrings", "properties"])
    more_checks = verifycache.settings_fingerprint(
        Settings(), ["docstrings", "properties", "efficiency"]
    )
    assert len({FP, other, more_checks}) == 3
    assert (
        verifycache.settings_fingerprint(
            Settings(budget_seconds=5, format="json"), ["properties", "docstrings"]
        )
        == FP
    )
    monkeypatch.setattr("codegrad.__version__", "99.0")
    assert verifycache.settings_fingerprint(Settings(), ["docstrings", "properties"]) != FP


def test_recursion_and_import_cycles_terminate() -> None:
    files = {
        "a.py": "from b import g\n\ndef f(n):\n    return g(n - 1) if n else 0\n",
        "b.py": "from a import f\n\ndef g(n):\n    return f(n)\n",
    }
    digests = _digests(files)
    assert set(digests) == {"a.py::f", "b.py::g"}


def _target(name: str) -> Target:
    return make_target(name, body="pass")


def _finding(name: str) -> Finding:
    return make_finding(make_target(name), message="boom", input=None)


def test_verdicts_cache_only_functions_whose_verification_finished() -> None:
    a, b, c, d = (_target(n) for n in "abcd")
    digests = {t.key: f"digest-{t.qualname}" for t in (a, b, c, d)}
    results = [
        CheckResult(
            check="docstrings",
            skipped={t.key: "no examples in the docstring" for t in (a, b, c, d)},
        ),
        CheckResult(
            check="properties",
            findings=(_finding("b"),),
            checked=(a.key, b.key),
            skipped={
                c.key: "not run: the time budget was spent",
                d.key: "no parameters to generate",
            },
            seconds=4.0,
        ),
        CheckResult(
            check="project-tests",
            checked=(a.key,),
            skipped={b.key: "no project test runs this function"},
            stats={"tests_per_function": {a.key: 3}},
        ),
    ]
    names = ["docstrings", "properties", "project-tests"]

    entries = verifycache.verdicts([a, b, c, d], results, names, digests, head="h")

    assert set(entries) == {a.key, b.key}  # c ran out of time; d was never decided by project-tests
    assert entries[a.key].status == verifycache.CLEAN and entries[a.key].tests == 3
    assert entries[b.key].status == verifycache.FINDINGS and entries[b.key].findings == 1
    assert entries[a.key].seconds == pytest.approx(4.0 / 4)
    assert (
        verifycache.verdicts([a], results[:2], names, digests, head="h") == {}
    )  # a check never ran


def test_cache_answers_clean_only_for_the_same_digest() -> None:
    cache = verifycache.Cache(
        entries={
            "k1": verifycache.Entry("d1", verifycache.CLEAN, tests=2, seconds=0.5),
            "k2": verifycache.Entry("d2", verifycache.FINDINGS, findings=1),
        }
    )
    assert (
        cache.clean("k1", "d1") and not cache.clean("k1", "other") and not cache.clean("k2", "d2")
    )
    assert not cache.clean("k3", "d3")
    assert (
        cache.known_findings() == {"k2"}
        and cache.tests() == {"k1": 2}
        and cache.estimates() == {"k1": 0.5}
    )
    cache.prune(["k2"])
    assert set(cache.entries) == {"k2"}


def test_file_round_trip_is_atomic_and_bad_files_are_handled(tmp_path: Path) -> None:
    cache = verifycache.Cache(
        entries={"k": verifycache.Entry("d", verifycache.CLEAN, tests=None, head="h")},
        meta={"suite_seconds": 2.5},
    )
    path = tmp_path / "cache.json"
    verifycache.save(cache, path)
    assert verifycache.load(path) == cache
    assert [p.name for p in tmp_path.iterdir()] == ["cache.json"]  # no temp file left behind

    assert verifycache.load(tmp_path / "missing.json") == verifycache.Cache()
    (tmp_path / "garbage.json").write_text("{not json")
    assert verifycache.load(tmp_path / "garbage.json") == verifycache.Cache()
    (tmp_path / "old.json").write_text(json.dumps({"version": 0, "entries": {"k": {}}}))
    assert verifycache.load(tmp_path / "old.json") == verifycache.Cache()
    (tmp_path / "bad.json").write_text(
        json.dumps({"version": verifycache.CACHE_VERSION, "entries": {"k": {"status": "clean"}}})
    )
    with pytest.raises(UsageError, match="malformed"):
        verifycache.load(tmp_path / "bad.json")
    with pytest.raises(UsageError, match="does not exist"):
        verifycache.save(cache, tmp_path / "no" / "such" / "cache.json")


def test_merge_unites_shard_caches() -> None:
    one = verifycache.Cache(
        entries={"a": verifycache.Entry("1", verifycache.CLEAN)}, meta={"suite_seconds": 2.0}
    )
    two = verifycache.Cache(
        entries={"b": verifycache.Entry("2", verifycache.FINDINGS, findings=1)},
        meta={"suite_seconds": 3.0},
    )
    merged = verifycache.merge([one, two])
    assert set(merged.entries) == {"a", "b"} and merged.meta == {"suite_seconds": 3.0}


def test_only_stable_findings_are_kept_for_replay() -> None:
    a, b, c = (_target(n) for n in "abc")
    digests = {t.key: f"digest-{t.qualname}" for t in (a, b, c)}
    crash = _finding("a")
    hang = Finding(
        path="pkg/m.py", function="b", line=2, check="properties", kind=Kind.TIMEOUT, message="slow"
    )
    flaky = Finding(
        path="pkg/m.py",
        function="c",
        line=2,
        check="properties",
        kind=Kind.REGRESSION,
        message="x",
        details={"flaky": True},
    )
    result = CheckResult(
        check="properties", findings=(crash, hang, flaky), checked=(a.key, b.key, c.key)
    )

    entries = verifycache.verdicts([a, b, c], [result], ["properties"], digests, head="h")

    assert entries[a.key].replay == (crash.to_dict(),)
    assert entries[b.key].replay == () and entries[c.key].replay == ()
    cache = verifycache.Cache(entries=entries)
    assert cache.replayable(a.key, digests[a.key]) and not cache.replayable(a.key, "changed")
    assert not cache.replayable(b.key, digests[b.key])
    assert not verifycache.replayable_finding(replace(crash, reproduces=False))
