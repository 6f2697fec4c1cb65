"""What an action run writes for the runner: the redacted job log and annotations, step outputs, job summary, report files."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from codegrad.github.autofix import verified_fixes
from codegrad.model import Finding, Outcome, Severity
from codegrad.redaction import redact
from codegrad.render import render as review_render

MAX_ANNOTATIONS = 50


# --- the log: plain lines and workflow commands, always redacted --------------------------------


def _escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def _not_a_command(line: str) -> str:
    """The line, with a leading `::` or `##[` (the runner's command prefixes) defused."""
    return f"› {line}" if line.lstrip().startswith(("::", "##[")) else line


def defuse(text: str) -> str:
    """Untrusted text for the job log: no line of it is read as a workflow command."""
    return "\n".join(_not_a_command(line) for line in text.splitlines() or [""])


@dataclass
class Log:
    """Writes log lines and ::error/::warning/::notice annotations to the job log."""

    stream: TextIO = field(default_factory=lambda: sys.stdout)

    def _write(self, text: str) -> None:
        self.stream.write(redact(text) + "\n")
        self.stream.flush()

    def info(self, message: str) -> None:
        self.plain(f"codegrad: {message}")

    def plain(self, message: str) -> None:
        """Plain lines: a line of untrusted text that looks like a workflow command is not one."""
        self._write(defuse(message))

    def annotate(
        self,
        level: str,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        title: str | None = None,
    ) -> None:
        props = [
            f"{k}={_escape(str(v), prop=True)}"
            for k, v in (("file", file), ("line", line), ("title", title))
            if v
        ]
        self._write(
            f"::{level}{' ' + ','.join(props) if props else ''}::{_escape(redact(message))}"
        )

    def notice(self, message: str) -> None:
        self.annotate("notice", f"codegrad: {message}")

    def warning(self, message: str) -> None:
        self.annotate("warning", f"codegrad: {message}")

    def error(self, message: str) -> None:
        self.annotate("error", f"codegrad: {message}")


_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def annotate_findings(log: Log, findings: Sequence[Finding]) -> None:
    for f in findings[:MAX_ANNOTATIONS]:
        log.annotate(
            _LEVEL[f.level],
            f"{f.function}: {f.message}",
            file=f.path,
            line=f.line or None,
            title=f"codegrad {f.kind.value} ({f.check})",
        )
    if len(findings) > MAX_ANNOTATIONS:
        log.info(f"{len(findings) - MAX_ANNOTATIONS} more finding(s) are in the report")


# --- runner files --------------------------------------------------------------------------------


def write_outputs(path: Path | None, values: Mapping[str, str]) -> None:
    """Append name=value pairs to $GITHUB_OUTPUT with the multi-line-safe delimiter syntax."""
    if path is None:
        return
    with path.open("a", encoding="utf-8") as handle:
        for name, value in values.items():
            delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
            handle.write(f"{name}<<{delimiter}\n{redact(value)}\n{delimiter}\n")


def outcome_outputs(outcome: Outcome, report_dir: Path, sarif: Path) -> dict[str, str]:
    """The step outputs every mode sets: counts and where the reports are."""
    return {
        "findings": str(len(outcome.findings)),
        "fixes": str(len(verified_fixes(outcome))),
        "report-path": str(report_dir),
        "sarif-path": str(sarif),
    }


def write_summary(path: Path | None, text: str) -> None:
    if path is None:
        return
    with path.open("a", encoding="utf-8") as handle:
        handle.write(redact(text).rstrip() + "\n")


def redact_json(data: Any) -> str:
    """JSON text with every known secret value replaced (the artifact is readable by anyone)."""
    return redact(json.dumps(data, indent=1))


def write_reports(
    outcome: Outcome, folder: Path, render: Callable[[Outcome, str], str] | None = None
) -> dict[str, Path]:
    """report.md, report.json and report.sarif in folder (redacted), made by `render` (default: the
    review's renderer); returns their paths by format."""
    render = render or review_render
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for fmt, name in (
        ("markdown", "report.md"),
        ("json", "report.json"),
        ("sarif", "report.sarif"),
    ):
        path = folder / name
        path.write_text(redact(render(outcome, fmt)), encoding="utf-8")
        paths[fmt] = path
    return paths
