"""Data quality: parse coverage per field, rejected files, unresolved vocabulary, DWC's index
against our parse."""

import polars as pl
import streamlit as st

from dashboard import charts, queries, ui
from dashboard.connection import run

filters = ui.current_filters()

st.title("Data quality")
st.caption("Whole warehouse; the sidebar filters do not apply on this page.")

meta = run(queries.meta)
if meta.height:
    entries = dict(meta.iter_rows())
    # When and from what, in words; every entry (timings, digests, versions) in the table.
    built = str(entries.get("built_at", "an unknown time"))[:16].replace("T", " ")
    st.markdown(f"**Built** {built} UTC · **last ingest:** {entries.get('last_ingest', '—')}")
    with st.expander("Table: build details"):
        ui.table(meta)
by_status = run(queries.sources_by_status)
if by_status.height:
    ui.table(by_status)

ui.section(
    "Parse coverage per field",
    "Share of letters / items (pharmaceutical items for drug fields) where the field was found. "
    "The table also splits it by letter layout (A 2013 notice, B 2014-15, B2 2016+).",
)
coverage = run(queries.parse_coverage)
overall = coverage.filter(pl.col("layout") == "all")
for scope in overall.get_column("scope").unique(maintain_order=True).to_list():
    part = overall.filter(pl.col("scope") == scope).sort("share")
    ui.altair_chart(
        charts.share_bars(part, "field", dim_title="Field", title=f"Coverage: {scope}"),
        key=f"coverage_{scope}",
    )
with st.expander("Table: parse coverage (per layout)"):
    ui.table(coverage)
    ui.download(coverage, "parse_coverage", filters)

ui.section("Rejected files")
by_reason = run(queries.rejects_by_reason)
if by_reason.height == 0:
    st.success("No rejected files.")
else:
    ui.table(by_reason)
    ui.download(by_reason, "rejects_by_reason", filters)
    rejected = run(queries.rejects, queries.SCREEN_ROWS)
    with st.expander(f"Table: rejected files (latest {queries.SCREEN_ROWS:,})"):
        ui.table(rejected)
        ui.download(rejected, "rejects", filters)

ui.section(
    "Unresolved vocabulary",
    "Names the vocabulary could not resolve (requests, drugs, specialties, states, citations); "
    "extend the vocabulary with the most frequent ones.",
)
unresolved = run(queries.unresolved)
if unresolved.height == 0:
    st.success("Every name was resolved.")
else:
    kinds = (
        unresolved.group_by("kind")
        .agg(pl.col("occurrences").sum(), pl.len().alias("distinct_values"))
        .sort("occurrences", descending=True)
    )
    ui.table(kinds)
    ui.table(unresolved, height=360)
    ui.download(unresolved, "unresolved", filters)

ui.section(
    "DWC's index vs our parse",
    "DWC's own index of the letters (read by `imr fetch`) checks our parser: for letters present "
    "in both with as many items as DWC lists, items are matched by order and their decision, "
    "category and drug class compared. DWC's texts count only where they are names of our "
    "vocabulary (else they are unmapped, never guessed).",
)
if not run(queries.dwc_available).item(0, "available"):
    st.info("No DWC index in this warehouse: `imr fetch --decided A..B` records it.")
else:
    dwc = run(queries.dwc_summary)
    if dwc.item(0, "dwc_letters") == 0:
        st.info("DWC's index is empty: `imr fetch --decided A..B` records it.")
    else:
        columns = st.columns(4)
        columns[0].metric("DWC letters", f"{dwc.item(0, 'dwc_letters'):,}")
        columns[1].metric("Letters in both", f"{dwc.item(0, 'letters_in_both'):,}")
        columns[2].metric("Compared item by item", f"{dwc.item(0, 'letters_compared'):,}")
        columns[3].metric("Item-count mismatches", f"{dwc.item(0, 'item_count_mismatches'):,}")
        agreement = run(queries.dwc_agreement)
        ui.table(agreement)
        ui.download(agreement, "dwc_agreement", filters)
        differing = run(queries.dwc_disagreements, queries.SCREEN_ROWS)
        if differing.height == 0:
            st.success("DWC's index and our parse agree on every item compared.")
        else:
            with st.expander(f"Table: items that disagree ({differing.height:,})"):
                ui.table(differing, height=360)
                ui.download(differing, "dwc_disagreements", filters)
        mismatches = run(queries.dwc_count_mismatches, queries.SCREEN_ROWS)
        if mismatches.height:
            st.warning(
                f"{mismatches.height:,} letters have another number of items than DWC lists: "
                "not compared item by item."
            )
            ui.table(mismatches, height=360)
            ui.download(mismatches, "dwc_count_mismatches", filters)
