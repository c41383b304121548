"""Tie the stages together: Article -> Analysis.

    sources -> nlp (mentions, canonical entities) -> geo (places) + dates -> Analysis
            -> [opt-in] corrections (the user's pins) -> [opt-in] online geocoder fallback

The store and the CLI call these; so does the dashboard. Without ``pins`` and
``fallback`` everything is offline and unchanged:

    analyze(article, pins=store.pins(), fallback=geocoder.from_settings(cache=...))
"""

from __future__ import annotations

import multiprocessing
import re
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field

from geonews import corrections, geo, nlp, settings
from geonews import dates as dates_mod
from geonews.corrections import Pin
from geonews.errors import (
    EmptyTextError,
    GeonewsError,
    InputError,
    InvalidTextError,
    TextTooLargeError,
)
from geonews.models import Analysis, Article

_SURROGATE = re.compile("[\ud800-\udfff]")


def validate(article: Article) -> None:
    """Raise a typed InputError for text that cannot be analysed."""
    if not article.text or not article.text.strip():
        raise EmptyTextError("The article has no text: paste or upload some text to analyse.")
    limit = settings.get_int("max_chars")
    if len(article.text) > limit:
        raise TextTooLargeError(
            f"The article has {len(article.text):,} characters; the limit is {limit:,} "
            f"(set GEONEWS_MAX_CHARS to change it).",
            size=len(article.text),
            limit=limit,
        )
    if _SURROGATE.search(article.text):
        raise InvalidTextError(
            "The article contains unpaired surrogate code points (U+D800-U+DFFF), which "
            "are not text: read it with geonews.sources, which replaces them."
        )


def enrich(analysis: Analysis, *, pins: Iterable[Pin] | None = None, fallback=None) -> Analysis:
    """The opt-in steps after geoparsing: the user's pins, then the online fallback.

    ``pins`` from ``Store.pins()``; ``fallback`` a ``geocoder.OnlineFallback`` (its
    failures are on ``fallback.failures``; they never raise here).
    """
    if pins:
        analysis = corrections.apply(analysis, pins)
    if fallback is not None:
        analysis = fallback.resolve(analysis).analysis
    return analysis


def _finish(article: Article, doc, gazetteer, *, explain: bool, pins=None, fallback=None):
    mentions = nlp.extract_mentions(doc)
    places = geo.geoparse(doc, mentions, gazetteer=gazetteer, explain=explain)
    dates = dates_mod.resolve_dates(mentions, article.published, text=article.text)
    analysis = Analysis(article=article, entities=mentions, places=places, dates=dates)
    return enrich(analysis, pins=pins, fallback=fallback)


def analyze(
    article: Article,
    *,
    nlp_model=None,
    gazetteer=None,
    explain: bool = False,
    pins: Iterable[Pin] | None = None,
    fallback=None,
) -> Analysis:
    """Analyse one article: entities, geocoded places and resolved dates.

    ``pins`` and ``fallback``: see :func:`enrich` (both off by default).
    """
    validate(article)
    nlp_model = nlp_model if nlp_model is not None else nlp.load_pipeline()
    gazetteer = gazetteer if gazetteer is not None else geo.load_gazetteer()
    pins = list(pins) if pins is not None else None
    return _finish(
        article,
        nlp_model(article.text),
        gazetteer,
        explain=explain,
        pins=pins,
        fallback=fallback,
    )


def analyze_many(
    articles: Iterable[Article],
    *,
    nlp_model=None,
    gazetteer=None,
    batch_size: int = 32,
    n_process: int = 1,
    explain: bool = False,
    pins: Iterable[Pin] | None = None,
    fallback=None,
) -> Iterator[Analysis]:
    """Analyse a stream of valid articles with ``nlp.pipe`` (in order)."""
    nlp_model = nlp_model if nlp_model is not None else nlp.load_pipeline()
    gazetteer = gazetteer if gazetteer is not None else geo.load_gazetteer()
    pins = list(pins) if pins is not None else None
    pairs = ((a.text, a) for a in articles)
    for doc, article in nlp_model.pipe(
        pairs, as_tuples=True, batch_size=batch_size, n_process=n_process
    ):
        yield _finish(article, doc, gazetteer, explain=explain, pins=pins, fallback=fallback)


def reanalyze(store, article_ids: Iterable[str], *, fallback=None, **resources) -> int:
    """Analyse stored articles again (with the store's pins) and store the result over
    the old one, in one transaction; returns how many were re-analysed."""
    articles = [a for a in map(store.get_article, dict.fromkeys(article_ids)) if a is not None]
    if not articles:
        return 0
    analyses = list(analyze_many(articles, pins=store.pins(), fallback=fallback, **resources))
    added, _ = store.add_many(analyses, replace=True)
    return added


# -- bulk ingest -------------------------------------------------------------------
#
#   articles -> plan (valid, not stored, not seen: checked BEFORE analysis, per batch)
#            -> analyse batches (in-process, or N worker processes, each with its own model)
#            -> the parent writes each batch in its own transaction (a writer thread, so
#               the store write of batch k overlaps the analysis of batch k+1)

Failure = tuple[str, str]  # (where, message)


def analyze_batch(
    articles: list[Article], *, explain: bool = False, **resources
) -> tuple[list[Analysis], list[Failure]]:
    """Analyse a batch with ``nlp.pipe``; if that fails, one by one to isolate the culprit.

    ``resources``: ``nlp_model``, ``gazetteer``, ``pins``, ``fallback`` as for
    :func:`analyze_many`. Returns (analyses, failures as (title or id, message)).
    Typed errors other than bad input (a missing model, a broken gazetteer) raise.
    """
    try:
        return list(analyze_many(articles, explain=explain, **resources)), []
    except GeonewsError:
        raise
    except Exception:  # noqa: BLE001 - find the article that breaks the batch
        pass
    out: list[Analysis] = []
    failures: list[Failure] = []
    for a in articles:
        try:
            out.append(analyze(a, explain=explain, **resources))
        except InputError as exc:
            failures.append((a.title or a.id, str(exc)))
        except GeonewsError:
            raise
        except Exception as exc:  # noqa: BLE001 - an analysis bug must not stop the corpus
            failures.append((a.title or a.id, f"analysis failed: {exc.__class__.__name__}: {exc}"))
    return out, failures


@dataclass
class IngestResult:
    """What a bulk ingest did: ``added`` articles, ``skipped`` (stored already or
    repeated in the input), ``failures`` as (where, message); ``interrupted`` when
    stopped by Ctrl-C (every batch written before that is stored: re-run to resume)."""

    added: int = 0
    skipped: int = 0
    failures: list[Failure] = field(default_factory=list)
    interrupted: bool = False

    @property
    def failed(self) -> int:
        return len(self.failures)


def plan(
    articles: Iterable[Article],
    existing: Callable[[list[str]], set[str]],
    *,
    batch_size: int,
    result: IngestResult,
    on_skip: Callable[[int], None] | None = None,
) -> Iterator[list[Article]]:
    """Batches of the valid articles whose content hash is neither stored nor seen earlier.

    ``existing(hashes)`` answers which hashes are stored (``Store.existing``): asked
    once per ``batch_size`` candidates, before any analysis, so a re-run or a resumed
    run skips stored articles cheaply. Invalid articles go to ``result.failures``,
    skipped ones are counted in ``result.skipped`` (and reported to ``on_skip``).
    Streams: holds at most two batches of articles.
    """
    seen: set[str] = set()
    candidates: list[Article] = []
    todo: list[Article] = []

    def skip(n: int) -> None:
        if n:
            result.skipped += n
            if on_skip is not None:
                on_skip(n)

    def fresh() -> list[Article]:
        stored = existing([a.hash for a in candidates])
        new = [a for a in candidates if a.hash not in stored]
        skip(len(candidates) - len(new))
        candidates.clear()
        return new

    for a in articles:
        try:
            validate(a)
        except InputError as exc:
            result.failures.append((a.title or a.id, str(exc)))
            if on_skip is not None:
                on_skip(1)
            continue
        h = a.hash
        if h in seen:
            skip(1)
            continue
        seen.add(h)
        candidates.append(a)
        if len(candidates) >= batch_size:
            todo.extend(fresh())
            while len(todo) >= batch_size:
                yield todo[:batch_size]
                del todo[:batch_size]
    if candidates:
        todo.extend(fresh())
    for i in range(0, len(todo), batch_size):
        yield todo[i : i + batch_size]


# Worker processes: each loads the model and the gazetteer once (the initializer).
_WORKER: dict = {}


def _init_worker(model: str, pins: list[Pin] | None, explain: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _WORKER.update(
        nlp_model=nlp.load_pipeline(model),
        gazetteer=geo.load_gazetteer(),
        pins=pins,
        explain=explain,
    )


def _work(batch: list[Article]) -> tuple[list[Analysis], list[Failure]]:
    w = _WORKER
    return analyze_batch(
        batch,
        nlp_model=w["nlp_model"],
        gazetteer=w["gazetteer"],
        pins=w["pins"],
        explain=w["explain"],
    )


def process_pool(workers: int, *, model: str | None = None, pins=None, explain: bool = False):
    """A pool of ``workers`` processes (forkserver, else spawn: never a fork of a
    process with threads), each loading the model and gazetteer once."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(model or nlp.model_name(), list(pins) if pins else None, explain),
    )


def _analysed_batches(batches: Iterator[list[Article]], workers: int, pins, resources: dict):
    """(batch, analyses, failures) in input order; ``workers`` > 1 runs them in a
    process pool with a bounded window of batches in flight (streaming)."""
    if workers <= 1:
        res = {
            "nlp_model": resources.get("nlp_model") or nlp.load_pipeline(),
            "gazetteer": resources.get("gazetteer") or geo.load_gazetteer(),
        }
        for batch in batches:
            yield (batch, *analyze_batch(batch, pins=pins, **res))
        return
    pool = process_pool(workers, pins=pins)
    window: deque[tuple[list[Article], Future]] = deque()
    try:
        for batch in batches:
            window.append((batch, pool.submit(_work, batch)))
            if len(window) > 2 * workers:
                batch, fut = window.popleft()
                yield (batch, *fut.result())
        while window:
            batch, fut = window.popleft()
            yield (batch, *fut.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def ingest(
    articles: Iterable[Article],
    store,
    *,
    workers: int = 1,
    batch_size: int = 32,
    pins: Iterable[Pin] | None = None,
    fallback=None,
    progress: Callable[[int], None] | None = None,
    **resources,
) -> IngestResult:
    """Analyse and store a stream of articles; each batch in its own transaction.

    Articles already stored (same content hash) or repeated are skipped before any
    analysis. ``workers`` > 1 analyses batches in that many processes; the store is
    written by this process only, in input order. ``fallback`` (the online geocoder)
    runs here, on each analysed batch. ``progress(n)`` is called as articles are
    done (stored, skipped or failed). ``resources``: ``nlp_model``, ``gazetteer``
    for the in-process path. Ctrl-C stops cleanly: ``interrupted`` is set, and what
    was written stays written.
    """
    result = IngestResult()
    pins = list(pins) if pins is not None else None
    batches = plan(articles, store.existing, batch_size=batch_size, result=result, on_skip=progress)
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="geonews-writer")
    pending: Future | None = None

    def write(batch: list[Article], analyses: list[Analysis]) -> None:
        try:
            added, skipped = store.add_many(analyses)
        except GeonewsError as exc:
            result.failures.extend((a.title or a.id, f"not stored: {exc}") for a in batch)
        else:
            result.added += added
            result.skipped += skipped
        if progress is not None:
            progress(len(batch))

    analysed = _analysed_batches(batches, workers, pins, resources)
    try:
        for batch, analyses, failures in analysed:
            result.failures.extend(failures)
            if fallback is not None:
                analyses = [enrich(a, fallback=fallback) for a in analyses]
            if pending is not None:
                pending.result()
            pending = writer.submit(write, batch, analyses)
        if pending is not None:
            pending.result()
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        analysed.close()  # stops the worker processes
        writer.shutdown(wait=True)  # a write under way completes (or rolls back)
    return result
