"""dashboard.stats against statsmodels / scipy called directly on the same counts, and against
published worked examples and textbook formulas where there is one."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import StratifiedTable, Table2x2
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from dashboard import stats
from tests.dashboard.expected import wilson as textbook_wilson

COUNTS = [
    (56, 70, 48, 80),  # Newcombe (1998), Table II
    (9, 10, 3, 10),
    (0, 25, 4, 30),
    (30, 200, 12, 180),
    (5, 5, 0, 4),
    (1000, 9000, 1400, 11000),
]


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), COUNTS)
def test_two_groups_against_the_libraries(k1, n1, k2, n2):
    result = stats.two_groups(k1, n1, k2, n2)
    low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb")
    assert (result.low, result.high) == pytest.approx((low, high))
    assert result.difference == pytest.approx(k1 / n1 - k2 / n2)
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
    expected_cells = np.outer(table.sum(1), table.sum(0)) / table.sum()
    assert result.min_expected == pytest.approx(expected_cells.min())
    if expected_cells.min() < 5:
        assert result.test == stats.FISHER
        assert result.p_value == pytest.approx(sps.fisher_exact(table).pvalue)
    else:
        assert result.test == stats.Z_TEST
        assert result.p_value == pytest.approx(proportions_ztest([k1, k2], [n1, n2])[1])


def test_newcombe_interval_matches_the_published_example():
    """Newcombe (1998) method 10 for 56/70 - 48/80: 0.0524 to 0.3339."""
    result = stats.two_groups(56, 70, 48, 80)
    assert result.difference == pytest.approx(0.2)
    assert (round(result.low, 4), round(result.high, 4)) == (0.0524, 0.3339)


def test_fisher_is_used_below_five_expected():
    """Fisher's tea-tasting table: p = 0.4857 (two-sided)."""
    result = stats.two_groups(3, 4, 1, 4)
    assert result.test == stats.FISHER
    assert result.p_value == pytest.approx(0.4857, abs=1e-4)
    # Expected cells of exactly 5 are enough for the z-test.
    assert stats.two_groups(5, 10, 5, 10).test == stats.Z_TEST


def test_two_groups_refuses_bad_counts():
    with pytest.raises(ValueError):
        stats.two_groups(1, 0, 1, 5)
    with pytest.raises(ValueError):
        stats.two_groups(6, 5, 1, 5)


@pytest.mark.parametrize(("k", "n"), [(0, 5), (5, 5), (3, 40), (1, 1), (400, 1000)])
def test_wilson_is_the_textbook_interval(k, n):
    low, high = stats.wilson(k, n)
    want_low, want_high = textbook_wilson(k, n)
    assert low == pytest.approx(max(want_low, 0.0), abs=1e-12)
    assert high == pytest.approx(min(want_high, 1.0), abs=1e-12)
    assert 0.0 <= low <= high <= 1.0  # never "-0%"


STRATA = [(3, 13, 5, 14), (2, 5, 2, 10), (10, 40, 4, 35), (1, 9, 3, 12)]


def _arrays(strata):
    return [np.array([[k1, n1 - k1], [k2, n2 - k2]], dtype=float) for k1, n1, k2, n2 in strata]


def test_mantel_haenszel_against_statsmodels_and_the_formula():
    result = stats.stratified(STRATA)
    library = StratifiedTable(_arrays(STRATA))
    assert result.strata == len(STRATA)
    assert result.odds_ratio == pytest.approx(library.oddsratio_pooled)
    assert (result.low, result.high) == pytest.approx(library.oddsratio_pooled_confint())
    assert result.cmh_p_value == pytest.approx(library.test_null_odds().pvalue)
    assert result.homogeneity_p_value == pytest.approx(library.test_equal_odds().pvalue)
    crude = Table2x2(sum(_arrays(STRATA)))
    assert result.crude_odds_ratio == pytest.approx(crude.oddsratio)
    assert (result.crude_low, result.crude_high) == pytest.approx(crude.oddsratio_confint())
    # The Mantel–Haenszel estimator and the CMH statistic, written out.
    numerator = sum(k1 * (n2 - k2) / (n1 + n2) for k1, n1, k2, n2 in STRATA)
    denominator = sum((n1 - k1) * k2 / (n1 + n2) for k1, n1, k2, n2 in STRATA)
    assert result.odds_ratio == pytest.approx(numerator / denominator)
    deviation = variance = 0.0
    for k1, n1, k2, n2 in STRATA:
        n, m = n1 + n2, k1 + k2
        deviation += k1 - n1 * m / n
        variance += n1 * n2 * m * (n - m) / (n * n * (n - 1))
    chi2 = deviation**2 / variance
    assert result.cmh_p_value == pytest.approx(sps.chi2.sf(chi2, 1))


def test_mantel_haenszel_edge_cases():
    with pytest.raises(ValueError, match="no stratum"):
        stats.stratified([])
    one = stats.stratified([(3, 10, 1, 10)])
    assert one.homogeneity_p_value is None  # one stratum: nothing to be homogeneous with
    assert one.odds_ratio == pytest.approx((3 * 9) / (7 * 1))
    none = stats.stratified([(0, 10, 0, 12)])
    assert none.odds_ratio is None and none.low is None


def test_strata_frame_marks_the_informative_strata():
    frame = pl.DataFrame(
        {
            "stratum": ["x", "only a", "no overturns", "all overturned", None],
            "a_n": [10, 5, 4, 2, 3],
            "a_overturned": [2, 1, 0, 2, 1],
            "b_n": [8, 0, 6, 1, 3],
            "b_overturned": [1, 0, 0, 1, 0],
            "both_n": [0, 0, 0, 0, 0],
        }
    )
    strata = stats.strata_frame(frame)
    assert strata.get_column("used").to_list() == [True, False, False, False, False]
    assert stats.used_strata(strata) == [(2, 10, 1, 8)]
    assert strata.item(0, "a_overturn_rate") == pytest.approx(0.2)
    assert strata.item(0, "odds_ratio") == pytest.approx(
        Table2x2(_arrays([(2, 10, 1, 8)])[0]).oddsratio
    )


@pytest.mark.parametrize("p0", [0.02, 0.1, 0.5])
@pytest.mark.parametrize("level", stats.FUNNEL_LEVELS)
def test_funnel_limits_are_interpolated_binomial_quantiles(p0, level):
    sizes = [1, 5, 20, 100, 1000, 20000]
    low, high = stats.funnel_limits(p0, sizes, level)
    for n, lo, hi in zip(sizes, low, high, strict=True):
        # Spiegelhalter: within one step of the binomial quantile, inside [0, 1].
        q_low = sps.binom.ppf((1 - level) / 2, n, p0)
        q_high = sps.binom.ppf((1 + level) / 2, n, p0)
        assert (q_low - 1) / n <= lo <= q_low / n
        assert (q_high - 1) / n <= hi <= q_high / n
        assert 0 <= lo <= hi <= 1
        if n * p0 * (1 - p0) >= 1:  # not degenerate: the target lies between the limits
            assert lo <= p0 <= hi
    # For large n they approach the normal limits.
    z = sps.norm.ppf((1 + level) / 2)
    half = z * math.sqrt(p0 * (1 - p0) / sizes[-1])
    assert (low[-1], high[-1]) == pytest.approx((p0 - half, p0 + half), abs=2 / sizes[-1])


def test_funnel_tests_each_group_and_adjusts_for_many():
    p0 = 0.12
    groups = [(30, 200), (2, 5), (40, 100), (11, 90), (0, 40), (25, 210)]
    result = stats.funnel(p0, groups)
    p_values = [sps.binomtest(k, n, p0).pvalue for k, n in groups]
    _, q_values, _, _ = multipletests(p_values, method="fdr_bh")
    assert [g.p_value for g in result] == pytest.approx(p_values)
    assert [g.q_value for g in result] == pytest.approx(list(q_values))
    assert [g.flagged for g in result] == [q < 0.05 for q in q_values]
    for g in result:  # each group's limits as if it were alone
        low, high = stats.funnel_limits(p0, [g.n], 0.95)
        assert g.outside_95 is bool(g.rate < low[0] or g.rate > high[0])
        low, high = stats.funnel_limits(p0, [g.n], 0.998)
        assert g.outside_998 is bool(g.rate < low[0] or g.rate > high[0])
        assert not (g.outside_998 and not g.outside_95)  # 99.8% limits are wider
    assert result[2].flagged and result[2].outside_998  # 40% of 100 against 12%
    assert not result[1].flagged  # 2 of 5: too few to tell
    assert stats.funnel(p0, []) == []


def test_funnel_frame_keeps_the_rate_table():
    rates = pl.DataFrame(
        {"state": ["A", "B"], "n": [100, 50], "overturned": [40, 5], "overturn_rate": [0.4, 0.1]}
    )
    frame = stats.funnel_frame(rates, "state", 0.2)
    assert frame.columns == [
        "state",
        "n",
        "overturned",
        "overturn_rate",
        "outside_95",
        "outside_99_8",
        "p_value",
        "q_value",
        "flagged",
    ]
    assert frame.get_column("flagged").to_list() == [True, False]
