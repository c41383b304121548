"""Draw geonews results with Streamlit: highlighted article, tables, map.

Every function takes a ``key`` prefix where it creates keyed elements, so a view
can appear twice on a page. HTML comes from :mod:`geonews.highlight`, which
escapes all text; nothing unescaped reaches ``st.html``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geonews import charts, highlight
from geonews.models import Analysis


def topojson_url() -> str:
    """Where plotly.js fetches ``world_110m.json``: our own static folder.

    Static files are served at ``/app/static/`` (``server.enableStaticServing``),
    below ``server.baseUrlPath`` when the app is served under a prefix.
    """
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/app/static/" if base else "/app/static/"


def show_article(analysis: Analysis, *, labels: list[str] | None = None) -> None:
    """The article's text with its entities highlighted by label, and a legend."""
    st.html(highlight.article_html(analysis.article.text, analysis.entities, labels=labels))


def show_entities(analysis: Analysis, *, key: str) -> None:
    """Table of entities (text, label, canonical entity, count)."""
    df = charts.entities_frame(analysis.entities)
    if df.empty:
        st.info("No entities found.")
        return
    st.dataframe(
        df,
        hide_index=True,
        width="stretch",
        key=f"{key}_entities",
        column_config={
            "text": "text",
            "label": "label",
            "entity": "canonical entity",
            "count": st.column_config.NumberColumn("count", format="%d"),
        },
    )


def show_places(places_df: pd.DataFrame, *, key: str) -> None:
    """Table of places with coordinates, confidence and the geocoder's reason."""
    if places_df.empty:
        st.info("No places found.")
        return
    st.dataframe(
        places_df[["name", "kind", "country", "lat", "lon", "confidence", "mentions", "reason"]],
        hide_index=True,
        width="stretch",
        key=f"{key}_places",
        column_config={
            "lat": st.column_config.NumberColumn("lat", format="%.4f"),
            "lon": st.column_config.NumberColumn("lon", format="%.4f"),
            "confidence": st.column_config.ProgressColumn(
                "confidence", min_value=0.0, max_value=1.0, format="%.2f"
            ),
        },
    )


def show_map(places_df: pd.DataFrame, *, key: str, fit: bool = False) -> None:
    """World map of the places, drawn from the locally served topojson."""
    fig = charts.places_map(places_df, fit=fit)
    st.plotly_chart(
        fig,
        width="stretch",
        key=f"{key}_map",
        config=charts.plotly_config(topojson_url()),
    )


def show_entity_bar(analysis: Analysis, *, key: str, top: int = 15) -> None:
    """Bar chart of the most mentioned canonical entities."""
    df = charts.entities_frame(analysis.entities)
    if df.empty:
        return
    st.plotly_chart(charts.entity_counts_bar(df, top=top), width="stretch", key=f"{key}_bar")
