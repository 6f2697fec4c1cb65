"""The properties check: generated Hypothesis tests (no crash, return type, idempotence, round-trip)."""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from codegrad.funcsource import parse_def
from codegrad.model import CheckResult, Finding, Kind, Severity, Target
from codegrad.verify import reproducer
from codegrad.verify.checks import batching, recording
from codegrad.verify.checks.base import CheckContext
from codegrad.verify.inputs import strategies

NAME = "properties"

# ---------------------------------------------------------------- pure: what to test


def raised_types(source: str) -> tuple[str, ...]:
    """Exception types a function raises on purpose: its own `raise X`, and asserts that guard its arguments."""
    node = parse_def(source)
    if node is None:
        return ()
    names: list[str] = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Raise) and sub.exc is not None:
            exc = sub.exc.func if isinstance(sub.exc, ast.Call) else sub.exc
            name = (
                exc.id
                if isinstance(exc, ast.Name)
                else exc.attr
                if isinstance(exc, ast.Attribute)
                else None
            )
            if name and name not in names:
                names.append(name)
    body = node.body[1:] if ast.get_docstring(node) is not None else node.body
    if body and isinstance(body[0], ast.Assert):
        names.append("AssertionError")
    return tuple(names)


_CONCRETE = {
    "int": "int",
    "float": "float",
    "complex": "complex",
    "str": "str",
    "bool": "bool",
    "bytes": "bytes",
    "None": "none",
    "NoneType": "none",
    "list": "list",
    "List": "list",
    "set": "set",
    "Set": "set",
    "frozenset": "frozenset",
    "FrozenSet": "frozenset",
    "tuple": "tuple",
    "Tuple": "tuple",
    "dict": "dict",
    "Dict": "dict",
}


def type_spec(annotation: str | None) -> dict[str, Any] | None:
    """A return-type spec the runner can check; abstract or unknown types are not checked (None)."""
    if not annotation:
        return None
    try:
        spec = _spec(ast.parse(annotation, mode="eval").body)
    except SyntaxError:
        return None
    return None if spec["t"] == "any" else spec


_ANY: dict[str, Any] = {"t": "any"}


def _spec(node: ast.expr) -> dict[str, Any]:
    if isinstance(node, ast.Constant):
        if node.value is None:
            return {"t": "none"}
        if isinstance(node.value, str):
            try:
                return _spec(ast.parse(node.value, mode="eval").body)
            except SyntaxError:
                return _ANY
        return _ANY
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([_spec(node.left), _spec(node.right)])
    if isinstance(node, ast.Subscript):
        return _generic_spec(node)
    name = _name(node)
    return {"t": _CONCRETE[name]} if name in _CONCRETE else _ANY


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _union(specs: list[dict[str, Any]]) -> dict[str, Any]:
    if any(s["t"] == "any" for s in specs):
        return _ANY
    return {"t": "union", "of": specs}


def _generic_spec(node: ast.Subscript) -> dict[str, Any]:
    name = _name(node.value)
    args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
    if name == "Optional":
        return _union([{"t": "none"}, _spec(args[0])])
    if name == "Union":
        return _union([_spec(a) for a in args])
    kind = _CONCRETE.get(name or "")
    if kind in ("list", "set", "frozenset"):
        return {"t": kind, "elem": _spec(args[0])}
    if kind == "tuple":
        if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis:
            return {"t": "tuple", "elem": _spec(args[0])}
        if len(args) == 1 and isinstance(args[0], ast.Tuple) and not args[0].elts:
            return {"t": "tuple", "of": []}
        return {"t": "tuple", "of": [_spec(a) for a in args]}
    if kind == "dict" and len(args) == 2:
        return {"t": "dict", "key": _spec(args[0]), "value": _spec(args[1])}
    return _ANY


def kinds_spec(expected: Iterable[str | None]) -> dict[str, Any] | None:
    """The kinds of value the docstring examples return (numbers count as one kind); None if unclear."""
    kinds: list[dict[str, Any]] = []
    count = 0
    for text in expected:
        if text is None:
            return None
        try:
            value = strategies.literal(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None
        count += 1
        kind = {"t": _kind(value)}
        if kind["t"] == "other":
            return None
        if kind not in kinds:
            kinds.append(kind)
    if count < 2:
        return None
    return kinds[0] if len(kinds) == 1 else {"t": "union", "of": kinds}


def _kind(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "float"
    for kind in (str, bytes, list, tuple, dict, set, frozenset):
        if isinstance(value, kind):
            return kind.__name__
    return "other"


_IDEMPOTENT = {
    "normalize",
    "normalise",
    "canonical",
    "canonicalize",
    "canonicalise",
    "sort",
    "sorted",
    "strip",
    "clean",
    "dedup",
    "dedupe",
    "deduplicate",
    "unique",
    "uniq",
}


def words(name: str) -> list[str]:
    """`sortNumbers` / `sort_numbers` -> ["sort", "numbers"]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [w.lower() for w in spaced.split("_") if w]


def idempotent_name(name: str) -> bool:
    """Names that promise f(f(x)) == f(x): normalize*, sort*, strip*, clean*, dedup*, unique*, ..."""
    parts = words(name)
    return bool(parts) and (parts[0] in _IDEMPOTENT or parts[:2] == ["remove", "duplicates"])


_PAIRS = (
    ("encode", "decode"),
    ("encrypt", "decrypt"),
    ("compress", "decompress"),
    ("serialize", "deserialize"),
    ("serialise", "deserialise"),
    ("dumps", "loads"),
    ("to", "from"),
    ("escape", "unescape"),
    ("quote", "unquote"),
    ("pack", "unpack"),
)


def round_trip_pair(name: str, names: Iterable[str]) -> tuple[str, str] | None:
    """(encoder, decoder) when name and a function in `names` form such a pair by their words."""
    available = set(names)
    tokens = name.split("_")
    for forward, backward in _PAIRS:
        for index, token in enumerate(tokens):
            for mine, other in ((forward, backward), (backward, forward)):
                if token != mine:
                    continue
                partner = "_".join([*tokens[:index], other, *tokens[index + 1 :]])
                if partner in available and partner != name:
                    return (name, partner) if mine == forward else (partner, name)
    return None


def module_functions(
    module_source: str | None,
) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Top-level functions of a module by name."""
    if not module_source:
        return {}
    try:
        tree = ast.parse(module_source)
    except SyntaxError:
        return {}
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def params_json(plan: strategies.ArgPlan) -> list[dict[str, Any]]:
    return [
        {
            "name": p.name,
            "strategy": p.strategy,
            "wide": p.wide,
            "keyword": p.keyword,
            "star": p.star,
            "origin": p.origin,
        }
        for p in plan.params
    ]


def examples_json(plan: strategies.ArgPlan, *, with_raising: bool) -> list[dict[str, Any]]:
    return [
        {"args": list(e.args), "kwargs": [list(kv) for kv in e.kwargs]}
        for e in plan.examples
        if with_raising or not e.raises
    ]


def _round_trip(
    target: Target, module_source: str | None, others: Iterable[str]
) -> dict[str, Any] | None:
    """The round-trip test for an encoder/decoder pair (run once: on the decoder when both changed)."""
    if target.kind != "function":
        return None
    functions = module_functions(module_source)
    pair = round_trip_pair(target.name, functions)
    if pair is None or (pair[0] == target.name and pair[1] in others):
        return None
    encoder = functions[pair[0]]
    encode_plan = strategies.plan_def(encoder, ast.get_docstring(encoder))
    if (
        isinstance(encode_plan, strategies.Skip)
        or encode_plan.guessed
        or len(encode_plan.params) != 1
    ):
        return None
    return {"encode": pair[0], "decode": pair[1], "params": params_json(encode_plan)}


def target_spec(
    target: Target,
    plan: strategies.ArgPlan,
    module_source: str | None,
    *,
    regression: bool,
    others: Iterable[str] = (),
) -> dict[str, Any]:
    """What the properties runner needs for one target (regression: confirm failures against base)."""
    returns = type_spec(plan.returns)
    origin = "annotation" if returns is not None else None
    if returns is None and plan.returns is None:
        returns = kinds_spec(e.expected for e in plan.examples if not e.raises)
        origin = "examples" if returns is not None else None
    return {
        "key": target.key,
        "path": target.path,
        "qualname": target.qualname,
        "base_path": (target.base_path or target.path) if regression else None,
        "construct": plan.construct,
        "params": params_json(plan),
        "examples": examples_json(plan, with_raising=False),
        "allowed": list(raised_types(target.source)),
        "base_allowed": list(raised_types(target.base_source)) if target.base_source else [],
        "returns": returns,
        "returns_from": origin,
        "idempotent": idempotent_name(target.name)
        and len(plan.params) == 1
        and not plan.params[0].star,
        "round_trip": _round_trip(target, module_source, others),
        "is_async": target.is_async,
    }


# ---------------------------------------------------------------- I/O: running batches


def read_module(root: Path | None, path: str | None) -> str | None:
    """A module's text, or None when it cannot be read."""
    if root is None or path is None:
        return None
    try:
        return (root / path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


Batch = batching.Batch[float]  # a hung target keeps the hard limit it ran past


def budgets(ctx: CheckContext) -> dict[str, float]:
    """Per-target time limits for a runner spec, from the settings."""
    per_function = max(1.0, ctx.settings.function_timeout)
    return {
        "budget": round(per_function * 0.6, 3),
        "hard_limit": per_function,
        "call_timeout": max(0.05, min(ctx.settings.call_timeout, per_function / 4)),
    }


def run_batched(
    runner: str,
    common: dict[str, Any],
    specs: Sequence[dict[str, Any]],
    ctx: CheckContext,
    cwd: Path,
) -> Batch:
    """Run all targets in one runner process; after a hard hang, go on with the rest in a new one."""
    limit = float(common["hard_limit"])

    def hang(current: Any, results: Mapping[str, Any]) -> tuple[str, float] | None:
        return (current, limit) if current not in results else None

    return batching.run_batches(
        runner, common, specs, ctx, cwd, per_target=limit, slack=15, hang=hang
    )


# ---------------------------------------------------------------- findings


def fault_line(target: Target, frames: Sequence[str]) -> int:
    """The last traceback line inside the target's def, else the def line."""
    for frame in reversed(frames):
        match = re.match(r".*?:(\d+): ", frame)
        if match and target.lineno <= int(match.group(1)) <= target.end_lineno:
            return int(match.group(1))
    return target.lineno


def hung_finding(target: Target, check: str, seconds: float, regression: bool) -> Finding:
    return Finding(
        path=target.path,
        function=target.qualname,
        line=target.lineno,
        check=check,
        kind=Kind.TIMEOUT,
        message=(
            f"{target.qualname} did not finish its generated inputs within {seconds:g} s and was stopped "
            "(a call ignored the per-call time limit, e.g. a long computation in native code)"
        ),
        severity=None if regression else Severity.WARNING,
        details={"hard_limit": seconds},
    )


_LIMIT_ERRORS = {"OverflowError", "RecursionError", "MemoryError"}

_MESSAGES = {
    "crash": "{call} raises {raised}: {message}",
    "timeout": "{call} did not finish within {limit:g} s",
    "return-type": "{call} returns {detail}, but {source} say{s} {expected}",
    "idempotence": "{name} is not idempotent: {call} returns {value}, but applying it again gives {detail}",
    "round-trip": "decoding does not invert encoding on {call}: {detail}",
}


def property_finding(
    target: Target,
    spec: dict[str, Any],
    failure: dict[str, Any],
    *,
    regression: bool,
    call_timeout: float,
    max_examples: int,
) -> Finding:
    """One failing property as a Finding with its reproducer."""
    prop = failure["property"]
    outcome = failure.get("outcome", {})
    expected = _expected(spec, prop)
    text = _MESSAGES[prop].format(
        call=failure["input"],
        raised=outcome.get("raised", ""),
        message=outcome.get("message", ""),
        limit=call_timeout,
        detail=failure.get("detail", ""),
        source="the annotation"
        if spec.get("returns_from") == "annotation"
        else "the docstring examples",
        s="s" if spec.get("returns_from") == "annotation" else "",
        expected=expected,
        name=target.qualname,
        value=outcome.get("value", ""),
    )
    kind = {"crash": Kind.CRASH, "timeout": Kind.TIMEOUT}.get(prop, Kind.BUG)
    # a hang or a resource limit on a generated input may mean the input is outside the domain
    # (too large, a precondition only the prose states), unless base or a docstring example vouches
    # for the input; and a name only suggests idempotence
    limit = prop == "timeout" or outcome.get("raised") in _LIMIT_ERRORS
    certain = regression or bool(failure.get("from_example"))
    weak = (limit and not certain) or prop == "idempotence"
    severity = Severity.WARNING if weak else None
    frames = tuple(failure.get("traceback", []))
    return Finding(
        path=target.path,
        function=target.qualname,
        line=fault_line(target, frames),
        check=NAME,
        kind=kind,
        message=text + (" (base does not fail on this input)" if regression else ""),
        severity=severity,
        input=failure["input"],
        expected=expected,
        actual=reproducer.outcome_text(outcome) if prop != "return-type" else failure.get("detail"),
        traceback=frames,
        reproduces=bool(failure.get("reproduces")),
        base_fails_same=False if regression else None,
        reproducer=_reproducer(target, spec, failure, max_examples),
        details={
            "property": prop,
            "args": failure.get("args", {}),
            "from_example": failure.get("from_example"),
        },
    )


def _expected(spec: dict[str, Any], prop: str) -> str:
    if prop == "return-type":
        return describe_spec(spec.get("returns") or {})
    if prop == "crash":
        allowed = spec.get("allowed") or []
        return "no exception" + (f" other than {', '.join(allowed)}" if allowed else "")
    if prop == "idempotence":
        return "f(f(x)) == f(x)"
    if prop == "round-trip":
        return "encode(decode(encode(x))) == encode(x)"
    return "a result within the time limit"


def describe_spec(spec: dict[str, Any]) -> str:
    """`list[int]`, `int | None`, ... for messages."""
    kind = spec.get("t", "any")
    if kind == "union":
        return " | ".join(describe_spec(s) for s in spec["of"])
    if kind in ("list", "set", "frozenset") or (kind == "tuple" and "of" not in spec):
        elem = spec.get("elem")
        return (
            f"{kind}[{describe_spec(elem)}{', ...' if kind == 'tuple' else ''}]" if elem else kind
        )
    if kind == "tuple":
        return f"tuple[{', '.join(describe_spec(s) for s in spec['of'])}]"
    if kind == "dict" and spec.get("key"):
        return f"dict[{describe_spec(spec['key'])}, {describe_spec(spec['value'])}]"
    return "None" if kind == "none" else str(kind)


def _reproducer(
    target: Target, spec: dict[str, Any], failure: dict[str, Any], max_examples: int
) -> str:
    trip = spec.get("round_trip") if failure["property"] == "round-trip" else None
    raw = trip["params"] if trip else spec["params"]
    subject = reproducer.Subject(target.path, target.qualname, target.kind, target.is_async)
    case = reproducer.PropertyCase(
        prop=failure["property"],
        params=tuple((p["name"], p["strategy"], bool(p["keyword"]), bool(p["star"])) for p in raw),
        example=failure.get("args", {}),
        allowed=tuple(spec.get("allowed") or ()),
        returns=spec.get("returns"),
        encode=trip["encode"] if trip else None,
        decode=trip["decode"] if trip else None,
        max_examples=max_examples,
        note=f"found by codegrad: {failure['input']}",
        tolerant=not _exact_result(failure.get("outcome", {})),
    )
    return reproducer.property_test(subject, case)


def _exact_result(outcome: dict[str, Any]) -> bool:
    """The result is a literal that `==` judges as the check did (no floats, no objects)."""
    literal = outcome.get("literal")
    return isinstance(literal, str) and reproducer.exact(literal)


# ---------------------------------------------------------------- the check


def plan_targets(
    targets: Sequence[Target],
    root: Path,
    known: Callable[[Target], Mapping[str, Sequence[Any]]] | None = None,
) -> tuple[list[tuple[Target, strategies.ArgPlan, str | None]], dict[str, str]]:
    """Plans for the targets that can be planned, and why the others cannot (known: values the
    project's tests pass to a target, per parameter)."""
    planned = []
    skipped: dict[str, str] = {}
    for target in targets:
        source = read_module(root, target.path)
        made = strategies.plan(target, source, known(target) if known else None)
        if isinstance(made, strategies.Skip):
            skipped[target.key] = made.reason
        elif made.guessed:
            skipped[target.key] = made.guessed
        else:
            planned.append((target, made, source))
    return planned, skipped


MakeFinding = Callable[[Target, dict[str, Any], dict[str, Any]], Finding]


def collect(
    batch: Batch,
    by_key: dict[str, tuple[Target, dict[str, Any]]],
    make: MakeFinding,
    skipped: dict[str, str],
    regression_of: Callable[[Target], bool],
    check: str,
) -> tuple[list[Finding], list[str], dict[str, Any]]:
    """Findings, checked keys and stats from a batch (shared by the properties and differential checks)."""
    findings: list[Finding] = []
    checked: list[str] = []
    stats: dict[str, Any] = {
        "calls": 0,
        "out_of_domain": 0,
        "partial": [],
        "hung": sorted(batch.hung),
    }
    for key, (target, spec) in by_key.items():
        if key in batch.hung:
            findings.append(hung_finding(target, check, batch.hung[key], regression_of(target)))
            checked.append(key)
            continue
        result = batch.results.get(key)
        if result is None:
            skipped[key] = (
                f"not run: {batch.broken}" if batch.broken else "not run: the time budget was spent"
            )
            continue
        if result.get("status") in ("skipped", "error"):
            skipped[key] = str(result.get("reason", "could not run"))
            continue
        checked.append(key)
        stats["calls"] += int(result.get("calls", 0))
        stats["out_of_domain"] += int(result.get("out_of_domain", 0))
        if result.get("status") == "partial":
            stats["partial"].append(key)
        findings += [make(target, spec, failure) for failure in result.get("failures", [])]
    return findings, checked, stats


def is_regression(target: Target, ctx: CheckContext) -> bool:
    return target.base_source is not None and ctx.workspace.base_root is not None


class PropertiesCheck:
    """Generated Hypothesis properties per target, batched into one sandboxed runner per run."""

    name = NAME

    def run(self, targets: Sequence[Target], ctx: CheckContext) -> CheckResult:
        started = time.monotonic()
        head = ctx.workspace.head_root
        planned, skipped = plan_targets(targets, head, lambda t: recording.known_values(ctx, t))
        names = {t.qualname for t in targets if t.kind == "function"}
        specs = [
            target_spec(t, p, s, regression=is_regression(t, ctx), others=names - {t.qualname})
            for t, p, s in planned
        ]
        limits = budgets(ctx)
        common = {
            "root": str(head),
            "base_root": str(ctx.workspace.base_root) if ctx.workspace.base_root else None,
            "max_examples": ctx.settings.max_examples,
            "seed": ctx.settings.seed,
            **limits,
        }
        batch = run_batched("properties", common, specs, ctx, head) if specs else Batch()
        by_key = {s["key"]: (t, s) for (t, _, _), s in zip(planned, specs, strict=True)}

        def make(target: Target, spec: dict[str, Any], failure: dict[str, Any]) -> Finding:
            return property_finding(
                target,
                spec,
                failure,
                regression=is_regression(target, ctx),
                call_timeout=limits["call_timeout"],
                max_examples=ctx.settings.max_examples,
            )

        findings, checked, stats = collect(
            batch, by_key, make, skipped, lambda t: is_regression(t, ctx), NAME
        )
        return CheckResult(
            check=NAME,
            findings=tuple(findings),
            checked=tuple(checked),
            skipped=skipped,
            seconds=time.monotonic() - started,
            stats=stats,
        )
