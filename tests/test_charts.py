"""geonews.charts: records -> DataFrames -> plotly figures (checked through fig.data)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from geonews import charts
from geonews.models import Mention, Place, Span


def place(name, lat, lon, cc, kind, conf=0.9, n=1) -> Place:
    spans = [Span(i * 10, i * 10 + len(name), name) for i in range(n)]
    return Place(name, lat, lon, cc, kind, conf, spans, id=f"t:{name}", reason="test")


PLACES = [
    place("Sochi", 43.6, 39.73, "RU", "city", 0.95, n=1),
    place("Moscow", 55.75, 37.62, "RU", "city", 0.99, n=2),
    place("Israel", 31.5, 34.75, "IL", "country", 0.98, n=5),
    place("Jordan Valley", 32.1, 35.55, "PS", "region", 0.7, n=2),
    place("Atlantis", None, None, None, "historical", 0.1),
]


def test_places_frame_columns_and_counts():
    df = charts.places_frame(PLACES)
    assert list(df.columns) == charts.PLACE_COLUMNS
    assert df.set_index("name").loc["Israel", "mentions"] == 5
    assert df.set_index("name").loc["Moscow", "country"] == "RU"
    assert charts.places_frame([]).empty


def test_places_map_markers_by_kind_sized_by_mentions():
    fig = charts.places_map(charts.places_frame(PLACES))
    geo = [t for t in fig.data if isinstance(t, go.Scattergeo)]
    assert sorted(t.name for t in geo) == ["city", "country", "region"]  # Atlantis has no coords
    cities = next(t for t in geo if t.name == "city")
    assert list(cities.text) == ["Sochi", "Moscow"]
    sizes = dict(zip(cities.text, cities.marker.size, strict=True))
    assert sizes["Moscow"] > sizes["Sochi"] == charts.marker_size(1)
    assert cities.customdata[0][0] == "city"
    assert cities.customdata[0][1].startswith("Russia")
    for name in ("%{text}", "kind", "country", "confidence"):
        assert name in cities.hovertemplate


def test_places_map_shades_countries_by_iso3():
    fig = charts.places_map(charts.places_frame(PLACES))
    (choro,) = [t for t in fig.data if isinstance(t, go.Choropleth)]
    assert choro.locationmode == "ISO-3"
    shaded = dict(zip(choro.locations, choro.z, strict=True))
    assert shaded == {"RUS": 3, "ISR": 5, "PSE": 2}
    fig = charts.places_map(charts.places_frame(PLACES), shade_countries=False)
    assert not [t for t in fig.data if isinstance(t, go.Choropleth)]


def test_places_map_layout_is_offline_world_110m():
    fig = charts.places_map(charts.places_frame(PLACES))
    assert fig.layout.geo.scope == "world"
    assert fig.layout.geo.resolution == 110
    assert fig.layout.geo.showcountries is True


def test_empty_map_still_has_a_geo_trace():
    fig = charts.places_map(charts.places_frame([]))
    assert len(fig.data) == 1 and isinstance(fig.data[0], go.Scattergeo)
    assert len(fig.data[0].lat) == 0


def test_places_map_accepts_frame_without_mentions_column():
    df = pd.DataFrame(
        {
            "name": ["Kyiv"],
            "kind": ["city"],
            "country": ["UA"],
            "lat": [50.45],
            "lon": [30.52],
            "confidence": [0.9],
        }
    )
    fig = charts.places_map(df, fit=True)
    assert [t.text[0] for t in fig.data if isinstance(t, go.Scattergeo)] == ["Kyiv"]
    assert fig.layout.geo.fitbounds == "locations"


@pytest.mark.parametrize(
    ("url", "expected"),
    [("/app/static/", "/app/static/"), ("/base/app/static", "/base/app/static/"), (None, None)],
)
def test_plotly_config_topojson_url(url, expected):
    assert charts.plotly_config(url).get("topojsonURL") == expected


@pytest.mark.parametrize(
    ("a2", "a3"),
    [("RU", "RUS"), ("ps", "PSE"), ("XX", None), (None, None), (float("nan"), None)],
)
def test_iso3(a2, a3):
    assert charts.iso3(a2) == a3


def test_places_without_country_are_mapped_without_shading():
    places = [
        place("Levant", 33.0, 36.0, None, "region"),
        place("Moscow", 55.75, 37.62, "RU", "city"),
    ]
    fig = charts.places_map(charts.places_frame(places))
    (choro,) = [t for t in fig.data if isinstance(t, go.Choropleth)]
    assert list(choro.locations) == ["RUS"]
    region = next(t for t in fig.data if t.name == "region")
    assert region.customdata[0][1] == ""


MENTIONS = [
    Mention("Putin", "PERSON", 0, 5, "Vladimir Putin"),
    Mention("Vladimir Putin", "PERSON", 10, 24, "Vladimir Putin"),
    Mention("Putin", "PERSON", 30, 35, "Vladimir Putin"),
    Mention("Israel", "GPE", 40, 46, "Israel"),
    Mention("Thursday", "DATE", 50, 58, "Thursday"),
]


def test_entities_frame_groups_text_label_entity():
    df = charts.entities_frame(MENTIONS)
    assert list(df.columns) == charts.ENTITY_COLUMNS
    assert df.iloc[0].to_dict() == {
        "text": "Putin",
        "label": "PERSON",
        "entity": "Vladimir Putin",
        "count": 2,
    }
    assert len(df) == 4
    assert charts.entities_frame(MENTIONS, labels=["GPE"])["text"].tolist() == ["Israel"]
    assert charts.entities_frame([]).empty


def test_entity_counts_bar_sums_by_canonical_entity():
    fig = charts.entity_counts_bar(charts.entities_frame(MENTIONS), top=2)
    bars = {t.name: dict(zip(t.y, t.x, strict=True)) for t in fig.data}
    assert bars == {"PERSON": {"Vladimir Putin": 3}, "GPE": {"Israel": 1}}  # ties: by name
    assert all(t.orientation == "h" for t in fig.data)
    assert list(fig.layout.yaxis.categoryarray)[-1] == "Vladimir Putin"  # biggest on top


def test_entity_counts_bar_empty():
    assert len(charts.entity_counts_bar(charts.entities_frame([])).data) == 0


def test_plotly_config_saves_png_named_after_the_chart():
    config = charts.plotly_config(name="timeline_published")
    assert config["toImageButtonOptions"] == {
        "format": "png",
        "filename": "geonews-timeline_published",
        "scale": 2,
    }


@pytest.mark.parametrize("dark", [False, True])
def test_maps_follow_the_theme(dark):
    colors = charts.GEO_COLORS["dark" if dark else "light"]
    points = pd.DataFrame(
        {
            "place_id": ["gn:1", "cc:RU"],
            "name": ["Moscow", "Russia"],
            "lat": [55.75, 60.0],
            "lon": [37.62, 100.0],
            "country_code": ["RU", "RU"],
            "kind": ["city", "country"],
            "mentions": [3, 5],
            "articles": [2, 3],
        }
    )
    for fig in (
        charts.places_map(charts.places_frame(PLACES), dark=dark),
        charts.place_points_map(points, dark=dark),
    ):
        assert fig.layout.geo.landcolor == colors["land"]
        assert fig.layout.geo.oceancolor == colors["ocean"]
        markers = [t for t in fig.data if isinstance(t, go.Scattergeo) and len(t.lat)]
        assert markers and all(t.marker.line.color == colors["marker_line"] for t in markers)


def test_network_colours_each_entity_type_apart():
    pairs = pd.DataFrame(
        {
            "source": ["Russia", "Russia", "Vladimir Putin"],
            "source_label": ["PLACE", "PLACE", "PERSON"],
            "target": ["Russian", "Vladimir Putin", "Kremlin"],
            "target_label": ["GROUP", "PERSON", "ORG"],
            "count": [3, 4, 2],
            "pmi": [1.0, 1.2, 0.8],
            "weight": [3.0, 4.0, 2.0],
        }
    )
    fig = charts.network_graph(pairs)
    nodes = {t.name: t.marker.color for t in fig.data if t.mode == "markers+text"}
    assert set(nodes) == {"GROUP", "ORG", "PERSON", "PLACE"}
    assert len(set(nodes.values())) == 4, nodes


def test_place_points_coloured_by_the_filtered_entity():
    points = pd.DataFrame(
        {
            "place_id": ["gn:gaza", "gn:sochi", "cc:RU", "gn:paris"],
            "name": ["Gaza", "Sochi", "Russia", "Paris"],
            "lat": [31.5, 43.6, 60.0, 48.85],
            "lon": [34.47, 39.73, 100.0, 2.35],
            "country_code": ["PS", "RU", "RU", "FR"],
            "kind": ["city", "city", "country", "city"],
            "mentions": [12, 3, 5, 1],
            "articles": [4, 2, 3, 1],
        }
    )
    entities = pd.DataFrame(
        {
            "place_id": ["gn:gaza", "gn:sochi", "cc:RU"],
            "entity": ["Benjamin Netanyahu", "Vladimir Putin", "Vladimir Putin"],
            "sentences": [5, 1, 0],
            "articles": [4, 1, 2],
        }
    )
    fig = charts.place_points_map(points, color_by="entity", entities=entities)
    traces = {t.name: t for t in fig.data}
    # the legend names the entities (Paris, named with none, is grey and last)
    assert list(traces) == ["Benjamin Netanyahu", "Vladimir Putin", charts.OTHER_PLACES]
    assert fig.layout.legend.title.text == "named most with"
    assert list(traces["Vladimir Putin"].text) == ["Sochi", "Russia"]
    colours = [t.marker.color for t in fig.data]
    assert len(set(colours)) == 3 and colours[-1] == charts.OTHER_COLOR
    # the hover says how often; sentences first, else articles
    assert list(traces["Benjamin Netanyahu"].hovertext) == [
        "Gaza \u2014 12 mentions; with Benjamin Netanyahu in 5 sentences"
    ]
    assert list(traces["Vladimir Putin"].hovertext) == [
        "Sochi \u2014 3 mentions; with Vladimir Putin in 1 sentence",
        "Russia \u2014 5 mentions; with Vladimir Putin in 2 articles",
    ]
    assert list(traces[charts.OTHER_PLACES].hovertext) == ["Paris \u2014 1 mention"]
    # a click still filters to the place
    point = {"customdata": list(traces["Benjamin Netanyahu"].customdata[0])}
    assert charts.selected_location([point]) == {"places": ["gn:gaza"], "countries": []}
    # nothing to colour by: by kind
    fig = charts.place_points_map(points, color_by="entity", entities=entities.iloc[:0])
    assert sorted(t.name for t in fig.data) == ["city", "country"]
    assert fig.layout.legend.title.text == "kind"


def test_timelines_keep_reported_and_happened_on_their_own_date_axes():
    published = pd.DataFrame({"period": ["2024-06-03", "2024-06-10"], "articles": [3, 1]})
    events = pd.DataFrame({"period": ["1948-05-01", "2024-06-01"], "mentions": [2, 5]})
    fig = charts.timelines_fig(published, events, freq="week", event_freq="month")
    reported, happened = fig.data
    assert (reported.xaxis, list(reported.y)) == ("x", [3, 1])
    assert (happened.xaxis, list(happened.y)) == ("x2", [2, 5])
    # each axis spans its own dates: 1948 does not squash the 2024 articles
    assert fig.layout.xaxis.matches is None and fig.layout.xaxis2.matches is None
    titles = [a.text for a in fig.layout.annotations]
    assert "reported" in titles[0] and "week" in titles[0]
    assert "happened" in titles[1] and "month" in titles[1]
    assert (fig.layout.yaxis.title.text, fig.layout.yaxis2.title.text) == (
        "articles",
        "date mentions",
    )

    assert not fig.layout.showlegend, "two bar rows need no legend"

    per_entity = pd.DataFrame(
        {"period": ["2024-06-03", "2024-06-10", "2024-06-03"], "entity": ["Gaza", "Gaza", "UN"],
         "mentions": [4, 2, 1]}
    )  # fmt: skip
    three = charts.timelines_fig(published, events, per_entity)
    lines = three.data[2:]
    assert [t.name for t in lines] == ["Gaza", "UN"] and {t.xaxis for t in lines} == {"x3"}
    assert three.layout.xaxis3.matches == "x", "mentions zoom with the publication axis"
    assert three.layout.showlegend and not any(t.showlegend for t in three.data[:2])
    assert "Mentions over time" in three.layout.annotations[2].text

    empty = charts.timelines_fig(published, events.iloc[:0])
    assert len(empty.data) == 1
    assert any("could be resolved" in a.text for a in empty.layout.annotations)


def test_theme_template_is_a_valid_plotly_template_per_page_theme():
    """Charts drawn in place take the page's colours: readable text on light and dark."""
    light, dark = charts.theme_template(False), charts.theme_template(True)
    for t in (light, dark):
        go.layout.Template(t)  # plotly accepts every property
        assert t["layout"]["paper_bgcolor"] == "rgba(0,0,0,0)"
    assert light["layout"]["font"]["color"] != dark["layout"]["font"]["color"]
    fig = go.Figure(go.Bar(x=["a"], y=[1]), layout={"template": dark})
    assert fig.layout.template.layout.colorway == tuple(dark["layout"]["colorway"])
