"""Measure how many HumanEval prompts yield docstring examples (uses only `prompt` and `entry_point`).

Run: python benchmarks/example_parse_rate.py [--data PATH] [--show-missing] [--by-form]
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import sys
from pathlib import Path

from codegrad.verify.inputs.examples import Example, extract, find_docstring

DEFAULT_DATA = Path("/work/shared/data/humaneval/HumanEval.jsonl.gz")


def load(path: Path) -> list[dict[str, str]]:
    """The prompt and entry point of every task (the hidden tests are never read)."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [
        {"task_id": r["task_id"], "prompt": r["prompt"], "entry_point": r["entry_point"]}
        for r in rows
    ]


def examples_for(prompt: str, entry_point: str) -> list[Example]:
    """The examples the docstrings check would extract from this prompt's entry point."""
    site = find_docstring(prompt, entry_point)
    if site is None:
        return []
    return extract(site.text, entry_point, params=site.params)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--show-missing", action="store_true", help="list prompts with no examples")
    parser.add_argument("--by-form", action="store_true", help="count examples per form")
    args = parser.parse_args(argv)
    rows = load(args.data)
    with_examples = 0
    total = 0
    forms: collections.Counter[str] = collections.Counter()
    missing: list[str] = []
    for row in rows:
        found = examples_for(row["prompt"], row["entry_point"])
        total += len(found)
        forms.update(e.form for e in found)
        if found:
            with_examples += 1
        else:
            missing.append(f"{row['task_id']} {row['entry_point']}")
    print(f"prompts with examples: {with_examples}/{len(rows)}  (examples: {total})")
    if args.by_form:
        for form, count in forms.most_common():
            print(f"  {form}: {count}")
    if args.show_missing:
        for item in missing:
            print(f"  no examples: {item}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
