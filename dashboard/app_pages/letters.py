"""Letters: the filtered items, full-text search, and one letter read in full (plain text)."""

import streamlit as st

from dashboard import queries, ui
from dashboard.connection import run

filters = ui.current_filters()

st.title("Letters")
st.markdown(ui.UNIT_NOTE)
ui.filter_caption(filters)
ui.page_summary(filters)

text = st.text_input(
    "Search requests and rationales",
    key="q",
    bind="query-params",
    placeholder="e.g. norco, functional restoration, urine drug screen",
    help="Case-insensitive; matches the text anywhere in an item's request or rationale.",
)
counts = run(queries.search_count, filters, text or None).row(0, named=True)
results = run(queries.search_items, filters, text or None, queries.SCREEN_ROWS)
st.caption(
    f"{counts['items']:,} items in {counts['letters']:,} letters"
    + (f" (showing the first {queries.SCREEN_ROWS:,})" if counts["items"] > results.height else "")
)
ui.table(results, height=360)
ui.items_download(filters, key="download_items_letters")

ui.section("Read a letter")
letter_ids = results.get_column("letter_id").unique(maintain_order=True).to_list()
# A shared link may name a letter outside the results shown: offer it too.
wanted = st.query_params.get("letter")
if wanted and wanted not in letter_ids and run(queries.letter, wanted).height:
    letter_ids.insert(0, wanted)
if not letter_ids:
    st.info("No letters match.")
    st.stop()
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
st.markdown("**Case summary**")
st.text(letter["case_summary"] or "(not stated)")
if letter["diagnoses"]:
    st.markdown("**Diagnoses**")
    st.text(letter["diagnoses"])

items = run(queries.letter_items, letter_id)
citations = run(queries.letter_citations, letter_id)
for item in items.iter_rows(named=True):
    with st.container(border=True):
        st.text(f"Item {item['item_no']}: {item['decision']}")
        st.text(f"Request: {item['request']}")
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
        st.text("Guidelines (claims administrator): " + (item["claims_admin_guideline"] or "–"))
        st.text("Guidelines (MAXIMUS): " + (item["maximus_guideline"] or "–"))
        st.text("Rationale:\n" + (item["rationale"] or "(not stated)"))
