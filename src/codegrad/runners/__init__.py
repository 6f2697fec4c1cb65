"""Programs that run inside the sandbox (`python -m codegrad.runners.X spec.json`); stdlib + hypothesis only."""
