"""The recorder: code-swapped functions keep their behaviour and identity and record every call path."""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from codegrad.runners import recorder, valuecodec

MODULE = """
import functools


class Base:
    def describe(self, prefix="<"):
        return prefix + type(self).__name__


class Tokenizer(Base):
    def __init__(self, sep, strict=False):
        self.sep = sep
        self.strict = strict

    def split(self, text, maxsplit=None):
        if maxsplit is None:
            return text.split(self.sep)
        return text.split(self.sep, maxsplit)

    def describe(self, prefix="<"):
        return super().describe(prefix) + ">"

    @classmethod
    def comma(cls, strict=False):
        return cls(",", strict)

    @staticmethod
    def clean(text, /, *, lower=True):
        return text.lower() if lower else text


def total(items, *extra, start=0, **options):
    return sum(items, start) + sum(extra) + len(options)


def first(items):
    return next(iter(items))


@functools.lru_cache(maxsize=None)
def cached(n):
    return n * 2


def count(n):
    for i in range(n):
        yield i


async def later(x):
    return x + 1


REGISTRY = {"total": total}
"""


def load(tmp_path: Path) -> ModuleType:
    path = tmp_path / "recmod.py"
    path.write_text(textwrap.dedent(MODULE))
    spec = importlib.util.spec_from_file_location("recmod", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["recmod"] = module
    spec.loader.exec_module(module)
    return module


def install(
    tmp_path: Path, names: list[tuple[str, str]], consume_iterators: bool = True, **limits: int
) -> tuple[ModuleType, recorder.Recorder, Path]:
    module = load(tmp_path)
    out = tmp_path / "calls.jsonl"
    spec = {
        "targets": [
            {"key": f"recmod.py::{q}", "file": module.__file__, "qualname": q, "kind": k}
            for q, k in names
        ],
        "limits": limits,
        "consume_iterators": consume_iterators,
    }
    rec = recorder.Recorder(spec, out)
    rec.install_pending()
    return module, rec, out


def records(rec: recorder.Recorder, out: Path) -> list[dict[str, Any]]:
    rec.close()
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_every_reference_records_and_behaviour_is_unchanged(tmp_path: Path) -> None:
    earlier_reference_taken = None
    module, rec, out = install(
        tmp_path,
        [("Tokenizer.split", "method"), ("total", "function"), ("cached", "function")],
    )
    earlier_reference_taken = module.REGISTRY["total"]  # a registry filled before the swap
    tok = module.Tokenizer(",")
    assert tok.split("a,b") == ["a", "b"]
    assert module.Tokenizer.split(tok, "a,b,c", 1) == ["a", "b,c"]
    assert earlier_reference_taken([1, 2], 3, start=1, flag=True) == 8
    assert module.cached(4) == 8 and module.cached(4) == 8  # the second call is served by the cache
    got = records(rec, out)
    calls = [r for r in got if "key" in r]
    assert [r["key"].split("::")[1] for r in calls] == [
        "Tokenizer.split",
        "Tokenizer.split",
        "total",
        "cached",
    ]
    split_self, text = calls[0]["call"]["args"]
    rebuilt = valuecodec.decode(split_self)
    assert isinstance(rebuilt, module.Tokenizer) and vars(rebuilt) == {"sep": ",", "strict": False}
    assert text == "a,b" and len(calls[0]["call"]["args"]) == 2  # the default maxsplit is left out
    assert calls[1]["call"]["args"][1:] == ["a,b,c", 1]
    assert calls[2]["call"]["args"] == [{"l": [1, 2], "#": 0}, 3]
    assert calls[2]["call"]["kwargs"] == [["start", 1], ["flag", True]]
    assert got[-1]["summary"]["recmod.py::cached"]["seen"] == 1


def test_signatures_kinds_and_super_survive_the_swap(tmp_path: Path) -> None:
    module, rec, out = install(
        tmp_path,
        [
            ("Tokenizer.describe", "method"),
            ("Tokenizer.comma", "classmethod"),
            ("Tokenizer.clean", "staticmethod"),
            ("count", "function"),
            ("later", "function"),
        ],
    )
    before = str(inspect.signature(module.Tokenizer.clean))
    assert module.Tokenizer(",").describe() == "<Tokenizer>"  # zero-argument super() still works
    assert module.Tokenizer.comma(strict=True).strict is True
    assert module.Tokenizer.clean("AB", lower=False) == "AB"
    assert inspect.isgeneratorfunction(module.count) and list(module.count(3)) == [0, 1, 2]
    assert inspect.iscoroutinefunction(module.later) and asyncio.run(module.later(1)) == 2
    assert str(inspect.signature(module.Tokenizer.clean)) == before == "(text, /, *, lower=True)"
    with pytest.raises(TypeError):
        module.Tokenizer.clean(text="x")  # positional-only stays positional-only
    calls = {r["key"].split("::")[1]: r for r in records(rec, out) if "key" in r}
    # no cls; parameters that can be positional are recorded positionally
    assert calls["Tokenizer.comma"]["call"] == {"args": [True], "kwargs": []}
    assert calls["Tokenizer.clean"]["call"] == {"args": ["AB"], "kwargs": [["lower", False]]}
    assert calls["count"]["call"]["args"] == [3] and calls["later"]["call"]["args"] == [1]


def test_iterator_arguments_are_recorded_as_items_and_still_reach_the_function(
    tmp_path: Path,
) -> None:
    module, rec, out = install(tmp_path, [("total", "function")])
    assert module.total(x for x in [1, 2, 3]) == 6
    (call,) = [r for r in records(rec, out) if "key" in r]
    assert call["call"]["args"][0] == {"it": "generator", "items": {"l": [1, 2, 3], "#": 1}}


def test_iterators_the_recorder_cannot_keep_reach_the_function_whole(tmp_path: Path) -> None:
    module, rec, out = install(tmp_path, [("total", "function")])
    long = iter(range(valuecodec.MAX_ITEMS + 10))
    assert module.total(long) == sum(range(valuecodec.MAX_ITEMS + 10))

    def broken():
        yield 1
        raise KeyError("from the iterator")

    with pytest.raises(KeyError, match="from the iterator"):
        module.total(broken())
    got = records(rec, out)
    assert [r for r in got if "key" in r] == []
    assert sum(got[-1]["summary"]["recmod.py::total"]["unrecordable"].values()) == 2


def test_in_the_suite_whose_results_count_iterators_are_left_to_the_function(
    tmp_path: Path,
) -> None:
    # more-itertools' IchunkedTests.test_memory_in_order checks how far its iterator was consumed
    module, rec, out = install(tmp_path, [("first", "function")], consume_iterators=False)
    pulled: list[int] = []

    def counting():
        for i in range(5):
            pulled.append(i)
            yield i

    assert module.first(counting()) == 0 and pulled == [0]  # only what the function takes
    assert module.first([7, 8]) == 7  # other calls are recorded as before
    got = records(rec, out)
    assert [r["call"]["args"] for r in got if "key" in r] == [[{"l": [7, 8], "#": 0}]]
    assert got[-1]["summary"]["recmod.py::first"]["unrecordable"] == {recorder.LAZY: 1}
    # where the suite's results do not count, the items are taken first to be recorded
    (tmp_path / "own").mkdir()
    module, rec, out = install(tmp_path / "own", [("first", "function")])
    pulled.clear()
    assert module.first(counting()) == 0 and pulled == [0, 1, 2, 3, 4]
    rec.close()


def test_pytest_reports_leave_the_recorder_frames_out(tmp_path: Path) -> None:
    module, rec, _out = install(tmp_path, [("total", "function")])
    with pytest.raises(TypeError) as info:
        module.total(["a"])
    hidden = [entry.ishidden(info) for entry in info.traceback]
    assert hidden == [False, True, True, False]  # this test, trampoline, hook, the real function
    rec.close()


def test_exceptions_are_recorded_with_their_type_and_still_raised(tmp_path: Path) -> None:
    module, rec, out = install(tmp_path, [("total", "function")])
    with pytest.raises(TypeError):
        module.total(["a"])
    (call,) = [r for r in records(rec, out) if "key" in r]
    assert call["raised"] == "TypeError"


def test_recording_is_bounded_and_deduplicated(tmp_path: Path) -> None:
    module, rec, out = install(tmp_path, [("cached", "function")], calls=3, per_test=2)
    rec.test = "t1"
    for n in [1, 1, 2, 3, 4]:
        module.cached.__wrapped__(n)
    rec.test = "t2"
    for n in [5, 6, 7]:
        module.cached.__wrapped__(n)
    calls = [r for r in records(rec, out) if "key" in r]
    assert [(r["test"], r["call"]["args"]) for r in calls] == [
        ("t1", [1]),
        ("t1", [2]),
        ("t2", [5]),
    ]


def test_a_full_target_gets_its_own_code_back(tmp_path: Path) -> None:
    module, rec, out = install(tmp_path, [("total", "function")], calls=2)
    original = rec.installs[0][1].__code__
    for n in range(4):
        rec.test = f"t{n}"
        assert module.total([n]) == n
    assert module.total.__code__ is original and rec.full()
    assert [r["test"] for r in records(rec, out) if "key" in r] == ["t0", "t1"]


def test_unrecordable_arguments_are_counted_not_fatal(tmp_path: Path) -> None:
    module, rec, out = install(tmp_path, [("total", "function")])
    assert module.total([1], key=lambda x: x) == 2
    got = records(rec, out)
    assert [r for r in got if "key" in r] == []
    summary = got[-1]["summary"]["recmod.py::total"]
    assert summary["seen"] == 1 and summary["recorded"] == 0 and summary["unrecordable"]


def test_functions_defined_in_another_file_are_not_touched(tmp_path: Path) -> None:
    module = load(tmp_path)
    assert recorder.find_function(module, "total", str(tmp_path / "other.py")) is None
    assert (
        recorder.find_function(module, "cached", str(module.__file__)) is module.cached.__wrapped__
    )
    assert recorder.find_function(module, "Tokenizer.missing", str(module.__file__)) is None


def test_a_file_imported_under_two_names_records_through_both(tmp_path: Path) -> None:
    module, rec, out = install(tmp_path, [("total", "function")])
    spec = importlib.util.spec_from_file_location("recmod_again", module.__file__)
    assert spec is not None and spec.loader is not None
    again = importlib.util.module_from_spec(spec)
    sys.modules["recmod_again"] = again
    spec.loader.exec_module(again)
    rec.install_pending()
    assert module.total([1]) == 1 and again.total([2]) == 2
    calls = [r["call"]["args"] for r in records(rec, out) if "key" in r]
    assert calls == [[{"l": [1], "#": 0}], [{"l": [2], "#": 0}]]
