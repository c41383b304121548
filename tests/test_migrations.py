"""Schema versions: an old store is upgraded in place and stays readable; a newer one is
refused. The version-1 store is made from the schema SQL of version 1, kept verbatim in
tests/data/store_schema_v1.sql, and filled with real analyses of the sample articles."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from geonews import analysis, store
from geonews.errors import StoreError
from geonews.filters import Filters
from geonews.store import SCHEMA_VERSION, Store

V1_SCHEMA = Path(__file__).parent / "data" / "store_schema_v1.sql"
# Every article in view, but not "no filter": the queries read the base tables.
EVERYTHING = Filters(date_from=dt.date(1900, 1, 1))
V1_TABLES = [*store.TABLES]


def make_v1_store(path: Path, analyses) -> dict[str, int]:
    """A store as version 1 wrote it, holding ``analyses``; its row counts per table."""
    con = duckdb.connect(str(path))
    con.execute(V1_SCHEMA.read_text())
    tables = store.analysis_tables(analyses)
    for name in V1_TABLES:
        cols = ", ".join(f'"{c}"' for c in tables[name].column_names)
        con.register("_rows", tables[name])
        verb = "INSERT OR IGNORE" if name in ("entities", "places") else "INSERT"
        con.execute(f"{verb} INTO {name} ({cols}) SELECT {cols} FROM _rows")
        con.unregister("_rows")
    con.execute(
        "INSERT INTO geocode_overrides (name, place_id, lat, lon) VALUES ('Kyiv', 'x', 50.4, 30.5)"
    )
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in V1_TABLES}
    con.close()
    return counts


@pytest.fixture
def v1_db(tmp_path, sample_analyses):
    path = tmp_path / "v1.duckdb"
    counts = make_v1_store(path, sample_analyses[:8])
    return path, counts


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal frames, rows in any order (equal counts may be ordered either way)."""
    key = [c for c in ("entity_id", "place_id", "country_code", "period", "source", "target")
           if c in a]  # fmt: skip
    a, b = (x.sort_values(key, kind="stable").reset_index(drop=True) for x in (a, b))
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_version_1_store_is_upgraded_in_place(v1_db):
    path, counts = v1_db
    with Store.open(path) as s:
        assert s.schema_version == SCHEMA_VERSION
        for table, n in counts.items():
            assert s.query(f"SELECT count(*) AS n FROM {table}")["n"][0] == n
        assert s.stats()["articles"] == 8
        assert len(s.overrides()) == 1
        versions = s.query("SELECT version FROM schema_version ORDER BY version")["version"]
        assert list(versions) == [1, SCHEMA_VERSION]
        # every dashboard query works, and the whole-corpus views read the pre-aggregates
        # that the upgraded store can now keep, with the same results as the base tables
        assert s.aggregate("agg_entities") == "agg_entities"
        _same(analysis.entity_table(s, Filters()), analysis.entity_table(s, EVERYTHING))
        _same(analysis.place_counts(s, Filters()), analysis.place_counts(s, EVERYTHING))
        _same(analysis.country_counts(s, Filters()), analysis.country_counts(s, EVERYTHING))
        _same(analysis.event_timeline(s, Filters()), analysis.event_timeline(s, EVERYTHING))
        for scope in analysis.SCOPES:
            _same(
                analysis.cooccurrence(s, Filters(), scope=scope, weight="pmi"),
                analysis.cooccurrence(s, EVERYTHING, scope=scope, weight="pmi"),
            )
        top = analysis.top_entities(s, Filters(), n=5)
        assert len(top) == 5
        assert not analysis.articles(s, Filters()).empty
        assert not analysis.publication_timeline(s, Filters()).empty
        assert analysis.options(s)["entities"][0] == top["name"][0]
    # opening it again changes nothing
    with Store.open(path) as s:
        assert list(s.query("SELECT version FROM schema_version")["version"]) == [1, SCHEMA_VERSION]


def test_version_1_store_read_only_is_read_as_it_is(v1_db):
    path, counts = v1_db
    with Store.open(path, read_only=True) as s:
        assert s.schema_version == 1
        assert s.stats()["articles"] == 8
        assert s.aggregate("agg_entities") is None  # cannot keep them: base tables
        table = analysis.entity_table(s, Filters())
        assert (
            table["mentions"].sum()
            == counts["mentions"]
            - s.query("SELECT count(*) AS n FROM mentions WHERE entity_id IS NULL")["n"][0]
        )
        assert not analysis.cooccurrence(s, Filters()).empty
    with Store.open(path) as s:
        assert s.schema_version == SCHEMA_VERSION


def test_aggregates_follow_the_corpus(v1_db, sample_analyses):
    path, _ = v1_db
    with Store.open(path) as s:
        before = analysis.entity_table(s, Filters())
        rev = s.revision()
        s.add_many(sample_analyses[8:12])
        assert s.revision() != rev
        after = analysis.entity_table(s, Filters())
        assert after["mentions"].sum() > before["mentions"].sum()
        _same(after, analysis.entity_table(s, EVERYTHING))
        state = s.query("SELECT revision FROM aggregate_state WHERE name = 'agg_entities'")
        assert state["revision"][0].startswith(s.revision() + "|")
        gone = s.query("SELECT id FROM articles LIMIT 1")["id"][0]
        assert s.delete_article(gone)
        _same(analysis.place_counts(s, Filters()), analysis.place_counts(s, EVERYTHING))
    with pytest.raises(StoreError, match="Unknown aggregate"):
        Store.open(path).aggregate("articles")


@pytest.mark.parametrize("read_only", [False, True])
def test_a_newer_store_is_refused(tmp_path, read_only):
    path = tmp_path / "future.duckdb"
    Store.open(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version (version) VALUES (?)", [SCHEMA_VERSION + 1])
    con.close()
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}.*Upgrade geonews"):
        Store.open(path, read_only=read_only)
    # refused, not changed
    con = duckdb.connect(str(path), read_only=True)
    assert (
        con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == SCHEMA_VERSION + 1
    )
    con.close()


def test_every_migration_step_is_defined():
    assert sorted(store.MIGRATIONS) == list(range(2, SCHEMA_VERSION + 1))
