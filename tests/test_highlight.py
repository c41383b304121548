"""geonews.highlight: escaped HTML with one <mark> per mention, and a legend."""

from __future__ import annotations

import re

import pytest

from geonews.highlight import (
    DEFAULT_COLOR,
    LABEL_COLORS,
    article_html,
    highlight_text,
    legend_html,
    select_spans,
)
from geonews.models import Mention


def mention(text: str, whole: str, label: str, entity: str | None = None, nth: int = 0) -> Mention:
    start = -1
    for _ in range(nth + 1):
        start = whole.index(text, start + 1)
    return Mention(text, label, start, start + len(text), entity or text)


def marked(html_out: str) -> list[str]:
    """The text inside each <mark> (without its label chip)."""
    return re.findall(r"<mark[^>]*>(.*?)<span", html_out)


def test_marks_each_mention_with_its_label_and_color():
    text = "Putin met Netanyahu in Sochi."
    ms = [mention("Putin", text, "PERSON", "Vladimir Putin"), mention("Sochi", text, "GPE")]
    out = highlight_text(text, ms)
    assert marked(out) == ["Putin", "Sochi"]
    assert 'data-label="PERSON"' in out and 'data-label="GPE"' in out
    assert LABEL_COLORS["PERSON"] in out and LABEL_COLORS["GPE"] in out
    assert 'title="Vladimir Putin (PERSON)"' in out
    assert " met Netanyahu in " in out


@pytest.mark.parametrize(
    "evil",
    ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "a & b < c > d", "'quoted'"],
)
def test_everything_is_escaped(evil):
    text = f"Before {evil} Moscow {evil} after"
    ms = [mention("Moscow", text, "GPE", entity=evil)]
    # a mention whose own text and label are hostile, too
    ms.append(Mention(evil, f"X{evil}", text.index(evil), text.index(evil) + len(evil), evil))
    out = article_html(text, ms)
    assert "<script" not in out
    assert "<img" not in out
    assert "onerror=alert(1)>" not in out.replace("&gt;", "")  # no live attribute
    assert "&lt;" in out or "&amp;" in out or "&#x27;" in out


def test_overlapping_spans_keep_the_first_and_longest():
    text = "the Jordan Valley in the West Bank"
    ms = [
        mention("Jordan", text, "GPE"),
        mention("Jordan Valley", text, "LOC"),
        mention("Valley in", text, "LOC"),
        mention("West Bank", text, "GPE"),
        mention("Bank", text, "ORG"),
    ]
    out = highlight_text(text, ms)
    assert marked(out) == ["Jordan Valley", "West Bank"]
    assert out.count("<mark") == 2


def test_adjacent_spans_are_both_marked():
    text = "IsraelGaza"
    ms = [Mention("Israel", "GPE", 0, 6, "Israel"), Mention("Gaza", "GPE", 6, 10, "Gaza")]
    assert marked(highlight_text(text, ms)) == ["Israel", "Gaza"]


def test_bad_offsets_are_ignored_and_text_kept():
    text = "Moscow"
    ms = [
        Mention("x", "GPE", 3, 3, "x"),
        Mention("y", "GPE", 4, 99, "y"),
        Mention("z", "GPE", -1, 2, "z"),
    ]
    out = highlight_text(text, ms)
    assert "<mark" not in out and "Moscow" in out


def test_select_spans_sorts_by_position():
    ms = [Mention("b", "GPE", 5, 6, "b"), Mention("a", "GPE", 0, 1, "a")]
    assert [m.text for m in select_spans(ms)] == ["a", "b"]


def test_labels_filter_and_newlines_kept():
    text = "Putin\nvisited Sochi"
    ms = [mention("Putin", text, "PERSON"), mention("Sochi", text, "GPE")]
    out = highlight_text(text, ms, labels=["GPE"])
    assert marked(out) == ["Sochi"]
    assert "Putin\nvisited" in out and "pre-wrap" in out


def test_legend_lists_each_label_once_by_frequency():
    text = "Putin, Putin and Moscow"
    ms = [
        mention("Putin", text, "PERSON"),
        mention("Putin", text, "PERSON", nth=1),
        mention("Moscow", text, "GPE"),
    ]
    out = article_html(text, ms)
    legend = out.split('<div class="geonews-article"')[0]
    assert re.findall(r'geonews-legend-item" data-label="(\w+)"', legend) == ["PERSON", "GPE"]


def test_unknown_label_gets_default_color_and_escaped_name():
    out = legend_html(["<b>NEW</b>"])
    assert DEFAULT_COLOR in out and "&lt;b&gt;NEW&lt;/b&gt;" in out
