"""A large synthetic corpus built from the sample articles, as JSONL or as a ready store.

    .venv/bin/python bench/generate_corpus.py 10000 corpus.jsonl [--seed 0]
    .venv/bin/python bench/generate_corpus.py 100000 corpus.duckdb --store [--seed 0]
    .venv/bin/python bench/generate_corpus.py 200 - --check     # how faithful the store is

How an article is made (the same for both outputs, deterministic by ``--seed``):
the 83 sample articles (``sample_data/articles.jsonl``) are cut into their paragraphs.
A generated article takes the lede (first paragraph, with its dateline) and title of
one sample article, then 2-5 body paragraphs drawn from that article and from one or
two *related* ones (the more capitalised words two articles share, the likelier they
are picked together), in random order. Sentences are never cut, so the entities,
places and dates named together in a sentence are those of real (sample) reporting;
across paragraphs they mix like a wire story that recaps background. The publication
date is spread uniformly over 2019-2025, the source follows the sample's sources,
and every text is unique (a repeated combination is drawn again), so content hashes
differ.

How the store is built (``--store``; ``build_store(n)`` for the benchmarks): spaCy is
NOT run on the generated texts. The sample articles are analysed ONCE with the real
pipeline (``pipeline.analyze_many``: the real model, knowledge base, gazetteer and
date resolver); the analyses are cached in ``artifacts/bench/``. A generated article's
analysis is then put together from the analyses of the paragraphs it is made of:
every entity mention, place span and date mention of a paragraph is shifted to the
paragraph's new character offset (offsets stay valid in the generated text), sentence
indexes are renumbered, and resolved dates move by the difference between the new and
the source publication date (relative dates such as "on Monday" stay right; absolute
ones such as "June 4" move too, a simplification). The analyses are written with
``store.analysis_tables`` + ``Store.add_tables`` in batches. What this misses compared
with running the pipeline on the generated text: context effects across paragraphs
(a surname resolved through a full name in another paragraph, a place disambiguated by
the rest of the article); ``--check K`` analyses K generated articles for real and
prints how many of their mentions the synthesised analyses have.

Built stores are cached as ``artifacts/bench/store-<n>-seed<seed>-g<generator version>.duckdb``.
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
import datetime as dt
import hashlib
import json
import random
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SAMPLE = ROOT / "sample_data" / "articles.jsonl"
CACHE = ROOT / "artifacts" / "bench"
GENERATOR_VERSION = 1  # bump when generated articles or analyses change
FIRST_DAY = dt.date(2019, 1, 1)
LAST_DAY = dt.date(2025, 12, 31)
SEP = "\n\n"
_CAPS = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]{2,}\b")


# -- the plan of each generated article (no spaCy needed) ------------------------------


@dataclasses.dataclass(frozen=True)
class Planned:
    index: int
    lede: int  # the sample article giving the title, lede and source
    parts: tuple[tuple[int, int], ...]  # (sample article, paragraph) in text order
    published: dt.date
    source: str


def load_samples(path: Path = SAMPLE) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for r in rows:
        r["paragraphs"] = r["text"].split(SEP)
        r["published"] = dt.date.fromisoformat(r["published"])
    return rows


def _related(samples: list[dict]) -> list[tuple[list[int], list[float]]]:
    """For each sample article: the others, weighted by the capitalised words they share."""
    words = [set(_CAPS.findall(s["text"])) for s in samples]
    out = []
    for i, w in enumerate(words):
        others = [j for j in range(len(samples)) if j != i]
        out.append((others, [0.2 + len(w & words[j]) ** 2 for j in others]))
    return out


def plan(samples: list[dict], n: int, seed: int = 0) -> Iterator[Planned]:
    """The ``n`` generated articles, each a distinct combination of sample paragraphs."""
    rng = random.Random(seed)
    related = _related(samples)
    sources = [s["source"] for s in samples]
    days = (LAST_DAY - FIRST_DAY).days
    seen: set[tuple] = set()
    i = 0
    while i < n:
        lede = rng.randrange(len(samples))
        others, weights = related[lede]
        mates = rng.choices(others, weights, k=rng.choice((1, 1, 2)))
        pool = [(lede, p) for p in range(1, len(samples[lede]["paragraphs"]))]
        for m in dict.fromkeys(mates):
            pool += [(m, p) for p in range(1, len(samples[m]["paragraphs"]))]
        body = rng.sample(pool, min(len(pool), rng.randint(2, 5)))
        parts = ((lede, 0), *body)
        if parts in seen:
            continue
        seen.add(parts)
        published = FIRST_DAY + dt.timedelta(days=rng.randrange(days + 1))
        source = samples[lede]["source"] if rng.random() < 0.7 else rng.choice(sources)
        yield Planned(i, lede, parts, published, source)
        i += 1


def article_row(samples: list[dict], p: Planned) -> dict:
    """The JSONL record of a planned article."""
    s = samples[p.lede]
    slug = re.sub(r"[^a-z0-9]+", "-", s["source"].lower()).strip("-")
    return {
        "id": f"gen-{p.index:07d}",
        "title": s["title"],
        "text": SEP.join(samples[a]["paragraphs"][k] for a, k in p.parts),
        "source": p.source,
        "url": f"https://example.org/{slug}/{p.published.isoformat()}/{p.index}",
        "published": p.published.isoformat(),
    }


def write_jsonl(n: int, out, seed: int = 0) -> int:
    samples = load_samples()
    count = 0
    for p in plan(samples, n, seed):
        out.write(json.dumps(article_row(samples, p), ensure_ascii=False) + "\n")
        count += 1
    return count


def write_jsonl_file(n: int, path: Path, seed: int = 0) -> int:
    """:func:`write_jsonl` into the file ``path``; the number of articles written."""
    with open(path, "w", encoding="utf-8") as fh:
        return write_jsonl(n, fh, seed)


# -- analyses of the sample paragraphs (the real pipeline, once, cached) ------------------


def _sample_key() -> str:
    from geonews import nlp

    h = hashlib.sha256(SAMPLE.read_bytes())
    h.update(f"{nlp.model_name()}|g{GENERATOR_VERSION}".encode())
    return h.hexdigest()[:12]


def paragraph_analyses(samples: list[dict]) -> list[list[dict]]:
    """For each sample article, for each paragraph: its mentions, place spans and dates
    with offsets relative to the paragraph and sentences relative to its first one."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"sample-paragraphs-{_sample_key()}.json"
    if path.exists():
        return json.loads(path.read_text())
    from geonews import nlp, pipeline
    from geonews.models import Article

    model = nlp.load_pipeline()
    articles = [
        Article(
            s["text"], id=s["id"], title=s["title"], source=s["source"], published=s["published"]
        )
        for s in samples
    ]
    docs = model.pipe([a.text for a in articles])
    analyses = pipeline.analyze_many(articles, nlp_model=model)
    out = []
    for s, doc, an in zip(samples, docs, analyses, strict=True):
        starts = [0]  # character start of each paragraph
        for para in s["paragraphs"][:-1]:
            starts.append(starts[-1] + len(para) + len(SEP))
        sent_starts = [sent.start_char for sent in doc.sents]
        first_sent = [bisect.bisect_right(sent_starts, c) - 1 for c in starts]
        n_sents = [
            b - a for a, b in zip(first_sent, [*first_sent[1:], len(sent_starts)], strict=True)
        ]

        def para_of(offset: int) -> int:
            return bisect.bisect_right(starts, offset) - 1  # noqa: B023

        paras = [{"sentences": n, "mentions": [], "places": [], "dates": []} for n in n_sents]
        for m in an.entities:
            k = para_of(m.start)
            paras[k]["mentions"].append(
                [m.text, m.label, m.start - starts[k], m.end - starts[k], m.entity,
                 m.sentence - first_sent[k]]
            )  # fmt: skip
        for pl in an.places:
            place = {f: getattr(pl, f) for f in ("name", "lat", "lon", "country_code", "kind")}
            place |= {"confidence": pl.confidence, "id": pl.id, "reason": pl.reason}
            for sp in pl.mentions:
                k = para_of(sp.start)
                paras[k]["places"].append(
                    [place, sp.start - starts[k], sp.end - starts[k], sp.text]
                )
        for d in an.dates:
            k = para_of(d.start)
            paras[k]["dates"].append(
                [d.text, d.start - starts[k], d.end - starts[k], d.date, d.precision]
            )
        out.append(paras)
    path.write_text(json.dumps(out))
    return out


def _move(date: str | None, precision: str | None, days: int) -> str | None:
    if not date:
        return date
    d = dt.date.fromisoformat(date) + dt.timedelta(days=days)
    if precision == "month":
        d = d.replace(day=1)
    elif precision == "year":
        d = d.replace(month=1, day=1)
    return d.isoformat()


def synthesize(samples: list[dict], paras: list[list[dict]], p: Planned):
    """The Analysis of a planned article, put together from its paragraphs' analyses."""
    from geonews.models import Analysis, Article, DateMention, Mention, Place, Span

    row = article_row(samples, p)
    article = Article(
        row["text"], id=row["id"], title=row["title"], url=row["url"], source=row["source"],
        published=p.published,
    )  # fmt: skip
    mentions, places, dates = [], {}, []
    offset = sentence = 0
    for a, k in p.parts:
        para = paras[a][k]
        shift = (p.published - samples[a]["published"]).days
        for text, label, start, end, entity, sent in para["mentions"]:
            mentions.append(
                Mention(text, label, start + offset, end + offset, entity, sent + sentence)
            )
        for place, start, end, text in para["places"]:
            key = place["id"] or place["name"]
            if key not in places:
                places[key] = Place(**place, mentions=[])
            places[key].mentions.append(Span(start + offset, end + offset, text))
        for text, start, end, date, precision in para["dates"]:
            dates.append(
                DateMention(text, start + offset, end + offset, _move(date, precision, shift),
                            precision)
            )  # fmt: skip
        offset += len(samples[a]["paragraphs"][k]) + len(SEP)
        sentence += para["sentences"]
    return Analysis(article=article, entities=mentions, places=list(places.values()), dates=dates)


def analyses(n: int, seed: int = 0) -> Iterator:
    """The synthesised analyses of the ``n`` generated articles, in order."""
    samples = load_samples()
    paras = paragraph_analyses(samples)
    for p in plan(samples, n, seed):
        yield synthesize(samples, paras, p)


# -- stores --------------------------------------------------------------------------


def write_store(n: int, path: Path, seed: int = 0, *, batch: int = 5000, verbose=True) -> Path:
    """Write the synthesised analyses of ``n`` generated articles to a new store."""
    from geonews import store as store_mod

    t0 = time.monotonic()
    path.unlink(missing_ok=True)
    tmp = path.with_suffix(".tmp.duckdb")
    tmp.unlink(missing_ok=True)
    with store_mod.Store.open(tmp) as st:
        chunk = []
        for an in analyses(n, seed):
            chunk.append(an)
            if len(chunk) >= batch:
                st.add_tables(store_mod.analysis_tables(chunk))
                chunk = []
                if verbose:
                    done = st.stats()["articles"]
                    print(f"  {done}/{n} articles ({time.monotonic() - t0:.0f} s)", flush=True)
        if chunk:
            st.add_tables(store_mod.analysis_tables(chunk))
        st.cursor().execute("CHECKPOINT")
    tmp.rename(path)
    if verbose:
        print(f"built {path} in {time.monotonic() - t0:.0f} s", flush=True)
    return path


def build_store(n: int, seed: int = 0, *, verbose: bool = True) -> Path:
    """The cached store of ``n`` generated articles (built on first use)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"store-{n}-seed{seed}-g{GENERATOR_VERSION}.duckdb"
    if not path.exists():
        write_store(n, path, seed, verbose=verbose)
    return path


def check(k: int, seed: int = 0) -> None:
    """Analyse ``k`` generated articles for real; compare with the synthesised analyses."""
    from geonews import pipeline, store

    synth = list(analyses(k, seed))
    real = pipeline.analyze_many([a.article for a in synth])
    same = total = found = 0
    for s, r in zip(synth, real, strict=True):
        want = {(m.start, m.end, store.entity_id(m.entity or m.text, m.label)) for m in r.entities}
        got = {(m.start, m.end, store.entity_id(m.entity or m.text, m.label)) for m in s.entities}
        same, total, found = same + len(want & got), total + len(want), found + len(got)
    print(
        f"{k} articles: the real pipeline finds {total} mentions, the synthesised analyses "
        f"have {found}; {same} identical (span and entity): recall {same / total:.1%}, "
        f"precision {same / found:.1%}"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("n", type=int, help="how many articles")
    ap.add_argument("out", help="JSONL file ('-': stdout), or a .duckdb store with --store")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--store", action="store_true", help="write a store (no spaCy on the texts)")
    ap.add_argument("--check", action="store_true", help="compare N synthesised analyses "
                    "with the real pipeline's (writes nothing)")  # fmt: skip
    args = ap.parse_args(argv)
    if args.check:
        check(args.n, args.seed)
    elif args.store or args.out.endswith(".duckdb"):
        write_store(args.n, Path(args.out), args.seed)
    elif args.out == "-":
        write_jsonl(args.n, sys.stdout, args.seed)
    else:
        count = write_jsonl_file(args.n, Path(args.out), args.seed)
        print(f"wrote {count} articles to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
