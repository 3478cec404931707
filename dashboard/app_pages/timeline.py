"""Timeline: outcomes by injury year, decision year, years from injury to decision; timeliness."""

import streamlit as st

from dashboard import charts, dimensions, queries, reference, ui
from dashboard.connection import run

filters = ui.current_filters()
n_small = ui.small_n()

st.title("Timeline")
st.markdown(ui.UNIT_NOTE + " Items whose letters do not state the date are left out of a chart.")
ui.filter_caption(filters)
ui.page_summary(filters)
# Every section's rates in one pass over the items (both periods: the box below picks one).
PERIODS = ["decision_quarter", "decision_month"]
by = ui.rates_each(["decision_year", *PERIODS, "injury_year", "years_to_decision"], filters)

ui.section(
    "By decision year, with DWC / CWCI published overturn shares",
    "The published points are 1 − the upheld share DWC and CWCI publish.",
)
by_decision = by["decision_year"]
ui.chart_and_table(
    charts.decision_year_trend(by_decision, reference.published_overturn_share()),
    by_decision,
    "by_decision_year",
    filters,
)
ui.left_out_note(dimensions.get("decision_year"), by_decision, filters)

ui.section(
    "By decision quarter or month",
    "A finer trend, drawn where the slice is large enough: when the median period holds fewer "
    f"than {n_small} items, read the decision-year trend instead.",
)
period = ui.url_select(
    "Period",
    "period",
    PERIODS,
    "decision_quarter",
    format_func=lambda name: dimensions.get(name).label,
)
by_period = by[period]
typical = int(by_period.get_column("n").median() or 0) if by_period.height else 0
if by_period.height and typical < n_small:
    st.info(
        f"Too few items per {dimensions.get(period).label.lower()} in this slice (median "
        f"{typical:,}, fewer than {n_small}): see the trend by decision year above, or widen "
        "the filters."
    )
else:
    ui.chart_and_table(
        ui.rate_chart(dimensions.get(period), by_period), by_period, f"by_{period}", filters
    )
    ui.left_out_note(dimensions.get(period), by_period, filters)

ui.rate_section("injury_year", filters, frame=by["injury_year"])
ui.rate_section("years_to_decision", filters, frame=by["years_to_decision"])

ui.section(
    "Timeliness: days from application received to decision, by priority",
    "Per letter, where the letter states both dates.",
)
timeliness = run(queries.timeliness, filters, n_small)
ui.chart_and_table(charts.timeliness_chart(timeliness), timeliness, "timeliness", filters)
