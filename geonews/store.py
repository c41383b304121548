"""The corpus in DuckDB: articles, entity mentions, places and dates.

    with Store.open(path) as store:      # default: settings.db_path()
        store.add(analysis)              # False if the same content is stored already
        store.add_many(analyses)         # one transaction: (added, skipped)
        store.stats()                    # {"articles", "mentions", "entities", "places", ...}

Tables (``SCHEMA_VERSION`` 2; columns ``start``/``"end"`` are character offsets
into ``articles.text``; ``"end"`` is a SQL keyword, so quote it):

- ``articles(id, ref, title, url, source, published, text, added_at)``: ``id`` is
  the content hash (``Article.hash``), so re-ingesting changes nothing; ``ref``
  the article's own id as read (equal to ``id`` when it had none).
- ``entities(id, name, label)``: corpus-wide canonical entities. ``id`` is
  ``"<coarse label>:<canonical key>"``; coarse labels: PERSON, ORG, PLACE (GPE,
  LOC, FAC), GROUP (NORP), EVENT, OTHER. ``name`` the first canonical name seen.
- ``mentions(article_id, start, "end", text, label, entity, entity_id, sentence)``:
  every span, DATE and numbers included; ``entity_id`` is NULL for those.
- ``places(id, name, lat, lon, country_code, kind)``: ``id`` the gazetteer id, or
  ``"name:<key>"`` for a place without one.
- ``mention_places(article_id, place_id, start, "end", text, confidence, reason)``.
- ``dates(article_id, start, "end", text, date, precision)``.
- ``geocode_overrides(id, name, article_id, place_id, lat, lon, created_at, place_name,
  kind, country_code)``: the user's pins (``geonews.corrections``); ``article_id`` NULL
  for a corpus-wide pin.
- ``geocode_cache(provider, query, lat, lon, response, created_at)``: the online
  geocoder's answers (``geonews.geocoder``); ``query`` the normalised name,
  ``response`` the answer as JSON (``null``: nothing found). Failures are not kept.
- ``entity_curation(seq, op, entity_id, target_id, name, label, alias, created_at)``:
  the user's entity merges, renames and alias splits in order (``geonews.curation``),
  replayed on every article stored afterwards.
- view ``entity_summary(id, name, label, mentions, articles, first_seen, last_seen)``.
- ``aggregate_state(name, revision, built_at)`` and the ``agg_*`` tables of
  :data:`AGGREGATES`: whole-corpus counts for the dashboard's unfiltered views,
  built on first use and rebuilt when the corpus revision changes (:meth:`Store.aggregate`).
  The :data:`FACTS` among them (``agg_docs``, ``agg_de``, ``agg_es``, ...) number articles,
  entities and places and pre-group the mentions per article, for the FILTERED views;
  ``doc_numbers``, ``search_vocab`` and ``search_postings`` (the word index of the
  text search) are kept incrementally alongside (:func:`_sync_search`).

Versions: 1 the tables above; 2 adds ``aggregate_state``. An older store is upgraded
in place, in one transaction, when opened for writing (:data:`MIGRATIONS`); read-only,
it is read as it is. A store of a newer version is refused (StoreError).

Threads: reads use their own cursor; writes are serialised by a lock.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import duckdb
import pyarrow as pa

from geonews import corrections, settings
from geonews.corrections import Pin
from geonews.errors import InputError, StoreError, StoreLockedError
from geonews.models import Analysis, Article, DateMention, Mention, Place, Span

SCHEMA_VERSION = 2

# Labels that name something; numbers, dates and the like get no entity.
COARSE_LABELS = {
    "PERSON": "PERSON",
    "PER": "PERSON",
    "ORG": "ORG",
    "GPE": "PLACE",
    "LOC": "PLACE",
    "FAC": "PLACE",
    "NORP": "GROUP",
    "EVENT": "EVENT",
    "PRODUCT": "OTHER",
    "WORK_OF_ART": "OTHER",
    "LAW": "OTHER",
    "LANGUAGE": "OTHER",
    "MISC": "OTHER",
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id VARCHAR PRIMARY KEY,
    ref VARCHAR,
    title VARCHAR,
    url VARCHAR,
    source VARCHAR,
    published DATE,
    text VARCHAR NOT NULL,
    added_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS entities (
    id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    label VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS mentions (
    article_id VARCHAR NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    entity VARCHAR,
    entity_id VARCHAR,
    sentence INTEGER
);
CREATE TABLE IF NOT EXISTS places (
    id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    lat DOUBLE,
    lon DOUBLE,
    country_code VARCHAR,
    kind VARCHAR
);
CREATE TABLE IF NOT EXISTS mention_places (
    article_id VARCHAR NOT NULL,
    place_id VARCHAR NOT NULL,
    start INTEGER,
    "end" INTEGER,
    text VARCHAR,
    confidence DOUBLE,
    reason VARCHAR
);
CREATE TABLE IF NOT EXISTS dates (
    article_id VARCHAR NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text VARCHAR NOT NULL,
    date DATE,
    precision VARCHAR
);
CREATE SEQUENCE IF NOT EXISTS geocode_overrides_seq;
CREATE TABLE IF NOT EXISTS geocode_overrides (
    id INTEGER PRIMARY KEY DEFAULT nextval('geocode_overrides_seq'),
    name VARCHAR NOT NULL,
    article_id VARCHAR,
    place_id VARCHAR,
    lat DOUBLE,
    lon DOUBLE,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
ALTER TABLE geocode_overrides ADD COLUMN IF NOT EXISTS place_name VARCHAR;
ALTER TABLE geocode_overrides ADD COLUMN IF NOT EXISTS kind VARCHAR;
ALTER TABLE geocode_overrides ADD COLUMN IF NOT EXISTS country_code VARCHAR;
CREATE TABLE IF NOT EXISTS geocode_cache (
    provider VARCHAR NOT NULL,
    query VARCHAR NOT NULL,
    lat DOUBLE,
    lon DOUBLE,
    response VARCHAR,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (provider, query)
);
CREATE TABLE IF NOT EXISTS entity_curation (
    seq INTEGER PRIMARY KEY,
    op VARCHAR NOT NULL,
    entity_id VARCHAR NOT NULL,
    target_id VARCHAR,
    name VARCHAR,
    label VARCHAR,
    alias VARCHAR,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE INDEX IF NOT EXISTS mentions_article ON mentions (article_id);
CREATE INDEX IF NOT EXISTS mentions_entity ON mentions (entity_id);
CREATE INDEX IF NOT EXISTS mention_places_article ON mention_places (article_id);
CREATE INDEX IF NOT EXISTS mention_places_place ON mention_places (place_id);
CREATE INDEX IF NOT EXISTS dates_article ON dates (article_id);
CREATE TABLE IF NOT EXISTS aggregate_state (
    name VARCHAR PRIMARY KEY,
    revision VARCHAR NOT NULL,
    built_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE OR REPLACE VIEW entity_summary AS
    SELECT e.id, e.name, e.label,
           count(*) AS mentions,
           count(DISTINCT m.article_id) AS articles,
           min(a.published) AS first_seen,
           max(a.published) AS last_seen
    FROM entities e
    JOIN mentions m ON m.entity_id = e.id
    JOIN articles a ON a.id = m.article_id
    GROUP BY e.id, e.name, e.label;
"""


# Schema upgrades: version -> the SQL that brings a store of the version before to it.
# Run in order, in the transaction that also runs _SCHEMA (whose statements are all
# idempotent), so a failed upgrade leaves the store as it was.
MIGRATIONS = {
    2: """CREATE TABLE IF NOT EXISTS aggregate_state (
        name VARCHAR PRIMARY KEY,
        revision VARCHAR NOT NULL,
        built_at TIMESTAMP NOT NULL DEFAULT current_timestamp)""",
}

# The entity mentions co-occurrence counts (``mentions`` rows naming an entity).
_EM = "SELECT article_id, sentence, entity_id FROM mentions WHERE entity_id IS NOT NULL AND label <> 'DATE'"
#: How many of the most mentioned entities ``agg_pairs`` keeps the pairs of.
AGG_TOP = 50

#: Whole-corpus pre-aggregates (table -> its SELECT), for the unfiltered views of
#: ``geonews.analysis``; see :meth:`Store.aggregate`.
AGGREGATES = {
    # every entity: mentions, articles, first and last publication date
    "agg_entities": """
        WITH g AS (SELECT article_id, entity_id, count(*) AS n FROM mentions
                   WHERE entity_id IS NOT NULL GROUP BY 1, 2)
        SELECT g.entity_id, sum(g.n)::BIGINT AS mentions, count(*) AS articles,
               min(a.published) AS first_seen, max(a.published) AS last_seen
        FROM g JOIN articles a ON a.id = g.article_id GROUP BY 1""",
    "agg_labels": "SELECT label, count(*) AS mentions FROM mentions GROUP BY 1",
    "agg_places": """
        WITH g AS (SELECT place_id, article_id, count(*) AS n FROM mention_places GROUP BY 1, 2)
        SELECT place_id, sum(n)::BIGINT AS mentions, count(*) AS articles FROM g GROUP BY 1""",
    "agg_countries": """
        WITH g AS (SELECT p.country_code, mp.article_id, count(*) AS n,
                          min(CASE WHEN p.kind = 'country' THEN p.name END) AS name
                   FROM mention_places mp JOIN places p ON p.id = mp.place_id
                   WHERE p.country_code IS NOT NULL GROUP BY 1, 2)
        SELECT country_code, sum(n)::BIGINT AS mentions, count(*) AS articles,
               min(name) AS stored_name FROM g GROUP BY 1""",
    # resolved dates per bucket of each frequency, coarser dates left out of finer buckets
    "agg_events": """
        WITH d AS (SELECT article_id, date, CASE coalesce(precision, 'day') WHEN 'day' THEN 0
                          WHEN 'month' THEN 2 WHEN 'year' THEN 3 END AS rank
                   FROM dates WHERE date IS NOT NULL),
        f(freq, rank) AS (VALUES ('day', 0), ('week', 1), ('month', 2), ('year', 3))
        SELECT f.freq, CAST(date_trunc(f.freq, d.date) AS DATE) AS period,
               count(*) AS mentions, count(DISTINCT d.article_id) AS articles
        FROM d JOIN f ON d.rank <= f.rank GROUP BY 1, 2""",
    # co-occurrence of the AGG_TOP most mentioned entities: pairs per scope, the units
    # (sentences, articles) naming each (entity_id NULL: the units naming any entity)
    "agg_pairs": f"""
        WITH em AS ({_EM}),
        top AS (SELECT entity_id FROM em GROUP BY 1 ORDER BY count(*) DESC, entity_id
                LIMIT {AGG_TOP}),
        su AS (SELECT DISTINCT article_id, sentence, entity_id FROM em
               WHERE entity_id IN (SELECT entity_id FROM top)),
        au AS (SELECT DISTINCT article_id, entity_id FROM su)
        SELECT 'sentence' AS scope, x.entity_id AS s, y.entity_id AS t, count(*) AS c
        FROM su x JOIN su y ON x.article_id = y.article_id AND x.sentence = y.sentence
         AND x.entity_id < y.entity_id GROUP BY 2, 3
        UNION ALL
        SELECT 'article', x.entity_id, y.entity_id, count(*)
        FROM au x JOIN au y ON x.article_id = y.article_id AND x.entity_id < y.entity_id
        GROUP BY 2, 3""",
    "agg_units": f"""
        WITH em AS ({_EM}),
        top AS (SELECT entity_id FROM em GROUP BY 1 ORDER BY count(*) DESC, entity_id
                LIMIT {AGG_TOP}),
        su AS (SELECT DISTINCT article_id, sentence, entity_id FROM em)
        SELECT 'sentence' AS scope, entity_id, count(*) AS n, NULL::BIGINT AS rank FROM su
        WHERE entity_id IN (SELECT entity_id FROM top) GROUP BY 2
        UNION ALL
        SELECT 'article', entity_id, count(DISTINCT article_id), NULL FROM su
        WHERE entity_id IN (SELECT entity_id FROM top) GROUP BY 2
        UNION ALL
        SELECT 'sentence', NULL, count(*), NULL FROM (SELECT DISTINCT article_id, sentence FROM su)
        UNION ALL
        SELECT 'article', NULL, count(DISTINCT article_id), NULL FROM su
        UNION ALL
        SELECT 'top', entity_id, NULL, row_number() OVER (ORDER BY n DESC, entity_id) FROM
        (SELECT entity_id, count(*) AS n FROM em GROUP BY 1 ORDER BY n DESC, entity_id
         LIMIT {AGG_TOP})""",
}


#: Integer-keyed facts of the whole corpus for the FILTERED views of ``geonews.analysis``
#: (table -> its SELECT, built in this order, all together in one transaction; see
#: :meth:`Store.aggregate`). Articles, entities and places get dense integer numbers
#: (``doc``, ``eid``, ``pidx``); mentions are pre-grouped per article so a filtered view
#: joins small integer rows instead of the base tables' string ids.
FACTS = {
    # every article: its (stable) number, publication date and source
    "agg_docs": """
        SELECT n.doc, a.id, a.published, a.source, a.added_at
        FROM articles a JOIN doc_numbers n ON n.id = a.id ORDER BY n.doc""",
    "agg_ents": """
        SELECT row_number() OVER (ORDER BY id)::INTEGER AS eid, id, name, lower(name) AS lname,
               label FROM entities ORDER BY eid""",
    "agg_pl": """
        SELECT row_number() OVER (ORDER BY id)::INTEGER AS pidx, * FROM places ORDER BY pidx""",
    # entity mentions per (article, entity): one row per entity an article names
    "agg_de": """
        SELECT d.doc, d.published, e.eid, count(*)::INTEGER AS n
        FROM mentions m JOIN agg_docs d ON d.id = m.article_id
        JOIN agg_ents e ON e.id = m.entity_id GROUP BY ALL ORDER BY d.doc, e.eid""",
    # the same pairs ordered by entity: which articles name one (an entity filter reads
    # the few row groups of its entities, not the whole table; agg_pd, agg_cd likewise)
    "agg_ed": "SELECT eid, doc FROM agg_de ORDER BY eid, doc",
    # entity mentions per (article, sentence, entity), no dates: the co-occurrence units
    "agg_es": """
        SELECT d.doc, m.sentence, e.eid, count(*)::INTEGER AS n
        FROM mentions m JOIN agg_docs d ON d.id = m.article_id
        JOIN agg_ents e ON e.id = m.entity_id WHERE m.label <> 'DATE'
        GROUP BY ALL ORDER BY d.doc, m.sentence, e.eid""",
    # per article: how many co-occurrence units (sentences; one without a number counts
    # once) name an entity
    "agg_nu": """
        SELECT doc, (count(DISTINCT sentence) + max((sentence IS NULL)::INTEGER))::INTEGER
               AS units
        FROM agg_es GROUP BY doc ORDER BY doc""",
    # the 128 entities (no dates) mentioned most, each with a bit, and every unit
    # (sentence; article) that names one as the mask of those it names: a filtered
    # co-occurrence of those entities counts its units by mask instead of grouping their
    # entity rows
    "agg_gbits": """
        SELECT eid, (row_number() OVER (ORDER BY sum(n) DESC, eid) - 1)::UHUGEINT AS bit
        FROM agg_es GROUP BY eid QUALIFY bit < 128 ORDER BY bit""",
    "agg_sm": """
        SELECT es.doc, es.sentence IS NULL AS nul, bit_or(1::UHUGEINT << g.bit) AS mask
        FROM agg_es es JOIN agg_gbits g ON g.eid = es.eid
        GROUP BY es.doc, es.sentence ORDER BY es.doc""",
    "agg_dm": "SELECT doc, bit_or(mask) AS mask FROM agg_sm GROUP BY doc ORDER BY doc",
    # every sentence of an article that has mentions: where its first one starts and its
    # last one ends (what bounds the evidence snippets of geonews.analysis.pair_evidence)
    "agg_sent": """
        SELECT d.doc, m.sentence, min(m.start) AS lo, max(m."end") AS hi
        FROM mentions m JOIN agg_docs d ON d.id = m.article_id WHERE m.sentence IS NOT NULL
        GROUP BY ALL ORDER BY d.doc, m.sentence""",
    # place mentions per (article, place) and per (article, country)
    "agg_dp": """
        SELECT d.doc, p.pidx, count(*)::INTEGER AS n
        FROM mention_places mp JOIN agg_docs d ON d.id = mp.article_id
        JOIN agg_pl p ON p.id = mp.place_id GROUP BY ALL ORDER BY d.doc, p.pidx""",
    "agg_dc": """
        SELECT dp.doc, p.country_code, sum(dp.n)::INTEGER AS n,
               min(CASE WHEN p.kind = 'country' THEN p.name END) AS name
        FROM agg_dp dp JOIN agg_pl p ON p.pidx = dp.pidx WHERE p.country_code IS NOT NULL
        GROUP BY ALL ORDER BY dp.doc, p.country_code""",
    # which articles name a place, a country
    "agg_pd": "SELECT pidx, doc FROM agg_dp ORDER BY pidx, doc",
    "agg_cd": "SELECT country_code, doc FROM agg_dc ORDER BY country_code, doc",
    # per article: how many entities and places it names
    "agg_dn": """
        SELECT d.doc, coalesce(e.n, 0)::INTEGER AS entities, coalesce(p.n, 0)::INTEGER AS places
        FROM agg_docs d LEFT JOIN (SELECT doc, count(*) AS n FROM agg_de GROUP BY 1) e
          ON e.doc = d.doc
        LEFT JOIN (SELECT doc, count(*) AS n FROM agg_dp GROUP BY 1) p ON p.doc = d.doc
        ORDER BY d.doc""",
    # the view of one of the agg_gbits entities (what clicking it shows), counted ahead:
    # the entities, places and countries of the articles that name it (``e1``)
    "agg_ee": """
        SELECT a.eid AS e1, b.eid, sum(b.n)::BIGINT AS mentions, count(*) AS articles,
               min(b.published) AS first_seen, max(b.published) AS last_seen
        FROM agg_de a JOIN agg_gbits g ON g.eid = a.eid JOIN agg_de b ON b.doc = a.doc
        GROUP BY 1, 2 ORDER BY 1, 2""",
    "agg_ep": """
        SELECT a.eid AS e1, b.pidx, sum(b.n)::BIGINT AS mentions, count(*) AS articles
        FROM agg_de a JOIN agg_gbits g ON g.eid = a.eid JOIN agg_dp b ON b.doc = a.doc
        GROUP BY 1, 2 ORDER BY 1, 2""",
    "agg_ec": """
        SELECT a.eid AS e1, b.country_code, sum(b.n)::BIGINT AS n, count(*) AS articles,
               min(b.name) AS name
        FROM agg_de a JOIN agg_gbits g ON g.eid = a.eid JOIN agg_dc b ON b.doc = a.doc
        GROUP BY 1, 2 ORDER BY 1, 2""",
    # resolved dates per article, with the rank of their precision (day 0, month 2, year 3)
    "agg_dd": """
        SELECT d.doc, x.date, CASE coalesce(x.precision, 'day') WHEN 'day' THEN 0
                   WHEN 'month' THEN 2 WHEN 'year' THEN 3 END AS rank,
               count(*)::INTEGER AS n
        FROM dates x JOIN agg_docs d ON d.id = x.article_id WHERE x.date IS NOT NULL
        GROUP BY ALL ORDER BY d.doc""",
}
# The whole-corpus views, counted from the FACTS (a fraction of the time the base tables
# take); the same results. They join the FACTS group, built after them.
FACTS |= {
    "agg_entities": """
        SELECT e.id AS entity_id, sum(de.n)::BIGINT AS mentions, count(*) AS articles,
               min(de.published) AS first_seen, max(de.published) AS last_seen
        FROM agg_de de JOIN agg_ents e ON e.eid = de.eid GROUP BY 1""",
    "agg_places": """
        SELECT p.id AS place_id, sum(dp.n)::BIGINT AS mentions, count(*) AS articles
        FROM agg_dp dp JOIN agg_pl p ON p.pidx = dp.pidx GROUP BY 1""",
    "agg_countries": """
        SELECT country_code, sum(n)::BIGINT AS mentions, count(*) AS articles,
               min(name) AS stored_name FROM agg_dc GROUP BY 1""",
    "agg_events": """
        WITH f(freq, rank) AS (VALUES ('day', 0), ('week', 1), ('month', 2), ('year', 3))
        SELECT f.freq, CAST(date_trunc(f.freq, d.date) AS DATE) AS period,
               sum(d.n)::BIGINT AS mentions, count(DISTINCT d.doc) AS articles
        FROM agg_dd d JOIN f ON d.rank <= f.rank GROUP BY 1, 2""",
    # entity numbers follow the order of the ids: "<" on them is "<" on the ids
    "agg_pairs": f"""
        WITH top AS (SELECT eid FROM agg_es GROUP BY 1 ORDER BY sum(n) DESC, eid
                     LIMIT {AGG_TOP}),
        su AS (SELECT doc, sentence, eid FROM agg_es WHERE eid IN (SELECT eid FROM top)),
        au AS (SELECT DISTINCT doc, eid FROM su),
        p AS (SELECT 'sentence' AS scope, x.eid AS s, y.eid AS t, count(*) AS c
              FROM su x JOIN su y ON x.doc = y.doc AND x.sentence = y.sentence AND x.eid < y.eid
              GROUP BY 2, 3
              UNION ALL
              SELECT 'article', x.eid, y.eid, count(*)
              FROM au x JOIN au y ON x.doc = y.doc AND x.eid < y.eid GROUP BY 2, 3)
        SELECT p.scope, es.id AS s, et.id AS t, p.c FROM p
        JOIN agg_ents es ON es.eid = p.s JOIN agg_ents et ON et.eid = p.t""",
    "agg_units": f"""
        WITH top AS (SELECT eid, sum(n) AS n FROM agg_es GROUP BY 1 ORDER BY n DESC, eid
                     LIMIT {AGG_TOP}),
        u AS (SELECT 'sentence' AS scope, eid, count(*) AS n FROM agg_es
              WHERE eid IN (SELECT eid FROM top) GROUP BY 2
              UNION ALL
              SELECT 'article', eid, count(DISTINCT doc) FROM agg_es
              WHERE eid IN (SELECT eid FROM top) GROUP BY 2)
        SELECT u.scope, e.id AS entity_id, u.n, NULL::BIGINT AS rank
        FROM u JOIN agg_ents e ON e.eid = u.eid
        UNION ALL
        SELECT 'sentence', NULL, count(*), NULL
        FROM (SELECT DISTINCT doc, sentence FROM agg_es)
        UNION ALL
        SELECT 'article', NULL, count(DISTINCT doc), NULL FROM agg_es
        UNION ALL
        SELECT 'top', e.id, NULL, row_number() OVER (ORDER BY top.n DESC, top.eid)
        FROM top JOIN agg_ents e ON e.eid = top.eid""",
}
AGGREGATES.update(FACTS)


def _built_for(name: str, rev: str) -> str:
    """What ``aggregate_state`` keeps for an aggregate: the corpus revision it was built
    for and a digest of its definition (a new geonews rebuilds what it defines anew)."""
    import hashlib

    return f"{rev}|{hashlib.sha256(AGGREGATES[name].encode()).hexdigest()[:8]}"


#: What the word index cuts titles and texts (lowered) into: the runs of ``[a-z0-9]``.
SEARCH_TOKEN = "[^a-z0-9]+"


def _sync_search(cur) -> None:
    """Bring the article numbers and the word index up to date (inside a transaction).

    Unlike the FACTS these are kept incrementally: an article's text never changes
    (its id is the content hash), so only new articles are numbered and cut into
    words, and deleted ones are forgotten. ``doc_numbers(id, doc)``;
    ``search_vocab(tid, term)``; ``search_postings(tid, doc)``: the articles whose
    lowered title or text has the word.
    """
    cur.execute(
        "CREATE TABLE IF NOT EXISTS doc_numbers (id VARCHAR PRIMARY KEY, doc INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS search_vocab (tid INTEGER NOT NULL, term VARCHAR NOT NULL);"
        "CREATE TABLE IF NOT EXISTS search_postings (tid INTEGER NOT NULL, doc INTEGER NOT NULL)"
    )
    gone = "SELECT id FROM doc_numbers WHERE id NOT IN (SELECT id FROM articles)"
    if cur.execute(f"SELECT count(*) FROM ({gone})").fetchone()[0]:
        cur.execute(
            "DELETE FROM search_postings WHERE doc IN "
            f"(SELECT doc FROM doc_numbers WHERE id IN ({gone}))"
        )
        cur.execute(f"DELETE FROM doc_numbers WHERE id IN ({gone})")
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE _new_docs AS SELECT id, ((SELECT coalesce(max(doc), 0) "
        "FROM doc_numbers) + row_number() OVER (ORDER BY id))::INTEGER AS doc FROM articles "
        "WHERE id NOT IN (SELECT id FROM doc_numbers)"
    )
    try:
        if not cur.execute("SELECT count(*) FROM _new_docs").fetchone()[0]:
            return
        cur.execute("INSERT INTO doc_numbers SELECT id, doc FROM _new_docs")
        cur.execute(
            "CREATE OR REPLACE TEMP TABLE _new_terms AS SELECT DISTINCT n.doc, "
            "unnest(string_split_regex(lower(coalesce(a.title, '')) || ' ' || lower(a.text), ?))"
            " AS term FROM articles a JOIN _new_docs n ON n.id = a.id",
            [SEARCH_TOKEN],
        )
        cur.execute(
            "INSERT INTO search_vocab SELECT ((SELECT coalesce(max(tid), 0) FROM search_vocab) "
            "+ row_number() OVER (ORDER BY term))::INTEGER, term FROM (SELECT DISTINCT term "
            "FROM _new_terms WHERE term <> '' AND term NOT IN (SELECT term FROM search_vocab))"
        )
        cur.execute(
            "INSERT INTO search_postings SELECT v.tid, t.doc FROM _new_terms t "
            "JOIN search_vocab v ON v.term = t.term ORDER BY 1, 2"
        )
        cur.execute("DROP TABLE _new_terms")
    finally:
        cur.execute("DROP TABLE IF EXISTS _new_docs")


def _fallback_key(name: str) -> str:
    key = " ".join(name.casefold().replace("\u2019", "'").split())
    for prefix in ("the ",):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    return key.strip(" .,'\"")


def canonical_key(name: str, label: str | None = None) -> str:
    """The key that makes two canonical names one entity (nlp's, when it has one)."""
    try:
        from geonews import nlp

        fn = getattr(nlp, "canonical_key", None)
    except Exception:  # nlp unimportable (model package broken): still store
        fn = None
    try:
        key = fn(name, label) if fn is not None else _fallback_key(name)
    except TypeError:  # an older nlp.canonical_key(name)
        key = fn(name)
    return key or _fallback_key(name) or name


def coarse_label(label: str) -> str | None:
    """PERSON, ORG, PLACE, GROUP, EVENT or OTHER; None for dates, numbers and the like."""
    return COARSE_LABELS.get(label)


@functools.lru_cache(maxsize=1 << 16)
def entity_id(name: str, label: str) -> str | None:
    coarse = coarse_label(label)
    if coarse is None or not name.strip():
        return None
    return f"{coarse}:{canonical_key(name, label)}"


def place_id(place: Place) -> str:
    return place.id or f"name:{_fallback_key(place.name)}"


def _iso_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


# Arrow schemas of the rows written per batch (column order = table order).
_ARTICLES = pa.schema(
    [
        ("id", pa.string()),
        ("ref", pa.string()),
        ("title", pa.string()),
        ("url", pa.string()),
        ("source", pa.string()),
        ("published", pa.date32()),
        ("text", pa.string()),
        ("added_at", pa.timestamp("us")),
    ]
)
_ENTITIES = pa.schema([("id", pa.string()), ("name", pa.string()), ("label", pa.string())])
_MENTIONS = pa.schema(
    [
        ("article_id", pa.string()),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("text", pa.string()),
        ("label", pa.string()),
        ("entity", pa.string()),
        ("entity_id", pa.string()),
        ("sentence", pa.int32()),
    ]
)
_PLACES = pa.schema(
    [
        ("id", pa.string()),
        ("name", pa.string()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("country_code", pa.string()),
        ("kind", pa.string()),
    ]
)
_MENTION_PLACES = pa.schema(
    [
        ("article_id", pa.string()),
        ("place_id", pa.string()),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("text", pa.string()),
        ("confidence", pa.float64()),
        ("reason", pa.string()),
    ]
)
_DATES = pa.schema(
    [
        ("article_id", pa.string()),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("text", pa.string()),
        ("date", pa.date32()),
        ("precision", pa.string()),
    ]
)


class _Batch:
    """Rows of the new analyses of one add_many call, table by table."""

    def __init__(self):
        self.articles: list[dict] = []
        self.entities: dict[str, dict] = {}
        self.mentions: list[dict] = []
        self.places: dict[str, dict] = {}
        self.mention_places: list[dict] = []
        self.dates: list[dict] = []

    def add(self, analysis: Analysis, now: dt.datetime) -> None:
        a = analysis.article
        aid = a.hash
        self.articles.append(
            {
                "id": aid,
                "ref": a.id or aid,
                "title": a.title,
                "url": a.url,
                "source": a.source,
                "published": a.published,
                "text": a.text,
                "added_at": now,
            }
        )
        for m in analysis.entities:
            eid = entity_id(m.entity or m.text, m.label)
            if eid is not None and eid not in self.entities:
                self.entities[eid] = {
                    "id": eid,
                    "name": m.entity or m.text,
                    "label": coarse_label(m.label),
                }
            self.mentions.append(
                {
                    "article_id": aid,
                    "start": m.start,
                    "end": m.end,
                    "text": m.text,
                    "label": m.label,
                    "entity": m.entity,
                    "entity_id": eid,
                    "sentence": m.sentence,
                }
            )
        for p in analysis.places:
            pid = place_id(p)
            self.places.setdefault(
                pid,
                {
                    "id": pid,
                    "name": p.name,
                    "lat": p.lat,
                    "lon": p.lon,
                    "country_code": p.country_code,
                    "kind": p.kind,
                },
            )
            spans = p.mentions or [None]
            for s in spans:
                self.mention_places.append(
                    {
                        "article_id": aid,
                        "place_id": pid,
                        "start": s.start if s else None,
                        "end": s.end if s else None,
                        "text": s.text if s else None,
                        "confidence": p.confidence,
                        "reason": p.reason,
                    }
                )
        for d in analysis.dates:
            self.dates.append(
                {
                    "article_id": aid,
                    "start": d.start,
                    "end": d.end,
                    "text": d.text,
                    "date": _iso_date(d.date),
                    "precision": d.precision,
                }
            )

    def to_tables(self) -> dict[str, pa.Table]:
        """The rows as one Arrow table per store table (see :data:`TABLES`)."""
        rows = {
            "articles": self.articles,
            "entities": list(self.entities.values()),
            "mentions": self.mentions,
            "places": list(self.places.values()),
            "mention_places": self.mention_places,
            "dates": self.dates,
        }
        return {t: pa.Table.from_pylist(rows[t], schema=schema) for t, schema in TABLES.items()}


#: The tables an analysis is written to, in write order, with their Arrow schemas.
TABLES = {
    "articles": _ARTICLES,
    "entities": _ENTITIES,
    "mentions": _MENTIONS,
    "places": _PLACES,
    "mention_places": _MENTION_PLACES,
    "dates": _DATES,
}


def analysis_tables(analyses: Iterable[Analysis], *, now: dt.datetime | None = None):
    """Arrow tables (one per store table) of analyses, first of each article only.

    What :meth:`Store.add_tables` takes; built where the analysis runs (a Dask
    worker writes them to Parquet), no database needed.
    """
    batch, seen, now = _Batch(), set(), now or dt.datetime.now()
    for analysis in analyses:
        if analysis.article.hash not in seen:
            seen.add(analysis.article.hash)
            batch.add(analysis, now)
    return batch.to_tables()


def _cols(table: str) -> str:
    return ", ".join(f'"{c}"' for c in TABLES[table].names)


#: How each store table is written, in order: entities and places only when new (the
#: first name seen stays).
_WRITE = {
    t: "INSERT OR IGNORE INTO" if t in ("entities", "places") else "INSERT INTO" for t in TABLES
}


def _write(cur, src: dict[str, str], where: dict[str, str] | None = None) -> None:
    """Insert the rows of ``src`` (table -> a SQL relation) into every store table
    (inside a transaction); ``where``: table -> the condition its rows must meet."""
    for table, verb in _WRITE.items():
        cols = _cols(table)
        cond = f" WHERE {where[table]}" if where else ""
        cur.execute(f"{verb} {table} ({cols}) SELECT {cols} FROM {src[table]}{cond}")


def _insert_new(cur, src: dict[str, str], new_ids: list | None = None) -> int:
    """Write the articles of ``src`` not stored yet, with their rows (inside a transaction).

    ``src``: table -> a SQL relation (a registered Arrow table, a ``read_parquet``).
    Entities and places are added when new (the first name seen stays). Returns
    how many articles were added (their ids appended to ``new_ids`` when given).
    """
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE _new_ids AS SELECT DISTINCT id FROM {src['articles']} "
        "WHERE id NOT IN (SELECT id FROM articles)"
    )
    new = "article_id IN (SELECT id FROM _new_ids)"
    _write(cur, src, {
        "articles": "id IN (SELECT id FROM _new_ids)",
        "entities": f"id IN (SELECT entity_id FROM {src['mentions']} WHERE {new})",
        "mentions": new,
        "places": f"id IN (SELECT place_id FROM {src['mention_places']} WHERE {new})",
        "mention_places": new,
        "dates": new,
    })  # fmt: skip
    added = cur.execute("SELECT count(*) FROM _new_ids").fetchone()[0]
    if new_ids is not None:
        new_ids.extend(r[0] for r in cur.execute("SELECT id FROM _new_ids").fetchall())
    cur.execute("DROP TABLE _new_ids")
    return int(added)


class Store:
    """A geonews corpus in one DuckDB file."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | None, *, read_only: bool):
        self._con = con
        self.path = path
        self.read_only = read_only
        self._lock = threading.RLock()

    # -- opening ---------------------------------------------------------------

    @classmethod
    def open(cls, path=None, *, read_only: bool = False) -> Store:
        """Open (creating it and its folder if needed) the store at ``path``.

        ``path`` defaults to ``settings.db_path()``; ``":memory:"`` gives a
        throw-away store. Raises StoreError when the file cannot be opened
        (locked by another process, not a DuckDB file, newer schema).
        """
        if path is None:
            path = settings.db_path()
        memory = str(path) == ":memory:"
        p = None if memory else Path(path).expanduser()
        try:
            if p is not None:
                if read_only and not p.exists():
                    raise StoreError(f"No geonews database at {p}; ingest some articles first.")
                p.parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(":memory:" if memory else str(p), read_only=read_only)
        except StoreError:
            raise
        except (duckdb.Error, OSError) as exc:
            if "conflicting lock" in str(exc).lower():
                pid = re.search(r"\(PID (\d+)\)", str(exc))
                raise StoreLockedError(
                    f"The store {p} is in use by another geonews process"
                    f"{f' (PID {pid.group(1)})' if pid else ''}: the dashboard or an ingest "
                    f"has it open, and only one process may use a store at a time. Stop that "
                    f"process or wait for it, or choose another store with --db or GEONEWS_DB."
                ) from None
            raise StoreError(f"Cannot open the database {path}: {exc}") from exc
        store = cls(con, p, read_only=read_only)
        try:
            store._migrate()
        except BaseException:
            con.close()
            raise
        return store

    def _migrate(self) -> None:
        try:
            cur = self._con.cursor()
            if self.read_only:
                version = self._version(cur)
                if version is None:
                    raise StoreError(f"{self.path} is not a geonews database.")
            else:
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version "
                    "(version INTEGER NOT NULL, applied_at TIMESTAMP DEFAULT current_timestamp)"
                )
                version = self._version(cur)
                if version is None or version <= SCHEMA_VERSION:
                    cur.execute("BEGIN TRANSACTION")
                    try:
                        for step in range((version or SCHEMA_VERSION) + 1, SCHEMA_VERSION + 1):
                            cur.execute(MIGRATIONS[step])
                        cur.execute(_SCHEMA)
                        if version is None or version < SCHEMA_VERSION:
                            cur.execute(
                                "INSERT INTO schema_version (version) VALUES (?)",
                                [SCHEMA_VERSION],
                            )
                        cur.execute("COMMIT")
                    except BaseException:
                        cur.execute("ROLLBACK")
                        raise
                    version = SCHEMA_VERSION
        except duckdb.Error as exc:
            raise StoreError(f"Cannot prepare the database {self.path}: {exc}") from exc
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}; this geonews reads up to "
                f"{SCHEMA_VERSION}. Upgrade geonews."
            )

    @staticmethod
    def _version(cur) -> int | None:
        exists = cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
        ).fetchone()[0]
        if not exists:
            return None
        row = cur.execute("SELECT max(version) FROM schema_version").fetchone()
        return row[0] if row else None

    @property
    def schema_version(self) -> int | None:
        return self._version(self.cursor())

    # -- revision and pre-aggregates ----------------------------------------------

    def revision(self, cur=None) -> str:
        """A token that changes whenever the corpus, the pins or the curation change."""
        cur = cur or self.cursor()
        parts = [
            cur.execute(
                "SELECT count(*), max(added_at), (SELECT count(*) FROM mentions), "
                "(SELECT count(*) FROM entities), (SELECT count(*) FROM mention_places), "
                "(SELECT count(*) FROM places), (SELECT count(*) FROM dates) FROM articles"
            ).fetchone()
        ]
        for sql in (
            "SELECT count(*), max(id), max(created_at) FROM geocode_overrides",
            "SELECT count(*), max(seq), max(created_at) FROM entity_curation",
        ):
            try:
                parts.append(cur.execute(sql).fetchone())
            except duckdb.Error:  # an older store without the table
                parts.append(None)
        return "|".join(map(str, parts))

    def aggregate(self, name: str) -> str | None:
        """The table ``name`` of :data:`AGGREGATES`, up to date with the corpus.

        Built (or rebuilt, in one transaction) here when it is missing or was built for
        another revision; its revision is kept in ``aggregate_state``. None when the
        store cannot keep it (read-only and stale, or closed): query the base tables.
        """
        if name not in AGGREGATES:
            raise StoreError(f"Unknown aggregate {name!r}.")
        # the FACTS refer to each other's numbers: they are built together, in order
        group = list(FACTS) if name in FACTS else [name]
        try:
            cur = self.cursor()
            if self._fresh(cur, group, self.revision(cur)):
                return name
            if self.read_only:
                return None
            with self._lock:
                cur.execute("BEGIN TRANSACTION")
                try:
                    rev = self.revision(cur)
                    if not self._fresh(cur, group, rev):
                        if name in FACTS:
                            _sync_search(cur)
                        for table in group:
                            cur.execute(f"CREATE OR REPLACE TABLE {table} AS {AGGREGATES[table]}")
                            cur.execute(
                                "INSERT OR REPLACE INTO aggregate_state (name, revision, built_at) "
                                "VALUES (?, ?, current_timestamp)",
                                [table, _built_for(table, rev)],
                            )
                    cur.execute("COMMIT")
                except BaseException:
                    cur.execute("ROLLBACK")
                    raise
        except (duckdb.Error, StoreError):
            return None
        return name

    def stale(self) -> bool:
        """Whether some pre-aggregate is out of date with the corpus (the next query
        reading it rebuilds it: seconds on a large corpus)."""
        try:
            cur = self.cursor()
            return not self._fresh(cur, list(AGGREGATES), self.revision(cur))
        except (duckdb.Error, StoreError):
            return False

    def refresh(self) -> None:
        """Bring every pre-aggregate up to date now, rather than in the next query."""
        # one name of the FACTS group stands for it: they are built together
        for name in dict.fromkeys(next(iter(FACTS)) if n in FACTS else n for n in AGGREGATES):
            self.aggregate(name)

    def facts(self) -> bool:
        """Whether the :data:`FACTS` tables are up to date (built now if they were not)."""
        return self.aggregate("agg_docs") is not None

    @staticmethod
    def _fresh(cur, names: list[str], rev: str) -> bool:
        try:
            row = cur.execute(
                "SELECT count(*) FROM aggregate_state WHERE list_contains(?, name || '#' || revision)",
                [[f"{n}#{_built_for(n, rev)}" for n in names]],
            ).fetchone()
        except duckdb.Error:  # a version-1 store, read-only
            return False
        return row[0] == len(names)

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own for one thread's reads (DuckDB's thread-safe way)."""
        if self._con is None:
            raise StoreError("The store is closed.")
        return self._con.cursor()

    def query(self, sql: str, params=None):
        """Run a read query; the result as a pandas DataFrame."""
        try:
            return self.cursor().execute(sql, params or []).df()
        except duckdb.Error as exc:
            raise StoreError(f"Query failed: {exc}") from exc

    # -- writing ---------------------------------------------------------------

    def add(self, analysis: Analysis) -> bool:
        """Store one analysed article; False if the same content is stored already."""
        added, _ = self.add_many([analysis])
        return added == 1

    def add_many(self, analyses: Iterable[Analysis], *, replace: bool = False) -> tuple[int, int]:
        """Store analyses in ONE transaction: (added, skipped as already stored).

        ``replace=True`` stores them over what is stored for the same articles
        (a re-analysis); they then count as added. On any failure the whole batch
        is rolled back (StoreError); what was stored before stays.
        """
        analyses = list(analyses)
        if not analyses:
            return 0, 0
        if self.read_only:
            raise StoreError("The store is open read-only.")
        with self._lock:
            cur = self.cursor()
            try:
                cur.execute("BEGIN TRANSACTION")
                ids = list(dict.fromkeys(a.article.hash for a in analyses))
                existing = {
                    r[0]
                    for r in cur.execute(
                        "SELECT id FROM articles WHERE list_contains(?, id)", [ids]
                    ).fetchall()
                }
                if replace and existing:
                    for table in ("mentions", "mention_places", "dates", "articles"):
                        key = "id" if table == "articles" else "article_id"
                        cur.execute(
                            f"DELETE FROM {table} WHERE list_contains(?, {key})", [list(existing)]
                        )
                    existing = set()
                batch, seen, now = _Batch(), set(existing), dt.datetime.now()
                for analysis in analyses:
                    aid = analysis.article.hash
                    if aid in seen:
                        continue
                    seen.add(aid)
                    batch.add(analysis, now)
                if batch.articles:  # none stored: the check above, in this transaction
                    self._insert_arrow(cur, batch.to_tables(), all_new=True)
                    # the user's entity curation covers new articles too
                    from geonews import curation

                    curation.apply(cur, [r["id"] for r in batch.articles])
                if replace:
                    self._drop_orphans(cur)
                cur.execute("COMMIT")
            except BaseException as exc:
                try:
                    cur.execute("ROLLBACK")
                except duckdb.Error:
                    pass
                if isinstance(exc, duckdb.Error | pa.ArrowException | TypeError | ValueError):
                    raise StoreError(f"Could not store the batch (nothing written): {exc}") from exc
                raise
            finally:
                cur.close()
        added = len(batch.articles)
        return added, len(analyses) - added

    @staticmethod
    def _insert_arrow(
        cur, tables: dict[str, pa.Table], new_ids: list | None = None, *, all_new: bool = False
    ) -> int:
        names = {t: f"_new_{t}" for t in TABLES}
        for t, name in names.items():
            cur.register(name, tables[t])
        try:
            if all_new:
                _write(cur, names)
                return tables["articles"].num_rows
            return _insert_new(cur, names, new_ids)
        finally:
            for name in names.values():
                cur.unregister(name)

    def add_tables(self, tables: dict) -> tuple[int, int]:
        """Store analyses given as tables, in ONE transaction: (added, skipped).

        ``tables``: for each of :data:`TABLES`, an Arrow table or a list of Parquet
        files (as :func:`analysis_tables` makes them). Articles already stored are
        skipped with their rows; on failure nothing is written (StoreError).
        """
        if self.read_only:
            raise StoreError("The store is open read-only.")
        with self._lock:
            cur = self.cursor()
            try:
                cur.execute("BEGIN TRANSACTION")
                new_ids: list[str] = []
                if all(isinstance(tables[t], pa.Table) for t in TABLES):
                    total = tables["articles"].num_rows
                    added = self._insert_arrow(cur, tables, new_ids)
                else:
                    src = {}
                    for t in TABLES:
                        files = [str(f) for f in tables[t]]
                        src[t] = f"(SELECT * FROM read_parquet({files!r}))" if files else None
                    if src["articles"] is None:
                        cur.execute("ROLLBACK")
                        return 0, 0
                    empty = {t: f"(SELECT {_cols(t)} FROM {t} LIMIT 0)" for t in TABLES}
                    src = {t: v or empty[t] for t, v in src.items()}
                    total = cur.execute(f"SELECT count(*) FROM {src['articles']}").fetchone()[0]
                    added = _insert_new(cur, src, new_ids)
                if new_ids:  # the user's entity curation covers new articles too
                    from geonews import curation

                    curation.apply(cur, new_ids)
                cur.execute("COMMIT")
            except BaseException as exc:
                try:
                    cur.execute("ROLLBACK")
                except duckdb.Error:
                    pass
                if isinstance(exc, duckdb.Error | pa.ArrowException | TypeError | ValueError):
                    raise StoreError(f"Could not store the batch (nothing written): {exc}") from exc
                raise
            finally:
                cur.close()
        return added, int(total) - added

    def existing(self, ids: Iterable[str]) -> set[str]:
        """Which of these content hashes are stored (one query)."""
        ids = list(ids)
        if not ids:
            return set()
        rows = (
            self.cursor()
            .execute("SELECT id FROM articles WHERE id IN (SELECT unnest(?))", [ids])
            .fetchall()
        )
        return {r[0] for r in rows}

    def delete_article(self, article_id: str) -> bool:
        """Remove an article and everything found in it; False if it was not stored."""
        with self._lock:
            cur = self.cursor()
            try:
                aid = self._resolve_id(cur, article_id)
                if aid is None:
                    return False
                cur.execute("BEGIN TRANSACTION")
                for table in ("mentions", "mention_places", "dates"):
                    cur.execute(f"DELETE FROM {table} WHERE article_id = ?", [aid])
                cur.execute("DELETE FROM articles WHERE id = ?", [aid])
                self._drop_orphans(cur)
                cur.execute("COMMIT")
                return True
            except duckdb.Error as exc:
                try:
                    cur.execute("ROLLBACK")
                except duckdb.Error:
                    pass
                raise StoreError(f"Could not delete {article_id}: {exc}") from exc
            finally:
                cur.close()

    @staticmethod
    def _drop_orphans(cur) -> None:
        """Entities and places no stored mention (or pin) refers to any more."""
        cur.execute(
            "DELETE FROM entities WHERE id NOT IN "
            "(SELECT entity_id FROM mentions WHERE entity_id IS NOT NULL)"
        )
        cur.execute(
            "DELETE FROM places WHERE id NOT IN (SELECT place_id FROM mention_places) "
            "AND id NOT IN (SELECT place_id FROM geocode_overrides "
            "WHERE place_id IS NOT NULL)"
        )

    def set_override(
        self,
        name: str,
        *,
        place_id: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        article_id: str | None = None,
        place_name: str | None = None,
        kind: str | None = None,
        country_code: str | None = None,
    ) -> int:
        """Record a user correction: ``name`` (in one article, or everywhere) is this place.

        The raw row only; :meth:`pin` checks the place and applies it to stored articles.
        """
        if place_id is None and (lat is None or lon is None):
            raise StoreError("An override needs a place id or both lat and lon.")
        with self._lock:
            try:
                row = self._insert_override(
                    self.cursor(),
                    [name, article_id, place_id, lat, lon, place_name, kind, country_code],
                )
            except duckdb.Error as exc:
                raise StoreError(f"Could not save the override: {exc}") from exc
        return row[0]

    @staticmethod
    def _insert_override(cur, values: list):
        return cur.execute(
            "INSERT INTO geocode_overrides (name, article_id, place_id, lat, lon, place_name, "
            "kind, country_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, created_at",
            values,
        ).fetchone()

    # -- pins (user corrections, geonews.corrections) ---------------------------

    def pins(self) -> list[Pin]:
        """Every pin, newest first."""
        return self._pins(self.cursor())

    @staticmethod
    def _pins(cur) -> list[Pin]:
        rows = cur.execute("SELECT * FROM geocode_overrides ORDER BY created_at DESC, id DESC")
        cols = [d[0] for d in rows.description]
        out = []
        for values in rows.fetchall():
            r = dict(zip(cols, values, strict=True))
            if r["lat"] is None or r["lon"] is None:
                continue  # a bare set_override(place_id=...) row that pin() never checked
            out.append(
                Pin(
                    name=r["name"],
                    place_id=r["place_id"] or corrections.coordinate_id(r["lat"], r["lon"]),
                    place_name=r.get("place_name") or r["name"],
                    lat=r["lat"],
                    lon=r["lon"],
                    kind=r.get("kind") or "city",
                    country_code=r.get("country_code"),
                    article_id=r["article_id"],
                    id=r["id"],
                    created_at=r["created_at"],
                )
            )
        return out

    def pin(
        self,
        name: str,
        *,
        place_id: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        article_id: str | None = None,
        place_name: str | None = None,
        kind: str | None = None,
        country_code: str | None = None,
        gazetteer=None,
    ) -> Pin:
        """Pin ``name`` (in one stored article, or everywhere) to a place, and apply it.

        The place is a gazetteer id ("gn:524901", "cur:jordan-valley"; ``gazetteer``
        defaults to ``geo.load_gazetteer()``), the id of a place already stored, or
        ``lat``/``lon`` with an optional ``place_name``, ``kind`` and ``country_code``.
        The pin and its effect on the stored articles are written in one transaction.
        Raises InputError for an unknown place or article, or bad coordinates.
        """
        if self.read_only:
            raise StoreError("The store is open read-only.")
        if not name or not corrections.key(name):
            raise InputError("Give the place name to pin.")
        if kind is not None and kind not in corrections.KINDS:
            raise InputError(
                f"Unknown kind {kind!r}; one of {', '.join(sorted(corrections.KINDS))}."
            )
        if place_id:
            pin = self._pin_to_id(name, place_id, gazetteer, kind=kind, place_name=place_name)
        elif lat is None or lon is None:
            raise InputError("Pin a name to a place id, or to both a latitude and a longitude.")
        else:
            lat, lon = corrections.check_coordinates(lat, lon)
            pin = Pin(
                name=name,
                place_id=corrections.coordinate_id(lat, lon),
                place_name=place_name or name,
                lat=lat,
                lon=lon,
                kind=kind or "city",
                country_code=country_code.upper() if country_code else None,
            )
        with self._lock:
            cur = self.cursor()
            try:
                if article_id is not None:
                    aid = self._resolve_id(cur, article_id)
                    if aid is None:
                        raise InputError(f"No stored article {article_id!r} to pin {name!r} in.")
                    pin = replace(pin, article_id=aid)
                cur.execute("BEGIN TRANSACTION")
                row = self._insert_override(
                    cur,
                    [
                        pin.name,
                        pin.article_id,
                        pin.place_id if place_id else None,
                        pin.lat,
                        pin.lon,
                        pin.place_name,
                        pin.kind,
                        pin.country_code,
                    ],
                )
                pin = replace(pin, id=row[0], created_at=row[1])
                self._apply_pin(cur, pin)
                self._drop_orphans(cur)
                cur.execute("COMMIT")
            except BaseException as exc:
                if not isinstance(exc, InputError):
                    try:
                        cur.execute("ROLLBACK")
                    except duckdb.Error:
                        pass
                if isinstance(exc, duckdb.Error):
                    raise StoreError(f"Could not save the pin: {exc}") from exc
                raise
            finally:
                cur.close()
        return pin

    def _pin_to_id(self, name, place_id, gazetteer, *, kind, place_name) -> Pin:
        if gazetteer is None:
            from geonews import geo

            gazetteer = geo.load_gazetteer()
        entry = gazetteer.get(place_id)
        if entry is not None:
            return Pin(
                name=name,
                place_id=entry.id,
                place_name=place_name or entry.name,
                lat=entry.lat,
                lon=entry.lon,
                kind=kind or entry.kind,
                country_code=entry.country_code,
            )
        row = (
            self.cursor()
            .execute(
                "SELECT name, lat, lon, kind, country_code FROM places WHERE id = ?", [place_id]
            )
            .fetchone()
        )
        if row is None or row[1] is None or row[2] is None:
            raise InputError(
                f"Unknown place id {place_id!r}: not in the gazetteer nor a stored place "
                f"with coordinates (ids look like gn:524901, cc:RU, cur:jordan-valley)."
            )
        return Pin(
            name=name,
            place_id=place_id,
            place_name=place_name or row[0],
            lat=row[1],
            lon=row[2],
            kind=kind or row[3] or "city",
            country_code=row[4],
        )

    def _matching_texts(self, cur, table: str, k: str) -> list[str]:
        texts = cur.execute(f"SELECT DISTINCT text FROM {table} WHERE text IS NOT NULL").fetchall()
        return [t for (t,) in texts if corrections.key(t) == k]

    def _apply_pin(self, cur, pin: Pin, *, only: str | None = None) -> None:
        """Point the stored mentions the pin covers at its place (inside a transaction)."""
        k = pin.key
        if pin.article_id is not None or only is not None:
            scope, params = "{col} = ?", [pin.article_id or only]
        else:  # corpus-wide: not where an article-specific pin for the same name rules
            own = sorted({p.article_id for p in self._pins(cur) if p.article_id and p.key == k})
            scope, params = "NOT list_contains(?, {col})", [own]
        cur.execute(
            "INSERT OR IGNORE INTO places VALUES (?, ?, ?, ?, ?, ?)",
            [pin.place_id, pin.place_name, pin.lat, pin.lon, pin.country_code, pin.kind],
        )
        texts = self._matching_texts(cur, "mention_places", k)
        if texts:
            cur.execute(
                f"UPDATE mention_places SET place_id = ?, confidence = 1.0, reason = ? "
                f"WHERE list_contains(?, text) AND {scope.format(col='article_id')}",
                [pin.place_id, pin.reason, texts, *params],
            )
        texts = self._matching_texts(cur, "mentions", k)
        if texts:
            labels = sorted(corrections.PLACE_LABELS)
            cur.execute(
                f'INSERT INTO mention_places SELECT m.article_id, ?, m.start, m."end", m.text, '
                f"1.0, ? FROM mentions m WHERE list_contains(?, m.text) "
                f"AND list_contains(?, m.label) AND {scope.format(col='m.article_id')} "
                f"AND NOT EXISTS ("
                f"SELECT 1 FROM mention_places mp WHERE mp.article_id = m.article_id "
                f'AND mp.start = m.start AND mp."end" = m."end")',
                [pin.place_id, pin.reason, texts, labels, *params],
            )

    def unpin(self, name: str, *, article_id: str | None = None) -> list[str]:
        """Remove the pins of ``name`` (for one article, or the corpus-wide ones).

        Stored mentions another pin still covers take that pin's place. The ids
        of the articles left with mentions nothing covers any more are returned:
        re-analyse them (``pipeline.reanalyze``) to geocode those mentions again;
        until then they are kept without coordinates. Raises InputError when there
        was no such pin.
        """
        if self.read_only:
            raise StoreError("The store is open read-only.")
        k = corrections.key(name)
        with self._lock:
            cur = self.cursor()
            aid = None
            if article_id is not None:
                aid = self._resolve_id(cur, article_id) or article_id
            gone = [p for p in self._pins(cur) if p.key == k and p.article_id == aid]
            if not gone:
                where = f" in article {article_id}" if article_id else " (corpus-wide)"
                raise InputError(f"No pin for {name!r}{where}.")
            try:
                cur.execute("BEGIN TRANSACTION")
                cur.execute(
                    "DELETE FROM geocode_overrides WHERE list_contains(?, id)",
                    [[p.id for p in gone]],
                )
                texts = self._matching_texts(cur, "mention_places", k)
                scope = "article_id = ?" if aid else "TRUE"
                affected = [
                    r[0]
                    for r in cur.execute(
                        f"SELECT DISTINCT article_id FROM mention_places "
                        f"WHERE list_contains(?, text) AND reason LIKE '{corrections.PINNED}%' "
                        f"AND {scope}",
                        [texts, *([aid] if aid else [])],
                    ).fetchall()
                ]
                remaining = self._pins(cur)
                stale = []
                for art in affected:
                    pin = corrections.for_article(remaining, [art]).get(k)
                    if pin is not None:
                        self._apply_pin(cur, pin, only=art)
                    else:
                        stale.append(art)
                if stale:
                    unresolved = f"name:{_fallback_key(name)}"
                    cur.execute(
                        "INSERT OR IGNORE INTO places VALUES (?, ?, NULL, NULL, NULL, 'unresolved')",
                        [unresolved, texts[0] if texts else name],
                    )
                    cur.execute(
                        "UPDATE mention_places SET place_id = ?, confidence = 0.0, reason = ? "
                        f"WHERE list_contains(?, article_id) AND list_contains(?, text) "
                        f"AND reason LIKE '{corrections.PINNED}%'",
                        [unresolved, "Pin removed; re-analyse to geocode it again.", stale, texts],
                    )
                self._drop_orphans(cur)
                cur.execute("COMMIT")
            except duckdb.Error as exc:
                try:
                    cur.execute("ROLLBACK")
                except duckdb.Error:
                    pass
                raise StoreError(f"Could not remove the pin: {exc}") from exc
            finally:
                cur.close()
        return stale

    # -- the online geocoder's cache (geonews.geocoder) ---------------------------

    def geocode_cache_get(self, provider: str, query: str) -> str | None:
        """The cached answer (JSON text) for ``query``, None when never asked."""
        row = (
            self.cursor()
            .execute(
                "SELECT response FROM geocode_cache WHERE provider = ? AND query = ?",
                [provider, query],
            )
            .fetchone()
        )
        return row[0] if row else None

    def geocode_cache_put(
        self, provider: str, query: str, lat: float | None, lon: float | None, response: str
    ) -> None:
        """Keep an answer of the online geocoder (not a failure)."""
        if self.read_only:
            return
        with self._lock:
            try:
                self.cursor().execute(
                    "INSERT OR REPLACE INTO geocode_cache (provider, query, lat, lon, response) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [provider, query, lat, lon, response],
                )
            except duckdb.Error as exc:
                raise StoreError(f"Could not cache the geocoder's answer: {exc}") from exc

    def overrides(self):
        """The geocode overrides, newest first (DataFrame)."""
        return self.query("SELECT * FROM geocode_overrides ORDER BY created_at DESC, id DESC")

    # -- reading ---------------------------------------------------------------

    @staticmethod
    def _resolve_id(cur, article_id: str) -> str | None:
        row = cur.execute(
            "SELECT id FROM articles WHERE id = ? OR ref = ? ORDER BY id = ? DESC LIMIT 1",
            [article_id, article_id, article_id],
        ).fetchone()
        return row[0] if row else None

    def has(self, article_id: str) -> bool:
        """Whether an article is stored, by content hash or by its own id."""
        return self._resolve_id(self.cursor(), article_id) is not None

    _STATS = (
        "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM mentions), "
        "(SELECT count(*) FROM entities), ({places}), (SELECT count(*) FROM dates)"
    )

    def stats(self) -> dict:
        """Counts: articles, mentions, entities (distinct canonical), places (distinct), dates.

        One statement, so one snapshot: never the articles of one moment with the
        mentions of another while other sessions write.
        """
        keys = ("articles", "mentions", "entities", "places", "dates")
        # A stored place is mentioned or pinned (every write drops the others): the places
        # mentioned are the table's rows but the pinned ones no mention names, found among
        # the few pins rather than by a distinct count of every place mention.
        mentioned = (
            "(SELECT count(*) FROM places) - (SELECT count(*) FROM places p "
            "WHERE p.id IN (SELECT place_id FROM geocode_overrides) AND p.id NOT IN "
            "(SELECT place_id FROM mention_places "
            "WHERE place_id IN (SELECT place_id FROM geocode_overrides)))"
        )
        cur = self.cursor()
        try:
            row = cur.execute(self._STATS.format(places=mentioned)).fetchone()
        except duckdb.CatalogException:  # an older store, read-only: no pins table
            row = cur.execute(
                self._STATS.format(places="SELECT count(DISTINCT place_id) FROM mention_places")
            ).fetchone()
        return {k: int(v) for k, v in zip(keys, row, strict=True)}

    def articles(self):
        """One row per article (no text): id, ref, title, url, source, published,
        added_at, chars, mentions, places; newest publication first."""
        return self.query(
            """
            SELECT a.id, a.ref, a.title, a.url, a.source, a.published, a.added_at,
                   length(a.text) AS chars,
                   (SELECT count(*) FROM mentions m WHERE m.article_id = a.id) AS mentions,
                   (SELECT count(DISTINCT place_id) FROM mention_places p
                     WHERE p.article_id = a.id) AS places
            FROM articles a
            ORDER BY a.published DESC NULLS LAST, a.added_at DESC, a.id
            """
        )

    def entities(self):
        """Canonical entities with mention and article counts, first and last seen."""
        return self.query(
            """
            SELECT e.id, e.name, e.label,
                   coalesce(s.mentions, 0) AS mentions, coalesce(s.articles, 0) AS articles,
                   s.first_seen, s.last_seen
            FROM entities e LEFT JOIN entity_summary s USING (id)
            ORDER BY mentions DESC, e.name
            """
        )

    def places(self):
        """Distinct places with how many mentions and articles name them."""
        return self.query(
            """
            SELECT p.*, count(mp.place_id) AS mentions,
                   count(DISTINCT mp.article_id) AS articles
            FROM places p LEFT JOIN mention_places mp ON mp.place_id = p.id
            GROUP BY ALL
            ORDER BY mentions DESC, p.name
            """
        )

    def get_article(self, article_id: str) -> Article | None:
        cur = self.cursor()
        row = cur.execute(
            "SELECT id, ref, title, url, source, published, text FROM articles "
            "WHERE id = ? OR ref = ? ORDER BY id = ? DESC LIMIT 1",
            [article_id, article_id, article_id],
        ).fetchone()
        if row is None:
            return None
        _id, ref, title, url, source, published, text = row
        return Article(
            text=text, id=ref or _id, title=title, url=url, source=source, published=published
        )

    def get_analysis(self, article_id: str) -> Analysis | None:
        """The stored analysis of an article (by hash or its own id); None if absent.

        Place candidates (``--explain``) are not stored.
        """
        cur = self.cursor()
        aid = self._resolve_id(cur, article_id)
        if aid is None:
            return None
        article = self.get_article(aid)
        mentions = [
            Mention(text, label, start, end, entity if entity is not None else text, sentence or 0)
            for text, label, start, end, entity, sentence in cur.execute(
                'SELECT text, label, start, "end", entity, sentence FROM mentions '
                'WHERE article_id = ? ORDER BY start, "end"',
                [aid],
            ).fetchall()
        ]
        places: dict[str, Place] = {}
        rows = cur.execute(
            'SELECT p.id, p.name, p.lat, p.lon, p.country_code, p.kind, mp.start, mp."end", '
            "mp.text, mp.confidence, mp.reason FROM mention_places mp "
            "JOIN places p ON p.id = mp.place_id WHERE mp.article_id = ? "
            'ORDER BY mp.start NULLS LAST, mp."end"',
            [aid],
        ).fetchall()
        for pid, name, lat, lon, cc, kind, start, end, text, confidence, reason in rows:
            place = places.get(pid)
            if place is None:
                place = places[pid] = Place(
                    name=name,
                    lat=lat,
                    lon=lon,
                    country_code=cc,
                    kind=kind,
                    confidence=confidence or 0.0,
                    id=None if pid.startswith("name:") else pid,
                    reason=reason or "",
                )
            if start is not None:
                place.mentions.append(Span(start, end, text))
        dates = [
            DateMention(text, start, end, d.isoformat() if d else None, precision)
            for text, start, end, d, precision in cur.execute(
                'SELECT text, start, "end", date, precision FROM dates '
                'WHERE article_id = ? ORDER BY start, "end"',
                [aid],
            ).fetchall()
        ]
        return Analysis(
            article=article, entities=mentions, places=list(places.values()), dates=dates
        )
