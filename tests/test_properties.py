"""Property-based tests (hypothesis) over the readers and the analyze path.

Whatever the bytes, file name or text: no exception escapes except geonews's own typed ones
(GeonewsError subclasses), and every entity, place mention and date offset indexes the text.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from geonews import pipeline, sources
from geonews.errors import GeonewsError
from geonews.models import Article
from geonews.store import Store

NAMES = st.sampled_from(
    ["a.txt", "a.html", "a.json", "a.jsonl", "a.csv", "a.md", "A.JSONL", "a.ndjson", "a.htm"]
) | st.text(min_size=0, max_size=20)

FAST = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def read_all_of(result) -> list[Article]:
    articles = list(result)
    for a in articles:
        assert isinstance(a, Article) and a.text.strip()
        a.text.encode("utf-8")  # storable: no unpaired surrogates
    return articles


@FAST
@given(data=st.binary(max_size=4096), name=NAMES)
@example(data=b"[" * 50_000, name="a.json")
@example(data=b"\xff\xfe\x00", name="a.txt")
@example(data=b'{"text": "\\ud800"}', name="a.jsonl")
@example(data=b"text\n\x00", name="a.csv")
def test_read_bytes_raises_only_typed_errors(data, name):
    try:
        result = sources.read_bytes(data, name)
    except GeonewsError:
        return
    read_all_of(result)
    assert all(isinstance(n, int) and isinstance(m, str) for n, m in result.errors)


@FAST
@given(data=st.binary(max_size=2048), suffix=st.sampled_from(sources.SUFFIXES))
def test_read_path_raises_only_typed_errors(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"f{suffix}"
    path.write_bytes(data)
    errors: list = []
    try:
        read_all_of(sources.read_path(path, errors=errors))
    except GeonewsError:
        pass


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
RECORDS = st.fixed_dictionaries(
    {},
    optional={
        "text": st.text(max_size=80) | JSON_VALUES,
        "title": st.text(max_size=20) | JSON_VALUES,
        "id": st.text(max_size=10) | st.integers(),
        "published": st.text(max_size=25) | st.integers() | st.floats(),
        "url": st.text(max_size=30),
    },
)
LINES = st.lists(
    RECORDS.map(json.dumps) | JSON_VALUES.map(json.dumps) | st.text(max_size=40), max_size=12
)


@FAST
@given(lines=LINES)
def test_jsonl_fuzz_keeps_every_good_line_and_names_the_bad(lines):
    text = "\n".join(line.replace("\n", " ").replace("\r", " ") for line in lines)
    data = text.encode("utf-8", errors="surrogatepass")
    try:
        result = sources.read_bytes(data, "fuzz.jsonl")
    except GeonewsError:
        return
    articles = read_all_of(result)
    # the lines of the text as read (bytes that are not UTF-8 are decoded otherwise);
    # a JSONL line ends at "\n" only (U+2028 or a form feed may sit inside a JSON string)
    read = sources.decode(data, name="fuzz.jsonl")
    nonblank = [n for n, line in enumerate(read.split("\n"), 1) if line.strip()]
    bad = [n for n, _ in result.errors]
    assert len(articles) + len(bad) == len(nonblank)  # every line is read or named
    assert set(bad) <= set(nonblank)
    for article in articles:
        assert not article.url or article.url.lower().startswith(("http://", "https://"))


CELLS = st.text(max_size=30)


@FAST
@given(
    header=st.lists(st.sampled_from(["text", "title", "id", "published", "x", ""]), max_size=5),
    rows=st.lists(st.lists(CELLS, max_size=6), max_size=8),
    raw=st.text(max_size=60),
)
def test_csv_fuzz_raises_only_typed_errors(header, rows, raw):
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    for text in (buf.getvalue(), buf.getvalue() + raw, raw):
        try:
            result = sources.read_bytes(text.encode("utf-8", "surrogatepass"), "fuzz.csv")
        except GeonewsError:
            continue
        read_all_of(result)


@FAST
@given(markup=st.text(max_size=300), tags=st.lists(st.sampled_from(
    ["<script>", "</script>", "<style>", "</style>", "<p>", "</p>", "<!--", "-->", "<b>",
     "<noscript>", "<template>", "&amp;", "&#0;", "&#xD800;", "<![CDATA[", "]]>"]
), max_size=10))  # fmt: skip
def test_html_fuzz_raises_only_typed_errors(markup, tags):
    page = "".join(tags) + markup + "".join(reversed(tags))
    for name in ("a.html", "a.htm"):
        try:
            read_all_of(sources.read_bytes(page.encode("utf-8", "surrogatepass"), name))
        except GeonewsError:
            pass
    sources.html_to_text(page)


# -- the analyze path --------------------------------------------------------------------------

NEWS_WORDS = st.sampled_from(
    [
        "Putin", "Netanyahu", "met", "in", "Sochi", "on", "Thursday", "Moscow", "the",
        "Jordan Valley", "Kyiv", "NATO", "Ukraine's", "U.S.", "12 September 2019", "last year",
        "\n", "\n\n", ",", ".", "—", "“", "”", "'s",
    ]
)  # fmt: skip
AWKWARD = st.sampled_from(
    [
        "\u0301", "\u0308\u0323", "e\u0301", "\u200f", "\u202e", "\u202c", "\u200b", "\ufeff",
        "\x00", "\u00a0", "\u3000", "🇺🇦", "👩‍👩‍👧", "🏳️‍🌈", "دمشق", "Москва", "北京", "ﷺ", "\ufffd",
        "\t", "\r\n", "\u2028", "\U0001f600", "İ", "ß", "ﬁ",
    ]
)  # fmt: skip
TEXT = st.lists(
    NEWS_WORDS | AWKWARD | st.text(st.characters(exclude_categories=["Cs"]), max_size=6),
    min_size=0,
    max_size=40,
).map(" ".join)


@pytest.fixture(scope="module")
def resources(nlp_model, gazetteer):
    return {"nlp_model": nlp_model, "gazetteer": gazetteer}


@pytest.fixture(scope="module")
def store():
    with Store.open(":memory:") as s:
        yield s


def check_offsets(text: str, analysis) -> None:
    for m in analysis.entities:
        assert 0 <= m.start < m.end <= len(text) and text[m.start : m.end] == m.text
    for d in analysis.dates:
        assert 0 <= d.start < d.end <= len(text) and text[d.start : d.end] == d.text
    for place in analysis.places:
        for span in place.mentions:
            assert text[span.start : span.end] == span.text
    json.dumps(analysis.to_json())  # the public contract serialises


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(text=TEXT, published=st.none() | st.dates())
@example(text="Putin met Netanyahu in Sochi\u0301 on Thursday.", published=None)
@example(text="\u202eNATO\u202c met in Kyiv \x00 on 12 September 2019 🇺🇦.", published=None)
def test_analyze_raises_only_typed_errors_and_offsets_index_the_text(
    resources, store, text, published
):
    try:
        article = sources.read_text(text, published=published)
    except GeonewsError:
        return
    try:
        analysis = pipeline.analyze(article, explain=True, **resources)
    except GeonewsError:
        return
    check_offsets(article.text, analysis)
    added = store.add(analysis)  # stored as analysed: offsets index the stored text
    stored = store.get_analysis(article.hash)
    check_offsets(stored.article.text, stored)
    if added:  # (the content hash ignores surrounding whitespace: " x" is "x" stored)
        assert stored.article.text == article.text
        assert len(stored.entities) == len(analysis.entities)
