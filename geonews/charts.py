"""Plotly figures for the dashboard: pure functions, no I/O.

Records (places, mentions) become DataFrames with ``places_frame`` and
``entities_frame``; DataFrames become figures with ``places_map`` and
``entity_counts_bar``. Geo maps need plotly's ``world_110m`` topojson; the
dashboard serves it itself (``static/world_110m.json``) and passes the URL to
plotly.js with :func:`plotly_config`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go
import pycountry

from geonews.highlight import LABEL_COLORS, color_for
from geonews.models import Mention, Place

PLACE_COLUMNS = ["name", "kind", "country", "lat", "lon", "confidence", "mentions", "reason", "id"]
ENTITY_COLUMNS = ["text", "label", "entity", "count"]

KIND_COLORS: dict[str, str] = {
    "country": "#1f77b4",
    "admin": "#9467bd",
    "city": "#d62728",
    "region": "#ff7f0e",
    "water": "#17becf",
    "feature": "#2ca02c",
    "continent": "#8c564b",
    "historical": "#7f7f7f",
}


def plotly_config(topojson_url: str | None = None) -> dict:
    """The plotly.js config for a map: where to fetch ``world_110m.json`` from.

    plotly.js requests ``topojson_url + "world_110m.json"`` (scope + "_" +
    resolution + "m.json").
    """
    config: dict = {"displaylogo": False}
    if topojson_url:
        config["topojsonURL"] = topojson_url if topojson_url.endswith("/") else topojson_url + "/"
    return config


def iso3(country_code: str | None) -> str | None:
    """ISO 3166-1 alpha-3 for an alpha-2 code ("RU" -> "RUS"), else None (also for NaN)."""
    if not isinstance(country_code, str) or len(country_code) != 2:
        return None
    found = pycountry.countries.get(alpha_2=country_code.upper())
    return found.alpha_3 if found else None


def country_name(country_code: str | None) -> str:
    """A readable country name for an alpha-2 code (the code itself if unknown)."""
    if not isinstance(country_code, str) or not country_code:
        return ""
    found = pycountry.countries.get(alpha_2=country_code.upper())
    return getattr(found, "common_name", None) or (found.name if found else country_code)


def places_frame(places: Iterable[Place]) -> pd.DataFrame:
    """One row per place: name, kind, country, lat, lon, confidence, mentions, reason, id."""
    rows = [
        {
            "name": p.name,
            "kind": p.kind,
            "country": p.country_code,
            "lat": p.lat,
            "lon": p.lon,
            "confidence": round(float(p.confidence), 3),
            "mentions": len(p.mentions),
            "reason": p.reason,
            "id": p.id,
        }
        for p in places
    ]
    return pd.DataFrame(rows, columns=PLACE_COLUMNS)


def entities_frame(
    mentions: Iterable[Mention], *, labels: Iterable[str] | None = None
) -> pd.DataFrame:
    """Distinct (text, label, canonical entity) with their count, most frequent first."""
    keep = set(labels) if labels is not None else None
    rows = [
        {"text": m.text, "label": m.label, "entity": m.entity}
        for m in mentions
        if keep is None or m.label in keep
    ]
    if not rows:
        return pd.DataFrame(columns=ENTITY_COLUMNS)
    df = pd.DataFrame(rows)
    out = df.groupby(["text", "label", "entity"], sort=False).size().reset_index(name="count")
    return out.sort_values(["count", "entity"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def marker_size(count: float) -> float:
    """Marker diameter for a mention count: 8 px for one, growing with the square root."""
    if pd.isna(count):
        return 8.0
    return 8.0 + 6.0 * math.sqrt(max(float(count), 1.0) - 1.0)


def places_map(
    places_df: pd.DataFrame,
    *,
    shade_countries: bool = True,
    fit: bool = False,
    height: int = 480,
) -> go.Figure:
    """A world map of places: one marker per place, sized by its mention count.

    ``places_df`` has the columns of :func:`places_frame` (``mentions`` may be
    missing: size 1). Markers are coloured and grouped in the legend by kind;
    the hover shows name, kind, country and confidence. With ``shade_countries``
    a choropleth shades the countries the places lie in by their mention count.
    Rows without coordinates are left off. ``fit`` zooms to the markers.
    """
    df = places_df.copy()
    if "mentions" not in df:
        df["mentions"] = 1
    df = df.dropna(subset=["lat", "lon"])
    fig = go.Figure()

    if shade_countries and not df.empty and "country" in df:
        by_country = (
            df.assign(iso3=df["country"].map(iso3))
            .dropna(subset=["iso3"])
            .groupby("iso3", as_index=False)
            .agg(mentions=("mentions", "sum"), country=("country", "first"))
        )
        if not by_country.empty:
            fig.add_trace(
                go.Choropleth(
                    locations=by_country["iso3"],
                    locationmode="ISO-3",
                    z=by_country["mentions"],
                    text=by_country["country"].map(country_name),
                    colorscale=[[0.0, "#e3ecf7"], [1.0, "#8fb2dc"]],
                    showscale=False,
                    marker_line_color="#ffffff",
                    marker_line_width=0.5,
                    hovertemplate="%{text}: %{z} mention(s)<extra></extra>",
                    name="countries",
                    showlegend=False,
                )
            )

    for kind, group in df.groupby("kind", sort=True):
        custom = pd.DataFrame(
            {
                "kind": group["kind"],
                "country": group["country"].map(country_name) if "country" in group else "",
                "confidence": group["confidence"] if "confidence" in group else float("nan"),
                "mentions": group["mentions"],
            }
        )
        fig.add_trace(
            go.Scattergeo(
                lat=group["lat"],
                lon=group["lon"],
                text=group["name"],
                customdata=custom.to_numpy(),
                mode="markers",
                name=str(kind),
                marker={
                    "size": [marker_size(c) for c in group["mentions"]],
                    "color": KIND_COLORS.get(str(kind), "#444444"),
                    "opacity": 0.85,
                    "line": {"width": 1, "color": "#ffffff"},
                },
                hovertemplate=(
                    "<b>%{text}</b><br>kind: %{customdata[0]}<br>country: %{customdata[1]}"
                    + ("<br>confidence: %{customdata[2]:.2f}" if "confidence" in group else "")
                    + "<br>mentions: %{customdata[3]}<extra></extra>"
                ),
            )
        )

    if not fig.data:
        # plotly draws no geo subplot without a trace: keep an empty one for the outlines.
        fig.add_trace(go.Scattergeo(lat=[], lon=[], mode="markers", showlegend=False))

    fig.update_geos(
        scope="world",
        resolution=110,
        projection_type="natural earth",
        showcountries=True,
        countrycolor="#9aa5b1",
        showland=True,
        landcolor="#f4f1ea",
        showocean=True,
        oceancolor="#eaf2fb",
        showcoastlines=True,
        coastlinecolor="#9aa5b1",
        showframe=False,
        fitbounds="locations" if fit and not df.empty else False,
    )
    fig.update_layout(
        height=height,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        legend={"title": {"text": "kind"}, "orientation": "h", "y": -0.02},
    )
    return fig


def entity_counts_bar(
    entities_df: pd.DataFrame,
    *,
    top: int = 20,
    height: int | None = None,
) -> go.Figure:
    """Horizontal bars of the most mentioned canonical entities, coloured by label.

    ``entities_df`` has ``entity``, ``label`` and ``count`` (as from
    :func:`entities_frame`); rows of one entity and label are summed.
    """
    if entities_df.empty:
        totals = pd.DataFrame(columns=["entity", "label", "count"])
    else:
        totals = (
            entities_df.groupby(["entity", "label"], as_index=False)["count"]
            .sum()
            .sort_values(["count", "entity"], ascending=[False, True], kind="stable")
            .head(top)
        )
    fig = go.Figure()
    for label, group in totals.groupby("label", sort=False):
        fig.add_trace(
            go.Bar(
                x=group["count"],
                y=group["entity"],
                orientation="h",
                name=str(label),
                marker_color=color_for(str(label), LABEL_COLORS),
                hovertemplate="%{y} (" + str(label) + "): %{x}<extra></extra>",
            )
        )
    order = list(totals["entity"])[::-1]
    fig.update_layout(
        height=height or max(240, 26 * len(totals) + 80),
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        yaxis={"categoryorder": "array", "categoryarray": order, "title": None},
        xaxis={"title": "mentions"},
        barmode="stack",
        legend={"title": {"text": "label"}},
    )
    return fig
