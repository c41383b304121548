"""Plotly charts that update in place: a small Streamlit (v2) component.

``st.plotly_chart`` mounts a new chart element for every new figure, and plotly.js then
draws it twice (as sent, then again at the column's width): 0.1-0.15 s per chart after
each filter change, most of it on the world map. This component keeps one plotly.js
``<div>`` per chart key and hands every new figure to ``Plotly.react``, which draws it
once, in place (zoom and toolbar as before).

plotly.js is the copy the installed ``plotly`` package ships (the version its figures
are written for), copied into ``static/`` and served by Streamlit's static serving.
When that copy cannot be made (a read-only install), charts fall back to
``st.plotly_chart``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import plotly.io as pio
import streamlit as st

from components import STATIC_DIR

_IMMUTABLE_MTIME = 1577836800  # 2020-01-01

_JS = r"""
function plotly(src) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__geonewsPlotly) {
    window.__geonewsPlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => {
        window.__geonewsPlotly = null;
        reject(new Error("The charts' script (" + src + ") did not load; reload the page."));
      };
      document.head.appendChild(script);
    });
  }
  return window.__geonewsPlotly;
}

// what a click reports: the fields of a point that survive JSON (no trace objects)
function point(p) {
  return {
    curve_number: p.curveNumber, point_number: p.pointNumber, point_index: p.pointIndex,
    customdata: p.customdata === undefined ? null : p.customdata,
    x: p.x === undefined ? null : p.x, y: p.y === undefined ? null : p.y,
    lat: p.lat === undefined ? null : p.lat, lon: p.lon === undefined ? null : p.lon,
    location: p.location === undefined ? null : p.location,
  };
}

export default function ({ data, parentElement, setTriggerValue }) {
  let div = parentElement.querySelector("div.geonews-plot");
  if (!div) {
    div = document.createElement("div");
    div.className = "geonews-plot";
    parentElement.appendChild(div);
  }
  div.__geonewsSelect = data.select ? setTriggerValue : null;
  const drawing = data.spec + JSON.stringify(data.template);
  if (div.__geonewsDrawing === drawing) return;  // the same figure: nothing to draw
  div.__geonewsDrawing = drawing;
  plotly(data.src)
    .then((Plotly) => {
      if (div.__geonewsDrawing !== drawing) return;  // a newer figure arrived meanwhile
      const fig = JSON.parse(data.spec);
      fig.layout = fig.layout || {};
      if (data.template) fig.layout.template = data.template;
      return Plotly.react(div, fig.data, fig.layout, data.config).then(() => {
        div.__geonewsWidth = div.clientWidth;
        if (div.__geonewsClick) return;
        div.__geonewsClick = true;
        div.on("plotly_click", (event) => {
          if (div.__geonewsSelect) {
            div.__geonewsSelect("selection", { points: event.points.map(point) });
          }
        });
        // follow the column's width (window resized, sidebar opened or closed)
        new ResizeObserver(() => {
          const width = div.clientWidth;
          if (width && width !== div.__geonewsWidth && div._fullLayout) {
            div.__geonewsWidth = width;
            Plotly.Plots.resize(div);
          }
        }).observe(div);
      });
    })
    .catch((err) => {
      div.textContent = String(err && err.message ? err.message : err);
    });
}
"""

_CSS = ".geonews-plot { width: 100%; }"

_component = st.components.v2.component("geonews.plot", js=_JS, css=_CSS, isolate_styles=False)


@st.cache_resource(show_spinner=False)
def _script_name() -> str | None:
    """plotly.js in ``static/`` under a versioned name (copied there if missing); None
    when it cannot be put there."""
    import plotly
    from plotly.offline import get_plotlyjs_version

    src = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    name = f"plotly-{get_plotlyjs_version()}.min.js"
    dest = STATIC_DIR / name
    try:
        if not dest.is_file() or dest.stat().st_size != src.stat().st_size:
            tmp = dest.with_name(f".{name}.{os.getpid()}.tmp")
            shutil.copyfile(src, tmp)
            # Static files are served without Cache-Control; browsers then keep a file
            # fresh for a tenth of its age (Last-Modified). The name carries the version,
            # so its content never changes: an old date keeps the 4.8 MB in the browser's
            # cache across page loads instead of fetching it again for each.
            os.utime(tmp, (_IMMUTABLE_MTIME, _IMMUTABLE_MTIME))
            os.replace(tmp, dest)
    except OSError:
        return None
    return name


def available() -> bool:
    """Whether the in-place charts can be drawn (plotly.js is in ``static/``)."""
    return _script_name() is not None


def draw(fig, *, key: str, config: dict, static_url: str, template=None, on_select=None):
    """Draw ``fig`` under ``key``: updated in place when the key was drawn before.

    ``template``: the plotly template (a dict) it is drawn with, in place of its own;
    ``on_select``: a callback run before the rerun a click on a point starts (the
    points: ``render.selected_points``); clicks are ignored without one.
    """
    return _component(
        key=key,
        data={
            "spec": pio.to_json(fig, validate=False),
            "config": config,
            "template": template,
            "select": on_select is not None,
            "src": static_url + _script_name(),
        },
        height="content",
        **({"on_selection_change": on_select} if on_select is not None else {}),
    )
