"""The sidebar of filters shared by every page, kept in the URL.

``sidebar(store)`` runs in ``app.py`` before the page: it draws the filter
widgets (entities, types, countries, places, dates, sources, free text) and
returns the current :class:`geonews.filters.Filters`. The URL's query
parameters are the source of truth when a session starts (or the address is
edited); after that the widgets are, and every run writes them back with
``st.query_params`` so the address bar always holds a link to the exact view.

Switching pages with ``st.navigation`` drops the query parameters; the widgets
live in ``app.py`` so their state survives, and the next run writes the
parameters back.

Pages change filters from click events with :func:`apply` (used in ``on_select``
callbacks, which run before the sidebar is drawn) and read the current value
with :func:`current`. Page-specific view settings (map layer, time step, ...)
go in the URL too, through :func:`view_param`.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from components import data
from geonews import charts
from geonews.filters import LABELS, Filters, from_query_params

KEYS = {
    "entities": "f_entities",
    "types": "f_types",
    "countries": "f_countries",
    "places": "f_places",
    "date_from": "f_from",
    "date_to": "f_to",
    "sources": "f_sources",
    "text": "f_text",
}
FILTER_PARAMS = ("entity", "type", "place", "country", "from", "to", "source", "q")
# the pages' own view settings that may share the URL with the filters
VIEW_PARAMS = ("layer", "color", "freq", "event_freq", "scope", "weight", "top", "view")
WRITTEN = "_filters_written"
CURRENT = "_filters_current"
NOTES = "_filters_notes"
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)


def _url_params() -> dict[str, str]:
    """The URL's query parameters, repeated ones joined with commas."""
    return {k: ",".join(st.query_params.get_all(k)) for k in st.query_params}


def _filter_part(params: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in params.items() if k not in VIEW_PARAMS}


def _load(filters: Filters, options: dict) -> list[str]:
    """Put ``filters`` into the widgets' state; values the corpus lacks become notes."""
    notes = list(filters.notes)

    def known(values, allowed, what):
        allowed = set(allowed)
        keep = [v for v in values if v in allowed]
        notes.extend(f"ignored {what}={v!r}: not in the corpus" for v in values if v not in allowed)
        return keep

    places = options["places"]
    st.session_state[KEYS["entities"]] = known(filters.entities, options["entities"], "entity")
    st.session_state[KEYS["types"]] = list(filters.types)
    st.session_state[KEYS["countries"]] = known(filters.countries, options["countries"], "country")
    st.session_state[KEYS["places"]] = known(
        filters.places, list(places["place_id"]) if len(places) else [], "place"
    )
    st.session_state[KEYS["sources"]] = known(filters.sources, options["sources"], "source")
    st.session_state[KEYS["date_from"]] = filters.date_from
    st.session_state[KEYS["date_to"]] = filters.date_to
    st.session_state[KEYS["text"]] = filters.text
    return notes


def _from_state() -> Filters:
    s = st.session_state
    date_from, date_to = s.get(KEYS["date_from"]), s.get(KEYS["date_to"])
    if date_from and date_to and date_from > date_to:
        date_from, date_to = date_to, date_from
    return Filters(
        entities=tuple(s.get(KEYS["entities"]) or ()),
        types=tuple(s.get(KEYS["types"]) or ()),
        places=tuple(s.get(KEYS["places"]) or ()),
        countries=tuple(s.get(KEYS["countries"]) or ()),
        date_from=date_from,
        date_to=date_to,
        sources=tuple(s.get(KEYS["sources"]) or ()),
        text=(s.get(KEYS["text"]) or "").strip(),
    )


def apply(**changes) -> None:
    """Change filters from a callback (before the sidebar draws): ``apply(places=[...])``.

    Keys are :class:`Filters` field names; lists for the repeatable ones.
    """
    for name, value in changes.items():
        st.session_state[KEYS[name]] = list(value) if isinstance(value, tuple) else value


def clear(*names: str) -> None:
    """Reset some filters (all when no name is given); usable as a callback."""
    for name in names or tuple(KEYS):
        key = KEYS[name]
        st.session_state[key] = (
            None if name in ("date_from", "date_to") else "" if name == "text" else []
        )


def current() -> Filters:
    """The filters of this run (as drawn by :func:`sidebar`)."""
    return st.session_state.get(CURRENT) or _from_state()


def view_param(name: str, choices: list[str], default: str) -> str:
    """A page's own view setting kept in the URL (``?layer=countries``).

    Returns the value to start the page's widget with; :func:`set_view_param`
    writes the chosen value back. A value that is not one of ``choices`` is
    ignored with a note.
    """
    assert name in VIEW_PARAMS, name
    raw = st.query_params.get(name)
    if raw is not None and raw not in choices:
        st.info(f"Link: ignored {name}={raw!r}: not one of {', '.join(choices)}.")
    return raw if raw in choices else default


def set_view_param(name: str, value: str, default: str) -> None:
    """Keep a page's view setting in the URL (left out when it is the default)."""
    if value == default:
        if name in st.query_params:
            del st.query_params[name]
    elif st.query_params.get(name) != value:
        st.query_params[name] = value


def _place_label(places) -> dict[str, str]:
    if not len(places):
        return {}
    return {
        pid: f"{name} ({cc})" if isinstance(cc, str) and cc else str(name)
        for pid, name, cc in zip(
            places["place_id"], places["name"], places["country_code"], strict=True
        )
    }


def sidebar(store) -> Filters:
    """Draw the filters in the sidebar and keep them in the URL; returns them."""
    rev = data.refresh_revision(store)
    options = data.options(store, rev)
    params = _url_params()
    wanted = _filter_part(params)
    written = st.session_state.get(WRITTEN)
    if written is None or (wanted and wanted != written):
        # a new session, or an address typed or pasted: the URL says what to show
        st.session_state[NOTES] = _load(from_query_params(wanted), options)
    else:
        st.session_state[NOTES] = []

    # Option lists keep what is selected even if it left the corpus (no widget error).
    def opts(values, key):
        return list(dict.fromkeys([*values, *(st.session_state.get(key) or [])]))

    place_labels = _place_label(options["places"])
    with st.sidebar:
        st.markdown("### Filters")
        st.text_input("Search text", key=KEYS["text"], placeholder="words in title or text")
        st.multiselect(
            "Entities",
            opts(options["entities"], KEYS["entities"]),
            key=KEYS["entities"],
            placeholder="any entity",
        )
        st.multiselect(
            "Entity types",
            opts(list(LABELS), KEYS["types"]),
            key=KEYS["types"],
            placeholder="any type",
        )
        st.multiselect(
            "Countries",
            opts(options["countries"], KEYS["countries"]),
            key=KEYS["countries"],
            format_func=lambda cc: f"{charts.country_name(cc)} ({cc})",
            placeholder="any country",
        )
        st.multiselect(
            "Places",
            opts(list(place_labels), KEYS["places"]),
            key=KEYS["places"],
            format_func=lambda pid: place_labels.get(pid, pid),
            placeholder="any place",
        )
        c1, c2 = st.columns(2)
        c1.date_input(
            "From",
            key=KEYS["date_from"],
            min_value=DATE_MIN,
            max_value=DATE_MAX,
            format="YYYY-MM-DD",
            help=f"Published on or after. The corpus starts {options.get('date_min') or '—'}.",
        )
        c2.date_input(
            "To",
            key=KEYS["date_to"],
            min_value=DATE_MIN,
            max_value=DATE_MAX,
            format="YYYY-MM-DD",
            help=f"Published on or before. The corpus ends {options.get('date_max') or '—'}.",
        )
        st.multiselect(
            "Sources",
            opts(options["sources"], KEYS["sources"]),
            key=KEYS["sources"],
            placeholder="any source",
        )
        filters = _from_state()
        if not filters.is_empty:
            st.button("Clear filters", key="f_clear", on_click=clear, width="stretch")
        st.caption("The address bar holds these filters: copy it to share this view.")

    st.session_state[CURRENT] = filters
    target = filters.to_query_params()
    if target != wanted:
        views = {k: v for k, v in params.items() if k in VIEW_PARAMS}
        st.query_params.from_dict({**target, **views})
    st.session_state[WRITTEN] = target
    for note in st.session_state.get(NOTES, []):
        st.info(f"Link: {note}.")
    return filters


def describe(filters: Filters) -> str:
    """A short human description of the active filters (for empty states)."""
    parts = []
    if filters.entities:
        parts.append("entity")
    if filters.types:
        parts.append("type")
    if filters.countries:
        parts.append("country")
    if filters.places:
        parts.append("place")
    if filters.date_from or filters.date_to:
        parts.append("date")
    if filters.sources:
        parts.append("source")
    if filters.text:
        parts.append("search")
    return ", ".join(parts)


def empty_state(filters: Filters, what: str = "articles") -> None:
    """Say why nothing shows and what to do next."""
    if filters.is_empty:
        st.info(
            f"No {what} yet: the corpus is empty. Add articles on the Analyze page, "
            "or run `python -m geonews ingest sample_data/articles.jsonl`."
        )
    else:
        st.info(
            f"No {what} match the filters ({describe(filters)}): clear the "
            f"{describe(filters).split(', ')[-1]} filter, or press Clear filters in the sidebar."
        )
