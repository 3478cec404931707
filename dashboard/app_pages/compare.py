"""Compare: two values of one dimension side by side, the same comparison holding another
dimension fixed (Mantel–Haenszel), and a league table as a funnel plot."""

import polars as pl
import streamlit as st

from dashboard import charts, dimensions, queries, stats, ui
from dashboard.connection import run

LEAGUES = ["specialty", "state", "drug"]
NONE = "none"

filters = ui.current_filters()
n_small = ui.small_n()

st.title("Compare")
st.markdown(ui.UNIT_NOTE)
ui.filter_caption(filters)
summary = ui.page_summary(filters)

names = [d.name for d in dimensions.DIMENSIONS]


def label(name: str) -> str:
    return "Nothing (crude comparison)" if name == NONE else dimensions.get(name).label


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def p_text(p: float | None) -> str:
    if p is None:
        return "–"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def ratio(value: float | None) -> str:
    return "not estimable" if value is None else f"{value:.2f}"


picks = st.columns(4)
with picks[0]:
    name = ui.url_select("Compare", "compare", names, "specialty", format_func=label)
dim = dimensions.get(name)
if st.session_state.get("_compare_dimension", name) != name:
    # Another dimension: the values picked for the previous one mean nothing now.
    for key in ("a", "b"):
        st.session_state.pop(key, None)
        if key in st.query_params:
            del st.query_params[key]
st.session_state["_compare_dimension"] = name

values = [str(v) for v in ui.rates(name, filters).get_column(name).to_list()]
if len(values) < 2:
    st.info(f"The items in view hold fewer than two values of {dim.label.lower()}.")
    st.stop()
with picks[1]:
    a = ui.url_select("A", "a", values, values[0], format_func=dim.fmt)
b_values = [v for v in values if v != a]
# By default B is the next value with items of its own (a list dimension's values may share
# every item: reviewers certified in two specialties), of the next five, in one query.
own = dict(run(queries.compare_candidates, filters, name, a, tuple(b_values[:5])).iter_rows())
default_b = next((v for v in b_values[:5] if own.get(v, 0) > 0), b_values[0])
with picks[2]:
    b = ui.url_select("B", "b", b_values, default_b, format_func=dim.fmt)
with picks[3]:
    adjust = ui.url_select(
        "Holding fixed",
        "adjust",
        [NONE, *(n for n in names if n != name)],
        "category" if name != "category" else NONE,
        format_func=label,
        help="The adjusted comparison: A against B within each value of this dimension, "
        "pooled (Mantel–Haenszel).",
    )

# --- A against B ---------------------------------------------------------------------------

ui.section(f"{dim.fmt(a)} against {dim.fmt(b)}")
# One scan for both sections: each side per stratum of the dimension held fixed, and pooled.
found = run(queries.comparison, filters, name, a, b, None if adjust == NONE else adjust)
crude = queries.compare_rows(found, pooled=True)
a_n, a_k = int(crude.get_column("a_n").sum()), int(crude.get_column("a_overturned").sum())
b_n, b_k = int(crude.get_column("b_n").sum()), int(crude.get_column("b_overturned").sum())
both = int(crude.get_column("both_n").sum())
if both:
    st.caption(
        f"{ui.plural(both, 'item')} count under both {dim.fmt(a)} and {dim.fmt(b)} (their "
        "letters list both) "
        "and are left out: each group here holds only items of its own."
    )
if not a_n or not b_n:
    st.info("One of the two groups has no items of its own under these filters.")
    st.stop()
two = stats.two_groups(a_k, a_n, b_k, b_n)
shown = st.columns(4)
for column, value, k, n in ((shown[0], a, a_k, a_n), (shown[1], b, b_k, b_n)):
    low, high = stats.wilson(k, n)
    column.metric(f"Overturn rate: {dim.fmt(value)}", pct(k / n))
    column.caption(f"95% CI {pct(low)}–{pct(high)} · n = {n:,}")
shown[2].metric(
    "Difference (A − B)",
    f"{two.difference * 100:+.1f} points",
    help="95% Newcombe (hybrid score) interval, statsmodels confint_proportions_2indep.",
)
shown[2].caption(f"95% CI {two.low * 100:+.1f} to {two.high * 100:+.1f} points")
shown[3].metric(
    "p-value",
    p_text(two.p_value),
    help="Fisher's exact test when an expected "
    "cell count is below 5, otherwise the two-proportion z-test.",
)
shown[3].caption(f"{two.test} (smallest expected cell {two.min_expected:.1f})")

groups = pl.DataFrame(
    {
        name: [a, b],
        "letters": [
            int(crude.get_column("a_letters").sum()),
            int(crude.get_column("b_letters").sum()),
        ],
        "n": [a_n, b_n],
        "overturned": [a_k, b_k],
        "overturn_rate": [two.rate1, two.rate2],
        "overturn_lower": [stats.wilson(a_k, a_n)[0], stats.wilson(b_k, b_n)[0]],
        "overturn_upper": [stats.wilson(a_k, a_n)[1], stats.wilson(b_k, b_n)[1]],
    }
)
result = pl.DataFrame(
    {
        "difference": [two.difference],
        "difference_lower": [two.low],
        "difference_upper": [two.high],
        "test": [two.test],
        "p_value": [two.p_value],
    }
)
with st.expander("Table: the two groups"):
    ui.table(groups)
    ui.table(result)
    ui.download(groups.join(result, how="cross"), f"compare_{name}", filters)

# --- holding another dimension fixed -------------------------------------------------------

if adjust != NONE:
    by = dimensions.get(adjust)
    ui.section(
        f"Holding {by.label.lower()} fixed",
        f"A against B within each {by.label.lower()}, pooled: the Mantel–Haenszel odds ratio "
        "(odds of an overturn for A over those for B; 1 = no difference), the "
        "Cochran–Mantel–Haenszel test, and the Breslow–Day test of whether the strata agree "
        "(statsmodels StratifiedTable).",
    )
    strata = stats.strata_frame(queries.compare_rows(found, pooled=False))
    usable = stats.used_strata(strata)
    if not usable:
        st.info(f"No {by.label.lower()} holds items of both groups.")
    else:
        mh = stats.stratified(usable)
        cols = st.columns(4)
        cols[0].metric("Crude odds ratio", ratio(mh.crude_odds_ratio))
        if mh.crude_low is not None and mh.crude_high is not None:
            cols[0].caption(
                f"95% CI {mh.crude_low:.2f}–{mh.crude_high:.2f} · the same items, "
                f"{by.label.lower()} ignored"
            )
        cols[1].metric(f"Odds ratio holding {by.label.lower()} fixed", ratio(mh.odds_ratio))
        if mh.low is not None and mh.high is not None:
            cols[1].caption(f"95% CI {mh.low:.2f}–{mh.high:.2f} · {mh.strata} strata")
        cols[2].metric("Common odds ratio = 1", p_text(mh.cmh_p_value))
        cols[2].caption("Cochran–Mantel–Haenszel test")
        cols[3].metric("Strata agree", p_text(mh.homogeneity_p_value))
        cols[3].caption("Breslow–Day test of homogeneity")
        dropped = strata.filter(~pl.col("used"))
        if dropped.height:
            st.caption(
                f"{dropped.height:,} strata hold only one of the two groups, no overturn at "
                f"all, only overturns, or no {by.label.lower()}: they carry no information on "
                "the difference, and their "
                f"{int(dropped.get_column('a_n').sum() + dropped.get_column('b_n').sum()):,} "
                "items are left out of the pooled odds ratio."
            )
        if by.shape == "list":
            st.caption(f"An item counts under each {by.label.lower()} of its letter.")
        ui.table(strata.rename({"stratum": adjust}), height=420)
        ui.download(strata.rename({"stratum": adjust}), f"compare_{name}_by_{adjust}", filters)

# --- league table --------------------------------------------------------------------------

ui.section(
    "League table",
    "Every value against the overall overturn rate of the items in view: a funnel plot with "
    "95% and 99.8% control limits (binomial). Points outside the limits may differ from "
    "the whole; small groups scatter widely by chance.",
)
league = ui.url_select("League table of", "league", LEAGUES, "specialty", format_func=label)
league_dim = dimensions.get(league)
overall = summary.row(0, named=True)
if not overall["n"]:
    st.info("No items match the filters.")
    st.stop()
p0 = overall["overturned"] / overall["n"]
table = ui.league_table(league, filters, p0)
curve = pl.DataFrame(stats.funnel_curve(p0, int(table.get_column("n").max() or 2)))
ui.altair_chart(
    charts.funnel_chart(table, curve, p0, dim=league, dim_title=league_dim.label),
    key="league_funnel",
)
tested = table.height
outside = int(table.get_column("outside_95").sum())
flagged = table.filter(pl.col("flagged")).get_column(league).to_list()
st.markdown(
    f"**{tested:,} {league_dim.label.lower()} values tested at once** against the overall rate "
    f"({p0:.1%}). With that many tests about {0.05 * tested:.1f} would fall outside the 95% "
    f"limits by chance alone; {outside:,} do. After the Benjamini–Hochberg adjustment (false "
    "discovery rate 5%), "
    + (
        f"{len(flagged):,} differ from the overall rate: "
        + ", ".join(league_dim.fmt(v) for v in flagged)
        if flagged
        else "none differs from the overall rate"
    )
    + "."
)
if league_dim.shape == "list":
    st.caption(
        f"An item counts under each {league_dim.label.lower()} of its letter, so the groups "
        "overlap and the tests are not independent (the Benjamini–Hochberg procedure stays "
        "valid under the positive dependence this gives)."
    )
with st.expander(f"Table: league table by {league_dim.label.lower()}"):
    ui.table(table)
    ui.download(table, f"league_{league}", filters)
