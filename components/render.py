"""Draw geonews results with Streamlit: highlighted article, tables, map.

Every function takes a ``key`` prefix where it creates keyed elements, so a view
can appear twice on a page. HTML comes from :mod:`geonews.highlight`, which
escapes all text; nothing unescaped reaches ``st.html``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import plotly_view
from geonews import charts, highlight
from geonews.models import Analysis


def static_url() -> str:
    """Where our ``static/`` folder is served (plotly.js and the maps' ``world_110m.json``
    are fetched from there): ``/app/static/``
    (``server.enableStaticServing``), below ``server.baseUrlPath`` when the app is served
    under a prefix."""
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
    plot(charts.places_map(places_df, fit=fit, dark=is_dark()), key=f"{key}_map", geo=True)


def show_entity_bar(analysis: Analysis, *, key: str, top: int = 15) -> None:
    """Bar chart of the most mentioned canonical entities."""
    df = charts.entities_frame(analysis.entities)
    if df.empty:
        return
    plot(charts.entity_counts_bar(df, top=top), key=f"{key}_bar")


# -- corpus views -----------------------------------------------------------------

EXPORT_MIME = {
    "csv": "text/csv",
    "json": "application/json",
    "geojson": "application/geo+json",
    "html": "text/html",
}


def is_dark() -> bool:
    """Whether the viewer's theme is dark (maps pick their land and sea colours)."""
    try:
        return st.context.theme.type == "dark"
    except Exception:  # noqa: BLE001 - no browser context (tests, bare mode)
        return False


def plot(fig, *, key: str, geo: bool = False, on_select=None):
    """Draw a figure in the page's colours; clickable (single points) when ``on_select``
    is given (the clicked points: :func:`selected_points`).

    Drawn by :mod:`components.plotly_view`, which updates the chart in place after a
    filter change; by ``st.plotly_chart`` when that cannot run. Its toolbar's camera
    button saves it as ``geonews-<key>.png``.
    """
    # a map's outlines (world_110m.json) are served from our static folder
    config = charts.plotly_config(static_url() if geo else None, name=key) | {"scrollZoom": True}
    if plotly_view.available():
        return plotly_view.draw(
            fig,
            key=key,
            config=config,
            static_url=static_url(),
            template=charts.theme_template(is_dark()),
            on_select=on_select,
        )
    kwargs = {}
    if on_select is not None:
        kwargs = {"on_select": on_select, "selection_mode": "points"}
    return st.plotly_chart(fig, width="stretch", key=key, config=config, **kwargs)


def selected_points(key: str) -> list[dict]:
    """The points clicked on the chart ``key`` (in its ``on_select`` callback), else [].

    Both chart elements keep ``{"selection": {"points": [...]}}`` in the session state.
    """
    state = st.session_state.get(key)
    selection = state.get("selection") if isinstance(state, dict) else None
    points = selection.get("points") if isinstance(selection, dict) else None
    return list(points) if isinstance(points, list) else []


def exports(store, filters, *, key: str, what=(), figures=None, geojson: bool = False) -> None:
    """Download buttons for the current filtered view.

    ``what``: tables of ``export.export_view`` (mentions, entities, places,
    articles), each as CSV and JSON; ``geojson``: the places as GeoJSON;
    ``figures``: {name: figure, or a function returning it (built only when its button
    is clicked)} saved as standalone HTML that works offline
    (PNG comes from each chart's own toolbar: the browser draws it, so the
    server needs no kaleido). Data is generated only when a button is clicked.
    """
    from geonews import export

    buttons = []
    for name in what:
        for fmt in ("csv", "json"):
            buttons.append((f"{name}.{fmt}", name, fmt))
    if geojson:
        buttons.append(("places.geojson", "places", "geojson"))
    figures = figures or {}
    if not buttons and not figures:
        return
    with st.expander("Export this view", expanded=False):
        cols = st.columns(4)
        i = 0
        for label, name, fmt in buttons:
            cols[i % 4].download_button(
                label,
                data=lambda name=name, fmt=fmt: export.export_view(store, filters, name, fmt)[0],
                file_name=f"geonews-{name}.{fmt}",
                mime=EXPORT_MIME[fmt],
                key=f"{key}_dl_{name}_{fmt}",
                on_click="ignore",
            )
            i += 1
        for name, fig in figures.items():
            cols[i % 4].download_button(
                f"{name} chart.html",
                data=lambda fig=fig: _figure_html(fig() if callable(fig) else fig),
                file_name=f"geonews-{name}.html",
                mime=EXPORT_MIME["html"],
                key=f"{key}_dl_fig_{name}",
                on_click="ignore",
            )
            i += 1
        st.caption(
            "Exports follow the sidebar filters. Charts are saved as interactive HTML that "
            "opens offline; for a PNG, use the camera button in a chart's toolbar (shown when "
            "the pointer is over the chart)."
        )


def _figure_html(fig) -> bytes:
    is_geo = any(t.type in ("scattergeo", "choropleth") for t in fig.data)
    return charts.figure_html(fig, topojson=_topojson() if is_geo else None)


def _topojson() -> str:
    from components import data

    return data.topojson_text()
