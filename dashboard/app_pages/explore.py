"""Explore: the overturn rate across any two dimensions of the registry, as a heatmap; a click
on a cell opens its items on the Letters page."""

import polars as pl
import streamlit as st

from dashboard import charts, dimensions, queries, ui
from dashboard.connection import run

LETTERS_PAGE = "app_pages/letters.py"
TOP_CHOICES = ["5", "8", "12", "20", "30", "50"]

filters = ui.current_filters()
n_small = ui.small_n()

st.title("Explore: any two dimensions")
st.markdown(ui.UNIT_NOTE)
ui.filter_caption(filters)
summary = ui.page_summary(filters)

names = [d.name for d in dimensions.DIMENSIONS]


def label(name: str) -> str:
    return dimensions.get(name).label


picks = st.columns([3, 3, 2])
with picks[0]:
    rows = ui.url_select("Rows", "rows", names, "drug_class", format_func=label)
with picks[1]:
    cols = ui.url_select(
        "Columns", "cols", [n for n in names if n != rows], "specialty", format_func=label
    )
with picks[2]:
    top = int(
        ui.url_select(
            "Values per axis",
            "top",
            TOP_CHOICES,
            "12",
            help="The values with the most items on each axis; the rest are grouped as "
            f"“{queries.OTHER}”.",
        )
    )
row_dim, col_dim = dimensions.get(rows), dimensions.get(cols)

# The headline's items: the cross-tab's items without a value on an axis follow from them.
items = int(summary.item(0, "n") or 0)
frame = run(queries.crosstab, filters, rows, cols, top, top, n_small, items)
if frame.height == 0:
    st.info("No items match the filters with a value on both axes.")
    st.stop()

notes = [
    f"Overturn rate per cell, with n (items) in every cell; hover for the 95% Wilson interval. "
    f"Cells marked * and outlined with dashes are small samples (fewer than {n_small} items). "
    f"Each axis shows its {top} values with the most items; the rest are “{queries.OTHER}”.",
]
overlapping = [d.label for d in (row_dim, col_dim) if d.shape == "list"]
if overlapping:
    notes.append(
        f"{' and '.join(overlapping)}: an item counts under each of its values, so cells overlap."
    )
left_out = int(frame.item(0, "left_out"))
if left_out:
    notes.append(
        f"{ui.plural(left_out, 'item')} in view have no {row_dim.label.lower()} or no "
        f"{col_dim.label.lower()} and are left out."
    )
st.caption(" ".join(notes))

chart = charts.crosstab_heatmap(frame, row_title=row_dim.label, col_title=col_dim.label)
event = ui.wide_chart(
    chart,
    charts.crosstab_min_width(frame),
    on_select="rerun",
    selection_mode=charts.CELL_SELECTION,
    key="explore_heatmap",
)
st.caption("Click a cell to open its items on the Letters page.")

points = (event.selection.get(charts.CELL_SELECTION) or []) if event else []
if points:
    cell = points[0]
    row_value, col_value = str(cell.get("row_value")), str(cell.get("col_value"))
    grouped = {queries.OTHER, row_dim.empty, col_dim.empty}
    if row_value in grouped or col_value in grouped:
        st.info(
            f"“{row_value} × {col_value}” groups several values (or items without one): it "
            "cannot be opened on the Letters page. Show more values per axis to split it."
        )
    else:
        ui.open_with_filters(
            LETTERS_PAGE,
            {
                row_dim.param: ui.filter_value(row_dim, row_value),
                col_dim.param: ui.filter_value(col_dim, col_value),
            },
        )

table = frame.select(
    pl.col("row_value").alias(rows),
    pl.col("col_value").alias(cols),
    "n",
    "letters",
    "overturned",
    "overturn_rate",
    "overturn_lower",
    "overturn_upper",
    "small_sample",
)
with st.expander(f"Table: {row_dim.label} × {col_dim.label}"):
    ui.table(table)
    ui.download(table, f"crosstab_{rows}_by_{cols}", filters)
