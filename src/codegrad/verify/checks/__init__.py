"""Verification steps; each module holds one check with `name` and `run(targets, ctx) -> CheckResult`."""
