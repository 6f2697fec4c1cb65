"""The JSON report (schema in docs/report-schema.md) and its inverse, for merging shard reports."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import codegrad
from codegrad import gradient
from codegrad.errors import UsageError
from codegrad.model import (
    DEFAULT_SEVERITY,
    CheckResult,
    Evidence,
    Finding,
    Fix,
    Kind,
    Outcome,
    Severity,
    Target,
)

VERSION = 1


REPORT_HINT = "give a JSON report written by `codegrad harden --format json` or `codegrad review --format json`"


def render(outcome: Outcome) -> str:
    """The report as indented, key-sorted JSON text ending in a newline."""
    return json.dumps(to_dict(outcome), indent=2, sort_keys=True, default=str) + "\n"


def to_dict(outcome: Outcome) -> dict[str, Any]:
    """The report as plain JSON-able data; deterministic (everything sorted)."""
    findings = sorted(outcome.findings, key=_finding_key)
    known = {t.key for t in outcome.targets}
    return {
        "version": VERSION,
        "tool": "codegrad",
        "tool_version": codegrad.__version__,
        "base": outcome.base,
        "head": outcome.head,
        "tree": outcome.tree,
        "nothing_checked": outcome.nothing_checked,
        "summary": summary(outcome),
        "targets": [_target_dict(r, known) for r in gradient.per_function(outcome)],
        "checks": [_check_dict(r) for r in sorted(outcome.evidence.results, key=lambda r: r.check)],
        "findings": [f.to_dict() for f in findings],
        "fixes": [
            fix.to_dict() for fix in sorted(outcome.fixes, key=lambda x: (x.path, x.function))
        ],
        "notes": list(outcome.notes),
    }


def summary(outcome: Outcome) -> dict[str, Any]:
    """Counts by severity, kind and check; targets; seconds; loss; fixes; the verdict."""
    findings = outcome.findings
    total = gradient.loss(findings)
    flagged = {(f.path, f.function) for f in findings}
    return {
        "verdict": "nothing-checked"
        if outcome.nothing_checked and not findings
        else gradient.verdict(findings),
        "findings": len(findings),
        "by_severity": gradient.counts_by_severity(findings),
        "by_kind": dict(sorted(total.by_kind.items())),
        "by_check": dict(sorted(total.by_check.items())),
        "loss": round(total.total, 4),
        "targets": len(outcome.targets),
        "targets_with_findings": len(flagged),
        "fixes": len(outcome.fixes),
        "fixes_verified": sum(1 for x in outcome.fixes if x.verified),
        "seconds": round(outcome.seconds, 3),
    }


def _finding_key(f: Finding) -> tuple[str, int, str, str, str, str, str]:
    return (f.path, f.line, f.function, f.check, f.kind.value, f.input or "", f.message)


def _target_dict(report: gradient.FunctionReport, known: set[str]) -> dict[str, Any]:
    data = asdict(report.target)
    data["synthetic"] = report.target.key not in known
    data["changed_lines"] = list(report.target.changed_lines)
    data["key"] = report.target.key
    data["is_new"] = report.target.is_new
    data["loss"] = {
        "total": round(report.loss.total, 4),
        "count": report.loss.count,
        "by_check": dict(sorted(report.loss.by_check.items())),
        "by_kind": dict(sorted(report.loss.by_kind.items())),
    }
    return data


def _check_dict(result: CheckResult) -> dict[str, Any]:
    return {
        "check": result.check,
        "findings": len(result.findings),
        "checked": sorted(result.checked),
        "skipped": dict(sorted(result.skipped.items())),
        "seconds": round(result.seconds, 3),
        "stats": result.stats,
    }


# --- inverse ------------------------------------------------------------------------------------


def from_dict(data: Mapping[str, Any]) -> Outcome:
    """Rebuild an Outcome from `to_dict` output; UsageError names whatever is missing or wrong.

    Synthetic targets (listed only because a finding pointed at them) are not restored as
    targets; findings go back to the check result of the same name (or a new one when none exists).
    """
    version = data.get("version")
    if version != VERSION:
        raise UsageError(f"report version {version!r} is not supported; expected {VERSION}")
    findings = tuple(_finding(f, f"findings[{i}]") for i, f in enumerate(_list(data, "findings")))
    results = _results(_list(data, "checks"), findings)
    targets = tuple(
        _target(t, f"targets[{i}]")
        for i, t in enumerate(_list(data, "targets"))
        if not t.get("synthetic", False)
    )
    fixes = tuple(_fix(x, f"fixes[{i}]") for i, x in enumerate(_list(data, "fixes")))
    head = _required(data, "head", "report")
    summary_data = data.get("summary") or {}
    return Outcome(
        base=data.get("base"),
        head=str(head),
        targets=targets,
        evidence=Evidence(targets=targets, results=results),
        fixes=fixes,
        notes=tuple(str(n) for n in _list(data, "notes")),
        seconds=float(summary_data.get("seconds", 0.0)),
        tree=str(data.get("tree") or "commit"),
        nothing_checked=data.get("nothing_checked"),
    )


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    found = data.get(key, [])
    if not isinstance(found, list):
        raise UsageError(f"report field {key!r} must be a list, got {type(found).__name__}")
    return found


def _required(data: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(data, Mapping) or key not in data:
        raise UsageError(
            f"{where} lacks the required field {key!r}; is this a codegrad JSON report?"
        )
    return data[key]


def _results(checks: list[Any], findings: tuple[Finding, ...]) -> tuple[CheckResult, ...]:
    names = [str(_required(c, "check", f"checks[{i}]")) for i, c in enumerate(checks)]
    extra = sorted({f.check for f in findings} - set(names))
    results = [
        CheckResult(
            check=name,
            findings=tuple(f for f in findings if f.check == name),
            checked=tuple(c.get("checked", ())),
            skipped=dict(c.get("skipped", {})),
            seconds=float(c.get("seconds", 0.0)),
            stats=dict(c.get("stats", {})),
        )
        for name, c in zip(names, checks, strict=True)
    ]
    results.extend(
        CheckResult(check=name, findings=tuple(f for f in findings if f.check == name))
        for name in extra
    )
    return tuple(results)


def _finding(data: Mapping[str, Any], where: str) -> Finding:
    kind = _enum(Kind, _required(data, "kind", where), f"{where}.kind")
    severity = _enum(
        Severity, data.get("severity") or DEFAULT_SEVERITY[kind].value, f"{where}.severity"
    )
    return Finding(
        path=str(_required(data, "path", where)),
        function=str(_required(data, "function", where)),
        line=int(_required(data, "line", where)),
        check=str(_required(data, "check", where)),
        kind=kind,
        message=str(_required(data, "message", where)),
        severity=None if severity is DEFAULT_SEVERITY[kind] else severity,
        input=data.get("input"),
        expected=data.get("expected"),
        actual=data.get("actual"),
        traceback=tuple(data.get("traceback") or ()),
        reproduces=data.get("reproduces"),
        base_fails_same=data.get("base_fails_same"),
        reproducer=data.get("reproducer"),
        details=dict(data.get("details") or {}),
    )


def _enum(cls: type[Kind] | type[Severity], raw: Any, where: str) -> Any:
    try:
        return cls(raw)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise UsageError(f"{where} is {raw!r}; expected one of: {allowed}") from None


def _target(data: Mapping[str, Any], where: str) -> Target:
    return Target(
        path=str(_required(data, "path", where)),
        qualname=str(_required(data, "qualname", where)),
        lineno=int(_required(data, "lineno", where)),
        end_lineno=int(_required(data, "end_lineno", where)),
        source=str(_required(data, "source", where)),
        changed_lines=tuple(int(n) for n in data.get("changed_lines") or ()),
        base_path=data.get("base_path"),
        base_source=data.get("base_source"),
        base_lineno=data.get("base_lineno"),
        decorator_lineno=data.get("decorator_lineno"),
        is_async=bool(data.get("is_async", False)),
        kind=str(data.get("kind", "function")),
        class_name=data.get("class_name"),
        docstring=data.get("docstring"),
    )


def _fix(data: Mapping[str, Any], where: str) -> Fix:
    def group(key: str) -> tuple[Finding, ...]:
        return tuple(_finding(f, f"{where}.{key}[{i}]") for i, f in enumerate(data.get(key) or ()))

    return Fix(
        path=str(_required(data, "path", where)),
        function=str(_required(data, "function", where)),
        verified=bool(_required(data, "verified", where)),
        diff=str(data.get("diff", "")),
        source=str(data.get("source", "")),
        iterations=int(data.get("iterations", 0)),
        fixed=group("fixed"),
        remaining=group("remaining"),
        added=group("added"),
        tokens=int(data.get("tokens", 0)),
        cost_usd=float(data.get("cost_usd", 0.0)),
        calls=int(data.get("calls", 0)),
        stop_reason=str(data.get("stop_reason", "")),
        tests=data.get("tests"),
        file_sha256=data.get("file_sha256"),
    )
