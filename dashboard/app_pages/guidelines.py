"""Guidelines: outcomes by the guideline source and document MAXIMUS cited, and agreement with
the claims administrator's source."""

import streamlit as st

from dashboard import charts, queries, ui
from dashboard.connection import run

filters = ui.current_filters()
n_small = ui.small_n()

st.title("Guidelines")
st.markdown(ui.UNIT_NOTE + " An item citing several guideline sources counts under each of them.")
ui.filter_caption(filters)
ui.page_summary(filters)

by = ui.rates_each(["guideline_source", "guideline_document"], filters)  # one pass
ui.rate_section("guideline_source", filters, frame=by["guideline_source"])
ui.rate_section(
    "guideline_document",
    filters,
    note="The 40 most cited documents (source: document).",
    frame=by["guideline_document"],
)

ui.section(
    "Does MAXIMUS cite the same source as the claims administrator?",
    "Among items where both cited at least one guideline. Per source: of the items where MAXIMUS "
    "cites it, the share where the claims administrator cited it too.",
)
concordance = run(queries.source_concordance, filters, n_small)
ui.chart_and_table(
    charts.rate_bars(concordance, "maximus_source", dim_title="MAXIMUS source", rate="same"),
    concordance,
    "source_concordance",
    filters,
)
