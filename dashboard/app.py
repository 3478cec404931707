"""IMR Outcomes dashboard: ``streamlit run dashboard/app.py`` (or ``imr dashboard``).

Entry script: page config, navigation, the global sidebar filters; pages live in app_pages/.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import pandas  # noqa: E402, F401  # eager: altair breaks on a half-imported pandas (concurrent sessions)
import streamlit as st  # noqa: E402

from dashboard import ui  # noqa: E402

st.set_page_config(
    page_title="IMR Outcomes",
    page_icon="⚖️",  # an emoji: no icon fetched from the internet
    layout="wide",
    initial_sidebar_state="auto",  # open on a wide screen, closed on a phone
)

pages = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("app_pages/medications.py", title="Medications", icon=":material/medication:"),
    st.Page("app_pages/reviewers.py", title="Reviewers", icon=":material/stethoscope:"),
    st.Page("app_pages/guidelines.py", title="Guidelines", icon=":material/menu_book:"),
    st.Page("app_pages/timeline.py", title="Timeline", icon=":material/timeline:"),
    st.Page("app_pages/reasons.py", title="Reasons", icon=":material/psychology_alt:"),
    st.Page("app_pages/explore.py", title="Explore", icon=":material/grid_on:"),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("app_pages/letters.py", title="Letters", icon=":material/description:"),
    st.Page("app_pages/data_quality.py", title="Data quality", icon=":material/fact_check:"),
    # Reached from the letter reader ("Similar decisions") or by URL: similar?letter_id=…&item_no=…
    st.Page(
        "app_pages/similar.py",
        title="Similar decisions",
        icon=":material/compare_arrows:",
        visibility="hidden",
    ),
]
navigation = st.navigation(pages)
ui.warehouse_or_stop()
ui.sidebar_filters()
ui.browser_shims([page.url_path for page in pages], navigation.url_path)
navigation.run()
