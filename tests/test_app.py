"""The dashboard through Streamlit's AppTest: real app, real model, real store."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from geonews import charts
from geonews.filters import Filters, from_query_params

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 180  # the first run loads the spaCy model and the gazetteer

ARTICLE = (
    "Israeli Prime Minister Benjamin Netanyahu met President Vladimir Putin in Sochi on "
    "Thursday. Moscow condemned his vow to annex the Jordan Valley, and Putin spoke of Syria."
)


@pytest.fixture(autouse=True)
def _navigation_reruns_the_entrypoint(monkeypatch):
    """Work around an AppTest (1.67) bug: it sets ``PagesManager.uses_pages_directory``
    again on every run because a ``pages/`` folder exists, so every run after the first
    executes the page file alone (the v1 multipage way): app.py, its st.navigation and
    the sidebar never run again. The real server runs app.py every time (browser
    tests), so keep the flag False as st.navigation does."""
    init = PagesManager.__init__

    def patched(self, *args, **kwargs):
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", patched)


def new_session() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


@pytest.fixture
def app(db_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("GEONEWS_DB", str(db_path))
    monkeypatch.chdir(ROOT)
    return new_session()


def analyze(at: AppTest, text: str) -> AppTest:
    at.text_area(key="analyze_text").input(text)
    submit(at)
    return at


def submit(at: AppTest) -> None:
    (button,) = [b for b in at.button if b.label == "Analyze"]
    button.click()
    at.run()
    assert not at.exception


def metric(at: AppTest, label: str) -> str:
    """A sidebar count."""
    return next(m.value for m in at.sidebar.metric if m.label == label)


def frame_with(at: AppTest, column: str):
    return next(df.value for df in at.dataframe if column in df.value.columns)


def test_app_starts_on_analyze_with_empty_corpus(app):
    assert app.title[0].value == "Analyze"
    assert metric(app, "Articles") == "0"
    assert app.text_area(key="analyze_text").value == ""


def test_analyze_shows_entities_places_and_map(app):
    analyze(app, ARTICLE)
    assert not app.error
    entities = frame_with(app, "entity")
    assert list(entities.columns) == ["text", "label", "entity", "count"]
    persons = set(entities.loc[entities["label"] == "PERSON", "entity"])
    assert "Vladimir Putin" in persons
    assert entities.loc[entities["text"] == "Putin", "count"].sum() >= 1
    places = frame_with(app, "reason")
    assert {"name", "kind", "country", "lat", "lon", "confidence", "reason"} <= set(places.columns)
    assert len(figures(app)) >= 1
    html = "".join(h.proto.body for h in app.get("html"))
    assert "<mark" in html and "Netanyahu" in html


def test_add_to_corpus_then_already_stored(app):
    analyze(app, ARTICLE)
    app.button(key="analyze_add").click()
    app.run()
    assert [s.value for s in app.success] == ["Added to the corpus."]
    assert metric(new_session(), "Articles") == "1"
    app.button(key="analyze_add").click()
    app.run()
    assert "Already stored in the corpus." in [i.value for i in app.info]
    assert metric(new_session(), "Articles") == "1"

    app.switch_page("pages/corpus.py")
    app.run()
    assert not app.exception
    assert app.title[0].value == "Corpus"
    assert "title" in frame_with(app, "n_entities").columns


def test_empty_text_shows_the_typed_error(app):
    analyze(app, "   \n ")
    assert [e.value for e in app.error] == [
        "The article has no text: paste or upload some text to analyse."
    ]
    assert not [df for df in app.dataframe]


def test_too_large_text_shows_the_limit(app, monkeypatch):
    monkeypatch.setenv("GEONEWS_MAX_CHARS", "40")
    analyze(app, ARTICLE)
    (error,) = app.error
    assert "the limit is 40" in error.value


def test_uploads_several_articles_and_lists_bad_lines(app):
    lines = [
        json.dumps(
            {"id": "a1", "title": "Sochi talks", "text": ARTICLE, "published": "2019-09-12"}
        ),
        "{not json",
        json.dumps({"id": "a2", "title": "Kyiv", "text": "Ukraine's president spoke in Kyiv."}),
    ]
    uploader = app.file_uploader(key="analyze_files")
    uploader.upload("batch.jsonl", "\n".join(lines).encode(), "application/jsonl")
    uploader.upload("scan.txt", b"%PDF-1.4\x00\x01\x02binary", "text/plain")
    submit(app)
    warnings = [w.value for w in app.warning]
    assert any("batch.jsonl" in w and "line 2" in w for w in warnings), warnings
    assert any("scan.txt" in e.value and "binary" in e.value for e in app.error)
    pick = app.selectbox(key="analyze_pick")
    assert pick.options == ["1. Sochi talks", "2. Kyiv"]
    pick.select_index(1).run()
    assert app.subheader[0].value == "Kyiv"


def test_title_and_publication_date_are_used(app):
    app.text_input(key="analyze_title").input("Sochi talks")
    app.date_input(key="analyze_published").set_value(dt.date(2019, 9, 12))
    analyze(app, ARTICLE)
    assert app.subheader[0].value == "Sochi talks"
    assert any("published 2019-09-12" in c.value for c in app.caption)


def test_corpus_page_when_empty(app):
    app.switch_page("pages/corpus.py")
    app.run()
    assert not app.exception
    assert any("corpus is empty" in i.value for i in app.info)


# -- the corpus pages, on a store holding 20 analysed sample articles -----------------

PAGES = {
    "analyze": "Analyze",
    "map": "Map",
    "timeline": "Timeline",
    "network": "Network",
    "entities": "Entities",
    "corpus": "Corpus",
}


@pytest.fixture
def seeded(sample_db, monkeypatch):
    """Open the app on a page of the seeded store, with URL query parameters."""
    monkeypatch.setenv("GEONEWS_DB", str(sample_db))
    monkeypatch.chdir(ROOT)

    def open_page(page: str = "analyze", **params) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
        at.query_params.update(params)
        at.run()
        assert not at.exception, at.exception
        if page != "analyze":
            go(at, page)
        return at

    return open_page


def go(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == PAGES[page]
    return at


def figures(at: AppTest) -> list[dict]:
    """The plotly figures the page drew (charts update in place: components.plotly_view)."""
    return [
        json.loads(json.loads(c.proto.json)["spec"])
        for c in at.get("bidi_component")
        if c.proto.component_name == "geonews.plot"
    ]


def ys(trace: dict) -> list:
    """A trace's y values (plotly sends numeric arrays base64-encoded)."""
    y = trace["y"]
    if isinstance(y, dict):
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]).tolist()
    return list(y)


def infos(at: AppTest) -> list[str]:
    return [i.value for i in at.info]


def current(at: AppTest) -> Filters:
    return at.session_state["_filters_current"]


# tables without selection carry no key: know them by a column of their own
KEYLESS = {"map_places": "place_id", "map_countries": "iso3"}


def table(at: AppTest, key: str):
    if key in KEYLESS:
        return frame_with(at, KEYLESS[key])
    return next(df.value for df in at.dataframe if df.key == key)


def test_every_page_shows_the_corpus(seeded):
    at = seeded("map")
    (fig,) = figures(at)
    assert fig["data"][0]["type"] == "scattergeo"
    places = table(at, "map_places")
    assert {"Moscow", "Russia", "Kyiv"} <= set(places["name"])
    assert (places["mentions"] >= 1).all()

    go(at, "timeline")
    (timelines,) = figures(at)  # one chart: reported, happened, mentions over time
    published, events, *per_entity = timelines["data"]
    assert sum(ys(published)) == 20, "articles by publication date, on the first axis"
    assert events["xaxis"] == "x2" and sum(ys(events)) > 0, "mentioned dates, on their own"
    assert "happened" in json.dumps(timelines["layout"]["annotations"])
    assert len(per_entity) == 3, "mentions over time of the three top entities"
    assert {t["xaxis"] for t in per_entity} == {"x3"}
    assert timelines["layout"]["xaxis3"]["matches"] == "x", "zooms with the publication axis"

    go(at, "network")
    (graph,) = figures(at)  # only the open tab is drawn
    assert any(t.get("mode", "").startswith("markers") for t in graph["data"])
    at.session_state["network_view"] = "Heatmap"
    at.run()
    (heat,) = figures(at)
    assert heat["data"][0]["type"] == "heatmap"
    assert at.query_params["view"] == "heatmap", "the open tab is in the link"
    pairs = table(at, "network_pairs")
    assert len(pairs) > 5 and (pairs["count"] >= 1).all()
    assert any('class="geonews-evidence"' in h.proto.body for h in at.get("html"))

    go(at, "entities")
    entities = table(at, "entities_table")
    assert {"Vladimir Putin", "Moscow", "United Nations"} <= set(entities["name"])

    go(at, "corpus")
    assert len(table(at, "corpus_articles")) == 20
    assert not at.error


@pytest.mark.parametrize("page", ["map", "timeline", "network", "entities", "corpus"])
def test_each_page_says_what_to_do_when_nothing_matches(seeded, page):
    at = seeded(page, q="no-such-words", source="Atlas Desk")
    assert any("No " in i and "clear the" in i for i in infos(at)), infos(at)
    assert not at.dataframe


def test_filters_round_trip_through_the_url(seeded):
    params = {
        "entity": "Vladimir Putin",
        "type": "PERSON,GPE",
        "country": "RU",
        "from": "2024-06-01",
        "to": "2024-09-30",
        "source": "Meridian Wire,Atlas Desk",
    }
    at = seeded("timeline", **params)
    want = from_query_params(params)
    assert current(at) == want
    assert at.query_params == want.to_query_params() == params
    assert not infos(at) or not any(i.startswith("Link:") for i in infos(at))

    # the widgets hold them, on every page, and a change goes back to the URL
    for page in ("map", "network", "entities", "corpus", "analyze"):
        go(at, page)
        assert current(at) == want and at.query_params == params
    go(at, "corpus")
    assert set(table(at, "corpus_articles")["source"]) <= {"Meridian Wire", "Atlas Desk"}
    at.sidebar.multiselect(key="f_sources").set_value(["Atlas Desk"]).run()
    assert at.query_params["source"] == "Atlas Desk"
    assert set(table(at, "corpus_articles")["source"]) == {"Atlas Desk"}
    at.sidebar.text_input(key="f_text").input("Sochi").run()
    assert at.query_params["q"] == "Sochi"

    # the link reproduces the same view in a new session
    again = seeded("corpus", **at.query_params)
    assert current(again) == current(at)
    assert table(again, "corpus_articles").equals(table(at, "corpus_articles"))

    # clearing goes back to the whole corpus and an empty address
    at.sidebar.button(key="f_clear").click().run()
    assert at.query_params == {} and current(at).is_empty
    assert len(table(at, "corpus_articles")) == 20


def test_view_settings_share_the_url_with_the_filters(seeded):
    at = seeded("map", layer="countries", country="IN")
    (fig,) = figures(at)
    assert fig["data"][0]["type"] == "choropleth"
    assert at.query_params == {"layer": "countries", "country": "IN"}
    assert list(table(at, "map_countries")["country_code"])[0] == "IN"


@pytest.mark.parametrize(
    ("page", "params", "widgets"),
    [
        ("map", {"layer": "countries"}, {"map_layer": "countries"}),
        ("map", {"color": "country_code"}, {"map_color": "country_code"}),
        (
            "timeline",
            {"freq": "month", "event_freq": "year"},
            {"timeline_freq": "month", "timeline_event_freq": "year"},
        ),
        (
            "network",
            {"scope": "article", "weight": "pmi", "top": "30"},
            {"network_scope": "article", "network_weight": "pmi", "network_top": 30},
        ),
        ("network", {"view": "heatmap"}, {"network_view": "Heatmap"}),
    ],
)
def test_each_page_reads_its_view_settings_from_the_url(seeded, page, params, widgets):
    at = seeded(page, **params, source="Atlas Desk")
    for key, value in widgets.items():
        assert at.session_state[key] == value, key
    assert at.query_params == {**params, "source": "Atlas Desk"}
    assert current(at) == Filters(sources=("Atlas Desk",))
    assert not [i for i in infos(at) if i.startswith("Link:")]


@pytest.mark.parametrize("page", ["map", "timeline", "network", "entities"])
def test_each_page_says_what_to_do_when_the_corpus_is_empty(app, page):
    go(app, page)
    assert any("corpus is empty" in i and "Analyze page" in i for i in infos(app)), infos(app)
    assert not app.dataframe


def test_invalid_params_are_ignored_with_a_note(seeded):
    # a shared link lands on its page; the notes show on that first run
    at = seeded(
        "analyze",
        **{
            "from": "2024-13-45",
            "to": "yesterday",
            "type": "PERSON,BOGUS",
            "country": "Russia",
            "place": "nope:1",
            "entity": "Nobody At All",
            "layer": "3d",
            "utm_source": "mail",
        },
    )
    notes = " ".join(infos(at))
    for bad in ("2024-13-45", "yesterday", "BOGUS", "Russia", "nope:1", "Nobody At All"):
        assert bad in notes, bad
    assert "utm_source" in notes
    assert current(at) == Filters(types=("PERSON",))
    assert at.query_params == {"type": "PERSON", "layer": "3d"}
    go(at, "map")
    assert at.query_params == {"type": "PERSON"}
    assert any("ignored layer='3d'" in i for i in infos(at)), infos(at)
    (fig,) = figures(at)
    assert fig["data"][0]["type"] == "scattergeo"  # the unknown layer fell back to points


def test_map_colours_places_by_the_filtered_entity(seeded, sample_db):
    from geonews import analysis
    from geonews.store import Store

    params = {"entity": "Vladimir Putin,Moscow", "color": "entity"}
    with Store.open(sample_db, read_only=True) as store:
        f = Filters(entities=("Vladimir Putin", "Moscow"))
        best = analysis.place_entities(store, f)
        located = analysis.place_counts(store, f)
    names = dict(zip(located["place_id"], located["name"], strict=True))
    at = seeded("map", **params)
    assert at.session_state["map_color"] == "entity"
    assert at.query_params == params
    assert not [i for i in infos(at) if i.startswith("Link:")]
    (fig,) = figures(at)
    # the legend names the filtered entities, and each point is where its entity says
    legend = {t["name"]: t for t in fig["data"]}
    assert (
        {"Vladimir Putin", "Moscow"} <= set(legend) <= {"Vladimir Putin", "Moscow", "other places"}
    )
    assert fig["layout"]["legend"]["title"]["text"] == "named most with"
    for entity in ("Vladimir Putin", "Moscow"):
        want = {names[p] for p in best.loc[best["entity"] == entity, "place_id"]}
        assert set(legend[entity]["text"]) == want, entity
    assert any(" with Vladimir Putin in " in h for h in legend["Vladimir Putin"]["hovertext"])
    assert any("filtered entity named with it most often" in c.value for c in at.caption)

    # no entity filtered: a hint, and the points go by kind
    at = seeded("map", color="entity")
    assert any("Filter on an entity to colour by it" in c.value for c in at.caption)
    (fig,) = figures(at)
    assert {t["name"] for t in fig["data"]} <= set(charts.KIND_COLORS)
    # an unknown colour is ignored with a note
    at = seeded("map", color="rainbow")
    assert any("ignored color='rainbow'" in i for i in infos(at)), infos(at)
    assert at.session_state["map_color"] == "kind"


def test_a_place_filter_narrows_every_page(seeded, sample_db):
    from geonews import analysis
    from geonews.store import Store

    with Store.open(sample_db, read_only=True) as store:
        moscow = set(analysis.articles(store, Filters(places=("gn:524901",)))["article_id"])
    assert 1 < len(moscow) < 20
    at = seeded("map")
    # a click on a point sets the place filter (pages/map.py, _on_click): the same widget
    at.sidebar.multiselect(key="f_places").set_value(["gn:524901"]).run()
    assert at.query_params == {"place": "gn:524901"}
    assert any("Filtered to Moscow" in i for i in infos(at))
    go(at, "corpus")
    assert set(table(at, "corpus_articles")["article_id"]) == moscow
    go(at, "timeline")
    assert sum(ys(figures(at)[0]["data"][0])) == len(moscow)
    go(at, "entities")
    assert table(at, "entities_table")["articles"].max() <= len(moscow)


def test_network_scope_and_weight_switches(seeded):
    at = seeded("network")
    by_sentence = table(at, "network_pairs")
    at.segmented_control(key="network_scope").set_value("article").run()
    assert at.query_params == {"scope": "article"}
    by_article = table(at, "network_pairs")
    assert len(by_article) > len(by_sentence)
    at.segmented_control(key="network_weight").set_value("pmi").run()
    assert at.query_params == {"scope": "article", "weight": "pmi"}
    by_pmi = table(at, "network_pairs")
    assert list(by_pmi["weight"]) == list(by_pmi["pmi"])
    assert list(by_pmi["weight"]) == sorted(by_pmi["weight"], reverse=True)
    at.number_input(key="network_min").set_value(3).run()
    assert (table(at, "network_pairs")["count"] >= 3).all()


def select_row(at: AppTest, key: str, row: int) -> None:
    at.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception


def test_entity_merge_and_rename_reach_every_page(seeded):
    at = seeded("entities")
    at.text_input(key="entities_search").input("Kremlin").run()
    assert list(table(at, "entities_table")["name"]) == ["Kremlin"]
    select_row(at, "entities_table", 0)
    at.selectbox(key="entities_merge_target").select("PLACE:russia").run()
    at.button(key="entities_merge").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Merged Kremlin into Russia."]

    at.text_input(key="entities_search").input("Russia").run()
    select_row(at, "entities_table", 0)
    assert table(at, "entities_table")["name"][0] == "Russia"
    at.text_input(key="entities_rename_PLACE:russia").input("Russian Federation").run()
    at.button(key="entities_rename").click().run()
    assert [s.value for s in at.success] == ["Renamed Russia to Russian Federation."]

    at.text_input(key="entities_search").input("").run()
    names = set(table(at, "entities_table")["name"])
    assert "Russian Federation" in names and not {"Kremlin", "Russia"} & names
    go(at, "network")
    at.segmented_control(key="network_scope").set_value("article").run()
    pairs = table(at, "network_pairs")
    named = set(pairs["source"]) | set(pairs["target"])
    assert "Russian Federation" in named and not {"Kremlin", "Russia"} & named
    go(at, "timeline")
    assert "Russian Federation" in at.multiselect(key="timeline_entities").options
    # the sidebar offers the new name, and a link with it works
    assert "Russian Federation" in at.sidebar.multiselect(key="f_entities").options
    fresh = seeded("corpus", entity="Russian Federation")
    assert 0 < len(table(fresh, "corpus_articles")) < 20


def test_the_first_run_after_a_change_updates_the_summaries(seeded, sample_db, sample_analyses):
    """After an ingest elsewhere, the first run shows the new count and leaves the
    store's summaries up to date (rebuilt by the sidebar, under a spinner)."""
    from geonews.store import Store

    with Store.open(sample_db) as store:
        store.add_many(sample_analyses[20:22])
        assert store.stale()
    at = seeded("map")
    assert metric(at, "Articles") == "22"
    with Store.open(sample_db) as store:  # (the app has it open: the same mode)
        assert not store.stale()
