"""The dashboard's queries (geonews.analysis) on a real store filled by the real pipeline.

Every aggregate is checked against a plain-Python reading of the stored rows
(:class:`Corpus`): a filter must narrow every view the same way.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from collections import Counter
from dataclasses import dataclass

import pytest

from geonews import analysis
from geonews.errors import InputError
from geonews.filters import Filters

D = dt.date

# One filter per field, and some combinations; each matches some articles but not all.
FILTERS = {
    "entity": Filters(entities=("Vladimir Putin",)),
    "entities-all-of-any-case": Filters(entities=("vladimir putin", "MOSCOW")),
    "entity-by-id": Filters(entities=("PERSON:vladimir putin",)),
    "type": Filters(types=("PERSON",)),
    "types-with-dates": Filters(types=("GPE", "DATE")),
    "place": Filters(places=("gn:524901",)),  # Moscow
    "places-any-of": Filters(places=("gn:524901", "cc:IN")),
    "country": Filters(countries=("IN",)),
    "date-range": Filters(date_from=D(2024, 8, 1), date_to=D(2024, 9, 15)),
    "date-from": Filters(date_from=D(2024, 9, 20)),
    "source": Filters(sources=("Atlas Desk", "Northgate Press")),
    "search": Filters(text="Ceasefire"),
    "country+date": Filters(countries=("US",), date_from=D(2024, 9, 1)),
    "entity+type+source": Filters(
        entities=("United Nations",), types=("PERSON", "ORG"), sources=("Meridian Wire",)
    ),
}
NOTHING = Filters(entities=("Vladimir Putin",), sources=("Atlas Desk",), text="zzz-no-such")


@dataclass
class Corpus:
    """The stored rows, read plainly, and the filter semantics written in Python."""

    articles: list[dict]
    mentions: list[dict]
    places: list[dict]
    dates: list[dict]

    @classmethod
    def read(cls, store) -> Corpus:
        def rows(sql):
            res = store.cursor().execute(sql)
            cols = [d[0] for d in res.description]
            return [dict(zip(cols, r, strict=True)) for r in res.fetchall()]

        return cls(
            articles=rows("SELECT id, title, text, source, published FROM articles"),
            mentions=rows(
                'SELECT m.article_id, m.start, m."end", m.text, m.label, m.entity_id, '
                "m.sentence, e.name FROM mentions m LEFT JOIN entities e ON e.id = m.entity_id"
            ),
            places=rows(
                'SELECT mp.article_id, mp.place_id, mp.start, mp."end", p.name, p.lat, p.lon, '
                "p.country_code FROM mention_places mp JOIN places p ON p.id = mp.place_id"
            ),
            dates=rows("SELECT article_id, date, precision FROM dates"),
        )

    def in_view(self, f: Filters) -> set[str]:
        out = set()
        for a in self.articles:
            pub = a["published"]
            ms = [m for m in self.mentions if m["article_id"] == a["id"]]
            ps = [p for p in self.places if p["article_id"] == a["id"]]
            names = {m["name"].casefold() for m in ms if m["entity_id"]}
            ids = {m["entity_id"] for m in ms if m["entity_id"]}
            if f.date_from and not (pub and pub >= f.date_from):
                continue
            if f.date_to and not (pub and pub <= f.date_to):
                continue
            if f.sources and a["source"] not in f.sources:
                continue
            q = f.text.lower()
            if f.text and q not in (a["title"] or "").lower() and q not in a["text"].lower():
                continue
            if not all(e.casefold() in names or e in ids for e in f.entities):
                continue
            if f.places and not {p["place_id"] for p in ps} & set(f.places):
                continue
            if f.countries and not {p["country_code"] for p in ps} & set(f.countries):
                continue
            out.add(a["id"])
        return out

    def mentions_in_view(self, f: Filters) -> list[dict]:
        view = self.in_view(f)
        return [
            m
            for m in self.mentions
            if m["article_id"] in view and (not f.types or m["label"] in f.types)
        ]

    def places_in_view(self, f: Filters) -> list[dict]:
        view = self.in_view(f)
        labels: dict[tuple, set] = {}
        for m in self.mentions:
            labels.setdefault((m["article_id"], m["start"], m["end"]), set()).add(m["label"])
        return [
            p
            for p in self.places
            if p["article_id"] in view
            and (
                not f.types
                or labels.get((p["article_id"], p["start"], p["end"]), set()) <= set(f.types)
            )
        ]


@pytest.fixture(scope="module", params=["base", "facts"])
def corpus_store(request, sample_db_file, tmp_path_factory):
    """The sample store read two ways: read-only, the queries read the base tables; on a
    writable copy, they read the integer-keyed pre-aggregates (``store.FACTS``)."""
    from geonews.store import Store

    if request.param == "base":
        with Store.open(sample_db_file, read_only=True) as store:
            assert not store.facts()
            yield store
        return
    path = tmp_path_factory.mktemp("facts") / "sample.duckdb"
    shutil.copyfile(sample_db_file, path)
    with Store.open(path) as store:
        assert store.facts()
        yield store


@pytest.fixture(scope="module")
def corpus(corpus_store) -> Corpus:
    return Corpus.read(corpus_store)


def test_the_sample_store_is_real(corpus_store, corpus):
    stats = corpus_store.stats()
    assert stats["articles"] == 20
    assert stats["mentions"] > 300 and stats["places"] > 50 and stats["dates"] > 50
    assert {"Vladimir Putin", "United Nations", "Moscow"} <= {m["name"] for m in corpus.mentions}


@pytest.mark.parametrize("name", list(FILTERS))
def test_filters_narrow_every_aggregate(corpus_store, corpus, name):
    f = FILTERS[name]
    view = corpus.in_view(f)
    all_ids = {a["id"] for a in corpus.articles}
    assert view, "the filter should match some articles"
    if f.types and f == Filters(types=f.types):
        assert view == all_ids  # types choose which mentions count, not which articles
    else:
        assert view < all_ids

    # articles
    arts = analysis.articles(corpus_store, f)
    assert set(arts["article_id"]) == view
    assert list(arts["published"]) == sorted(arts["published"], reverse=True)

    # entities: every count is the count of the mentions in view
    mentions = corpus.mentions_in_view(f)
    per_entity = Counter(m["entity_id"] for m in mentions if m["entity_id"])
    per_entity_articles = Counter(
        eid for eid, _ in {(m["entity_id"], m["article_id"]) for m in mentions if m["entity_id"]}
    )
    table = analysis.entity_table(corpus_store, f, limit=10_000)
    assert dict(zip(table["entity_id"], table["mentions"], strict=True)) == per_entity
    assert dict(zip(table["entity_id"], table["articles"], strict=True)) == per_entity_articles
    if f.types:
        labels = {m["label"] for m in mentions}
        assert labels <= set(f.types)
    top = analysis.top_entities(corpus_store, f, n=5)
    assert list(top["mentions"]) == sorted(per_entity.values(), reverse=True)[:5]

    # places and countries
    places = [p for p in corpus.places_in_view(f) if p["lat"] is not None]
    pc = analysis.place_counts(corpus_store, f)
    assert dict(zip(pc["place_id"], pc["mentions"], strict=True)) == Counter(
        p["place_id"] for p in places
    )
    cc = analysis.country_counts(corpus_store, f)
    assert int(cc["mentions"].sum()) == sum(
        1 for p in corpus.places_in_view(f) if p["country_code"]
    )
    if f.countries and not f.types:
        assert set(f.countries) <= set(cc["country_code"])

    # timelines: one bar per article in view; dates only when DATE counts
    pub = analysis.publication_timeline(corpus_store, f, freq="week")
    assert int(pub["articles"].sum()) == len(view)
    events = analysis.event_timeline(corpus_store, f, freq="day")
    want = 0
    if not f.types or "DATE" in f.types:
        want = sum(
            1
            for d in corpus.dates
            if d["article_id"] in view and d["date"] is not None and d["precision"] == "day"
        )
    assert int(events["mentions"].sum()) == want

    # co-occurrence: only entities of the articles in view
    pairs = analysis.cooccurrence(corpus_store, f, scope="article", top_n=50)
    named = set(table["name"])
    assert set(pairs["source"]) | set(pairs["target"]) <= named


def test_nothing_matches_gives_empty_frames_with_their_columns(corpus_store):
    for fn, columns in (
        (analysis.articles, analysis.ARTICLE_COLUMNS),
        (analysis.entity_table, analysis.ENTITY_COLUMNS),
        (analysis.place_counts, analysis.PLACE_COLUMNS),
        (analysis.country_counts, analysis.COUNTRY_COLUMNS),
        (analysis.publication_timeline, analysis.PUBLICATION_COLUMNS),
        (analysis.event_timeline, analysis.EVENT_COLUMNS),
        (analysis.cooccurrence, analysis.PAIR_COLUMNS),
        (analysis.place_entities, analysis.PLACE_ENTITY_COLUMNS),
    ):
        df = fn(corpus_store, NOTHING)
        assert df.empty and list(df.columns) == columns, fn.__name__
    df = analysis.pair_evidence(corpus_store, NOTHING, "Vladimir Putin", "Moscow")
    assert df.empty and list(df.columns) == analysis.EVIDENCE_COLUMNS


def test_timeline_fills_empty_periods_and_respects_precision(corpus_store, corpus):
    pub = analysis.publication_timeline(corpus_store, Filters(), freq="month")
    assert list(pub["period"]) == [D(2024, m, 1) for m in range(6, 11)]
    assert int(pub["articles"].sum()) == 20
    weekly = analysis.publication_timeline(corpus_store, Filters(), freq="week")
    gaps = {b - a for a, b in zip(weekly["period"], weekly["period"][1:], strict=False)}
    assert gaps == {dt.timedelta(weeks=1)}
    # a month-precision date ("in March") is on the monthly timeline, not the daily one
    by_month = analysis.event_timeline(corpus_store, Filters(), freq="month")
    by_day = analysis.event_timeline(corpus_store, Filters(), freq="day")
    precise = [d for d in corpus.dates if d["date"] is not None]
    assert int(by_month["mentions"].sum()) == sum(
        1 for d in precise if d["precision"] in ("day", "month")
    )
    assert int(by_day["mentions"].sum()) == sum(1 for d in precise if d["precision"] == "day")
    with pytest.raises(InputError):
        analysis.publication_timeline(corpus_store, Filters(), freq="fortnight")


def test_entity_timeline_counts_the_entity_per_period(corpus_store, corpus):
    df = analysis.entity_timeline(
        corpus_store, Filters(), entities=["Vladimir Putin", "moscow"], freq="month"
    )
    assert set(df["entity"]) == {"Vladimir Putin", "Moscow"}
    for name in ("Vladimir Putin", "Moscow"):
        want = sum(1 for m in corpus.mentions if m["name"] == name)
        assert int(df.loc[df["entity"] == name, "mentions"].sum()) == want


def _units(corpus: Corpus, scope: str) -> dict[tuple, set[str]]:
    """(article, sentence or 0) -> the entity names in it (no dates)."""
    out: dict[tuple, set[str]] = {}
    for m in corpus.mentions:
        if m["entity_id"] and m["label"] != "DATE":
            unit = (m["article_id"], m["sentence"] if scope == "sentence" else 0)
            out.setdefault(unit, set()).add(m["name"])
    return out


@pytest.mark.parametrize("scope", ["sentence", "article"])
def test_cooccurrence_counts_units_naming_both(corpus_store, corpus, scope):
    units = _units(corpus, scope)
    pairs = analysis.cooccurrence(corpus_store, Filters(), scope=scope, top_n=15)
    assert not pairs.empty
    for row in pairs.itertuples():
        both = sum(1 for names in units.values() if {row.source, row.target} <= names)
        assert row.count == both, (row.source, row.target)
        n_a = sum(1 for names in units.values() if row.source in names)
        n_b = sum(1 for names in units.values() if row.target in names)
        assert row.pmi == pytest.approx(math.log(both * len(units) / (n_a * n_b)))
        assert row.weight == row.count
    assert list(pairs["weight"]) == sorted(pairs["weight"], reverse=True)
    assert not (pairs["source"] == pairs["target"]).any()


def test_article_scope_finds_more_pairs_than_sentence_scope(corpus_store):
    sent = analysis.cooccurrence(corpus_store, Filters(), scope="sentence", top_n=20)
    art = analysis.cooccurrence(corpus_store, Filters(), scope="article", top_n=20)
    key = ["source", "target"]
    merged = sent.merge(art, on=key, suffixes=("_s", "_a"))
    # the same top entities: every pair named in a sentence is named in an article
    assert len(merged) == len(sent) < len(art)
    assert (merged["count_a"] >= 1).all()


def test_pmi_weight_ranks_specific_pairs_over_frequent_ones(corpus_store):
    by_count = analysis.cooccurrence(corpus_store, Filters(), weight="count", top_n=30)
    by_pmi = analysis.cooccurrence(corpus_store, Filters(), weight="pmi", top_n=30)
    assert set(zip(by_count["source"], by_count["target"], strict=True)) == set(
        zip(by_pmi["source"], by_pmi["target"], strict=True)
    )
    assert (by_pmi["weight"] == by_pmi["pmi"]).all()
    assert list(by_pmi["pmi"]) == sorted(by_pmi["pmi"], reverse=True)
    assert list(by_count["source"]) != list(by_pmi["source"])
    fewer = analysis.cooccurrence(corpus_store, Filters(), top_n=30, min_count=2)
    assert (fewer["count"] >= 2).all() and len(fewer) < len(by_count)
    with pytest.raises(InputError):
        analysis.cooccurrence(corpus_store, Filters(), weight="jaccard")


def test_pair_evidence_returns_the_sentences_naming_both(corpus_store, corpus):
    pairs = analysis.cooccurrence(corpus_store, Filters(), scope="sentence", top_n=20)
    for row in pairs.head(5).itertuples():
        ev = analysis.pair_evidence(corpus_store, Filters(), row.source, row.target)
        assert len(ev) == row.count
        for item in ev.itertuples():
            texts_a = {
                m["text"]
                for m in corpus.mentions
                if m["name"] == row.source and m["article_id"] == item.article_id
            }
            texts_b = {
                m["text"]
                for m in corpus.mentions
                if m["name"] == row.target and m["article_id"] == item.article_id
            }
            assert any(t in item.snippet for t in texts_a), (row.source, item.snippet)
            assert any(t in item.snippet for t in texts_b), (row.target, item.snippet)
            assert len(item.snippet) <= 2 * analysis.SNIPPET_CHARS + 10
        assert list(ev["published"]) == sorted(ev["published"], reverse=True)


def test_pair_evidence_by_article_and_under_a_filter(corpus_store, corpus):
    a, b = "Vladimir Putin", "Moscow"
    by_article = analysis.pair_evidence(corpus_store, Filters(), a, b, scope="article")
    both = {
        aid
        for aid in {m["article_id"] for m in corpus.mentions}
        if {a, b} <= {m["name"] for m in corpus.mentions if m["article_id"] == aid}
    }
    assert set(by_article["article_id"]) == both and len(by_article) == len(both)
    for snippet in by_article["snippet"]:
        assert "Putin" in snippet and ("Moscow" in snippet or "MOSCOW" in snippet)
    one = sorted(both)[0]
    source = next(x["source"] for x in corpus.articles if x["id"] == one)
    narrowed = analysis.pair_evidence(
        corpus_store, Filters(sources=(source,)), a, b, scope="article"
    )
    assert set(narrowed["article_id"]) == {
        x["id"] for x in corpus.articles if x["id"] in both and x["source"] == source
    }
    limited = analysis.pair_evidence(corpus_store, Filters(), a, b, scope="article", limit=1)
    assert len(limited) == 1


def _place_entity_counts(corpus: Corpus, f: Filters) -> dict[tuple, tuple[int, int]]:
    """(place id, entity name) -> (sentences naming both, articles naming both), read
    plainly: a place mention's sentence is that of the mention with its span; the
    place's own span and dates do not count."""
    view = corpus.in_view(f)
    sentence = {(m["article_id"], m["start"], m["end"]): m["sentence"] for m in corpus.mentions}
    wanted = {e.casefold() for e in f.entities} | set(f.entities)
    ems = [
        m
        for m in corpus.mentions
        if m["article_id"] in view
        and m["entity_id"]
        and m["label"] != "DATE"
        and (m["name"].casefold() in wanted or m["entity_id"] in wanted)
    ]
    units: dict[tuple, tuple[set, set]] = {}
    for p in corpus.places:
        if p["article_id"] not in view or p["lat"] is None:
            continue
        ps = sentence.get((p["article_id"], p["start"], p["end"]))
        for m in ems:
            if m["article_id"] != p["article_id"] or (m["start"], m["end"]) == (
                p["start"],
                p["end"],
            ):
                continue
            sents, arts = units.setdefault((p["place_id"], m["name"]), (set(), set()))
            arts.add(p["article_id"])
            if ps is not None and ps == m["sentence"]:
                sents.add((p["article_id"], ps))
    return {k: (len(s), len(a)) for k, (s, a) in units.items()}


@pytest.mark.parametrize(
    "f",
    [
        Filters(entities=("Vladimir Putin",)),
        Filters(entities=("vladimir putin", "MOSCOW")),
        Filters(entities=("PERSON:vladimir putin", "Moscow"), date_from=D(2024, 8, 1)),
    ],
    ids=["one", "two-any-case", "by-id+date"],
)
def test_place_entities_colour_each_place_by_the_entity_it_is_named_with(corpus_store, corpus, f):
    counts = _place_entity_counts(corpus, f)
    df = analysis.place_entities(corpus_store, f)
    assert list(df.columns) == analysis.PLACE_ENTITY_COLUMNS
    # every place in view that shares an article with a filtered entity, once
    assert sorted(df["place_id"]) == sorted({pid for pid, _ in counts})
    assert set(df["entity"]) <= {"Vladimir Putin", "Moscow"}
    for row in df.itertuples():
        assert (row.sentences, row.articles) == counts[(row.place_id, row.entity)]
        # no other filtered entity shares more sentences (nor, at a tie, more articles)
        rivals = [v for (pid, _), v in counts.items() if pid == row.place_id]
        assert (row.sentences, row.articles) == max(rivals)
    assert (df["sentences"] > 0).any()
    if len(f.entities) == 2:
        # Moscow itself: its own mentions do not make it "named with Moscow"
        moscow = df[df["place_id"] == "gn:524901"]
        assert not moscow.empty and moscow["entity"].iloc[0] == "Vladimir Putin"
    # no entity filtered: nothing to colour by
    assert analysis.place_entities(corpus_store, Filters(countries=("RU",))).empty


def test_options_offer_what_the_corpus_holds(corpus_store, corpus):
    opts = analysis.options(corpus_store)
    assert opts["entities"][0] in {m["name"] for m in corpus.mentions}
    assert "Vladimir Putin" in opts["entities"]
    assert set(opts["sources"]) == {a["source"] for a in corpus.articles}
    assert {"RU", "IN", "US"} <= set(opts["countries"])
    assert "gn:524901" in set(opts["places"]["place_id"])
    assert (opts["date_min"], opts["date_max"]) == (D(2024, 6, 4), D(2024, 10, 8))


def test_revision_changes_with_the_corpus(sample_store, sample_analyses):
    before = analysis.revision(sample_store)
    assert analysis.revision(sample_store) == before
    sample_store.add(sample_analyses[20])
    after_add = analysis.revision(sample_store)
    assert after_add != before
    from geonews import curation

    curation.rename(sample_store, "PERSON:vladimir putin", "V. Putin")
    assert analysis.revision(sample_store) != after_add


# -- the pre-aggregates give the base tables' answers, and follow the corpus ----------

QUERIES = {
    "articles": lambda s, f: analysis.articles(s, f, limit=1000),
    "entity_table": lambda s, f: analysis.entity_table(s, f, limit=10_000),
    "entity_search": lambda s, f: analysis.entity_table(s, f, search="put"),
    "top_entities": lambda s, f: analysis.top_entities(s, f, n=7),
    "place_counts": analysis.place_counts,
    "country_counts": analysis.country_counts,
    "publication_timeline": lambda s, f: analysis.publication_timeline(s, f, freq="week"),
    "event_timeline": lambda s, f: analysis.event_timeline(s, f, freq="month"),
    "entity_timeline": lambda s, f: analysis.entity_timeline(
        s, f, entities=["Vladimir Putin", "moscow", "PERSON:joe biden"], freq="week"
    ),
    "cooccurrence": lambda s, f: analysis.cooccurrence(s, f, scope="sentence", top_n=12),
    "cooccurrence_article": lambda s, f: analysis.cooccurrence(
        s, f, scope="article", weight="pmi", top_n=60
    ),
    "pair_evidence": lambda s, f: analysis.pair_evidence(s, f, "Vladimir Putin", "Moscow"),
    "place_entities": analysis.place_entities,
}


# Searches the word index settles alone (one word, part of a word) and ones it
# cannot (several words, punctuation, no letters at all), checked against the text.
SEARCHES = ("Ceasefire", "ceasefi", "Mr. ", "prime minister", "u.s", "-", "zzzq")


def _assert_same_views(fast, base) -> None:
    """Every query under every filter: the same frame from ``fast`` (pre-aggregates)
    as from ``base`` (read-only: base tables)."""
    import pandas as pd

    assert fast.facts() and not base.facts()
    searches = {f"q={q}": Filters(text=q) for q in SEARCHES}
    for fname, f in {"none": Filters(), **FILTERS, **searches, "nothing": NOTHING}.items():
        for qname, q in QUERIES.items():
            got, want = q(fast, f), q(base, f)
            pd.testing.assert_frame_equal(got, want, check_dtype=False, obj=f"{qname}/{fname}")


def test_pre_aggregates_answer_like_the_base_tables(corpus_store, sample_db_file):
    from geonews.store import Store

    if corpus_store.read_only:
        pytest.skip("compares the writable copy with the read-only store")
    with Store.open(sample_db_file, read_only=True) as base:
        _assert_same_views(corpus_store, base)


def test_one_entity_views_counted_ahead_equal_the_base_tables(corpus_store, sample_db_file):
    """The view of one entity (what clicking it shows) reads counts kept ahead when it is
    one of the corpus's 128 most mentioned (``agg_ee``, ...), and a filtered co-occurrence
    counts units by their stored masks of those 128 when its top entities are all among
    them; other views take the general route. Both give the base tables' answers, for
    entity after entity."""
    import pandas as pd

    from geonews.store import Store

    if corpus_store.read_only:
        pytest.skip("compares the writable copy with the read-only store")
    views = {
        "top_entities": lambda s, f: analysis.top_entities(s, f, n=25),
        "entity_table": lambda s, f: analysis.entity_table(s, f, limit=10_000),
        "place_counts": analysis.place_counts,
        "country_counts": analysis.country_counts,
        "cooccurrence": lambda s, f: analysis.cooccurrence(s, f, scope="sentence", top_n=12),
        "cooccurrence_article": lambda s, f: analysis.cooccurrence(s, f, scope="article", top_n=40),
    }
    names = analysis.top_entities(corpus_store, Filters(), n=400)["name"].unique()
    ahead, masked = set(), set()
    with Store.open(sample_db_file, read_only=True) as base:
        for name in names[::6]:
            f = Filters(entities=(name,))
            ahead.add(analysis._one_entity_view(corpus_store, f, "agg_ee") is not None)
            fd, params = analysis.filtered_docs(f)
            masked.add(
                analysis._cooccurrence_masked(corpus_store, fd, params, "sentence", 12, 1)
                is not None
            )
            for qname, q in views.items():
                got, want = q(corpus_store, f), q(base, f)
                pd.testing.assert_frame_equal(got, want, check_dtype=False, obj=f"{qname}/{name}")
    assert ahead == masked == {True, False}, "both routes should be taken"


def test_pre_aggregates_follow_adds_deletes_and_merges(sample_db, sample_analyses):
    """After each change to the corpus the pre-aggregates are rebuilt: the views equal a
    read-only reading of the base tables of the same store."""
    import pandas as pd

    from geonews import curation
    from geonews.store import Store

    def check():
        store.close()
        with Store.open(sample_db, read_only=True) as base:
            frames = {
                (fname, q): QUERIES[q](base, f)
                for fname, f in (("none", Filters()), *FILTERS.items())
                for q in QUERIES
            }
        fast = Store.open(sample_db)
        assert fast.facts()
        for (fname, q), want in frames.items():
            f = Filters() if fname == "none" else FILTERS[fname]
            pd.testing.assert_frame_equal(
                QUERIES[q](fast, f), want, check_dtype=False, obj=f"{q}/{fname}"
            )
        return fast

    store = Store.open(sample_db)
    assert store.facts()
    before = analysis.entity_table(store, FILTERS["entity"])
    store.add_many(sample_analyses[20:22])
    store = check()
    gone = analysis.articles(store, FILTERS["entity"])["article_id"][0]
    assert store.delete_article(gone)
    store = check()
    after = analysis.entity_table(store, FILTERS["entity"])
    assert not before.equals(after)
    top = analysis.top_entities(store, Filters(), n=20)
    other = next(e for e, lab in zip(top["entity_id"], top["label"], strict=True)
                 if lab == "PERSON" and e != "PERSON:vladimir putin")  # fmt: skip
    assert curation.merge(store, "PERSON:vladimir putin", other) > 0
    store = check()
    store.close()


def test_stale_until_refreshed_after_a_change(sample_db, sample_analyses):
    """``stale`` says whether the next query would rebuild the pre-aggregates (what the
    dashboard shows a spinner for); ``refresh`` rebuilds them all at once."""
    from geonews.store import AGGREGATES, Store

    with Store.open(sample_db) as store:
        assert store.stale()  # the sample store was written, never queried
        store.refresh()
        assert not store.stale()
        store.add_many(sample_analyses[20:21])
        assert store.stale()
        store.refresh()
        assert not store.stale()
        built = store.query("SELECT name FROM aggregate_state")["name"]
        assert set(built) == set(AGGREGATES)
