"""User pins: applied to analyses, to the stored corpus at once, on re-ingest; unpin."""

from __future__ import annotations

from pathlib import Path

import pytest

from geonews import corrections, pipeline
from geonews.corrections import Pin
from geonews.errors import InputError
from geonews.models import Analysis, Article, Mention, Place, Span
from geonews.store import Store

TEXT = (
    "Rebels left Springfield for Damascus on Monday. In Springfield, shops reopened, "
    "and the Jordan Valley stayed quiet."
)
OTHER = "Aid reached Springfield on Tuesday, officials in Damascus said."


def spans(text: str, name: str) -> list[Span]:
    out, i = [], text.find(name)
    while i >= 0:
        out.append(Span(i, i + len(name), name))
        i = text.find(name, i + 1)
    return out


def hand_analysis(text: str = TEXT, **article) -> Analysis:
    """As geo returns it: Springfield unresolved, Damascus placed, a GPE the geoparser missed."""
    places = [
        Place("Springfield", None, None, None, "unresolved", 0.12, spans(text, "Springfield"),
              None, "Unsure: 25 candidates."),
        Place("Damascus", 33.51, 36.29, "SY", "city", 0.9, spans(text, "Damascus"), "gn:170654",
              "capital"),
    ]  # fmt: skip
    entities = [
        Mention(s.text, "LOC", s.start, s.end, s.text) for s in spans(text, "Jordan Valley")
    ]
    return Analysis(article=Article(text, **article), entities=entities, places=places)


def pin(name, lat, lon, *, article_id=None, place_id=None, place_name=None) -> Pin:
    return Pin(
        name=name,
        place_id=place_id or corrections.coordinate_id(lat, lon),
        place_name=place_name or name,
        lat=lat,
        lon=lon,
        article_id=article_id,
    )


def by_name(analysis: Analysis) -> dict[str, Place]:
    return {p.name: p for p in analysis.places}


def test_apply_moves_every_matching_mention_and_leaves_the_input_alone():
    analysis = hand_analysis()
    out = corrections.apply(
        analysis, [pin("springfield", 39.8, -89.65, place_name="Springfield IL")]
    )
    places = by_name(out)
    sp = places["Springfield IL"]
    assert (sp.lat, sp.lon, sp.confidence) == (39.8, -89.65, 1.0)
    assert "pinned by user" in sp.reason
    assert [s.text for s in sp.mentions] == ["Springfield", "Springfield"]
    assert places["Damascus"].id == "gn:170654"  # untouched
    assert analysis.places[0].kind == "unresolved"  # the input is not changed
    assert [p.name for p in out.places] == ["Springfield IL", "Damascus"]  # text order


def test_apply_reaches_place_mentions_the_geoparser_left_out():
    out = corrections.apply(hand_analysis(), [pin("Jordan Valley", 32.0, 35.5)])
    jv = by_name(out)["Jordan Valley"]
    assert jv.mentions == spans(TEXT, "Jordan Valley") and jv.lat == 32.0


def test_article_pin_beats_corpus_wide_and_newest_wins():
    a = hand_analysis(id="a1")
    pins = [
        pin("Springfield", 42.1, -72.6, place_name="Springfield MA"),  # newest corpus-wide
        pin("Springfield", 39.8, -89.6, article_id="a1", place_name="Springfield IL"),
        pin("Springfield", 37.2, -93.3, place_name="Springfield MO"),  # older corpus-wide
    ]
    assert "Springfield IL" in by_name(corrections.apply(a, pins))
    other = hand_analysis(OTHER, id="b2")
    assert "Springfield MA" in by_name(corrections.apply(other, pins))
    assert corrections.apply(other, []) is other


def test_pin_to_a_gazetteer_place_merges_with_it():
    """Pinning "Springfield" to Damascus's id gives one place with all its mentions."""
    out = corrections.apply(
        hand_analysis(),
        [pin("Springfield", 33.51, 36.29, place_id="gn:170654", place_name="Damascus")],
    )
    (damascus,) = out.places
    assert len(damascus.mentions) == 3


def test_store_pin_applies_to_stored_articles_and_future_ones(db_path: Path, nlp_model, gazetteer):
    first = pipeline.analyze(Article(TEXT, id="a1"), nlp_model=nlp_model, gazetteer=gazetteer)
    assert by_name(first)["Springfield"].kind == "unresolved"  # the premise
    with Store.open(db_path) as store:
        store.add(first)
        before = store.stats()
        p = store.pin("Springfield", place_id="gn:4250542", gazetteer=gazetteer)
        assert p.lat is not None and p.place_name == "Springfield" and p.country_code == "US"
        assert store.stats() == before  # one place still; nothing duplicated
        stored = by_name(store.get_analysis("a1"))
        sp = stored["Springfield"]
        assert sp.id == "gn:4250542" and sp.reason.startswith("pinned by user")
        assert len(sp.mentions) == 2
        places = store.places().set_index("id")
        assert "name:springfield" not in places.index  # the unresolved row is gone
        # an article ingested later gets the pin too
        later = pipeline.analyze(
            Article(OTHER, id="b2"), nlp_model=nlp_model, gazetteer=gazetteer, pins=store.pins()
        )
        assert by_name(later)["Springfield"].id == "gn:4250542"


def test_store_pin_in_one_article_and_unpin(db_path: Path, nlp_model, gazetteer):
    a = pipeline.analyze(Article(TEXT, id="a1"), nlp_model=nlp_model, gazetteer=gazetteer)
    b = pipeline.analyze(Article(OTHER, id="b2"), nlp_model=nlp_model, gazetteer=gazetteer)
    with Store.open(db_path) as store:
        store.add_many([a, b])
        store.pin("Springfield", lat=39.8, lon=-89.65, place_name="Springfield, Illinois")
        store.pin("Springfield", lat=42.1, lon=-72.59, article_id="b2", kind="city")
        assert by_name(store.get_analysis("a1"))["Springfield, Illinois"].lat == 39.8
        assert by_name(store.get_analysis("b2"))["Springfield"].lat == 42.1
        assert [(p.name, p.article_id is None) for p in store.pins()] == [
            ("Springfield", False),
            ("Springfield", True),
        ]
        # removing b2's own pin: the corpus-wide one takes over there, nothing to re-analyse
        assert store.unpin("Springfield", article_id="b2") == []
        assert by_name(store.get_analysis("b2"))["Springfield, Illinois"].lat == 39.8
        # removing the corpus-wide one: both articles need a re-analysis
        stale = store.unpin("springfield")
        assert sorted(stale) == sorted([a.article.hash, b.article.hash])
        assert by_name(store.get_analysis("a1"))["Springfield"].lat is None
        assert store.pins() == []
        assert pipeline.reanalyze(store, stale, nlp_model=nlp_model, gazetteer=gazetteer) == 2
        again = store.get_analysis("a1")
        assert again.to_json() == a.to_json()  # back to the geoparser's own answer
        assert store.stats()["articles"] == 2
        with pytest.raises(InputError, match="No pin"):
            store.unpin("Springfield")


def test_stats_count_the_places_mentioned_not_a_pin_no_article_names(
    db_path: Path, nlp_model, gazetteer
):
    a = pipeline.analyze(Article(TEXT, id="a1"), nlp_model=nlp_model, gazetteer=gazetteer)
    b = pipeline.analyze(Article(OTHER, id="b2"), nlp_model=nlp_model, gazetteer=gazetteer)

    def mentioned(store) -> int:
        sql = "SELECT count(DISTINCT place_id) FROM mention_places"
        return store.cursor().execute(sql).fetchone()[0]

    with Store.open(db_path) as store:
        store.add_many([a, b])
        n = store.stats()["places"]
        assert n == mentioned(store) > 2
        store.pin("Tbilisi region", place_id="cc:GE", gazetteer=gazetteer)  # named nowhere
        assert "cc:GE" in set(store.places()["id"])  # kept, for the articles to come
        assert store.stats()["places"] == n
        store.pin("Springfield", lat=42.1, lon=-72.59, article_id="b2", kind="city")
        assert store.stats()["places"] == mentioned(store) == n + 1  # a place of its own
        store.unpin("Springfield", article_id="b2")
        assert store.stats()["places"] == mentioned(store) == n
        assert store.delete_article(a.article.hash)
        assert store.stats()["places"] == mentioned(store) < n


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"place_id": "gn:does-not-exist"}, "Unknown place id"),
        ({"lat": 95.0, "lon": 10.0}, "out of range"),
        ({"lat": 10.0}, "latitude and a longitude"),
        ({"lat": 1.0, "lon": 2.0, "article_id": "nope"}, "No stored article"),
        ({"lat": 1.0, "lon": 2.0, "kind": "planet"}, "Unknown kind"),
    ],
)
def test_pin_errors(db_path: Path, gazetteer, kwargs, message):
    with Store.open(db_path) as store:
        with pytest.raises(InputError, match=message):
            store.pin("Springfield", gazetteer=gazetteer, **kwargs)
        assert store.pins() == []
