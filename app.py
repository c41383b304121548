"""geonews dashboard: `streamlit run app.py` (or `python -m geonews serve`).

One sidebar of filters (components.filters) is drawn here for every page and kept
in the URL, so a copied address reproduces the view on any page.
"""

from __future__ import annotations

import streamlit as st

from components import data, filters, resources
from geonews.errors import GeonewsError

st.set_page_config(page_title="geonews", layout="wide")

PAGES = [
    st.Page("pages/analyze.py", title="Analyze", default=True),
    st.Page("pages/map.py", title="Map"),
    st.Page("pages/timeline.py", title="Timeline"),
    st.Page("pages/network.py", title="Network"),
    st.Page("pages/entities.py", title="Entities"),
    st.Page("pages/corpus.py", title="Corpus"),
]
page = st.navigation(PAGES)

try:
    store = resources.get_store()
    filters.sidebar(store)
    stats = data.stats(store)
except GeonewsError as exc:
    st.sidebar.warning(f"The corpus store is unavailable: {exc}")
else:
    with st.sidebar:
        st.markdown("### Corpus")
        cols = st.columns(2)
        for i, (name, value) in enumerate(stats.items()):
            if isinstance(value, int | float):
                cols[i % 2].metric(name.replace("_", " ").capitalize(), f"{value:,}")

page.run()
