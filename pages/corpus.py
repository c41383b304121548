"""Corpus: what is stored, its places on a map, and any stored article's analysis."""

from __future__ import annotations

import streamlit as st

from components import render, resources
from geonews.errors import GeonewsError

st.title("Corpus")

try:
    store = resources.get_store()
    stats = store.stats()
    articles = store.articles()
except GeonewsError as exc:
    st.error(f"The corpus store is unavailable: {exc}")
    st.stop()

cols = st.columns(len(stats) or 1)
for col, (name, value) in zip(cols, stats.items(), strict=False):
    col.metric(name.capitalize(), f"{value:,}")

if articles.empty:
    st.info("The corpus is empty: analyse an article on the Analyze page and add it to the corpus.")
    st.stop()

st.markdown("#### Places in the corpus")
places = store.places().rename(columns={"country_code": "country"})
render.show_map(places, key="corpus")

st.markdown("#### Articles")
st.caption("Select a row to see its stored analysis.")
event = st.dataframe(
    articles[["title", "published", "source", "chars", "mentions", "places", "added_at", "id"]],
    hide_index=True,
    width="stretch",
    key="corpus_articles",
    on_select="rerun",
    selection_mode="single-row",
    column_config={"id": st.column_config.TextColumn("id", width="small")},
)

rows = event.selection.rows if event else []
if rows:
    article_id = articles.iloc[rows[0]]["id"]
    analysis = store.get_analysis(article_id)
    if analysis is None:
        st.warning("That article is no longer stored.")
    else:
        st.subheader(analysis.article.title or article_id)
        left, right = st.columns([3, 2], gap="large")
        with left:
            render.show_article(analysis)
        with right:
            render.show_entities(analysis, key=f"corpus_{article_id}")
