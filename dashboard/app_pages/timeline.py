"""Timeline: outcomes by injury year, decision year, years from injury to decision; timeliness."""

import streamlit as st

from dashboard import charts, queries, reference, ui
from dashboard.connection import run

filters = ui.current_filters()
n_small = ui.small_n()

st.title("Timeline")
st.markdown(ui.UNIT_NOTE + " Items whose letters do not state the date are left out of a chart.")
ui.filter_caption(filters)
ui.page_summary(filters)

ui.section("By decision year, with DWC / CWCI published uphold shares")
by_decision = ui.rates("decision_year", filters)
ui.chart_and_table(
    charts.decision_year_trend(by_decision, reference.published_upheld_share()),
    by_decision,
    "by_decision_year",
    filters,
)

ui.rate_section("injury_year", filters)
ui.rate_section("years_to_decision", filters)

ui.section(
    "Timeliness: days from application received to decision, by priority",
    "Per letter, where the letter states both dates.",
)
timeliness = run(queries.timeliness, filters, n_small)
ui.chart_and_table(charts.timeliness_chart(timeliness), timeliness, "timeliness", filters)
