#!/usr/bin/env bash
# Set up codegrad in .venv and review the shipped demo pull request (no network, no API key needed).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x .venv/bin/codegrad ]]; then
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
fi
demo=$(mktemp -d "${TMPDIR:-/tmp}/codegrad-demo.XXXXXX")
.venv/bin/python examples/make_demo_repo.py "$demo/repo" >/dev/null
echo "demo repository: $demo/repo (branch feature vs main)" >&2
set +e
.venv/bin/codegrad review --repo "$demo/repo" "$@"
status=$?
set -e
echo "codegrad exit status: $status (1 = findings at the fail level)" >&2
exit 0
