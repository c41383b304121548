"""Data integrity: an ingest killed with SIGKILL mid-way, then resumed; pins and merges
surviving re-ingest. Real subprocesses (`python -m geonews ingest`), real DuckDB files.

(Export then import into a fresh store is compared in tests/test_export.py.)
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from geonews import curation
from geonews.store import Store

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "articles.jsonl"
BATCH = 3
COPIES = 3  # the sample three times over (distinct texts), so the kill lands mid-way

ROWS = {
    "articles": "id, ref, title, url, source, published, text",
    "entities": "id, name, label",
    "mentions": 'article_id, start, "end", text, label, entity, entity_id, sentence',
    "places": "id, name, lat, lon, country_code, kind",
    "mention_places": 'article_id, place_id, start, "end", text, confidence, reason',
    "dates": 'article_id, start, "end", text, date, precision',
}


def geonews(*args: str, db: Path, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, GEONEWS_DB=str(db))
    env.pop("GEONEWS_GEOCODER", None)
    return subprocess.run(
        [sys.executable, "-m", "geonews", *args, "--db", str(db)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, **kw,
    )  # fmt: skip


def snapshot_rows(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table of an open store (sorted; no timestamps)."""
    cur = store.cursor()
    return {
        t: sorted(map(tuple, cur.execute(f"SELECT {cols} FROM {t}").fetchall()), key=repr)
        for t, cols in ROWS.items()
    }


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table (sorted; no timestamps)."""
    with Store.open(db, read_only=True) as store:
        return snapshot_rows(store)


def per_article(snap: dict) -> dict[str, tuple[int, int, int]]:
    counts = {row[0]: [0, 0, 0] for row in snap["articles"]}
    for i, table in enumerate(("mentions", "mention_places", "dates")):
        for row in snap[table]:
            counts.setdefault(row[0], [0, 0, 0])[i] += 1
    return {k: tuple(v) for k, v in counts.items()}


def assert_consistent(snap: dict) -> None:
    """No row refers to a missing article, entity or place."""
    articles = {r[0] for r in snap["articles"]}
    entities = {r[0] for r in snap["entities"]}
    places = {r[0] for r in snap["places"]}
    for table in ("mentions", "mention_places", "dates"):
        orphans = {r[0] for r in snap[table]} - articles
        assert not orphans, f"{table} rows of articles that are not stored: {orphans}"
    assert {r[6] for r in snap["mentions"] if r[6]} <= entities
    assert {r[1] for r in snap["mention_places"]} <= places


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "articles.jsonl"
    records = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    with path.open("w", encoding="utf-8") as out:
        for k in range(COPIES):
            for r in records:
                copy = dict(r, id=f"{r['id']}-{k}", text=f"{r['text']}\n\n(Edition {k + 1}.)")
                out.write(json.dumps(copy, ensure_ascii=False) + "\n")
    return path


@pytest.fixture(scope="module")
def clean(corpus, tmp_path_factory) -> dict:
    """The reference: one uninterrupted ingest of the corpus."""
    db = tmp_path_factory.mktemp("clean") / "clean.duckdb"
    done = geonews("ingest", str(corpus), "--batch-size", str(BATCH), "-q", db=db)
    assert done.returncode == 0, done.stderr
    return snapshot(db)


def descendants(pid: int) -> set[int]:
    """The processes ``pid`` started, and theirs (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def kill_mid_ingest(corpus: Path, db: Path, *, at_least: int, ctrl_c: bool = False) -> int:
    """Start an ingest, SIGKILL it once its progress bar shows ``at_least`` articles stored
    (or, with ``ctrl_c``, send SIGINT to its process group, as a terminal's Ctrl-C does);
    returns how many it had shown. Its model process (and everything else it started)
    must end within 20 s: nothing may keep a model's memory after the kill."""
    env = dict(os.environ, GEONEWS_DB=str(db))
    env.pop("GEONEWS_GEOCODER", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "geonews", "ingest", str(corpus), "--db", str(db),
         "--batch-size", str(BATCH)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=ctrl_c,
    )  # fmt: skip
    seen = threading.Event()
    shown = [0]

    def watch() -> None:  # tqdm redraws "  12/249" with carriage returns
        buf = b""
        while chunk := proc.stderr.read1(4096):
            buf = (buf + chunk)[-4096:]
            counts = re.findall(rb"(\d+)/(\d+)", buf)
            if counts:
                shown[0] = int(counts[-1][0])
                if shown[0] >= at_least:
                    seen.set()
        seen.set()

    threading.Thread(target=watch, daemon=True).start()
    seen.wait(timeout=600)
    started = descendants(proc.pid)
    if ctrl_c:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
        assert proc.returncode == 130  # "interrupted; run the same command again to resume"
    else:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
    assert started, "the ingest runs its model in a process of its own"
    deadline = time.monotonic() + 20
    while (left := {p for p in started if alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"processes left behind by the killed ingest: {sorted(left)}"
    return shown[0]


@pytest.mark.parametrize("ctrl_c", [False, True], ids=["kill-9", "ctrl-c"])
def test_kill_9_mid_ingest_leaves_a_consistent_store_and_resume_completes(
    corpus, clean, tmp_path, ctrl_c
):
    total = len(clean["articles"])
    assert total == 83 * COPIES
    db = tmp_path / "killed.duckdb"
    shown = kill_mid_ingest(corpus, db, at_least=4 * BATCH, ctrl_c=ctrl_c)
    assert BATCH * 4 <= shown < total, "the ingest must be killed part-way"

    after_kill = snapshot(db)  # opens: the write-ahead log is replayed or dropped
    assert_consistent(after_kill)
    stored = per_article(after_kill)
    reference = per_article(clean)
    assert shown <= len(stored) < total
    assert len(stored) % BATCH == 0  # whole batches only: each is one transaction
    for article_id, counts in stored.items():
        assert counts == reference[article_id], f"{article_id} is half-written"

    again = geonews("ingest", str(corpus), "--batch-size", str(BATCH), "-q", db=db)
    assert again.returncode == 0, again.stderr
    assert f"added {total - len(stored)}, skipped {len(stored)}" in again.stdout
    resumed = snapshot(db)
    assert_consistent(resumed)
    assert resumed == clean  # every table, row for row: no duplicates, nothing missing

    twice = geonews("ingest", str(corpus), "-q", db=db)
    assert twice.returncode == 0 and f"added 0, skipped {total}" in twice.stdout
    assert snapshot(db) == clean


def test_kill_9_twice_then_resume(corpus, clean, tmp_path):
    db = tmp_path / "killed-twice.duckdb"
    first = kill_mid_ingest(corpus, db, at_least=2 * BATCH)
    second = kill_mid_ingest(corpus, db, at_least=2 * BATCH)  # resumes, then killed again
    assert first and second
    assert_consistent(snapshot(db))
    done = geonews("ingest", str(corpus), "--batch-size", str(BATCH), "-q", db=db)
    assert done.returncode == 0, done.stderr
    assert snapshot(db) == clean


def test_pins_and_merges_survive_re_ingest(tmp_path):
    db = tmp_path / "curated.duckdb"
    first = geonews("ingest", str(SAMPLE), "-q", db=db)
    assert first.returncode == 0, first.stderr

    with Store.open(db) as store:
        cur = store.cursor()
        place_text, n_articles = cur.execute(
            "SELECT text, count(DISTINCT article_id) AS n FROM mention_places "
            "GROUP BY text ORDER BY n DESC, text LIMIT 1"
        ).fetchone()
        people = cur.execute(
            "SELECT e.id, any_value(m.text) FROM entities e JOIN mentions m ON m.entity_id = e.id "
            "WHERE e.label = 'PERSON' GROUP BY e.id ORDER BY count(*) DESC, e.id LIMIT 2"
        ).fetchall()
    (source_id, source_text), (target_id, _) = people
    assert n_articles >= 2

    pin = geonews("pin", place_text, "--lat", "10.5", "--lon", "20.25", db=db)
    assert pin.returncode == 0, pin.stderr
    with Store.open(db) as store:
        curation.merge(store, source_id, target_id)

    def check(store: Store, *, articles: int) -> None:
        cur = store.cursor()
        coords = cur.execute(
            "SELECT DISTINCT p.lat, p.lon FROM mention_places mp JOIN places p "
            "ON p.id = mp.place_id WHERE mp.text = ?",
            [place_text],
        ).fetchall()
        assert coords == [(10.5, 20.25)]
        assert (
            cur.execute(
                "SELECT count(DISTINCT article_id) FROM mention_places WHERE text = ?", [place_text]
            ).fetchone()[0]
            == articles
        )
        assert not cur.execute(
            "SELECT count(*) FROM mentions WHERE entity_id = ?", [source_id]
        ).fetchone()[0]
        assert cur.execute(
            "SELECT count(*) FROM mentions WHERE entity_id = ? AND text = ?",
            [target_id, source_text],
        ).fetchone()[0]
        assert len(store.pins()) == 1

    with Store.open(db) as store:
        check(store, articles=n_articles)
        before = snapshot_rows(store)

    again = geonews("ingest", str(SAMPLE), "-q", db=db)  # the same file: nothing changes
    assert again.returncode == 0 and "added 0" in again.stdout
    with Store.open(db) as store:
        check(store, articles=n_articles)
        assert snapshot_rows(store) == before

    new = tmp_path / "new.jsonl"  # new articles naming the pinned place and the merged person
    new.write_text(
        json.dumps({"id": "new-1", "text": f"{source_text} spoke about {place_text} today."})
        + "\n"
        + json.dumps({"id": "new-2", "text": f"In {place_text}, {source_text} met officials."})
        + "\n",
        encoding="utf-8",
    )
    more = geonews("ingest", str(new), "-q", db=db)
    assert more.returncode == 0 and "added 2" in more.stdout, more.stdout + more.stderr
    with Store.open(db) as store:
        check(store, articles=n_articles + 2)
