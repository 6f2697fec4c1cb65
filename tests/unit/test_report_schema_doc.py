"""docs/report-schema.md says what docs/report-schema.json says; both schemas reject what they should."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from codegrad.model import DEFAULT_SEVERITY, Kind
from helpers_schemas import ROOT, report_schema, sarif_schema, schema_errors

DOC = ROOT / "docs" / "report-schema.md"
SECTIONS = {
    "Top level": None,
    "summary": "summary",
    "targets": "target",
    "checks": "check",
    "findings": "finding",
    "fixes": "fix",
}
ROW = re.compile(r"^\| `(?P<name>[^`]+)` \| (?P<type>[^|]+?) \| (?P<meaning>.*)\|$")


def _tables() -> dict[str, list[tuple[str, str]]]:
    """Each section's table rows as (field, type), by its heading."""
    tables: dict[str, list[tuple[str, str]]] = {}
    heading = ""
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif match := ROW.match(line):
            tables.setdefault(heading, []).append((match["name"], match["type"].strip()))
    return tables


def _type_text(prop: dict[str, Any]) -> str:
    """A schema property as the doc's type column spells it: "integer, nullable", "list of strings"."""
    if "$ref" in prop:
        return "string" if prop["$ref"].endswith(("/kind", "/severity")) else "object"
    types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    base = next(t for t in types if t != "null")
    if base == "array":
        base = f"list of {_type_text(prop['items'])}s"
    return base + (", nullable" if "null" in types else "")


def _object(name: str | None) -> dict[str, Any]:
    schema = report_schema()
    return schema if name is None else schema["$defs"][name]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("heading", "definition"), SECTIONS.items())
def test_each_documented_table_lists_the_schemas_fields_with_their_types(
    heading: str, definition: str | None
) -> None:
    rows = _tables()[heading]
    props = _object(definition)["properties"]
    assert [name for name, _ in rows if name not in props] == [], "documented, not in the schema"
    assert sorted(set(props) - {name for name, _ in rows}) == [], "in the schema, not documented"
    for name, text in rows:
        assert text == _type_text(props[name]), name


def test_the_kinds_table_matches_the_schema_and_the_default_severities() -> None:
    rows = dict(_tables()["kinds"])
    schema = report_schema()
    assert list(rows) == schema["$defs"]["kind"]["enum"] == [k.value for k in Kind]
    assert rows == {k.value: DEFAULT_SEVERITY[k].value for k in Kind}


def test_the_report_schema_is_strict() -> None:
    data = json.loads((ROOT / "tests" / "unit" / "recorded" / "report.json").read_text())
    assert schema_errors(data, report_schema()) == []
    data["findings"][0]["severity"] = "fatal"
    data["findings"][1]["surprise"] = 1
    data["summary"].pop("verdict")
    errors = schema_errors(data, report_schema())
    assert len(errors) == 3 and any("'fatal' is not one of" in e for e in errors), errors


def test_the_sarif_schema_is_the_official_one_and_rejects_bad_logs() -> None:
    schema = sarif_schema()
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    log = json.loads((ROOT / "tests" / "unit" / "recorded" / "report.sarif").read_text())
    assert schema_errors(log, schema) == []
    log["runs"][0]["results"][0]["level"] = "fatal"
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert len(schema_errors(log, schema)) == 2
