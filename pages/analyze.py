"""Analyze: paste or upload articles, see their entities, places and map; store them."""

from __future__ import annotations

import dataclasses

import streamlit as st

from components import render, resources
from geonews import charts, pipeline, sources
from geonews.errors import GeonewsError, ParseError
from geonews.models import Analysis, Article

UPLOAD_TYPES = ["txt", "html", "htm", "json", "jsonl", "csv"]
RESULTS = "analyze_results"
PROBLEMS = "analyze_problems"
ADDED = "analyze_added"


def _first_line(text: str, limit: int = 200) -> str | None:
    """The title of a pasted article without one: its first non-empty line (as for .txt)."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), None)
    return line[:limit] if line else None


def _describe(article: Article) -> str:
    if article.title:
        return article.title
    first = article.text.strip().splitlines()[0] if article.text.strip() else "(empty)"
    return first[:80] + ("…" if len(first) > 80 else "")


def _problem(exc: GeonewsError) -> tuple[str, str, list[tuple[int, str]]]:
    errors = exc.errors if isinstance(exc, ParseError) else []
    return ("error", str(exc), errors)


def _read_inputs(text: str, title: str, published, uploads) -> tuple[list[Article], list]:
    """Articles from the pasted text and the uploaded files, and the problems met."""
    articles: list[Article] = []
    problems: list = []
    if text.strip() or not uploads:
        try:
            title = title.strip() or _first_line(text)
            articles.append(sources.read_text(text, title=title, published=published))
        except GeonewsError as exc:
            problems.append(_problem(exc))
    for upload in uploads or []:
        try:
            result = sources.read_bytes(upload.getvalue(), upload.name)
        except GeonewsError as exc:
            problems.append(_problem(exc))
            continue
        if result.errors:
            problems.append(
                (
                    "warning",
                    f"{upload.name}: {len(result.errors)} record(s) could not be read; "
                    f"{len(result)} read.",
                    result.errors,
                )
            )
        for article in result:
            if published and article.published is None:
                article = dataclasses.replace(article, published=published)
            articles.append(article)
    return articles, problems


def _analyze(articles: list[Article], problems: list) -> list[Analysis]:
    nlp_model = resources.get_pipeline()
    gazetteer = resources.get_gazetteer()
    done: list[Analysis] = []

    def one(article: Article) -> None:
        try:
            done.append(pipeline.analyze(article, nlp_model=nlp_model, gazetteer=gazetteer))
        except GeonewsError as exc:
            problems.append(("error", f"{_describe(article)}: {exc}", []))

    if len(articles) == 1:
        with st.spinner("Analysing the article…"):
            one(articles[0])
        return done
    with st.status(f"Analysing {len(articles)} articles…", expanded=True) as status:
        bar = st.progress(0.0)
        for i, article in enumerate(articles, start=1):
            st.write(f"{i}/{len(articles)}: {_describe(article)}")
            one(article)
            bar.progress(i / len(articles))
        status.update(
            label=f"Analysed {len(done)} of {len(articles)} articles",
            state="complete",
            expanded=False,
        )
    return done


def _show_problems(problems: list) -> None:
    for kind, message, errors in problems:
        lines = "\n".join(f"- line {n}: {m}" if n else f"- {m}" for n, m in errors[:20])
        more = f"\n- … and {len(errors) - 20} more" if len(errors) > 20 else ""
        body = message + (f"\n\n{lines}{more}" if errors else "")
        (st.error if kind == "error" else st.warning)(body)


def _add_to_corpus(analyses: list[Analysis]) -> None:
    """Store the analyses, then rerun so the sidebar counts include them."""
    try:
        store = resources.get_store()
        added = [store.add(a) for a in analyses]
    except GeonewsError as exc:
        st.session_state[ADDED] = ("error", f"Could not store: {exc}")
        return
    n_new = sum(added)
    if len(analyses) == 1:
        message = "Added to the corpus." if n_new else "Already stored in the corpus."
    else:
        message = f"Added {n_new} article(s) to the corpus; {len(analyses) - n_new} already stored."
    st.session_state[ADDED] = ("success" if n_new else "info", message)
    st.rerun()


def _show_added() -> None:
    kind, message = st.session_state.pop(ADDED, (None, None))
    if message:
        {"error": st.error, "success": st.success, "info": st.info}[kind](message)


def _show_result(analysis: Analysis) -> None:
    article = analysis.article
    key = f"result_{article.id}"
    places_df = charts.places_frame(analysis.places)
    meta = [f"published {article.published.isoformat()}" if article.published else "no date"]
    meta += [f"{len(analysis.entities)} entities", f"{len(analysis.places)} places"]
    st.subheader(_describe(article))
    st.caption(" · ".join(meta))

    st.markdown("#### Map")
    render.show_map(places_df, key=key, fit=places_df["lat"].notna().sum() >= 2)

    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown("#### Article")
        labels = sorted({m.label for m in analysis.entities})
        shown = st.multiselect("Highlight", labels, default=labels, key=f"{key}_labels")
        render.show_article(analysis, labels=shown)
    with right:
        st.markdown("#### Entities")
        render.show_entities(analysis, key=key)
        render.show_entity_bar(analysis, key=key)

    st.markdown("#### Places")
    render.show_places(places_df, key=key)
    if analysis.dates:
        st.markdown("#### Dates")
        st.dataframe(
            [d.to_json() for d in analysis.dates],
            hide_index=True,
            width="stretch",
            key=f"{key}_dates",
        )


st.title("Analyze")
st.caption(
    "Paste an article or upload files (txt, html, json, jsonl, csv). geonews finds the people, "
    "organisations, places, groups and dates, and geocodes every place offline."
)

with st.form("analyze_form"):
    text = st.text_area(
        "Article text", key="analyze_text", height=220, placeholder="Paste an article…"
    )
    c1, c2 = st.columns([3, 1])
    title = c1.text_input("Title (optional)", key="analyze_title")
    published = c2.date_input(
        "Published (optional)", value=None, key="analyze_published", format="YYYY-MM-DD"
    )
    uploads = st.file_uploader(
        "Or upload files", type=UPLOAD_TYPES, accept_multiple_files=True, key="analyze_files"
    )
    submitted = st.form_submit_button("Analyze", type="primary")

if submitted:
    articles, problems = _read_inputs(text or "", title or "", published, uploads)
    results = _analyze(articles, problems) if articles else []
    st.session_state[RESULTS] = results
    st.session_state[PROBLEMS] = problems
    st.session_state.pop(ADDED, None)

_show_problems(st.session_state.get(PROBLEMS, []))
results: list[Analysis] = st.session_state.get(RESULTS, [])
if results:
    if st.button(
        "Add to corpus" if len(results) == 1 else f"Add all {len(results)} to corpus",
        key="analyze_add",
    ):
        _add_to_corpus(results)
    _show_added()
    if len(results) > 1:
        index = st.selectbox(
            "Article",
            range(len(results)),
            format_func=lambda i: f"{i + 1}. {_describe(results[i].article)}",
            key="analyze_pick",
        )
        _show_result(results[index or 0])
    else:
        _show_result(results[0])
