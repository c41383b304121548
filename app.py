"""geonews dashboard: `streamlit run app.py` (or `python -m geonews serve`)."""

from __future__ import annotations

import streamlit as st

from components import resources
from geonews.errors import GeonewsError

st.set_page_config(page_title="geonews", layout="wide")

page = st.navigation(
    [
        st.Page("pages/analyze.py", title="Analyze", default=True),
        st.Page("pages/corpus.py", title="Corpus"),
    ]
)

with st.sidebar:
    st.markdown("### Corpus")
    try:
        stats = resources.get_store().stats()
    except GeonewsError as exc:
        st.warning(f"The corpus store is unavailable: {exc}")
    else:
        for name, value in stats.items():
            if isinstance(value, int | float):
                st.metric(name.replace("_", " ").capitalize(), f"{value:,}")

page.run()
