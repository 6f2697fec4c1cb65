"""Growth classes: fit measured costs to O(1)..O(2^n), compare base with head, parse stated bounds."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from codegrad.errors import UsageError

CONSTANT = "O(1)"
LOG = "O(log n)"
LINEAR = "O(n)"
LINEARITHMIC = "O(n log n)"
QUADRATIC = "O(n^2)"
QUADRATIC_LOG = "O(n^2 log n)"
CUBIC = "O(n^3)"
EXPONENTIAL = "O(2^n)"
CLASSES = (CONSTANT, LOG, LINEAR, LINEARITHMIC, QUADRATIC, QUADRATIC_LOG, CUBIC, EXPONENTIAL)
# Each class is fitted as a non-negative sum of its leading term and the lower terms real code
# carries beside it (constant overhead, a linear pass), so 10n + 0.1n^2 is quadratic, not n log n.
TERMS = {
    CONSTANT: ("1",),
    LOG: ("1", "log n"),
    LINEAR: ("1", "n"),
    LINEARITHMIC: ("1", "n", "n log n"),
    QUADRATIC: ("1", "n", "n^2"),
    QUADRATIC_LOG: ("1", "n", "n^2", "n^2 log n"),
    CUBIC: ("1", "n", "n^2", "n^3"),
    EXPONENTIAL: ("1", "n", "r^n"),
}
RANK = {name: index for index, name in enumerate(CLASSES)}

MIN_POINTS = 4  # fewer measured sizes than this: no class is claimed
PREFER_SIMPLER = 1.5  # a simpler class wins when its error is within this factor of the best
ERROR_SLACK = 0.02  # ... or within this absolute relative error
CLEARLY_WORSE = 0.10  # a class "does not explain" data when its fit error is above this
POOR_FIT = 0.25  # above this error no class is claimed for a series
TRIM = 8  # the worst 1 in TRIM points is left out of a fit's error
_EXP_MAX_SIZE = 2000  # exponential growth cannot reach larger sizes within any budget


@dataclass(frozen=True)
class Fit:
    """The growth class that best explains costs over sizes, with the fit error of every class."""

    klass: str
    error: float  # root mean square of relative residuals of the chosen class (0.02 = 2%)
    r2: float  # coefficient of determination of the chosen class on the raw costs
    errors: dict[str, float]  # every class -> its relative RMS error (inf: not applicable)
    points: int
    base: float | None = None  # the fitted base r of an exponential r^n

    @property
    def rank(self) -> int:
        return RANK[self.klass]

    @property
    def poor(self) -> bool:
        """No class explains the costs well (data-dependent cost, e.g. early exits)."""
        return self.error > POOR_FIT

    def describe(self) -> str:
        if self.poor:
            return f"no clear class (closest {self.klass}, fit error {self.error:.0%})"
        base = f", base {self.base:.2f}" if self.klass == EXPONENTIAL and self.base else ""
        return f"{self.klass} (fit error {self.error:.1%}{base})"


def _column(term: str, sizes: Sequence[float], base: float | None) -> list[float]:
    """One growth term at each size, scaled so its largest value is 1."""
    if term == "1":
        return [1.0 for _ in sizes]
    if term == "r^n":
        assert base is not None
        top = max(sizes)
        return [math.exp((n - top) * math.log(base)) for n in sizes]
    shape: Callable[[float], float] = {
        "log n": lambda n: math.log2(n + 1),
        "n": lambda n: float(n),
        "n log n": lambda n: n * math.log2(n + 1),
        "n^2": lambda n: float(n) ** 2,
        "n^2 log n": lambda n: float(n) ** 2 * math.log2(n + 1),
        "n^3": lambda n: float(n) ** 3,
    }[term]
    values = [shape(n) for n in sizes]
    top = max(values) or 1.0
    return [v / top for v in values]


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting (None when singular)."""
    size = len(vector)
    rows = [[*matrix[i], vector[i]] for i in range(size)]
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(rows[r][col]))
        if abs(rows[pivot][col]) < 1e-14:
            return None
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(size):
            if r != col:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [x - factor * y for x, y in zip(rows[r], rows[col], strict=True)]
    return [rows[i][size] / rows[i][i] for i in range(size)]


def _nonnegative_fit(columns: list[list[float]], costs: Sequence[float]) -> list[float]:
    """Predicted costs of sum(beta_j * column_j), beta >= 0, minimising relative residuals.

    Exact for the few terms used here: every subset of terms is solved unconstrained and the best
    subset whose coefficients are all non-negative wins.
    """
    weights = [1.0 / (c * c) for c in costs]
    scale = sum(weights)
    weights = [w / scale for w in weights]
    best: tuple[float, list[float]] | None = None
    for mask in range(1, 1 << len(columns)):
        chosen = [col for j, col in enumerate(columns) if mask >> j & 1]
        gram = [
            [sum(w * x * y for w, x, y in zip(weights, a, b, strict=True)) for b in chosen]
            for a in chosen
        ]
        rhs = [sum(w * x * c for w, x, c in zip(weights, a, costs, strict=True)) for a in chosen]
        beta = _solve(gram, rhs)
        if beta is None or min(beta) < 0:
            continue
        predicted = [
            sum(b * col[i] for b, col in zip(beta, chosen, strict=True)) for i in range(len(costs))
        ]
        residual = sum(w * (c - p) ** 2 for w, c, p in zip(weights, costs, predicted, strict=True))
        if best is None or residual < best[0]:
            best = (residual, predicted)
    return best[1] if best else [0.0 for _ in costs]


def _residuals(columns: list[list[float]], costs: Sequence[float]) -> tuple[float, float]:
    """(relative RMS error, R^2) of the best non-negative combination of the columns.

    Robust to a few odd sizes (a search that happened to find its key at once): the worst
    1 in TRIM points are dropped after a first fit, and the fit and its error use the rest.
    """
    keep = list(range(len(costs)))
    predicted = _nonnegative_fit(columns, costs)
    drop = len(costs) // TRIM
    if drop:
        worst = sorted(keep, key=lambda i: abs(costs[i] - predicted[i]) / costs[i])[-drop:]
        keep = [i for i in keep if i not in worst]
        kept_costs = [costs[i] for i in keep]
        predicted = _nonnegative_fit([[col[i] for i in keep] for col in columns], kept_costs)
    else:
        kept_costs = list(costs)
    relative = [(c - p) / c for c, p in zip(kept_costs, predicted, strict=True)]
    error = math.sqrt(sum(r * r for r in relative) / len(relative))
    mean = sum(kept_costs) / len(kept_costs)
    total = sum((c - mean) ** 2 for c in kept_costs)
    residual = sum((c - p) ** 2 for c, p in zip(kept_costs, predicted, strict=True))
    r2 = 1.0 - residual / total if total > 0 else 1.0
    return error, r2


def exponential_base(sizes: Sequence[float], costs: Sequence[float]) -> float | None:
    """The base r of cost ~ r^n from the largest sizes (log-linear slope), None if not growing."""
    tail = list(zip(sizes, costs, strict=True))[-4:]
    if len(tail) < 3 or max(sizes) > _EXP_MAX_SIZE:
        return None
    xs = [n for n, _ in tail]
    ys = [math.log(c) for _, c in tail]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx <= 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    base = math.exp(slope)
    return base if base > 1.05 else None


def class_error(sizes: Sequence[float], costs: Sequence[float], klass: str) -> float:
    """How badly one class explains the costs (relative RMS error; inf when it cannot apply)."""
    return _errors(sizes, costs)[0][klass]


def _errors(
    sizes: Sequence[float], costs: Sequence[float]
) -> tuple[dict[str, float], dict[str, float], float | None]:
    positive = [max(float(c), 1.0) for c in costs]
    errors: dict[str, float] = {}
    r2s: dict[str, float] = {}
    base = exponential_base(sizes, positive)
    for klass in CLASSES:
        if klass == EXPONENTIAL and base is None:
            errors[klass], r2s[klass] = math.inf, 0.0
            continue
        columns = [_column(term, sizes, base) for term in TERMS[klass]]
        errors[klass], r2s[klass] = _residuals(columns, positive)
    return errors, r2s, base


def fit(sizes: Sequence[float], costs: Sequence[float]) -> Fit | None:
    """The best growth class for the costs (None with fewer than MIN_POINTS distinct sizes).

    Each class is fitted as a non-negative sum of its terms (TERMS), minimising relative residuals
    so that small and large sizes count alike; the simplest class whose error is close to the best
    one wins (constant overhead at small sizes must not make a linear function look like log n).
    """
    if len(sizes) != len(costs) or len(set(sizes)) < MIN_POINTS:
        return None
    errors, r2s, base = _errors(sizes, costs)
    best = min(errors.values())
    chosen = next(k for k in CLASSES if errors[k] <= max(best * PREFER_SIMPLER, best + ERROR_SLACK))
    return Fit(
        klass=chosen,
        error=errors[chosen],
        r2=r2s[chosen],
        errors=errors,
        points=len(sizes),
        base=base if chosen == EXPONENTIAL else None,
    )


def explains(sizes: Sequence[float], costs: Sequence[float], klass: str, own: Fit) -> bool:
    """Whether `klass` explains the costs about as well as their own best class does."""
    error = class_error(sizes, costs, klass)
    return error <= max(CLEARLY_WORSE, 2.5 * own.error)


# ---------------------------------------------------------------- base vs head


@dataclass(frozen=True)
class Stop:
    """Why a series of runs ended early: the cost cap, the time limit, or an exception."""

    reason: str  # "cost-cap" | "timeout" | "error"
    size: int
    detail: str = ""

    @property
    def censored(self) -> bool:
        """The run at `size` did not finish within its budget (cost or time)."""
        return self.reason in ("cost-cap", "timeout")


@dataclass(frozen=True)
class Comparison:
    """Base and head costs over the sizes both measured, their classes, and the verdict."""

    sizes: tuple[int, ...]
    base_costs: tuple[float, ...]
    head_costs: tuple[float, ...]
    base_fit: Fit | None
    head_fit: Fit | None
    head_class: str  # a class name, "worse than O(...)" when head ran out of budget, or "unknown"
    ratio: float | None  # head / base cost at the largest common size
    reasons: tuple[str, ...]  # "class", "factor", "budget"
    censored_at: int | None = None

    @property
    def regression(self) -> bool:
        return bool(self.reasons)

    @property
    def base_class(self) -> str:
        return class_name(self.base_fit)


def class_name(fit: Fit | None) -> str:
    """The fitted class, "unclear" for a poor fit, "unknown" when too few sizes were measured."""
    if fit is None:
        return "unknown"
    return "unclear" if fit.poor else fit.klass


def worse_than(klass: str) -> str:
    return f"worse than {klass}"


def _largest_class(*fits: Fit | None) -> str | None:
    ranked = [f.klass for f in fits if f is not None and not f.poor]
    return max(ranked, key=lambda k: RANK[k]) if ranked else None


def compare(
    sizes: Sequence[int],
    base_costs: Sequence[float],
    head_costs: Sequence[float],
    *,
    slowdown: float,
    head_stop: Stop | None = None,
) -> Comparison:
    """Judge head against base over base's sizes (head may have stopped early at head_stop)."""
    count = min(len(sizes), len(base_costs), len(head_costs))
    common = tuple(sizes[:count])
    base = tuple(float(c) for c in base_costs[:count])
    head = tuple(float(c) for c in head_costs[:count])
    base_fit = fit(common, base)
    head_fit = fit(common, head)
    ratio = head[-1] / max(base[-1], 1.0) if count else None
    reasons: list[str] = []
    head_class = class_name(head_fit)
    censored_at = None
    base_finished = head_stop is not None and head_stop.size in sizes[: len(base_costs)]
    if head_stop is not None and head_stop.censored and base_finished:
        censored_at = head_stop.size
        largest = _largest_class(base_fit, head_fit)
        head_class = worse_than(largest) if largest else "worse than any class measured"
        reasons.append("budget")
    elif (
        base_fit is not None
        and head_fit is not None
        and not base_fit.poor
        and not head_fit.poor
        and head_fit.rank > base_fit.rank
        and not explains(common, head, base_fit.klass, head_fit)
        and ratio is not None
        and ratio > 1.0
    ):
        reasons.append("class")
    if ratio is not None and ratio > slowdown:
        reasons.append("factor")
    return Comparison(
        sizes=common,
        base_costs=base,
        head_costs=head,
        base_fit=base_fit,
        head_fit=head_fit,
        head_class=head_class,
        ratio=ratio,
        reasons=tuple(reasons),
        censored_at=censored_at,
    )


def exceeds(
    sizes: Sequence[int], costs: Sequence[float], bound: str, *, censored: bool = False
) -> tuple[bool, Fit | None]:
    """Whether costs grow faster than the bound's class (a censored series always exceeds)."""
    own = fit(sizes, costs)
    if censored:
        return True, own
    if own is None or own.poor or own.rank <= RANK[bound]:
        return False, own
    return not explains(sizes, costs, bound, own), own


# ---------------------------------------------------------------- stated bounds


@dataclass(frozen=True)
class Bound:
    """A stated complexity bound: its class, the text it came from, and where it was stated."""

    klass: str
    text: str
    source: str  # "docstring" | "config"


_WORDS = {
    "constant": CONSTANT,
    "logarithmic": LOG,
    "linear": LINEAR,
    "linearithmic": LINEARITHMIC,
    "log-linear": LINEARITHMIC,
    "loglinear": LINEARITHMIC,
    "quasilinear": LINEARITHMIC,
    "quadratic": QUADRATIC,
    "cubic": CUBIC,
    "exponential": EXPONENTIAL,
}
_BIG_O = re.compile(r"(?<![A-Za-z])[OΟΘθ]\s*\(((?:[^()]|\([^()]*\))+)\)")
_WORD_TIME = re.compile(
    r"\b(" + "|".join(re.escape(w) for w in _WORDS) + r")[\s-]+time\b", re.IGNORECASE
)
_SPACE_AFTER = re.compile(r"^\s*(?:extra\s+|additional\s+|auxiliary\s+)?(?:space|memory)\b", re.I)
_SPACE_BEFORE = re.compile(r"(?:space|memory)(?:\s+complexity)?\s*(?:is|:|of|=)?\s*$", re.I)


def _normalise(expression: str) -> str:
    text = expression.strip().lower()
    text = text.replace("²", "^2").replace("³", "^3").replace("**", "^").replace("·", "*")
    text = re.sub(r"len\([^()]*\)", "n", text)
    text = re.sub(r"\blg\b", "log", text)
    text = re.sub(r"log\s*\(\s*([a-z_]\w*)\s*\)", r"log \1", text)
    text = re.sub(r"\b(?!log\b|exp\b)[a-z_]\w*", "n", text)
    return re.sub(r"[\s*]", "", text)


_CANONICAL = {
    "1": CONSTANT,
    "logn": LOG,
    "n": LINEAR,
    "n+n": LINEAR,
    "nlogn": LINEARITHMIC,
    "logn^2": LINEARITHMIC,
    "n^2": QUADRATIC,
    "nn": QUADRATIC,
    "n^2logn": CUBIC,
    "n^3": CUBIC,
    "nnn": CUBIC,
    "2^n": EXPONENTIAL,
    "3^n": EXPONENTIAL,
    "n^n": EXPONENTIAL,
    "expn": EXPONENTIAL,
    "exp(n)": EXPONENTIAL,
    "n!": EXPONENTIAL,
}


def parse_bound(text: str) -> str | None:
    """The class of a bound such as "O(n log n)", "O(len(xs)**2)", "linear time" (None: not one)."""
    found = _BIG_O.search(text)
    if found:
        return _CANONICAL.get(_normalise(found.group(1)))
    word = _WORD_TIME.search(text) or re.fullmatch(r"\s*([\w-]+)\s*", text)
    if word:
        return _WORDS.get(word.group(1).lower())
    return None


def docstring_bound(docstring: str | None) -> Bound | None:
    """The first time bound a docstring states; bounds on space or memory are ignored."""
    if not docstring:
        return None
    text = " ".join(docstring.split())
    candidates: list[tuple[int, str]] = []
    for match in _BIG_O.finditer(text):
        after = text[match.end() : match.end() + 30]
        before = text[max(0, match.start() - 30) : match.start()]
        if _SPACE_AFTER.search(after) or _SPACE_BEFORE.search(before):
            continue
        candidates.append((match.start(), match.group(0)))
    candidates += [(m.start(), m.group(0)) for m in _WORD_TIME.finditer(text)]
    for _, phrase in sorted(candidates):
        klass = parse_bound(phrase)
        if klass is not None:
            return Bound(klass, phrase, "docstring")
    return None


def config_bound(bounds: Mapping[str, str], path: str, qualname: str) -> Bound | None:
    """The bound `[tool.codegrad] complexity-bounds` gives a function ("path::qualname", qualname or
    name), or UsageError when that value is not a bound."""
    name = qualname.rsplit(".", 1)[-1]
    for key in (f"{path}::{qualname}", qualname, name):
        if key in bounds:
            text = bounds[key]
            klass = parse_bound(text)
            if klass is None:
                raise UsageError(
                    f"[tool.codegrad] complexity-bounds {key!r}: cannot read {text!r} as a bound; "
                    "write one of O(1), O(log n), O(n), O(n log n), O(n^2), O(n^3), O(2^n)"
                )
            return Bound(klass, text, "config")
    return None


def stated_bound(
    bounds: Mapping[str, str], path: str, qualname: str, docstring: str | None
) -> Bound | None:
    """The configured bound if there is one, else the docstring's."""
    return config_bound(bounds, path, qualname) or docstring_bound(docstring)
