"""The cost hooks instrumented code calls: each does the original operation and charges what it touched."""

from __future__ import annotations

import collections
import math
import operator
import types
from collections.abc import Callable
from typing import Any

from codegrad.runners.cost_meter import Meter

_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add,
    "mul": operator.mul,
    "sub": operator.sub,
    "or_": operator.or_,
    "and_": operator.and_,
    "xor": operator.xor,
}
_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.iadd,
    "mul": operator.imul,
    "sub": operator.isub,
    "or_": operator.ior,
    "and_": operator.iand,
    "xor": operator.ixor,
}
_SCANNED: tuple[type, ...] = (
    list,
    tuple,
    str,
    bytes,
    bytearray,
    collections.deque,
    type({}.values()),
)
_SIZED: tuple[type, ...] = (*_SCANNED, set, frozenset, dict)
_HASHED = (set, frozenset, dict)


def _size(value: Any) -> int:
    """The number of elements of a built-in container (0 for anything else)."""
    # no typing.cast here: a Python-level call from a hook would be counted as the target's cost
    return len(value) if isinstance(value, _SIZED) else 0  # type: ignore[arg-type]


def _log_cost(n: int) -> int:
    return max(1, math.ceil(math.log2(n + 1)))


def _sort_cost(n: int) -> int:
    return n * _log_cost(n) if n > 1 else n


class Costs:
    """The helper instrumented code calls; each method does the original operation and charges it."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter
        builtin_rules: dict[Any, Callable[[tuple[Any, ...], Any], int]] = {
            sorted: lambda a, r: _sort_cost(_size(r)),
            sum: _sum_cost,
            min: lambda a, r: _size(a[0]) if len(a) == 1 else len(a),
            max: lambda a, r: _size(a[0]) if len(a) == 1 else len(a),
            any: lambda a, r: _size(a[0]) if a else 0,
            all: lambda a, r: _size(a[0]) if a else 0,
            str: lambda a, r: len(r) if a and isinstance(a[0], _SIZED) else 0,
            repr: lambda a, r: len(r) if a and isinstance(a[0], _SIZED) else 0,
        }
        for kind in (list, tuple, set, frozenset, dict, bytes, bytearray):
            builtin_rules[kind] = lambda a, r: _size(r)
        self._modules(builtin_rules)
        self.rules = {id(k): v for k, v in builtin_rules.items()}

    @staticmethod
    def _modules(rules: dict[Any, Callable[[tuple[Any, ...], Any], int]]) -> None:
        import bisect
        import heapq

        def first(a: tuple[Any, ...], r: Any) -> int:
            return _size(a[0]) if a else 0

        def log_first(a: tuple[Any, ...], r: Any) -> int:
            return _log_cost(_size(a[0])) if a else 0

        linear: tuple[Any, ...] = (
            heapq.heapify,
            bisect.insort,
            bisect.insort_left,
            bisect.insort_right,
            math.prod,
            math.fsum,
        )
        searches: tuple[Any, ...] = (bisect.bisect, bisect.bisect_left, bisect.bisect_right)
        rules.update(dict.fromkeys(linear, first))
        rules.update(dict.fromkeys(searches, log_first))

    # ----- the hooks
    def contains(self, container: Any) -> Any:
        if isinstance(container, _SCANNED) and not isinstance(container, _HASHED):
            self.meter.charge(_size(container))
        return container

    def binop(self, op: str, left: Any, right: Any) -> Any:
        result = _BINOPS[op](left, right)
        if isinstance(result, _SIZED):
            both = _size(left) + _size(right)
            self.meter.charge(
                max(_size(result), both) if isinstance(result, _HASHED) else _size(result)
            )
        return result

    def inplace(self, op: str, left: Any, right: Any) -> Any:
        before = _size(left)
        result = _INPLACE[op](left, right)
        if isinstance(result, _SIZED):
            # in place (list +=, set |=): the added elements; a new object (str +=): all of it
            self.meter.charge(_size(right) if result is left else max(_size(result), before))
        return result

    def sized(self, value: Any) -> Any:
        self.meter.charge(_size(value))
        return value

    def call(self, func: Any, /, *args: Any, **kwargs: Any) -> Any:
        # only built-in methods are inspected: touching a user object's attributes could run its code
        owner = func.__self__ if type(func) is types.BuiltinMethodType else None
        before = _size(owner)
        result = func(*args, **kwargs)
        if not self.meter.active:
            return result
        rule = self.rules.get(id(func))
        if rule is not None:
            self.meter.charge(rule(args, result))
        elif isinstance(owner, _SIZED):
            self.meter.charge(_method_cost(owner, func.__name__, args, result, before))
        return result


def _sum_cost(args: tuple[Any, ...], result: Any) -> int:
    """sum() over numbers reads each once; sum(rows, []) copies the growing total at every step."""
    count = _size(args[0]) if args else 0
    if isinstance(result, (list, tuple)):
        return count + count * len(result) // 2
    return count


def _method_cost(owner: Any, name: str, args: tuple[Any, ...], result: Any, before: int) -> int:
    """Elements a built-in container method touches (0 for the O(1) ones)."""
    after = _size(owner)
    if name == "sort":
        return _sort_cost(after)
    if name in ("append", "add", "get", "keys", "setdefault", "discard", "popitem"):
        return 0
    if name == "pop":
        if isinstance(owner, list) and args and isinstance(args[0], int):
            index = args[0] if args[0] >= 0 else before + args[0]
            return max(0, before - index - 1)
        return 0
    if name == "insert" and args and isinstance(args[0], int):
        index = min(max(args[0] if args[0] >= 0 else before + args[0], 0), before)
        return before - index
    if name in ("extend", "update", "intersection_update", "difference_update"):
        return max(after - before, _size(args[0]) if args else 0)
    if name == "join":
        return max(_size(result), _size(args[0]) if args else 0)
    if name in ("union", "intersection", "difference", "symmetric_difference", "fromkeys"):
        return before + sum(_size(a) for a in args)
    if name in ("values", "items"):
        return 0  # views: iterating them runs lines or a charged built-in
    return max(before, _size(result))
