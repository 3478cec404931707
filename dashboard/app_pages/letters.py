"""Letters: the items matching the search, ranked with highlighted snippets (or the filtered
items, newest first, without a search), and one letter read in full, the matches marked."""

import streamlit as st

from dashboard import queries, search, search_ui, ui
from dashboard.connection import run

filters = ui.current_filters()

st.title("Letters")
st.markdown(ui.UNIT_NOTE)
ui.filter_caption(filters)
summary = ui.page_summary(filters)
counts = summary.row(0, named=True)
items_n, letters_n = counts["n"] or 0, counts["letters"] or 0

if filters.search:
    search_ui.index_notice(filters)
    results = run(search.ranked, filters, search.RANKED_ROWS)
    st.caption(
        f"{ui.plural(items_n, 'item')} in {ui.plural(letters_n, 'letter')}"
        + (f" (the best {results.height:,} shown, ranked)" if items_n > results.height else "")
    )
    search_ui.ranked_matches(results)
else:
    st.caption("Search in the sidebar to rank the items by relevance and see the matches.")
    results = run(queries.search_items, filters, None, queries.SCREEN_ROWS)
    st.caption(
        f"{ui.plural(items_n, 'item')} in {ui.plural(letters_n, 'letter')}"
        + (f" (showing the first {queries.SCREEN_ROWS:,})" if items_n > results.height else "")
    )
    ui.table(results, height=360)
ui.items_download(filters, key="download_items_letters")

ui.section("Read a letter")
letter_ids = results.get_column("letter_id").unique(maintain_order=True).to_list()
# A shared link may name a letter outside the results shown: offer it too. Links from other
# pages say `open=` (Streamlit drops a bound widget's parameter when another page links to it).
opened = st.query_params.get("open")
wanted = opened or st.query_params.get("letter")
if wanted and wanted not in letter_ids and run(queries.letter, wanted).height:
    letter_ids.insert(0, wanted)
if not letter_ids:
    st.info("No letters match.")
    st.stop()
if opened:
    del st.query_params["open"]
    if opened in letter_ids:
        st.session_state["letter"] = opened
# Options are the ids themselves, so that `?letter=CM16-0213037` links open that letter.
letter_id = st.selectbox("Letter", letter_ids, key="letter", bind="query-params")
head = run(queries.letter, letter_id)
if head.height == 0:
    st.info("Letter not found in this warehouse.")
    st.stop()
letter = head.row(0, named=True)
if letter["synthetic"]:
    st.warning("This is a synthetic demo letter, not a real IMR decision.", icon="⚠️")
st.text(f"Case {letter['case_number'] or '(no case number)'} · decided {letter['decision_date']}")
info = st.columns(3)
info[0].text(f"Outcome: {letter['outcome']}\nPriority: {letter['priority'] or '–'}")
info[1].text(
    "Reviewer specialties: "
    + ", ".join(letter["reviewer_specialties"] or ["–"])
    + "\nLicensed in: "
    + ", ".join(letter["reviewer_states"] or ["–"])
)
info[2].text(
    f"Injury date: {letter['injury_date'] or '–'}\n"
    f"Application received: {letter['application_received'] or '–'}"
)
items = run(queries.letter_items, letter_id)
citations = run(queries.letter_citations, letter_id)
evidence = run(queries.letter_evidence, letter_id)
# The search's matches in this letter, marked (none without a search).
texts = (("summary", letter["case_summary"]), ("diagnoses", letter["diagnoses"])) + tuple(
    (f"{field}:{item['item_no']}", item[field])
    for item in items.iter_rows(named=True)
    for field in ("request", "claims_admin_guideline", "maximus_guideline", "rationale")
)
spans = run(search.highlights, filters.search, texts)
st.markdown("**Case summary**")
search_ui.letter_text("", letter["case_summary"] or "(not stated)", spans["summary"])
if letter["diagnoses"]:
    st.markdown("**Diagnoses**")
    search_ui.letter_text("", letter["diagnoses"], spans["diagnoses"])
for item in items.iter_rows(named=True):
    with st.container(border=True):
        number = item["item_no"]
        st.text(f"Item {number}: {item['decision']}")
        search_ui.letter_text("Request: ", item["request"], spans[f"request:{number}"])
        if item["original_request"] or item["authorized_portion"]:
            st.text(
                f"Original request: {item['original_request'] or '–'}\n"
                f"Authorized by the claims administrator: {item['authorized_portion'] or '–'}"
            )
        st.text(
            f"Category: {item['category'] or '–'} › {item['subcategory'] or '–'}"
            + (f" · drugs: {', '.join(item['drugs'])}" if item["drugs"] else "")
        )
        cited = citations.filter(citations["item_no"] == item["item_no"])
        if cited.height:
            ui.table(cited.drop("item_no"))
        search_ui.letter_text(
            "Guidelines (claims administrator): ",
            item["claims_admin_guideline"],
            spans[f"claims_admin_guideline:{number}"],
        )
        search_ui.letter_text(
            "Guidelines (MAXIMUS): ",
            item["maximus_guideline"],
            spans[f"maximus_guideline:{number}"],
        )
        ui.rationale(
            item["rationale"],
            spans[f"rationale:{number}"],
            evidence.filter(evidence["item_no"] == number),
        )
        st.page_link(
            "app_pages/similar.py",
            label="Similar decisions",
            icon=":material/compare_arrows:",
            query_params={"letter_id": letter_id, "item_no": str(number)},
        )
