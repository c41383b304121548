"""Entity curation (merge, rename, split an alias off) on a real store: it persists, every
view follows it, and it survives re-ingesting and ingesting new articles."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from geonews import analysis, curation, export, pipeline
from geonews.errors import InputError
from geonews.filters import Filters
from geonews.models import Article
from geonews.store import Store

US_ARTICLE = Article(
    text=(
        "WASHINGTON (Test Desk) - US officials met their Mexican counterparts on Monday. "
        "The United States said the talks on migration would continue next month."
    ),
    title="US and Mexico talk migration",
    source="Test Desk",
    published=dt.date(2024, 10, 20),
)


def names(store, f: Filters | None = None) -> dict[str, int]:
    t = analysis.entity_table(store, f or Filters(), limit=10_000)
    return dict(zip(t["name"], t["mentions"], strict=True))


def view_articles(store, f: Filters) -> set[str]:
    return set(analysis.articles(store, f)["article_id"])


def entity_rows(store) -> tuple[list, list]:
    cur = store.cursor()
    return (
        cur.execute("SELECT * FROM entities ORDER BY id").fetchall(),
        cur.execute(
            'SELECT article_id, start, "end", text, label, entity, entity_id FROM mentions '
            'ORDER BY article_id, start, "end", label'
        ).fetchall(),
    )


def test_merge_moves_the_mentions_and_every_view_follows(sample_db):
    with Store.open(sample_db) as store:
        before = names(store)
        kremlin, russia = before["Kremlin"], before["Russia"]
        with_either = view_articles(store, Filters(entities=("Kremlin",))) | view_articles(
            store, Filters(entities=("Russia",))
        )
        assert curation.merge(store, "ORG:kremlin", "PLACE:russia") == kremlin

    with Store.open(sample_db) as store:  # persisted
        after = names(store)
        assert "Kremlin" not in after and after["Russia"] == kremlin + russia
        assert view_articles(store, Filters(entities=("Russia",))) == with_either
        assert view_articles(store, Filters(entities=("Kremlin",))) == set()
        assert view_articles(store, Filters(entities=("ORG:kremlin",))) == set()
        assert "Kremlin" not in analysis.options(store)["entities"]
        pairs = analysis.cooccurrence(store, Filters(), scope="article", top_n=50)
        assert "Kremlin" not in set(pairs["source"]) | set(pairs["target"])
        timeline = analysis.entity_timeline(store, Filters(), entities=["Russia"])
        assert int(timeline["mentions"].sum()) == kremlin + russia
        rows = json.loads(export.export_view(store, Filters(), "mentions", "json")[0])
        assert {r["entity"] for r in rows if r["text"] == "Kremlin"} == {"Russia"}
        assert {r["entity_id"] for r in rows if r["text"] == "Kremlin"} == {"PLACE:russia"}
        assert store.get_analysis(next(iter(with_either))) is not None
        log = curation.history(store)
        assert list(log["op"]) == ["merge"] and log["target_id"][0] == "PLACE:russia"


def test_rename_shows_the_new_name_everywhere(sample_store):
    moscow = view_articles(sample_store, Filters(entities=("Moscow",)))
    count = names(sample_store)["Moscow"]
    curation.rename(sample_store, "PLACE:moscow", "  Moskva  ")
    assert names(sample_store)["Moskva"] == count and "Moscow" not in names(sample_store)
    assert view_articles(sample_store, Filters(entities=("moskva",))) == moscow
    assert view_articles(sample_store, Filters(entities=("Moscow",))) == set()
    evidence = analysis.pair_evidence(sample_store, Filters(), "Vladimir Putin", "Moskva")
    assert not evidence.empty
    pairs = analysis.cooccurrence(sample_store, Filters(), scope="article", top_n=50)
    assert "Moskva" in set(pairs["source"]) | set(pairs["target"])
    mentions = sample_store.get_analysis(next(iter(moscow))).entities
    assert {m.entity for m in mentions if m.text.casefold() == "moscow"} == {"Moskva"}
    # the place layer keeps the gazetteer's name: it is a place, not the entity
    places = analysis.place_counts(sample_store, Filters())
    assert "Moscow" in set(places["name"])


def test_split_alias_makes_an_entity_of_its_own(sample_store):
    texts = dict(
        curation.aliases(sample_store, "PLACE:united states").itertuples(index=False, name=None)
    )
    assert texts.get("US") and texts.get("United States")
    new_id = curation.split_alias(sample_store, "PLACE:united states", "us")
    assert new_id == "PLACE:us"
    after = analysis.entity_table(sample_store, Filters(), limit=10_000).set_index("entity_id")
    assert after.loc["PLACE:us", "mentions"] == texts["US"]
    assert after.loc["PLACE:us", "label"] == "PLACE"
    assert after.loc["PLACE:us", "name"] == "us"
    rest = dict(curation.aliases(sample_store, "PLACE:united states").itertuples(index=False))
    assert "US" not in rest and rest["United States"] == texts["United States"]
    # splitting the same alias of another entity gets a fresh id
    curation.rename(sample_store, "PLACE:us", "US")
    assert view_articles(sample_store, Filters(entities=("US",)))


def test_curation_refuses_what_makes_no_sense(sample_store):
    with pytest.raises(InputError):
        curation.merge(sample_store, "PLACE:russia", "PLACE:russia")
    with pytest.raises(InputError):
        curation.merge(sample_store, "PLACE:nowhere", "PLACE:russia")
    with pytest.raises(InputError):
        curation.rename(sample_store, "PLACE:russia", "   ")
    with pytest.raises(InputError):
        curation.rename(sample_store, "PLACE:russia", "x" * 201)
    with pytest.raises(InputError):
        curation.split_alias(sample_store, "PLACE:russia", "Muscovy")
    with pytest.raises(InputError, match="rename it instead"):
        curation.split_alias(sample_store, "PLACE:moscow", "MOSCOW")
    assert curation.history(sample_store).empty


def curate(store) -> None:
    curation.merge(store, "ORG:kremlin", "PLACE:russia")
    curation.rename(store, "PLACE:moscow", "Moskva")
    curation.split_alias(store, "PLACE:united states", "US")
    curation.rename(store, "PLACE:russia", "Russian Federation")


def test_curation_survives_re_ingest_of_the_same_articles(sample_store, sample_analyses):
    curate(sample_store)
    entities, mentions = entity_rows(sample_store)
    assert sample_store.add_many(sample_analyses[:20]) == (0, 20)
    assert entity_rows(sample_store) == (entities, mentions)
    # a re-analysis stores the articles over themselves: the curation is replayed
    assert sample_store.add_many(sample_analyses[:20], replace=True) == (20, 0)
    assert entity_rows(sample_store) == (entities, mentions)
    got = names(sample_store)
    assert "Kremlin" not in got and "Moscow" not in got and "Russia" not in got
    assert got["Russian Federation"] > 0 and got["Moskva"] > 0 and got["US"] > 0


def test_curation_covers_articles_ingested_later(
    sample_store, sample_analyses, nlp_model, gazetteer
):
    curate(sample_store)
    before = names(sample_store)
    new = [
        *sample_analyses[20:],
        pipeline.analyze(US_ARTICLE, nlp_model=nlp_model, gazetteer=gazetteer),
    ]
    crimea = new[1]  # names the Kremlin, Moscow and Russia
    said = {m.text for m in crimea.entities}
    assert {"Kremlin", "Moscow", "Russia"} <= said
    assert sample_store.add_many(new) == (3, 0)

    after = names(sample_store)
    assert "Kremlin" not in after and "Moscow" not in after and "Russia" not in after
    n = sum(1 for m in crimea.entities if m.text in ("Kremlin", "Russia"))
    assert after["Russian Federation"] == before["Russian Federation"] + n
    assert after["Moskva"] == before["Moskva"] + sum(
        1 for m in crimea.entities if m.text == "Moscow"
    )
    ids = {r[0] for r in entity_rows(sample_store)[0]}
    assert "ORG:kremlin" not in ids
    stored = sample_store.get_analysis(crimea.article.hash)
    assert {m.entity for m in stored.entities if m.text == "Kremlin"} == {"Russian Federation"}
    us = sample_store.get_analysis(US_ARTICLE.hash)
    by_text = {m.text: m.entity for m in us.entities}
    assert by_text["US"] == "US" and by_text["United States"] == "United States"
    assert US_ARTICLE.hash in view_articles(sample_store, Filters(entities=("US",)))
