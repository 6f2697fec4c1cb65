"""The container as its users meet it: OCI labels, any uid may run it, the documented recipe.

There is no Docker engine here (CI's docker job builds and runs the image); these tests read the
Dockerfile as Docker does, instruction by instruction, and the recipes where users copy them.
"""

from __future__ import annotations

import re
import shlex
import sys

import codegrad
from helpers_schemas import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

OCI = (
    "title",
    "description",
    "version",
    "revision",
    "licenses",
    "source",
    "documentation",
)


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(
        r"\\\n\s*",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    return [
        (parts[0].upper(), parts[1] if len(parts) > 1 else "")
        for line in joined.splitlines()
        if (parts := line.strip().split(None, 1))
    ]


def _pairs(args: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in shlex.split(args))


def test_the_image_carries_oci_labels_with_the_projects_version_and_licence() -> None:
    labels: dict[str, str] = {}
    args: dict[str, str] = {}
    for name, rest in _instructions():
        if name == "LABEL":
            labels.update(_pairs(rest))
        if name == "ARG" and "=" in rest:
            args.update(_pairs(rest))
    assert {f"org.opencontainers.image.{key}" for key in OCI} <= set(labels)
    assert labels["org.opencontainers.image.version"] == "${VERSION}"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert args["VERSION"] == project["version"] == codegrad.__version__
    assert labels["org.opencontainers.image.licenses"] == project["license"]["text"]


def test_any_uid_can_run_it_and_the_default_user_is_not_root() -> None:
    steps = _instructions()
    users = [rest for name, rest in steps if name == "USER"]
    assert users and users[-1].isdigit() and users[-1] != "0"
    env: dict[str, str] = {}
    for name, rest in steps:
        if name == "ENV":
            env.update(_pairs(rest))
    assert env["HOME"] == "/tmp"  # world-writable: a uid without a home in the image still has one
    run = " ".join(rest for name, rest in steps if name == "RUN")
    assert "git config --system --add safe.directory '*'" in run  # a checkout of any owner
    assert [rest for name, rest in steps if name == "WORKDIR"][-1] == "/work"


def test_the_documented_docker_recipes_run_as_the_callers_uid() -> None:
    for path in (
        ROOT / "README.md",
        ROOT / "examples" / "workflows" / "README.md",
        ROOT / "Dockerfile",
    ):
        lines = path.read_text(encoding="utf-8").splitlines()
        runs = [line for line in lines if re.match(r"^[#\s]*docker run ", line)]
        assert runs, path
        for line in runs:
            assert '--user "$(id -u):$(id -g)"' in line and '-v "$PWD:/work"' in line, (path, line)
