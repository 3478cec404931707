"""Medications: overturn rate by drug class; click a class to see its drugs."""

import streamlit as st

from dashboard import charts, dimensions, ui

filters = ui.current_filters()

st.title("Medications")
st.markdown(ui.UNIT_NOTE + " Only items in the Pharmaceuticals category have a drug class.")
ui.filter_caption(filters)
ui.page_summary(filters)

by_class = ui.rates("drug_class", filters)
event = ui.chart_and_table(
    charts.drug_class_bars(by_class),
    by_class,
    "by_drug_class",
    filters,
    on_select=True,
    key="drug_class_chart",
)

picked: str | None = None
if event is not None:
    points = event.selection.get(charts.DRUG_CLASS_SELECTION) or []
    if points:
        picked = points[0].get("drug_class")

classes = by_class.get_column("drug_class").to_list() if by_class.height else []
if classes:
    # The class broken down is in the URL (`breakdown=`), picked in the box or on the chart.
    if picked is None:
        picked = ui.url_select(
            "Drug class to break down (or click a bar above)",
            "breakdown",
            classes,
            classes[0],
            key="inspect_class",
        )
    else:
        ui.set_url_param("breakdown", picked, classes[0])
        st.caption("Drug class selected on the chart (click the background to clear).")
    ui.section(f"Drugs in {picked}", dimensions.get("drug").help)
    drugs = ui.rates("drug", filters, within=("drug_class", picked))
    ui.chart_and_table(
        ui.rate_chart(dimensions.get("drug"), drugs),
        drugs,
        "drugs_in_class",
        filters,
    )
