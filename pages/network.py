"""Network: which entities are named together, in a sentence or in an article."""

from __future__ import annotations

import html
import re

import streamlit as st

from components import data, filters, render, resources
from geonews import charts

SCOPES = {"sentence": "same sentence", "article": "same article"}
WEIGHTS = {"count": "count", "pmi": "PMI (surprise)"}
GRAPH_KEY = "network_graph"
VIEWS = {"graph": "Graph", "heatmap": "Heatmap"}


def _snippet_html(title: str, snippet: str, *names: str) -> str:
    """A supporting sentence with the pair's names in bold (all text escaped)."""
    text = html.escape(snippet)
    for name in names:
        text = re.sub(re.escape(html.escape(name)), lambda m: f"<b>{m[0]}</b>", text, flags=re.I)
    return (
        f'<div class="geonews-evidence"><div style="font-weight:600">{html.escape(title)}</div>'
        f'<blockquote style="margin:0.2em 0 0.8em 0">{text}</blockquote></div>'
    )


def _on_click() -> None:
    """Filter the app to the clicked entity (runs before the sidebar)."""
    points = render.selected_points(GRAPH_KEY)
    names = charts.selected_entities(points)
    if names:
        filters.apply(entities=names)


st.title("Network")
store = resources.require_store()
f = filters.current()

c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
scope_default = filters.view_param("scope", list(SCOPES), "sentence")
weight_default = filters.view_param("weight", list(WEIGHTS), "count")
top_raw = filters.view_param("top", ["10", "20", "30", "40", "50"], "20")
scope = c1.segmented_control(
    "Together in the", list(SCOPES), default=scope_default, format_func=SCOPES.get,
    key="network_scope", required=True,
) or scope_default  # fmt: skip
weight = c2.segmented_control(
    "Weight", list(WEIGHTS), default=weight_default, format_func=WEIGHTS.get,
    key="network_weight", required=True,
    help="Count: how often two entities appear together. PMI: how much more often than "
    "chance, which brings out specific pairs over the ever-present ones.",
) or weight_default  # fmt: skip
top_n = c3.select_slider("Entities", [10, 20, 30, 40, 50], value=int(top_raw), key="network_top")
min_count = c4.number_input("Min. together", 1, 50, 1, key="network_min")
filters.set_view_param("scope", scope, "sentence")
filters.set_view_param("weight", weight, "count")
filters.set_view_param("top", str(top_n), "20")

pairs = data.query(
    "cooccurrence", store, f, scope=scope, weight=weight, top_n=top_n, min_count=int(min_count)
)
if pairs.empty:
    if f.is_empty or data.query("articles", store, f, limit=1).empty:
        filters.empty_state(f, "articles")
    else:
        st.info(
            "No two entities are named together in the filtered articles: choose 'same "
            "article', lower 'Min. together', or clear a filter in the sidebar."
        )
    st.stop()

nodes = data.query("top_entities", store, f, n=500)


def graph():
    return data.figure("network_graph", pairs, nodes, value="weight")


def heat():
    return data.figure("cooccurrence_heatmap", pairs, value="weight", title=WEIGHTS[weight])


# only the open tab is drawn, and its figure built (a chart is most of a re-render's
# time in the browser); the other is built if its export is asked for
view_default = filters.view_param("view", list(VIEWS), "graph")
graph_tab, heat_tab = st.tabs(
    list(VIEWS.values()), default=VIEWS[view_default], key="network_view", on_change="rerun"
)
if heat_tab.open:
    filters.set_view_param("view", "heatmap", "graph")
    with heat_tab:
        render.plot(heat(), key="network_heatmap")
else:
    filters.set_view_param("view", "graph", "graph")
    with graph_tab:
        st.caption(
            "Node size: mentions; colour: type; edge width: weight. Click a node to filter "
            "every view to that entity; drag to pan, scroll to zoom."
        )
        render.plot(graph(), key=GRAPH_KEY, on_select=_on_click)

st.markdown("#### Strongest pairs")
table = pairs.sort_values("weight", ascending=False, kind="stable").reset_index(drop=True)
st.caption("Select a pair to read the sentences that link them.")
event = st.dataframe(
    table[["source", "source_label", "target", "target_label", "count", "pmi", "weight"]],
    hide_index=True,
    width="stretch",
    key="network_pairs",
    on_select="rerun",
    selection_mode="single-row",
    column_config={
        "pmi": st.column_config.NumberColumn("pmi", format="%.2f"),
        "weight": st.column_config.NumberColumn("weight", format="%.2f"),
    },
)
rows = event.selection.rows if event else []
row = table.iloc[rows[0]] if rows else table.iloc[0]
a, b = row["source"], row["target"]
st.markdown(f"##### {a} + {b}")
evidence = data.query("pair_evidence", store, f, a, b, scope=scope, limit=20)
if evidence.empty:
    st.info("No supporting sentences stored for this pair.")
else:
    for item in evidence.itertuples():
        when = f" ({item.published})" if item.published is not None else ""
        st.html(_snippet_html(str(item.title or item.article_id) + when, str(item.snippet), a, b))

render.exports(
    store, f, key="network", what=("entities",), figures={"network": graph, "heatmap": heat}
)
