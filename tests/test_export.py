"""Exports of a filtered view, and the whole corpus out and back in, on a real store."""

from __future__ import annotations

import csv
import io
import json

import pytest
from test_analysis import FILTERS, Corpus

from geonews import analysis, curation, export
from geonews.errors import InputError, ParseError
from geonews.filters import Filters
from geonews.store import Store

VIEWS = ["entity", "type", "country", "date-range", "search", "entity+type+source"]


def _csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


@pytest.fixture(scope="module")
def ro_store(sample_db_file):
    with Store.open(sample_db_file, read_only=True) as store:
        yield store


@pytest.fixture(scope="module")
def corpus(ro_store) -> Corpus:
    return Corpus.read(ro_store)


@pytest.mark.parametrize("name", VIEWS)
def test_view_exports_hold_exactly_the_filtered_rows(ro_store, corpus, name):
    f = FILTERS[name]
    view = corpus.in_view(f)

    data, filename, mime = export.export_view(ro_store, f, "articles", "csv")
    assert (filename, mime) == ("geonews-articles.csv", "text/csv")
    assert {r["article_id"] for r in _csv(data)} == view
    data, _, mime = export.export_view(ro_store, f, "articles", "json")
    rows = json.loads(data)
    assert mime == "application/json" and {r["article_id"] for r in rows} == view
    assert all(isinstance(r["published"], str) for r in rows)

    mentions = corpus.mentions_in_view(f)
    rows = _csv(export.export_view(ro_store, f, "mentions", "csv")[0])
    assert len(rows) == len(mentions)
    assert {r["article_id"] for r in rows} <= view
    if f.types:
        assert {r["label"] for r in rows} <= set(f.types)
    got = sorted((r["article_id"], int(r["start"]), r["text"]) for r in rows)
    assert got == sorted((m["article_id"], m["start"], m["text"]) for m in mentions)
    rows = json.loads(export.export_view(ro_store, f, "mentions", "json")[0])
    assert len(rows) == len(mentions)

    table = analysis.entity_table(ro_store, f, limit=10_000)
    rows = _csv(export.export_view(ro_store, f, "entities", "csv")[0])
    assert [(r["entity_id"], int(r["mentions"])) for r in rows] == list(
        zip(table["entity_id"], table["mentions"], strict=True)
    )

    places = analysis.place_counts(ro_store, f)
    rows = json.loads(export.export_view(ro_store, f, "places", "json")[0])
    assert [(r["place_id"], r["mentions"]) for r in rows] == list(
        zip(places["place_id"], places["mentions"], strict=True)
    )
    data, filename, mime = export.export_view(ro_store, f, "places", "geojson")
    assert (filename, mime) == ("geonews-places.geojson", "application/geo+json")
    geo = json.loads(data)
    assert geo["type"] == "FeatureCollection"
    assert [x["id"] for x in geo["features"]] == list(places["place_id"])
    for feature, row in zip(geo["features"], places.itertuples(), strict=True):
        assert feature["geometry"] == {"type": "Point", "coordinates": [row.lon, row.lat]}
        assert feature["properties"]["mentions"] == row.mentions
        assert feature["properties"]["name"] == row.name


def test_view_exports_of_nothing_are_empty_but_valid(ro_store):
    f = Filters(text="zzz-no-such-words")
    assert _csv(export.export_view(ro_store, f, "mentions", "csv")[0]) == []
    assert json.loads(export.export_view(ro_store, f, "entities", "json")[0]) == []
    assert json.loads(export.export_view(ro_store, f, "places", "geojson")[0])["features"] == []
    header = export.export_view(ro_store, f, "articles", "csv")[0].decode().splitlines()[0]
    assert "article_id" in header


def test_unknown_exports_are_refused(ro_store):
    with pytest.raises(InputError):
        export.export_view(ro_store, Filters(), "sentences", "csv")
    with pytest.raises(InputError):
        export.export_view(ro_store, Filters(), "mentions", "geojson")
    with pytest.raises(InputError):
        export.export_view(ro_store, Filters(), "places", "xlsx")


# -- the whole corpus -----------------------------------------------------------------

TABLES = {
    "articles": "id",
    "entities": "id",
    "mentions": 'article_id, start, "end", label, text',
    "places": "id",
    "mention_places": 'article_id, start, "end", place_id, text',
    "dates": 'article_id, start, "end", text',
    "geocode_overrides": "id",
    "geocode_cache": "provider, query",
    "entity_curation": "seq",
}


def dump(store) -> dict[str, list[tuple]]:
    cur = store.cursor()
    return {
        t: cur.execute(f"SELECT * FROM {t} ORDER BY {key}").fetchall() for t, key in TABLES.items()
    }


def curate_and_pin(store) -> None:
    """Give the store some of everything the user can change."""
    curation.merge(store, "GROUP:russian", "PLACE:russia")
    curation.rename(store, "ORG:united nations", "UN")
    curation.split_alias(store, "ORG:european union", "EU")
    store.pin("Georgia", lat=32.9, lon=-83.4, place_name="Georgia (U.S. state)", kind="admin")
    aid = store.query("SELECT id FROM articles ORDER BY published LIMIT 1").iloc[0, 0]
    store.pin("Kyiv", place_id="cc:UA", article_id=aid)
    store.geocode_cache_put("nominatim", "somewhere", 1.5, 2.5, '{"lat": 1.5}')
    store.geocode_cache_put("nominatim", "nowhere", None, None, "null")
    cur = store.cursor()  # an entity and a place no article refers to (kept by a pin)
    cur.execute("INSERT INTO entities VALUES ('ORG:lonely', 'Lonely Org', 'ORG')")


def test_export_then_import_into_a_fresh_store_is_lossless(sample_store, tmp_path):
    curate_and_pin(sample_store)
    before = dump(sample_store)
    assert all(before[t] for t in TABLES), [t for t in TABLES if not before[t]]
    path = tmp_path / "corpus.jsonl"
    assert export.export_corpus(sample_store, path) == 20

    with Store.open(tmp_path / "fresh.duckdb") as fresh:
        assert export.import_corpus(fresh, path) == (20, 0)
        after = dump(fresh)
        for table in TABLES:
            assert after[table] == before[table], table
        # and the views read the same
        f = Filters(countries=("US",))
        assert analysis.entity_table(fresh, f).equals(analysis.entity_table(sample_store, f))
        assert analysis.place_counts(fresh, Filters()).equals(
            analysis.place_counts(sample_store, Filters())
        )
        # importing it again adds nothing and duplicates no curation, pin or cache row
        assert export.import_corpus(fresh, path) == (0, 20)
        assert dump(fresh) == after
        # a new pin after the import gets a fresh id
        pin = fresh.pin("Atlanta", lat=33.7, lon=-84.4)
        assert pin.id > max(r[0] for r in after["geocode_overrides"])


def test_export_to_a_binary_buffer_and_import_from_bytes(sample_store, tmp_path):
    buf = io.BytesIO()
    export.export_corpus(sample_store, buf)
    lines = buf.getvalue().decode().splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "geonews-corpus" and len(lines) == 21
    first = json.loads(lines[1])
    assert {"id", "hash", "text", "entities", "places", "dates", "published"} <= set(first)
    with Store.open(tmp_path / "other.duckdb") as other:
        assert export.import_corpus(other, io.BytesIO(buf.getvalue())) == (20, 0)
        assert other.stats() == sample_store.stats()


def test_import_into_a_store_with_its_own_curation_applies_it(sample_db_file, tmp_path):
    with Store.open(sample_db_file, read_only=True) as src:
        buf = io.BytesIO()
        export.export_corpus(src, buf)
    with Store.open(tmp_path / "mine.duckdb") as mine:
        # the curation log refers to entities by id, so it applies to what arrives later
        mine.cursor().execute("INSERT INTO entities VALUES ('ORG:united nations', 'UN', 'ORG')")
        curation.rename(mine, "ORG:united nations", "The UN")
        export.import_corpus(mine, io.BytesIO(buf.getvalue()))
        names = set(analysis.entity_table(mine, Filters())["name"])
        assert "The UN" in names and "United Nations" not in names


def test_a_broken_corpus_file_imports_nothing(sample_store, tmp_path):
    buf = io.BytesIO()
    export.export_corpus(sample_store, buf)
    lines = buf.getvalue().decode().splitlines()
    lines.insert(3, "{not json")
    with Store.open(tmp_path / "fresh.duckdb") as fresh:
        with pytest.raises(ParseError) as err:
            export.import_corpus(fresh, io.StringIO("\n".join(lines)))
        assert err.value.errors[0][0] == 4
        assert fresh.stats()["articles"] == 0
