"""Similar decisions (precedents): for one item (``?letter_id=<id>&item_no=<n>``), the decisions
whose request and rationale read most like it, of the same drug class (medications) or category,
their outcome mix and the guideline sections cited in those overturned. (Not ``letter``: that
parameter belongs to the Letters page's widget, and Streamlit drops it on other pages.)"""

import streamlit as st

from dashboard import search, ui
from dashboard.connection import run

st.title("Similar decisions")
letter_id = st.query_params.get("letter_id")
try:
    item_no = int(st.query_params.get("item_no") or "")
except ValueError:
    item_no = None
if not letter_id or item_no is None:
    st.info(
        "Open a letter on the Letters page and follow “Similar decisions” under one of its "
        "items, or link to `similar?letter_id=<letter>&item_no=<n>`."
    )
    st.stop()
subject = run(search.item, letter_id, item_no)
if subject.height == 0:
    st.info("This warehouse has no such item.")
    st.stop()
item = subject.row(0, named=True)
group = f"drug class {item['drug_class']}" if item["drug_class"] else f"category {item['category']}"
st.text(
    f"Case {item['case_number'] or letter_id} · item {item_no} · {item['decision']}"
    f" · decided {item['decision_date']}"
)
st.text(f"Request: {item['request']}")
st.page_link(
    "app_pages/letters.py",
    label="Read the letter",
    icon=":material/description:",
    query_params={"letter": letter_id},
)
state = run(search.status)
if not state.item(0, "available"):
    st.warning(f"{state.item(0, 'problem')}.", icon="⚠️")
    st.stop()
similar = run(search.similar, letter_id, item_no, search.SIMILAR_ROWS)
st.caption(
    f"The {search.SIMILAR_ROWS} decisions of the same {group} whose request and rationale read "
    "most like this item's (more-like-this on the search index), most similar first."
)
if similar.height == 0:
    st.info("No similar decisions found.")
    st.stop()
ids = tuple(similar.get_column("letter_id").to_list())
numbers = tuple(int(n) for n in similar.get_column("item_no").to_list())
outcomes = run(search.similar_outcomes, ids, numbers, ui.small_n())
cols = st.columns(2)
cols[0].metric("Similar decisions", f"{similar.height:,}")
with cols[1]:
    ui.rate_metric("Overturn rate", outcomes, "overturn")

ui.section("The most similar decisions")
ui.table(
    similar.select(
        "rank",
        "case_number",
        "item_no",
        "decision",
        "decision_date",
        "request",
        "drug_class",
        "category",
        "score",
    )
)
ui.download(similar, "similar_decisions", ui.current_filters())

ui.section(
    "Guideline sections cited in the overturned ones",
    "MAXIMUS citations of the similar decisions that were overturned: how many cite each.",
)
sections = run(search.similar_sections, ids, numbers)
if sections.height:
    ui.table(sections)
else:
    st.info("None of these decisions was overturned, or none cited a guideline section.")
