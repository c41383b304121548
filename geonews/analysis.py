"""Filters -> DataFrames: the dashboard's queries over the stored corpus.

Every function takes a :class:`~geonews.store.Store` and a
:class:`~geonews.filters.Filters`, runs ONE DuckDB query built on the same
filtered-article block (:func:`filtered_articles`) and returns a pandas
DataFrame with fixed columns (empty, same columns, when nothing matches).
Nothing loads the corpus into Python.

Three ways to the same answer, fastest first: the whole corpus (no filter) reads
the store's whole-corpus pre-aggregates (``agg_entities``, ...); a filtered view
reads its integer-keyed facts (:func:`filtered_docs`: ``agg_docs``, ``agg_de``, ...,
and the word index for ``text``); a read-only store whose pre-aggregates are stale,
or a ``types`` filter, reads the base tables (:func:`filtered_articles`).

Filter semantics: an article is in view when it matches every non-empty field
(publication date in range; source in ``sources``; ``text`` in its title or
text, case-insensitive; it mentions ALL ``entities`` (canonical name, any case,
or entity id); it mentions ANY of ``places`` (place ids); it mentions ANY
place in ``countries``). ``types`` (spaCy labels) restricts which mentions are
counted, not which articles are in view: entities, places (a place mention
counts when its span's label is one of ``types``) and dates (only with DATE).
"""

from __future__ import annotations

import functools
import re

import pandas as pd

from geonews.errors import InputError
from geonews.filters import Filters
from geonews.store import AGG_TOP

FREQS = ("day", "week", "month", "year")
SCOPES = ("sentence", "article")
WEIGHTS = ("count", "pmi")
# The finest bucket a date of this precision may go in (a "2023" is no event of a month).
_PRECISION_RANK = {"day": 0, "month": 2, "year": 3}
_FREQ_RANK = {"day": 0, "week": 1, "month": 2, "year": 3}
SNIPPET_CHARS = 320

ARTICLE_COLUMNS = [
    "article_id",
    "ref",
    "title",
    "source",
    "published",
    "url",
    "n_entities",
    "n_places",
]
ENTITY_COLUMNS = ["entity_id", "name", "label", "mentions", "articles", "first_seen", "last_seen"]
PLACE_COLUMNS = ["place_id", "name", "lat", "lon", "country_code", "kind", "mentions", "articles"]
PLACE_ENTITY_COLUMNS = ["place_id", "entity", "sentences", "articles"]
COUNTRY_COLUMNS = ["country_code", "iso3", "country", "mentions", "articles"]
PUBLICATION_COLUMNS = ["period", "articles"]
EVENT_COLUMNS = ["period", "mentions", "articles"]
ENTITY_TIMELINE_COLUMNS = ["period", "entity", "mentions"]
TOP_COLUMNS = ["entity_id", "name", "label", "mentions"]
PAIR_COLUMNS = ["source", "target", "source_label", "target_label", "count", "pmi", "weight"]
EVIDENCE_COLUMNS = ["article_id", "title", "published", "snippet"]


# -- the filtered article set ----------------------------------------------------


# The entities an entity filter names (by name, any case, or by id), as the FACTS number
# them; its parameters from _entity_keys.
_ENTITY_MATCH = (
    "SELECT eid, id, lname FROM agg_ents WHERE list_contains(?, lname) OR list_contains(?, id)"
)


def _entity_keys(entities) -> tuple[list, list]:
    """An entity filter's parameters (:data:`_ENTITY_MATCH`'s, and those of the base
    tables in :func:`filtered_articles`): the names lowered, and the ids."""
    return sorted({e.casefold() for e in entities}), list(entities)


def filtered_articles(filters: Filters) -> tuple[str, list]:
    """SQL selecting the articles in view (columns ``id``, ``published``) and its parameters.

    Every query here starts ``WITH fa AS (<this>)``.
    """
    f = filters
    where: list[str] = []
    params: list = []
    if f.date_from:
        where.append("a.published >= ?")
        params.append(f.date_from)
    if f.date_to:
        where.append("a.published <= ?")
        params.append(f.date_to)
    if f.sources:
        where.append("list_contains(?, a.source)")
        params.append(list(f.sources))
    if f.text:
        where.append("(contains(lower(a.title), ?) OR contains(lower(a.text), ?))")
        params += [f.text.lower(), f.text.lower()]
    if f.entities:
        names, ids = _entity_keys(f.entities)
        where.append(
            "a.id IN (SELECT m.article_id FROM mentions m JOIN entities e ON e.id = m.entity_id "
            "WHERE list_contains(?, lower(e.name)) OR list_contains(?, e.id) "
            "GROUP BY m.article_id "
            "HAVING count(DISTINCT CASE WHEN list_contains(?, e.id) THEN e.id "
            "ELSE lower(e.name) END) >= ?)"
        )
        params += [names, ids, ids, len(set(f.entities))]
    if f.places:
        where.append(
            "a.id IN (SELECT mp.article_id FROM mention_places mp "
            "WHERE list_contains(?, mp.place_id))"
        )
        params.append(list(f.places))
    if f.countries:
        where.append(
            "a.id IN (SELECT mp.article_id FROM mention_places mp "
            "JOIN places p ON p.id = mp.place_id WHERE list_contains(?, p.country_code))"
        )
        params.append(list(f.countries))
    sql = "SELECT a.id, a.published FROM articles a"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql, params


def filtered_docs(filters: Filters) -> tuple[str, list]:
    """Like :func:`filtered_articles`, over the store's integer-keyed ``FACTS``: SQL
    selecting the articles in view as ``doc`` (and ``published``) from ``agg_docs``, one
    row per article (a join to it keeps rows once).

    Same semantics; ``types`` is not handled here (callers use the base tables then).
    """
    f = filters
    where: list[str] = []
    params: list = []
    check: list = []  # the query text, when its words do not settle the search
    if f.date_from:
        where.append("d.published >= ?")
        params.append(f.date_from)
    if f.date_to:
        where.append("d.published <= ?")
        params.append(f.date_to)
    if f.sources:
        where.append("list_contains(?, d.source)")
        params.append(list(f.sources))
    if f.text:
        # The word index: an article whose lowered title or text holds the lowered query
        # has, for each run of letters and digits in the query, a word holding that run.
        # A query that is one run is found exactly so; any other is then checked.
        q = f.text.lower()
        runs = sorted(set(re.findall(r"[a-z0-9]+", q)))
        for run in runs:
            where.append(
                "d.doc IN (SELECT doc FROM search_postings WHERE tid IN "
                "(SELECT tid FROM search_vocab WHERE contains(term, ?)))"
            )
            params.append(run)
        if runs != [q]:
            check = [q, q]
    if f.entities:
        names, ids = _entity_keys(f.entities)
        if len(set(f.entities)) == 1:  # any article naming it (the common case: no grouping)
            where.append(
                f"d.doc IN (SELECT doc FROM agg_ed WHERE eid IN (SELECT eid FROM ({_ENTITY_MATCH})))"
            )
            params += [names, ids]
        else:  # an article naming every one of them
            where.append(
                f"d.doc IN (SELECT de.doc FROM agg_ed de JOIN ({_ENTITY_MATCH}) e ON e.eid = de.eid "
                "GROUP BY de.doc HAVING count(DISTINCT CASE WHEN list_contains(?, e.id) "
                "THEN e.id ELSE e.lname END) >= ?)"
            )
            params += [names, ids, ids, len(set(f.entities))]
    if f.places:
        where.append(
            "d.doc IN (SELECT dp.doc FROM agg_pd dp WHERE dp.pidx IN "
            "(SELECT pidx FROM agg_pl WHERE list_contains(?, id)))"
        )
        params.append(list(f.places))
    if f.countries:
        where.append("d.doc IN (SELECT doc FROM agg_cd WHERE list_contains(?, country_code))")
        params.append(list(f.countries))
    sql = "SELECT d.doc, d.published FROM agg_docs d"
    if check:  # last, on the articles every other condition keeps
        sql = (
            "SELECT d.doc, d.published FROM agg_docs d JOIN articles a ON a.id = d.id "
            "WHERE (contains(lower(a.title), ?) OR contains(lower(a.text), ?))"
            " AND d.doc IN (SELECT d.doc FROM agg_docs d"
            f"{' WHERE ' + ' AND '.join(where) if where else ''})"
        )
        return sql, check + params
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql, params


def _in_view(filters: Filters, sql: str, alias: str) -> tuple[str, list]:
    """``sql`` over a FACTS table (``alias``) with its ``{join}`` keeping the rows of the
    articles in view; and its parameters. (:func:`filtered_docs` gives one row per
    article, so a join keeps each row once.)"""
    fd, params = filtered_docs(filters)
    return sql.format(join=f"JOIN ({fd}) v ON v.doc = {alias}.doc"), params


def _one_entity_view(store, filters: Filters, table: str) -> tuple[str, list] | None:
    """When the view is one entity's and nothing else (what clicking an entity shows)
    and that entity is one of the ``agg_gbits`` ones, its rows of ``table`` (``agg_ee``,
    ``agg_ep``, ``agg_ec``: counted ahead over the articles naming it) and their
    parameters; else None. Call with the FACTS up to date."""
    entities = set(filters.entities)
    if len(entities) != 1 or filters != Filters(entities=filters.entities):
        return None
    rows = (
        store.cursor()
        .execute(
            f"SELECT e.eid, g.eid IS NOT NULL FROM ({_ENTITY_MATCH}) e "
            "LEFT JOIN agg_gbits g ON g.eid = e.eid",
            list(_entity_keys(entities)),
        )
        .fetchall()
    )
    if len(rows) != 1 or not rows[0][1]:  # a name of several entities, or not counted ahead
        return None
    return f"SELECT * EXCLUDE (e1) FROM {table} WHERE e1 = ?", [rows[0][0]]


def _facts(store, filters: Filters) -> bool:
    """Whether this view can read the store's ``FACTS`` (up to date, built now if not):
    any filter but ``types``, on a store that can keep them."""
    if filters.types:
        return False
    facts = getattr(store, "facts", None)
    return facts is not None and facts()


def _types(filters: Filters, col: str = "m.label") -> tuple[str, list]:
    """`` AND <label in types>`` for mention rows (empty when no types)."""
    if not filters.types:
        return "", []
    return f" AND list_contains(?, {col})", [list(filters.types)]


def _place_types(filters: Filters) -> tuple[str, list]:
    """`` AND`` clause keeping a place mention (``mp``) only when its span's label is allowed."""
    if not filters.types:
        return "", []
    return (
        " AND NOT EXISTS (SELECT 1 FROM mentions tm WHERE tm.article_id = mp.article_id "
        'AND tm.start = mp.start AND tm."end" = mp."end" '
        "AND NOT list_contains(?, tm.label))",
        [list(filters.types)],
    )


def _run(store, sql: str, params: list, columns: list[str]) -> pd.DataFrame:
    return _frame(store.query(sql, params), columns)


_DATE_COLUMNS = ("published", "first_seen", "last_seen", "period")


def _frame(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``df`` with exactly ``columns`` (dates as ``datetime.date``); empty keeps the columns."""
    if df.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=df[c].dtype if c in df else object) for c in columns}
        )
    df = df[columns].reset_index(drop=True)
    for c in _DATE_COLUMNS:
        if c in df and pd.api.types.is_datetime64_any_dtype(df[c]):
            df[c] = pd.Series(
                [None if pd.isna(v) else v.date() for v in df[c]], dtype=object, index=df.index
            )
    return df


def _check(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InputError(f"Unknown {name} {value!r}; one of {', '.join(allowed)}.")
    return value


def _entity_match(names_or_ids) -> tuple[str, list]:
    """A condition on ``e`` (entities) matching canonical names (any case) or ids."""
    items = [str(x) for x in names_or_ids]
    return (
        "(list_contains(?, lower(e.name)) OR list_contains(?, e.id))",
        [[x.casefold() for x in items], items],
    )


# -- revision and options ----------------------------------------------------------


def revision(store) -> str:
    """A token that changes whenever the corpus, the pins or the curation change."""
    return store.revision()


def _aggregates(store, filters: Filters | None, *names: str) -> bool:
    """Whether the view is the whole corpus (no filter at all) and the store's
    pre-aggregates ``names`` (``store.AGGREGATES``) are up to date, built now if they
    were not: the query then reads them instead of the base tables. False for a store
    that cannot keep them (read-only and stale)."""
    if filters is not None and not filters.is_empty:
        return False
    aggregate = getattr(store, "aggregate", None)
    return aggregate is not None and all(aggregate(n) for n in names)


def options(store) -> dict:
    """What the filter widgets offer: entities, types, countries, places, sources, dates."""
    cur = store.cursor()
    if _aggregates(store, None, "agg_entities", "agg_labels", "agg_places"):
        ent = "(SELECT entity_id, mentions AS n FROM agg_entities)"
        labels = "agg_labels"
        mp = "(SELECT place_id, mentions AS n FROM agg_places)"
    else:
        ent = "(SELECT entity_id, 1 AS n FROM mentions WHERE entity_id IS NOT NULL)"
        labels = "mentions"
        mp = "(SELECT place_id, 1 AS n FROM mention_places)"
    entities = [
        r[0]
        for r in cur.execute(
            f"SELECT e.name FROM {ent} m JOIN entities e ON e.id = m.entity_id "
            "GROUP BY e.name ORDER BY sum(m.n) DESC, e.name LIMIT 2000"
        ).fetchall()
    ]
    types = [
        r[0] for r in cur.execute(f"SELECT DISTINCT label FROM {labels} ORDER BY 1").fetchall()
    ]
    countries = [
        r[0]
        for r in cur.execute(
            "SELECT DISTINCT p.country_code FROM places p "
            f"WHERE p.country_code IS NOT NULL AND p.id IN (SELECT place_id FROM {mp}) "
            "ORDER BY 1"
        ).fetchall()
    ]
    places = store.query(
        "SELECT p.id AS place_id, p.name, p.country_code FROM places p "
        f"JOIN {mp} mp ON mp.place_id = p.id "
        "GROUP BY ALL ORDER BY sum(mp.n) DESC, p.name"
    )
    sources = [
        r[0]
        for r in cur.execute(
            "SELECT DISTINCT source FROM articles WHERE source IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    date_min, date_max = cur.execute(
        "SELECT min(published), max(published) FROM articles"
    ).fetchone()
    return {
        "entities": entities,
        "types": types,
        "countries": countries,
        "places": places[["place_id", "name", "country_code"]].reset_index(drop=True),
        "sources": sources,
        "date_min": date_min,
        "date_max": date_max,
    }


# -- articles and entities ---------------------------------------------------------


def articles(store, filters: Filters, *, limit: int = 500) -> pd.DataFrame:
    """The articles in view, newest first, with how many entities and places each names."""
    if _facts(store, filters):
        fd, params = filtered_docs(filters)
        sql = f"""
            WITH page AS (SELECT d.doc, d.id, d.published, d.added_at FROM agg_docs d
                          {"JOIN (" + fd + ") v ON v.doc = d.doc" if params else ""}
                          ORDER BY d.published DESC NULLS LAST, d.added_at DESC, d.id LIMIT ?)
            SELECT a.id AS article_id, a.ref, a.title, a.source, a.published, a.url,
                   n.entities AS n_entities, n.places AS n_places
            FROM page JOIN articles a ON a.id = page.id JOIN agg_dn n ON n.doc = page.doc
            ORDER BY a.published DESC NULLS LAST, a.added_at DESC, a.id
        """
        return _run(store, sql, params + [int(limit)], ARTICLE_COLUMNS)
    fa, params = filtered_articles(filters)
    types, tparams = _types(filters)
    ptypes, pparams = _place_types(filters)
    # The page of articles first (top-N by date), then the counts of those articles only.
    sql = f"""
        WITH fa AS ({fa}),
        page AS (SELECT a.id, a.ref, a.title, a.source, a.published, a.url, a.added_at
                 FROM articles a{" WHERE a.id IN (SELECT id FROM fa)" if params else ""}
                 ORDER BY a.published DESC NULLS LAST, a.added_at DESC, a.id LIMIT ?),
        ne AS (SELECT m.article_id, count(DISTINCT m.entity_id) AS n FROM mentions m
               WHERE m.article_id IN (SELECT id FROM page) AND m.entity_id IS NOT NULL{types}
               GROUP BY 1),
        np AS (SELECT mp.article_id, count(DISTINCT mp.place_id) AS n FROM mention_places mp
               WHERE mp.article_id IN (SELECT id FROM page){ptypes} GROUP BY 1)
        SELECT a.id AS article_id, a.ref, a.title, a.source, a.published, a.url,
               coalesce(ne.n, 0) AS n_entities, coalesce(np.n, 0) AS n_places
        FROM page a
        LEFT JOIN ne ON ne.article_id = a.id LEFT JOIN np ON np.article_id = a.id
        ORDER BY a.published DESC NULLS LAST, a.added_at DESC, a.id
    """
    return _run(store, sql, params + [int(limit)] + tparams + pparams, ARTICLE_COLUMNS)


def entity_table(store, filters: Filters, *, search: str = "", limit: int = 1000) -> pd.DataFrame:
    """Entities mentioned in view: mentions, articles, first and last publication date."""
    fa, params = filtered_articles(filters)
    types, tparams = _types(filters)
    cond, sparams = "", []
    if search.strip():
        cond, sparams = " AND contains(lower(e.name), ?)", [search.strip().lower()]
    if _aggregates(store, filters, "agg_entities"):
        sql = f"""
            SELECT e.id AS entity_id, e.name, e.label, g.mentions, g.articles, g.first_seen,
                   g.last_seen
            FROM agg_entities g JOIN entities e ON e.id = g.entity_id
            WHERE TRUE{cond}
            ORDER BY mentions DESC, articles DESC, e.name, e.id
            LIMIT ?
        """
        return _run(store, sql, sparams + [int(limit)], ENTITY_COLUMNS)
    if _facts(store, filters):
        g, params = _one_entity_view(store, filters, "agg_ee") or _in_view(
            filters,
            "SELECT de.eid, sum(de.n) AS mentions, count(*) AS articles, min(de.published) "
            "AS first_seen, max(de.published) AS last_seen FROM agg_de de {join} GROUP BY 1",
            "de",
        )
        sql = f"""
            WITH g AS ({g})
            SELECT e.id AS entity_id, e.name, e.label, g.mentions, g.articles, g.first_seen,
                   g.last_seen
            FROM g JOIN agg_ents e ON e.eid = g.eid
            WHERE TRUE{cond}
            ORDER BY mentions DESC, articles DESC, e.name, e.id
            LIMIT ?
        """
        return _run(store, sql, params + sparams + [int(limit)], ENTITY_COLUMNS)
    sql = f"""
        WITH fa AS ({fa})
        SELECT e.id AS entity_id, e.name, e.label, count(*) AS mentions,
               count(DISTINCT m.article_id) AS articles,
               min(fa.published) AS first_seen, max(fa.published) AS last_seen
        FROM mentions m JOIN fa ON fa.id = m.article_id JOIN entities e ON e.id = m.entity_id
        WHERE TRUE{types}{cond}
        GROUP BY e.id, e.name, e.label
        ORDER BY mentions DESC, articles DESC, e.name, e.id
        LIMIT ?
    """
    return _run(store, sql, params + tparams + sparams + [int(limit)], ENTITY_COLUMNS)


def top_entities(store, filters: Filters, *, n: int = 20) -> pd.DataFrame:
    """The ``n`` most mentioned entities in view."""
    if _aggregates(store, filters, "agg_entities"):
        sql = """
            SELECT e.id AS entity_id, e.name, e.label, g.mentions
            FROM agg_entities g JOIN entities e ON e.id = g.entity_id
            ORDER BY g.mentions DESC, e.name, e.id LIMIT ?
        """
        return _run(store, sql, [int(n)], TOP_COLUMNS)
    if _facts(store, filters):
        g, params = _one_entity_view(store, filters, "agg_ee") or _in_view(
            filters, "SELECT de.eid, sum(de.n) AS mentions FROM agg_de de {join} GROUP BY 1", "de"
        )
        sql = f"""
            WITH g AS ({g})
            SELECT e.id AS entity_id, e.name, e.label, g.mentions
            FROM g JOIN agg_ents e ON e.eid = g.eid
            ORDER BY g.mentions DESC, e.name, e.id LIMIT ?
        """
        return _run(store, sql, params + [int(n)], TOP_COLUMNS)
    fa, params = filtered_articles(filters)
    types, tparams = _types(filters)
    sql = f"""
        WITH fa AS ({fa})
        SELECT e.id AS entity_id, e.name, e.label, count(*) AS mentions
        FROM mentions m JOIN fa ON fa.id = m.article_id JOIN entities e ON e.id = m.entity_id
        WHERE TRUE{types}
        GROUP BY e.id, e.name, e.label
        ORDER BY mentions DESC, e.name, e.id
        LIMIT ?
    """
    return _run(store, sql, params + tparams + [int(n)], TOP_COLUMNS)


# -- places and countries ----------------------------------------------------------


def place_counts(store, filters: Filters) -> pd.DataFrame:
    """Places in view that have coordinates, with mention and article counts."""
    if _aggregates(store, filters, "agg_places"):
        sql = """
            SELECT p.id AS place_id, p.name, p.lat, p.lon, p.country_code, p.kind,
                   g.mentions, g.articles
            FROM agg_places g JOIN places p ON p.id = g.place_id
            WHERE p.lat IS NOT NULL AND p.lon IS NOT NULL
            ORDER BY g.mentions DESC, p.name, p.id
        """
        return _run(store, sql, [], PLACE_COLUMNS)
    if _facts(store, filters):
        g, params = _one_entity_view(store, filters, "agg_ep") or _in_view(
            filters,
            "SELECT dp.pidx, sum(dp.n) AS mentions, count(*) AS articles "
            "FROM agg_dp dp {join} GROUP BY 1",
            "dp",
        )
        sql = f"""
            WITH g AS ({g})
            SELECT p.id AS place_id, p.name, p.lat, p.lon, p.country_code, p.kind,
                   g.mentions, g.articles
            FROM g JOIN agg_pl p ON p.pidx = g.pidx
            WHERE p.lat IS NOT NULL AND p.lon IS NOT NULL
            ORDER BY g.mentions DESC, p.name, p.id
        """
        return _run(store, sql, params, PLACE_COLUMNS)
    fa, params = filtered_articles(filters)
    ptypes, pparams = _place_types(filters)
    sql = f"""
        WITH fa AS ({fa})
        SELECT p.id AS place_id, p.name, p.lat, p.lon, p.country_code, p.kind,
               count(*) AS mentions, count(DISTINCT mp.article_id) AS articles
        FROM mention_places mp JOIN fa ON fa.id = mp.article_id
        JOIN places p ON p.id = mp.place_id
        WHERE p.lat IS NOT NULL AND p.lon IS NOT NULL{ptypes}
        GROUP BY p.id, p.name, p.lat, p.lon, p.country_code, p.kind
        ORDER BY mentions DESC, p.name, p.id
    """
    return _run(store, sql, params + pparams, PLACE_COLUMNS)


def place_entities(store, filters: Filters) -> pd.DataFrame:
    """For each place in view (with coordinates): the filtered entity it is named with most.

    One row per place that shares an article with one of ``filters.entities``:
    ``entity`` (its canonical name), ``sentences`` (the sentences naming both the place
    and the entity) and ``articles`` (the articles naming both). The entity named in
    the most sentences wins; when the place never shares a sentence with any, the most
    articles, then the most mentions of the entity in the articles naming the place,
    then the name. The place's own mention (a span that is also the entity's) does not
    count, and neither do dates. Empty without an entity filter.
    """
    if not filters.entities:
        return _frame(pd.DataFrame(), PLACE_ENTITY_COLUMNS)
    if _facts(store, filters):
        fd, params = filtered_docs(filters)
        fa = f"SELECT d.id FROM agg_docs d JOIN ({fd}) v ON v.doc = d.doc"
    else:
        fa, params = filtered_articles(filters)
    types, tparams = _types(filters)
    ptypes, pparams = _place_types(filters)
    items = [str(x) for x in dict.fromkeys(filters.entities)]
    # A place mention's sentence is that of the entity mention with the same span.
    sql = f"""
        WITH fa AS ({fa}),
        items AS (SELECT unnest(?::VARCHAR[]) AS item, unnest(?::VARCHAR[]) AS folded),
        ie AS (SELECT i.item, e.id, e.name FROM items i
               JOIN entities e ON lower(e.name) = i.folded OR e.id = i.item),
        em AS (SELECT m.article_id, m.start, m."end", m.sentence, ie.item
               FROM mentions m JOIN fa ON fa.id = m.article_id JOIN ie ON ie.id = m.entity_id
               WHERE m.label <> 'DATE'{types}),
        ms AS (SELECT article_id, start, "end", min(sentence) AS sentence FROM mentions
               WHERE article_id IN (SELECT article_id FROM em) GROUP BY ALL),
        pm AS (SELECT mp.article_id, mp.start, mp."end", ms.sentence, mp.place_id
               FROM mention_places mp JOIN places p ON p.id = mp.place_id
               LEFT JOIN ms ON ms.article_id = mp.article_id AND ms.start = mp.start
                           AND ms."end" = mp."end"
               WHERE mp.article_id IN (SELECT article_id FROM em)
                 AND p.lat IS NOT NULL AND p.lon IS NOT NULL{ptypes}),
        pairs AS (SELECT pm.place_id, em.item, pm.article_id, em.start AS estart,
                         CASE WHEN pm.sentence = em.sentence THEN pm.sentence END AS shared
                  FROM pm JOIN em ON em.article_id = pm.article_id
                  WHERE em.start IS DISTINCT FROM pm.start OR em."end" IS DISTINCT FROM pm."end"),
        g AS (SELECT place_id, item,
                     count(DISTINCT CASE WHEN shared IS NOT NULL
                                    THEN article_id || '#' || shared END) AS sentences,
                     count(DISTINCT article_id) AS articles,
                     count(DISTINCT article_id || '#' || estart) AS near
              FROM pairs GROUP BY 1, 2),
        names AS (SELECT item, min(name) AS entity FROM ie GROUP BY 1)
        SELECT g.place_id, names.entity, g.sentences, g.articles
        FROM g JOIN names USING (item)
        QUALIFY row_number() OVER (PARTITION BY g.place_id
                                   ORDER BY g.sentences DESC, g.articles DESC, g.near DESC,
                                            names.entity, g.item) = 1
        ORDER BY g.place_id
    """
    args = params + [items, [x.casefold() for x in items]] + tparams + pparams
    return _run(store, sql, args, PLACE_ENTITY_COLUMNS)


@functools.lru_cache(maxsize=1)
def _country_table() -> dict[str, tuple[str | None, str]]:
    import pycountry

    out: dict[str, tuple[str | None, str]] = {}
    for c in pycountry.countries:
        out[c.alpha_2] = (c.alpha_3, getattr(c, "common_name", None) or c.name)
    out.setdefault("XK", ("XKX", "Kosovo"))
    return out


def country_counts(store, filters: Filters) -> pd.DataFrame:
    """Countries the places in view lie in, with mention and article counts."""
    fa, params = filtered_articles(filters)
    ptypes, pparams = _place_types(filters)
    if _aggregates(store, filters, "agg_countries"):
        sql, params, pparams = (
            "SELECT * FROM agg_countries ORDER BY mentions DESC, country_code",
            [],
            [],
        )
    elif _facts(store, filters):
        g, params = _one_entity_view(store, filters, "agg_ec") or _in_view(
            filters,
            "SELECT c.country_code, sum(c.n) AS n, count(*) AS articles, min(c.name) AS name "
            "FROM agg_dc c {join} GROUP BY 1",
            "c",
        )
        sql = f"""
            SELECT country_code, n AS mentions, articles, name AS stored_name
            FROM ({g}) ORDER BY mentions DESC, country_code
        """
        pparams = []
    else:
        sql = f"""
        WITH fa AS ({fa})
        SELECT p.country_code, count(*) AS mentions, count(DISTINCT mp.article_id) AS articles,
               min(CASE WHEN p.kind = 'country' THEN p.name END) AS stored_name
        FROM mention_places mp JOIN fa ON fa.id = mp.article_id
        JOIN places p ON p.id = mp.place_id
        WHERE p.country_code IS NOT NULL{ptypes}
        GROUP BY p.country_code
        ORDER BY mentions DESC, p.country_code
        """
    df = store.query(sql, params + pparams)
    table = _country_table()
    df["iso3"] = df["country_code"].map(lambda cc: table.get(cc, (None, None))[0])
    df["country"] = [
        table[cc][1] if cc in table else (name or cc)
        for cc, name in zip(df["country_code"], df["stored_name"], strict=True)
    ]
    return _frame(df, COUNTRY_COLUMNS)


# -- timelines ---------------------------------------------------------------------


def _fill(
    df: pd.DataFrame, freq: str, value_cols: list[str], by: str | None = None
) -> pd.DataFrame:
    """Zero rows for the empty buckets between the first and last period."""
    if df.empty:
        return df
    start, end = df["period"].min(), df["period"].max()
    offset = {
        "day": pd.DateOffset(days=1),
        "week": pd.DateOffset(weeks=1),
        "month": pd.DateOffset(months=1),
        "year": pd.DateOffset(years=1),
    }[freq]
    periods = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq=offset).date
    if by is None:
        full = pd.DataFrame({"period": periods})
    else:
        full = pd.MultiIndex.from_product(
            [periods, df[by].unique()], names=["period", by]
        ).to_frame(index=False)
    keys = ["period"] + ([by] if by else [])
    out = full.merge(df, on=keys, how="left")
    for c in value_cols:
        out[c] = out[c].fillna(0).astype("int64")
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def _period_frame(df: pd.DataFrame) -> pd.DataFrame:
    if not df.empty:
        df["period"] = pd.to_datetime(df["period"]).dt.date
    return df


def publication_timeline(store, filters: Filters, *, freq: str = "week") -> pd.DataFrame:
    """Articles in view per publication period (``period`` = first day of the bucket)."""
    _check("freq", freq, FREQS)
    fa, params = filtered_docs(filters) if _facts(store, filters) else filtered_articles(filters)
    sql = f"""
        WITH fa AS ({fa})
        SELECT CAST(date_trunc('{freq}', fa.published) AS DATE) AS period,
               count(*) AS articles
        FROM fa WHERE fa.published IS NOT NULL
        GROUP BY 1 ORDER BY 1
    """
    df = _period_frame(store.query(sql, params))
    return _frame(_fill(df, freq, ["articles"]), PUBLICATION_COLUMNS)


def event_timeline(store, filters: Filters, *, freq: str = "month") -> pd.DataFrame:
    """Resolved DATE mentions in view, bucketed by the date they refer to.

    A date coarser than ``freq`` ("last year" on a monthly timeline) is left out.
    """
    _check("freq", freq, FREQS)
    if filters.types and "DATE" not in filters.types:
        return _frame(pd.DataFrame(), EVENT_COLUMNS)
    if _aggregates(store, filters, "agg_events"):
        sql = "SELECT period, mentions, articles FROM agg_events WHERE freq = ? ORDER BY 1"
        df = _period_frame(store.query(sql, [freq]))
        return _frame(_fill(df, freq, ["mentions", "articles"]), EVENT_COLUMNS)
    if _facts(store, filters):
        fd, params = filtered_docs(filters)
        sql = f"""
            SELECT CAST(date_trunc('{freq}', x.date) AS DATE) AS period,
                   sum(x.n) AS mentions, count(DISTINCT x.doc) AS articles
            FROM agg_dd x JOIN ({fd}) v ON v.doc = x.doc WHERE x.rank <= ?
            GROUP BY 1 ORDER BY 1
        """
        df = _period_frame(store.query(sql, params + [_FREQ_RANK[freq]]))
        return _frame(_fill(df, freq, ["mentions", "articles"]), EVENT_COLUMNS)
    fa, params = filtered_articles(filters)
    precisions = [p for p, r in _PRECISION_RANK.items() if r <= _FREQ_RANK[freq]]
    sql = f"""
        WITH fa AS ({fa})
        SELECT CAST(date_trunc('{freq}', d.date) AS DATE) AS period,
               count(*) AS mentions, count(DISTINCT d.article_id) AS articles
        FROM dates d JOIN fa ON fa.id = d.article_id
        WHERE d.date IS NOT NULL AND list_contains(?, coalesce(d.precision, 'day'))
        GROUP BY 1 ORDER BY 1
    """
    df = _period_frame(store.query(sql, params + [precisions]))
    return _frame(_fill(df, freq, ["mentions", "articles"]), EVENT_COLUMNS)


def entity_timeline(store, filters: Filters, *, entities, freq: str = "month") -> pd.DataFrame:
    """Mentions of the given entities (names or ids) per publication period."""
    _check("freq", freq, FREQS)
    entities = [entities] if isinstance(entities, str) else list(entities or [])
    if not entities:
        return _frame(pd.DataFrame(), ENTITY_TIMELINE_COLUMNS)
    cond, eparams = _entity_match(entities)
    if _facts(store, filters):
        fd, params = filtered_docs(filters)
        sql = f"""
            WITH e AS (SELECT eid, name FROM agg_ents e
                       WHERE {cond.replace("lower(e.name)", "e.lname")})
            SELECT CAST(date_trunc('{freq}', de.published) AS DATE) AS period,
                   e.name AS entity, sum(de.n) AS mentions
            FROM agg_de de JOIN e ON e.eid = de.eid JOIN ({fd}) v ON v.doc = de.doc
            WHERE de.published IS NOT NULL
            GROUP BY 1, 2 ORDER BY 1, 2
        """
        df = _period_frame(store.query(sql, eparams + params))
        return _frame(_fill(df, freq, ["mentions"], by="entity"), ENTITY_TIMELINE_COLUMNS)
    fa, params = filtered_articles(filters)
    types, tparams = _types(filters)
    sql = f"""
        WITH fa AS ({fa})
        SELECT CAST(date_trunc('{freq}', fa.published) AS DATE) AS period,
               e.name AS entity, count(*) AS mentions
        FROM mentions m JOIN fa ON fa.id = m.article_id JOIN entities e ON e.id = m.entity_id
        WHERE fa.published IS NOT NULL AND {cond}{types}
          AND m.entity_id IN (SELECT e.id FROM entities e WHERE {cond})
        GROUP BY 1, 2 ORDER BY 1, 2
    """
    df = _period_frame(store.query(sql, params + eparams + tparams + eparams))
    return _frame(_fill(df, freq, ["mentions"], by="entity"), ENTITY_TIMELINE_COLUMNS)


# -- co-occurrence -----------------------------------------------------------------


def cooccurrence(
    store,
    filters: Filters,
    *,
    scope: str = "sentence",
    weight: str = "count",
    top_n: int = 20,
    min_count: int = 1,
) -> pd.DataFrame:
    """Pairs of the ``top_n`` entities in view that appear in the same sentence (or article).

    ``count`` is the number of sentences (articles) naming both; ``pmi`` is
    log(p(a,b) / (p(a) p(b))) over the sentences (articles) in view that name an
    entity; ``weight`` is one of them. Each pair once (``source`` < ``target`` by
    id), no self-pairs, no dates.
    """
    _check("scope", scope, SCOPES)
    _check("weight", weight, WEIGHTS)
    fa, params = filtered_articles(filters)
    types, tparams = _types(filters)
    sent = "m.sentence" if scope == "sentence" else "0"
    total_params: list = []  # the parameters of the facts' "total", after top_n
    if int(top_n) <= AGG_TOP and _aggregates(store, filters, "agg_pairs", "agg_units"):
        # the whole corpus: the pre-counted pairs of the AGG_TOP most mentioned entities
        params, tparams = [], []
        head = f"""
        WITH top AS (SELECT entity_id FROM agg_units WHERE scope = 'top' AND rank <= ?),
        total AS (SELECT n FROM agg_units WHERE scope = '{scope}' AND entity_id IS NULL),
        marg AS (SELECT entity_id, n FROM agg_units
                 WHERE scope = '{scope}' AND entity_id IN (SELECT entity_id FROM top)),
        pairs AS (SELECT s, t, c FROM agg_pairs WHERE scope = '{scope}' AND c >= ?
                  AND s IN (SELECT entity_id FROM top) AND t IN (SELECT entity_id FROM top))"""
    elif int(top_n) <= 64 and _facts(store, filters):
        fd, params = filtered_docs(filters)
        masked = _cooccurrence_masked(store, fd, params, scope, top_n, min_count)
        if masked is not None:
            return _pair_frame(store.query(_PAIRS_SQL.format(head=masked[0]), masked[1]), weight)
        # Each unit (sentence, article) becomes a bitmask of the top entities it names;
        # pairs and marginals are counted over the distinct masks, not over unit pairs.
        # Entity numbers follow the order of their ids, so pairs and ties are ordered as
        # on the base tables. A unit without a sentence number pairs with nothing.
        unit = "doc, sentence" if scope == "sentence" else "doc"
        nul = "sentence IS NULL" if scope == "sentence" else "FALSE"
        head = f"""
        WITH em AS (SELECT es.doc, es.sentence, es.eid, es.n
                    FROM agg_es es JOIN ({fd}) v ON v.doc = es.doc),
        top AS (SELECT eid, row_number() OVER (ORDER BY sum(n) DESC, eid) - 1 AS bit
                FROM em GROUP BY eid QUALIFY bit < ?),
        masks AS (SELECT bit_or((1::UBIGINT) << top.bit::INTEGER) AS mask, {nul} AS nul
                  FROM em JOIN top USING (eid) GROUP BY {unit}),
        mc AS (SELECT mask, nul, count(*) AS k FROM masks GROUP BY ALL),
        total AS (SELECT {"sum(units)" if scope == "sentence" else "count(*)"} AS n
                  FROM agg_nu nu JOIN ({fd}) v ON v.doc = nu.doc),
        ids AS (SELECT top.eid, top.bit, e.id FROM top JOIN agg_ents e USING (eid)),
        marg AS (SELECT ids.id AS entity_id, sum(mc.k) AS n FROM ids JOIN mc
                 ON (mc.mask >> ids.bit::INTEGER) & 1 = 1 GROUP BY 1),
        pairs AS (SELECT a.id AS s, b.id AS t, sum(mc.k) AS c
                  FROM ids a JOIN ids b ON a.eid < b.eid JOIN mc
                    ON NOT mc.nul AND (mc.mask >> a.bit::INTEGER) & (mc.mask >> b.bit::INTEGER) & 1 = 1
                  GROUP BY 1, 2 HAVING sum(mc.k) >= ?)"""
        total_params = params
        tparams = []
    else:
        head = f"""
        WITH fa AS ({fa}),
        em AS (SELECT m.article_id, {sent} AS unit, m.entity_id FROM mentions m
               JOIN fa ON fa.id = m.article_id
               WHERE m.entity_id IS NOT NULL AND m.label <> 'DATE'{types}),
        top AS (SELECT entity_id FROM em GROUP BY 1 ORDER BY count(*) DESC, entity_id LIMIT ?),
        units AS (SELECT DISTINCT article_id, unit, entity_id FROM em
                  WHERE entity_id IN (SELECT entity_id FROM top)),
        total AS (SELECT count(*) AS n FROM (SELECT DISTINCT article_id, unit FROM em)),
        marg AS (SELECT entity_id, count(*) AS n FROM units GROUP BY 1),
        pairs AS (SELECT x.entity_id AS s, y.entity_id AS t, count(*) AS c
                  FROM units x JOIN units y
                    ON x.article_id = y.article_id AND x.unit = y.unit
                   AND x.entity_id < y.entity_id
                  GROUP BY 1, 2 HAVING count(*) >= ?)"""
    args = params + tparams + [int(top_n)] + total_params + [max(int(min_count), 1)]
    return _pair_frame(store.query(_PAIRS_SQL.format(head=head), args), weight)


# The pairs of cooccurrence() with their entities, from a ``head`` defining ``pairs``
# (s, t, c), ``total`` (n) and ``marg`` (entity_id, n).
_PAIRS_SQL = """{head}
        SELECT es.name AS source, et.name AS target, es.label AS source_label,
               et.label AS target_label, pairs.c AS count,
               ln(pairs.c * total.n / (ms.n * mt.n)) AS pmi
        FROM pairs CROSS JOIN total
        JOIN marg ms ON ms.entity_id = pairs.s JOIN marg mt ON mt.entity_id = pairs.t
        JOIN entities es ON es.id = pairs.s JOIN entities et ON et.id = pairs.t
"""


def _cooccurrence_masked(store, fd, params, scope, top_n, min_count) -> tuple | None:
    """The head of cooccurrence() and its parameters read from the units' stored masks
    (``agg_sm``, ``agg_dm``: each unit's set of the corpus's 128 most mentioned entities),
    when the ``top_n`` entities of the view (``fd``) are all among those; else None.

    Counting the units in view by mask takes a fraction of grouping their entity rows
    into units, which is what a filtered view of a large corpus spends its time on.
    """
    cur = store.cursor()
    top = [
        r[0]
        for r in cur.execute(
            f"SELECT es.eid FROM agg_es es JOIN ({fd}) v ON v.doc = es.doc "
            "GROUP BY es.eid ORDER BY sum(es.n) DESC, es.eid LIMIT ?",
            params + [int(top_n)],
        ).fetchall()
    ]
    bits = cur.execute("SELECT bit FROM agg_gbits WHERE list_contains(?, eid)", [top]).fetchall()
    if not top or len(bits) < len(top):
        return None
    sel = sum(1 << b for (b,) in bits)
    units, nul = ("agg_sm", "m.nul") if scope == "sentence" else ("agg_dm", "FALSE")
    head = f"""
        WITH mc AS (SELECT m.mask & ?::UHUGEINT AS mask, {nul} AS nul, count(*) AS k
                    FROM {units} m JOIN ({fd}) v ON v.doc = m.doc
                    WHERE m.mask & ?::UHUGEINT <> 0 GROUP BY ALL),
        total AS (SELECT {"sum(units)" if scope == "sentence" else "count(*)"} AS n
                  FROM agg_nu nu JOIN ({fd}) v ON v.doc = nu.doc),
        ids AS (SELECT g.eid, g.bit, e.id FROM agg_gbits g JOIN agg_ents e USING (eid)
                WHERE list_contains(?, g.eid)),
        marg AS (SELECT ids.id AS entity_id, sum(mc.k) AS n FROM ids JOIN mc
                 ON (mc.mask >> ids.bit) & 1::UHUGEINT = 1 GROUP BY 1),
        pairs AS (SELECT a.id AS s, b.id AS t, sum(mc.k) AS c
                  FROM ids a JOIN ids b ON a.eid < b.eid JOIN mc
                    ON NOT mc.nul AND (mc.mask >> a.bit) & (mc.mask >> b.bit) & 1::UHUGEINT = 1
                  GROUP BY 1, 2 HAVING sum(mc.k) >= ?)"""
    return head, [sel] + params + [sel] + params + [top, max(int(min_count), 1)]


def _pair_frame(df: pd.DataFrame, weight: str) -> pd.DataFrame:
    """cooccurrence()'s rows in its order: by weight, count, then names."""
    if df.empty:
        return _frame(df, PAIR_COLUMNS)
    df["count"] = df["count"].astype("int64")
    df["weight"] = df[weight].astype("float64")
    # (labels last: two entities may share a name; the order is then still the same)
    df = df.sort_values(
        ["weight", "count", "source", "target", "source_label", "target_label"],
        ascending=[False, False, True, True, True, True],
    )
    return df[PAIR_COLUMNS].reset_index(drop=True)


_BOUNDARY = re.compile(r"""[.!?]['"\u201d\u2019)\]]*\s+(?=[^a-z0-9])|\n+""")
# Words whose full stop ends no sentence ("Gen. Syrskyi", "Aug. 16", "U.S. officials").
_ABBREV = re.compile(
    r"(?:\b(?:mr|mrs|ms|dr|gen|lt|col|maj|capt|sgt|adm|gov|sen|rep|rev|st|mt|ft|no|vs|"
    r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|jr|sr|inc|corp|co|ltd)|"
    r"\b(?:[A-Za-z]\.)+[A-Za-z])$",
    re.IGNORECASE,
)


def _boundaries(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence break in ``text``."""
    out = []
    for m in _BOUNDARY.finditer(text):
        if m.group()[0] == "." and _ABBREV.search(text, 0, m.start()):
            continue
        out.append((m.start(), m.end()))
    return out


def _sentence_around(window: str, lo: int, hi: int) -> str:
    """The sentence of ``window`` holding the span ``lo``..``hi`` (offsets into window),
    shortened around the span to ``SNIPPET_CHARS`` at word boundaries."""
    lo, hi = max(lo, 0), max(hi, lo)
    start, end = 0, len(window)
    for b0, b1 in _boundaries(window):
        if b1 <= lo:
            start = b1
        elif b0 >= hi:
            end = b0 + (1 if window[b0] in ".!?" else 0)
            break
    if end - start > SNIPPET_CHARS:
        mid = (lo + hi) // 2
        a = max(start, min(mid - SNIPPET_CHARS // 2, end - SNIPPET_CHARS))
        b = min(end, a + SNIPPET_CHARS)
        if a > start:
            a = window.find(" ", a, lo) + 1 or a
        if b < end:
            b = window.rfind(" ", hi, b) if window.rfind(" ", hi, b) > 0 else b
        return (
            ("\u2026 " if a > start else "")
            + " ".join(window[a:b].split())
            + (" \u2026" if b < end else "")
        )
    return " ".join(window[start:end].split())


def _shown_sentences(key: str) -> str:
    """The ``picked`` and ``shown`` CTEs of :func:`pair_evidence`, over ``hits`` and
    ``units`` keyed by ``key`` (``article_id`` on the base tables, ``doc`` on the FACTS):
    per unit, the sentence naming both entities, else the first naming each."""
    return f"""picked AS (
            SELECT h.{key}, h.unit,
                   coalesce(min(CASE WHEN h.has_a AND h.has_b THEN h.sentence END),
                            min(CASE WHEN h.has_a THEN h.sentence END)) AS s1,
                   CASE WHEN min(CASE WHEN h.has_a AND h.has_b THEN h.sentence END) IS NULL
                        THEN min(CASE WHEN h.has_b THEN h.sentence END) END AS s2
            FROM hits h JOIN units u USING ({key}, unit)
            GROUP BY 1, 2),
        shown AS (SELECT {key}, unit, s1 AS sentence, 1 AS part FROM picked
                  UNION ALL
                  SELECT {key}, unit, s2, 2 FROM picked WHERE s2 IS NOT NULL)"""


def pair_evidence(
    store, filters: Filters, a: str, b: str, *, scope: str = "sentence", limit: int = 20
) -> pd.DataFrame:
    """Where entities ``a`` and ``b`` (names or ids) appear together: one row per sentence
    (``scope="sentence"``) or per article (its first sentence naming both, else the first
    naming each), newest first."""
    _check("scope", scope, SCOPES)
    ca, pa = _entity_match([a])
    cb, pb = _entity_match([b])
    if _facts(store, filters):
        df = _pair_evidence_facts(store, filters, ca, pa + pb, cb, scope, limit)
        return _evidence(df, limit)
    fa, params = filtered_articles(filters)
    sent = "m.sentence" if scope == "sentence" else "0"
    # For each unit: the sentence(s) to show and the window of text around them, bounded
    # by the mentions of the neighbouring sentences.
    sql = f"""
        WITH fa AS ({fa}),
        ea AS (SELECT id FROM entities e WHERE {ca}),
        eb AS (SELECT id FROM entities e WHERE {cb}),
        hits AS (SELECT m.article_id, {sent} AS unit, m.sentence,
                        bool_or(m.entity_id IN (SELECT id FROM ea)) AS has_a,
                        bool_or(m.entity_id IN (SELECT id FROM eb)) AS has_b
                 FROM mentions m JOIN fa ON fa.id = m.article_id
                 WHERE m.entity_id IN (SELECT id FROM ea) OR m.entity_id IN (SELECT id FROM eb)
                 GROUP BY 1, 2, 3),
        units AS (SELECT u.article_id, u.unit FROM (
                      SELECT article_id, unit FROM hits GROUP BY 1, 2
                      HAVING bool_or(has_a) AND bool_or(has_b)) u
                  JOIN articles a ON a.id = u.article_id
                  ORDER BY a.published DESC NULLS LAST, a.added_at DESC, u.article_id, u.unit
                  LIMIT ?),
        {_shown_sentences("article_id")},
        bounds AS (
            SELECT s.article_id, s.unit, s.part,
                   min(CASE WHEN m.sentence = s.sentence THEN m.start END) AS lo,
                   max(CASE WHEN m.sentence = s.sentence THEN m."end" END) AS hi,
                   coalesce(max(CASE WHEN m.sentence < s.sentence THEN m."end" END), 0) AS w0,
                   min(CASE WHEN m.sentence > s.sentence THEN m.start END) AS w1
            FROM shown s JOIN mentions m ON m.article_id = s.article_id
            GROUP BY 1, 2, 3)
        SELECT b.article_id, b.unit, b.part, a.title, a.published, a.added_at, b.lo - b.w0 AS lo,
               b.hi - b.w0 AS hi,
               substr(a.text, b.w0 + 1, coalesce(b.w1, length(a.text)) - b.w0) AS window
        FROM bounds b JOIN articles a ON a.id = b.article_id
        ORDER BY a.published DESC NULLS LAST, a.added_at DESC, b.article_id, b.unit, b.part
    """
    df = store.query(sql, params + pa + pb + [max(int(limit), 0)])
    return _evidence(df, limit)


def _pair_evidence_facts(store, filters, ca, eparams, cb, scope, limit) -> pd.DataFrame:
    """The rows of :func:`pair_evidence` read from the FACTS: the units naming both
    from ``agg_es``, the sentence bounds from ``agg_sent``, text of the shown ones only."""
    fd, params = filtered_docs(filters)
    unit = "es.sentence" if scope == "sentence" else "0"
    ca, cb = (c.replace("lower(e.name)", "e.lname") for c in (ca, cb))
    sql = f"""
        WITH ea AS (SELECT eid FROM agg_ents e WHERE {ca}),
        eb AS (SELECT eid FROM agg_ents e WHERE {cb}),
        ab AS (SELECT doc FROM agg_ed WHERE eid IN (SELECT eid FROM ea)
               INTERSECT SELECT doc FROM agg_ed WHERE eid IN (SELECT eid FROM eb)),
        hits AS (SELECT es.doc, {unit} AS unit, es.sentence,
                        bool_or(es.eid IN (SELECT eid FROM ea)) AS has_a,
                        bool_or(es.eid IN (SELECT eid FROM eb)) AS has_b
                 FROM agg_es es JOIN ab ON ab.doc = es.doc JOIN ({fd}) v ON v.doc = es.doc
                 WHERE (es.eid IN (SELECT eid FROM ea) OR es.eid IN (SELECT eid FROM eb))
                 GROUP BY 1, 2, 3),
        units AS (SELECT u.doc, u.unit FROM (
                      SELECT doc, unit FROM hits GROUP BY 1, 2
                      HAVING bool_or(has_a) AND bool_or(has_b)) u
                  JOIN agg_docs d ON d.doc = u.doc
                  ORDER BY d.published DESC NULLS LAST, d.added_at DESC, d.id, u.unit
                  LIMIT ?),
        {_shown_sentences("doc")},
        bounds AS (
            SELECT s.doc, s.unit, s.part,
                   min(CASE WHEN x.sentence = s.sentence THEN x.lo END) AS lo,
                   max(CASE WHEN x.sentence = s.sentence THEN x.hi END) AS hi,
                   coalesce(max(CASE WHEN x.sentence < s.sentence THEN x.hi END), 0) AS w0,
                   min(CASE WHEN x.sentence > s.sentence THEN x.lo END) AS w1
            FROM shown s JOIN agg_sent x ON x.doc = s.doc
            WHERE x.doc IN (SELECT doc FROM units)
            GROUP BY 1, 2, 3),
        arts AS (SELECT d.doc, a.id, a.title, a.published, a.added_at, a.text
                 FROM agg_docs d JOIN articles a ON a.id = d.id
                 WHERE d.doc IN (SELECT doc FROM units))
        SELECT a.id AS article_id, b.unit, b.part, a.title, a.published, a.added_at,
               b.lo - b.w0 AS lo, b.hi - b.w0 AS hi,
               substr(a.text, b.w0 + 1, coalesce(b.w1, length(a.text)) - b.w0) AS window
        FROM bounds b JOIN arts a ON a.doc = b.doc
        ORDER BY a.published DESC NULLS LAST, a.added_at DESC, a.id, b.unit, b.part
    """
    return store.query(sql, eparams + params + [max(int(limit), 0)])


def _evidence(df: pd.DataFrame, limit: int) -> pd.DataFrame:
    """One row per unit of the rows of a pair_evidence query, the snippets cut out."""
    if df.empty:
        return _frame(df, EVIDENCE_COLUMNS)
    keys = df[["article_id", "unit"]].drop_duplicates().head(int(limit))
    df = df.merge(keys, on=["article_id", "unit"])
    df["snippet"] = [
        _sentence_around(w or "", int(lo), int(hi))
        for w, lo, hi in zip(df["window"], df["lo"], df["hi"], strict=True)
    ]
    out = (
        df.groupby(["article_id", "unit"], sort=False)
        .agg(
            title=("title", "first"),
            published=("published", "first"),
            snippet=("snippet", " \u2026 ".join),
        )
        .reset_index()
    )
    return _frame(out, EVIDENCE_COLUMNS)


__all__ = [
    "articles",
    "cooccurrence",
    "country_counts",
    "entity_table",
    "entity_timeline",
    "event_timeline",
    "filtered_articles",
    "options",
    "pair_evidence",
    "place_counts",
    "place_entities",
    "publication_timeline",
    "revision",
    "top_entities",
]
