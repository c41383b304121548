"""The Dask engine on a 2-worker LocalCluster next to the local path, on the same corpus.

    .venv/bin/python bench/bench_dask.py [--size 10000] [--local-workers 2] [--no-report]

Generates ``--size`` synthetic articles (``bench/generate_corpus.py``, ``--seed``) into a
temporary JSONL file, then ingests it twice into fresh DuckDB files:

- **local**: ``pipeline.ingest`` with ``--local-workers`` processes (the code path of
  ``python -m geonews ingest FILE --workers N``);
- **dask**: ``distributed.ingest`` on a ``LocalCluster`` of 2 worker processes with one
  thread each on 127.0.0.1 (``--engine dask --workers 2``): partitions of
  ``--partition-size`` articles, Parquet partitions, one load into DuckDB.

Then every table an analysis is written to (articles, entities, mentions, places,
mention_places, dates; every column but ``added_at``) is read from both stores in a
stable order and compared row by row: the results must be identical. Times include the
workers' model loading (and, for Dask, starting the cluster, reported apart).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import generate_corpus  # noqa: E402
from report import section, table  # noqa: E402

from geonews import cli, distributed, pipeline  # noqa: E402
from geonews.store import TABLES, Store  # noqa: E402


def contents(db: Path) -> dict[str, list[tuple]]:
    """Every row of every analysis table, without ``added_at``, in a stable order."""
    with Store.open(db, read_only=True) as store:
        out = {}
        for t, schema in TABLES.items():
            cols = ", ".join(f'"{c}"' for c in schema.names if c != "added_at")
            out[t] = store.cursor().execute(f"SELECT {cols} FROM {t} ORDER BY ALL").fetchall()
    return out


def compare(a: dict, b: dict) -> list[str]:
    """Differences between two stores' contents, table by table (empty: identical)."""
    out = []
    for t in TABLES:
        if a[t] != b[t]:
            first = next(
                (i for i, (x, y) in enumerate(zip(a[t], b[t], strict=False)) if x != y), None
            )
            out.append(f"{t}: {len(a[t])} vs {len(b[t])} rows; first difference at row {first}")
    return out


def ingest(engine: str, corpus: Path, db: Path, args, client=None) -> tuple[float, int]:
    errors: list = []
    articles = cli._stream_articles([], [corpus], errors)
    t0 = time.perf_counter()
    with Store.open(db) as store:
        if engine == "dask":
            result = distributed.ingest(
                articles, store, partition_size=args.partition_size, client=client
            )
        else:
            result = pipeline.ingest(
                articles, store, workers=args.local_workers, batch_size=args.batch_size
            )
    seconds = time.perf_counter() - t0
    if errors or result.failures or result.interrupted:
        raise SystemExit(f"{engine} ingest failed: {errors[:3]} {result.failures[:3]}")
    return seconds, result.added


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", type=int, default=10000, help="articles (default 10000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--local-workers", type=int, default=2, help="processes of the local path")
    ap.add_argument("--batch-size", type=int, default=32, help="local path's batch")
    ap.add_argument("--partition-size", type=int, default=200, help="Dask partition")
    ap.add_argument("--no-report", action="store_true", help="print only")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="geonews-bench-dask-"))
    try:
        corpus = tmp / "corpus.jsonl"
        n = generate_corpus.write_jsonl_file(args.size, corpus, args.seed)
        print(f"{n} articles in {corpus}")

        local_s, local_added = ingest("local", corpus, tmp / "local.duckdb", args)
        print(f"local ({args.local_workers} workers): {local_added} added in {local_s:.1f} s")

        t0 = time.perf_counter()
        client = distributed.start_client(workers=2)
        start_s = time.perf_counter() - t0
        try:
            nworkers = len(client.scheduler_info()["workers"])
            dask_s, dask_added = ingest("dask", corpus, tmp / "dask.duckdb", args, client)
        finally:
            distributed.close_client(client)
        print(f"dask ({nworkers} workers): {dask_added} added in {dask_s:.1f} s "
              f"(+ {start_s:.1f} s to start the LocalCluster)")  # fmt: skip

        local, dask = contents(tmp / "local.duckdb"), contents(tmp / "dask.duckdb")
        diffs = compare(local, dask)
        rows_of = {t: len(local[t]) for t in TABLES}
        verdict = "identical" if not diffs else "DIFFERENT: " + "; ".join(diffs)
        print(f"results: {verdict} ({', '.join(f'{k} {v:,}' for k, v in rows_of.items())})")

        rows = [
            [
                f"local, `pipeline.ingest`, {args.local_workers} worker process(es)",
                f"{local_s:.1f}",
                f"{n / local_s:.1f}",
            ],
            [
                f"Dask LocalCluster, {nworkers} workers x 1 thread, partitions of "
                f"{args.partition_size}",
                f"{dask_s:.1f} (+ {start_s:.1f} start)",
                f"{n / dask_s:.1f}",
            ],
        ]
        body = "\n\n".join(
            [
                f"{n:,} synthetic articles (`generate_corpus.py`, seed {args.seed}), each "
                "engine into a fresh DuckDB file; times include the workers' model loading.",
                table(["engine", "seconds", "articles/s"], rows),
                f"Stores compared table by table, every row and column but `added_at`: "
                f"**{verdict}** ("
                + ", ".join(f"{k} {v:,} rows" for k, v in rows_of.items())
                + ").",
            ]
        )
        if not args.no_report:
            section("dask", "Dask engine on a LocalCluster", body)
        return 0 if not diffs else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
