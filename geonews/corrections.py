"""User corrections: pin a place name, in one article or everywhere, to a place.

A :class:`Pin` says "``name`` is this place": a gazetteer entry ("gn:524901",
"cur:jordan-valley") or coordinates. Pins live in the store
(``Store.pin`` / ``Store.unpin`` / ``Store.pins``); :func:`apply` puts them on an
Analysis before it is stored. A mention matches a pin when their normalised
texts are equal (``gazetteer.normalize``: "the Jordan Valley" is "jordan valley").
A pin for the article beats a corpus-wide pin; among equals the newest wins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from geonews.errors import InputError
from geonews.gazetteer import normalize
from geonews.models import Analysis, Place, Span

PINNED = "pinned by user"
PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
KINDS = frozenset("country admin city region water feature continent historical disputed".split())


@dataclass(frozen=True)
class Pin:
    """``name`` (in ``article_id`` only, or everywhere when None) is this place."""

    name: str
    place_id: str
    place_name: str
    lat: float
    lon: float
    kind: str = "city"
    country_code: str | None = None
    article_id: str | None = None
    id: int | None = None
    created_at: dt.datetime | None = None

    @property
    def key(self) -> str:
        return key(self.name)

    @property
    def reason(self) -> str:
        return f"{PINNED} for this article." if self.article_id else f"{PINNED}."

    def to_place(self, spans: Iterable[Span] = ()) -> Place:
        return Place(
            name=self.place_name,
            lat=self.lat,
            lon=self.lon,
            country_code=self.country_code,
            kind=self.kind,
            confidence=1.0,
            mentions=sorted(spans, key=lambda s: s.start),
            id=self.place_id,
            reason=self.reason,
        )

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "article_id": self.article_id,
            "place_id": self.place_id,
            "place_name": self.place_name,
            "lat": self.lat,
            "lon": self.lon,
            "kind": self.kind,
            "country_code": self.country_code,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


def key(name: str) -> str:
    """How a mention is matched to a pin."""
    return normalize(name) or " ".join(name.casefold().split())


def coordinate_id(lat: float, lon: float) -> str:
    """Place id of a pin to bare coordinates."""
    return f"pin:{lat:.5f},{lon:.5f}"


def check_coordinates(lat, lon) -> tuple[float, float]:
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        raise InputError(f"Coordinates must be numbers, not {lat!r}, {lon!r}.") from None
    if not (-90.0 <= lat <= 90.0) or not (-180.0 <= lon <= 180.0):
        raise InputError(
            f"Coordinates out of range: latitude {lat} must be in -90..90, "
            f"longitude {lon} in -180..180."
        )
    return lat, lon


def for_article(pins: Iterable[Pin], article_ids: Iterable[str]) -> dict[str, Pin]:
    """The pin that applies to each key in an article: its own first, then corpus-wide.

    ``pins`` newest first (as ``Store.pins`` gives them); ``article_ids`` the
    ids the article is known by (its own id and its content hash).
    """
    ids = {i for i in article_ids if i}
    out: dict[str, Pin] = {}
    for p in pins:  # article-specific pins first, newest first within each group
        if p.article_id is not None and p.article_id in ids:
            out.setdefault(p.key, p)
    for p in pins:
        if p.article_id is None:
            out.setdefault(p.key, p)
    return out


def apply(analysis: Analysis, pins: Iterable[Pin]) -> Analysis:
    """A copy of ``analysis`` with every pinned mention moved to its pinned place.

    Mentions of places the geoparser kept, and place-labelled entities (GPE, LOC,
    FAC) it did not, are matched by normalised text. ``analysis`` is unchanged.
    """
    a = analysis.article
    active = for_article(list(pins), (a.id, a.hash))
    if not active:
        return analysis
    moved: dict[str, list[Span]] = {}
    kept: list[Place] = []
    covered: set[tuple[int, int]] = set()
    for place in analysis.places:
        rest = []
        for s in place.mentions:
            covered.add((s.start, s.end))
            k = key(s.text)
            if k in active:
                moved.setdefault(k, []).append(s)
            else:
                rest.append(s)
        if len(rest) == len(place.mentions):
            kept.append(place)
        elif rest:
            p = Place(**{**place.__dict__, "mentions": rest})
            kept.append(p)
    for m in analysis.entities:
        if m.label in PLACE_LABELS and (m.start, m.end) not in covered:
            k = key(m.text)
            if k in active:
                moved.setdefault(k, []).append(Span(m.start, m.end, m.text))
                covered.add((m.start, m.end))
    if not moved:
        return analysis
    by_id: dict[str, Place] = {}
    for k, spans in moved.items():
        pin = active[k]
        place = by_id.get(pin.place_id)
        if place is None:
            by_id[pin.place_id] = pin.to_place(spans)
        else:
            place.mentions = sorted([*place.mentions, *spans], key=lambda s: s.start)
    places = []
    for p in kept:
        pinned = by_id.get(p.id) if p.id else None
        if pinned is not None:  # the pinned place is also found elsewhere in the text
            pinned.mentions = sorted([*pinned.mentions, *p.mentions], key=lambda s: s.start)
        else:
            places.append(p)
    places.extend(by_id.values())
    places.sort(key=lambda p: p.mentions[0].start if p.mentions else 1 << 30)
    return Analysis(article=a, entities=analysis.entities, places=places, dates=analysis.dates)
