"""The dashboard through Streamlit's AppTest: real app, real model, real store."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 180  # the first run loads the spaCy model and the gazetteer

ARTICLE = (
    "Israeli Prime Minister Benjamin Netanyahu met President Vladimir Putin in Sochi on "
    "Thursday. Moscow condemned his vow to annex the Jordan Valley, and Putin spoke of Syria."
)


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
    """A sidebar count. AppTest (1.67) keeps the sidebar of st.navigation apps only on a
    session's first run, so read it from a fresh session."""
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
    assert len(app.get("plotly_chart")) >= 1
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
