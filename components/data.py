"""Cached corpus queries for the pages: ``geonews.analysis`` behind ``st.cache_data``.

Every result is keyed on (store path, corpus revision, filters, arguments); the
store itself is passed as ``_store`` so it is not hashed. A change to the
corpus (ingest, delete, curation, pin, import) changes ``analysis.revision`` and
so misses the cache: no explicit invalidation is needed. The revision is read
once per run by :func:`refresh_revision` (the sidebar calls it first). Figures are
cached too (:func:`figure`), keyed on the data they draw.
"""

from __future__ import annotations

import json

import plotly.graph_objects as go
import streamlit as st

from geonews import analysis, charts
from geonews.filters import Filters

REVISION = "_corpus_revision"


def refresh_revision(store) -> str:
    """Read the corpus revision for this run (after any change made by a callback).

    After a change to the corpus the store's pre-aggregates are rebuilt first, with a
    spinner: on a large corpus that takes seconds, which the first chart would
    otherwise spend silently."""
    rev = str(analysis.revision(store))
    if rev != st.session_state.get(REVISION) and not store.read_only and store.stale():
        with st.spinner("Updating the corpus summaries after its last change…"):
            store.refresh()
    st.session_state[REVISION] = rev
    return rev


def revision(store) -> str:
    """This run's corpus revision."""
    return st.session_state.get(REVISION) or refresh_revision(store)


def _db(store) -> str:
    return str(getattr(store, "path", None) or id(store))


def _key(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@st.cache_data(show_spinner=False, max_entries=64)
def _options(db: str, rev: str, _store) -> dict:
    return analysis.options(_store)


def options(store, rev: str | None = None) -> dict:
    """``analysis.options`` for the current revision."""
    return _options(_db(store), rev or revision(store), store)


@st.cache_data(show_spinner=False, max_entries=512)
def _query(name: str, db: str, rev: str, fkey: str, akey: str, _store, _filters, _args, _kw):
    return getattr(analysis, name)(_store, _filters, *_args, **_kw)


def query(name: str, store, filters: Filters, *args, **kwargs):
    """``analysis.<name>(store, filters, *args, **kwargs)``, cached per revision."""
    return _query(
        name,
        _db(store),
        revision(store),
        _key(filters.to_query_params()),
        _key([args, kwargs]),
        store,
        filters,
        args,
        kwargs,
    )


@st.cache_data(show_spinner=False, max_entries=256)
def _figure_spec(builder: str, frames: tuple, kwargs: dict) -> dict:
    return getattr(charts, builder)(*frames, **kwargs).to_plotly_json()


def figure(builder: str, *frames, **kwargs) -> go.Figure:
    """``charts.<builder>(*frames, **kwargs)``, cached on the frames' content.

    Building a plotly figure validates every property (about 0.1 s for the map);
    the cache keeps the finished spec, so a view seen before (filters cleared,
    a page revisited) is drawn again without rebuilding it.
    """
    return go.Figure(_figure_spec(builder, frames, kwargs), _validate=False)


@st.cache_data(show_spinner=False, max_entries=16)
def _stats(db: str, rev: str, _store) -> dict:
    return _store.stats()


def stats(store) -> dict:
    """``store.stats()`` for the current revision."""
    return _stats(_db(store), revision(store), store)


@st.cache_resource(show_spinner=False)
def topojson_text() -> str:
    """The world outlines we serve (for maps exported as standalone HTML)."""
    from components import STATIC_DIR

    return (STATIC_DIR / "world_110m.json").read_text()
