"""One filter model for every view, and its round trip through URL query parameters.

A ``Filters`` value says which slice of the corpus a view shows. Every query in
``geonews.analysis`` takes one; the dashboard keeps it in the URL so a copied
link reproduces the view. ``from_query_params`` never raises: parameters it
cannot use are dropped and described in ``notes``.

Query parameters (repeatable ones are comma-separated):

    entity=Vladimir Putin,Hezbollah   canonical entity names
    type=PERSON,ORG                   entity labels
    place=gn:491422,cc:RU             place ids (gazetteer ids)
    country=RU,IL                     ISO 3166-1 alpha-2 codes
    from=2024-06-01&to=2024-12-31     publication date range, inclusive
    source=Meridian Wire              article sources
    q=ceasefire                       free-text search in title and text
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

LABELS = ("PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "EVENT", "PRODUCT", "LAW", "DATE")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_MAX_ITEMS = 50
_MAX_LEN = 200


@dataclass(frozen=True)
class Filters:
    """Which slice of the corpus to show. Empty fields do not filter."""

    entities: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sources: tuple[str, ...] = ()
    text: str = ""
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_empty(self) -> bool:
        return self == Filters()

    def with_(self, **changes) -> Filters:
        """A copy with some fields changed (tuples for the repeatable ones)."""
        return replace(self, **changes)

    def cleared(self, name: str) -> Filters:
        """A copy with one field back to its default."""
        default = {f.name: f.default for f in fields(self)}[name]
        return replace(self, **{name: default})

    def to_query_params(self) -> dict[str, str]:
        """The URL query parameters for this filter (empty fields left out)."""
        out: dict[str, str] = {}
        for key, values in (
            ("entity", self.entities),
            ("type", self.types),
            ("place", self.places),
            ("country", self.countries),
            ("source", self.sources),
        ):
            if values:
                out[key] = ",".join(values)
        if self.date_from:
            out["from"] = self.date_from.isoformat()
        if self.date_to:
            out["to"] = self.date_to.isoformat()
        if self.text:
            out["q"] = self.text
        return out


def _items(raw: str | list[str] | None) -> list[str]:
    if raw is None:
        return []
    parts = raw if isinstance(raw, list) else [raw]
    out: list[str] = []
    for part in parts:
        out.extend(p.strip() for p in str(part).split(",") if p.strip())
    return list(dict.fromkeys(p[:_MAX_LEN] for p in out))[:_MAX_ITEMS]


def _date(raw, name: str, notes: list[str]) -> dt.date | None:
    items = _items(raw)
    if not items:
        return None
    try:
        return dt.date.fromisoformat(items[0])
    except ValueError:
        notes.append(f"ignored {name}={items[0]!r}: not a date (use YYYY-MM-DD)")
        return None


def from_query_params(params: Mapping[str, str | list[str]]) -> Filters:
    """Read a filter from URL query parameters; unusable ones become ``notes``."""
    notes: list[str] = []
    types = []
    for t in _items(params.get("type")):
        if t.upper() in LABELS:
            types.append(t.upper())
        else:
            notes.append(f"ignored type={t!r}: not one of {', '.join(LABELS)}")
    countries = []
    for c in _items(params.get("country")):
        if _COUNTRY.match(c.upper()):
            countries.append(c.upper())
        else:
            notes.append(f"ignored country={c!r}: not a two-letter country code")
    date_from = _date(params.get("from"), "from", notes)
    date_to = _date(params.get("to"), "to", notes)
    if date_from and date_to and date_from > date_to:
        notes.append("from is after to: the two dates were swapped")
        date_from, date_to = date_to, date_from
    text = " ".join(_items(params.get("q")))[:_MAX_LEN]
    known = {"entity", "type", "place", "country", "from", "to", "source", "q"}
    notes.extend(f"ignored unknown parameter {k!r}" for k in params if k not in known)
    return Filters(
        entities=tuple(_items(params.get("entity"))),
        types=tuple(types),
        places=tuple(_items(params.get("place"))),
        countries=tuple(countries),
        date_from=date_from,
        date_to=date_to,
        sources=tuple(_items(params.get("source"))),
        text=text,
        notes=tuple(notes),
    )
