"""Reasons: why denials were upheld (and overturned), mined from the reviewers' rationales."""

import streamlit as st

from dashboard import charts, dimensions, queries, ui
from dashboard.connection import run, run_uncached

filters = ui.current_filters()

st.title("Reasons")
st.markdown(
    ui.UNIT_NOTE + " A reason is what the reviewer found about this case when applying the "
    "guideline (taxonomy: criterion and finding), read from the rationale by curated phrase "
    "patterns; an item may give several reasons, or none that the patterns recognise. "
    "Accuracy against readers' labels is in docs/reasons.md."
)
ui.filter_caption(filters)
summary = ui.page_summary(filters)
# One pass over the items' reasons gives the rate table and, with the summary, the shares.
reason_rates = ui.rates("reason", filters)

ui.section(
    "Why denials are upheld",
    "Share of the upheld items in view that give each reason, with its 95% Wilson interval. "
    "Click a bar to see example decisions.",
)
shares = run_uncached(queries.shares_from, reason_rates, summary, ui.small_n())
event = ui.chart_and_table(
    charts.reason_share_bars(shares, selectable=True),
    shares,
    "reason_shares",
    filters,
    on_select=True,
    key="reason_chart",
)

ui.rate_section(
    "reason",
    filters,
    title="Overturn rate where each finding is present",
    note=dimensions.get("reason").help,
    frame=reason_rates,
)

# Both dimensions' shares in one pass over the items.
BY = tuple(d.name for d in dimensions.REASONS_BY)
together = run(queries.reasons_together, filters, BY, 15, ui.small_n())
for name in BY:
    by = queries.reasons_from(together, name)
    dim = dimensions.get(name)
    ui.section(
        f"Reasons by {dim.label.lower()}",
        "Share of each group's upheld items giving each reason (the 15 groups with most "
        "upheld items); n and the 95% interval in the tooltip.",
    )
    ui.chart_and_table(
        charts.reason_heatmap(by, name, dim.label),
        by,
        f"reasons_by_{name}",
        filters,
        min_width=charts.reason_heatmap_min_width(by),
    )

ui.section("Example decisions")
picked: str | None = None
if event is not None:
    points = event.selection.get(charts.REASON_SELECTION) or []
    if points:
        picked = points[0].get("reason")
reasons = [r for r in shares.get_column("reason").to_list() if r != queries.NO_REASON]
if not reasons:
    st.info("No reasons found for the items in view.")
    st.stop()
if picked not in reasons:
    picked = st.selectbox("Reason (or click a bar above)", reasons, key="example_reason")
else:
    st.caption("Reason selected on the chart (click the background to clear).")
examples = run(queries.reason_examples, filters, picked, 20)
st.caption(f"The newest {examples.height} items in view giving “{picked}”, with the sentence.")
for row in examples.iter_rows(named=True):
    with st.container(border=True):
        st.text(
            f"{row['letter_id']} · item {row['item_no']} · {row['decision']} · "
            f"{row['decision_date'] or 'undated'}\nRequest: {row['request']}"
        )
        ui.marked_text(row["sentence"], [(0, len(row["sentence"]), f"Reason: {picked}")])
        st.page_link(
            "app_pages/letters.py",
            label=f"Open letter {row['letter_id']}",
            icon=":material/description:",
            query_params={"open": row["letter_id"]},
        )
