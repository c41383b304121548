"""Map: the corpus's places as points, or its countries shaded by mentions.

Clicking a point filters the whole app to that place; clicking a country to that
country (the filter goes to the sidebar and the URL).
"""

from __future__ import annotations

import streamlit as st

from components import data, filters, render, resources
from geonews import charts

LAYERS = {"points": "Places (points)", "countries": "Countries (shaded)"}
COLORS = {"kind": "kind of place", "country_code": "country", "entity": "filtered entity"}
MAP_KEY = "map_chart"


def _on_click() -> None:
    """Filter the app to the clicked place or country (runs before the sidebar)."""
    points = render.selected_points(MAP_KEY)
    picked = charts.selected_location(points)
    if picked["places"]:
        filters.apply(places=picked["places"])
    elif picked["countries"]:
        filters.apply(countries=picked["countries"])


st.title("Map")
store = resources.require_store()
f = filters.current()

layer_default = filters.view_param("layer", list(LAYERS), "points")
color_default = filters.view_param("color", list(COLORS), "kind")
c1, c2, c3 = st.columns([2, 2, 3])
layer = c1.segmented_control(
    "Layer",
    list(LAYERS),
    default=layer_default,
    format_func=LAYERS.get,
    key="map_layer",
    required=True,
)
layer = layer or layer_default
color_by = color_default
if layer == "points":
    color_by = c2.selectbox(
        "Colour by",
        list(COLORS),
        index=list(COLORS).index(color_default),
        format_func=COLORS.get,
        key="map_color",
    )
fit = c3.toggle("Zoom to the places", value=not f.is_empty, key="map_fit")
filters.set_view_param("layer", layer, "points")
filters.set_view_param("color", color_by, "kind")

dark = render.is_dark()
if layer == "points":
    places = data.query("place_counts", store, f)
    located = places.dropna(subset=["lat", "lon"]) if not places.empty else places
    kw = {}
    if color_by == "entity":
        if f.entities:
            kw["entities"] = data.query("place_entities", store, f)
        else:
            c2.caption("Filter on an entity to colour by it; coloured by kind meanwhile.")
    fig = data.figure("place_points_map", located, color_by=color_by, dark=dark, fit=fit, **kw)
    shown = len(located)
    how = (
        " Each point takes the colour of the filtered entity named with it most often "
        "(in the same sentence, else the same article)."
        if kw
        else ""
    )
    st.caption(
        f"{shown} place(s) with coordinates, sized by mentions.{how} Click a point to filter "
        "every view to that place; scroll or pinch to zoom, drag to pan."
    )
else:
    countries = data.query("country_counts", store, f)
    fig = data.figure("country_choropleth", countries, dark=dark)
    shown = len(countries)
    st.caption(
        f"{shown} countr(y/ies) shaded by the mentions of places in them. Click a country to "
        "filter every view to it."
    )

render.plot(fig, key=MAP_KEY, geo=True, on_select=_on_click)
if not shown:
    filters.empty_state(f, "places")

if f.places or f.countries:
    names = []
    if f.places:
        opts = data.options(store)["places"]
        label = dict(zip(opts["place_id"], opts["name"], strict=True)) if len(opts) else {}
        names += [label.get(p, p) for p in f.places]
    names += [charts.country_name(c) for c in f.countries]
    st.info(f"Filtered to {', '.join(names)}. The other pages show the same selection.")
    st.button("Clear the location filter", on_click=filters.clear, args=("places", "countries"))

if layer == "points":
    table = data.query("place_counts", store, f)
    if not table.empty:
        st.markdown("#### Places")
        st.dataframe(
            table.assign(country=table["country_code"].map(charts.country_name))[
                ["name", "kind", "country", "mentions", "articles", "lat", "lon", "place_id"]
            ],
            hide_index=True,
            width="stretch",
            key="map_places",
            column_config={
                "lat": st.column_config.NumberColumn("lat", format="%.3f"),
                "lon": st.column_config.NumberColumn("lon", format="%.3f"),
            },
        )
else:
    table = data.query("country_counts", store, f)
    if not table.empty:
        st.markdown("#### Countries")
        st.dataframe(table, hide_index=True, width="stretch", key="map_countries")

render.exports(
    store,
    f,
    key="map",
    what=("places",),
    geojson=True,
    figures={"map": fig},
)
