"""Plotly figures for the dashboard: pure functions, no I/O.

Records (places, mentions) become DataFrames with ``places_frame`` and
``entities_frame``; DataFrames become figures with ``places_map`` and
``entity_counts_bar``. Geo maps need plotly's ``world_110m`` topojson; the
dashboard serves it itself (``static/world_110m.json``) and passes the URL to
plotly.js with :func:`plotly_config`.
"""

from __future__ import annotations

import functools
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


# colours of the corpus's entity types (PLACE and GROUP gather GPE/LOC/FAC and NORP)
NODE_COLORS: dict[str, str] = {
    **LABEL_COLORS,
    "PLACE": LABEL_COLORS["GPE"],
    "GROUP": LABEL_COLORS["NORP"],
}


#: The dashboard's chart colours, light and dark: Streamlit's own palette, so charts drawn
#: by plotly.js directly look like those of ``st.plotly_chart`` in the same theme.
_THEME = {
    False: {
        "text": "rgba(49, 51, 63, 0.6)",
        "grid": "#E6EAF1",
        "hover": "#FFFFFF",
        "colorway": ["#0068C9", "#83C9FF", "#FF2B2B", "#FFABAB", "#29B09D",
                     "#7DEFA1", "#FF8700", "#FFD16A", "#6D3FC0", "#D5DAE5"],
        "sequential": ["#E4F5FF", "#C7EBFF", "#A6DCFF", "#83C9FF", "#60B4FF",
                       "#3D9DF3", "#1C83E1", "#0068C9", "#0054A3", "#004280"],
    },
    True: {
        "text": "rgba(250, 250, 250, 0.6)",
        "grid": "#31333F",
        "hover": "#262730",
        "colorway": ["#83C9FF", "#0068C9", "#FFABAB", "#FF2B2B", "#7DEFA1",
                     "#29B09D", "#FFD16A", "#FF8700", "#6D3FC0", "#D5DAE5"],
        "sequential": ["#004280", "#0054A3", "#0068C9", "#1C83E1", "#3D9DF3",
                       "#60B4FF", "#83C9FF", "#A6DCFF", "#C7EBFF", "#E4F5FF"],
    },
}  # fmt: skip


@functools.lru_cache(maxsize=2)
def theme_template(dark: bool = False) -> dict:
    """A plotly template (as a dict) in the dashboard's colours for a light or dark page:
    transparent background, the page's font and text colour, light grid lines."""
    t = _THEME[bool(dark)]
    scale = [[i / (len(t["sequential"]) - 1), c] for i, c in enumerate(t["sequential"])]
    axis = {
        "gridcolor": t["grid"],
        "zerolinecolor": t["grid"],
        "linecolor": t["grid"],
        "automargin": True,
        "title": {"standoff": 8},
    }
    return {
        "data": {"heatmap": [{"colorscale": scale}]},
        "layout": {
            "font": {"family": '"Source Sans", "Source Sans Pro", sans-serif',
                     "color": t["text"], "size": 12},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "colorway": t["colorway"],
            "colorscale": {"sequential": scale, "sequentialminus": scale},
            "coloraxis": {"colorscale": scale},
            "xaxis": axis,
            "yaxis": axis,
            "hoverlabel": {"bgcolor": t["hover"], "font": {"color": t["text"]}},
            "legend": {"bgcolor": "rgba(0,0,0,0)"},
        },
    }  # fmt: skip


def plotly_config(topojson_url: str | None = None, *, name: str = "chart") -> dict:
    """The plotly.js config: PNG download and, for a map, where ``world_110m.json`` is.

    plotly.js requests ``topojson_url + "world_110m.json"`` (scope + "_" +
    resolution + "m.json"). The toolbar's camera button saves the figure as
    ``geonews-<name>.png`` at twice the screen resolution, drawn by the browser
    (no kaleido on the server).
    """
    config: dict = {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": f"geonews-{name}", "scale": 2},
    }
    if topojson_url:
        config["topojsonURL"] = topojson_url if topojson_url.endswith("/") else topojson_url + "/"
    return config


@functools.lru_cache(maxsize=1024)
def iso3(country_code: str | None) -> str | None:
    """ISO 3166-1 alpha-3 for an alpha-2 code ("RU" -> "RUS"), else None (also for NaN)."""
    if not isinstance(country_code, str) or len(country_code) != 2:
        return None
    found = pycountry.countries.get(alpha_2=country_code.upper())
    return found.alpha_3 if found else None


@functools.lru_cache(maxsize=1024)
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
    dark: bool = False,
    height: int = 480,
) -> go.Figure:
    """A world map of places: one marker per place, sized by its mention count.

    ``places_df`` has the columns of :func:`places_frame` (``mentions`` may be
    missing: size 1). Markers are coloured and grouped in the legend by kind;
    the hover shows name, kind, country and confidence. With ``shade_countries``
    a choropleth shades the countries the places lie in by their mention count.
    Rows without coordinates are left off. ``fit`` zooms to the markers; ``dark``
    picks land, sea and outline colours for a dark theme.
    """
    colors = GEO_COLORS["dark" if dark else "light"]
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
                    colorscale=[[0.0, "#e3ecf7"], [1.0, "#8fb2dc"]]
                    if not dark
                    else [[0.0, "#2c3e55"], [1.0, "#4f79a8"]],
                    showscale=False,
                    marker_line_color=colors["marker_line"],
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
                    "line": {"width": 1, "color": colors["marker_line"]},
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
        countrycolor=colors["lines"],
        showland=True,
        landcolor=colors["land"],
        showocean=True,
        oceancolor=colors["ocean"],
        showcoastlines=True,
        coastlinecolor=colors["lines"],
        showframe=False,
        bgcolor="rgba(0,0,0,0)",
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


# -- corpus views: map, timelines, co-occurrence ---------------------------------

GEO_COLORS = {
    "light": {"land": "#f4f1ea", "ocean": "#eaf2fb", "lines": "#9aa5b1", "marker_line": "#ffffff"},
    "dark": {"land": "#2b2f36", "ocean": "#151a22", "lines": "#5b6573", "marker_line": "#0e1117"},
}
PLACE_CUSTOM = ["place_id", "kind", "country", "mentions", "articles"]
COUNTRY_CUSTOM = ["country_code", "country", "articles"]


def _geo_layout(fig: go.Figure, *, dark: bool, fit: bool, height: int) -> go.Figure:
    colors = GEO_COLORS["dark" if dark else "light"]
    fig.update_geos(
        scope="world",
        resolution=110,
        projection_type="natural earth",
        showcountries=True,
        countrycolor=colors["lines"],
        showland=True,
        landcolor=colors["land"],
        showocean=True,
        oceancolor=colors["ocean"],
        showcoastlines=True,
        coastlinecolor=colors["lines"],
        showframe=False,
        bgcolor="rgba(0,0,0,0)",
        fitbounds="locations" if fit else False,
    )
    fig.update_layout(
        height=height,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        clickmode="event+select",
        dragmode="pan",
    )
    return fig


# colours of the filtered entities on the map (Tableau 10), and of the places named with none
ENTITY_COLORS = [
    "#e45756",
    "#4c78a8",
    "#54a24b",
    "#b279a2",
    "#f58518",
    "#72b7b2",
    "#eeca3b",
    "#9d755d",
    "#ff9da6",
    "#bab0ac",
]
OTHER_PLACES = "other places"
OTHER_COLOR = "#9aa5b1"


def _entity_groups(df: pd.DataFrame, entities: pd.DataFrame) -> pd.DataFrame:
    """``df`` (places) with ``group`` = the filtered entity each is named with most (from
    ``analysis.place_entities``; :data:`OTHER_PLACES` for none) and ``hover`` saying so."""
    cols = ["place_id", "entity", "sentences", "articles"]
    best = entities[cols].drop_duplicates("place_id").rename(columns={"articles": "shared"})
    df = df.merge(best, on="place_id", how="left")

    def hover(r) -> str:
        n = int(r["mentions"]) if pd.notna(r["mentions"]) else 0
        head = f"{r['name']} \u2014 {n} mention{'s' if n != 1 else ''}"
        if not isinstance(r["entity"], str):
            return head
        s, a = int(r["sentences"]), int(r["shared"])
        unit = (
            f"{s} sentence{'s' if s != 1 else ''}" if s else f"{a} article{'s' if a != 1 else ''}"
        )
        return f"{head}; with {r['entity']} in {unit}"

    return df.assign(
        group=df["entity"].where(df["entity"].notna(), OTHER_PLACES).astype(str),
        hover=[hover(r) for _, r in df.iterrows()],
    )


def place_points_map(
    places_df: pd.DataFrame,
    *,
    color_by: str = "kind",
    entities: pd.DataFrame | None = None,
    dark: bool = False,
    fit: bool = False,
    height: int = 520,
) -> go.Figure:
    """The corpus's places as points sized by mentions (from ``analysis.place_counts``).

    ``places_df`` has ``place_id, name, lat, lon, country_code, kind, mentions,
    articles``. One trace per value of ``color_by`` ("kind", "country_code" or
    "entity"); every point carries ``customdata`` = [place_id, kind, country, mentions,
    articles] so a click can filter to it. Rows without coordinates are left off.

    ``color_by="entity"`` colours each place by the filtered entity it is named with
    most (``entities``, from ``analysis.place_entities``); the legend shows the entity
    names, places named with none are grey, and the hover says "Gaza — 12 mentions;
    with Benjamin Netanyahu in 5 sentences". Without ``entities`` it colours by kind.
    """
    df = places_df.dropna(subset=["lat", "lon"]) if not places_df.empty else places_df
    if color_by == "entity" and (entities is None or entities.empty):
        color_by = "kind"
    fig = go.Figure()
    colors = GEO_COLORS["dark" if dark else "light"]
    if not df.empty:
        df = df.assign(country=df["country_code"].map(country_name))
        if color_by == "entity":
            df = _entity_groups(df, entities)
            names = sorted(set(entities["entity"]))
            palette = {n: ENTITY_COLORS[i % len(ENTITY_COLORS)] for i, n in enumerate(names)}
            order = [n for n in names if n in set(df["group"])]
            order += [OTHER_PLACES] if (df["group"] == OTHER_PLACES).any() else []
        else:
            df = df.assign(group=df[color_by].fillna("unknown").astype(str))
            palette = KIND_COLORS if color_by == "kind" else {}
            order = sorted(set(df["group"]))
        for group_name in order:
            group = df[df["group"] == group_name]
            custom = group[["place_id", "kind", "country", "mentions", "articles"]]
            color = OTHER_COLOR if group_name == OTHER_PLACES else palette.get(group_name)
            marker = {
                "size": [marker_size(c) for c in group["mentions"]],
                "opacity": 0.85,
                "line": {"width": 1, "color": colors["marker_line"]},
            }
            if color:
                marker["color"] = color
            extra = {}
            head = "<b>%{text}</b>"
            if color_by == "entity":
                extra["hovertext"] = list(group["hover"])
                head = "<b>%{hovertext}</b>"
            fig.add_trace(
                go.Scattergeo(
                    lat=group["lat"],
                    lon=group["lon"],
                    text=group["name"],
                    customdata=custom.to_numpy(),
                    mode="markers",
                    name=group_name if color_by != "country_code" else country_name(group_name),
                    marker=marker,
                    hovertemplate=(
                        head + "<br>kind: %{customdata[1]}<br>country: %{customdata[2]}"
                        "<br>mentions: %{customdata[3]} in %{customdata[4]} article(s)"
                        "<extra></extra>"
                    ),
                    **extra,
                )
            )
    if not fig.data:
        fig.add_trace(go.Scattergeo(lat=[], lon=[], mode="markers", showlegend=False))
    title = {"kind": "kind", "country_code": "country", "entity": "named most with"}[color_by]
    fig.update_layout(legend={"title": {"text": title}, "y": 0.5})
    return _geo_layout(fig, dark=dark, fit=fit and not df.empty, height=height)


def country_choropleth(
    countries_df: pd.DataFrame, *, dark: bool = False, height: int = 520
) -> go.Figure:
    """Countries shaded by mentions (from ``analysis.country_counts``, ISO-3 locations).

    ``customdata`` = [country_code (ISO-2), country, articles] for click-to-filter.
    """
    df = countries_df.dropna(subset=["iso3"]) if not countries_df.empty else countries_df
    fig = go.Figure()
    colors = GEO_COLORS["dark" if dark else "light"]
    if not df.empty:
        names = df["country"].where(df["country"].notna(), df["country_code"].map(country_name))
        custom = pd.DataFrame(
            {"country_code": df["country_code"], "country": names, "articles": df["articles"]}
        )
        fig.add_trace(
            go.Choropleth(
                locations=df["iso3"],
                locationmode="ISO-3",
                z=df["mentions"],
                customdata=custom.to_numpy(),
                colorscale="Blues" if not dark else "Tealgrn",
                marker_line_color=colors["lines"],
                marker_line_width=0.5,
                colorbar={"title": {"text": "mentions"}, "thickness": 12},
                hovertemplate=(
                    "<b>%{customdata[1]}</b><br>%{z} mention(s) in %{customdata[2]} article(s)"
                    "<extra></extra>"
                ),
                name="countries",
            )
        )
    else:
        fig.add_trace(go.Scattergeo(lat=[], lon=[], mode="markers", showlegend=False))
    return _geo_layout(fig, dark=dark, fit=False, height=height)


def selected_location(points: Iterable[dict]) -> dict[str, list[str]]:
    """What a map click selected: {"places": [place ids], "countries": [ISO-2]}.

    ``points`` are Streamlit's plotly selection points; the ids come from the
    ``customdata`` that :func:`place_points_map` and :func:`country_choropleth` set.
    """
    out: dict[str, list[str]] = {"places": [], "countries": []}
    for point in points or []:
        custom = point.get("customdata") if isinstance(point, dict) else None
        if not custom:
            continue
        first = str(custom[0])
        if len(custom) == len(COUNTRY_CUSTOM):
            out["countries"].append(first)
        elif len(custom) == len(PLACE_CUSTOM):
            out["places"].append(first)
    return {k: list(dict.fromkeys(v)) for k, v in out.items()}


FREQ_LABELS = {"day": "day", "week": "week", "month": "month", "year": "year"}


def _dates(df: pd.DataFrame) -> list[str]:
    return [str(p)[:10] for p in df["period"]]


def timelines_fig(
    published: pd.DataFrame,
    events: pd.DataFrame,
    per_entity: pd.DataFrame | None = None,
    *,
    freq: str = "week",
    event_freq: str = "month",
) -> go.Figure:
    """The timelines in one figure: when it was reported (articles per ``freq`` of
    publication), when it happened (``events``: mentions of the dates the articles
    talk about, per ``event_freq``) and, given ``per_entity`` (``[period, entity,
    mentions]``), the entities' mentions over time.

    Each row has its own labelled date axis (the dates articles mention can reach decades
    before the articles themselves); the mentions row follows the publication axis when
    zoomed, as both count by publication date. One figure instead of three, its layout
    written out rather than built by ``make_subplots`` (a tenth of a second per filter):
    the browser and the server both do less after each filter change.
    """
    # (frame, column, colour, title, y-axis title) of the two bar rows
    bars = [
        (published, "articles", "#4c78a8",
         f"When it was reported: articles published per {FREQ_LABELS.get(freq, freq)}",
         "articles"),
        (events, "mentions", "#f58518",
         "When it happened: dates the articles mention, per "
         f"{FREQ_LABELS.get(event_freq, event_freq)}",
         "date mentions"),
    ]  # fmt: skip
    rows = [(title, y_title) for *_, title, y_title in bars]
    lines = per_entity is not None and not per_entity.empty
    if lines:
        rows.append(("Mentions over time (by publication date)", "mentions"))
    gap = 0.17 if len(rows) == 2 else 0.1
    height = (1 - gap * (len(rows) - 1)) / len(rows)
    data: list = []
    for row, (df, y, color, _, unit) in enumerate(bars, start=1):
        if not df.empty:
            data.append(
                go.Bar(
                    x=_dates(df), y=df[y], marker_color=color, showlegend=False,
                    name=unit, xaxis=f"x{row}", yaxis=f"y{row}",
                    hovertemplate="%{x|%Y-%m-%d}: %{y} " + unit + "<extra></extra>",
                )
            )  # fmt: skip
    if lines:
        for entity, group in per_entity.groupby("entity", sort=True):
            group = group.sort_values("period")
            data.append(
                go.Scatter(
                    x=_dates(group), y=group["mentions"], mode="lines+markers",
                    name=str(entity), xaxis="x3", yaxis="y3",
                    hovertemplate=f"{entity}<br>" + "%{x|%Y-%m-%d}: %{y} mention(s)<extra></extra>",
                )
            )  # fmt: skip
    layout: dict = {
        "height": 560 if len(rows) == 2 else 860,
        "margin": {"l": 0, "r": 0, "t": 30, "b": 0},
        "bargap": 0.1,
        "showlegend": lines,
        "legend": {"orientation": "h", "y": -0.05, "yanchor": "top",
                   "title": {"text": "mentions of"}},
        "annotations": [],
    }  # fmt: skip
    for i, (title, y_title) in enumerate(rows, start=1):
        top = 1 - (i - 1) * (height + gap)
        x = {"anchor": f"y{i}", "domain": [0, 1], "type": "date"}
        if i == 3:
            x["matches"] = "x"
        layout[f"xaxis{i}"] = x
        layout[f"yaxis{i}"] = {
            "anchor": f"x{i}", "domain": [max(round(top - height, 6), 0), round(top, 6)],
            "title": {"text": y_title}, "rangemode": "tozero",
        }  # fmt: skip
        layout["annotations"].append(
            {"text": title, "x": 0, "xanchor": "left", "xref": "paper", "y": top,
             "yanchor": "bottom", "yref": "paper", "showarrow": False, "font": {"size": 15}}
        )  # fmt: skip
    if events.empty:
        layout["annotations"].append(
            {"text": "no dates mentioned in these articles could be resolved",
             "xref": "x2 domain", "yref": "y2 domain", "x": 0.5, "y": 0.5, "showarrow": False}
        )  # fmt: skip
    layout["xaxis"], layout["yaxis"] = layout.pop("xaxis1"), layout.pop("yaxis1")
    return go.Figure(data=data, layout=layout)


def _pair_nodes(pairs: pd.DataFrame) -> pd.DataFrame:
    """Distinct entities of a pairs frame with their label, in first-seen order."""
    a = pairs[["source", "source_label"]].set_axis(["name", "label"], axis=1)
    b = pairs[["target", "target_label"]].set_axis(["name", "label"], axis=1)
    return pd.concat([a, b]).drop_duplicates("name").reset_index(drop=True)


def cooccurrence_matrix(pairs: pd.DataFrame, *, value: str = "weight") -> pd.DataFrame:
    """Symmetric entity x entity matrix of ``value`` (0 where two never co-occur).

    Entities are ordered by their total ``value``, largest first.
    """
    if pairs.empty:
        return pd.DataFrame(dtype=float)
    both = pd.concat(
        [
            pairs[["source", "target", value]],
            pairs[["target", "source", value]].set_axis(["source", "target", value], axis=1),
        ]
    )
    m = both.pivot_table(index="source", columns="target", values=value, aggfunc="sum")
    order = both.groupby("source")[value].sum().sort_values(ascending=False, kind="stable").index
    return m.reindex(index=order, columns=order).fillna(0.0)


def cooccurrence_heatmap(
    pairs: pd.DataFrame, *, value: str = "weight", title: str = "", height: int | None = None
) -> go.Figure:
    """Heatmap of the co-occurrence matrix of the pairs' entities."""
    m = cooccurrence_matrix(pairs, value=value)
    fig = go.Figure()
    if not m.empty:
        fig.add_trace(
            go.Heatmap(
                z=m.to_numpy(),
                x=list(m.columns),
                y=list(m.index),
                colorscale="Viridis",
                colorbar={"title": {"text": value}, "thickness": 12},
                hovertemplate="%{y} × %{x}: %{z:.3g}<extra></extra>",
                hoverongaps=False,
            )
        )
    n = len(m)
    fig.update_layout(
        title={"text": title, "font": {"size": 15}} if title else None,
        height=height or max(320, 22 * n + 160),
        margin={"l": 0, "r": 0, "t": 40 if title else 10, "b": 0},
        xaxis={"tickangle": -45, "automargin": True},
        yaxis={"autorange": "reversed", "automargin": True},
    )
    return fig


def network_layout(
    nodes: list[str],
    edges: Iterable[tuple[str, str, float]],
    *,
    iterations: int = 200,
) -> dict[str, tuple[float, float]]:
    """Deterministic force-directed positions (Fruchterman-Reingold) in [-1, 1]².

    Starts from a circle in the order given, so the same input gives the same
    picture; heavier edges pull harder. No randomness, no extra dependency.
    """
    import numpy as np

    n = len(nodes)
    if n == 0:
        return {}
    if n == 1:
        return {nodes[0]: (0.0, 0.0)}
    index = {name: i for i, name in enumerate(nodes)}
    angle = 2 * np.pi * np.arange(n) / n
    pos = np.column_stack([np.cos(angle), np.sin(angle)])
    w = np.zeros((n, n))
    for a, b, weight in edges:
        if a in index and b in index and a != b:
            w[index[a], index[b]] = w[index[b], index[a]] = max(float(weight), 0.0)
    if w.max() > 0:
        w = w / w.max()
    k = np.sqrt(4.0 / n)
    temperature = 0.2
    for _ in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.linalg.norm(delta, axis=-1)
        np.fill_diagonal(dist, 1.0)
        dist = np.maximum(dist, 1e-3)
        coef = k * k / dist**2 - w * dist / k
        np.fill_diagonal(coef, 0.0)
        disp = (delta * coef[..., None]).sum(axis=1)
        disp -= 0.05 * pos  # gentle gravity keeps unconnected nodes near the centre
        length = np.maximum(np.linalg.norm(disp, axis=1), 1e-9)
        pos += disp / length[:, None] * np.minimum(length, temperature)[:, None]
        temperature *= 0.98
    pos -= pos.mean(axis=0)
    scale = np.abs(pos).max() or 1.0
    pos /= scale
    return {
        name: (round(float(x), 6), round(float(y), 6))
        for name, (x, y) in zip(nodes, pos, strict=True)
    }


def network_graph(
    pairs: pd.DataFrame,
    nodes: pd.DataFrame | None = None,
    *,
    value: str = "weight",
    height: int = 560,
) -> go.Figure:
    """The co-occurrence network: node size by mentions, colour by label, edge width by weight.

    ``pairs`` as from ``analysis.cooccurrence``; ``nodes`` optionally gives
    ``name, label, mentions`` (else the entities of the pairs, mentions 1).
    Edges are drawn in four width classes (one trace each); nodes in one trace per
    label, each point's ``customdata`` = [name, label, mentions] for click-to-filter.
    """
    fig = go.Figure()
    if pairs.empty:
        fig.update_layout(height=height)
        return fig
    found = _pair_nodes(pairs)
    if nodes is not None and not nodes.empty:
        extra = nodes[["name", "mentions"]].drop_duplicates("name")
        found = found.merge(extra, on="name", how="left")
    else:
        found["mentions"] = 1
    found["mentions"] = found["mentions"].fillna(1).astype(float)
    order = found.sort_values("mentions", ascending=False, kind="stable")["name"].tolist()
    values = pairs[value].astype(float).clip(lower=0)
    pos = network_layout(order, zip(pairs["source"], pairs["target"], values, strict=True))

    top = values.max() or 1.0
    classes = pd.cut(values / top, bins=[-0.01, 0.25, 0.5, 0.75, 1.0], labels=[1, 2, 3, 4])
    for width_class, group in pairs.assign(_w=classes).groupby("_w", observed=True):
        xs: list = []
        ys: list = []
        for a, b in zip(group["source"], group["target"], strict=True):
            xs += [pos[a][0], pos[b][0], None]
            ys += [pos[a][1], pos[b][1], None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"width": 0.8 + 1.6 * int(width_class), "color": "rgba(127,127,127,0.45)"},
                hoverinfo="skip",
                showlegend=False,
                name=f"edges {width_class}",
            )
        )
    top_mentions = found["mentions"].max() or 1.0
    for label, group in found.groupby("label", sort=True):
        fig.add_trace(
            go.Scatter(
                x=[pos[n][0] for n in group["name"]],
                y=[pos[n][1] for n in group["name"]],
                mode="markers+text",
                text=group["name"],
                textposition="top center",
                customdata=group[["name", "label", "mentions"]].to_numpy(),
                name=str(label),
                marker={
                    "size": [12 + 30 * math.sqrt(m / top_mentions) for m in group["mentions"]],
                    "color": color_for(str(label), NODE_COLORS),
                    "line": {"width": 1, "color": "#555555"},
                },
                hovertemplate="<b>%{customdata[0]}</b> (%{customdata[1]})<br>"
                "%{customdata[2]} mention(s)<extra></extra>",
            )
        )
    # the axes fit the nodes (with room for the labels above them); no scaleanchor, so
    # the layout stretches to the wide chart instead of a square in its middle
    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    fig.update_layout(
        height=height,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        xaxis={"visible": False, "range": [min(xs) - 0.15, max(xs) + 0.15]},
        yaxis={"visible": False, "range": [min(ys) - 0.12, max(ys) + 0.2]},
        legend={"title": {"text": "type"}},
        clickmode="event+select",
        dragmode="pan",
    )
    return fig


def selected_entities(points: Iterable[dict]) -> list[str]:
    """Entity names a click on :func:`network_graph` selected (from ``customdata``)."""
    out = []
    for point in points or []:
        custom = point.get("customdata") if isinstance(point, dict) else None
        if custom and len(custom) == 3:
            out.append(str(custom[0]))
    return list(dict.fromkeys(out))


def figure_html(fig: go.Figure, *, topojson: str | None = None) -> bytes:
    """A standalone HTML page of the figure that works offline.

    plotly.js is inlined; for maps pass the ``world_110m.json`` text as ``topojson``
    and it is inlined too (plotly.js reads ``window.PlotlyGeoAssets`` before fetching).
    """
    html = fig.to_html(include_plotlyjs=True, full_html=True, config={"displaylogo": False})
    if topojson and any(t.type in ("scattergeo", "choropleth") for t in fig.data):
        assets = '{"topojson": {"world_110m": ' + topojson + "}}"
        script = f"<script>window.PlotlyGeoAssets = {assets};</script>"
        html = html.replace("<head>", "<head>" + script, 1)
    return html.encode("utf-8")
