"""No deprecated Streamlit or plotly APIs in the dashboard or the core (a source scan).

Streamlit: ``use_container_width`` (now ``width="stretch"``), ``use_column_width``,
``st.experimental_*``, the old ``st.cache``. Plotly: every mapbox trace or layout
(``scattermapbox``, ``scatter_mapbox``, ``choroplethmapbox``, ``density_mapbox``, ...),
replaced by the MapLibre ``*map`` traces; we draw offline geo maps instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    [ROOT / "app.py"]
    + [p for d in ("pages", "components", "geonews") for p in (ROOT / d).rglob("*.py")]
)
DEPRECATED = {
    "use_container_width": re.compile(r"\buse_container_width\b"),
    "use_column_width": re.compile(r"\buse_column_width\b"),
    "experimental_*": re.compile(r"\bexperimental_\w+"),
    "st.cache (removed)": re.compile(r"\bst\.cache\b(?!_)"),
    "mapbox traces": re.compile(
        r"scatter_?mapbox|choropleth_?mapbox|density_?mapbox|line_mapbox|mapbox", re.I
    ),
}


def test_the_scan_covers_the_dashboard_and_the_core():
    names = {p.relative_to(ROOT).as_posix() for p in SOURCES}
    assert {"app.py", "pages/map.py", "components/filters.py", "geonews/charts.py"} <= names


@pytest.mark.parametrize("what", list(DEPRECATED))
def test_no_deprecated_api(what):
    pattern = DEPRECATED[what]
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in SOURCES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not found, f"{what} is deprecated:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("what", "line"),
    [
        ("use_container_width", "st.plotly_chart(fig, use_container_width=True)"),
        ("experimental_*", "st.experimental_rerun()"),
        ("st.cache (removed)", "@st.cache(allow_output_mutation=True)"),
        ("mapbox traces", "go.Scattermapbox(lat=lat, lon=lon)"),
        ("mapbox traces", "px.scatter_mapbox(df)"),
        ("mapbox traces", "go.Choroplethmapbox(z=z)"),
        ("mapbox traces", "px.density_mapbox(df)"),
    ],
)
def test_the_scan_would_catch_it(what, line):
    assert DEPRECATED[what].search(line)


def test_the_scan_leaves_current_apis_alone():
    for line in ("@st.cache_data(show_spinner=False)", "@st.cache_resource", 'width="stretch"'):
        assert not any(p.search(line) for p in DEPRECATED.values()), line
