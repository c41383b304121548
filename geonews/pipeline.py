"""Tie the stages together: Article -> Analysis.

    sources -> nlp (mentions, canonical entities) -> geo (places) + dates -> Analysis

The store and the CLI call these; so does the dashboard.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from geonews import dates as dates_mod
from geonews import geo, nlp, settings
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


def _finish(article: Article, doc, gazetteer, *, explain: bool) -> Analysis:
    mentions = nlp.extract_mentions(doc)
    places = geo.geoparse(doc, mentions, gazetteer=gazetteer, explain=explain)
    dates = dates_mod.resolve_dates(mentions, article.published, text=article.text)
    return Analysis(article=article, entities=mentions, places=places, dates=dates)


def analyze(article: Article, *, nlp_model=None, gazetteer=None, explain: bool = False) -> Analysis:
    """Analyse one article: entities, geocoded places and resolved dates."""
    validate(article)
    nlp_model = nlp_model if nlp_model is not None else nlp.load_pipeline()
    gazetteer = gazetteer if gazetteer is not None else geo.load_gazetteer()
    return _finish(article, nlp_model(article.text), gazetteer, explain=explain)


def analyze_many(
    articles: Iterable[Article],
    *,
    nlp_model=None,
    gazetteer=None,
    batch_size: int = 32,
    n_process: int = 1,
    explain: bool = False,
) -> Iterator[Analysis]:
    """Analyse a stream of valid articles with ``nlp.pipe`` (in order)."""
    nlp_model = nlp_model if nlp_model is not None else nlp.load_pipeline()
    gazetteer = gazetteer if gazetteer is not None else geo.load_gazetteer()
    pairs = ((a.text, a) for a in articles)
    for doc, article in nlp_model.pipe(
        pairs, as_tuples=True, batch_size=batch_size, n_process=n_process
    ):
        yield _finish(article, doc, gazetteer, explain=explain)
