"""The opt-in steps of the pipeline: pins and the online fallback, with the real model."""

from __future__ import annotations

from pathlib import Path

from test_geocoder import Nominatim

from geonews import geocoder, pipeline
from geonews.models import Article
from geonews.store import Store

TEXT = "Protesters gathered in Springfield on Monday while officials in Damascus met."


def places(analysis) -> dict:
    return {p.mentions[0].text: p for p in analysis.places}


def test_offline_by_default_and_unchanged(nlp_model, gazetteer, monkeypatch):
    monkeypatch.delenv("GEONEWS_GEOCODER", raising=False)
    article = Article(TEXT)
    plain = pipeline.analyze(article, nlp_model=nlp_model, gazetteer=gazetteer)
    assert places(plain)["Springfield"].kind == "unresolved"
    same = pipeline.analyze(article, nlp_model=nlp_model, gazetteer=gazetteer, pins=[])
    assert same.to_json() == plain.to_json()
    (many,) = pipeline.analyze_many([article], nlp_model=nlp_model, gazetteer=gazetteer)
    assert many.to_json() == plain.to_json()


def test_pins_then_fallback(nlp_model, gazetteer, monkeypatch, db_path: Path):
    """A pin wins over the geocoder: pinned names are never asked about online."""
    monkeypatch.setenv("GEONEWS_GEOCODER", "nominatim")
    monkeypatch.setenv("GEONEWS_GEOCODER_SCHEME", "http")
    monkeypatch.setenv("GEONEWS_GEOCODER_MIN_DELAY", "0")
    text = TEXT + " Later they marched to Richmond."
    richmond = {"lat": "37.5385", "lon": "-77.4343", "osm_type": "relation", "osm_id": 206859,
                "addresstype": "city", "name": "Richmond",
                "display_name": "Richmond, Virginia, United States",
                "address": {"country_code": "us"}}  # fmt: skip
    with Nominatim(answers={"richmond": richmond}) as server, Store.open(db_path) as store:
        monkeypatch.setenv("GEONEWS_GEOCODER_DOMAIN", f"127.0.0.1:{server.port}")
        store.pin("Springfield", place_id="gn:4250542", gazetteer=gazetteer)
        fallback = geocoder.from_settings(cache=geocoder.StoreCache(store))
        (analysis,) = pipeline.analyze_many(
            [Article(text)],
            nlp_model=nlp_model,
            gazetteer=gazetteer,
            pins=store.pins(),
            fallback=fallback,
        )
        got = places(analysis)
        assert got["Springfield"].id == "gn:4250542"
        assert "pinned by user" in got["Springfield"].reason
        assert got["Damascus"].id == "gn:170654"
        asked = [r["q"] for r in server.requests]
        assert "Springfield" not in asked
        assert got["Richmond"].lat == 37.5385 and got["Richmond"].country_code == "US"
        assert got["Richmond"].id == "osm:relation:206859"
        assert asked == ["Richmond"]
        assert fallback.failures == []
        # stored, and the answer is in the store's cache for the next run
        store.add(analysis)
        assert places(store.get_analysis(analysis.article.id))["Richmond"].lat == 37.5385
        assert store.geocode_cache_get(fallback.provider, "richmond") is not None
