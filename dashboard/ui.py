"""Streamlit building blocks shared by the pages: sidebar filters, banners, rate tables,
downloads. Data comes only through ``dashboard.connection.run`` (cached) — no SQL here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from dashboard import export, queries
from dashboard.connection import WarehouseMissing, run, run_uncached, settings, warehouse_id
from dashboard.filters import LABELS, LIST_FILTERS, RANGE_FILTERS, Filters

FILTERS_STATE = "_imr_filters"
EXCLUDE_DEMO = "exclude_demo"
OPTIONS_IN_HELP = 25

UNIT_NOTE = (
    "**Unit: per disputed item.** Letters hold several: one letter (one IMR case) decides "
    "several treatment requests, and every rate here counts items, not letters."
)


# --- sidebar -------------------------------------------------------------------------------


def _option_help(label: str, options: pl.DataFrame) -> str:
    lines = [f"Items per {label.lower()} (whole warehouse, most frequent first):", ""]
    for value, n in options.head(OPTIONS_IN_HELP).iter_rows():
        lines.append(f"- {value}: {n:,}")
    if options.height > OPTIONS_IN_HELP:
        lines.append(f"- … and {options.height - OPTIONS_IN_HELP:,} more")
    return "\n".join(lines)


def _clear_filters(defaults: dict[str, Any]) -> None:
    # Bound widgets change (and update the URL) only through st.session_state. The sliders'
    # "default value also set via Session State" log warning is off in .streamlit/config.toml.
    for key, value in defaults.items():
        st.session_state[key] = value


def sidebar_filters() -> Filters:
    """Render the global filters (bound to the URL) and remember them for the pages."""
    options = run(queries.filter_options)
    chosen: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    with st.sidebar:
        st.header("Filters")
        for name in LIST_FILTERS:
            dim = options.filter(pl.col("dimension") == name).select("value", "n")
            values = dim.get_column("value").to_list()
            counts = dict(dim.iter_rows())
            chosen[name] = st.multiselect(
                f"{LABELS[name]} ({len(values):,})",
                values,
                key=name,
                bind="query-params",
                help=_option_help(LABELS[name], dim),
                placeholder="All",
            )
            defaults[name] = []
            if chosen[name]:
                st.caption(" · ".join(f"{v}: {counts.get(v, 0):,} items" for v in chosen[name]))
        for name in RANGE_FILTERS:
            years = [
                int(v)
                for v in options.filter(pl.col("dimension") == name).get_column("value").to_list()
            ]
            if len(set(years)) < 2:
                chosen[name] = None
                continue
            lo, hi = min(years), max(years)
            value = st.slider(
                LABELS[name],
                min_value=lo,
                max_value=hi,
                value=(lo, hi),
                key=name,
                bind="query-params",
                help="Setting a range leaves out items whose letters do not state this year.",
            )
            defaults[name] = (lo, hi)
            chosen[name] = None if tuple(value) == (lo, hi) else tuple(value)
        chosen["exclude_synthetic"] = st.toggle(
            "Exclude demo (synthetic) letters", key=EXCLUDE_DEMO, bind="query-params"
        )
        defaults[EXCLUDE_DEMO] = False
        st.button("Clear filters", on_click=_clear_filters, args=(defaults,), width="stretch")
        st.caption("Filters are kept in the address bar: copy the URL to share this view.")
    filters = Filters.build(**chosen)
    st.session_state[FILTERS_STATE] = filters
    return filters


def current_filters() -> Filters:
    value = st.session_state.get(FILTERS_STATE)
    return value if isinstance(value, Filters) else Filters()


def small_n() -> int:
    return settings().small_n


# --- page furniture ------------------------------------------------------------------------


def warehouse_or_stop() -> None:
    """Stop the page with a plain message when there is no warehouse to show."""
    try:
        warehouse_id()
    except WarehouseMissing:
        st.error(
            f"No warehouse found at `{settings().db}`. Build one with `imr ingest`, "
            "or point `IMR_DB` / `imr dashboard --db` at a warehouse file."
        )
        st.stop()
    missing = run(queries.missing_columns)
    if missing.height:
        tables = sorted(set(missing.get_column("table").to_list()))
        st.error(
            "This warehouse was built without the dashboard's derived tables "
            f"({', '.join(tables)}) or with an older `etl/sql/views.sql`. Rebuild it "
            "(`imr ingest`), which runs the current views.sql."
        )
        st.stop()


def filter_caption(filters: Filters) -> None:
    parts = filters.describe()
    st.caption("Filters: " + ("; ".join(parts) if parts else "none (all items)"))


def synthetic_banner(summary: pl.DataFrame) -> None:
    """Warn whenever demo letters are part of what is shown."""
    if summary.height and (summary.item(0, "synthetic_items") or 0) > 0:
        st.warning(
            f"Synthetic demo data in view: {summary.item(0, 'synthetic_letters'):,} demo letters "
            f"({summary.item(0, 'synthetic_items'):,} items) are included in these figures. "
            "Use “Exclude demo (synthetic) letters” in the sidebar to leave them out.",
            icon="⚠️",
        )


def page_summary(filters: Filters) -> pl.DataFrame:
    summary = run(queries.summary, filters, small_n())
    synthetic_banner(summary)
    return summary


def fmt_rate(rate: float | None, lower: float | None, upper: float | None) -> str:
    if rate is None:
        return "–"
    return f"{rate:.1%} (95% CI {lower:.1%}–{upper:.1%})"


def rate_metric(label: str, summary: pl.DataFrame, rate: str) -> None:
    row = summary.row(0, named=True)
    n = row["n"] or 0
    small = " · small sample" if row["small_sample"] else ""
    st.metric(
        label,
        "–" if not n else f"{row[f'{rate}_rate']:.1%}",
        help="95% Wilson interval; n = disputed items",
    )
    if n:
        st.caption(
            f"95% CI {row[f'{rate}_lower']:.1%}–{row[f'{rate}_upper']:.1%} · n = {n:,}{small}"
        )


def _column_config(frame: pl.DataFrame) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            config[name] = st.column_config.DateColumn(name, format="YYYY-MM-DD")
        elif name.endswith(("_rate", "_lower", "_upper")) or name == "share":
            config[name] = st.column_config.NumberColumn(
                name.replace("_", " ").capitalize(), format="percent"
            )
        elif name in ("n", "overturned", "upheld", "letters", "items", "same", "files"):
            config[name] = st.column_config.NumberColumn(name.capitalize(), format="localized")
        elif name == "small_sample":
            config[name] = st.column_config.CheckboxColumn(
                f"Small sample (n < {small_n()})",
                help=f"Fewer than {small_n()} items: read the rate with care.",
            )
    return config


def table(frame: pl.DataFrame, *, height: int | None = None) -> None:
    """A read-only table; ``height`` caps the height (short tables stay short)."""
    kwargs: dict[str, Any] = {}
    if height is not None:
        kwargs["height"] = min(height, 38 + 35 * max(frame.height, 1))
    st.dataframe(
        frame, hide_index=True, column_config=_column_config(frame), width="stretch", **kwargs
    )


def download(frame: pl.DataFrame, name: str, filters: Filters, *, label: str | None = None) -> None:
    """A CSV download of an (aggregated) table, neutralised, named after the filters."""
    st.download_button(
        label or f"Download CSV ({name.replace('_', ' ')})",
        data=export.to_csv_bytes(frame),
        file_name=export.file_name(name, filters),
        mime="text/csv",
        key=f"download_{name}",
        on_click="ignore",
        icon=":material/download:",
    )


def items_download(filters: Filters, *, key: str = "download_items") -> None:
    """The item-level slice as CSV, labelled exactly "Download CSV"; built only on click."""

    def build() -> bytes:
        return export.batches_to_csv_bytes(run_uncached(queries.items_batches, filters))

    st.download_button(
        "Download CSV",
        data=build,
        file_name=export.file_name("items", filters),
        mime="text/csv",
        key=key,
        on_click="ignore",
        icon=":material/download:",
        help="Every filtered disputed item, one row each (not truncated).",
        type="primary",
    )


def chart_and_table(
    chart: alt.Chart | alt.LayerChart,
    frame: pl.DataFrame,
    name: str,
    filters: Filters,
    *,
    on_select: bool = False,
    key: str | None = None,
) -> Any:
    """A chart, then its table in an expander with its CSV download. Returns the selection
    event when ``on_select``."""
    event: Any = None
    if frame.height == 0:
        st.info("No items match the filters for this view.")
        return None
    if on_select:
        event = st.altair_chart(chart, on_select="rerun", key=key or f"chart_{name}")
    else:
        st.altair_chart(chart, key=key or f"chart_{name}")
    with st.expander(f"Table: {name.replace('_', ' ')}"):
        table(frame)
        download(frame, name, filters)
    return event


def section(title: str, note: str | None = None) -> None:
    st.subheader(title)
    if note:
        st.caption(note)


def guarded(render: Callable[[], None]) -> None:
    """Run a page body; show a plain error (no stack trace) if the warehouse is unusable."""
    warehouse_or_stop()
    render()
