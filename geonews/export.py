"""Exports: what a view shows (CSV, JSON, GeoJSON) and the whole corpus (JSON lines).

    data, filename, mime = export.export_view(store, filters, "places", "geojson")
    export.export_corpus(store, "corpus.jsonl")          # everything, curation included
    added, skipped = export.import_corpus(other, "corpus.jsonl")

Corpus file: the first line is a header object (``"format": "geonews-corpus"``)
holding the entity curation log, the pins, the geocoder cache and the entities
and places no article refers to; then one line per stored article in the
``analyze`` shape (``id``, ``title``, ``url``, ``source``, ``published``,
``entities``, ``places``, ``dates``) plus what the store keeps besides:
``hash``, ``added_at``, ``text``, each mention's ``entity_id`` and ``sentence``,
the ``entity_names`` of its entities, each place's stored ``id`` and each place
span's ``confidence`` and ``reason``. Importing it into an empty store gives the
same tables back.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from geonews import analysis, curation
from geonews.errors import InputError, ParseError, StoreError
from geonews.filters import Filters

FORMAT = "geonews-corpus"
VERSION = 1
WHATS = ("mentions", "entities", "places", "articles")
FORMATS = ("csv", "json", "geojson")
MIME = {"csv": "text/csv", "json": "application/json", "geojson": "application/geo+json"}
_ALL = 2**62

# -- views -------------------------------------------------------------------------


def _mentions_sql(filters: Filters) -> tuple[str, list]:
    fa, params = analysis.filtered_articles(filters)
    types, tparams = (
        ("", []) if not filters.types else (" AND list_contains(?, m.label)", [list(filters.types)])
    )
    sql = f"""
        WITH fa AS ({fa})
        SELECT m.article_id, a.ref, a.title, a.published, m.start, m."end", m.text, m.label,
               coalesce(e.name, m.entity) AS entity, m.entity_id, m.sentence
        FROM mentions m JOIN fa ON fa.id = m.article_id JOIN articles a ON a.id = m.article_id
        LEFT JOIN entities e ON e.id = m.entity_id
        WHERE TRUE{types}
        ORDER BY a.published DESC NULLS LAST, m.article_id, m.start, m."end"
    """
    return sql, params + tparams


def _view_table(store, filters: Filters, what: str) -> pa.Table:
    if what == "mentions":
        sql, params = _mentions_sql(filters)
        try:
            return store.cursor().sql(sql, params=params).to_arrow_table()
        except duckdb.Error as exc:
            raise StoreError(f"Query failed: {exc}") from exc
    if what == "entities":
        df = analysis.entity_table(store, filters, limit=_ALL)
    elif what == "places":
        df = analysis.place_counts(store, filters)
    else:
        df = analysis.articles(store, filters, limit=_ALL)
    return pa.Table.from_pandas(df, preserve_index=False)


def places_geojson(store, filters: Filters) -> dict:
    """The places in view as a GeoJSON FeatureCollection of Points."""
    df = analysis.place_counts(store, filters)
    features = [
        {
            "type": "Feature",
            "id": pid,
            "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
            "properties": {
                "id": pid,
                "name": name,
                "kind": kind,
                "country_code": cc if isinstance(cc, str) else None,
                "mentions": int(mentions),
                "articles": int(n_articles),
            },
        }
        for pid, name, lat, lon, cc, kind, mentions, n_articles in df.itertuples(
            index=False, name=None
        )
    ]
    return {"type": "FeatureCollection", "features": features}


def _json_default(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _clean(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def export_view(store, filters: Filters, what: str, fmt: str) -> tuple[bytes, str, str]:
    """What a view shows, as a file: (data, filename, mime type).

    ``what``: mentions | entities | places | articles; ``fmt``: csv | json, or
    geojson for places.
    """
    if what not in WHATS:
        raise InputError(f"Unknown export {what!r}; one of {', '.join(WHATS)}.")
    if fmt not in FORMATS or (fmt == "geojson" and what != "places"):
        allowed = "csv, json, geojson" if what == "places" else "csv, json"
        raise InputError(f"Cannot export {what} as {fmt!r}; one of {allowed}.")
    filename = f"geonews-{what}.{fmt}"
    if fmt == "geojson":
        data = json.dumps(places_geojson(store, filters), ensure_ascii=False).encode("utf-8")
        return data, filename, MIME[fmt]
    table = _view_table(store, filters, what)
    if fmt == "csv":
        buf = io.BytesIO()
        pacsv.write_csv(table, buf)
        return buf.getvalue(), filename, MIME[fmt]
    rows = [{k: _clean(v) for k, v in r.items()} for r in table.to_pylist()]
    data = json.dumps(rows, ensure_ascii=False, default=_json_default).encode("utf-8")
    return data, filename, MIME[fmt]


# -- the whole corpus --------------------------------------------------------------

_ARTICLE_LINES = """
WITH ms AS (
    SELECT article_id, list(struct_pack(text, label, start, "end", entity, entity_id, sentence)
                            ORDER BY start, "end", text, label) AS entities
    FROM mentions GROUP BY article_id),
en AS (
    SELECT article_id, list(struct_pack(id, name, label) ORDER BY id) AS entity_names
    FROM (SELECT DISTINCT m.article_id, e.id, e.name, e.label
          FROM mentions m JOIN entities e ON e.id = m.entity_id)
    GROUP BY article_id),
ps AS (
    SELECT article_id, list(struct_pack(id, name, lat, lon, country_code, kind, confidence,
                                        reason, mentions) ORDER BY first, id) AS places
    FROM (SELECT mp.article_id, p.id, p.name, p.lat, p.lon, p.country_code, p.kind,
                 first(mp.confidence ORDER BY mp.start NULLS LAST) AS confidence,
                 first(mp.reason ORDER BY mp.start NULLS LAST) AS reason,
                 min(mp.start) AS first,
                 list(struct_pack(start := mp.start, "end" := mp."end", text := mp.text,
                                  confidence := mp.confidence, reason := mp.reason)
                      ORDER BY mp.start NULLS LAST, mp."end", mp.text) AS mentions
          FROM mention_places mp JOIN places p ON p.id = mp.place_id
          GROUP BY ALL)
    GROUP BY article_id),
ds AS (
    SELECT article_id, list(struct_pack(text, start, "end", date, precision)
                            ORDER BY start, "end", text) AS dates
    FROM dates GROUP BY article_id)
SELECT a.ref, a.id, a.title, a.url, a.source, a.published, a.added_at, a.text,
       ms.entities, en.entity_names, ps.places, ds.dates
FROM articles a
LEFT JOIN ms ON ms.article_id = a.id LEFT JOIN en ON en.article_id = a.id
LEFT JOIN ps ON ps.article_id = a.id LEFT JOIN ds ON ds.article_id = a.id
ORDER BY a.added_at, a.id
"""


def _records(cur, sql: str, params=None) -> list[dict]:
    res = cur.execute(sql, params or [])
    cols = [d[0] for d in res.description]
    return [dict(zip(cols, r, strict=True)) for r in res.fetchall()]


def _header(cur) -> dict:
    from geonews.store import SCHEMA_VERSION

    return {
        "format": FORMAT,
        "version": VERSION,
        "schema_version": SCHEMA_VERSION,
        "exported_at": dt.datetime.now().isoformat(timespec="seconds"),
        "curation": _records(cur, "SELECT * FROM entity_curation ORDER BY seq"),
        "overrides": _records(cur, "SELECT * FROM geocode_overrides ORDER BY id"),
        "geocode_cache": _records(cur, "SELECT * FROM geocode_cache ORDER BY provider, query"),
        "entities": _records(
            cur,
            "SELECT * FROM entities WHERE id NOT IN "
            "(SELECT entity_id FROM mentions WHERE entity_id IS NOT NULL) ORDER BY id",
        ),
        "places": _records(
            cur,
            "SELECT * FROM places WHERE id NOT IN (SELECT place_id FROM mention_places) "
            "ORDER BY id",
        ),
    }


def _article_line(r: dict) -> dict:
    return {
        "id": r["ref"],
        "hash": r["id"],
        "title": r["title"],
        "url": r["url"],
        "source": r["source"],
        "published": r["published"],
        "added_at": r["added_at"],
        "text": r["text"],
        "entities": r["entities"] or [],
        "entity_names": r["entity_names"] or [],
        "places": r["places"] or [],
        "dates": r["dates"] or [],
    }


class _Out:
    """Write text lines to a path, a text file or a binary file."""

    def __init__(self, fp):
        self._close = None
        if isinstance(fp, str | os.PathLike):
            fp = self._close = open(fp, "w", encoding="utf-8")  # noqa: SIM115
        self.fp = fp
        self.text = isinstance(fp, io.TextIOBase)

    def write(self, obj) -> None:
        line = json.dumps(obj, ensure_ascii=False, default=_json_default) + "\n"
        self.fp.write(line if self.text else line.encode("utf-8"))

    def close(self) -> None:
        if self._close is not None:
            self._close.close()


def export_corpus(store, fp, *, batch: int = 500) -> int:
    """Write the whole corpus as JSON lines (header, then one article a line); the count."""
    out = _Out(fp)
    cur = store.cursor()
    n = 0
    try:
        out.write(_header(cur))
        res = cur.execute(_ARTICLE_LINES)
        cols = [d[0] for d in res.description]
        while rows := res.fetchmany(batch):
            for r in rows:
                out.write(_article_line(dict(zip(cols, r, strict=True))))
                n += 1
    except duckdb.Error as exc:
        raise StoreError(f"Could not export the corpus: {exc}") from exc
    finally:
        out.close()
    return n


def _lines(fp) -> Iterator[tuple[int, str]]:
    if isinstance(fp, str | os.PathLike):
        with open(Path(fp), encoding="utf-8") as f:
            yield from enumerate(f, 1)
        return
    for i, line in enumerate(fp, 1):
        yield i, line.decode("utf-8") if isinstance(line, bytes) else line


def _date(v) -> dt.date | None:
    return dt.date.fromisoformat(v) if v else None


def _ts(v) -> dt.datetime | None:
    return dt.datetime.fromisoformat(v) if v else None


class _Rows:
    """Rows of imported articles, table by table (column order = table order)."""

    def __init__(self):
        self.articles: list[tuple] = []
        self.entities: dict[str, tuple] = {}
        self.mentions: list[tuple] = []
        self.places: dict[str, tuple] = {}
        self.mention_places: list[tuple] = []
        self.dates: list[tuple] = []

    def add(self, d: dict) -> str:
        aid = d["hash"]
        self.articles.append(
            (
                aid,
                d.get("id"),
                d.get("title"),
                d.get("url"),
                d.get("source"),
                _date(d.get("published")),
                d["text"],
                _ts(d.get("added_at")) or dt.datetime.now(),
            )
        )
        for e in d.get("entity_names") or []:
            self.entities.setdefault(e["id"], (e["id"], e["name"], e["label"]))
        for m in d.get("entities") or []:
            self.mentions.append(
                (
                    aid,
                    m["start"],
                    m["end"],
                    m["text"],
                    m["label"],
                    m.get("entity"),
                    m.get("entity_id"),
                    m.get("sentence"),
                )
            )
        for p in d.get("places") or []:
            pid = p["id"]
            self.places.setdefault(
                pid,
                (pid, p["name"], p.get("lat"), p.get("lon"), p.get("country_code"), p.get("kind")),
            )
            for s in p.get("mentions") or []:
                self.mention_places.append(
                    (
                        aid,
                        pid,
                        s.get("start"),
                        s.get("end"),
                        s.get("text"),
                        s.get("confidence", p.get("confidence")),
                        s.get("reason", p.get("reason")),
                    )
                )
        for x in d.get("dates") or []:
            self.dates.append(
                (aid, x["start"], x["end"], x["text"], _date(x.get("date")), x.get("precision"))
            )
        return aid


def _insert(cur, table: str, rows, verb: str = "INSERT INTO") -> None:
    rows = list(rows)
    if not rows:
        return
    cols = [r[0] for r in cur.execute(f"DESCRIBE {table}").fetchall()]
    data = pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols[: len(rows[0])])})
    cur.register("_import_rows", data)
    try:
        names = ", ".join(f'"{c}"' for c in data.column_names)
        cur.execute(f"{verb} {table} ({names}) SELECT {names} FROM _import_rows")
    finally:
        cur.unregister("_import_rows")


def _read(fp) -> tuple[dict | None, list[dict]]:
    header, articles, errors = None, [], []
    for i, line in _lines(fp):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except ValueError as exc:
            errors.append((i, f"not JSON: {exc}"))
            continue
        if not isinstance(d, dict):
            errors.append((i, "not a JSON object"))
        elif d.get("format") == FORMAT:
            if d.get("version", 0) > VERSION:
                raise ParseError(
                    f"Line {i}: corpus format {d['version']} is newer than this geonews reads."
                )
            header = d
        elif isinstance(d.get("text"), str) and d.get("hash"):
            articles.append(d)
        else:
            errors.append((i, "not a geonews corpus line (no hash and text)"))
    if errors:
        raise ParseError(
            f"{len(errors)} line(s) of the corpus file cannot be read; nothing imported.",
            errors=errors,
        )
    return header, articles


def import_corpus(store, fp) -> tuple[int, int]:
    """Add the articles of a corpus file not stored yet: (added, skipped).

    Everything is written in one transaction. Into an empty store the result is
    the exported store; into one with its own curation, that curation is also
    applied to the new articles, then the file's curation steps are appended.
    """
    if store.read_only:
        raise StoreError("The store is open read-only.")
    header, lines = _read(fp)
    header = header or {}
    with store._lock:
        cur = store.cursor()
        try:
            cur.execute("BEGIN TRANSACTION")
            hashes = list(dict.fromkeys(d["hash"] for d in lines))
            stored = {
                r[0]
                for r in cur.execute(
                    "SELECT id FROM articles WHERE list_contains(?, id)", [hashes]
                ).fetchall()
            }
            rows, seen = _Rows(), set(stored)
            for d in lines:
                if d["hash"] not in seen:
                    seen.add(d["hash"])
                    rows.add(d)
            for e in header.get("entities") or []:
                rows.entities.setdefault(e["id"], (e["id"], e["name"], e["label"]))
            for p in header.get("places") or []:
                rows.places.setdefault(
                    p["id"],
                    (
                        p["id"],
                        p["name"],
                        p.get("lat"),
                        p.get("lon"),
                        p.get("country_code"),
                        p.get("kind"),
                    ),
                )
            _insert(cur, "articles", rows.articles)
            _insert(cur, "entities", rows.entities.values(), "INSERT OR IGNORE INTO")
            _insert(cur, "mentions", rows.mentions)
            _insert(cur, "places", rows.places.values(), "INSERT OR IGNORE INTO")
            _insert(cur, "mention_places", rows.mention_places)
            _insert(cur, "dates", rows.dates)
            new_ids = [r[0] for r in rows.articles]
            if new_ids:  # this store's curation covers the new articles too
                curation.apply(cur, new_ids)
            _import_curation(cur, header.get("curation") or [])
            _import_overrides(cur, header.get("overrides") or [])
            _import_cache(cur, header.get("geocode_cache") or [])
            cur.execute("COMMIT")
        except BaseException as exc:
            try:
                cur.execute("ROLLBACK")
            except duckdb.Error:
                pass
            if isinstance(exc, InputError):
                raise
            if isinstance(
                exc, duckdb.Error | pa.ArrowException | KeyError | TypeError | ValueError
            ):
                raise StoreError(f"Could not import the corpus (nothing written): {exc!r}") from exc
            raise
        finally:
            cur.close()
    added = len(rows.articles)
    return added, len(lines) - added


def _insert_dicts(cur, table: str, records: list[dict], where: str = "") -> None:
    """Insert exported records (JSON values) into ``table``: the columns both have."""
    if not records:
        return
    types = {r[0]: r[1] for r in cur.execute(f"DESCRIBE {table}").fetchall()}
    cols = [c for c in types if any(c in r for r in records)]
    conv = {
        c: _ts if types[c].startswith("TIMESTAMP") else _date if types[c] == "DATE" else None
        for c in cols
    }
    data = pa.table(
        {c: [conv[c](r.get(c)) if conv[c] else r.get(c) for r in records] for c in cols}
    )
    cur.register("_import_rows", data)
    try:
        names = ", ".join(f'"{c}"' for c in cols)
        cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _import_rows r {where}")
    finally:
        cur.unregister("_import_rows")


_CURATION_COLS = ("op", "entity_id", "target_id", "name", "label", "alias")


def _import_curation(cur, steps: list[dict]) -> None:
    """Append the file's curation steps this store does not have (in their order)."""
    if not steps:
        return
    cols = ", ".join(_CURATION_COLS)
    have = {tuple(r) for r in cur.execute(f"SELECT {cols} FROM entity_curation").fetchall()}
    start = cur.execute("SELECT coalesce(max(seq), 0) FROM entity_curation").fetchone()[0]
    new = []
    for step in sorted(steps, key=lambda x: x["seq"]):
        key = tuple(step.get(c) for c in _CURATION_COLS)
        if key not in have:
            have.add(key)
            new.append({**step, "seq": step["seq"] if start == 0 else start + len(new) + 1})
    _insert_dicts(cur, "entity_curation", new)


def _import_overrides(cur, pins: list[dict]) -> None:
    """The file's pins: with their ids into a store without pins, else renumbered."""
    if not pins:
        return
    if cur.execute("SELECT count(*) FROM geocode_overrides").fetchone()[0] == 0:
        _insert_dicts(cur, "geocode_overrides", pins)
        top = max(int(p["id"]) for p in pins)  # move the id sequence past the imported ids
        cur.execute("SELECT max(nextval('geocode_overrides_seq')) FROM range(?)", [top]).fetchall()
        return
    _insert_dicts(
        cur,
        "geocode_overrides",
        [{k: v for k, v in p.items() if k != "id"} for p in pins],
        "WHERE NOT EXISTS (SELECT 1 FROM geocode_overrides o WHERE o.name = r.name "
        "AND o.article_id IS NOT DISTINCT FROM r.article_id "
        "AND o.place_id IS NOT DISTINCT FROM r.place_id "
        "AND o.lat IS NOT DISTINCT FROM r.lat AND o.lon IS NOT DISTINCT FROM r.lon)",
    )


def _import_cache(cur, rows: list[dict]) -> None:
    _insert_dicts(
        cur,
        "geocode_cache",
        rows,
        "WHERE NOT EXISTS (SELECT 1 FROM geocode_cache c "
        "WHERE c.provider = r.provider AND c.query = r.query)",
    )


__all__ = ["export_corpus", "export_view", "import_corpus", "places_geojson"]
