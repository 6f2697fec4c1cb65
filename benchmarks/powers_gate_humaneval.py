"""How often the powers gate would refuse a correct fix: HumanEval's canonical solutions as
candidates for the prompt's stub (the module as a pull request would have it).

    python benchmarks/powers_gate_humaneval.py [path/to/HumanEval.jsonl.gz]
"""

from __future__ import annotations

import ast
import gzip
import json
import sys

from codegrad.refine import powers

DEFAULT = "../shared/data/humaneval/HumanEval.jsonl.gz"


def main(path: str = DEFAULT) -> int:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    refused = []
    for row in rows:
        stub = row["prompt"] + "    pass\n"
        solution = row["prompt"] + row["canonical_solution"]
        tree = ast.parse(solution)
        function = next(
            n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == row["entry_point"]
        )
        candidate = ast.get_source_segment(solution, function) or ""
        found = powers.added(stub, candidate)
        if found:
            refused.append((row["task_id"], [p.name for p in found]))
    print(f"{len(refused)}/{len(rows)} canonical solutions refused by the powers gate")
    for task, names in refused:
        print(f"  {task}: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
