"""Growth-class fitting on golden synthetic cost curves, base-vs-head judgement, stated bounds."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest

from codegrad.errors import UsageError
from codegrad.verify.checks import complexity as cx

# the sizes the efficiency check measures
SIZES = [n for k in range(15) for n in (4 << k, 6 << k) if n <= 65536]

# (name, cost curve with lower-order terms as real code has them, expected class)
CURVES: list[tuple[str, Callable[[int], float], str]] = [
    ("constant", lambda n: 12.0, cx.CONSTANT),
    ("logarithmic", lambda n: 5 + 3 * math.log2(n), cx.LOG),
    ("linear", lambda n: 7 + 4 * n, cx.LINEAR),
    ("linear, big overhead", lambda n: 300 + 4 * n, cx.LINEAR),
    ("n log n", lambda n: 10 + 2 * n + n * math.log2(n), cx.LINEARITHMIC),
    ("sort plus a linear pass", lambda n: 20 + 5 * n + n * math.log2(n), cx.LINEARITHMIC),
    ("quadratic", lambda n: 5 + 3 * n + 0.5 * n * n, cx.QUADRATIC),
    ("quadratic, strong linear term", lambda n: 50 + 10 * n + 0.1 * n * n, cx.QUADRATIC),
    ("sort inside a loop", lambda n: 5 + 3 * n + n * n * math.log2(n), cx.QUADRATIC_LOG),
    ("cubic", lambda n: 5 + n * n + 0.2 * n**3, cx.CUBIC),
    ("fibonacci recursion", lambda n: 3 * 1.618 ** min(n, 500), cx.EXPONENTIAL),
]


def measured(curve: Callable[[int], float], cap: float) -> tuple[list[int], list[float]]:
    """The sizes a run capped at `cap` units reaches, and the costs there."""
    sizes = [n for n in SIZES if curve(n) <= cap]
    return sizes, [curve(n) for n in sizes]


@pytest.mark.parametrize("cap", [2e5, 2e4])
@pytest.mark.parametrize(("name", "curve", "expected"), CURVES, ids=[c[0] for c in CURVES])
def test_golden_curves_fit_their_class(
    name: str, curve: Callable[[int], float], expected: str, cap: float
) -> None:
    sizes, costs = measured(curve, cap)
    fit = cx.fit(sizes, costs)
    assert fit is not None
    assert fit.klass == expected, fit.errors
    assert fit.error < 0.01
    assert not fit.poor


@pytest.mark.parametrize(("name", "curve", "expected"), CURVES, ids=[c[0] for c in CURVES])
def test_golden_curves_with_ten_percent_noise(
    name: str, curve: Callable[[int], float], expected: str
) -> None:
    rng = random.Random(name)
    sizes, costs = measured(curve, 2e5)
    noisy = [c * (1 + rng.uniform(-0.1, 0.1)) for c in costs]
    fit = cx.fit(sizes, noisy)
    assert fit is not None
    assert fit.klass == expected
    assert 0 < fit.error < 0.12


def test_exponential_fit_reports_its_base() -> None:
    sizes, costs = measured(lambda n: 3 * 1.618 ** min(n, 500), 2e5)
    fit = cx.fit(sizes, costs)
    assert fit is not None and fit.klass == cx.EXPONENTIAL
    assert fit.base == pytest.approx(1.618, rel=0.01)
    assert "base 1.62" in fit.describe()


def test_one_size_that_exits_early_does_not_change_the_class() -> None:
    sizes, costs = measured(lambda n: 20 + n, 2e5)
    costs[3] = 4  # a search that found its key at the first probe
    costs[9] = 11
    fit = cx.fit(sizes, costs)
    assert fit is not None and fit.klass == cx.LINEAR


def test_too_few_sizes_claim_no_class() -> None:
    assert cx.fit([4, 6, 8], [10, 20, 30]) is None
    assert cx.fit([4, 4, 4, 4], [10, 10, 10, 10]) is None


def test_data_without_a_trend_is_a_poor_fit() -> None:
    rng = random.Random(3)
    sizes = SIZES[:20]
    costs = [rng.choice([5, 500, 50_000]) for _ in sizes]
    fit = cx.fit(sizes, costs)
    assert fit is not None and fit.poor
    assert fit.describe().startswith("no clear class")


# ---------------------------------------------------------------- base vs head


def series(curve: Callable[[int], float], sizes: list[int]) -> list[float]:
    return [curve(n) for n in sizes]


LINEAR = lambda n: 10 + 3 * n  # noqa: E731
QUADRATIC = lambda n: 10 + 3 * n + n * n  # noqa: E731


def test_linear_to_quadratic_is_a_class_and_factor_regression() -> None:
    sizes = SIZES[:14]
    c = cx.compare(sizes, series(LINEAR, sizes), series(QUADRATIC, sizes), slowdown=4.0)
    assert c.regression
    assert c.reasons == ("class", "factor")
    assert (c.base_class, c.head_class) == (cx.LINEAR, cx.QUADRATIC)
    assert c.ratio is not None and c.ratio > 50


def test_same_class_small_constant_factor_is_not_a_regression() -> None:
    sizes = SIZES[:20]
    c = cx.compare(
        sizes, series(LINEAR, sizes), [2.5 * x for x in series(LINEAR, sizes)], slowdown=4.0
    )
    assert not c.regression
    assert c.head_class == cx.LINEAR


def test_constant_factor_above_the_slowdown_is_a_regression() -> None:
    sizes = SIZES[:20]
    c = cx.compare(
        sizes, series(LINEAR, sizes), [6 * x for x in series(LINEAR, sizes)], slowdown=4.0
    )
    assert c.reasons == ("factor",)


def test_a_faster_head_is_never_a_regression() -> None:
    sizes = SIZES[:14]
    c = cx.compare(sizes, series(QUADRATIC, sizes), series(LINEAR, sizes), slowdown=4.0)
    assert not c.regression


def test_linear_to_n_log_n_is_a_class_regression() -> None:
    sizes = SIZES[:24]
    nlogn = lambda n: 10 + n + n * math.log2(n)  # noqa: E731
    c = cx.compare(sizes, series(LINEAR, sizes), series(nlogn, sizes), slowdown=4.0)
    assert "class" in c.reasons
    assert c.head_class == cx.LINEARITHMIC


def test_head_stopped_where_base_finished_counts_as_worse_than_what_was_measured() -> None:
    sizes = SIZES[:16]
    head = series(LINEAR, sizes[:12])
    stop = cx.Stop("cost-cap", sizes[12])
    c = cx.compare(sizes, series(LINEAR, sizes), head, slowdown=4.0, head_stop=stop)
    assert c.reasons[0] == "budget"
    assert c.head_class == "worse than O(n)"
    assert c.censored_at == sizes[12]
    assert c.sizes == tuple(sizes[:12])


def test_head_stopped_where_base_also_stopped_is_not_a_regression() -> None:
    sizes = SIZES[:12]
    stop = cx.Stop("timeout", SIZES[12])
    c = cx.compare(
        sizes, series(LINEAR, sizes), series(LINEAR, sizes), slowdown=4.0, head_stop=stop
    )
    assert not c.regression


def test_an_error_is_not_a_budget_stop() -> None:
    sizes = SIZES[:12]
    stop = cx.Stop("error", sizes[8], "RecursionError")
    c = cx.compare(
        sizes, series(LINEAR, sizes), series(LINEAR, sizes[:8]), slowdown=4.0, head_stop=stop
    )
    assert not c.regression
    assert c.sizes == tuple(sizes[:8])


def test_bound_exceeded_and_kept() -> None:
    sizes = SIZES[:14]
    over, fit = cx.exceeds(sizes, series(QUADRATIC, sizes), cx.LINEARITHMIC)
    assert over and fit is not None and fit.klass == cx.QUADRATIC
    assert cx.exceeds(sizes, series(LINEAR, sizes), cx.LINEAR) == (
        False,
        cx.fit(sizes, series(LINEAR, sizes)),
    )
    assert cx.exceeds(sizes, series(LINEAR, sizes), cx.LINEAR, censored=True)[0]


# ---------------------------------------------------------------- stated bounds


@pytest.mark.parametrize(
    ("text", "klass"),
    [
        ("O(1)", cx.CONSTANT),
        ("O(log n)", cx.LOG),
        ("O(log(n))", cx.LOG),
        ("O(n)", cx.LINEAR),
        ("O(N)", cx.LINEAR),
        ("O(len(xs))", cx.LINEAR),
        ("O(n + m)", cx.LINEAR),
        ("O(n log n)", cx.LINEARITHMIC),
        ("O(n * log(n))", cx.LINEARITHMIC),
        ("O(n^2)", cx.QUADRATIC),
        ("O(n**2)", cx.QUADRATIC),
        ("O(n²)", cx.QUADRATIC),
        ("O(len(items) ** 2)", cx.QUADRATIC),
        ("O(n*m)", cx.QUADRATIC),
        ("Θ(n^3)", cx.CUBIC),
        ("O(2^n)", cx.EXPONENTIAL),
        ("linear", cx.LINEAR),
        ("linear time", cx.LINEAR),
        ("quadratic-time", cx.QUADRATIC),
        ("log-linear time", cx.LINEARITHMIC),
        ("O(sqrt(n))", None),
        ("fast", None),
    ],
)
def test_parse_bound(text: str, klass: str | None) -> None:
    assert cx.parse_bound(text) == klass


@pytest.mark.parametrize(
    ("docstring", "klass"),
    [
        ("Sort the items.\n\nRuns in O(n log n) time.", cx.LINEARITHMIC),
        ("Uses O(n) extra space and O(n^2) time.", cx.QUADRATIC),
        ("Space complexity: O(n). Time complexity: O(n log n).", cx.LINEARITHMIC),
        ("Finds the pair in linear time with a hash map.", cx.LINEAR),
        ("Needs O(1) memory.", None),
        ("Returns the total.", None),
        (None, None),
    ],
)
def test_docstring_bound_skips_space_bounds(docstring: str | None, klass: str | None) -> None:
    bound = cx.docstring_bound(docstring)
    assert (bound.klass if bound else None) == klass
    if bound:
        assert bound.source == "docstring"


def test_config_bound_precedence_and_source() -> None:
    bounds = {"pkg/mod.py::Sorter.sort": "O(n log n)", "sort": "O(n^2)", "helper": "linear"}
    exact = cx.config_bound(bounds, "pkg/mod.py", "Sorter.sort")
    assert exact == cx.Bound(cx.LINEARITHMIC, "O(n log n)", "config")
    assert cx.config_bound(bounds, "other.py", "sort") == cx.Bound(cx.QUADRATIC, "O(n^2)", "config")
    assert cx.config_bound(bounds, "x.py", "Tools.helper") == cx.Bound(
        cx.LINEAR, "linear", "config"
    )
    assert cx.config_bound(bounds, "x.py", "unrelated") is None


def test_config_bound_beats_the_docstring() -> None:
    bound = cx.stated_bound({"f": "O(n)"}, "m.py", "f", "Runs in O(n^2) time.")
    assert bound is not None and (bound.klass, bound.source) == (cx.LINEAR, "config")
    doc = cx.stated_bound({}, "m.py", "f", "Runs in O(n^2) time.")
    assert doc is not None and (doc.klass, doc.source) == (cx.QUADRATIC, "docstring")


def test_unreadable_config_bound_is_a_usage_error_naming_key_and_value() -> None:
    with pytest.raises(UsageError, match=r"complexity-bounds 'f'.*'pretty fast'.*O\(n log n\)"):
        cx.config_bound({"f": "pretty fast"}, "m.py", "f")
