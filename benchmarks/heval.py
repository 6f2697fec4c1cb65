"""HumanEval / HumanEval+ / HumanEvalFix data and hidden-test scoring (scoring only; never fed to prompts)."""

from __future__ import annotations

import gzip
import json
import random
import tempfile
from pathlib import Path
from typing import Any

from codegrad.verify import sandbox

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
HUMANEVAL = SHARED / "humaneval" / "HumanEval.jsonl.gz"
PLUS_MINI = SHARED / "humanevalplus" / "HumanEvalPlus-Mini.jsonl.gz"
HEFIX = SHARED / "humanevalfix" / "humanevalpack.jsonl"


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
        return [json.loads(line) for line in handle if line.strip()]


def humaneval() -> dict[str, dict[str, Any]]:
    return {t["task_id"]: t for t in _read_jsonl(HUMANEVAL)}


def plus() -> dict[str, dict[str, Any]]:
    return {t["task_id"]: t for t in _read_jsonl(PLUS_MINI)}


def humanevalfix() -> dict[str, dict[str, Any]]:
    return {t["task_id"].replace("Python/", "HumanEval/"): t for t in _read_jsonl(HEFIX)}


def subset(seed: int, count: int) -> list[str]:
    """The first `count` of random.Random(seed).shuffle(range(164)) as HumanEval task ids."""
    order = list(range(164))
    random.Random(seed).shuffle(order)
    return [f"HumanEval/{n}" for n in order[:count]]


SCORER = r"""
import copy, json, math, signal, sys

spec = json.load(open(sys.argv[1]))

class Timeout(BaseException):
    pass

def _alarm(signum, frame):
    raise Timeout()

signal.signal(signal.SIGALRM, _alarm)

def run_with_timeout(fn, seconds):
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)

def load(source):
    namespace = {"__name__": "__candidate__"}
    exec(compile(source, "candidate.py", "exec"), namespace)
    return namespace

def close(a, b, atol):
    if isinstance(a, float) or isinstance(b, float):
        try:
            if math.isnan(a) and math.isnan(b):
                return True
            return math.isclose(a, b, rel_tol=1e-6, abs_tol=max(atol, 1e-6))
        except TypeError:
            return False
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) == type(b) and len(a) == len(b) and all(close(x, y, atol) for x, y in zip(a, b))
    return a == b

result = {"base": False, "plus": None}
try:
    ns = load(spec["candidate"])
    fn = ns[spec["entry_point"]]
except BaseException as exc:
    result["error"] = repr(exc)[:300]
    json.dump(result, open(sys.argv[2], "w"))
    sys.exit(0)

try:
    test_ns = dict(ns)
    exec(spec["test"], test_ns)
    run_with_timeout(lambda: test_ns["check"](fn), spec["base_timeout"])
    result["base"] = True
except BaseException as exc:
    result["base_error"] = repr(exc)[:300]

if spec.get("plus_inputs") is not None:
    ref = load(spec["reference"])[spec["entry_point"]]
    ok = True
    for inp in spec["plus_inputs"]:
        try:
            expected = run_with_timeout(lambda: ref(*copy.deepcopy(inp)), 5.0)
        except BaseException:
            continue  # the reference itself rejects this input: not scored
        try:
            got = run_with_timeout(lambda: fn(*copy.deepcopy(inp)), spec["input_timeout"])
        except BaseException as exc:
            ok = False
            result["plus_error"] = f"{type(exc).__name__} on {repr(inp)[:200]}"
            break
        if not close(got, expected, spec["atol"]):
            ok = False
            result["plus_error"] = f"wrong on {repr(inp)[:200]}"
            break
    result["plus"] = ok and result["base"]
json.dump(result, open(sys.argv[2], "w"))
"""


def score(
    task: dict[str, Any], plus_task: dict[str, Any] | None, candidate_file: str
) -> dict[str, Any]:
    """Run the hidden base tests and the HumanEval+ inputs on a candidate file (in the sandbox)."""
    spec = {
        "candidate": candidate_file,
        "entry_point": task["entry_point"],
        "test": task["test"],
        "base_timeout": 20.0,
        "input_timeout": 2.0,
        "plus_inputs": None,
        "reference": None,
        "atol": 0.0,
    }
    if plus_task is not None:
        spec["plus_inputs"] = list(plus_task["base_input"]) + list(plus_task["plus_input"])
        spec["reference"] = plus_task["prompt"] + plus_task["canonical_solution"]
        spec["atol"] = float(plus_task.get("atol") or 0)
    with tempfile.TemporaryDirectory(prefix="cg-score-") as tmp:
        root = Path(tmp)
        (root / "scorer.py").write_text(SCORER)
        (root / "spec.json").write_text(json.dumps(spec))
        run = sandbox.run(
            sandbox.python_argv("scorer.py", "spec.json", "result.json"),
            cwd=root,
            timeout=180,
            limits=sandbox.Limits(memory_mb=4096),
            readable=[Path(candidate_file)],
        )
        result_path = root / "result.json"
        if not result_path.is_file():
            return {
                "base": False,
                "plus": False,
                "error": f"scorer died: {run.killed_by or run.returncode}",
            }
        data: dict[str, Any] = json.loads(result_path.read_text())
    if data.get("plus") is None and plus_task is not None:
        data["plus"] = False
    return data
