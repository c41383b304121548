"""geonews: extract, geocode and explore the people, places and dates in news.

The core package. It never imports streamlit; the dashboard (app.py, pages/,
components/) is a thin layer over it.
"""

__version__ = "0.1.0"
