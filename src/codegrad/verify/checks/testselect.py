"""Pure helpers for the project-tests check: test command, junit XML, tracebacks, entered functions -> tests."""

from __future__ import annotations

import ast
import re
import shlex
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from codegrad.errors import UsageError
from codegrad.model import Target

# ---------------------------------------------------------------- the test command

_PYTHON = re.compile(r"^python(\d+(\.\d+)*)?$")
_PYTEST_NAMES = ("pytest", "py.test")
_SHELL_TOKENS = frozenset({"&&", "||", ";", "|", ">", ">>", "<", "&", "(", ")", ";;", "<<"})
_ENV_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# pytest options whose value is the next token when not written as --opt=value
_VALUE_OPTIONS = frozenset(
    {
        "-k", "-m", "-p", "-c", "-o", "-W", "-r", "-n",
        "--maxfail", "--tb", "--show-capture", "--durations", "--durations-min",
        "--import-mode", "--rootdir", "--confcutdir", "--basetemp", "--junitxml",
        "--junit-xml", "--junit-prefix", "--deselect", "--ignore", "--ignore-glob",
        "--log-level", "--log-format", "--log-date-format", "--log-file",
        "--log-file-level", "--log-cli-level", "--capture", "--color",
        "--code-highlight", "--override-ini", "--config-file", "--pdbcls",
        "--doctest-glob", "--doctest-report", "--assert", "--pythonwarnings",
        "--dist", "--numprocesses", "--timeout", "--timeout-method",
    }
)  # fmt: skip
# options that narrow or stop a run: dropped when rerunning explicit node ids
_SELECTION_OPTIONS = frozenset(
    {
        "-k", "-m", "-x", "--exitfirst", "--maxfail", "--deselect", "--ignore",
        "--ignore-glob", "--lf", "--last-failed", "--ff", "--failed-first", "--nf",
        "--new-first", "--sw", "--stepwise", "--sw-skip", "--stepwise-skip",
        "--co", "--collect-only", "--collectonly", "--junitxml", "--junit-xml",
    }
)  # fmt: skip


@dataclass(frozen=True)
class ProjectCommand:
    """The project's test command, resolved to an argv that uses codegrad's interpreter."""

    argv: tuple[str, ...]  # what to run as-is
    is_pytest: bool = False
    interpreter: tuple[str, ...] = ()  # python plus its own options (before `-m pytest`)
    pytest_args: tuple[str, ...] = ()  # everything after `-m pytest`

    @property
    def paths(self) -> tuple[str, ...]:
        """Positional arguments to pytest (test paths or node ids the user named)."""
        return split_pytest_args(self.pytest_args)[1]


def _tokens(command: str) -> list[str]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError as exc:
        raise UsageError(f"test-command {command!r} is not a valid command line: {exc}") from None


def parse_test_command(command: str, python: str) -> ProjectCommand:
    """Split the configured command. A bare `python`, `python3.12`, `pytest` or `py.test` at its start
    runs with `python` (the interpreter codegrad was given); a path to a Python runs with that one, and
    a path to a `pytest` script with the `python` beside it (a virtual environment's layout)."""
    tokens = _tokens(command)
    if not tokens:
        raise UsageError(
            "test-command is empty; set [tool.codegrad] test-command (e.g. 'python -m pytest') "
            "or leave project-tests out of checks"
        )
    if any(t in _SHELL_TOKENS for t in tokens) or _ENV_ASSIGN.match(tokens[0]):
        return ProjectCommand(argv=("/bin/sh", "-c", command))
    first, rest = tokens[0], tokens[1:]
    name, explicit = PurePosixPath(first).name, "/" in first
    if name in _PYTEST_NAMES:
        exe = str(PurePosixPath(first).parent / "python") if explicit else python
        return ProjectCommand((exe, "-m", "pytest", *rest), True, (exe,), tuple(rest))
    if not _PYTHON.match(name):
        return ProjectCommand(argv=tuple(tokens))
    exe = first if explicit else python
    i = 0
    while i < len(rest) - 1 and rest[i].startswith("-"):
        if rest[i] == "-m":
            if rest[i + 1] not in _PYTEST_NAMES:
                break
            interp = (exe, *rest[:i])
            args = tuple(rest[i + 2 :])
            return ProjectCommand((*interp, "-m", "pytest", *args), True, interp, args)
        i += 2 if rest[i] in ("-X", "-W") else 1
    return ProjectCommand(argv=(exe, *rest))


_STOP_OPTIONS = frozenset(
    {"-x", "--exitfirst", "--maxfail", "--sw", "--stepwise", "--sw-skip", "--stepwise-skip"}
)
_FLAGS = re.compile(r"^-[xvqsl]+$")  # combined short flags such as -xvs


def run_all_options(args: Sequence[str]) -> tuple[str, ...]:
    """The user's pytest arguments without those that stop a run early (-x, --maxfail, --sw): every
    test must run for each changed function to know its tests."""
    kept: list[str] = []
    for opt in split_pytest_args(args)[0]:
        token = opt[0]
        if _FLAGS.match(token) and "x" in token:
            token = token.replace("x", "")
            if token != "-":
                kept.append(token)
        elif _option_name(token) not in _STOP_OPTIONS:
            kept.extend(opt)
    return (*kept, *split_pytest_args(args)[1])


def _option_name(token: str) -> str:
    return token.split("=", 1)[0] if token.startswith("--") else token


def split_pytest_args(args: Sequence[str]) -> tuple[list[list[str]], tuple[str, ...]]:
    """pytest arguments as (options, each with its value tokens; positional arguments)."""
    options: list[list[str]] = []
    positional: list[str] = []
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            positional.extend(args[i + 1 :])
            break
        if token.startswith("-") and token != "-":
            takes_value = "=" not in token and token in _VALUE_OPTIONS and i + 1 < len(args)
            options.append([token, args[i + 1]] if takes_value else [token])
            i += 2 if takes_value else 1
            continue
        positional.append(token)
        i += 1
    return options, tuple(positional)


def rerun_options(args: Sequence[str]) -> tuple[str, ...]:
    """The user's pytest options minus paths and anything that narrows or stops a run."""
    options, _ = split_pytest_args(args)
    kept = [opt for opt in options if _option_name(opt[0]) not in _SELECTION_OPTIONS]
    return tuple(token for opt in kept for token in opt)


def shell_quote(text: str) -> str:
    """Single-quote text for a POSIX shell (always quoted, so node ids read the same everywhere)."""
    return "'" + text.replace("'", "'\"'\"'") + "'"


def rerun_command(nodeid: str) -> str:
    """The command a user runs to repeat one test."""
    return f"python -m pytest {shell_quote(nodeid)}"


# ---------------------------------------------------------------- junit XML


@dataclass(frozen=True)
class CaseResult:
    """One <testcase> of a pytest junit report (xunit1 family)."""

    nodeid: str
    path: str  # the test file, relative to the rootdir
    name: str  # "test_f", "TestK.test_m", "test_p[1]"
    line: int | None  # 1-based line of the test's def
    outcome: str  # passed | failed | error | skipped
    message: str = ""  # the assertion / exception message (pytest's reprcrash)
    text: str = ""  # the report body: traceback and error lines
    seconds: float = 0.0
    collection: bool = False  # a module that could not be collected (import or syntax error)
    hung: bool = False  # ran past its per-test limit (codegrad's watchdog ended it)

    @property
    def failed(self) -> bool:
        return self.outcome in ("failed", "error")

    @property
    def function(self) -> str:
        """The test's name without parameters, dotted through classes: `TestK.test_m`."""
        return self.name.split("[", 1)[0]


def nodeid_path(nodeid: str) -> str:
    """The file part of a node id."""
    return nodeid.partition("[")[0].split("::", 1)[0]


def nodeid_name(nodeid: str) -> str:
    """The test part of a node id, dotted through classes: `TestK.test_m[1]` (file for a module)."""
    head, bracket, params = nodeid.partition("[")
    parts = head.split("::")
    return ".".join(parts[1:]) + bracket + params if len(parts) > 1 else head


def defined_names(source: str) -> set[str] | None:
    """Names a module defines at top level (defs, classes, assignments, imports); None if it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        else:  # if/try blocks and the like: accept any name bound anywhere below
            names.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
            names.update(
                d.name for d in ast.walk(node) if isinstance(d, (ast.FunctionDef, ast.ClassDef))
            )
    return names


def _module_dotted(path: str) -> str:
    return re.sub(r"\.py$", "", path).replace("/", ".")


def nodeid_from_case(classname: str, name: str, file: str | None) -> str:
    """Invert pytest's junit naming (classname = dotted module + classes, name = function[params])."""
    if file:
        module = _module_dotted(file)
        if classname == module or classname.startswith(module + "."):
            classes = [c for c in classname[len(module) :].split(".") if c]
            return "::".join([file, *classes, name])
        if not classname:  # a collection error names the module in `name`
            return file
    parts = classname.split(".") if classname else name.split(".")
    cut = next((i for i, p in enumerate(parts) if p[:1].isupper()), len(parts))
    path = "/".join(parts[:cut]) + ".py"
    if not classname:
        return path
    return "::".join([path, *parts[cut:], name])


def _case_outcome(case: ET.Element) -> tuple[str, str, str]:
    for tag, outcome in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        child = case.find(tag)
        if child is not None:
            return outcome, child.get("message", "") or "", child.text or ""
    return "passed", "", ""


def _case_result(case: ET.Element) -> CaseResult:
    classname = case.get("classname", "") or ""
    name = case.get("name", "") or ""
    file = case.get("file") or None
    outcome, message, text = _case_outcome(case)
    collection = not classname and outcome == "error" and message == "collection failure"
    nodeid = nodeid_from_case(classname, name, file)
    line_attr = case.get("line")
    try:
        seconds = float(case.get("time", "0") or 0)
    except ValueError:
        seconds = 0.0
    return CaseResult(
        nodeid=nodeid,
        path=nodeid_path(nodeid),
        name=nodeid_name(nodeid),
        line=int(line_attr) + 1 if line_attr and line_attr.isdigit() else None,
        outcome=outcome,
        message=message,
        text=text,
        seconds=seconds,
        collection=collection,
    )


def parse_junit(text: str) -> list[CaseResult]:
    """Every testcase in a pytest junit XML report; an unreadable report gives an empty list."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return []
    return [_case_result(case) for case in root.iter("testcase")]


def merge_cases(cases: Iterable[CaseResult]) -> list[CaseResult]:
    """One result per node id: a test reported twice (call failed, teardown errored) keeps the first failure."""
    merged: dict[str, CaseResult] = {}
    for case in cases:
        seen = merged.get(case.nodeid)
        if seen is None or (case.failed and not seen.failed):
            merged[case.nodeid] = case
    return list(merged.values())


# ---------------------------------------------------------------- tracebacks and messages


@dataclass(frozen=True)
class TbEntry:
    """One frame of a traceback: where, in which function, and the source line if known."""

    path: str
    line: int
    function: str = ""
    code: str = ""

    def render(self) -> str:
        return f"{self.path}:{self.line}: {self.code}".rstrip()


_SHORT_LOC = re.compile(r"^(?P<path>[^\s:>][^:]*):(?P<line>\d+): in (?P<func>\S+)\s*$")
_LONG_LOC = re.compile(r"^(?P<path>[^\s:>][^:]*):(?P<line>\d+): ?(?P<exc>[\w.]*)\s*$")
_NATIVE_LOC = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+),? in (?P<func>.+?)\s*$')


def relative_path(path: str, root: str | None) -> str:
    """A POSIX path relative to root when it lies under it, else the path unchanged."""
    path = path.replace("\\", "/")
    if root:
        prefix = root.rstrip("/") + "/"
        if path.startswith(prefix):
            return path[len(prefix) :]
    if path.startswith("./"):
        return path[2:]
    return path


def _long_code(lines: Sequence[str], end: int) -> str:
    for line in reversed(lines[:end]):
        if line.startswith(">"):
            return line[1:].strip()
        if _LONG_LOC.match(line) or _SHORT_LOC.match(line):
            break
    return ""


def parse_traceback(text: str, root: str | None = None) -> list[TbEntry]:
    """Frames of a pytest report (--tb short/long/native) or a faulthandler dump, outermost first."""
    lines = text.splitlines()
    entries: list[TbEntry] = []
    for i, line in enumerate(lines):
        following = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if m := _SHORT_LOC.match(line):
            code = following if lines[i + 1 : i + 2] and lines[i + 1].startswith(" ") else ""
            entries.append(TbEntry(relative_path(m["path"], root), int(m["line"]), m["func"], code))
        elif m := _NATIVE_LOC.match(line):
            code = "" if not following or _NATIVE_LOC.match(following) else following
            entries.append(TbEntry(relative_path(m["path"], root), int(m["line"]), m["func"], code))
        elif (m := _LONG_LOC.match(line)) and not line.startswith("E "):
            entries.append(
                TbEntry(relative_path(m["path"], root), int(m["line"]), "", _long_code(lines, i))
            )
    return entries


def parse_faulthandler(text: str, root: str | None = None) -> list[list[TbEntry]]:
    """The threads of a faulthandler dump, each as its frames outermost first."""
    threads: list[list[TbEntry]] = []
    for line in text.splitlines():
        if line.startswith(("Thread ", "Current thread")) or not threads:
            threads.append([])
        if m := _NATIVE_LOC.match(line):
            threads[-1].insert(
                0, TbEntry(relative_path(m["path"], root), int(m["line"]), m["func"])
            )
    return [frames for frames in threads if frames]


def error_lines(text: str, root: str | None = None) -> str:
    """The `E   ...` lines of a pytest report, dedented, with paths under root made relative."""
    picked = [line[1:] for line in text.splitlines() if line.startswith("E ") or line == "E"]
    body = textwrap.dedent("\n".join(picked)).strip("\n")
    if root:
        body = body.replace(root.rstrip("/") + "/", "")
    return body


_EXC_NAME = re.compile(r"^(?:[A-Za-z_][\w]*\.)*(?P<name>[A-Za-z_]\w*)(?::|$)")
_PHASE = re.compile(r'^failed on (?:setup|teardown) with "(?P<inner>.*)"$', re.S)


def exception_type(message: str) -> str:
    """The exception class a pytest crash message names (`assert ...` is an AssertionError)."""
    message = message.strip()
    if m := _PHASE.match(message):
        message = m["inner"].strip()
    if message.startswith("assert ") or message == "assert":
        return "AssertionError"
    m = _EXC_NAME.match(message.split("\n", 1)[0])
    return m["name"] if m else ""


def same_failure(head: CaseResult, base: CaseResult) -> bool:
    """Whether base fails the way head does: both fail, with the same kind of exception."""
    return (
        head.failed and base.failed and exception_type(head.message) == exception_type(base.message)
    )


def not_found(output: str, root: str | None = None) -> set[str]:
    """Node ids that pytest could not find or collect (`ERROR: not found: ...`), relative to root."""
    found: set[str] = set()
    for m in re.finditer(
        r"ERROR: (?:not found: |found no collectors for )(\S.*?)\s*$", output, re.M
    ):
        found.add(relative_path(m.group(1), root))
    return found


# ---------------------------------------------------------------- entered functions -> covering tests


def is_test_file(path: str) -> bool:
    """A file pytest collects or rewrites by default (a test module or a conftest)."""
    name = PurePosixPath(path).name
    return name == "conftest.py" or (
        name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))
    )


def _is_test_itself(target: Target, nodeid: str) -> bool:
    """Whether the target is the test function (or a method of the test class) this node id runs."""
    if nodeid_path(nodeid) != target.path:
        return False
    name = nodeid_name(nodeid).partition("[")[0]
    return name == target.qualname or name.startswith(target.qualname + ".")


def covering_tests(
    entered: Mapping[str, Sequence[str]], nodeids: Iterable[str], targets: Sequence[Target]
) -> dict[str, list[str]]:
    """Target key -> sorted node ids of the tests that ran it: those that entered it, and for a
    target in a test file (whose module pytest loads itself), the tests it is."""
    covering: dict[str, set[str]] = {t.key: set() for t in targets}
    for nodeid, keys in entered.items():
        for key in keys:
            if key in covering:
                covering[key].add(nodeid)
    in_tests = [t for t in targets if is_test_file(t.path)]
    for nodeid in nodeids if in_tests else ():
        for target in in_tests:
            if _is_test_itself(target, nodeid):
                covering[target.key].add(nodeid)
    return {key: sorted(ids) for key, ids in covering.items()}
