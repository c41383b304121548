"""Timeline: when it was reported (publication dates) and when it happened (dates mentioned)."""

from __future__ import annotations

import streamlit as st

from components import data, filters, render, resources

FREQS = ["day", "week", "month", "year"]

st.title("Timeline")
store = resources.require_store()
f = filters.current()

c1, c2, c3 = st.columns([1, 1, 3])
freq_default = filters.view_param("freq", FREQS[:3], "week")
freq = c1.selectbox("Articles per", FREQS[:3], index=FREQS.index(freq_default), key="timeline_freq")
event_default = filters.view_param("event_freq", FREQS, "month")
event_freq = c2.selectbox(
    "Mentioned dates per", FREQS, index=FREQS.index(event_default), key="timeline_event_freq"
)
filters.set_view_param("freq", freq, "week")
filters.set_view_param("event_freq", event_freq, "month")

published = data.query("publication_timeline", store, f, freq=freq)
if published.empty:
    filters.empty_state(f, "articles")
    st.stop()

events = data.query("event_timeline", store, f, freq=event_freq)
top = data.query("top_entities", store, f, n=30)
choices = list(top["name"]) if not top.empty else []
picked_default = [e for e in f.entities if e in choices] or choices[:3]
picked = c3.multiselect(
    "Entities to follow",
    list(dict.fromkeys([*f.entities, *choices])),
    default=picked_default,
    key="timeline_entities",
    help="Their mentions over time, in the third chart: the filtered entities, else the "
    "three most mentioned.",
)
per_entity = None
if picked:
    per_entity = data.query(
        "entity_timeline", store, f, entities=list(picked), freq=freq if freq != "day" else "week"
    )
# one figure, three rows: one chart for the browser to draw after each filter change
timelines = data.figure(
    "timelines_fig", published, events, per_entity, freq=freq, event_freq=event_freq
)
render.plot(timelines, key="timeline_timelines")
when = (
    "These articles mention no dates that could be resolved to a day, month or year."
    if events.empty
    else "The second chart: the dates written in the articles (on Thursday, in March 2023), "
    "resolved against each article's publication date, that is when the reported events "
    "happened."
)
st.caption(f"{int(published['articles'].sum())} article(s) by publication date. {when}")
if not picked:
    st.info("Pick entities above to follow their mentions over time.")

figures = {"timelines": timelines}
render.exports(store, f, key="timeline", what=("articles", "mentions"), figures=figures)
