"""Bulk ingest throughput next to bare spaCy NER, on the same texts in one run.

    .venv/bin/python bench/bench_ingest.py [--size 2000] [--batch-size 32] [--chunk 128]
        [--repeat 2] [--breakdown 200] [--no-report]

The texts are ``--size`` synthetic articles of ``bench/generate_corpus.py`` (``--seed``),
written to a JSONL file in a temporary directory.

**Side by side, interleaved.** This VM's speed drifts by 20-30 % over a minute, so the
modes are not run one after another over the whole corpus: the corpus is cut into
chunks of ``--chunk`` articles and each chunk goes through every mode in turn (the order
rotating from chunk to chunk, a garbage collection before each), so a slow spell hits
all modes alike. The modes:

- **bare spaCy**: ``nlp.pipe(texts, batch_size)`` with the model geonews uses, loaded the
  way ``geonews.nlp.load_pipeline`` loads it (the same ``exclude``, then only ``ner``
  kept) but without geonews' own pipes; no mentions, no geocoding, no storage.
- **geonews pipes**: ``nlp.pipe`` with ``geonews.nlp.load_pipeline()`` (ner plus the
  sentence, clean-up and knowledge-base pipes); no geocoding, no storage.
- **ingest, 1 worker**: ``pipeline.ingest`` of the chunk (read from the JSONL by
  ``cli._stream_articles``, as ``python -m geonews ingest FILE`` does: skip stored
  hashes, analyse, geocode, resolve dates, write each batch in its own DuckDB
  transaction) into one DuckDB file that grows over the run. As with one worker on the
  command line, the model runs in a process of its own (a ``pipeline.NerProcess``,
  started before the timing and kept from chunk to chunk as one command keeps it) while
  the bench's process rebuilds the Docs, runs the pipes that need no model, geoparses,
  resolves dates and writes.
- **ingest, one process**: the same, all in the bench's process (``pipeline.ingest``
  given the model: what one worker did before the model had a process of its own).

The first chunk warms every mode up and is not counted; the rates are articles over
the summed seconds of the other chunks (models loaded before, so loading is excluded).
The ingest / bare ratio is also given chunk by chunk (median and quartiles): its spread
shows how far the VM's drifts still move the summed rates.

**Workers.** ``--workers 2`` against ``--workers 1``: whole streaming runs of the corpus
(``pipeline.ingest`` over ``cli._stream_articles``) into fresh files, alternating,
``--repeat`` times each (median); rates after the first batch is stored, so the worker
processes' model loading is outside the measured span (the wall time includes it).

Targets: ingest / bare >= 0.85, 2 workers / 1 worker >= 1.6. Then the first
``--breakdown`` articles are timed step by step (bare ner, geonews pipes, mentions,
geoparse, dates, store writes): where the one-worker time goes.
"""

from __future__ import annotations

import argparse
import gc
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
    packed = timed("pack each Doc (the model's process)", lambda: list(map(nlp.pack_doc, docs)))
    nlp.load_finishing()
    timed("rebuild it, pipes after ner (this process)", lambda: list(map(nlp.finish_doc, packed)))
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


def interleaved(bare, full, articles: list, db: Path, *, chunk: int, batch_size: int):
    """({mode: (articles, seconds)} over the chunks after the first, [{mode: seconds}
    of each of those chunks]): each chunk through every mode in turn (the order
    rotating), see the module docstring."""
    modes = ("bare spaCy NER", "geonews pipes", "ingest, 1 worker", "ingest, one process")
    done = {m: [0, 0.0] for m in modes}
    per_chunk: list[dict[str, float]] = []
    chunks = [articles[i : i + chunk] for i in range(0, len(articles), chunk)]
    # each ingest mode into a store of its own (the other's would skip the chunk as stored)
    with (
        Store.open(db) as store,
        Store.open(db.with_name(f"{db.stem}-one{db.suffix}")) as alone,
        pipeline.NerProcess() as ner,
    ):
        stores = (store, alone)
        pins = store.pins()
        for k, part in enumerate(chunks):
            texts = [a.text for a in part]
            for j in range(len(modes)):
                mode = modes[(j + k) % len(modes)]
                gc.collect()  # no mode pays for the garbage the one before it left
                t0 = time.perf_counter()
                if mode == "bare spaCy NER":
                    for _ in bare.pipe(texts, batch_size=batch_size):
                        pass
                elif mode == "geonews pipes":
                    for _ in full.pipe(texts, batch_size=batch_size):
                        pass
                else:
                    one = mode == "ingest, one process"
                    result = pipeline.ingest(
                        iter(part), stores[one], batch_size=batch_size, pins=pins,
                        gazetteer=geo.load_gazetteer(),
                        **({"nlp_model": full} if one else {"ner": ner}),
                    )  # fmt: skip
                    if result.failures or result.added != len(part):
                        raise SystemExit(f"ingest failed: {result}")
                seconds = time.perf_counter() - t0
                if k:  # the first chunk warms up
                    done[mode][0] += len(part)
                    done[mode][1] += seconds
                    if j == 0:
                        per_chunk.append({})
                    per_chunk[-1][mode] = seconds
            if k:
                line = "  ".join(f"{m}: {n / t:.1f}/s" for m, (n, t) in done.items())
                print(f"  after chunk {k + 1}/{len(chunks)}: {line}", flush=True)
    return {m: (n, t) for m, (n, t) in done.items()}, per_chunk


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", type=int, default=2000, help="articles (default 2000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--chunk", type=int, default=128, help="articles per interleaved chunk")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each worker count (median)")
    ap.add_argument(
        "--breakdown", type=int, default=200, help="articles timed step by step (0: none)"
    )
    ap.add_argument("--no-report", action="store_true", help="print only")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="geonews-bench-ingest-"))
    try:
        corpus = tmp / "corpus.jsonl"
        generate_corpus.write_jsonl_file(args.size, corpus, args.seed)
        articles = list(cli._stream_articles([], [corpus], []))
        chars = sum(len(a.text) for a in articles) / len(articles)
        name = nlp.model_name()
        print(f"{len(articles)} articles, {chars:.0f} characters on average; model {name}")

        t0 = time.perf_counter()
        bare = bare_model(name)
        full = nlp.load_pipeline(name)
        geo.load_gazetteer()
        load = time.perf_counter() - t0
        print(f"models and gazetteer loaded in {load:.1f} s; pipes of geonews: {full.pipe_names}")

        side, per_chunk = interleaved(
            bare, full, articles, tmp / "side.duckdb", chunk=args.chunk, batch_size=args.batch_size
        )
        rate = {m: n / t for m, (n, t) in side.items()}
        bare_rate = rate["bare spaCy NER"]
        vs_bare = rate["ingest, 1 worker"] / bare_rate
        vs_pipes = rate["ingest, 1 worker"] / rate["geonews pipes"]
        # the same ratio chunk by chunk (the same articles, seconds apart): its spread
        # shows how far the VM's drifts move the summed rates above
        paired = sorted(c["bare spaCy NER"] / c["ingest, 1 worker"] for c in per_chunk)
        q1, med, q3 = statistics.quantiles(paired, n=4) if len(paired) > 1 else paired * 3
        print(f"ingest / bare chunk by chunk: median {med:.2f}, quartiles {q1:.2f}-{q3:.2f}")

        runs: dict[int, list[Clock]] = {1: [], 2: []}
        for r in range(args.repeat):
            for workers in (1, 2):
                db = tmp / f"w{workers}-{r}.duckdb"
                clock, stored = run_ingest(corpus, db, workers=workers, batch_size=args.batch_size)
                assert stored == len(articles), (stored, len(articles))
                runs[workers].append(clock)
                print(
                    f"  ingest, {workers} worker(s): {clock.rate():7.1f} articles/s "
                    f"({clock.wall():.1f} s wall)",
                    flush=True,
                )
        w_rate = {w: statistics.median(c.rate() for c in cs) for w, cs in runs.items()}
        w_wall = {w: statistics.median(c.wall() for c in cs) for w, cs in runs.items()}
        scale = w_rate[2] / w_rate[1]
        ok = {True: "met", False: "MISSED"}
        print(f"ingest (1 worker) / bare spaCy: {vs_bare:.2f} (target >= {TARGET_BARE})")
        print(f"ingest (1 worker) / geonews pipes: {vs_pipes:.2f}")
        vs_one = rate["ingest, one process"] / bare_rate
        print(f"ingest (one process) / bare spaCy: {vs_one:.2f}")
        print(f"2 workers / 1 worker: {scale:.2f} (target >= {TARGET_WORKERS})")
        steps: dict[str, float] = {}
        if args.breakdown:
            some = articles[: args.breakdown]
            steps = breakdown(bare, full, some, tmp / "steps.duckdb", args.batch_size)
            for step, v in steps.items():
                print(f"  {step:<40} {v:7.2f} ms/article")

        rows = [
            [m, f"{rate[m]:.1f}", f"{rate[m] / bare_rate:.2f}", f"{t:.1f}"]
            for m, (_, t) in side.items()
        ]
        wrows = [
            [f"ingest, {w} worker(s)", f"{w_rate[w]:.1f}", f"{w_rate[w] / w_rate[1]:.2f}",
             f"{w_wall[w]:.1f}"]
            for w in (1, 2)
        ]  # fmt: skip
        body = "\n\n".join(
            [
                f"{len(articles):,} synthetic articles (`generate_corpus.py`, seed {args.seed}, "
                f"{chars:.0f} characters on average), model `{name}`, batches of "
                f"{args.batch_size}. Models loaded before timing.",
                f"**Side by side.** Chunks of {args.chunk} articles, each through the four "
                "modes in turn (the order rotating from chunk to chunk, so the VM's drifts "
                "hit every mode alike); the first chunk warms up and is not counted. Ingest "
                "is `pipeline.ingest` (the code path of `python -m geonews ingest FILE`: skip "
                "stored hashes, analyse, geocode, resolve dates, one DuckDB transaction per "
                "batch) into one DuckDB file. With one worker the model runs in a process "
                "of its own while the calling process rebuilds each Doc, runs the pipes "
                "that need no model, geoparses and writes; *one process* is the same "
                "ingest with everything in the calling process (one worker before "
                "2026-12-01).",
                table(["mode", "articles/s", "vs bare spaCy", "seconds"], rows),
                f"**Workers.** Whole streaming runs of the corpus into fresh DuckDB files, "
                f"1 and 2 workers alternating, median of {args.repeat}; rates after the first "
                "batch is stored (the wall time includes the workers' model loading).",
                table(["mode", "articles/s", "vs 1 worker", "wall s"], wrows),
                f"- ingest (1 worker) / bare spaCy NER: **{vs_bare:.2f}** "
                f"(target >= {TARGET_BARE}: {ok[vs_bare >= TARGET_BARE]}); "
                f"/ spaCy with geonews' pipes: {vs_pipes:.2f}; all in one process / bare "
                f"spaCy NER: {vs_one:.2f}\n"
                f"- the same ratio chunk by chunk ({len(paired)} chunks, each mode on the "
                f"same articles seconds apart): median {med:.2f}, quartiles "
                f"{q1:.2f}-{q3:.2f}\n"
                f"- 2 workers / 1 worker: **{scale:.2f}** "
                f"(target >= {TARGET_WORKERS}: {ok[scale >= TARGET_WORKERS]})",
            ]
        )
        if steps:
            body += (
                f"\n\nWhere the one-worker time goes (the first {args.breakdown} articles, "
                "each step alone, ms per article; with one worker the model's process runs "
                "the geonews pipes up to `geonews_caps` and packs each Doc, the calling "
                "process does the rest):\n\n"
                + table(["step", "ms/article"], [[k, f"{v:.2f}"] for k, v in steps.items()])
            )
        if not args.no_report:
            section("ingest", "Bulk ingest throughput", body)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
