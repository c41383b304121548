"""Streamlit-only helpers for the dashboard: cached resources and renderers.

Importing this package (every page and app.py do, first thing) makes sure the app
runs as the st.navigation app it is. Streamlit (1.67) takes an app with a ``pages/``
folder for an old-style multipage app until ``st.navigation`` has run once in the
server process: when the first visit after a start is a link straight to a page
(``/map?place=...``), it runs ``pages/map.py`` alone (no sidebar, no filters, a menu
of file names), and the app stays that way for every later session. Here the flag is
put right and the run restarted, so ``app.py`` draws the page.
"""

from __future__ import annotations

from pathlib import Path as _Path

from streamlit.runtime.pages_manager import PagesManager as _PagesManager

#: The folder Streamlit serves at ``/app/static/`` (``render.static_url``).
STATIC_DIR = _Path(__file__).resolve().parent.parent / "static"

if _PagesManager.uses_pages_directory:
    import streamlit as _st

    _PagesManager.uses_pages_directory = False
    _st.rerun()
