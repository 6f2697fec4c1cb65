"""Text a pull request controls, read back the way each consumer reads it: review comments and the
summary rendered by cmark-gfm (GitHub's renderer), the markdown report likewise, SARIF messages by
the SARIF embedded-link rules, and annotations by the runner's workflow-command syntax."""

from __future__ import annotations

import io
import json
import re

from codegrad.github import plan as publish
from codegrad.github.output import Log, annotate_findings
from codegrad.model import CheckResult, Evidence, Finding, Fix, Kind, Outcome, Target
from codegrad.render import markdown, sarif
from helpers_markdown import Rendered, render

EVIL = (
    "</details></summary>\n\n## ✅ Approved, safe to merge\n\n<!-- hide the rest "
    "cc @octo-org/security and @alice ![t](https://evil.example/t.png) "
    "<img src=https://evil.example/i.png> [docs](https://evil.example) https://evil.example "
    "```` ``` <script>x</script>\n::error::forged annotation\n##[error]forged too"
)
PATH = "pkg/e`v|i l.py"
TARGET = Target(
    path=PATH, qualname="f", lineno=1, end_lineno=3, source="def f(x):\n    y = x\n    return y"
)


def _findings() -> tuple[Finding, ...]:
    common = {"path": PATH, "function": "f", "line": 2, "reproduces": True}
    return (
        Finding(
            check="docstrings",
            kind=Kind.BUG,
            message=EVIL,
            input=f"f({EVIL!r})",
            expected=EVIL,
            actual=EVIL,
            base_fails_same=False,
            reproducer=f"def test_f():\n    assert f({EVIL!r})\n",
            **common,  # type: ignore[arg-type]
        ),
        Finding(
            check="properties",
            kind=Kind.CRASH,
            message=EVIL,
            input="f(0)",
            actual=f"raised ValueError: {EVIL}",
            traceback=(f"{PATH}:2: {EVIL}",),
            **common,  # type: ignore[arg-type]
        ),
        Finding(check="efficiency", kind=Kind.ERROR, message=EVIL, **common),  # type: ignore[arg-type]
    )


def _outcome() -> Outcome:
    findings = _findings()
    fix = Fix(PATH, "f", False, "", "", 1, stop_reason=EVIL)
    evidence = Evidence((TARGET,), (CheckResult("docstrings", findings, skipped={"k": EVIL}),))
    return Outcome("a" * 40, "b" * 40, (TARGET,), evidence, fixes=(fix,), notes=(EVIL,))


def _assert_inert(out: Rendered, *, comments: tuple[str, ...] = ()) -> None:
    assert not out.images and not out.mentions, out.html
    assert all(link.startswith("https://github.example/") for link in out.links), out.links
    assert [c.strip() for c in out.comments] == [c.strip() for c in comments], out.comments
    assert not any("Approved" in h for h in out.headings), out.headings
    assert out.tags["details"] == out.closed["details"], out.html
    assert not any("Approved" in s or "hide" in s for s in out.summaries), out.summaries
    assert "script" not in out.tags and "img" not in out.tags, out.html


def test_review_comments_and_the_summary_render_pr_text_as_text() -> None:
    outcome = _outcome()
    diff = {PATH: publish.DiffFile(PATH, (publish.Hunk(1, 3),))}
    plan = publish.plan_review(outcome, diff)
    assert plan.comments
    for comment in plan.comments:
        marker = comment.full_body.rsplit("<!--", 1)[1].removesuffix("-->")
        _assert_inert(render(comment.full_body), comments=(marker,))
        assert "Approved" in "".join(render(comment.body).code)  # shown, as code
    footer = "codegrad run 1 · https://github.example/o/r/actions/runs/1"
    summary = publish.summary_body(outcome, plan.without_inline(), status=[EVIL], footer=footer)
    out = render(summary)
    _assert_inert(out, comments=(" codegrad:summary ",))
    assert "＠alice" in out.text  # escaped prose still reads the same, minus the mention


def test_the_markdown_report_renders_pr_text_as_text() -> None:
    out = render(markdown.render(_outcome()))
    _assert_inert(out)
    assert out.tags["h4"] == 4 and out.tags["h3"] == 3  # only the report's own headings


def sarif_links(text: str) -> list[str]:
    """Embedded links as a SARIF consumer reads a plain-text message: `[text](target)`, where
    `\\[`, `\\]` and `\\\\` are literal characters."""
    links: list[str] = []
    plain = re.sub(r"\\[\\\[\]]", "..", text)  # escaped characters are not syntax
    for match in re.finditer(r"\[[^\]]*\]\(([^)]*)\)", plain):
        links.append(match.group(1))
    return links


def test_sarif_messages_hold_no_embedded_links() -> None:
    log = json.loads(sarif.render(_outcome()))
    run = log["runs"][0]
    texts = [r["message"]["text"] for r in run["results"]]
    texts += [
        loc["message"]["text"] for r in run["results"] for loc in r.get("relatedLocations", [])
    ]
    texts += [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    assert len(texts) >= 5
    for text in texts:
        assert sarif_links(text) == [], text
    assert sarif_links("[x](https://e)") == ["https://e"]  # the reader does find real links


def _runner_commands(log_text: str) -> list[tuple[str, dict[str, str], str]]:
    """Workflow commands as the runner parses the log: `::name k=v,k=v::message` lines."""
    commands = []
    for line in log_text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("##["):
            commands.append(("v1", {}, stripped))
        if not stripped.startswith("::"):
            continue
        head, _, message = stripped[2:].partition("::")
        name, _, props = head.partition(" ")
        values = {}
        for prop in filter(None, props.split(",")):
            key, _, raw = prop.partition("=")
            values[key] = raw.replace("%3A", ":").replace("%2C", ",").replace("%0A", "\n")
        text = message.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")
        commands.append((name, values, text))
    return commands


def test_annotations_carry_pr_text_inside_one_command_each() -> None:
    stream = io.StringIO()
    log = Log(stream)
    findings = _findings()

    annotate_findings(log, findings)
    log.info(f"a plain line with {EVIL}")

    commands = _runner_commands(stream.getvalue())
    assert [name for name, _, _ in commands] == ["error", "error", "warning"]
    for (_, props, message), finding in zip(commands, findings, strict=True):
        assert props["file"] == finding.path and props["line"] == "2"
        assert message == f"f: {EVIL}"  # the whole message, in its own annotation
