"""Cached resources shared by every session of the dashboard.

``st.cache_resource`` keeps one spaCy pipeline, one gazetteer and one store per
server process. They are shared across users and threads: the pipeline and the
gazetteer are read-only, and the store is used only through its own
thread-safe API (``add``, ``stats``, typed queries), never through a shared
connection.
"""

from __future__ import annotations

import streamlit as st

from geonews import geo, nlp, settings
from geonews.errors import GeonewsError
from geonews.store import Store


@st.cache_resource(show_spinner="Loading the spaCy model…")
def get_pipeline(name: str | None = None):
    """The spaCy pipeline (configured model when ``name`` is None)."""
    return nlp.load_pipeline(name)


@st.cache_resource(show_spinner="Loading the gazetteer…")
def get_gazetteer():
    """The offline gazetteer."""
    return geo.load_gazetteer()


@st.cache_resource(show_spinner=False)
def _open_store(path: str) -> Store:
    return Store.open(path)


def get_store() -> Store:
    """The corpus store at ``GEONEWS_DB`` (one per path, opened once)."""
    return _open_store(str(settings.db_path()))


def require_store() -> Store:
    """The store, for a page that cannot work without it.

    When it cannot be opened (another process holds it, StoreLockedError; a broken
    file) the page shows the typed error's message and stops, instead of a traceback.
    """
    try:
        return get_store()
    except GeonewsError as exc:
        st.error(f"The corpus store is unavailable: {exc}")
        st.stop()
