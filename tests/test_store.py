"""The DuckDB store: round trips in a real file, dedup, transactions, threads."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import duckdb
import pytest

from geonews import pipeline
from geonews.errors import StoreError
from geonews.models import Analysis, Article, DateMention, Mention, Place, Span
from geonews.store import SCHEMA_VERSION, Store, entity_id

TEXT_A = (
    "Vladimir Putin met Benjamin Netanyahu in Sochi on Thursday. "
    "Putin said Russia and Israel would keep talking."
)
TEXT_B = "Netanyahu returned to Jerusalem on Friday, 13 September 2019."


def make_analysis(text: str, *, title=None, published=None, id="", lat=43.6) -> Analysis:
    """A hand-built analysis (independent of what the NLP stage finds today)."""
    article = Article(text=text, id=id, title=title, published=published)
    mentions = []
    for surface, label, entity in (
        ("Vladimir Putin", "PERSON", "Vladimir Putin"),
        ("Putin", "PERSON", "Vladimir Putin"),
        ("Netanyahu", "PERSON", "Benjamin Netanyahu"),
        ("Sochi", "GPE", "Sochi"),
        ("Thursday", "DATE", "Thursday"),
    ):
        start = text.find(surface)
        if start >= 0:
            mentions.append(Mention(surface, label, start, start + len(surface), entity, 0))
    places = []
    if "Sochi" in text:
        s = text.find("Sochi")
        places.append(
            Place(
                "Sochi",
                lat,
                39.73,
                "RU",
                "city",
                0.9,
                [Span(s, s + 5, "Sochi")],
                "gn:491422",
                "only one",
            )
        )
    dates = []
    if "Thursday" in text:
        s = text.find("Thursday")
        dates.append(DateMention("Thursday", s, s + 8, "2019-09-12", "day"))
    return Analysis(article=article, entities=mentions, places=places, dates=dates)


def test_open_creates_parent_dirs_and_schema(tmp_path: Path):
    path = tmp_path / "deep" / "er" / "corpus.duckdb"
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.stats() == {
            "articles": 0,
            "mentions": 0,
            "entities": 0,
            "places": 0,
            "dates": 0,
        }
    assert path.exists()
    con = duckdb.connect(str(path), read_only=True)
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    con.close()
    assert {
        "schema_version",
        "articles",
        "mentions",
        "entities",
        "places",
        "mention_places",
        "dates",
        "geocode_overrides",
        "geocode_cache",
    } <= tables


def test_default_path_from_settings(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("GEONEWS_DB", str(tmp_path / "env" / "g.duckdb"))
    with Store.open() as store:
        assert store.path == tmp_path / "env" / "g.duckdb"
    assert (tmp_path / "env" / "g.duckdb").exists()


def test_round_trip_real_pipeline(db_path: Path, nlp_model, gazetteer):
    article = Article(TEXT_A, title="Talks", published=dt.date(2019, 9, 12), url="http://e/a")
    analysis = pipeline.analyze(article, nlp_model=nlp_model, gazetteer=gazetteer)
    with Store.open(db_path) as store:
        assert store.add(analysis) is True
        assert store.has(article.id)
        stored = store.get_analysis(article.id)
    assert stored.to_json() == analysis.to_json()


def test_add_readd_stats_and_reopen(db_path: Path):
    a = make_analysis(TEXT_A, title="Talks", published=dt.date(2019, 9, 12), id="ext-1")
    b = make_analysis(TEXT_B, published=dt.date(2019, 9, 13))
    with Store.open(db_path) as store:
        assert store.add(a) is True
        before = store.stats()
        assert store.add(a) is False
        assert store.add(make_analysis(TEXT_A, title="Talks", id="other-id")) is False
        assert store.stats() == before
        assert before == {"articles": 1, "mentions": 5, "entities": 3, "places": 1, "dates": 1}
        assert store.add_many([a, b, b]) == (1, 2)
        stats = store.stats()
    assert stats["articles"] == 2
    assert stats["entities"] == 3  # Putin, Netanyahu, Sochi: corpus-wide canonical
    with Store.open(db_path) as store:
        assert store.stats() == stats
        assert store.has("ext-1") and store.has(a.article.hash) and not store.has("nope")
        got = store.get_analysis("ext-1")
        assert got.article == a.article
        assert got.to_json() == a.to_json()
        assert store.get_analysis("nope") is None
        df = store.articles()
        assert list(df["ref"]) == [b.article.hash, "ext-1"]  # newest publication first
        assert {"id", "title", "url", "source", "published", "added_at"} <= set(df.columns)
        ents = store.entities().set_index("name")
        assert ents.loc["Vladimir Putin", "mentions"] == 2
        assert ents.loc["Benjamin Netanyahu", "articles"] == 2
        assert str(ents.loc["Benjamin Netanyahu", "last_seen"])[:10] == "2019-09-13"
        places = store.places()
        assert list(places["id"]) == ["gn:491422"]


def test_entity_ids_are_canonical():
    assert entity_id("Vladimir Putin", "PERSON") == entity_id("vladimir  putin", "PERSON")
    assert entity_id("Georgia", "GPE") == entity_id("Georgia", "LOC")
    assert entity_id("Georgia", "GPE") != entity_id("Georgia", "PERSON")
    assert entity_id("Thursday", "DATE") is None


def test_failed_batch_rolls_back(db_path: Path):
    good = make_analysis(TEXT_A)
    other = make_analysis(TEXT_B)
    bad = make_analysis(TEXT_A + " Again in Sochi.", lat="not a number")
    with Store.open(db_path) as store:
        assert store.add(good)
        before = store.stats()
        with pytest.raises(StoreError):
            store.add_many([other, bad])  # fails after articles and mentions were written
        assert store.stats() == before
        assert not store.has(other.article.id)
        assert store.has(good.article.id)
        assert store.add(other) is True  # the store still works after the rollback
    with Store.open(db_path) as store:
        assert store.stats()["articles"] == 2


def test_delete_article_removes_orphans(db_path: Path):
    a = make_analysis(TEXT_A)
    b = make_analysis(TEXT_B)
    with Store.open(db_path) as store:
        store.add_many([a, b])
        assert store.delete_article(a.article.id) is True
        assert store.delete_article(a.article.id) is False
        assert store.stats() == {
            "articles": 1,
            "mentions": 1,
            "entities": 1,
            "places": 0,
            "dates": 0,
        }
        assert store.add(a) is True  # can be ingested again


def test_overrides(db_path: Path):
    with Store.open(db_path) as store:
        store.set_override("Georgia", place_id="cc:GE")
        store.set_override("Springfield", lat=39.8, lon=-89.6, article_id="x")
        df = store.overrides()
        assert list(df["name"]) == ["Springfield", "Georgia"]
        with pytest.raises(StoreError):
            store.set_override("Nowhere")


def test_threads_read_while_writing(db_path: Path):
    analyses = [make_analysis(f"{TEXT_A} Item {i}.") for i in range(20)]
    errors = []
    with Store.open(db_path) as store:

        def writer(chunk):
            try:
                for a in chunk:
                    store.add(a)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        def reader():
            try:
                for _ in range(20):
                    store.stats()
                    store.articles()
            except Exception as exc:  # pragma: no cover
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(analyses[i::2],)) for i in range(2)]
        threads += [threading.Thread(target=reader) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert store.stats()["articles"] == 20


def test_open_errors(tmp_path: Path):
    not_db = tmp_path / "not.duckdb"
    not_db.write_text("this is not a database", encoding="utf-8")
    with pytest.raises(StoreError):
        Store.open(not_db)
    with pytest.raises(StoreError, match="No geonews database"):
        Store.open(tmp_path / "missing.duckdb", read_only=True)
    path = tmp_path / "new.duckdb"
    Store.open(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version (version) VALUES (99)")
    con.close()
    with pytest.raises(StoreError, match="schema version 99"):
        Store.open(path)


def test_read_only_and_closed(db_path: Path):
    with Store.open(db_path) as store:
        store.add(make_analysis(TEXT_A))
    with Store.open(db_path, read_only=True) as store:
        assert store.stats()["articles"] == 1
        with pytest.raises(StoreError):
            store.add(make_analysis(TEXT_B))
    with pytest.raises(StoreError):
        store.stats()


def test_add_many_replace_stores_a_reanalysis(db_path: Path):
    a = make_analysis(TEXT_A, id="ext-1")
    moved = make_analysis(TEXT_A, id="ext-1", lat=44.0)
    with Store.open(db_path) as store:
        store.add(a)
        before = store.stats()
        assert store.add_many([moved]) == (0, 1)  # not replaced by default
        assert store.add_many([moved], replace=True) == (1, 0)
        assert store.stats() == before  # nothing doubled
        assert store.get_analysis("ext-1").places[0].lat == 43.6  # places keep the first row
        assert store.get_analysis("ext-1").to_json()["places"][0]["id"] == "gn:491422"


def test_geocode_cache_round_trip(db_path: Path):
    with Store.open(db_path) as store:
        assert store.geocode_cache_get("nominatim", "zabadani") is None
        store.geocode_cache_put("nominatim", "zabadani", 33.7, 36.1, '{"name": "Zabadani"}')
        store.geocode_cache_put("nominatim", "nowhere", None, None, "null")
    with Store.open(db_path) as store:
        assert store.geocode_cache_get("nominatim", "zabadani") == '{"name": "Zabadani"}'
        assert store.geocode_cache_get("nominatim", "nowhere") == "null"
        assert store.geocode_cache_get("photon", "zabadani") is None
