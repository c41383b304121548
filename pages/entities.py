"""Entities: the canonical entities of the (filtered) corpus; merge, rename, split them."""

from __future__ import annotations

import streamlit as st

from components import data, filters, render, resources
from geonews import curation
from geonews.errors import GeonewsError

DONE = "entities_done"

st.title("Entities")
store = resources.require_store()
f = filters.current()

kind, message = st.session_state.pop(DONE, (None, None))
if message:
    (st.success if kind == "success" else st.error)(message)

search = st.text_input(
    "Search entities", key="entities_search", placeholder="a name or part of one"
)
table = data.query("entity_table", store, f, search=search.strip(), limit=1000)
if table.empty:
    if search.strip():
        st.info(f"No entity matches {search.strip()!r}: try part of the name.")
    else:
        filters.empty_state(f, "entities")
    st.stop()

st.caption(
    f"{len(table)} entit(y/ies). Select one to filter every view to it or to edit it. "
    "Edits change the stored corpus; every page follows."
)
event = st.dataframe(
    table[["name", "label", "mentions", "articles", "first_seen", "last_seen", "entity_id"]],
    hide_index=True,
    width="stretch",
    key="entities_table",
    on_select="rerun",
    selection_mode="single-row",
    column_config={"entity_id": st.column_config.TextColumn("id", width="small")},
)
rows = event.selection.rows if event else []


def _run(action, success: str) -> None:
    try:
        action()
    except (GeonewsError, ValueError, KeyError) as exc:
        st.session_state[DONE] = ("error", f"Could not do that: {exc}")
    else:
        st.session_state[DONE] = ("success", success)
    st.rerun()


if rows:
    picked = table.iloc[rows[0]]
    eid, name = picked["entity_id"], picked["name"]
    st.subheader(f"{name} ({picked['label']})")
    st.button(
        f"Show only articles naming {name}",
        key="entities_filter",
        on_click=filters.apply,
        kwargs={"entities": [name]},
    )

    options = data.query("entity_table", store, type(f)(), limit=5000)
    others = options[options["entity_id"] != eid]
    merge_tab, rename_tab, split_tab = st.tabs(["Merge into…", "Rename", "Split an alias off"])
    with merge_tab:
        target = st.selectbox(
            f"Merge {name} into",
            list(others["entity_id"]),
            index=None,
            format_func=lambda i: "{} ({})".format(
                *others.loc[others["entity_id"] == i, ["name", "label"]].iloc[0]
            ),
            key="entities_merge_target",
            placeholder="choose the entity to keep",
        )
        if st.button("Merge", key="entities_merge", disabled=target is None):
            target_name = others.loc[others["entity_id"] == target, "name"].iloc[0]
            _run(
                lambda: curation.merge(store, eid, target),
                f"Merged {name} into {target_name}.",
            )
    with rename_tab:
        new_name = st.text_input("New name", value=name, key=f"entities_rename_{eid}")
        if st.button(
            "Rename", key="entities_rename", disabled=not new_name.strip() or new_name == name
        ):
            _run(
                lambda: curation.rename(store, eid, new_name.strip()),
                f"Renamed {name} to {new_name.strip()}.",
            )
    with split_tab:
        alias = st.text_input(
            "Alias to split off (its mentions become an entity of their own)",
            key=f"entities_alias_{eid}",
        )
        if st.button("Split", key="entities_split", disabled=not alias.strip()):
            _run(
                lambda: curation.split_alias(store, eid, alias.strip()),
                f"Split {alias.strip()!r} off {name}.",
            )

render.exports(store, f, key="entities", what=("entities", "mentions"))
