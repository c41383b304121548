"""Tie the stages together: Article -> Analysis.

    sources -> nlp (mentions, canonical entities) -> geo (places) + dates -> Analysis
            -> [opt-in] corrections (the user's pins) -> [opt-in] online geocoder fallback

The store and the CLI call these; so does the dashboard. Without ``pins`` and
``fallback`` everything is offline and unchanged:

    analyze(article, pins=store.pins(), fallback=geocoder.from_settings(cache=...))
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import multiprocessing.connection
import os
import re
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from geonews import corrections, geo, nlp, settings
from geonews import dates as dates_mod
from geonews.corrections import Pin
from geonews.errors import (
    AnalysisProcessError,
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
            failures.append((_where(a), str(exc)))
        except GeonewsError:
            raise
        except Exception as exc:  # noqa: BLE001 - an analysis bug must not stop the corpus
            failures.append((_where(a), _failed(exc)))
    return out, failures


def _where(article: Article) -> str:
    """How a failure names its article."""
    return article.title or article.id


def _failed(exc: Exception) -> str:
    """The message of an analysis that raised ``exc`` (a bug, not bad input)."""
    return f"analysis failed: {exc.__class__.__name__}: {exc}"


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
            result.failures.append((_where(a), str(exc)))
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


def _exit_with_parent() -> None:
    """End this worker when the process that started it dies (``kill -9`` of an ingest):
    nothing else would wake it, and it would keep its model's memory for good. A thread
    that waits on the parent's sentinel (blocked in the OS: it never takes the GIL)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="geonews-parent-watch", daemon=True).start()


def _init_worker(model: str, pins: list[Pin] | None, explain: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _exit_with_parent()
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


def _mp_context():
    """forkserver, else spawn: never a fork of a process with threads."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def process_pool(workers: int, *, model: str | None = None, pins=None, explain: bool = False):
    """A pool of ``workers`` processes, each loading the model and gazetteer once."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_mp_context(),
        initializer=_init_worker,
        initargs=(nlp.check_model(model), list(pins) if pins else None, explain),
    )


@contextlib.contextmanager
def _worker_deaths():
    """A worker process that died (killed, out of memory) is a typed error."""
    try:
        yield
    except BrokenProcessPool as exc:
        raise AnalysisProcessError(
            "An analysis process stopped unexpectedly (killed, or out of memory?); "
            "what was stored before stays stored: run the same command again to resume."
        ) from exc


# The spaCy stage alone in a process (``ingest`` with one worker): the model runs there
# while this process geoparses, resolves dates and writes the batch before.
_NER: dict = {}


def _init_ner(model: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _exit_with_parent()
    _NER["nlp_model"] = nlp.load_pipeline(model)


def _ner_work(texts: list[str]) -> list[tuple | str]:
    """Each text's packed Doc (``nlp.pack_doc``) up to the pipes that need no model
    (``nlp.AFTER_MODEL``: the parent runs those), or the message of the model's failure
    on it: a batch that fails is run text by text to isolate the culprit."""
    model = _NER["nlp_model"]
    with model.select_pipes(disable=list(nlp.AFTER_MODEL)):
        return _pack_each(model, texts)


def _pack_each(model, texts: list[str]) -> list[tuple | str]:
    try:
        return [nlp.pack_doc(d) for d in model.pipe(texts, batch_size=len(texts))]
    except GeonewsError:
        raise
    except Exception:  # noqa: BLE001 - find the text that breaks the batch
        pass
    out: list[tuple | str] = []
    for text in texts:
        try:
            out.append(nlp.pack_doc(model(text)))
        except GeonewsError:
            raise
        except Exception as exc:  # noqa: BLE001 - a model bug must not stop the corpus
            out.append(_failed(exc))
    return out


class NerProcess:
    """The spaCy pipeline in a process of its own.

    ``submit(texts)`` returns a Future of what :func:`_ner_work` returns; ``finish``
    turns that into analyses here: it rebuilds the Docs and runs the pipes that need no
    model (``nlp.finish_doc``: 1.5 ms an article taken off the model's process), then
    geoparses. The model is loaded once, in the child. Close it (or use ``with``);
    :func:`ingest` starts one per call unless given one (``ner=``).
    """

    def __init__(self, model: str | None = None):
        self.model = nlp.check_model(model)
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=_mp_context(), initializer=_init_ner, initargs=(self.model,)
        )

    def submit(self, texts: list[str]) -> Future:
        return self._pool.submit(_ner_work, texts)

    def _processes(self) -> dict:
        """The pool's process by id: the executor keeps no public list (None once shut)."""
        return getattr(self._pool, "_processes", None) or {}

    @property
    def pid(self) -> int | None:
        """The model process's id, once the first batch has started it."""
        return next(iter(self._processes()), None)

    def finish(
        self, batch: list[Article], packed: list[tuple | str], *, gazetteer, pins=None
    ) -> tuple[list[Analysis], list[Failure]]:
        """Mentions, places and dates of each packed Doc (as ``analyze_batch`` gives)."""
        out: list[Analysis] = []
        failures: list[Failure] = []
        for article, p in zip(batch, packed, strict=True):
            if isinstance(p, str):
                failures.append((_where(article), p))
                continue
            try:
                doc = nlp.finish_doc(p, self.model)
                out.append(_finish(article, doc, gazetteer, explain=False, pins=pins))
            except GeonewsError:
                raise
            except Exception as exc:  # noqa: BLE001 - an analysis bug must not stop the corpus
                failures.append((_where(article), _failed(exc)))
        return out, failures

    def close(self, *, now: bool = False) -> None:
        """Stop the model's process: after the batches it was given, or ``now`` (their
        results unwanted: an interrupted ingest), without waiting for them."""
        if now:
            processes = list(self._processes().values())
            self._pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> NerProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _in_process(batches: Iterator[list[Article]], pins, resources: dict):
    res = {
        "nlp_model": resources.get("nlp_model") or nlp.load_pipeline(),
        "gazetteer": resources.get("gazetteer") or geo.load_gazetteer(),
    }
    for batch in batches:
        yield (batch, *analyze_batch(batch, pins=pins, **res))


def _in_order(batches: Iterator[list[Article]], submit, window: deque, ahead: int):
    """(batch, its Future from ``submit``) in input order, keeping ``ahead`` batches
    submitted beyond the one handed out. ``window`` holds those not handed out yet
    (what is still in flight if the caller stops)."""
    for batch in batches:
        window.append((batch, submit(batch)))
        if len(window) > ahead:
            yield window.popleft()
    while window:
        yield window.popleft()


def _staged(batches: Iterator[list[Article]], pins, resources: dict):
    """The spaCy stage in a :class:`NerProcess` (``resources["ner"]``, else one started
    at the first batch: none when nothing is new), the rest here, two batches behind."""
    first = next(batches, None)
    if first is None:
        return
    ner = resources.get("ner")
    own = ner is None
    ner = NerProcess() if own else ner
    gazetteer = resources.get("gazetteer") or geo.load_gazetteer()
    window: deque[tuple[list[Article], Future]] = deque()
    try:
        with _worker_deaths():
            every = itertools.chain([first], batches)
            for batch, fut in _in_order(
                every, lambda b: ner.submit([a.text for a in b]), window, 2
            ):
                yield (batch, *ner.finish(batch, fut.result(), gazetteer=gazetteer, pins=pins))
    finally:
        for _, fut in window:
            fut.cancel()
        if own:
            ner.close(now=bool(window))  # batches still in flight: no one will read them


def _pooled(batches: Iterator[list[Article]], workers: int, pins):
    """Whole analyses in ``workers`` processes, a bounded window of batches in flight."""
    pool = process_pool(workers, pins=pins)
    window: deque[tuple[list[Article], Future]] = deque()
    try:
        with _worker_deaths():
            for batch, fut in _in_order(
                batches, lambda b: pool.submit(_work, b), window, 2 * workers
            ):
                yield (batch, *fut.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _analysed_batches(batches: Iterator[list[Article]], workers: int, pins, resources: dict):
    """(batch, analyses, failures) in input order, streaming:

    - given an ``nlp_model``: everything in this process;
    - one worker: the spaCy stage in a process of its own (a :class:`NerProcess`), while
      this process geoparses and resolves the dates of the batch before (given two cores);
    - ``workers`` > 1: whole analyses in that many processes.
    """
    if resources.get("nlp_model") is not None:
        return _in_process(batches, pins, resources)
    if workers > 1:
        return _pooled(batches, workers, pins)
    if _cores() > 1:
        return _staged(batches, pins, resources)
    return _in_process(batches, pins, resources)  # one core: a second process only adds work


def _cores() -> int:
    """The cores this process may run on (its affinity, where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


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
    analysis. With one worker the spaCy model runs in a process of its own while this
    one geoparses (two cores busy); ``workers`` > 1 analyses whole batches in that many
    processes. The store is written by this process only, in input order. ``fallback``
    (the online geocoder) runs here, on each analysed batch. ``progress(n)`` is called
    as articles are done (stored, skipped or failed). ``resources``: ``nlp_model`` (and
    ``gazetteer``) to analyse in this process instead; ``ner``, a :class:`NerProcess` to
    reuse across calls. Ctrl-C stops cleanly: ``interrupted`` is set, and what was
    written stays written.
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
            result.failures.extend((_where(a), f"not stored: {exc}") for a in batch)
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
