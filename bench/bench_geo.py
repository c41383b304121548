"""Benchmark: gazetteer load time and memory, and geoparse resolution speed.

python bench/bench_geo.py
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geonews import gazetteer as gz  # noqa: E402
from geonews import geo, nlp  # noqa: E402

TEXT = (
    "Officials in Moscow and Washington spoke after strikes near Tripoli, Libya. "
    "Protesters marched in Paris, Lyon and Marseille while Georgia's governor visited Atlanta. "
    "Israel, Syria and Iran traded accusations; the U.S. and Britain called for calm in Europe. "
)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    gz.load()  # build if needed, outside the timing
    gz._load_cached.cache_clear()
    rss0 = _rss_mb()
    t = time.perf_counter()
    gaz = gz.load()
    print(f"gazetteer load: {time.perf_counter() - t:.3f}s, peak RSS {rss0:.0f} MB before")
    model = nlp.load_pipeline()
    doc = model(TEXT * 30)
    mentions = nlp.extract_mentions(doc)
    geo.geoparse(doc, mentions, gazetteer=gaz)
    n, t = 0, time.perf_counter()
    while time.perf_counter() - t < 2.0:
        geo.geoparse(doc, mentions, gazetteer=gaz, recognize=False)
        n += len(mentions)
    rate = n / (time.perf_counter() - t)
    print(f"resolution: {rate:,.0f} mentions/s ({len(mentions)} mentions a document)")
    t = time.perf_counter()
    geo.geoparse(doc, mentions, gazetteer=gaz)
    print(f"geoparse with recognition: {time.perf_counter() - t:.3f}s for {len(doc)} tokens")
    print(f"peak RSS (incl. spaCy): {_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
