"""Reviewers: outcomes by reviewer specialty and licensure state."""

import streamlit as st

from dashboard import ui

filters = ui.current_filters()

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

by = ui.rates_each(["specialty", "state"], filters)  # one pass over the items
ui.rate_section("specialty", filters, frame=by["specialty"])
ui.rate_section("state", filters, frame=by["state"])
