"""Typed records that flow through the pipeline.

sources -> Article; nlp -> Mention; geo -> Place; dates -> DateMention;
pipeline -> Analysis (one article, everything found in it).

``Analysis.to_json()`` is the public ``analyze`` JSON-lines contract: keys may be
added, never removed or renamed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field


def content_hash(text: str, title: str | None = None) -> str:
    """Stable id of an article's content: same text and title, same hash."""
    h = hashlib.sha256()
    h.update((title or "").strip().encode("utf-8"))
    h.update(b"\x00")
    h.update(text.strip().encode("utf-8"))
    return h.hexdigest()[:32]


@dataclass(frozen=True)
class Article:
    """One news article as read from a source."""

    text: str
    id: str = ""
    title: str | None = None
    url: str | None = None
    source: str | None = None
    published: dt.date | None = None

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", content_hash(self.text, self.title))

    @property
    def hash(self) -> str:
        return content_hash(self.text, self.title)


@dataclass(frozen=True)
class Mention:
    """A named-entity span in an article's text.

    ``entity`` is the canonical name ("Vladimir Putin" for "Putin");
    ``sentence`` the index of the sentence it stands in.
    """

    text: str
    label: str
    start: int
    end: int
    entity: str
    sentence: int = 0

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "label": self.label,
            "start": self.start,
            "end": self.end,
            "entity": self.entity,
        }


@dataclass(frozen=True)
class Span:
    """Where a place is mentioned: character offsets into the article text."""

    start: int
    end: int
    text: str

    def to_json(self) -> dict:
        return {"start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True)
class Candidate:
    """One gazetteer entry considered for a name, with its score and reasons."""

    id: str
    name: str
    lat: float
    lon: float
    kind: str
    country_code: str | None
    score: float
    reasons: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "lat": self.lat,
            "lon": self.lon,
            "kind": self.kind,
            "country_code": self.country_code,
            "score": round(self.score, 4),
            "reasons": list(self.reasons),
        }


@dataclass
class Place:
    """A resolved place: one per distinct location in an article.

    ``kind`` is one of country | admin | city | region | water | feature |
    continent | historical. ``id`` is the gazetteer id ("gn:524901",
    "cc:RU", "cur:jordan-valley", ...); ``reason`` says why it was chosen.
    """

    name: str
    lat: float | None
    lon: float | None
    country_code: str | None
    kind: str
    confidence: float
    mentions: list[Span] = field(default_factory=list)
    id: str | None = None
    reason: str = ""
    candidates: list[Candidate] = field(default_factory=list)

    def to_json(self, *, explain: bool = False) -> dict:
        out = {
            "name": self.name,
            "lat": self.lat,
            "lon": self.lon,
            "country_code": self.country_code,
            "kind": self.kind,
            "confidence": round(self.confidence, 3),
            "mentions": [m.to_json() for m in self.mentions],
            "id": self.id,
            "reason": self.reason,
        }
        if explain:
            out["candidates"] = [c.to_json() for c in self.candidates]
        return out


@dataclass(frozen=True)
class DateMention:
    """A DATE mention resolved against the publication date.

    ``date`` is ISO "YYYY-MM-DD" (first day of the month/year for coarser
    precision) or None when it cannot be resolved; ``precision`` is
    day | month | year.
    """

    text: str
    start: int
    end: int
    date: str | None
    precision: str | None

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "date": self.date,
            "precision": self.precision,
        }


@dataclass
class Analysis:
    """Everything found in one article."""

    article: Article
    entities: list[Mention] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    dates: list[DateMention] = field(default_factory=list)

    def to_json(self, *, explain: bool = False) -> dict:
        a = self.article
        return {
            "id": a.id,
            "title": a.title,
            "url": a.url,
            "source": a.source,
            "published": a.published.isoformat() if a.published else None,
            "entities": [m.to_json() for m in self.entities],
            "places": [p.to_json(explain=explain) for p in self.places],
            "dates": [d.to_json() for d in self.dates],
        }


#: Where a ``Doc``'s text is kept in its ``user_data`` (by :func:`doc_text`, and by the
#: tokenizer of ``nlp.load_pipeline``, which has it as input).
DOC_TEXT_KEY = "geonews_text"


def doc_text(doc) -> str:
    """A spaCy ``Doc``'s text, joined once per document and kept in its ``user_data``.

    ``Doc.text`` joins every token's text at each call; the steps after the model
    (mentions, geoparsing) read it several times per article.
    """
    text = doc.user_data.get(DOC_TEXT_KEY)
    if text is None:
        from spacy.attrs import ORTH, SPACY  # spaCy is loaded: here is a Doc

        # from arrays: ``Doc.text`` makes a Token object per token
        strings = doc.vocab.strings
        text = "".join(
            [strings[o] + " " if s else strings[o] for o, s in doc.to_array([ORTH, SPACY]).tolist()]
        )
        doc.user_data[DOC_TEXT_KEY] = text
    return text


_WORD_TABLES: dict = {}  # (vocab, name) -> {orth: value}
_WORD_TABLE_LIMIT = 500_000  # words kept per table (a large corpus keeps meeting new ones)


def word_table(vocab, name: str) -> dict:
    """A memo of what the step ``name`` makes of each word of a spaCy vocabulary, keyed
    by the word's orth hash: a word's properties are the same for every token of it, so
    a pass over a document costs a dict lookup per token, not a Token object. Emptied
    when it passes 500,000 words."""
    table = _WORD_TABLES.get((vocab, name))
    if table is None or len(table) > _WORD_TABLE_LIMIT:
        table = _WORD_TABLES[(vocab, name)] = {}
    return table
