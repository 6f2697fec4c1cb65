"""Release bookkeeping agrees: one version in pyproject and the package, a changelog section for it."""

from __future__ import annotations

import re
import sys

import codegrad
from helpers_schemas import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


def test_the_version_is_one_and_the_changelog_has_it_under_an_unreleased_section() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == codegrad.__version__
    headings = re.findall(r"^## (.+)$", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.M)
    assert headings[0] == "Unreleased"
    released = [h.split(" - ")[0] for h in headings[1:]]
    assert codegrad.__version__ in released
    assert (ROOT / "RELEASING.md").is_file()
