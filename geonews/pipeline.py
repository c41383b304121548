"""Tie the stages together: Article -> Analysis.

    sources -> nlp (mentions, canonical entities) -> geo (places) + dates -> Analysis
            -> [opt-in] corrections (the user's pins) -> [opt-in] online geocoder fallback

The store and the CLI call these; so does the dashboard. Without ``pins`` and
``fallback`` everything is offline and unchanged:

    analyze(article, pins=store.pins(), fallback=geocoder.from_settings(cache=...))
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from geonews import corrections, geo, nlp, settings
from geonews import dates as dates_mod
from geonews.corrections import Pin
from geonews.errors import EmptyTextError, TextTooLargeError
from geonews.models import Analysis, Article


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
