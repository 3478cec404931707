"""Overview (landing page): headline rates, outcomes by category, the decision-year trend."""

import streamlit as st

from dashboard import charts, dimensions, reference, ui

filters = ui.current_filters()
n_small = ui.small_n()

st.title("IMR outcomes: how often Independent Medical Review overturns UR denials")
st.markdown(ui.UNIT_NOTE)
ui.filter_caption(filters)
summary = ui.page_summary(filters)
row = summary.row(0, named=True)

# One rate everywhere: the overturn rate (the uphold share is 1 minus it; CSVs carry both).
cols = st.columns(3)
cols[0].metric("Letters", f"{row['letters']:,}", help="IMR cases (Final Determination Letters)")
cols[1].metric("Disputed items", f"{row['n']:,}", help="The unit of every rate on this dashboard")
with cols[2]:
    ui.rate_metric("Overturn rate", summary, "overturn")

ui.items_download(filters)
st.caption(
    "“Download CSV” gives every filtered disputed item, one row each (case number, item, request, "
    "decision, category, drug class, drugs, reviewer specialties and states, guideline sources, "
    "injury year, decision date)."
)

by = ui.rates_each(["category", "decision_year"], filters)  # one pass over the items
ui.rate_section(
    "category",
    filters,
    frame=by["category"],
    title="Outcomes by request category",
    note="Overturn rate per disputed item with 95% Wilson intervals; faded bars are small samples "
    f"(fewer than {n_small} items).",
)

ui.section(
    "Overturn rate by decision year, with published figures",
    "Ours: share of disputed items overturned (line, 95% band; the line breaks at years without "
    "items). Reference points: 1 − the upheld share in DWC's annual IMR reports and CWCI's "
    "studies as published (their unit and coverage may differ: all IMR decisions statewide, not "
    "only the letters loaded here).",
)
by_year = by["decision_year"]
ui.chart_and_table(
    charts.decision_year_trend(by_year, reference.published_overturn_share()),
    by_year,
    "by_decision_year",
    filters,
)
ui.left_out_note(dimensions.get("decision_year"), by_year, filters)
with st.expander("Published reference figures beside ours (with sources)"):
    ui.published_comparison(filters)
