"""Bulk ingest throughput next to bare spaCy NER, on the same texts in one run.

    .venv/bin/python bench/bench_ingest.py [--size 2000] [--batch-size 32] [--repeat 1]
        [--breakdown 200] [--no-report]

The texts are ``--size`` synthetic articles of ``bench/generate_corpus.py`` (``--seed``),
written to a JSONL file in a temporary directory. Measured, in this order, each
``--repeat`` times (the median is reported):

- **bare spaCy**: ``nlp.pipe(texts, batch_size)`` with the model geonews uses, loaded the
  way ``geonews.nlp.load_pipeline`` loads it (the same ``exclude``, then only ``ner``
  kept) but without geonews' own pipes; no mentions, no geocoding, no storage.
- **geonews pipes**: ``nlp.pipe`` with ``geonews.nlp.load_pipeline()`` (ner plus the
  sentence, clean-up and knowledge-base pipes); no geocoding, no storage (a diagnosis row).
- **ingest, 1 worker** and **ingest, 2 workers**: in-process ``pipeline.ingest`` over
  ``cli._stream_articles`` (the code path of ``python -m geonews ingest FILE --workers N``:
  read the JSONL line by line, skip stored hashes, analyse, geocode, resolve dates, write
  each batch in its own DuckDB transaction) into a fresh DuckDB file.

Model loading is excluded fairly: every rate is articles per second *after the first
batch is done* (for bare spaCy: after the first ``batch_size`` docs), so the one-worker
path's model (loaded in this process) and the worker processes' models (loaded by each
worker when the pool starts) are both outside the measured span; the total wall time,
model load included for the workers, is reported too. Targets: ingest / bare >= 0.85,
2 workers / 1 worker >= 1.6. Then the first ``--breakdown`` articles are timed step by
step (bare ner, geonews pipes, mentions, geoparse, dates, store writes): where the
one-worker time goes.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import generate_corpus  # noqa: E402
from report import section, table  # noqa: E402

from geonews import cli, geo, nlp, pipeline  # noqa: E402
from geonews import dates as dates_mod  # noqa: E402
from geonews.store import Store  # noqa: E402

TARGET_BARE = 0.85
TARGET_WORKERS = 1.6


class Clock:
    """Articles done over time: the rate after the first ``skip`` articles."""

    def __init__(self, skip: int):
        self.skip = skip
        self.done = 0
        self.start = time.perf_counter()
        self.first: tuple[float, int] | None = None
        self.end = self.start

    def __call__(self, n: int) -> None:
        self.done += n
        self.end = time.perf_counter()
        if self.first is None and self.done >= self.skip:
            self.first = (self.end, self.done)

    def rate(self) -> float:
        t0, n0 = self.first or (self.start, 0)
        return (self.done - n0) / max(self.end - t0, 1e-9)

    def wall(self) -> float:
        return self.end - self.start


def bare_model(name: str):
    """The model as geonews loads it, with only its ``ner`` pipe (no geonews pipes)."""
    import spacy

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"\[W095\]", category=UserWarning)
        base = spacy.load(name, exclude=list(nlp._UNUSED_PIPES))
    for p in [p for p in base.pipe_names if p != "ner"]:
        base.remove_pipe(p)
    return base


def run_pipe(model, texts: list[str], batch_size: int) -> Clock:
    clock = Clock(batch_size)
    for _ in model.pipe(texts, batch_size=batch_size):
        clock(1)
    return clock


def run_ingest(corpus: Path, db: Path, *, workers: int, batch_size: int) -> tuple[Clock, int]:
    clock = Clock(batch_size)
    errors: list = []
    with Store.open(db) as store:
        result = pipeline.ingest(
            cli._stream_articles([], [corpus], errors),
            store,
            workers=workers,
            batch_size=batch_size,
            pins=store.pins(),
            progress=clock,
        )
        stored = store.stats()["articles"]
    if errors or result.failures or result.interrupted:
        raise SystemExit(f"ingest failed: {errors[:3]} {result.failures[:3]}")
    return clock, stored


def breakdown(bare, full, articles: list, db: Path, batch_size: int) -> dict[str, float]:
    """Milliseconds per article of each step of the one-worker ingest, run one at a time."""
    gazetteer = geo.load_gazetteer()
    texts = [a.text for a in articles]
    ms: dict[str, float] = {}

    def timed(name: str, fn):
        t0 = time.perf_counter()
        out = fn()
        ms[name] = 1000 * (time.perf_counter() - t0) / len(articles)
        return out

    timed("spaCy ner (bare)", lambda: list(bare.pipe(texts, batch_size=batch_size)))
    docs = timed(
        "geonews pipes (ner included)", lambda: list(full.pipe(texts, batch_size=batch_size))
    )
    mentions = timed("mentions", lambda: [nlp.extract_mentions(d) for d in docs])
    timed(
        "geoparse",
        lambda: [
            geo.geoparse(d, m, gazetteer=gazetteer) for d, m in zip(docs, mentions, strict=True)
        ],
    )
    timed(
        "dates",
        lambda: [
            dates_mod.resolve_dates(m, a.published, text=a.text)
            for a, m in zip(articles, mentions, strict=True)
        ],
    )
    analyses = list(pipeline.analyze_many(articles, nlp_model=full, gazetteer=gazetteer))
    with Store.open(db) as store:
        timed(
            "store writes (a thread during ingest)",
            lambda: [
                store.add_many(analyses[i : i + batch_size])
                for i in range(0, len(analyses), batch_size)
            ],
        )
    return ms


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", type=int, default=2000, help="articles (default 2000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each mode (median)")
    ap.add_argument(
        "--breakdown", type=int, default=200, help="articles timed step by step (0: none)"
    )
    ap.add_argument("--no-report", action="store_true", help="print only")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="geonews-bench-ingest-"))
    try:
        corpus = tmp / "corpus.jsonl"
        with corpus.open("w", encoding="utf-8") as fh:
            generate_corpus.write_jsonl(args.size, fh, args.seed)
        texts = [a.text for a in cli._stream_articles([], [corpus], [])]
        chars = sum(map(len, texts)) / len(texts)
        name = nlp.model_name()
        print(f"{len(texts)} articles, {chars:.0f} characters on average; model {name}")

        t0 = time.perf_counter()
        bare = bare_model(name)
        full = nlp.load_pipeline(name)
        geo.load_gazetteer()
        load = time.perf_counter() - t0
        warm = texts[: args.batch_size]
        list(bare.pipe(warm))
        list(full.pipe(warm))
        print(f"models and gazetteer loaded in {load:.1f} s; pipes of geonews: {full.pipe_names}")

        modes = ("bare spaCy NER", "geonews pipes", "ingest, 1 worker", "ingest, 2 workers")
        rates: dict[str, list[float]] = {m: [] for m in modes}
        walls: dict[str, list[float]] = {m: [] for m in modes}
        for r in range(args.repeat):
            for mode in modes:
                if mode == "bare spaCy NER":
                    clock = run_pipe(bare, texts, args.batch_size)
                elif mode == "geonews pipes":
                    clock = run_pipe(full, texts, args.batch_size)
                else:
                    workers = 2 if "2" in mode else 1
                    db = tmp / f"w{workers}-{r}.duckdb"
                    clock, stored = run_ingest(
                        corpus, db, workers=workers, batch_size=args.batch_size
                    )
                    assert stored == len(texts), (stored, len(texts))
                rates[mode].append(clock.rate())
                walls[mode].append(clock.wall())
                print(f"  {mode:<20} {clock.rate():7.1f} articles/s  ({clock.wall():.1f} s wall)")

        rate = {m: statistics.median(v) for m, v in rates.items()}
        wall = {m: statistics.median(v) for m, v in walls.items()}
        bare_rate = rate["bare spaCy NER"]
        vs_bare = rate["ingest, 1 worker"] / bare_rate
        scale = rate["ingest, 2 workers"] / rate["ingest, 1 worker"]
        ok = {True: "met", False: "MISSED"}
        print(f"ingest (1 worker) / bare spaCy: {vs_bare:.2f} (target >= {TARGET_BARE})")
        print(f"2 workers / 1 worker: {scale:.2f} (target >= {TARGET_WORKERS})")
        steps: dict[str, float] = {}
        if args.breakdown:
            some = list(cli._stream_articles([], [corpus], []))[: args.breakdown]
            steps = breakdown(bare, full, some, tmp / "steps.duckdb", args.batch_size)
            for step, v in steps.items():
                print(f"  {step:<40} {v:7.2f} ms/article")

        rows = [
            [m, f"{rate[m]:.1f}", f"{rate[m] / bare_rate:.2f}", f"{wall[m]:.1f}"] for m in modes
        ]
        body = "\n\n".join(
            [
                f"{len(texts):,} synthetic articles (`generate_corpus.py`, seed {args.seed}, "
                f"{chars:.0f} characters on average), model `{name}`, batches of "
                f"{args.batch_size}, median of {args.repeat} run(s). Rates are articles/s "
                "after the first batch (model loading excluded; wall time includes the "
                "worker processes' model loading). Ingest runs in-process through "
                "`pipeline.ingest` over `cli._stream_articles`, the code path of "
                "`python -m geonews ingest FILE --workers N`, into a fresh DuckDB file.",
                table(["mode", "articles/s", "vs bare spaCy", "wall s"], rows),
                f"- ingest (1 worker) / bare spaCy NER: **{vs_bare:.2f}** "
                f"(target >= {TARGET_BARE}: {ok[vs_bare >= TARGET_BARE]})\n"
                f"- 2 workers / 1 worker: **{scale:.2f}** "
                f"(target >= {TARGET_WORKERS}: {ok[scale >= TARGET_WORKERS]})",
            ]
        )
        if steps:
            body += (
                f"\n\nWhere the one-worker time goes (the first {args.breakdown} articles, "
                "each step alone, ms per article):\n\n"
                + table(["step", "ms/article"], [[k, f"{v:.2f}"] for k, v in steps.items()])
            )
        if not args.no_report:
            section("ingest", "Bulk ingest throughput", body)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
