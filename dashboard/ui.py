"""Streamlit building blocks shared by the pages: sidebar filters, banners, rate tables,
downloads. Data comes only through ``dashboard.connection.run`` (cached) — no SQL here."""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from dashboard import charts, dimensions, export, queries
from dashboard.connection import WarehouseMissing, run, run_uncached, settings, warehouse_id
from dashboard.dimensions import Dimension
from dashboard.filters import Filters

FILTERS_STATE = "_imr_filters"
EXCLUDE_DEMO = "exclude_demo"
OPTIONS_IN_HELP = 25

UNIT_NOTE = (
    "**Unit: per disputed item.** Letters hold several: one letter (one IMR case) decides "
    "several treatment requests, and every rate here counts items, not letters."
)


# --- sidebar -------------------------------------------------------------------------------


def _option_help(dim: Dimension, options: pl.DataFrame) -> str:
    lines = [dim.help, ""] if dim.help else []
    lines += [f"Items per {dim.label.lower()} (whole warehouse, most frequent first):", ""]
    for value, n in options.head(OPTIONS_IN_HELP).iter_rows():
        lines.append(f"- {dim.fmt(value)}: {n:,}")
    if options.height > OPTIONS_IN_HELP:
        lines.append(f"- … and {options.height - OPTIONS_IN_HELP:,} more")
    return "\n".join(lines)


def _clear_filters(defaults: dict[str, Any]) -> None:
    # Bound widgets change (and update the URL) only through st.session_state. The sliders'
    # "default value also set via Session State" log warning is off in the Streamlit config.
    for key, value in defaults.items():
        st.session_state[key] = value


def sidebar_filters() -> Filters:
    """Render the global filters of the dimension registry (bound to the URL) and remember them
    for the pages."""
    options = run(queries.filter_options)
    chosen: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    with st.sidebar:
        st.header("Filters")
        for dim in dimensions.FILTERS:
            dim_options = options.filter(pl.col("dimension") == dim.name).select("value", "n")
            if dim.widget == "range":
                chosen[dim.name] = _range_filter(dim, dim_options, defaults)
            else:
                chosen[dim.name] = _multiselect_filter(dim, dim_options, defaults)
        chosen["exclude_synthetic"] = st.toggle(
            "Exclude demo (synthetic) letters", key=EXCLUDE_DEMO, bind="query-params"
        )
        defaults[EXCLUDE_DEMO] = False
        st.button("Clear filters", on_click=_clear_filters, args=(defaults,), width="stretch")
        st.caption("Filters are kept in the address bar: copy the URL to share this view.")
    filters = Filters.build(**chosen)
    st.session_state[FILTERS_STATE] = filters
    return filters


def _multiselect_filter(
    dim: Dimension, options: pl.DataFrame, defaults: dict[str, Any]
) -> list[str]:
    values = options.get_column("value").to_list()
    counts = dict(options.iter_rows())
    selected: list[str] = st.multiselect(
        f"{dim.label} ({len(values):,})",
        values,
        key=dim.param,
        bind="query-params",
        help=_option_help(dim, options),
        placeholder="All",
    )  # no format_func: a bound multiselect writes the label shown to the URL
    defaults[dim.param] = []
    if selected:
        st.caption(" · ".join(f"{dim.fmt(v)}: {counts.get(v, 0):,} items" for v in selected))
    return selected


def _range_filter(
    dim: Dimension, options: pl.DataFrame, defaults: dict[str, Any]
) -> tuple[int, int] | None:
    years = [int(v) for v in options.get_column("value").to_list()]
    if len(set(years)) < 2:
        return None
    low, high = min(years), max(years)
    value = st.slider(
        dim.label,
        min_value=low,
        max_value=high,
        value=(low, high),
        key=dim.param,
        bind="query-params",
        help=dim.help or None,
    )
    defaults[dim.param] = (low, high)
    return None if tuple(value) == (low, high) else (int(value[0]), int(value[1]))


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
        per_table = missing.group_by("table", maintain_order=True).len()
        absent = "; ".join(f"`{table}`: {n} columns" for table, n in per_table.iter_rows())
        st.error(
            f"This warehouse lacks columns of the marts this dashboard reads ({absent}). "
            "Run `imr ingest` on it: that migrates it and rebuilds its marts from its tables."
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
        elif name in dimensions.BY_NAME:
            config[name] = st.column_config.Column(dimensions.BY_NAME[name].label)
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


def download(frame: pl.DataFrame, name: str, filters: Filters) -> None:
    """A CSV download of an (aggregated) table, neutralised, named after the filters."""
    st.download_button(
        f"Download CSV ({name.replace('_', ' ')})",
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


# --- rates by dimension --------------------------------------------------------------------


def rates(name: str, filters: Filters, within: tuple[str, str] | None = None) -> pl.DataFrame:
    """``queries.rates_by`` for the registry dimension ``name`` (cached)."""
    return run(queries.rates_by, filters, name, small_n(), within)


def rate_chart(dim: Dimension, frame: pl.DataFrame) -> alt.LayerChart:
    """Bars (most items first) or, for dimensions ordered by value (years), a trend."""
    if dim.order == "value":
        return charts.rate_trend(frame, dim.name, x_title=dim.label)
    return charts.rate_bars(frame, dim.name, dim_title=dim.label)


def rate_section(
    name: str, filters: Filters, *, title: str | None = None, note: str | None = None
) -> pl.DataFrame:
    """A section for one registry dimension: heading (``By <label>``), its help as caption,
    chart, table and CSV (``by_<name>``)."""
    dim = dimensions.get(name)
    section(title or dim.title, dim.help if note is None else note)
    frame = rates(name, filters)
    chart_and_table(rate_chart(dim, frame), frame, f"by_{name}", filters)
    return frame
