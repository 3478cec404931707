"""Comparisons of overturn rates: pure functions of counts, every statistic from statsmodels or
scipy (no hand-rolled formulas).

* ``two_groups``: two rates side by side, their difference with a 95% Newcombe interval
  (``confint_proportions_2indep(method="newcomb")``) and a p-value: Fisher's exact test when an
  expected cell of the 2×2 table is below 5, otherwise the two-proportion z-test.
* ``stratified``: the Mantel–Haenszel pooled odds ratio over strata (e.g. request categories)
  with its 95% interval, the Cochran–Mantel–Haenszel test and the Breslow–Day test of
  homogeneity (``statsmodels`` ``StratifiedTable``), beside the crude odds ratio.
* ``funnel`` / ``funnel_limits``: a league table's groups against the overall rate, with
  binomial 95% and 99.8% control limits (Spiegelhalter's interpolation), a two-sided binomial
  test per group and the Benjamini–Hochberg adjustment across the groups tested together.

Odds ratios are "overturn, first group vs second group": above 1, the first group's denials
are overturned more often.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats as sps
from statsmodels.stats.contingency_tables import StratifiedTable, Table2x2
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

ALPHA = 0.05
# Expected cell count below which the 2×2 test is Fisher's exact test.
MIN_EXPECTED = 5.0
# Funnel control limits: about 2 and 3 standard deviations.
FUNNEL_LEVELS = (0.95, 0.998)

FISHER = "Fisher's exact test"
Z_TEST = "two-proportion z-test"


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def wilson(k: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of k out of n (statsmodels), within [0, 1]."""
    low, high = proportion_confint(k, n, alpha=ALPHA, method="wilson")
    return max(float(low), 0.0), min(float(high), 1.0)


def table_2x2(k1: int, n1: int, k2: int, n2: int) -> np.ndarray:
    """Rows: first, second group; columns: overturned, upheld."""
    if not (0 <= k1 <= n1 and 0 <= k2 <= n2):
        raise ValueError(f"counts out of range: {k1}/{n1}, {k2}/{n2}")
    return np.array([[k1, n1 - k1], [k2, n2 - k2]], dtype=float)


def expected_cells(table: np.ndarray) -> np.ndarray:
    """Expected counts under independence (row total × column total / total)."""
    total = table.sum()
    if total == 0:
        return np.zeros_like(table)
    return np.outer(table.sum(axis=1), table.sum(axis=0)) / total


@dataclass(frozen=True)
class TwoGroups:
    k1: int
    n1: int
    k2: int
    n2: int
    rate1: float
    rate2: float
    difference: float
    """rate1 - rate2"""
    low: float
    high: float
    """95% Newcombe (hybrid Wilson score) interval of the difference"""
    test: str
    """``FISHER`` when an expected cell is below ``MIN_EXPECTED``, else ``Z_TEST``"""
    p_value: float
    min_expected: float


def two_groups(k1: int, n1: int, k2: int, n2: int) -> TwoGroups:
    """Overturned k out of n items in each group (both n > 0)."""
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both groups need items")
    table = table_2x2(k1, n1, k2, n2)
    low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", alpha=ALPHA)
    smallest = float(expected_cells(table).min())
    if smallest < MIN_EXPECTED:
        test = FISHER
        p_value = float(sps.fisher_exact(table, alternative="two-sided").pvalue)
    else:
        test = Z_TEST
        _, p = proportions_ztest([k1, k2], [n1, n2])
        p_value = float(p)
    return TwoGroups(
        k1=k1,
        n1=n1,
        k2=k2,
        n2=n2,
        rate1=k1 / n1,
        rate2=k2 / n2,
        difference=k1 / n1 - k2 / n2,
        low=max(float(low), -1.0),
        high=min(float(high), 1.0),
        test=test,
        p_value=min(max(p_value, 0.0), 1.0),
        min_expected=smallest,
    )


@dataclass(frozen=True)
class Stratified:
    strata: int
    """strata used: both groups present"""
    crude_odds_ratio: float | None
    crude_low: float | None
    crude_high: float | None
    odds_ratio: float | None
    """Mantel–Haenszel pooled odds ratio (None when not estimable, e.g. no overturns)"""
    low: float | None
    high: float | None
    cmh_p_value: float | None
    """Cochran–Mantel–Haenszel test of a common odds ratio of 1"""
    homogeneity_p_value: float | None
    """Breslow–Day test that the odds ratio is the same in every stratum"""


def stratified(tables: Sequence[tuple[int, int, int, int]]) -> Stratified:
    """Mantel–Haenszel analysis of strata given as (k1, n1, k2, n2); strata where a group has
    no items carry no information and must be left out by the caller."""
    arrays = [table_2x2(*t) for t in tables]
    if not arrays:
        raise ValueError("no stratum holds both groups")
    pooled = sum(arrays)
    crude = Table2x2(pooled)
    crude_low, crude_high = crude.oddsratio_confint(alpha=ALPHA)
    table = StratifiedTable(arrays)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = _finite(table.oddsratio_pooled)
        low, high = table.oddsratio_pooled_confint(alpha=ALPHA)
        null = table.test_null_odds(correction=False)
        equal = table.test_equal_odds() if len(arrays) > 1 else None
    return Stratified(
        strata=len(arrays),
        crude_odds_ratio=_finite(crude.oddsratio),
        crude_low=_finite(crude_low),
        crude_high=_finite(crude_high),
        odds_ratio=odds,
        low=_finite(low) if odds is not None else None,
        high=_finite(high) if odds is not None else None,
        cmh_p_value=_finite(null.pvalue),
        homogeneity_p_value=_finite(equal.pvalue) if equal is not None else None,
    )


def stratum_odds_ratio(k1: int, n1: int, k2: int, n2: int) -> float | None:
    """One stratum's sample odds ratio (statsmodels ``Table2x2``); None when a cell is 0."""
    table = table_2x2(k1, n1, k2, n2)
    if (table == 0).any():
        return None
    return _finite(Table2x2(table).oddsratio)


# --- funnel plots --------------------------------------------------------------------------


def funnel_limits(
    p0: float, n: Sequence[int] | np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Control limits of a rate around ``p0`` for group sizes ``n``: the ``(1 - level) / 2``
    and ``(1 + level) / 2`` quantiles of Binomial(n, p0) (scipy), interpolated between
    integers as Spiegelhalter (2005) does for funnel plots, divided by n."""
    sizes = np.asarray(n, dtype=float)
    limits = []
    for q in ((1 - level) / 2, (1 + level) / 2):
        r = sps.binom.ppf(q, sizes, p0)
        at_r = sps.binom.cdf(r, sizes, p0)
        below = sps.binom.cdf(r - 1, sizes, p0)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(at_r > below, (at_r - q) / (at_r - below), 0.0)
        limits.append(np.clip((r - step) / sizes, 0.0, 1.0))
    return limits[0], limits[1]


def funnel_curve(p0: float, n_max: int, points: int = 80) -> dict[str, list[float]]:
    """Limits over group sizes 1..n_max (a geometric grid, for drawing the funnel)."""
    n_max = max(int(n_max), 2)
    sizes = np.unique(np.geomspace(1, n_max, points).round().astype(int))
    out: dict[str, list[float]] = {"n": [float(s) for s in sizes]}
    for level in FUNNEL_LEVELS:
        low, high = funnel_limits(p0, sizes, level)
        tag = _level_tag(level)
        out[f"low_{tag}"] = low.tolist()
        out[f"high_{tag}"] = high.tolist()
    return out


def _level_tag(level: float) -> str:
    return f"{level * 100:g}".replace(".", "_")  # 95, 99_8


@dataclass(frozen=True)
class FunnelGroup:
    k: int
    n: int
    rate: float
    outside_95: bool
    outside_998: bool
    p_value: float
    """two-sided exact binomial test of the group's rate against the overall rate"""
    q_value: float
    """Benjamini–Hochberg adjusted p-value across the groups tested together"""
    flagged: bool
    """q_value below ``ALPHA``"""


def funnel(p0: float, groups: Sequence[tuple[int, int]]) -> list[FunnelGroup]:
    """Each (k, n) group against the overall rate ``p0``: inside or outside the 95% and 99.8%
    limits, its binomial test, and the Benjamini–Hochberg adjustment over all the groups."""
    if not groups:
        return []
    p_values = [
        float(sps.binomtest(k, n, p0, alternative="two-sided").pvalue) if n > 0 else 1.0
        for k, n in groups
    ]
    _, q_values, _, _ = multipletests(p_values, alpha=ALPHA, method="fdr_bh")
    # Every group's limits at once (scipy's distributions take arrays): one call per group
    # and level took half of the Compare page's statistics.
    sizes = [max(n, 1) for _, n in groups]
    limits = [funnel_limits(p0, sizes, level) for level in FUNNEL_LEVELS]
    out = []
    for i, ((k, n), p, q) in enumerate(zip(groups, p_values, q_values, strict=True)):
        rate = k / n if n else 0.0
        flags = [bool(rate < low[i] or rate > high[i]) for low, high in limits]
        out.append(
            FunnelGroup(
                k=k,
                n=n,
                rate=rate,
                outside_95=flags[0],
                outside_998=flags[1],
                p_value=p,
                q_value=float(q),
                flagged=bool(q < ALPHA),
            )
        )
    return out


# --- frames for the Compare page -----------------------------------------------------------


def strata_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """``queries.compare`` strata with each group's overturn rate, the stratum's odds ratio
    and ``used``: whether the stratum enters the Mantel–Haenszel analysis. A stratum without a
    value, with items of one group only, or where no item (or every item) was overturned,
    carries no information on the difference (it adds nothing to the pooled odds ratio or
    the CMH test) and is left out, so that the homogeneity test sees informative strata."""
    rows = []
    for r in frame.iter_rows(named=True):
        overturned = r["a_overturned"] + r["b_overturned"]
        used = (
            r["stratum"] is not None
            and r["a_n"] > 0
            and r["b_n"] > 0
            and 0 < overturned < r["a_n"] + r["b_n"]
        )
        rows.append(
            {
                **r,
                "a_overturn_rate": r["a_overturned"] / r["a_n"] if r["a_n"] else None,
                "b_overturn_rate": r["b_overturned"] / r["b_n"] if r["b_n"] else None,
                "odds_ratio": (
                    stratum_odds_ratio(r["a_overturned"], r["a_n"], r["b_overturned"], r["b_n"])
                    if used
                    else None
                ),
                "used": used,
            }
        )
    schema = {
        "stratum": pl.String,
        "a_letters": pl.Int64,
        "a_n": pl.Int64,
        "a_overturned": pl.Int64,
        "a_overturn_rate": pl.Float64,
        "b_letters": pl.Int64,
        "b_n": pl.Int64,
        "b_overturned": pl.Int64,
        "b_overturn_rate": pl.Float64,
        "both_n": pl.Int64,
        "odds_ratio": pl.Float64,
        "used": pl.Boolean,
    }
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)


def used_strata(strata: pl.DataFrame) -> list[tuple[int, int, int, int]]:
    """The (k1, n1, k2, n2) tables of the strata a ``strata_frame`` marks ``used``."""
    return [
        (r["a_overturned"], r["a_n"], r["b_overturned"], r["b_n"])
        for r in strata.filter(pl.col("used")).iter_rows(named=True)
    ]


def funnel_groups(rates: pl.DataFrame) -> tuple[tuple[int, int], ...]:
    """A rate table's (overturned, n) per row: what ``funnel`` tests."""
    return tuple((int(k), int(n)) for k, n in rates.select("overturned", "n").iter_rows())


def funnel_frame(
    rates: pl.DataFrame, name: str, p0: float, tested: Sequence[FunnelGroup] | None = None
) -> pl.DataFrame:
    """A rate table (``queries.rates_by``: ``name``, ``n``, ``overturned``, …) with each
    group's place in the funnel around ``p0`` (``funnel``): ``outside_95``, ``outside_99_8``,
    ``p_value``, ``q_value`` (Benjamini–Hochberg), ``flagged``. ``tested``: ``funnel(p0,
    funnel_groups(rates))`` when the caller has it already (kept between reruns)."""
    result = tested if tested is not None else funnel(p0, funnel_groups(rates))
    if len(result) != rates.height:
        raise ValueError(f"{len(result)} groups tested for a table of {rates.height} rows")
    return rates.select(name, "n", "overturned", "overturn_rate").with_columns(
        pl.Series("outside_95", [g.outside_95 for g in result], dtype=pl.Boolean),
        pl.Series("outside_99_8", [g.outside_998 for g in result], dtype=pl.Boolean),
        pl.Series("p_value", [g.p_value for g in result], dtype=pl.Float64),
        pl.Series("q_value", [g.q_value for g in result], dtype=pl.Float64),
        pl.Series("flagged", [g.flagged for g in result], dtype=pl.Boolean),
    )
