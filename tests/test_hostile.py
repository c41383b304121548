"""Hostile and broken input, through the core (typed errors) and the dashboard (clear messages).

Empty and whitespace-only text, 10 MB of text, binary files renamed .txt, UTF-16 (with and
without a byte-order mark) and Latin-1 files, malformed JSON/JSONL/CSV, HTML with scripts and
styles, text in Arabic, Russian and Chinese. The dashboard half pastes and uploads each of them
into one session after an article is stored, and checks the message and that nothing is lost.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geonews import cli, highlight, pipeline, sources
from geonews.errors import (
    EmptyTextError,
    GeonewsError,
    InputError,
    InvalidTextError,
    ParseError,
    TextTooLargeError,
    UnsupportedFormatError,
)
from geonews.models import Article, Mention

ROOT = Path(__file__).resolve().parent.parent
TEN_MB = 10 * 1024 * 1024

ENGLISH = (
    "Israeli Prime Minister Benjamin Netanyahu met President Vladimir Putin in Sochi on "
    "Thursday. Moscow condemned his vow to annex the Jordan Valley."
)
ARABIC = (
    "قال الرئيس السوري بشار الأسد إن دمشق سترد على الهجمات في الجولان، "
    "بينما التقى وزير الخارجية نظيره الروسي في موسكو يوم الخميس 12 سبتمبر."
)
RUSSIAN = (
    "Президент России Владимир Путин встретился с премьер-министром Израиля Биньямином "
    "Нетаньяху в Сочи в четверг, 12 сентября. Москва осудила планы аннексии."
)
CHINESE = "中国外交部发言人在北京表示，台湾问题是中国内政。\n2024年5月，美国国务卿访问了上海。"
LANGUAGES = {"Arabic": ARABIC, "Cyrillic": RUSSIAN, "CJK": CHINESE}

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj\nstream\x00\x01\x02\xff"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "hello " * 100)
    return buf.getvalue()


def _random(seed: int, lo: int = 0, hi: int = 256, n: int = 4096) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randrange(lo, hi) for _ in range(n))


BINARIES = {
    "pdf": PDF,
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + _random(1, n=512),
    "zip": _zip(),
    "gzip": gzip.compress(ENGLISH.encode() * 20),
    "elf": b"\x7fELF\x02\x01\x01" + bytes(64) + _random(2, n=512),
    "duckdb": b"\x00" * 8 + b"DUCK" + bytes(200),
    "random": _random(3),
    "random-high-bytes": _random(4, lo=128),  # no NUL, no ASCII: mojibake if read as Latin-1
    "nul-padded": b"Putin\x00\x00\x00\x00" * 300,
}

ENCODINGS = [
    # (name, text, bytes)
    ("utf-16 with BOM (English)", ENGLISH, ENGLISH.encode("utf-16")),
    ("utf-16-le no BOM (English)", ENGLISH, ENGLISH.encode("utf-16-le")),
    ("utf-16-be no BOM (English)", ENGLISH, ENGLISH.encode("utf-16-be")),
    ("utf-16 with BOM (Arabic)", ARABIC, ARABIC.encode("utf-16")),
    ("utf-16-le no BOM (Arabic)", ARABIC, ARABIC.encode("utf-16-le")),
    ("utf-16-be no BOM (Russian)", RUSSIAN, RUSSIAN.encode("utf-16-be")),
    ("utf-16 with BOM (Chinese)", CHINESE, CHINESE.encode("utf-16")),
    ("utf-16-le no BOM (Chinese)", CHINESE, CHINESE.encode("utf-16-le")),
    ("utf-32 with BOM", RUSSIAN, RUSSIAN.encode("utf-32")),
    ("utf-8 with BOM", ARABIC, b"\xef\xbb\xbf" + ARABIC.encode()),
    (
        "latin-1",
        "Café in São Paulo: the Zürich délégation met in Besançon.",
        "Café in São Paulo: the Zürich délégation met in Besançon.".encode("latin-1"),
    ),
    (
        "windows-1252",
        "“Quoted” – the minister’s €5 plan for Málaga…",
        "“Quoted” – the minister’s €5 plan for Málaga…".encode("cp1252"),
    ),
]

SCRIPT_WORDS = ("SCRIPTTEXT", "STYLETEXT", "alert(", "window.__xss", "color:red", "HIDDENTEXT")
BODY = "<p>Putin met Erdogan in Ankara on Monday to discuss the war in Syria and refugees.</p>"
HOSTILE_HTML = {
    "head script and style": (
        "<html><head><style>body{color:red} .STYLETEXT{}</style>"
        "<script>var SCRIPTTEXT = 'Moscow'; window.__xss = 1;</script></head>"
        f"<body>{BODY}</body></html>"
    ),
    "inline script mid-sentence": (
        "<html><body><p>Putin met Erdogan <script>document.write('SCRIPTTEXT')</script>in "
        "Ankara on Monday to discuss Syria and refugees.</p></body></html>"
    ),
    "upper-case tags": f"<HTML><BODY>{BODY}<SCRIPT>alert('SCRIPTTEXT')</SCRIPT>"
    "<STYLE>.STYLETEXT{}</STYLE></BODY></HTML>",
    "unclosed script": f"<html><body>{BODY}<script>var SCRIPTTEXT = 'Moscow';",
    "json-ld and svg script": (
        '<html><head><script type="application/ld+json">{"articleBody": "SCRIPTTEXT"}'
        f"</script></head><body>{BODY}<svg><script>SCRIPTTEXT</script>"
        "<style>STYLETEXT</style></svg></body></html>"
    ),
    "noscript and template": (
        f"<html><body>{BODY}<noscript>HIDDENTEXT</noscript><template>HIDDENTEXT</template>"
        "</body></html>"
    ),
    "comment-wrapped script": (
        f"<html><body>{BODY}<script><!-- document.write('<p>SCRIPTTEXT</p>') --></script>"
        "<!-- <script>SCRIPTTEXT</script> --></body></html>"
    ),
}


def read_one(data: bytes, name: str) -> Article:
    (article,) = sources.read_bytes(data, name)
    return article


# -- empty, whitespace, too large ------------------------------------------------------------

BLANKS = ["", " ", "\n\n\t  \r\n", "\u00a0\u3000\u2003\n"]


@pytest.mark.parametrize("text", BLANKS, ids=["empty", "space", "newlines-tabs", "unicode-space"])
def test_empty_and_whitespace_are_typed_everywhere(text, tmp_path):
    with pytest.raises(EmptyTextError, match="no text"):
        sources.read_text(text)
    with pytest.raises(EmptyTextError):
        pipeline.validate(Article(text, id="x"))
    path = tmp_path / "blank.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EmptyTextError, match="empty"):
        list(sources.read_path(path))
    for name in ("blank.txt", "blank.html", "blank.json", "blank.jsonl", "blank.csv"):
        with pytest.raises(EmptyTextError):
            sources.read_bytes(text.encode(), name)


def test_ten_megabytes_of_text_names_the_limit_and_it_is_configurable(monkeypatch, tmp_path):
    big = ("Putin met Erdogan in Ankara. " * (TEN_MB // 29 + 1))[:TEN_MB]
    with pytest.raises(TextTooLargeError) as info:
        sources.read_text(big)
    assert info.value.size == TEN_MB and info.value.limit == 2_000_000
    assert "2,000,000" in str(info.value) and "GEONEWS_MAX_CHARS" in str(info.value)
    assert isinstance(info.value, InputError) and isinstance(info.value, ValueError)
    with pytest.raises(TextTooLargeError, match="GEONEWS_MAX_CHARS"):
        pipeline.validate(Article(big, id="big"))
    with pytest.raises(TextTooLargeError, match="GEONEWS_MAX_FILE_BYTES|GEONEWS_MAX_CHARS"):
        sources.read_bytes(big.encode(), "big.txt")
    path = tmp_path / "big.txt"
    path.write_text(big, encoding="utf-8")
    with pytest.raises(TextTooLargeError):
        list(sources.read_path(path))
    # one oversized record in a JSONL file: that line fails, the others are read
    lines = [json.dumps({"text": ENGLISH}), json.dumps({"text": big[:2_000_001]}), "{}"]
    result = sources.read_bytes("\n".join(lines).encode(), "batch.jsonl")
    assert [a.text for a in result] == [ENGLISH]
    assert [n for n, _ in result.errors] == [2, 3] and "limit" in result.errors[0][1]

    monkeypatch.setenv("GEONEWS_MAX_CHARS", str(11 * 1024 * 1024))
    monkeypatch.setenv("GEONEWS_MAX_FILE_BYTES", str(50 * 1024 * 1024))
    assert len(sources.read_text(big).text) == TEN_MB
    assert len(read_one(big.encode(), "big.txt").text) == TEN_MB
    monkeypatch.setenv("GEONEWS_MAX_CHARS", "100")
    with pytest.raises(TextTooLargeError, match="the limit is 100 "):
        sources.read_text(ENGLISH + ENGLISH)


# -- binary and encodings --------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(BINARIES))
def test_binary_renamed_txt_is_unsupported(kind, tmp_path):
    data = BINARIES[kind]
    for name in ("report.txt", "report.jsonl", "report.csv", "report.html"):
        with pytest.raises(UnsupportedFormatError, match="binary|not text") as info:
            sources.read_bytes(data, name)
        assert name in str(info.value)
    path = tmp_path / "report.txt"
    path.write_bytes(data)
    with pytest.raises(UnsupportedFormatError):
        list(sources.read_path(path))


@pytest.mark.parametrize("name, text, data", ENCODINGS, ids=[e[0] for e in ENCODINGS])
def test_encodings_are_decoded_exactly(name, text, data, tmp_path):
    assert read_one(data, "article.txt").text == text
    path = tmp_path / "article.txt"
    path.write_bytes(data)
    (article,) = sources.read_path(path)
    assert article.text == text


def test_other_legacy_encodings_are_refused_not_garbled():
    cyrillic = RUSSIAN.encode("cp1251")  # not UTF-8, not UTF-16, not mostly ASCII
    with pytest.raises(UnsupportedFormatError, match="save it as UTF-8"):
        sources.read_bytes(cyrillic, "ru.txt")


def test_unpaired_surrogates_become_replacement_characters():
    line = '{"id": "s1", "title": "T\\ud800", "text": "Putin \\udfff in Sochi."}'
    (article,) = sources.read_bytes(line.encode(), "s.jsonl")
    assert article.text == "Putin \ufffd in Sochi." and article.title == "T\ufffd"
    assert sources.read_text("Putin \ud800.").text == "Putin \ufffd."
    with pytest.raises(InvalidTextError):
        pipeline.validate(Article("Putin \ud800.", id="s"))


# -- malformed JSON, JSONL, CSV: the good records stay, the bad ones are named ----------------

GOOD = [json.dumps({"id": f"a{i}", "text": f"{ENGLISH} ({i})"}) for i in range(3)]
JSONL_CASES = {
    "truncated line": ([GOOD[0], '{"id": "x", "text": "Putin', GOOD[1]], [2]),
    "not an object": ([GOOD[0], "[1, 2]", '"text"', GOOD[1]], [2, 3]),
    "no text field": ([GOOD[0], '{"title": "t"}', '{"text": ""}', '{"text": 5}'], [2, 3, 4]),
    "garbage bytes": ([GOOD[0], "\x01\x02garbage\x7f", GOOD[1], GOOD[2]], [2]),
    "nested too deeply": ([GOOD[0], "[" * 100_000, GOOD[1]], [2]),
    "trailing comma": ([GOOD[0] + ",", GOOD[1]], [1]),
}


@pytest.mark.parametrize("case", list(JSONL_CASES))
def test_malformed_jsonl_keeps_the_good_lines(case):
    lines, bad = JSONL_CASES[case]
    data = "\n".join(lines).encode()
    result = sources.read_bytes(data, "batch.jsonl")
    assert len(result) == len(lines) - len(bad)
    assert [n for n, _ in result.errors] == bad
    # without an errors sink: the good records are yielded, then ParseError names the lines
    got: list[Article] = []
    with pytest.raises(ParseError) as info:
        for article in sources._read(data, "batch.jsonl", None):
            got.append(article)
    assert len(got) == len(result)
    assert [n for n, _ in info.value.errors] == bad
    assert f"line {bad[0]}" in str(info.value)


@pytest.mark.parametrize("case", list(JSONL_CASES))
def test_malformed_jsonl_streamed_by_ingest_keeps_the_good_lines(case, tmp_path):
    """``geonews ingest`` reads a JSONL file line by line, with the same verdict per line."""
    lines, bad = JSONL_CASES[case]
    path = tmp_path / "batch.jsonl"
    path.write_bytes("\n".join(lines).encode())
    errors: list = []
    got = list(cli._stream_jsonl(path, errors))
    assert len(got) == len(lines) - len(bad)
    assert [n for n, _ in errors] == bad
    assert all(message.startswith(f"{path}: ") for _, message in errors)


def test_malformed_json_documents():
    with pytest.raises(ParseError, match="line 3") as info:
        sources.read_bytes(b'[\n{"text": "a b c"},\n{"text": oops}\n]', "a.json")
    assert info.value.errors[0][0] == 3
    with pytest.raises(ParseError, match="nested too deeply"):
        sources.read_bytes(b"[" * 100_000, "deep.json")
    result = sources.read_bytes(
        b'[\n{"text": "Putin spoke."},\n7,\n{"title": "no text"},\n{"text": "Kyiv."}\n]', "a.json"
    )
    assert [a.text for a in result] == ["Putin spoke.", "Kyiv."]
    assert [n for n, _ in result.errors] == [3, 4]


def test_malformed_csv_keeps_the_good_rows():
    rows = "title,text\nA,Putin spoke in Sochi.\nB,too,many,cells\nC,\nD,Kyiv was calm.\n"
    result = sources.read_bytes(rows.encode(), "a.csv")
    assert [a.text for a in result] == ["Putin spoke in Sochi.", "Kyiv was calm."]
    assert [n for n, _ in result.errors] == [3, 4]
    with pytest.raises(ParseError, match="no 'text' column"):
        sources.read_bytes(b"title,body2\nA,B\n", "a.csv")
    nul = "title,text\nA,Putin\x00 spoke.\nB,Kyiv.\n"  # a NUL byte: binary, said clearly
    with pytest.raises(UnsupportedFormatError, match="nul.csv: binary"):
        sources.read_bytes(nul.encode(), "nul.csv")


# -- HTML with scripts and styles --------------------------------------------------------------


@pytest.mark.parametrize("case", list(HOSTILE_HTML))
def test_script_and_style_never_become_article_text(case):
    markup = HOSTILE_HTML[case]
    texts = [
        read_one(markup.encode(), "page.html").text,
        sources.parse_html(markup).text,
        sources.html_to_text(markup),  # feed entries
    ]
    for text in texts:
        assert "Putin met Erdogan" in text
        assert not [w for w in SCRIPT_WORDS if w in text], text
    feed = (
        "<rss version='2.0'><channel><title>t</title><item><title>x</title>"
        f"<description><![CDATA[{markup}]]></description></item></channel></rss>"
    )
    (entry,) = sources.read_feed(feed.encode())
    assert not [w for w in SCRIPT_WORDS if w in entry.text], entry.text


def test_html_of_only_scripts_has_no_text():
    markup = "<html><head><script>SCRIPTTEXT</script></head><body><style>x</style></body></html>"
    with pytest.raises(EmptyTextError, match="no article text"):
        sources.read_bytes(markup.encode(), "page.html")


# -- other languages and scripts --------------------------------------------------------------


@pytest.mark.parametrize("script", list(LANGUAGES))
def test_other_scripts_are_analysed_with_valid_offsets(script, nlp_model, gazetteer):
    text = LANGUAGES[script]
    analysis = pipeline.analyze(Article(text), nlp_model=nlp_model, gazetteer=gazetteer)
    for m in [*analysis.entities, *analysis.dates]:
        assert text[m.start : m.end] == m.text
    for place in analysis.places:
        for span in place.mentions:
            assert text[span.start : span.end] == span.text
    note = sources.script_note(text)
    assert note and script in note and "English-only" in note


def test_english_and_short_text_get_no_language_note():
    assert sources.script_note(ENGLISH) is None
    assert sources.script_note("Путин") is None  # too short to tell


def test_mixed_script_text_analyses_and_offsets_hold(nlp_model, gazetteer):
    text = f"{ENGLISH}\n{ARABIC}\n{RUSSIAN} {CHINESE} 🇺🇦 e\u0301\u200f\u202e"
    analysis = pipeline.analyze(Article(text), nlp_model=nlp_model, gazetteer=gazetteer)
    assert {"Benjamin Netanyahu", "Vladimir Putin"} <= {m.entity for m in analysis.entities}
    for m in [*analysis.entities, *analysis.dates]:
        assert text[m.start : m.end] == m.text


# -- the dashboard ---------------------------------------------------------------------------

TIMEOUT = 240


def _session() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def _stored() -> str:
    """The sidebar's article count, from a fresh session (AppTest keeps the sidebar of an
    st.navigation app only on a session's first run)."""
    return next(m.value for m in _session().sidebar.metric if m.label == "Articles")


def _submit(at: AppTest, text: str = "", files=()) -> None:
    at.text_area(key="analyze_text").input(text)
    uploader = at.file_uploader(key="analyze_files")
    uploader.clear()
    for name, data in files:
        uploader.upload(name, data, "application/octet-stream")
    next(b for b in at.button if b.label == "Analyze").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def _messages(at: AppTest) -> dict[str, list[str]]:
    return {
        "error": [e.value for e in at.error],
        "warning": [w.value for w in at.warning],
        "info": [i.value for i in at.info],
    }


def _article_html(at: AppTest) -> str:
    return "".join(h.proto.body for h in at.get("html"))


@pytest.fixture
def app(db_path, monkeypatch):
    monkeypatch.setenv("GEONEWS_DB", str(db_path))
    monkeypatch.delenv("GEONEWS_GEOCODER", raising=False)
    monkeypatch.chdir(ROOT)
    at = _session()
    _submit(at, ENGLISH)
    at.button(key="analyze_add").click()
    at.run()
    assert [s.value for s in at.success] == ["Added to the corpus."]
    return at


def test_dashboard_reports_bad_pastes_and_loses_nothing(app, monkeypatch):
    for blank in ("", "   \n\t "):
        _submit(app, blank)
        assert _messages(app)["error"] == [
            "The article has no text: paste or upload some text to analyse."
        ]
        assert not list(app.dataframe)  # the old result is not shown as if it were new

    _submit(app, ("Putin met Erdogan in Ankara. " * (TEN_MB // 29 + 1))[:TEN_MB])
    (error,) = _messages(app)["error"]
    assert "10,485,760 characters" in error and "the limit is 2,000,000" in error
    assert "GEONEWS_MAX_CHARS" in error

    _submit(app, "<script>alert('SCRIPTTEXT')</script> Putin spoke in Sochi.")
    assert not _messages(app)["error"]
    assert "&lt;script&gt;" in _article_html(app) and "<script>" not in _article_html(app)

    for script, text in LANGUAGES.items():
        _submit(app, text)
        msgs = _messages(app)
        assert not msgs["error"], msgs
        assert any(script in i and "English-only" in i for i in msgs["info"]), msgs
    _submit(app, ENGLISH)
    assert not any("English-only" in i for i in _messages(app)["info"])

    assert _stored() == "1"  # the stored article survived every failure


def test_dashboard_reports_bad_uploads_by_file_and_line(app):
    jsonl = "\n".join([GOOD[0], "{broken", GOOD[1], '{"title": "no text"}']).encode()
    csv_rows = f"title,text\nA,{ENGLISH}\nB,x,y,z\n".encode()
    files = [
        ("scan.txt", PDF),
        ("noise.txt", BINARIES["random-high-bytes"]),
        ("batch.jsonl", jsonl),
        ("rows.csv", csv_rows),
        ("broken.json", b'[{"text": "a"},'),
        ("empty.txt", b"  \n "),
        ("page.html", HOSTILE_HTML["head script and style"].encode()),
        ("ar.txt", ARABIC.encode("utf-16-le")),
        ("fr.txt", "Café in São Paulo: the délégation met Putin.".encode("latin-1")),
    ]
    _submit(app, "", files)
    msgs = _messages(app)
    errors, warnings = msgs["error"], msgs["warning"]
    assert any("scan.txt" in e and "binary" in e for e in errors), errors
    assert any("noise.txt" in e and "UTF-8" in e for e in errors), errors
    assert any("broken.json" in e and "invalid JSON" in e for e in errors), errors
    assert any("empty.txt" in e and "empty" in e for e in errors), errors
    batch = next(w for w in warnings if "batch.jsonl" in w)
    assert "2 record(s) could not be read; 2 read" in batch
    assert "line 2:" in batch and "line 4:" in batch
    rows = next(w for w in warnings if "rows.csv" in w)
    assert "line 3:" in rows
    pick = app.selectbox(key="analyze_pick")
    assert len(pick.options) == 2 + 1 + 1 + 1 + 1  # jsonl, csv, html, arabic, latin-1
    for i in range(len(pick.options)):
        pick = app.selectbox(key="analyze_pick")
        pick.select_index(i).run()
        html = _article_html(app)
        assert not [w for w in SCRIPT_WORDS if w in html]
    assert any("é" in o or "Café" in o for o in pick.options), pick.options

    app.button(key="analyze_add").click()
    app.run()
    assert any("Added 6 article(s)" in s.value for s in app.success)
    assert _stored() == "7"


def test_core_errors_are_all_geonews_errors():
    """Every failure above is catchable as GeonewsError (and as the fitting builtin)."""
    for exc in (EmptyTextError, TextTooLargeError, UnsupportedFormatError, ParseError):
        assert issubclass(exc, GeonewsError) and issubclass(exc, ValueError)


@pytest.fixture(autouse=True)
def _no_env_leak(monkeypatch):
    for var in ("GEONEWS_MAX_CHARS", "GEONEWS_MAX_FILE_BYTES"):
        if var in os.environ:
            monkeypatch.delenv(var)


# -- script injection, in the core: what the dashboard hands to st.html -----------------------


class _Allowed(HTMLParser):
    """Collects every tag and attribute of a fragment."""

    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()
        self.data: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)

    def handle_data(self, data):
        self.data.append(data)


XSS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    "<svg onload=window.__xss=1>",
    '"><a href="javascript:window.__xss=1">x</a>',
    "' onmouseover='window.__xss=1",
    "<b>Ivan</b> Petrov",
]


def test_highlight_and_tooltips_escape_text_labels_and_entity_names():
    text = " ".join(XSS) + " Putin."
    mentions = []
    for i, payload in enumerate(XSS):
        start = text.index(payload)
        mentions.append(
            Mention(payload, f'PERSON"><script>{i}</script>', start, start + len(payload),
                    entity=f'{payload}" onclick="window.__xss=1')
        )  # fmt: skip
    out = highlight.article_html(text, mentions)
    parser = _Allowed()
    parser.feed(out)
    assert parser.tags <= {"div", "mark", "span", "b"}  # <b> of the legend chips only
    assert parser.attrs <= {"class", "data-label", "title", "style"}
    assert "<script>" not in out and "<img" not in out and "<svg" not in out
    assert "<b>Ivan" not in out and "&lt;b&gt;Ivan" in out
    assert "javascript:" not in out.replace("javascript:window.__xss", "")  # only as text
    assert "".join(parser.data).count("window.__xss=1") >= len(XSS) - 1  # shown as text
    legend = highlight.legend_html(['X"><img src=x onerror=alert(1)>'])
    assert "<img" not in legend and "&lt;img" in legend
