"""llm-checks sandbox side: inputs next to the docstring examples, and the key of an input."""

from __future__ import annotations

import itertools
from typing import Any

from codegrad.runners import values
from codegrad.runners.llm_validation import Example


def input_key(args: list[Any], kwargs: dict[str, Any]) -> str:
    return values.describe((args, sorted(kwargs.items())), limit=10_000)


NEIGHBOURS = 40  # at most this many inputs derived from the docstring examples


def _variants(value: Any) -> list[Any]:
    """A list or tuple argument sorted, both ways (strings are left alone: reversing one changes
    its structure, e.g. brackets, and leaves the domain)."""
    if not isinstance(value, list | tuple) or len(value) < 2:
        return []
    try:
        ordered = sorted(value)
    except TypeError:
        return []
    return [type(value)(ordered), type(value)(ordered[::-1])]


def neighbours(examples: list[Example]) -> list[tuple[list[Any], dict[str, Any]]]:
    """Inputs next to the docstring examples: the positional arguments of one type swapped
    (`f(3, 4, 5)` -> `f(5, 3, 4)`), a list argument sorted. The examples state the domain; these
    stay inside it and reach branches that random inputs rarely do."""
    out: list[tuple[list[Any], dict[str, Any]]] = []
    seen = {input_key(e.args, e.kwargs) for e in examples}

    def add(args: list[Any], kwargs: dict[str, Any]) -> None:
        key = input_key(args, kwargs)
        if key not in seen and len(out) < NEIGHBOURS:
            seen.add(key)
            out.append((args, kwargs))

    for example in examples:
        args = example.args
        if 2 <= len(args) <= 4:
            for order in itertools.permutations(range(len(args))):
                if all(type(args[i]) is type(args[j]) for i, j in enumerate(order)):
                    add([args[j] for j in order], dict(example.kwargs))
        for index, value in enumerate(args):
            for variant in _variants(value):
                add([*args[:index], variant, *args[index + 1 :]], dict(example.kwargs))
    return out
