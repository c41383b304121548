"""Concurrency: sessions of one dashboard process writing and reading at the same time, and
a second process holding the store. Real model, real Store shared the way the app shares
it (``components.resources``), real DuckDB files, real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest
from test_integrity import ROWS
from test_integrity import snapshot_rows as rows

from components import resources
from geonews import analysis, pipeline, sources
from geonews.errors import StoreError, StoreLockedError
from geonews.filters import Filters
from geonews.store import Store

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "articles.jsonl"
WRITERS = 8
READERS = 3
OWN = 3  # articles each writer pastes alone
SHARED = 2  # articles every writer pastes too (the same content, eight times)


# One statement, so one snapshot: per article what is stored with it, and what is stored
# without the row it belongs to ('' rows: mentions, places and dates of no article,
# mentions of no entity row, mention_places of no place row).
CONSISTENCY = """
SELECT a.id,
       (SELECT count(*) FROM mentions m WHERE m.article_id = a.id) AS mentions,
       (SELECT count(*) FROM mention_places p WHERE p.article_id = a.id) AS places,
       (SELECT count(*) FROM dates d WHERE d.article_id = a.id) AS dates
FROM articles a
UNION ALL
SELECT '',
       (SELECT count(*) FROM mentions WHERE article_id NOT IN (SELECT id FROM articles))
     + (SELECT count(*) FROM mentions WHERE entity_id IS NOT NULL
          AND entity_id NOT IN (SELECT id FROM entities)),
       (SELECT count(*) FROM mention_places WHERE article_id NOT IN (SELECT id FROM articles))
     + (SELECT count(*) FROM mention_places WHERE place_id NOT IN (SELECT id FROM places)),
       (SELECT count(*) FROM dates WHERE article_id NOT IN (SELECT id FROM articles))
"""


def expected_counts(a) -> tuple[int, int, int]:
    """(mentions, mention_places, dates) rows the store keeps for one analysis."""
    return (
        len(a.entities),
        sum(max(1, len(p.mentions)) for p in a.places),
        len(a.dates),
    )


@pytest.fixture
def app_store(db_path, monkeypatch):
    """The Store as the dashboard gets it: ``resources.get_store()`` for GEONEWS_DB."""
    monkeypatch.setenv("GEONEWS_DB", str(db_path))
    monkeypatch.delenv("GEONEWS_GEOCODER", raising=False)
    resources._open_store.clear()
    yield resources.get_store
    resources.get_store().close()
    resources._open_store.clear()


def test_eight_writers_and_readers_lose_nothing_and_never_see_half_an_article(
    app_store, nlp_model, gazetteer, tmp_path
):
    articles = list(sources.read_path(SAMPLE))[: WRITERS * OWN + SHARED]
    shared, own = articles[:SHARED], articles[SHARED:]
    # what one session alone would store: the serial analyses, in a store of their own
    reference = {
        a.hash: pipeline.analyze(a, nlp_model=nlp_model, gazetteer=gazetteer) for a in articles
    }
    expected = {h: expected_counts(a) for h, a in reference.items()}
    with Store.open(tmp_path / "serial.duckdb") as serial:
        serial.add_many(reference.values())
        want_rows, want_stats = rows(serial), serial.stats()
        want_entities = analysis.entity_table(serial, Filters())

    start = threading.Barrier(WRITERS + READERS)
    writers_done = threading.Event()
    errors: list[BaseException] = []
    stored_by_paste: list[bool] = []  # add() of a shared article: True when it stored it
    shared_by_batch: list[int] = []  # how many shared articles a batch stored
    lock = threading.Lock()
    reads = {"checks": 0, "articles_seen": set()}

    def writer(i: int) -> None:
        try:
            store = app_store()  # every session gets the one shared Store
            mine = own[i * OWN : (i + 1) * OWN] + shared[i % 2 :] + shared[: i % 2]
            start.wait()
            if i % 2:  # half paste one article at a time, as on the Analyze page
                for article in mine:
                    done = pipeline.analyze(
                        article, nlp_model=resources.get_pipeline(), gazetteer=gazetteer
                    )
                    ok = store.add(done)
                    assert ok or article in shared  # an own article is always new
                    if article in shared:
                        with lock:
                            stored_by_paste.append(ok)
            else:  # the others ingest a batch (an upload of several files)
                batch = [
                    pipeline.analyze(a, nlp_model=resources.get_pipeline(), gazetteer=gazetteer)
                    for a in mine
                ]
                new, skipped = store.add_many(batch)
                assert new + skipped == len(batch) and new >= OWN
                # all there once it returns
                assert store.existing([a.hash for a in mine]) == {a.hash for a in mine}
                with lock:
                    shared_by_batch.append(new - OWN)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    def reader() -> None:
        try:
            store = app_store()
            last = dict.fromkeys(want_stats, 0)
            start.wait()
            while True:
                finished = writers_done.is_set()
                stats = store.stats()
                for key, value in stats.items():  # counts only ever grow
                    assert value >= last[key], (key, value, last[key])
                last = stats
                frame = store.query(CONSISTENCY)
                for aid, mentions, places, dates in frame.itertuples(index=False):
                    if aid == "":
                        assert (mentions, places, dates) == (0, 0, 0), "rows of no article"
                    else:  # an article is seen whole or not at all
                        assert (mentions, places, dates) == expected[aid], aid
                listed = store.articles()  # the Corpus page's list
                for aid, mentions in zip(listed["id"], listed["mentions"], strict=True):
                    assert mentions == expected[aid][0]
                analysis.entity_table(store, Filters())  # rebuilds the pre-aggregates
                with lock:
                    reads["checks"] += 1
                    reads["articles_seen"].add(len(frame) - 1)
                if finished:
                    return
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
            writers_done.set()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    threads += [threading.Thread(target=reader) for _ in range(READERS)]
    for t in threads:
        t.start()
    for t in threads[:WRITERS]:
        t.join()
    writers_done.set()
    for t in threads[WRITERS:]:
        t.join()
    assert not errors, errors

    store = app_store()
    assert store is app_store()
    # each shared article was pasted by all eight sessions and stored by exactly one
    assert len(stored_by_paste) == WRITERS // 2 * SHARED and len(shared_by_batch) == WRITERS // 2
    assert stored_by_paste.count(True) + sum(shared_by_batch) == SHARED
    assert store.stats() == want_stats
    assert store.stats()["articles"] == len(articles)
    got_rows = rows(store)
    # nothing lost, nothing twice: every row as one session alone would have stored it
    for table in ROWS:
        if table != "entities":
            assert got_rows[table] == want_rows[table], table
    # an entity is named by the first canonical name seen, so which of its names depends on
    # which article came first: the same entities, each named by one of its mentions
    assert [e[0::2] for e in got_rows["entities"]] == [e[0::2] for e in want_rows["entities"]]
    names = store.query("SELECT DISTINCT entity_id, entity FROM mentions")
    said = set(zip(names["entity_id"], names["entity"], strict=True))
    assert all((eid, name) in said for eid, name, _ in got_rows["entities"])
    dupes = store.query(
        'SELECT count(*) - count(DISTINCT (article_id, start, "end", label)) FROM mentions'
    ).iloc[0, 0]
    assert dupes == 0

    def by_id(frame):  # ties are ordered by name, which may differ (above)
        return frame.drop(columns="name").sort_values("entity_id").reset_index(drop=True)

    assert by_id(analysis.entity_table(store, Filters())).equals(by_id(want_entities))
    assert reads["checks"] >= READERS
    assert max(reads["articles_seen"]) >= 1  # the readers ran while articles arrived


# -- a second process holding the store -------------------------------------------------

HOLD = """
import sys
from geonews.store import Store
store = Store.open(sys.argv[1])
print(store.stats()["articles"], flush=True)
sys.stdin.read()
store.close()
"""


def geonews(*args: str, db: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, GEONEWS_DB=str(db))
    env.pop("GEONEWS_GEOCODER", None)
    return subprocess.run(
        [sys.executable, "-m", "geonews", *args, "--db", str(db)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


class Holder:
    """Another process with the store open for writing (a dashboard, an ingest)."""

    def __init__(self, db: Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(db)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.articles = int(self.proc.stdout.readline())  # the store is open from here

    def release(self) -> None:
        self.proc.communicate("", timeout=60)
        assert self.proc.returncode == 0


def test_a_store_held_by_another_process_gives_a_clear_error_and_loses_nothing(tmp_path):
    db = tmp_path / "held.duckdb"
    first = geonews("ingest", str(SAMPLE), "-q", db=db)
    assert first.returncode == 0, first.stderr
    with Store.open(db, read_only=True) as store:
        before = rows(store)
    holder = Holder(db)
    try:
        assert holder.articles == len(before["articles"])
        for read_only in (False, True):
            with pytest.raises(StoreLockedError) as info:
                Store.open(db, read_only=read_only)
            message = str(info.value)
            assert isinstance(info.value, StoreError)
            assert "in use by another geonews process" in message
            assert f"PID {holder.proc.pid}" in message and "GEONEWS_DB" in message
            assert info.value.__cause__ is None and info.value.__suppress_context__

        for command in (("ingest", str(SAMPLE)), ("stats",)):
            done = geonews(*command, db=db)
            assert done.returncode == 2, done.stdout + done.stderr
            assert done.stderr.startswith("geonews: error: The store ")
            assert "in use by another geonews process" in done.stderr
            assert "Traceback" not in done.stderr and "IOException" not in done.stderr
    finally:
        holder.release()

    with Store.open(db, read_only=True) as store:
        assert rows(store) == before  # the refused commands changed nothing
    again = geonews("ingest", str(SAMPLE), "-q", db=db)
    assert again.returncode == 0 and "added 0" in again.stdout, again.stdout + again.stderr


@pytest.fixture
def _navigation_reruns_the_entrypoint(monkeypatch):
    """As in test_app: keep AppTest running app.py (and its sidebar) on every run."""
    init = PagesManager.__init__

    def patched(self, *args, **kwargs):
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", patched)


def test_dashboard_says_the_store_is_in_use_and_stores_once_it_is_free(
    db_path, monkeypatch, _navigation_reruns_the_entrypoint
):
    monkeypatch.setenv("GEONEWS_DB", str(db_path))
    monkeypatch.delenv("GEONEWS_GEOCODER", raising=False)
    monkeypatch.chdir(ROOT)
    resources._open_store.clear()
    text = "Turkish President Recep Tayyip Erdogan met Vladimir Putin in Sochi on Monday."
    Store.open(db_path).close()
    holder = Holder(db_path)
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        at.run()
        assert not at.exception
        (warning,) = [w.value for w in at.sidebar.warning]
        assert warning.startswith("The corpus store is unavailable: The store ")
        assert "in use by another geonews process" in warning
        at.text_area(key="analyze_text").input(text)
        next(b for b in at.button if b.label == "Analyze").click()
        at.run()
        assert not at.exception and not at.error  # analysing needs no store
        at.button(key="analyze_add").click()
        at.run()
        assert not at.exception
        (error,) = [e.value for e in at.error]
        assert error.startswith("Could not store: The store ") and "in use" in error
    finally:
        holder.release()
    at.button(key="analyze_add").click()  # the other process has stopped: try again
    at.run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Added to the corpus."]
    store = resources.get_store()  # the dashboard's own, now open
    assert store.stats()["articles"] == 1
    store.close()
    resources._open_store.clear()


def _page_needing_the_store():
    import streamlit as st

    from components import resources

    store = resources.require_store()
    st.write(f"{store.stats()['articles']} articles")


def test_a_page_needing_the_store_says_it_is_in_use_instead_of_a_traceback(db_path, monkeypatch):
    monkeypatch.setenv("GEONEWS_DB", str(db_path))
    resources._open_store.clear()
    Store.open(db_path).close()
    holder = Holder(db_path)
    try:
        at = AppTest.from_function(_page_needing_the_store, default_timeout=60).run()
        assert not at.exception
        (error,) = [e.value for e in at.error]
        assert error.startswith("The corpus store is unavailable: The store ")
        assert "in use by another geonews process" in error
        assert not at.markdown  # the page stopped there
    finally:
        holder.release()
    at.run()
    assert not at.exception and not at.error
    assert [m.value for m in at.markdown] == ["0 articles"]
    resources.get_store().close()
    resources._open_store.clear()
