"""Streamlit building blocks shared by the pages: sidebar filters, banners, rate tables,
downloads. Data comes only through ``dashboard.connection.run`` (cached) — no SQL here."""

from __future__ import annotations

import json
from typing import Any

import altair as alt
import polars as pl
import streamlit as st
from streamlit.errors import StreamlitAPIException

from dashboard import (
    charts,
    dimensions,
    export,
    highlight,
    queries,
    reference,
    search_ui,
    stats,
)
from dashboard.connection import (
    WarehouseMissing,
    computed,
    run,
    run_uncached,
    settings,
    warehouse_id,
)
from dashboard.dimensions import Dimension
from dashboard.filters import Filters

FILTERS_STATE = "_imr_filters"
PENDING_FILTERS = "_imr_pending_filters"
DROPPED_STATE = "_imr_dropped_from_link"
MORE_FILTERS = "more_filters"  # the "More filters" expander: open or closed
EXCLUDE_DEMO = "exclude_demo"
OPTIONS_IN_HELP = 25

UNIT_NOTE = (
    "**Unit: per disputed item.** Letters hold several: one letter (one IMR case) decides "
    "several treatment requests, and every rate here counts items, not letters."
)


# --- sidebar -------------------------------------------------------------------------------


def _option_help(dim: Dimension, options: list[tuple[Any, int]], filtered: bool = False) -> str:
    where = "under the other filters" if filtered else "whole warehouse"
    lines = [dim.help, ""] if dim.help else []
    lines += [f"Items per {dim.label.lower()} ({where}, most frequent first):", ""]
    # Plain Python over a few hundred rows: a polars filter per widget and rerun cost more.
    with_items = [(value, n) for value, n in options if n > 0]
    for value, n in with_items[:OPTIONS_IN_HELP]:
        lines.append(f"- {dim.fmt(value)}: {n:,}")
    if len(with_items) > OPTIONS_IN_HELP:
        lines.append(f"- … and {len(with_items) - OPTIONS_IN_HELP:,} more")
    if len(with_items) < len(options):
        lines.append(
            f"\n{len(options) - len(with_items):,} values have no items under the other "
            "filters (listed last)."
        )
    return "\n".join(lines)


def _clear_filters(defaults: dict[str, Any]) -> None:
    # Bound widgets change (and update the URL) only through st.session_state. The sliders'
    # "default value also set via Session State" log warning is off in the Streamlit config.
    for key, value in defaults.items():
        st.session_state[key] = value


def open_with_filters(page: str, values: dict[str, Any]) -> None:
    """Open ``page`` with these filter widgets set (URL parameter -> widget value; the other
    filters stay), e.g. a drill-down from an Explore cell. Bound widgets change only through
    ``st.session_state`` before they are built, so the values wait for the next run."""
    st.session_state[PENDING_FILTERS] = dict(values)
    # An empty mapping, not None: None clears the URL through a call that refuses bound
    # parameters; the filter widgets write theirs back on the next run.
    st.switch_page(page, query_params={})


def filter_value(dim: Dimension, value: str) -> Any:
    """The widget value of a filter set to one value: ``[value]``, or ``(year, year)``."""
    if dim.widget == "range":
        return (int(value), int(value))
    return [value]


def _apply_pending_filters() -> None:
    for key, value in (st.session_state.pop(PENDING_FILTERS, None) or {}).items():
        st.session_state[key] = value


def _filter_widget(
    dim: Dimension,
    options: dict[str, pl.DataFrame],
    chosen: dict[str, Any],
    defaults: dict[str, Any],
    now: Filters,
) -> None:
    dim_options = options[dim.name]
    if dim.widget == "range":
        left_out = None
        if now.get(dim.name):
            # Items without a value never pass a range: say how many (under the other filters).
            under_others = run(queries.item_count, now.without(dim.name)).item(0, "n")
            left_out = int(under_others or 0) - int(dim_options.get_column("n").sum())
        chosen[dim.name] = _range_filter(dim, dim_options, defaults, left_out)
    else:
        chosen[dim.name] = _multiselect_filter(
            dim, dim_options, defaults, filtered=now.without(dim.name) != Filters()
        )


def _url_values(dim: Dimension) -> list[str] | None:
    """A filter's values in the URL on a page load (None once its widget holds the state)."""
    if dim.param in st.session_state or dim.param not in st.query_params:
        return None
    return [v for v in st.query_params.get_all(dim.param) if v != ""]


def _drop_from_link(dim: Dimension, kept: list[str], what: str) -> None:
    """Rewrite a filter's URL values to those the warehouse holds, before its widget is built
    (a bound widget would drop the others without a word), note what was dropped, and run the
    script again: a widget takes its first value from the address the run started with."""
    st.session_state.setdefault(DROPPED_STATE, []).append(f"{dim.label}: {what}")
    try:
        if kept:
            st.query_params[dim.param] = kept
        else:
            del st.query_params[dim.param]
    except StreamlitAPIException:  # already bound: the widget drops them itself
        return
    st.rerun()


def _selection_now(dim: Dimension, known: set[str]) -> Any:
    """A filter's selection before its widget is built (its state, else the URL), limited to
    the values the warehouse holds."""
    if dim.param in st.session_state:
        raw = st.session_state[dim.param] or []
    else:
        raw = st.query_params.get_all(dim.param)
    if dim.widget == "range":
        years = [int(v) for v in known]
        try:
            low, high = sorted(int(v) for v in raw)
        except (TypeError, ValueError):
            return None
        if not years:
            return None
        low, high = max(low, min(years)), min(high, max(years))
        return None if low > high or (low, high) == (min(years), max(years)) else (low, high)
    return [str(v) for v in raw if str(v) in known or " + " in str(v)] or None


def per_dimension(options: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """``queries.filter_options`` as ``value``, ``n`` per filter dimension, split once (the
    sidebar looks a filter's options up two or three times per run)."""
    parts = options.partition_by("dimension", as_dict=True, include_key=False)
    empty = options.clear().drop("dimension")
    return {dim.name: parts.get((dim.name,), empty) for dim in dimensions.FILTERS}


def _filters_now(everything: dict[str, pl.DataFrame]) -> Filters:
    """The filters as they stand before the widgets are built: what option counts follow."""
    chosen: dict[str, Any] = {}
    for dim in dimensions.FILTERS:
        known = set(everything[dim.name].get_column("value"))
        value = _selection_now(dim, known)
        if value:
            chosen[dim.name] = value
    if EXCLUDE_DEMO in st.session_state:
        chosen["exclude_synthetic"] = bool(st.session_state[EXCLUDE_DEMO])
    else:
        chosen["exclude_synthetic"] = st.query_params.get(EXCLUDE_DEMO) == "true"
    key = search_ui.SEARCH_KEY
    chosen["search"] = st.session_state.get(key) if key in st.session_state else None
    if chosen["search"] is None:
        chosen["search"] = st.query_params.get(key)
    return Filters.build(**chosen)


def _filter_set(dim: Dimension, options: dict[str, pl.DataFrame]) -> bool:
    """Whether a filter holds a selection (before its widget is built: URL or session)."""
    if dim.param in st.query_params:
        return True
    value = st.session_state.get(dim.param)
    if not value:
        return False
    if dim.widget != "range":
        return True
    years = options[dim.name].get_column("value").cast(pl.Int64)
    return years.len() > 0 and tuple(value) != (years.min(), years.max())


def sidebar_filters() -> Filters:
    """Render the global filters of the dimension registry (bound to the URL) and remember them
    for the pages: the main ones, then the others under "More filters"."""
    _apply_pending_filters()
    everything = per_dimension(run(queries.filter_options))
    # Option counts follow the other filters (rough edge 1 of issue 13), Datasette-style.
    now = _filters_now(everything)
    more = [d for d in dimensions.FILTERS if not d.sidebar]
    active = any(_filter_set(d, everything) for d in more)
    # "More filters" builds its widgets only while open or holding a selection (a widget not
    # built has no state to lose): closed, its 13 filters' counts are not counted, which
    # under two filters at 4 million items was most of the sidebar's time.
    show_more = active or bool(st.session_state.get(MORE_FILTERS))
    counted = tuple(d.name for d in dimensions.FILTERS if d.sidebar or show_more)
    if now != Filters():
        options = per_dimension(run(queries.filter_options, now, counted))
    else:
        options = everything
    chosen: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    with st.sidebar:
        st.header("Filters")
        chosen["search"] = search_ui.search_box(defaults)  # q: a filter like the others
        for dim in dimensions.FILTERS:
            if dim.sidebar:
                _filter_widget(dim, options, chosen, defaults, now)
        if more:
            with st.expander(
                "More filters", expanded=active, key=MORE_FILTERS, on_change="rerun"
            ) as box:
                if active or box.open:
                    for dim in more:
                        _filter_widget(dim, options, chosen, defaults, now)
        chosen["exclude_synthetic"] = st.toggle(
            "Exclude demo (synthetic) letters", key=EXCLUDE_DEMO, bind="query-params"
        )
        defaults[EXCLUDE_DEMO] = False
        st.button("Clear filters", on_click=_clear_filters, args=(defaults,), width="stretch")
        st.caption("Filters are kept in the address bar: copy the URL to share this view.")
    dropped = st.session_state.pop(DROPPED_STATE, None)
    if dropped:
        st.warning(
            "This link named filter values this warehouse does not hold; they were dropped: "
            + "; ".join(dropped),
            icon="⚠️",
        )
    filters = Filters.build(**chosen)
    st.session_state[FILTERS_STATE] = filters
    return filters


def _multiselect_filter(
    dim: Dimension, options: pl.DataFrame, defaults: dict[str, Any], filtered: bool = False
) -> list[str]:
    if dim.name == "drug":  # brand names and combinations (Norco), rewritten to generics
        options = search_ui.drug_filter_options(dim, options)
    rows = options.rows()
    values = [value for value, _ in rows]
    counts = dict(rows)
    wanted = _url_values(dim)
    unknown = [v for v in wanted or [] if v not in counts]
    if unknown:
        kept = [v for v in wanted or [] if v in counts]
        _drop_from_link(dim, kept, ", ".join(unknown))
    with_items = sum(1 for n in counts.values() if n)
    shown = f"{with_items:,}" if with_items == len(values) else f"{with_items:,} of {len(values):,}"
    selected: list[str] = st.multiselect(
        f"{dim.label} ({shown})",
        values,
        key=dim.param,
        bind="query-params",
        help=_option_help(dim, rows, filtered),
        placeholder="All",
        # Typing filters by prefix, and Enter takes the first match, never "Select all
        # matches" (rough edge 8: "opio" + Enter selected six classes).
        filter_mode="prefix",
        select_all=False,
    )  # no format_func: a bound multiselect writes the label shown to the URL
    defaults[dim.param] = []
    if selected:
        st.caption(
            " · ".join(f"{dim.fmt(v)}: {plural(counts.get(v, 0), 'item')}" for v in selected)
        )
    return selected


def _range_filter(
    dim: Dimension, options: pl.DataFrame, defaults: dict[str, Any], left_out: int | None = None
) -> tuple[int, int] | None:
    years = [int(v) for v in options.get_column("value").to_list()]
    if len(set(years)) < 2:
        return None
    low, high = min(years), max(years)
    wanted = _url_values(dim)
    if wanted:
        try:
            asked = sorted(int(v) for v in wanted)
        except ValueError:
            asked = []
        if len(asked) != 2 or asked[0] > high or asked[1] < low:
            _drop_from_link(dim, [], f"{'–'.join(wanted)} (this warehouse holds {low}–{high})")
        elif asked[0] < low or asked[1] > high:
            kept = [str(max(asked[0], low)), str(min(asked[1], high))]
            _drop_from_link(
                dim,
                kept,
                f"{asked[0]}–{asked[1]} narrowed to {kept[0]}–{kept[1]} (the years "
                "this warehouse holds)",
            )
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
    if tuple(value) == (low, high):
        return None
    if left_out:
        st.caption(
            f"Leaves out {plural(left_out, 'item')} without a {dim.label.lower()}"
            + (f" ({dim.missing})." if dim.missing else ".")
        )
    return (int(value[0]), int(value[1]))


def current_filters() -> Filters:
    value = st.session_state.get(FILTERS_STATE)
    return value if isinstance(value, Filters) else Filters()


def small_n() -> int:
    return settings().small_n


# --- the browser ---------------------------------------------------------------------------

# Three fixes Streamlit has no setting for (issue 13, rough edges 9, 11 and 12), in the page
# itself; no data goes into it, only the constants below and the pages' paths:
# * a filter change is a history entry: Streamlit writes a widget's URL parameters with
#   history.replaceState, so Back left the filters as they were; a change of the query string
#   becomes a pushState (not while Streamlit follows Back/Forward, which it does itself);
# * the reader's light/dark choice holds on every page: Streamlit keeps it in localStorage
#   under a key per page path, so opening another page's link forgot it; it is written for
#   every page of the app;
# * a "Skip to filters" link right after Streamlit's "Skip to main content".
_SHIMS = """
<script>
(function () {
  const paths = __PATHS__;
  const here = __HERE__;
  const root = window.location.pathname.slice(
    0, window.location.pathname.length - here.length) || "/";
  const pagePaths = paths.map((p) => (root.endsWith("/") ? root : root + "/") + p);
  const themeKey = /^stActiveTheme-(.*)-v(\\d+)$/;
  function spreadTheme(key, value, write) {
    const m = themeKey.exec(key);
    if (!m) return;
    for (const path of pagePaths) {
      const other = "stActiveTheme-" + path + "-v" + m[2];
      if (other !== key) write(other, value);
    }
  }
  if (!window.__imrShims) {
    window.__imrShims = true;
    let navigated = 0;
    window.addEventListener("popstate", () => { navigated = Date.now(); });
    const replace = window.history.replaceState.bind(window.history);
    window.history.replaceState = function (state, title, url) {
      try {
        const next = new URL(url, window.location.href);
        if (Date.now() - navigated > 2000 && next.pathname === window.location.pathname
            && next.search !== window.location.search) {
          return window.history.pushState(state, title, url);
        }
      } catch (e) { /* not a URL: leave it to replaceState */ }
      return replace(state, title, url);
    };
    const setItem = Storage.prototype.setItem;
    Storage.prototype.setItem = function (key, value) {
      setItem.call(this, key, value);
      if (this === window.localStorage) {
        spreadTheme(String(key), value, (k, v) => setItem.call(this, k, v));
      }
    };
  }
  for (let i = 0; i < window.localStorage.length; i++) {
    const key = window.localStorage.key(i);
    if (key && key.startsWith("stActiveTheme-" + window.location.pathname + "-v")) {
      const store = window.localStorage;
      spreadTheme(key, store.getItem(key), (k, v) => store.setItem(k, v));
    }
  }
  if (!document.getElementById("imr-skip-filters")) {
    const skip = document.querySelector("[data-testid='stSkipToContent']");
    const link = document.createElement("a");
    link.id = "imr-skip-filters";
    link.href = "#";
    link.textContent = "Skip to filters";
    link.setAttribute("data-testid", "imrSkipToFilters");
    link.style.cssText = "position:absolute;left:-10000px;top:auto;width:1px;height:1px;"
      + "overflow:hidden;";
    link.addEventListener("focus", () => {
      link.style.cssText = "position:fixed;left:8px;top:48px;z-index:1000001;padding:6px 10px;"
        + "background:#1f5f8b;color:#fff;border-radius:4px;";
    });
    link.addEventListener("blur", () => {
      link.style.cssText = "position:absolute;left:-10000px;top:auto;width:1px;height:1px;"
        + "overflow:hidden;";
    });
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const sidebar = document.querySelector("[data-testid='stSidebar']");
      if (sidebar && sidebar.getAttribute("aria-expanded") === "false") {
        const open = document.querySelector("[data-testid='stExpandSidebarButton'] button, "
          + "[data-testid='stExpandSidebarButton']");
        if (open) open.click();
      }
      let tries = 0;
      const focusFirst = () => {
        const first = document.querySelector(
          "[data-testid='stSidebar'] input:not([type=hidden]), "
          + "[data-testid='stSidebar'] textarea");
        if (first) first.focus();
        if (document.activeElement !== first && ++tries < 20) window.setTimeout(focusFirst, 100);
      };
      window.setTimeout(focusFirst, 50);
    });
    if (skip && skip.parentNode) skip.parentNode.insertBefore(link, skip.nextSibling);
    else document.body.insertBefore(link, document.body.firstChild);
  }
})();
</script>
"""


def browser_shims(page_paths: list[str], current_path: str) -> None:
    """Install the page fixes above (history entries, theme on every page, skip link)."""
    script = _SHIMS.replace("__PATHS__", json.dumps(page_paths)).replace(
        "__HERE__", json.dumps(current_path)
    )
    with st.sidebar:
        st.html(script, unsafe_allow_javascript=True)


# --- page state in the URL -----------------------------------------------------------------


def _widget_changed(param: str) -> None:
    st.session_state[f"_imr_changed_{param}"] = True


def url_select(
    label: str,
    param: str,
    options: list[str],
    default: str,
    *,
    format_func: Any = str,
    help: str | None = None,
    key: str | None = None,
) -> str:
    """A select box whose value lives in the URL as ``param=<option>``: the option itself, not
    its label (a bound select box writes the label shown). The URL is the truth: a link, Back
    or Forward sets the box; a change in the box rewrites the URL. A value in the URL that is
    not an option is dropped with a warning naming it. ``key``: the widget's key (default:
    ``param``)."""
    key = key or param
    default = default if default in options else options[0]
    wanted = st.query_params.get(param)
    if not st.session_state.pop(f"_imr_changed_{key}", False):
        if wanted is not None and wanted not in options:
            st.warning(f"Ignored `{param}={wanted}` from the link: not one of the choices.")
        target = wanted if wanted in options else default
        if st.session_state.get(key) != target:
            st.session_state[key] = target
    elif st.session_state.get(key) not in options:
        st.session_state[key] = default
    value: str = st.selectbox(
        label,
        options,
        key=key,
        format_func=format_func,
        help=help,
        on_change=_widget_changed,
        args=(key,),
    )
    set_url_param(param, value, default)
    return value


def set_url_param(param: str, value: str, default: str) -> None:
    """Keep ``param=value`` in the URL (left out when it is the default)."""
    if value == default:
        if param in st.query_params:
            del st.query_params[param]
    elif st.query_params.get(param) != value:
        st.query_params[param] = value


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
            "Synthetic demo data in view: "
            f"{plural(summary.item(0, 'synthetic_letters'), 'demo letter')} "
            f"({plural(summary.item(0, 'synthetic_items'), 'item')}) are included in these "
            "figures. "
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


# Column headers for readers (CSV files keep the column names). Dimensions use their label;
# anything else falls back to its name in words.
COLUMN_LABELS = {
    "n": "Items",
    "letter_id": "Letter",
    "case_number": "Case number",
    "item_no": "Item",
    "decision_date": "Decision date",
    "request": "Request",
    "synthetic": "Demo letter",
    "p_value": "p",
    "q_value": "q (Benjamini–Hochberg)",
    "outside_95": "Outside 95% limits",
    "outside_99_8": "Outside 99.8% limits",
    "a_n": "Items (A)",
    "a_overturned": "Overturned (A)",
    "a_overturn_rate": "Overturn rate (A)",
    "b_n": "Items (B)",
    "b_overturned": "Overturned (B)",
    "b_overturn_rate": "Overturn rate (B)",
    "both_n": "Items under both",
    "odds_ratio": "Odds ratio",
    "used": "In the pooled odds ratio",
}
# Shown first where present (on a phone only the first columns fit).
LEADING_COLUMNS = ("request", "decision")


def _is_share(name: str) -> bool:
    return name.endswith(("_rate", "_lower", "_upper", "_share")) or name in ("share",)


def column_label(name: str) -> str:
    if name in dimensions.BY_NAME:
        return dimensions.BY_NAME[name].label
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    return name.replace("_", " ").capitalize()


def _column_config(frame: pl.DataFrame) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for name, dtype in frame.schema.items():
        label = column_label(name)
        if dtype == pl.Date:
            config[name] = st.column_config.DateColumn(label, format="YYYY-MM-DD")
        elif _is_share(name) and dtype.is_numeric():
            # step 0.001: one decimal, as every percentage on screen (captions use .1%).
            config[name] = st.column_config.NumberColumn(label, format="percent", step=0.001)
        elif name in ("n", "overturned", "upheld", "letters", "items", "same", "files"):
            config[name] = st.column_config.NumberColumn(label, format="localized")
        elif name == "small_sample":
            config[name] = st.column_config.CheckboxColumn(
                f"Small sample (n < {small_n()})",
                help=f"Fewer than {small_n()} items: read the rate with care.",
            )
        elif name == "request":  # long text: leave room for the decision beside it
            config[name] = st.column_config.TextColumn(label, width="medium")
        else:
            config[name] = st.column_config.Column(label)
    return config


def table(frame: pl.DataFrame, *, height: int | None = None) -> None:
    """A read-only table: readable headers, percentages with one decimal, the request and
    decision first; ``height`` caps the height (short tables stay short)."""
    kwargs: dict[str, Any] = {}
    if height is not None:
        kwargs["height"] = min(height, 38 + 35 * max(frame.height, 1))
    leading = [c for c in LEADING_COLUMNS if c in frame.columns]
    order = leading + [c for c in frame.columns if c not in leading]
    st.dataframe(
        frame.to_arrow(),  # as Arrow: Streamlit would convert a polars frame through pandas
        hide_index=True,
        column_config=_column_config(frame),
        column_order=order,
        width="stretch",
        **kwargs,
    )


def download(frame: pl.DataFrame, name: str, filters: Filters) -> None:
    """A CSV download of an (aggregated) table, neutralised, named after the filters."""
    st.download_button(
        f"Download CSV ({name.replace('_', ' ')})",
        data=lambda: export.to_csv_bytes(frame),  # built on click: not on every rerun
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
    search_ui.text_download(filters, key=f"{key}_text")  # with request, rationale, guidelines


def chart_and_table(
    chart: alt.Chart | alt.LayerChart,
    frame: pl.DataFrame,
    name: str,
    filters: Filters,
    *,
    on_select: bool = False,
    key: str | None = None,
    min_width: int | None = None,
) -> Any:
    """A chart, then its table in an expander with its CSV download. Returns the selection
    event when ``on_select``. ``min_width``: see ``wide_chart``."""
    if frame.height == 0:
        st.info("No items match the filters for this view.")
        return None
    options: dict[str, Any] = {"key": key or f"chart_{name}"}
    if on_select:
        options["on_select"] = "rerun"
    if min_width is None:
        shown = altair_chart(chart, **options)
    else:
        shown = wide_chart(chart, min_width, **options)
    with st.expander(f"Table: {name.replace('_', ' ')}"):
        table(frame)
        download(frame, name, filters)
    return shown if on_select else None


def altair_chart(chart: Any, **options: Any) -> Any:
    """``st.altair_chart`` without Altair's check of the spec against Vega-Lite's JSON schema,
    which it runs on every rerun and which is half of a chart's cost (8-16 ms a chart): the
    chart tests check every builder of ``charts.py`` with it. Its title is written above it
    (``title_above``)."""
    chart = title_above(chart)
    to_dict = type(chart).to_dict
    # object.__setattr__: Altair's own __setattr__ would store the function in the spec.
    object.__setattr__(
        chart, "to_dict", lambda *args, **kw: to_dict(chart, *args, **{**kw, "validate": False})
    )
    return st.altair_chart(chart, **options)


_MARKDOWN_SPECIALS = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>#$~|"})


def title_above(chart: Any) -> Any:
    """The chart without its (text) title, which is written above it as text: Vega cuts a
    title wider than its chart with an ellipsis ("Overturn rate by drug class (click a bar to
    se…" on a phone), where text wraps."""
    title = getattr(chart, "title", alt.Undefined)
    if not isinstance(title, str) or not title:
        return chart
    st.markdown(f"**{title.translate(_MARKDOWN_SPECIALS)}**")
    untitled = chart.copy(deep=False)
    untitled.title = alt.Undefined
    return untitled


def wide_chart(chart: Any, min_width: int, *, key: str, **options: Any) -> Any:
    """``altair_chart`` as wide as the page, but never narrower than ``min_width`` pixels:
    on a narrower screen it scrolls in its own box, its cells and labels as legible as on a
    wide one (squeezed to a phone's width, a cross-tab's labels overlapped). The box is at
    most 85% of the screen's height, so that its sideways scroll bar is in sight even for a
    cross-tab of 50 rows."""
    chart = title_above(chart)  # above the box, in sight while the chart scrolls
    box = f"st-key-{key}-box"
    st.html(
        f"<style>.{box} {{overflow: auto; max-height: 85vh}}"
        f" .{box} [data-testid=stVegaLiteChart] {{min-width: {int(min_width)}px}}</style>"
    )
    with st.container(key=f"{key}-box"):
        return altair_chart(chart, key=key, **options)


def section(title: str, note: str | None = None) -> None:
    st.subheader(title)
    if note:
        st.caption(note)


# --- rates by dimension --------------------------------------------------------------------


def rates(name: str, filters: Filters, within: tuple[str, str] | None = None) -> pl.DataFrame:
    """``queries.rates_by`` for the registry dimension ``name`` (cached), as the pages show it:
    the letters behind each row beside its items, and the overturn rate only (one rate on
    every page: the uphold rate is its complement)."""
    return _as_shown(run(queries.rates_by, filters, name, small_n(), within))


def league_table(name: str, filters: Filters, p0: float) -> pl.DataFrame:
    """``rates`` of ``name`` placed in the funnel around ``p0`` (``stats.funnel_frame``), its
    binomial tests kept between reruns (at 27 specialties, half of a Compare page's rerun)."""
    table = rates(name, filters)
    tested = computed(stats.funnel, p0, stats.funnel_groups(table))
    return stats.funnel_frame(table, name, p0, tested)


def rates_each(names: list[str], filters: Filters) -> dict[str, pl.DataFrame]:
    """``rates`` of each dimension of ``names``, the scalar ones in one pass over the items and
    the list ones in another (``queries.rates_together``): for a page that shows several."""
    out: dict[str, pl.DataFrame] = {}
    for shape in ("scalar", "list"):
        same = tuple(n for n in names if dimensions.get(n).shape == shape)
        if len(same) > 1:
            together = run(queries.rates_together, filters, same, small_n())
            out |= {name: _as_shown(queries.rates_from(together, name)) for name in same}
    return {name: out[name] if name in out else rates(name, filters) for name in names}


def _as_shown(frame: pl.DataFrame) -> pl.DataFrame:
    columns = [c for c in frame.columns if c != "letters" and not c.startswith("uphold_")]
    columns.insert(columns.index("n") + 1, "letters")
    return frame.select(columns)


def published_comparison(filters: Filters) -> None:
    """DWC / CWCI published figures beside ours (the items in view), with the difference, the
    unit and the source of each; CSV of the numbers."""
    frame = reference.compare_published(run(queries.published_counts, filters))
    st.caption(
        "Ours: the items in view decided that year (the filters apply). Theirs: as published, "
        "over every IMR decision statewide. Shares are per disputed item here; counts are "
        "letters. A difference is ours minus theirs, in percentage points."
    )

    def shown(value: float | None, unit: str, signed: bool = False) -> str:
        if value is None:
            return "–"
        if unit.startswith("letters"):
            return f"{value:,.0f}"
        return f"{value * 100:+.1f} pts" if signed else f"{value:.1%}"

    display = pl.DataFrame(
        {
            "publisher": frame.get_column("publisher"),
            "year": frame.get_column("year"),
            "figure": frame.get_column("figure"),
            "published": [shown(v, u) for v, u in frame.select("published", "unit").iter_rows()],
            "ours": [shown(v, u) for v, u in frame.select("ours", "unit").iter_rows()],
            "difference": [
                shown(v, u, signed=True) for v, u in frame.select("difference", "unit").iter_rows()
            ],
            "items": frame.get_column("items"),
            "unit": frame.get_column("unit"),
            "source": frame.get_column("source"),
        }
    )
    table(display, height=420)
    download(frame, "published_figures_compared", filters)


def left_out_note(dim: Dimension, frame: pl.DataFrame, filters: Filters) -> None:
    """Say how many items in view a scalar dimension's chart leaves out (no value), and why."""
    if dim.shape != "scalar":
        return  # list dimensions count an item without values under their "empty" label
    total = int(run(queries.summary, filters, small_n()).item(0, "n") or 0)
    shown = int(frame.get_column("n").sum()) if frame.height else 0
    if total > shown:
        why = f" ({dim.missing})" if dim.missing else ""
        st.caption(
            f"{plural(total - shown, 'item')} of the {total:,} in view have no "
            f"{dim.label.lower()}{why} and are left out of this chart."
        )


def plural(n: int, word: str) -> str:
    """``1 item``, ``2 items`` (``letter``, ``item``: regular plurals only)."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def rate_chart(dim: Dimension, frame: pl.DataFrame) -> charts.LayerChart:
    """Bars (most items first) or, for dimensions ordered by value (years), a trend."""
    if dim.order == "value":
        return charts.rate_trend(frame, dim.name, x_title=dim.label)
    return charts.rate_bars(frame, dim.name, dim_title=dim.label, max_rows=charts.MAX_BARS)


def rate_section(
    name: str,
    filters: Filters,
    *,
    title: str | None = None,
    note: str | None = None,
    frame: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """A section for one registry dimension: heading (``By <label>``), its help as caption,
    chart, table and CSV (``by_<name>``); ``frame``: its ``rates`` when the page has them."""
    dim = dimensions.get(name)
    section(title or dim.title, dim.help if note is None else note)
    frame = rates(name, filters) if frame is None else frame
    if dim.order == "count" and frame.height > charts.MAX_BARS:
        st.caption(
            f"The chart shows the {charts.MAX_BARS} values with the most items, of "
            f"{frame.height:,}; the table lists them all."
        )
    chart_and_table(rate_chart(dim, frame), frame, f"by_{name}", filters)
    left_out_note(dim, frame, filters)
    return frame


def marked_text(text: str | None, spans: list[tuple[int, int, str]], label: str = "") -> None:
    """Letter text, escaped (inert), with ``(start, end, title)`` spans marked."""
    st.html(highlight.block(text or "–", spans, label))


def rationale(
    text: str | None, search_spans: list[tuple[int, int]], evidence: pl.DataFrame
) -> None:
    """An item's rationale with its reasons' sentences marked (title: the reason) and the search
    matches marked, then the reasons listed (``evidence``: ``queries.letter_evidence`` rows of
    this item)."""
    spans = [
        (row["start_offset"], row["end_offset"], f"Reason: {row['reason']}")
        for row in evidence.iter_rows(named=True)
    ] + [(s, e, "search match") for s, e in search_spans]
    marked_text(text or "(not stated)", spans if text else [], "Rationale:")
    if evidence.height:
        st.caption(
            "Reasons found (their sentences are marked): "
            + ", ".join(evidence.get_column("reason").unique(maintain_order=True).to_list())
        )
    else:
        st.caption("No reason found in this rationale.")
