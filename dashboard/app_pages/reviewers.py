"""Reviewers: outcomes by reviewer specialty and licensure state."""

import streamlit as st

from dashboard import charts, queries, ui
from dashboard.connection import run

filters = ui.current_filters()
n_small = ui.small_n()

st.title("Reviewers")
st.markdown(ui.UNIT_NOTE)
st.info(
    "An item counts under **each** specialty (and each licensure state) its reviewer lists, so a "
    "reviewer board-certified in two specialties adds the item to both bars: the groups overlap "
    "and their n add up to more than the number of items.",
    icon="ℹ️",
)
ui.filter_caption(filters)
ui.page_summary(filters)

ui.section("By reviewer specialty")
by_specialty = run(queries.by_specialty, filters, n_small)
ui.chart_and_table(
    charts.rate_bars(by_specialty, "specialty", dim_title="Reviewer specialty"),
    by_specialty,
    "by_specialty",
    filters,
)

ui.section("By reviewer licensure state")
by_state = run(queries.by_state, filters, n_small)
ui.chart_and_table(
    charts.rate_bars(by_state, "state", dim_title="Licensure state"), by_state, "by_state", filters
)
