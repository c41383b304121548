"""Benchmark the NLP stage: warm per-article ``analyze`` time, ner-only vs full pipeline.

.venv/bin/python bench/bench_nlp.py [--model NAME] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import spacy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geonews import nlp, pipeline  # noqa: E402
from geonews.models import Article  # noqa: E402

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


def _articles(limit: int = 20) -> list[Article]:
    out = []
    seed = SHARED / "seed" / "netanyahu-sochi.txt"
    if seed.exists():
        out.append(Article(text=seed.read_text(encoding="utf-8")))
    corpus = SHARED / "eval" / "geowebnews.jsonl"
    if corpus.exists():
        with open(corpus, encoding="utf-8") as fh:
            for line in fh:
                if len(out) >= limit:
                    break
                out.append(Article(text=json.loads(line)["text"]))
    if not out:
        out.append(
            Article(
                text="Israeli Prime Minister Benjamin Netanyahu met Vladimir Putin "
                "in Sochi on Thursday. " * 20
            )
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    name = args.model or nlp.model_name()
    articles = _articles()
    chars = sum(len(a.text) for a in articles)
    model = nlp.load_pipeline(name)
    from geonews import dates, geo

    def nlp_and_dates(a: Article) -> None:
        dates.resolve_dates(nlp.extract_mentions(model(a.text)), a.published, text=a.text)

    try:
        gaz = geo.load_gazetteer()
        for a in articles:  # warm up (and check the geo stage works on every article)
            pipeline.analyze(a, nlp_model=model, gazetteer=gaz)

        def run(a: Article) -> None:
            pipeline.analyze(a, nlp_model=model, gazetteer=gaz)

        what = "analyze"
    except Exception as exc:  # noqa: BLE001 - the geo stage may be mid-change
        print(f"(geo stage failed: {exc!r}; timing nlp + dates only)")
        run, what = nlp_and_dates, "nlp + dates"
        run(articles[0])
    per_article = []
    for _ in range(args.repeat):
        for a in articles:
            t0 = time.perf_counter()
            run(a)
            per_article.append(time.perf_counter() - t0)
    print(f"model {name}: {len(articles)} articles, {chars:,} chars")
    print(
        f"warm {what} per article: median {statistics.median(per_article) * 1000:.1f} ms, "
        f"max {max(per_article) * 1000:.1f} ms"
    )

    texts = [a.text for a in articles]
    ner_only = spacy.load(name, exclude=[p for p in spacy.load(name).pipe_names if p != "ner"])
    full = spacy.load(name)
    for label, pipe in (("ner only", ner_only), ("geonews pipeline", model), ("full spaCy", full)):
        list(pipe.pipe(texts[:2]))
        t0 = time.perf_counter()
        for _ in range(args.repeat):
            for doc in pipe.pipe(texts, batch_size=32):
                if pipe is model:
                    nlp.extract_mentions(doc)
        dt = (time.perf_counter() - t0) / args.repeat
        print(f"{label:<18} {chars / dt / 1000:8.1f} k chars/s  {len(texts) / dt:6.1f} docs/s")


if __name__ == "__main__":
    main()
