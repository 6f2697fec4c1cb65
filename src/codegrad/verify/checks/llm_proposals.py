"""LLM-derived checks, pure part: the prompts that ask for proposals and a lenient parser of the answers.

A proposal is what one LLM answer offers about one function, written from its signature and
docstring only (the body is never shown): a reference implementation (an oracle that computes
expected outputs), example cases (`assert f(...) == expected` or `cases = [((args), expected)]`),
properties (`def prop(<params>, result) -> bool`), a precondition (`def precondition(<params>)
-> bool`, used to filter the Hypothesis strategies) and, where a model offers them, per-parameter
Hypothesis strategies (`<param> = st.integers(...)`).

Three prompts, measured on Qwen2.5-Coder-0.5B: `reference_messages` asks only for the function
("write it from the docstring, plain loops and ifs, do not repeat the docstring": without the
last part that model answered about one time in four with the docstring alone); `tests_messages`
asks for the function, asserts, a property and a precondition in a fixed layout and serves as the
second opinion; `generate_messages` is a third, plain "complete the function" phrasing. Asking a
0.5B model for strategies, or for a precondition on its own, made it drop the implementation, so
no prompt asks for strategies; the parser still takes them from models that offer them.

Everything here is pure text work: nothing an LLM wrote is executed outside the sandboxed runner.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

from codegrad.llm.prompts import DATA_NOTE, fence, signature_line
from codegrad.verify.inputs.examples import match_close
from codegrad.verify.inputs.strategies import literal, parse_call

Message = dict[str, str]

REFERENCE = "reference"  # the proposal origins, also the names findings use
TESTS = "tests"
GENERATE = "generate"
ORIGINS = (REFERENCE, TESTS, GENERATE)  # the order in which the prompts are asked
MAX_TOKENS = 768
MAX_HEAD_CHARS = 8000  # a longer signature + docstring does not fit a small model's context

SYSTEM = (
    "You write test oracles for Python functions from their documentation. Reply with one "
    f"```python block in the layout asked for, nothing else. {DATA_NOTE}"
)

PROP_NAMES = re.compile(r"^(prop|property|invariant|check)(_\w+)?$|^\w*_prop(erty)?$")
PRE_NAMES = re.compile(r"^(precondition|pre|valid_inputs?|is_valid_input|valid)(_\w+)?$")
REFERENCE_NAMES = ("reference", "oracle", "expected", "reference_implementation")


# --------------------------------------------------------------------------- what a proposal is


@dataclass(frozen=True)
class Case:
    """One proposed example: literal argument sources and the expected result's literal source."""

    args: tuple[str, ...]
    kwargs: tuple[tuple[str, str], ...]
    expected: str
    line: int  # line in the answer's code, for messages
    text: str  # the assert (or tuple) as written

    def call(self, name: str) -> str:
        parts = [*self.args, *(f"{k}={v}" for k, v in self.kwargs)]
        return f"{name}({', '.join(parts)})"


@dataclass(frozen=True)
class Proposal:
    """What one answer proposes; `code` is the runnable part (defs, imports, constants)."""

    origin: str  # REFERENCE | TESTS
    code: str = ""  # top-level defs/imports/constant assignments, to exec in the sandbox
    reference: str | None = None  # name of the function in `code` that implements the target
    props: tuple[str, ...] = ()  # names of property functions in `code`
    precondition: str | None = None  # name of the precondition function in `code`
    strategies: tuple[tuple[str, str], ...] = ()  # (parameter, `st.` expression source)
    cases: tuple[Case, ...] = ()
    notes: tuple[str, ...] = ()  # what the parser dropped and why

    @property
    def empty(self) -> bool:
        return not (self.reference or self.props or self.cases)


@dataclass(frozen=True)
class Subject:
    """The function the proposals are about: its name, parameters and signature + docstring."""

    name: str
    params: tuple[str, ...]  # as written, without self/cls and annotations ("x", "*args")
    head: str  # decorators + def line(s) + docstring, dedented; never the body
    signature: str  # the `def` line


def subject_for(source: str, name: str) -> Subject | None:
    """The subject of a function's source, or None when it does not parse as a def."""
    text = textwrap.dedent(source)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    node = next(
        (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)),
        None,
    )
    if node is None or node.name != name:
        return None
    return Subject(name, parameter_names(node), head_of(text, node), signature_line(text, name))


def head_of(text: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """Decorators, the def line(s) and the docstring of a parsed function: never its body."""
    lines = text.splitlines()
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    body = node.body[0] if node.body else None
    has_doc = (
        isinstance(body, ast.Expr)
        and isinstance(body.value, ast.Constant)
        and isinstance(body.value.value, str)
    )
    if body is not None and has_doc:
        last = body.end_lineno or body.lineno
    elif body is not None:
        last = body.lineno - 1
    else:
        last = node.lineno
    if body is not None and body.lineno == node.lineno:  # `def f(): return 1` on one line
        return lines[first - 1].split(":", 1)[0] + ":\n"
    return "\n".join(lines[first - 1 : max(last, node.lineno)]) + "\n"


def parameter_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, ...]:
    """The parameters as a caller writes them: positional, `*args`, keyword-only, `**kwargs`."""
    args = node.args
    names = [a.arg for a in (*args.posonlyargs, *args.args)]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    if args.vararg:
        names.append("*" + args.vararg.arg)
    names += [a.arg for a in args.kwonlyargs]
    if args.kwarg:
        names.append("**" + args.kwarg.arg)
    return tuple(names)


def plain_params(subject: Subject) -> tuple[str, ...]:
    return tuple(p.lstrip("*") for p in subject.params)


# --------------------------------------------------------------------------- prompts


def _intro(subject: Subject) -> str:
    return f"Function {subject.name} (signature and docstring; its code is not shown):\n" + fence(
        subject.head, "python"
    )


def reference_messages(subject: Subject) -> list[Message]:
    """Ask for the function written from its docstring alone: the reference implementation."""
    user = (
        _intro(subject)
        + f"\nWrite the code of {subject.name} from the docstring alone, in the simplest way: "
        "plain loops and ifs, following the docstring step by step. "
        f"Start with the first line `{subject.signature}` and go straight to the code: do not "
        "repeat the docstring. Put any import inside the function. "
        "Reply with only the function in one ```python block.\n"
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def result_name(subject: Subject) -> str:
    """The name a property calls the function's result (never one of its parameters)."""
    taken = set(plain_params(subject))
    return next(n for n in ("result", "result_", "output", "returned") if n not in taken)


def tests_messages(subject: Subject) -> list[Message]:
    """Ask for a second implementation, asserts on new inputs, a property and a precondition."""
    params = ", ".join(subject.params)
    prop_params = ", ".join([*subject.params, result_name(subject)])
    layout = (
        f"def {subject.name}({params}):\n    ...\n\n"
        f"assert {subject.name}(...) == ...\nassert {subject.name}(...) == ...\n\n"
        f"def prop({prop_params}):\n    return ...\n\n"
        f"def precondition({params}):\n    return ...\n"
    )
    user = (
        _intro(subject)
        + f"\nWrite your own {subject.name} from the docstring alone, then asserts that test it on "
        "new inputs (edge cases too) with the results the docstring implies, then a rule that "
        "every correct result follows, then which inputs are valid. Use this layout:\n"
        + fence(layout, "python")
        + "Reply with only one ```python block.\n"
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def generate_messages(subject: Subject) -> list[Message]:
    """A third phrasing: complete the function (a plain HumanEval-style request)."""
    user = (
        f"Complete the function {subject.name}:\n"
        + fence(subject.head, "python")
        + f"\nWrite the whole function {subject.name}, its first line included, doing what the "
        "docstring says. Put any import inside the function. "
        "Reply with only the function in one ```python block.\n"
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def messages_for(origin: str, subject: Subject) -> list[Message]:
    """The prompt of one origin (REFERENCE, TESTS or GENERATE)."""
    if origin == TESTS:
        return tests_messages(subject)
    if origin == GENERATE:
        return generate_messages(subject)
    return reference_messages(subject)


# --------------------------------------------------------------------------- finding the code


_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+-]*)[^\n]*$", re.M)


def code_blocks(text: str) -> list[str]:
    """Fenced blocks in order; an unclosed last fence (a cut-off answer) runs to the end."""
    blocks: list[str] = []
    matches = list(_FENCE.finditer(text))
    index = 0
    while index < len(matches):
        opening = matches[index]
        marker = opening.group(1)
        closing = next(
            (
                m
                for m in matches[index + 1 :]
                if m.group(1)[0] == marker[0] and len(m.group(1)) >= len(marker)
            ),
            None,
        )
        end = closing.start() if closing else len(text)
        blocks.append(text[opening.end() + 1 : end])
        if closing is None:
            break
        index = matches.index(closing) + 1
    return blocks


def answer_code(text: str, name: str) -> str:
    """The code of an answer: its fenced blocks that mention the function (all of them, in order),
    else the text itself when there are no fences."""
    blocks = code_blocks(text)
    if not blocks:
        return text
    relevant = [b for b in blocks if name in b or "def " in b or "assert" in b]
    return "\n".join(relevant or blocks)


def _chunks(code: str) -> list[tuple[int, str]]:
    """Top-level statements' text (column-0 starts), with their first line number."""
    lines = code.expandtabs(4).splitlines()
    starts = [
        i
        for i, line in enumerate(lines)
        if line and not line[0].isspace() and not line.startswith((")", "]", "}", "#"))
    ]
    out = []
    for pos, start in enumerate(starts):
        end = starts[pos + 1] if pos + 1 < len(starts) else len(lines)
        # decorators belong to the statement that follows them
        if lines[start].startswith("@"):
            continue
        first = start
        while first > 0 and lines[first - 1].startswith("@"):
            first -= 1
        out.append((first + 1, "\n".join(lines[first:end])))
    return out


def parse_statements(code: str) -> tuple[list[tuple[ast.stmt, str]], list[str]]:
    """(statement, its source) for every top-level statement that parses; notes on the rest.

    The whole code is tried first; when it does not parse (prose in between, a cut-off end), each
    top-level chunk is tried on its own, and a chunk that still fails loses lines from its end
    until it parses, so a function cut off mid-way keeps what was complete.
    """
    code = textwrap.dedent(code)
    try:
        tree = ast.parse(code)
        return [(node, ast.get_source_segment(code, node) or "") for node in tree.body], []
    except (SyntaxError, ValueError):
        pass
    kept: list[tuple[ast.stmt, str]] = []
    notes: list[str] = []
    for line, chunk in _chunks(code):
        parsed = _parse_trimmed(chunk)
        if parsed is None:
            notes.append(f"line {line} does not parse: {chunk.splitlines()[0][:80]!r}")
            continue
        tree, text = parsed
        kept += [(node, ast.get_source_segment(text, node) or "") for node in tree.body]
    return kept, notes


def _parse_trimmed(chunk: str) -> tuple[ast.Module, str] | None:
    lines = chunk.splitlines()
    for end in range(len(lines), 0, -1):
        text = "\n".join(lines[:end]) + "\n"
        try:
            return ast.parse(text), text
        except (SyntaxError, ValueError):
            continue
    return None


# --------------------------------------------------------------------------- reading statements


def _literal_source(node: ast.expr) -> str | None:
    source = ast.unparse(node)
    if source in ("set()", "frozenset()"):
        return source
    try:
        ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return source


def _called_name(node: ast.expr) -> str | None:
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _case_from_call(call: ast.expr, expected: str, name: str, line: int, text: str) -> Case | None:
    if _called_name(call) != name:
        return None
    parsed = parse_call(ast.unparse(call), name)
    if parsed is None:
        return None
    return Case(parsed.args, parsed.kwargs, expected, line, text)


def case_from_test(node: ast.expr, name: str, line: int, text: str) -> Case | None:
    """`f(x) == y`, `y == f(x)`, `f(x) is None`, `f(x)`, `not f(x)`, `isclose(f(x), y)` as a Case."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, right = node.left, node.comparators[0]
        if isinstance(node.ops[0], ast.Eq | ast.Is):
            for call, other in ((left, right), (right, left)):
                expected = _literal_source(other)
                if expected is not None:
                    found = _case_from_call(call, expected, name, line, text)
                    if found is not None:
                        return found
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _case_from_call(node.operand, "False", name, line, text)
    if _called_name(node) == name:
        return _case_from_call(node, "True", name, line, text)
    if (
        _called_name(node) in ("isclose", "approx_equal")
        and isinstance(node, ast.Call)
        and len(node.args) >= 2
    ):
        expected = _literal_source(node.args[1])
        if expected is not None:
            return _case_from_call(node.args[0], expected, name, line, text)
    return None


def cases_from_list(node: ast.expr, params: Sequence[str], line: int) -> list[Case]:
    """`cases = [((a, b), expected), ...]`: a tuple first item holds the arguments (one parameter:
    the item itself is the argument unless it is a 1-tuple)."""
    if not isinstance(node, ast.List | ast.Tuple):
        return []
    out = []
    for item in node.elts:
        if not (isinstance(item, ast.Tuple) and len(item.elts) == 2):
            continue
        raw_args, raw_expected = item.elts
        expected = _literal_source(raw_expected)
        if expected is None:
            continue
        if isinstance(raw_args, ast.Tuple) and (len(params) != 1 or len(raw_args.elts) == 1):
            arg_nodes = list(raw_args.elts)
        else:
            arg_nodes = [raw_args]
        args = [_literal_source(a) for a in arg_nodes]
        if any(a is None for a in args):
            continue
        out.append(
            Case(tuple(a for a in args if a is not None), (), expected, line, ast.unparse(item))
        )
    return out


def _is_strategy(node: ast.expr) -> bool:
    text = ast.unparse(node)
    return text.startswith(("st.", "strategies.", "hypothesis.strategies."))


def _is_constant_assignment(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Assign)
        and all(isinstance(t, ast.Name) for t in node.targets)
        and _literal_source(node.value) is not None
    )


@dataclass
class _Reading:
    code: list[str] = field(default_factory=list)
    reference: str | None = None
    props: list[str] = field(default_factory=list)
    precondition: str | None = None
    strategies: list[tuple[str, str]] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def is_stub(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A def with no real body: only a docstring, `pass`, `...`, `return ...` or NotImplementedError."""
    for statement in node.body:
        if isinstance(statement, ast.Pass):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # the docstring, or a bare `...`
        if isinstance(statement, ast.Return) and (
            statement.value is None
            or (isinstance(statement.value, ast.Constant) and statement.value.value is Ellipsis)
        ):
            continue
        if isinstance(statement, ast.Raise) and "NotImplemented" in ast.unparse(statement):
            continue
        return False
    return True


def _read_def(
    node: ast.FunctionDef | ast.AsyncFunctionDef, text: str, name: str, r: _Reading
) -> None:
    if is_stub(node):
        r.notes.append(f"def {node.name} has no body: dropped")
        return
    r.code.append(text)
    if node.name == name or node.name in REFERENCE_NAMES:
        if r.reference is None or node.name == name:
            r.reference = node.name
    elif PRE_NAMES.match(node.name):
        r.precondition = r.precondition or node.name
    elif PROP_NAMES.match(node.name) and node.name not in r.props:
        r.props.append(node.name)


def _read_statement(node: ast.stmt, text: str, line: int, subject: Subject, r: _Reading) -> None:
    name = subject.name
    params = plain_params(subject)
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        _read_def(node, text, name, r)
    elif isinstance(node, ast.ClassDef | ast.Import | ast.ImportFrom):
        r.code.append(text)
    elif isinstance(node, ast.Assert):
        case = case_from_test(node.test, name, line, text)
        if case is not None:
            r.cases.append(case)
        elif name in text:
            r.notes.append(f"assert on line {line} is not `{name}(literals) == literal`: dropped")
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Compare):
        case = case_from_test(node.value, name, line, text)
        if case is not None:
            r.cases.append(case)
    elif isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        target_name = target.id if isinstance(target, ast.Name) else ""
        if target_name in ("cases", "examples", "tests", "test_cases"):
            r.cases += cases_from_list(node.value, params, line)
        elif target_name in params and _is_strategy(node.value):
            r.strategies.append((target_name, ast.unparse(node.value)))
        elif _is_constant_assignment(node) and target_name not in params:
            r.code.append(text)


def parse_answer(text: str, subject: Subject, origin: str) -> Proposal:
    """The proposal in one LLM answer; anything unusable is dropped with a note, never an error."""
    code = answer_code(text or "", subject.name)
    statements, notes = parse_statements(code)
    reading = _Reading(notes=list(notes))
    line = 1
    for node, source in statements:
        line = getattr(node, "lineno", line)
        _read_statement(node, source, line, subject, reading)
    if not statements:
        reading.notes.append("the answer holds no Python code")
    return Proposal(
        origin=origin,
        code="\n\n".join(reading.code) + ("\n" if reading.code else ""),
        reference=reading.reference,
        props=tuple(reading.props),
        precondition=reading.precondition,
        strategies=tuple(reading.strategies),
        cases=tuple(_unique(reading.cases)),
        notes=tuple(reading.notes),
    )


def _unique(cases: Sequence[Case]) -> list[Case]:
    seen: set[tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = set()
    out = []
    for case in cases:
        key = (case.args, case.kwargs)
        if key not in seen:
            seen.add(key)
            out.append(case)
    return out


# --------------------------------------------------------------------------- lenient examples


_ARROW = re.compile(
    r"^\s*(?:#\s*)?(?:=>|➞|->|→|==|returns?|should\s+return|gives|is)\s*:?\s*(.+)$", re.I
)


def _expected_literal(rest: str) -> str | None:
    text = rest.split(" #")[0].strip().rstrip(".,;")
    for candidate in (text, text.split(" (")[0].strip()):
        try:
            literal(candidate)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        return candidate
    return None


def lenient_examples(docstring: str, name: str) -> list[tuple[str, tuple[str, ...], str]]:
    """Prose examples such as `is_happy(abc) => True` or `f("x") # => 'Yes'`, bare words read as
    strings: (call as written, argument sources, expected source), for validating proposals."""
    out: list[tuple[str, tuple[str, ...], str]] = []
    for line in docstring.splitlines():
        for match in re.finditer(rf"(?<![\w.]){re.escape(name)}\s*\(", line):
            end = match_close(line, match.end() - 1)
            if end is None:
                continue
            arrow = _ARROW.match(line[end:])
            if arrow is None:
                continue
            expected = _expected_literal(arrow.group(1))
            parsed = parse_call(line[match.start() : end], name, bare_names=True)
            if expected is None or parsed is None or parsed.kwargs:
                continue
            out.append((line[match.start() : end], parsed.args, expected))
    return out
