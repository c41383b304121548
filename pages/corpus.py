"""Corpus: the stored articles (filtered); open one in Analyze, delete, export and import."""

from __future__ import annotations

import datetime as dt
import io

import streamlit as st

from components import data, filters, render, resources
from geonews import export
from geonews.errors import GeonewsError

DONE = "corpus_done"
OPEN = "analyze_open"  # read by pages/analyze.py

st.title("Corpus")
store = resources.require_store()
f = filters.current()

kind, message = st.session_state.pop(DONE, (None, None))
if message:
    {"success": st.success, "error": st.error, "info": st.info}[kind](message)

stats = data.stats(store)
cols = st.columns(len(stats) or 1)
for col, (name, value) in zip(cols, stats.items(), strict=False):
    col.metric(name.capitalize(), f"{value:,}")


def _import_corpus() -> None:
    upload = st.session_state.get("corpus_import_file")
    if upload is None:
        return
    try:
        added, skipped = export.import_corpus(store, io.BytesIO(upload.getvalue()))
    except (GeonewsError, ValueError) as exc:
        st.session_state[DONE] = ("error", f"Could not import {upload.name}: {exc}")
    else:
        st.session_state[DONE] = (
            "success" if added else "info",
            f"Imported {added} article(s) from {upload.name}; {skipped} already stored.",
        )


def _export_corpus() -> bytes:
    buffer = io.BytesIO()
    export.export_corpus(store, buffer)
    return buffer.getvalue()


with st.expander("Export or import the whole corpus"):
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download the corpus",
        data=_export_corpus,
        file_name=f"geonews-corpus-{dt.date.today().isoformat()}.jsonl",
        mime="application/jsonl",
        key="corpus_export",
        on_click="ignore",
        help="Every stored article with its analysis, to import into another geonews.",
    )
    c2.file_uploader("Import a corpus export", type=["jsonl", "json"], key="corpus_import_file")
    c2.button("Import", key="corpus_import", on_click=_import_corpus)

articles = data.query("articles", store, f, limit=500)
if articles.empty:
    if stats.get("articles", 0) == 0:
        st.info(
            "The corpus is empty: analyse an article on the Analyze page and add it to the "
            "corpus, or import a corpus export above."
        )
    else:
        filters.empty_state(f, "articles")
    st.stop()

st.markdown("#### Articles")
st.caption(
    f"{len(articles)} article(s) match the filters. Select one to open it in Analyze "
    "(with the geocoder's candidates, to correct its places) or to delete it."
)
event = st.dataframe(
    articles[["title", "source", "published", "n_entities", "n_places", "url", "article_id"]],
    hide_index=True,
    width="stretch",
    key="corpus_articles",
    on_select="rerun",
    selection_mode="single-row",
    column_config={
        "n_entities": st.column_config.NumberColumn("entities", format="%d"),
        "n_places": st.column_config.NumberColumn("places", format="%d"),
        "url": st.column_config.LinkColumn("url", width="small"),
        "article_id": st.column_config.TextColumn("id", width="small"),
    },
)

rows = event.selection.rows if event else []
if rows:
    row = articles.iloc[rows[0]]
    article_id = row["article_id"]
    st.subheader(row["title"] or article_id)
    c1, c2, _ = st.columns([1, 1, 3])
    if c1.button("Open in Analyze", key="corpus_open", type="primary"):
        st.session_state[OPEN] = article_id
        st.switch_page("pages/analyze.py", query_params=f.to_query_params())
    confirm = c2.toggle("Delete…", key=f"corpus_confirm_{article_id}")
    if confirm and st.button("Delete this article for good", key="corpus_delete", type="secondary"):
        try:
            gone = store.delete_article(article_id)
        except GeonewsError as exc:
            st.session_state[DONE] = ("error", f"Could not delete: {exc}")
        else:
            st.session_state[DONE] = (
                ("success", f"Deleted {row['title'] or article_id}.")
                if gone
                else ("info", "That article was already gone.")
            )
        st.rerun()
    analysis = store.get_analysis(article_id)
    if analysis is None:
        st.warning("That article is no longer stored.")
    else:
        left, right = st.columns([3, 2], gap="large")
        with left:
            render.show_article(analysis)
        with right:
            render.show_entities(analysis, key=f"corpus_{article_id}")

render.exports(store, f, key="corpus", what=("articles", "mentions", "entities"))
