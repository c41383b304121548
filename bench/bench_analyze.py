"""Analyze time per article: warm (model and gazetteer loaded) and cold (the CLI).

    .venv/bin/python bench/bench_analyze.py [--repeat 3] [--no-report]

Warm: every sample article analysed one at a time with ``pipeline.analyze`` (what the
Analyze page does on "Analyze"), after one warm-up. Cold: ``python -m geonews analyze``
on one article in a new process (loads spaCy and the gazetteer).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import report  # noqa: E402

from geonews import nlp, pipeline, sources  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3, help="passes over the sample articles")
    ap.add_argument("--no-report", action="store_true", help="print only")
    args = ap.parse_args()

    articles = list(sources.read_path(ROOT / "sample_data" / "articles.jsonl"))
    t0 = time.perf_counter()
    pipeline.analyze(articles[0])
    first = time.perf_counter() - t0
    times, per_kchar = [], []
    for _ in range(args.repeat):
        for article in articles:
            t = time.perf_counter()
            pipeline.analyze(article)
            dt_ = time.perf_counter() - t
            times.append(dt_)
            per_kchar.append(dt_ / max(1, len(article.text)) * 1000)
    chars = statistics.median(len(a.text) for a in articles)
    times.sort()
    median, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
    print(f"model {nlp.model_name()}: first analysis {first:.2f} s (loads model + gazetteer)")
    print(f"warm per article: median {median * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.txt"
        one.write_text(articles[0].text, encoding="utf-8")
        colds = []
        for _ in range(2):
            t = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-m", "geonews", "analyze", str(one)],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            )
            colds.append(time.perf_counter() - t)
            json.loads(out.stdout)
    cold = min(colds)
    print(f"cold CLI analyze of one article: {cold:.2f} s")

    body = (
        f"Model `{nlp.model_name()}`; the {len(articles)} sample articles (median "
        f"{chars:,.0f} characters) analysed one at a time, {args.repeat} passes.\n\n"
        + report.table(
            ["measure", "time"],
            [
                ["warm analyze, median per article", f"{median * 1000:.0f} ms"],
                ["warm analyze, 95th percentile", f"{p95 * 1000:.0f} ms"],
                [
                    "warm analyze, median per 1,000 characters",
                    f"{statistics.median(per_kchar) * 1000:.1f} ms",
                ],
                ["first analysis in a process (loads model + gazetteer)", f"{first:.2f} s"],
                ["`python -m geonews analyze one.txt` (new process)", f"{cold:.2f} s"],
            ],
        )
    )
    report.section("analyze", "Analyze time per article", body)


if __name__ == "__main__":
    main()
