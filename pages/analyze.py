"""Analyze: paste or upload articles, see their entities, places and map; store them."""

from __future__ import annotations

import dataclasses

import streamlit as st

from components import render, resources
from geonews import charts, geocoder, pipeline, sources
from geonews.errors import GeonewsError, ParseError
from geonews.models import Analysis, Article

UPLOAD_TYPES = ["txt", "html", "htm", "json", "jsonl", "csv"]
FEED_TYPES = ["xml", "rss", "atom"]
OPEN = "analyze_open"  # set by the Corpus page: the id of a stored article to open
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


def _pins() -> list:
    """The user's stored place corrections (applied to every new analysis)."""
    try:
        return resources.get_store().pins()
    except GeonewsError:
        return []


def _fetch(url: str) -> tuple[list[Article], list]:
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")):
        return [], [("error", "Give an http:// or https:// address to fetch.", [])]
    with st.status(f"Fetching {url}…", expanded=False) as status:
        try:
            article = sources.fetch_url(url)
        except GeonewsError as exc:
            status.update(label="Could not fetch the page", state="error")
            return [], [_problem(exc)]
        status.update(label=f"Fetched {_describe(article)}", state="complete")
    return [article], []


def _read_feed(url: str, upload, limit: int) -> tuple[list[Article], list]:
    url = url.strip()
    if upload is None and not url.lower().startswith(("http://", "https://")):
        return [], [("error", "Give the feed's http:// or https:// address, or upload it.", [])]
    what = upload.name if upload is not None else url
    with st.status(f"Reading the feed {what}…", expanded=False) as status:
        try:
            result = sources.read_feed(upload.getvalue() if upload is not None else url)
        except GeonewsError as exc:
            status.update(label="Could not read the feed", state="error")
            return [], [_problem(exc)]
        status.update(label=f"{len(result)} entries in {what}", state="complete")
    problems = []
    if result.errors:
        problems.append(
            ("warning", f"{what}: {len(result.errors)} entries had no text.", result.errors)
        )
    if not len(result):
        problems.append(("error", f"{what}: the feed has no entries with text.", []))
    articles = list(result)
    if len(articles) > limit:
        problems.append(("info", f"Analysed the first {limit} of {len(articles)} entries.", []))
    return articles[:limit], problems


def _open_stored(article_id: str) -> tuple[list[Article], list]:
    """A stored article (from the Corpus page), analysed again to show the candidates."""
    article = resources.get_store().get_article(article_id)
    if article is None:
        return [], [("error", "That article is no longer stored.", [])]
    return [article], []


def _fallback(problems: list):
    """The online geocoder when GEONEWS_GEOCODER is set (answers cached in the store)."""
    try:
        return geocoder.from_settings(cache=geocoder.StoreCache(resources.get_store()))
    except GeonewsError as exc:
        problems.append(("warning", f"Online geocoder off: {exc} Places are offline only.", []))
        return None


def _analyze(articles: list[Article], problems: list) -> list[Analysis]:
    nlp_model = resources.get_pipeline()
    gazetteer = resources.get_gazetteer()
    pins = _pins()
    fallback = _fallback(problems)
    done: list[Analysis] = []

    def one(article: Article) -> None:
        try:
            done.append(
                pipeline.analyze(
                    article,
                    nlp_model=nlp_model,
                    gazetteer=gazetteer,
                    explain=True,
                    pins=pins,
                    fallback=fallback,
                )
            )
        except GeonewsError as exc:
            problems.append(("error", f"{_describe(article)}: {exc}", []))

    if len(articles) == 1:
        with st.spinner("Analysing the article…"):
            one(articles[0])
        _geocoder_problems(fallback, problems)
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
    _geocoder_problems(fallback, problems)
    return done


def _geocoder_problems(fallback, problems: list) -> None:
    message = fallback and geocoder.describe_failures(fallback.failures, provider=fallback.provider)
    if message:
        problems.append(("warning", message, []))


def _show_problems(problems: list) -> None:
    for kind, message, errors in problems:
        lines = "\n".join(f"- line {n}: {m}" if n else f"- {m}" for n, m in errors[:20])
        more = f"\n- … and {len(errors) - 20} more" if len(errors) > 20 else ""
        body = message + (f"\n\n{lines}{more}" if errors else "")
        {"error": st.error, "info": st.info}.get(kind, st.warning)(body)


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


def _candidate_label(c) -> str:
    where = f", {c.country_code}" if c.country_code else ""
    return f"{c.name} ({c.kind}{where}; {c.lat:.2f}, {c.lon:.2f}; score {c.score:.2f})"


def _correct_place(analysis: Analysis, *, key: str) -> None:
    """Pin a place name to another candidate or to coordinates (saved in the store)."""
    with st.expander("Correct a place"):
        places = analysis.places
        index = st.selectbox(
            "Place",
            range(len(places)),
            format_func=lambda i: (
                f"{places[i].name} ({places[i].kind}, {places[i].country_code or 'no country'})"
            ),
            key=f"{key}_pin_place",
        )
        place = places[index or 0]
        name = place.mentions[0].text if place.mentions else place.name
        st.caption(f"Geocoder: {place.reason or 'no reason given'}")
        how = st.radio(
            "Pin to",
            ["candidate", "coordinates"],
            format_func={"candidate": "another candidate", "coordinates": "coordinates"}.get,
            horizontal=True,
            key=f"{key}_pin_how",
        )
        candidate = lat = lon = None
        if how == "candidate":
            others = [c for c in place.candidates if c.id != place.id]
            if not others:
                st.info("The geocoder had no other candidate: pin it to coordinates instead.")
            else:
                candidate = st.selectbox(
                    "Candidate",
                    others,
                    format_func=_candidate_label,
                    key=f"{key}_pin_candidate",
                )
        else:
            c1, c2 = st.columns(2)
            lat = c1.number_input(
                "Latitude", -90.0, 90.0, float(place.lat or 0.0), key=f"{key}_pin_lat"
            )
            lon = c2.number_input(
                "Longitude", -180.0, 180.0, float(place.lon or 0.0), key=f"{key}_pin_lon"
            )
        stored = _stored(analysis)
        scope = st.radio(
            "Where",
            ["everywhere", "article"],
            format_func={
                "everywhere": f"every article that names {name!r}",
                "article": "this article only"
                + ("" if stored else " (add it to the corpus first)"),
            }.get,
            horizontal=True,
            key=f"{key}_pin_scope",
        )
        ready = candidate is not None or (how == "coordinates")
        if st.button(
            f"Pin {name!r}",
            key=f"{key}_pin_save",
            disabled=not ready or (scope == "article" and not stored),
        ):
            _save_pin(analysis, name, candidate, lat, lon, scope == "article")


def _stored(analysis: Analysis) -> bool:
    try:
        return resources.get_store().has(analysis.article.id)
    except GeonewsError:
        return False


def _save_pin(analysis: Analysis, name: str, candidate, lat, lon, this_article: bool) -> None:
    store = resources.get_store()
    try:
        if candidate is not None:
            pin = store.pin(
                name,
                place_id=candidate.id,
                article_id=analysis.article.id if this_article else None,
                gazetteer=resources.get_gazetteer(),
            )
        else:
            pin = store.pin(
                name,
                lat=lat,
                lon=lon,
                article_id=analysis.article.id if this_article else None,
            )
    except GeonewsError as exc:
        st.session_state[ADDED] = ("error", f"Could not pin {name!r}: {exc}")
    else:
        fixed = pipeline.enrich(analysis, pins=store.pins())
        results = st.session_state.get(RESULTS, [])
        st.session_state[RESULTS] = [fixed if r is analysis else r for r in results]
        st.session_state[ADDED] = (
            "success",
            f"Pinned {name!r} to {pin.place_name} ({pin.lat:.3f}, {pin.lon:.3f}); "
            "stored articles follow.",
        )
    st.rerun()


def _show_result(analysis: Analysis) -> None:
    article = analysis.article
    key = f"result_{article.id}"
    places_df = charts.places_frame(analysis.places)
    meta = [f"published {article.published.isoformat()}" if article.published else "no date"]
    meta += [f"{len(analysis.entities)} entities", f"{len(analysis.places)} places"]
    st.subheader(_describe(article))
    st.caption(" · ".join(meta))
    note = sources.script_note(article.text)
    if note:
        st.info(note)

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
    if analysis.places:
        _correct_place(analysis, key=key)
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

paste_tab, web_tab = st.tabs(["Paste or upload", "From the web (URL or RSS/Atom feed)"])
with paste_tab, st.form("analyze_form"):
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

with web_tab:
    with st.form("analyze_url_form"):
        url = st.text_input("Article URL", key="analyze_url", placeholder="https://…")
        fetch = st.form_submit_button("Fetch and analyze")
    with st.form("analyze_feed_form"):
        feed_url = st.text_input(
            "Feed URL (RSS or Atom)", key="analyze_feed_url", placeholder="https://…/feed.xml"
        )
        feed_file = st.file_uploader(
            "Or upload a feed file", type=FEED_TYPES, key="analyze_feed_file"
        )
        max_items = st.number_input("At most this many entries", 1, 200, 20, key="analyze_feed_max")
        read = st.form_submit_button("Read feed and analyze")
    st.caption("Fetching needs network access; everything else in geonews runs offline.")


def _run(articles: list[Article], problems: list) -> None:
    results = _analyze(articles, problems) if articles else []
    st.session_state[RESULTS] = results
    st.session_state[PROBLEMS] = problems
    st.session_state.pop(ADDED, None)


if submitted:
    _run(*_read_inputs(text or "", title or "", published, uploads))
elif fetch:
    _run(*_fetch(url or ""))
elif read:
    _run(*_read_feed(feed_url or "", feed_file, int(max_items)))
elif st.session_state.get(OPEN):
    _run(*_open_stored(st.session_state.pop(OPEN)))

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
