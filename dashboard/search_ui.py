"""Streamlit blocks of search: the search box (``q``, global, in the URL), the Drug filter's
brand names, the ranked matches with highlighted snippets, highlighted letter text, and the
notice shown when a warehouse has no usable index. Data comes from ``dashboard.search``
through ``connection.run`` (cached); HTML comes from ``dashboard.highlight`` (escaped)."""

from __future__ import annotations

import html
import urllib.parse
from typing import Any

import polars as pl
import streamlit as st
from streamlit.errors import StreamlitAPIException

from dashboard import export, highlight, queries, search
from dashboard.connection import run, run_uncached
from dashboard.dimensions import Dimension
from dashboard.filters import Filters
from etl.search.engine import MAX_QUERY_CHARS
from etl.search.synonyms import ARROW

SEARCH_KEY = "q"
SEARCH_HELP = """Searches requests, rationales, guidelines, case summaries, diagnoses and drugs
(generic and brand names: *Norco* finds items with hydrocodone and acetaminophen), ranked by
relevance. Every page then counts only the matching items.

- `urine drug screen`: all the words (in any order)
- `"functional improvement"`: the phrase
- `improv*`: words starting with *improv*
- `norco OR percocet`, `opioid* -norco`, `(mri OR ct) lumbar`
- `rationale:"urine drug screen"`: one field (`request`, `rationale`, `guidelines`, `summary`,
  `diagnoses`, `drug`)

Text that is not a valid query is searched for as a phrase."""
FIELD_LABELS = {
    "rationale": "Rationale",
    "request": "Request",
    "guidelines": "Guidelines",
}


def search_box(defaults: dict[str, Any]) -> str:
    """The global search (URL ``q``); "" when empty."""
    value = st.text_input(
        "Search",
        key=SEARCH_KEY,
        bind="query-params",
        max_chars=MAX_QUERY_CHARS,
        placeholder='e.g. norco "urine drug screen"',
        help=SEARCH_HELP,
    )
    defaults[SEARCH_KEY] = ""
    return value or ""


def drug_filter_options(dim: Dimension, options: pl.DataFrame) -> pl.DataFrame:
    """The Drug filter's options (``value``, ``n``): the generics, the combinations products
    stand for (``acetaminophen + hydrocodone``), and every brand or other name of the vocabulary
    as ``name → generic``. A name in the URL or chosen in the widget is rewritten to its generic
    before the widget is built, so the URL always holds generics."""
    generics = tuple((str(v), int(n)) for v, n in options.select("value", "n").iter_rows())
    frame = run(search.drug_options, generics)
    available = {v for v in frame.get_column("value").to_list() if ARROW not in v}
    if dim.param in st.session_state:
        current = st.session_state.get(dim.param) or []
    else:
        current = st.query_params.get_all(dim.param)
    if current:
        wanted = search.canonical_drugs(list(current), available)
        if wanted != list(current):
            _set_drugs(dim.param, wanted)
    return frame.select("value", "n")


def _set_drugs(param: str, values: list[str]) -> None:
    """Put generic values in the Drug filter before its widget is built. On a page load the
    widget is seeded from the URL: the URL is rewritten and the script run again (the rerun
    seeds from the new URL). Afterwards (a name chosen in the widget) the widget's state is
    rewritten, and the widget writes it to the URL."""
    if param not in st.session_state:
        try:
            if values:
                st.query_params[param] = values
            else:
                del st.query_params[param]
        except StreamlitAPIException:  # already bound in this session
            pass
        else:
            st.rerun()
    st.session_state[param] = values


def index_notice(filters: Filters) -> None:
    """A warning when the search cannot use an index (literal matching instead)."""
    if not filters.search:
        return
    state = run(search.status)
    if not state.item(0, "available"):
        st.warning(
            f"{state.item(0, 'problem')}. Until then the search matches the text literally in "
            "requests and rationales.",
            icon="⚠️",
        )


def _letter_href(letter_id: str) -> str:
    params = [(k, v) for k in st.query_params for v in st.query_params.get_all(k) if k != "letter"]
    params.append(("letter", letter_id))
    return "?" + urllib.parse.urlencode(params)


def snippet_html(row: dict[str, Any]) -> str:
    """A ranked match's snippet: its field, the passage with the matches marked."""
    text = row.get("snippet")
    if not text:
        return "<em>(the match is in the case summary, diagnoses or drugs)</em>"
    spans = [(s, e, "search match") for s, e in row.get("snippet_spans") or []]
    body = highlight.mark(text, spans)
    before = "… " if row.get("snippet_cut_start") else ""
    after = " …" if row.get("snippet_cut_end") else ""
    label = FIELD_LABELS.get(str(row.get("snippet_field")), "Text")
    return f"<strong>{html.escape(label)}:</strong> {before}{body}{after}"


def ranked_matches(ranked: pl.DataFrame) -> None:
    """The ranked matches as one list: rank, case and item (a link opening the letter below),
    decision, request, snippet."""
    if ranked.height == 0:
        return
    items = []
    for row in ranked.iter_rows(named=True):
        case = html.escape(str(row["case_number"] or row["letter_id"]))
        href = html.escape(_letter_href(str(row["letter_id"])), quote=True)
        decided = html.escape(str(row["decision_date"] or ""))
        items.append(
            '<li class="imr-match">'
            f'<a href="{href}" target="_self">Case {case}, item {int(row["item_no"])}</a>'
            f" · <strong>{html.escape(str(row['decision']))}</strong> · {decided}"
            f"<br>{html.escape(str(row['request'] or ''))}"
            f"<br><small>{snippet_html(row)}</small></li>"
        )
    st.html(
        '<ol class="imr-matches" style="padding-left: 1.5em">' + "".join(items) + "</ol>",
    )


def letter_text(prefix: str, text: str | None, spans: list[tuple[int, int]]) -> None:
    """One field of a letter, ``prefix`` first (``"Request: "``): plain text (``st.text``)
    without matches; with matches the same text escaped, line breaks kept, matches marked."""
    if not spans or not text:
        st.text(prefix + (text or "–"))
        return
    shift = len(prefix)
    marked = [(s + shift, e + shift, "search match") for s, e in spans]
    st.html(highlight.block(prefix + text, marked))


def export_command(url: str) -> str:
    """The shell command that writes this page's items with text (single quotes escaped)."""
    quoted = "'" + url.replace("'", "'\\''") + "'"
    return f"imr export --view {quoted} items-with-text.csv"


def text_download(filters: Filters, *, key: str) -> None:
    """The item CSV "with text" (request, rationale, both guideline texts, citations, reasons):
    a download up to ``search.TEXT_DOWNLOAD_ROWS`` items; beyond, the equivalent command (a
    browser download is held in the server's memory)."""
    items = run(queries.summary, filters, 30).item(0, "n") or 0
    if items > search.TEXT_DOWNLOAD_ROWS:
        st.caption(
            f"{items:,} items: too many to download with their text from the browser. This "
            "command writes exactly this slice (filters and search) to a file:"
        )
        st.code(export_command(str(st.context.url or "")), language="bash")
        return

    def build() -> bytes:
        return export.batches_to_csv_bytes(run_uncached(search.items_text_batches, filters))

    st.download_button(
        "Download CSV with text",
        data=build,
        file_name=export.file_name("items_text", filters),
        mime="text/csv",
        key=key,
        on_click="ignore",
        icon=":material/download:",
        help="Every filtered item with its request, rationale, both guideline texts, the "
        "citations of each and the reasons found (when the warehouse has them).",
    )
