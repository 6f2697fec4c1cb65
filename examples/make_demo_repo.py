"""Build the demo git repository: `main` from examples/demo/base, branch `feature` from examples/demo/head."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent / "demo"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=Demo",
            "-c",
            "user.email=demo@example.com",
            "-c",
            "init.defaultBranch=main",
            *args,
        ],
        cwd=repo,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def copy_tree(src: Path, dest: Path) -> None:
    for path in dest.iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.copytree(src, dest, dirs_exist_ok=True)


def main(dest: str) -> None:
    repo = Path(dest)
    if repo.exists() and any(repo.iterdir()):
        sys.exit(f"make_demo_repo: {repo} exists and is not empty; give a new folder")
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q")
    copy_tree(HERE / "base", repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "shop: pricing helpers")
    git(repo, "checkout", "-qb", "feature")
    copy_tree(HERE / "head", repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "pricing: faster discount, simpler average")
    print(repo)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "codegrad-demo")
