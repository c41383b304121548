"""Dashboard queries at scale: every ``geonews.analysis`` query on 1k and 100k articles,
and the Streamlit process's peak memory on the 100k corpus.

    .venv/bin/python bench/bench_queries.py [--sizes 1000,100000] [--runs 11] [--no-browser]

The stores are the synthetic corpora of ``bench/generate_corpus.py`` (built once, cached
in ``artifacts/bench/``; see its docstring for how). Each query runs once to warm up,
then ``--runs`` times; the median is reported, with the ratio of the largest to the
smallest size (target: <= 3x at 100x the data). Filters: none, one entity, one country,
a date range of six months, a search term. Then ``streamlit run app.py`` is started on
a copy of the largest store, every page is drawn in headless Chromium (unfiltered and
filtered on an entity), and the server's peak resident memory (VmHWM) is read.
Also timed: bringing the store's pre-aggregates up to date as found (the first run
on a new store builds the word index of every article), and rebuilding them all as
after a change to the corpus.

Takes about 3 minutes with the stores cached; building the 100k store the first
time takes about 6 minutes more (2 busy cores).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import generate_corpus  # noqa: E402
from bench_dashboard import CHROMIUM, CHROMIUM_ARGS, free_port, wait_healthy  # noqa: E402
from report import section, table  # noqa: E402

from geonews import analysis  # noqa: E402
from geonews.filters import Filters  # noqa: E402
from geonews.store import AGGREGATES, Store  # noqa: E402

TARGET_RATIO = 3.0
TARGET_RSS_MB = 1536
ENTITY = "Vladimir Putin"
COUNTRY = "IL"
SEARCH = "ceasefire"
FILTERS = {
    "none": Filters(),
    "entity": Filters(entities=(ENTITY,)),
    "country": Filters(countries=(COUNTRY,)),
    "dates": Filters(date_from=dt.date(2023, 1, 1), date_to=dt.date(2023, 6, 30)),
    "search": Filters(text=SEARCH),
}
PAGES = ["", "map", "timeline", "network", "entities", "corpus"]


def queries(store: Store, f: Filters) -> dict:
    """name -> a callable running one dashboard query the way the pages call it."""
    return {
        "articles": lambda: analysis.articles(store, f, limit=500),
        "entity_table": lambda: analysis.entity_table(store, f, limit=1000),
        "top_entities": lambda: analysis.top_entities(store, f, n=30),
        "top_entities_500": lambda: analysis.top_entities(store, f, n=500),
        "place_counts": lambda: analysis.place_counts(store, f),
        "country_counts": lambda: analysis.country_counts(store, f),
        "publication_timeline": lambda: analysis.publication_timeline(store, f, freq="week"),
        "event_timeline": lambda: analysis.event_timeline(store, f, freq="month"),
        "entity_timeline": lambda: analysis.entity_timeline(
            store, f, entities=[ENTITY, "Benjamin Netanyahu", "Hamas"], freq="week"
        ),
        "cooccurrence_sentence": lambda: analysis.cooccurrence(
            store, f, scope="sentence", top_n=20
        ),
        "cooccurrence_article": lambda: analysis.cooccurrence(
            store, f, scope="article", weight="pmi", top_n=20
        ),
        "pair_evidence": lambda: analysis.pair_evidence(
            store, f, ENTITY, "Volodymyr Zelenskyy", limit=20
        ),
    }


def corpus_queries(store: Store) -> dict:
    """What every page run reads whatever the filters."""
    return {
        "revision": lambda: analysis.revision(store),
        "stats": store.stats,
        "options": lambda: analysis.options(store),
        "entity_table_5000": lambda: analysis.entity_table(store, Filters(), limit=5000),
    }


def timed(fn, runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def build_aggregates(store: Store) -> tuple[float, float]:
    """Seconds to bring every pre-aggregate up to date as the store is (the word index
    too, the first time), then to rebuild them all as after a change to the corpus."""
    t0 = time.perf_counter()
    for name in AGGREGATES:
        assert store.aggregate(name), name
    first = time.perf_counter() - t0
    store.cursor().execute("DELETE FROM aggregate_state")
    t0 = time.perf_counter()
    for name in AGGREGATES:
        store.aggregate(name)
    return first, time.perf_counter() - t0


def bench_size(path: Path, runs: int) -> dict[tuple[str, str], float]:
    out = {}
    with Store.open(path) as store:
        print(f"{path.name}: {store.stats()}", flush=True)
        first, rebuild = build_aggregates(store)
        out[("(pre-aggregates)", "first")] = first
        out[("(pre-aggregates)", "rebuild")] = rebuild
        print(f"  pre-aggregates: {first:.1f} s as found, {rebuild:.1f} s to rebuild", flush=True)
        for name, fn in corpus_queries(store).items():
            out[(name, "-")] = timed(fn, runs)
            print(f"  {name:24} {out[(name, '-')] * 1000:9.1f} ms", flush=True)
        for fname, f in FILTERS.items():
            for name, fn in queries(store, f).items():
                out[(name, fname)] = timed(fn, runs)
                print(f"  {name:24} {fname:8} {out[(name, fname)] * 1000:9.1f} ms", flush=True)
    return out


# -- the dashboard's memory ---------------------------------------------------------


def _status_kb(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            out[key] = int(value.split()[0])
    return out


def dashboard_memory(db: Path) -> dict:
    """Serve ``db``, draw every page in Chromium; the server's peak and final RSS (MB)."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = {**os.environ, "GEONEWS_DB": str(db)}
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.port", str(port), "--browser.gatherUsageStats", "false"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    drawn = {}
    try:
        wait_healthy(port)
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for query in ("", f"?entity={ENTITY.replace(' ', '+')}"):
                for name in PAGES:
                    t0 = time.monotonic()
                    page.goto(f"{base}/{name}{query}", wait_until="domcontentloaded")
                    page.locator('[data-testid="stSidebar"]').first.wait_for(timeout=120_000)
                    page.wait_for_timeout(500)
                    page.wait_for_function(
                        "!document.querySelector('[data-testid=\"stStatusWidget\"]')",
                        timeout=300_000,
                    )
                    errors = page.locator('[data-testid="stException"]').count()
                    label = (name or "analyze") + (" (entity)" if query else "")
                    drawn[label] = (time.monotonic() - t0, errors)
                    print(f"  page {label:20} {drawn[label][0]:6.1f} s, {errors} errors",
                          flush=True)  # fmt: skip
            browser.close()
        mem = _status_kb(proc.pid)
        return {"peak_mb": mem["VmHWM"] / 1024, "rss_mb": mem["VmRSS"] / 1024, "pages": drawn}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# -- main ---------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="1000,100000", help="comma-separated article counts")
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-browser", action="store_true", help="skip the dashboard memory run")
    ap.add_argument("--no-report", action="store_true", help="print only")
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    results = {}
    for n in sizes:
        path = generate_corpus.build_store(n, args.seed)
        results[n] = bench_size(path, args.runs)
    small, large = sizes[0], sizes[-1]
    keys = [k for k in results[small] if k[0] != "(pre-aggregates)"]
    rows, worst = [], 0.0
    for name, fname in keys:
        times = [results[n][(name, fname)] for n in sizes]
        ratio = times[-1] / times[0] if times[0] else float("inf")
        worst = max(worst, ratio)
        ok = "yes" if ratio <= TARGET_RATIO else "**no**"
        rows.append([name, fname, *(f"{t * 1000:.1f}" for t in times), f"{ratio:.1f}x", ok])
    headers = ["query", "filter", *(f"{n:,} (ms)" for n in sizes), f"{large}/{small}", "<= 3x"]
    body = [
        f"Synthetic corpora from `bench/generate_corpus.py` (seed {args.seed}; sample "
        "paragraphs recombined, analyses synthesised from the real pipeline's). Median "
        f"of {args.runs} runs after a warm-up, in one process. Filters: entity = "
        f"{ENTITY!r}, country = {COUNTRY}, dates = 2023-01-01..2023-06-30, search = "
        f"{SEARCH!r}.",
        "",
        table(headers, rows),
        "",
        f"Worst ratio {large:,}/{small:,}: {worst:.1f}x "
        f"({sum(r[-1] == 'yes' for r in rows)}/{len(rows)} within {TARGET_RATIO:g}x).",
        "",
        "Rebuilding every pre-aggregate after a change to the corpus (what the first query "
        "after an ingest, delete, pin or curation waits for; the word index is kept "
        "incrementally and not rebuilt): "
        + ", ".join(f"{results[n][('(pre-aggregates)', 'rebuild')]:.1f} s at {n:,}" for n in sizes)
        + ". Bringing them up to date on the store as generated (the word index of "
        "every article built from scratch): "
        + ", ".join(f"{results[n][('(pre-aggregates)', 'first')]:.1f} s at {n:,}" for n in sizes)
        + " (0 when a previous run had built them).",
    ]
    if not args.no_browser and Path(CHROMIUM).exists():
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "corpus.duckdb"
            shutil.copyfile(generate_corpus.build_store(large, args.seed), db)
            with Store.open(db) as st:  # the dashboard rebuilds them, as after an ingest
                st.cursor().execute("DELETE FROM aggregate_state")
            print(f"dashboard on {large:,} articles", flush=True)
            mem = dashboard_memory(db)
        ok = "within" if mem["peak_mb"] < TARGET_RSS_MB else "**over**"
        pages = ", ".join(f"{k} {v[0]:.1f} s" for k, v in mem["pages"].items())
        errors = sum(v[1] for v in mem["pages"].values())
        body += [
            "",
            f"Dashboard on {large:,} articles (`streamlit run app.py`, every page drawn in "
            f"headless Chromium, unfiltered then filtered on {ENTITY!r}; its first query "
            f"rebuilds the pre-aggregates, as after an ingest): peak resident "
            f"memory (VmHWM) **{mem['peak_mb']:.0f} MB** ({ok} the 1.5 GB target), "
            f"{mem['rss_mb']:.0f} MB at the end; {errors} page errors. First draw of each "
            f"page (cold caches): {pages}.",
        ]
    text = "\n".join(body)
    print(text)
    if not args.no_report:
        section("queries", "Dashboard queries at scale", text)


if __name__ == "__main__":
    main()
