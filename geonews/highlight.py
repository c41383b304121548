"""Entity highlighting: article text + mentions -> escaped HTML with <mark> spans.

Pure functions, no Streamlit: the dashboard shows the result with ``st.html``.
Every piece of text that reaches the HTML (article text, labels, canonical names)
goes through :func:`html.escape`, so an article containing ``<script>`` shows it
as text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

# Colours by spaCy label (pale, so the text stays readable).
LABEL_COLORS: dict[str, str] = {
    "PERSON": "#aa9cfc",
    "ORG": "#7aecec",
    "GPE": "#feca74",
    "LOC": "#ff9561",
    "NORP": "#c887fb",
    "FAC": "#9cc9cc",
    "EVENT": "#ffeb80",
    "DATE": "#bfe1d9",
    "TIME": "#bfe1d9",
    "LAW": "#ff8197",
    "WORK_OF_ART": "#f0d0ff",
    "PRODUCT": "#bfeeb7",
    "LANGUAGE": "#ff8197",
    "MONEY": "#e4e7d2",
    "PERCENT": "#e4e7d2",
    "QUANTITY": "#e4e7d2",
    "CARDINAL": "#e4e7d2",
    "ORDINAL": "#e4e7d2",
}
DEFAULT_COLOR = "#dddddd"

LABEL_NAMES: dict[str, str] = {
    "PERSON": "person",
    "ORG": "organisation",
    "GPE": "country, city, state",
    "LOC": "location",
    "NORP": "group (nationality, religion, party)",
    "FAC": "facility",
    "EVENT": "event",
    "DATE": "date",
}


class SpanLike(Protocol):
    start: int
    end: int
    label: str


def color_for(label: str, colors: Mapping[str, str] | None = None) -> str:
    """The background colour of a label."""
    table = colors if colors is not None else LABEL_COLORS
    return table.get(label, DEFAULT_COLOR)


def select_spans(mentions: Iterable[SpanLike], *, length: int | None = None) -> list[SpanLike]:
    """Non-overlapping spans in text order.

    On overlap the span that starts first wins, and of two starting together the
    longer one. Empty spans and spans outside ``[0, length]`` are dropped.
    Adjacent spans (one ends where the next starts) are both kept.
    """
    spans = [m for m in mentions if 0 <= m.start < m.end and (length is None or m.end <= length)]
    spans.sort(key=lambda m: (m.start, -(m.end - m.start)))
    out: list[SpanLike] = []
    last_end = 0
    for m in spans:
        if m.start >= last_end:
            out.append(m)
            last_end = m.end
    return out


def _mark(text: str, mention: SpanLike, colors: Mapping[str, str] | None) -> str:
    label = mention.label
    entity = getattr(mention, "entity", None) or text
    title = f"{entity} ({label})" if entity != text else label
    return (
        f'<mark class="geonews-entity" data-label="{html.escape(label)}" '
        f'title="{html.escape(title)}" '
        f'style="background:{color_for(label, colors)};padding:0.1em 0.3em;'
        f'border-radius:0.3em;line-height:1.9">'
        f"{html.escape(text)}"
        f'<span style="font-size:0.65em;font-weight:600;margin-left:0.35em;'
        f'text-transform:uppercase;vertical-align:middle">{html.escape(label)}</span>'
        f"</mark>"
    )


def highlight_text(
    text: str,
    mentions: Iterable[SpanLike],
    *,
    labels: Sequence[str] | None = None,
    colors: Mapping[str, str] | None = None,
) -> str:
    """The article as escaped HTML with one ``<mark>`` per (non-overlapping) mention.

    ``labels`` keeps only mentions with those labels (all when None). Line breaks
    are kept by the wrapper's ``white-space: pre-wrap``.
    """
    chosen = [m for m in mentions if labels is None or m.label in labels]
    parts: list[str] = []
    pos = 0
    for m in select_spans(chosen, length=len(text)):
        parts.append(html.escape(text[pos : m.start]))
        parts.append(_mark(text[m.start : m.end], m, colors))
        pos = m.end
    parts.append(html.escape(text[pos:]))
    body = "".join(parts)
    return (
        '<div class="geonews-article" style="white-space:pre-wrap;line-height:1.8;'
        f'font-size:1rem">{body}</div>'
    )


def legend_html(labels: Iterable[str], *, colors: Mapping[str, str] | None = None) -> str:
    """A row of coloured chips, one per distinct label (in first-seen order)."""
    seen: list[str] = []
    for label in labels:
        if label not in seen:
            seen.append(label)
    chips = [
        f'<span class="geonews-legend-item" data-label="{html.escape(label)}" '
        f'style="background:{color_for(label, colors)};padding:0.15em 0.5em;'
        f'border-radius:0.3em;margin-right:0.4em;font-size:0.85em">'
        f"<b>{html.escape(label)}</b>"
        + (f" {html.escape(LABEL_NAMES[label])}" if label in LABEL_NAMES else "")
        + "</span>"
        for label in seen
    ]
    return f'<div class="geonews-legend" style="margin-bottom:0.8em">{"".join(chips)}</div>'


def article_html(
    text: str,
    mentions: Sequence[SpanLike],
    *,
    labels: Sequence[str] | None = None,
    colors: Mapping[str, str] | None = None,
) -> str:
    """Legend (labels present in the text, by frequency) followed by the highlighted text."""
    chosen = [m for m in mentions if labels is None or m.label in labels]
    counts: dict[str, int] = {}
    for m in chosen:
        counts[m.label] = counts.get(m.label, 0) + 1
    order = sorted(counts, key=lambda label: (-counts[label], label))
    return legend_html(order, colors=colors) + highlight_text(text, chosen, colors=colors)
