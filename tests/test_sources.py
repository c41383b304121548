"""Reading articles: text, files of every format (good and broken), uploads, URLs, feeds."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import socket
import threading
from pathlib import Path

import pytest

from geonews import cli, sources
from geonews.errors import (
    BlockedURLError,
    EmptyTextError,
    FetchError,
    InputError,
    ParseError,
    UnsupportedFormatError,
)

D = dt.date

ARTICLE_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Talks in Sochi &amp; beyond</title>
<meta property="og:site_name" content="Example News">
<meta property="article:published_time" content="2019-09-12T10:00:00Z">
</head><body>
<nav><a href="/">Home</a> | <a href="/world">World</a></nav>
<article><h1>Talks in Sochi</h1>
<p>Israeli Prime Minister Benjamin Netanyahu visited Russia on Thursday to meet President
Vladimir Putin, as he looks to convey the image of a statesman ahead of an election.</p>
<p>The talks in the Black Sea resort of Sochi came days after his vow to annex the Jordan
Valley in the occupied West Bank if he is re-elected next week.</p>
<p>Netanyahu has sought to highlight his relations with world leaders, including Putin and
the presidents of the United States and Brazil, during the campaign.</p>
</article>
<footer>Copyright Example News. All rights reserved.</footer>
</body></html>
"""

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Example World News</title><link>http://example.org/</link>
<description>World news</description>
<item><title>Putin meets Netanyahu</title><link>http://example.org/a</link>
<description>&lt;p&gt;Netanyahu flew to &lt;b&gt;Sochi&lt;/b&gt; to meet Putin.&lt;/p&gt;</description>
<pubDate>Thu, 12 Sep 2019 10:00:00 GMT</pubDate></item>
<item><title>Kyiv talks</title><link>http://example.org/b</link>
<description>Talks in Kyiv ended without a deal.</description>
<pubDate>not a date</pubDate></item>
<item><title>Empty one</title><link>http://example.org/c</link></item>
</channel></rss>
"""


# -- dates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2019-09-12", D(2019, 9, 12)),
        ("2019-09-12T10:00:00Z", D(2019, 9, 12)),
        ("2019-09-12T10:00:00+02:00", D(2019, 9, 12)),
        ("2019-09-12 10:00", D(2019, 9, 12)),
        ("Thu, 12 Sep 2019 10:00:00 GMT", D(2019, 9, 12)),
        ("12 September 2019", D(2019, 9, 12)),
        ("September 12, 2019", D(2019, 9, 12)),
        ("Sept. 12, 2019", D(2019, 9, 12)),
        ("Sep 12, 2019", D(2019, 9, 12)),
        ("12th September 2019", D(2019, 9, 12)),
        ("12.09.2019", D(2019, 9, 12)),
        ("2019/09/12", D(2019, 9, 12)),
        (D(2019, 9, 12), D(2019, 9, 12)),
        (dt.datetime(2019, 9, 12, 23, 59), D(2019, 9, 12)),
        ("2019-13-45", None),
        ("yesterday-ish", None),
        ("", None),
        (None, None),
        ([2019], None),
        (True, None),
    ],
)
def test_parse_date(value, expected):
    assert sources.parse_date(value) == expected


# -- read_text -----------------------------------------------------------------


def test_read_text_keeps_text_and_parses_date():
    text = "  Putin met Netanyahu.\r\n"
    a = sources.read_text(text, title="T", published="2019-09-12", source="s", url="http://x")
    assert a.text == text
    assert (a.title, a.source, a.url, a.published) == ("T", "s", "http://x", D(2019, 9, 12))
    assert a.id == a.hash
    assert sources.read_text("x", published="garbage").published is None


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_read_text_empty(text):
    with pytest.raises(EmptyTextError):
        sources.read_text(text)


# -- files: the good -------------------------------------------------------------


GOOD = [
    (
        "a.txt",
        b"\n\nPutin in Sochi\n\nVladimir Putin met Benjamin Netanyahu.",
        [("\n\nPutin in Sochi\n\nVladimir Putin met Benjamin Netanyahu.", "Putin in Sochi", None)],
    ),
    (
        "bom.txt",
        "\ufeffTitle line\nBody text.".encode("utf-8"),
        [("Title line\nBody text.", "Title line", None)],
    ),
    (
        "utf16.txt",
        "Zürich – Genève\nTalks in Genève.".encode("utf-16"),
        [("Zürich – Genève\nTalks in Genève.", "Zürich – Genève", None)],
    ),
    (
        "utf16be.txt",
        b"\xfe\xff" + "Kyiv\nTalks.".encode("utf-16-be"),
        [("Kyiv\nTalks.", "Kyiv", None)],
    ),
    (
        "latin1.txt",
        "Talks in Münster and Besançon.".encode("latin-1"),
        [("Talks in Münster and Besançon.", "Talks in Münster and Besançon.", None)],
    ),
    (
        "one.json",
        json.dumps({"id": "x1", "text": "Kyiv.", "title": "K", "published": "2022-02-24"}).encode(),
        [("Kyiv.", "K", D(2022, 2, 24))],
    ),
    (
        "many.json",
        json.dumps([{"text": "A."}, {"content": "B.", "date": "2020-01-02"}]).encode(),
        [("A.", None, None), ("B.", None, D(2020, 1, 2))],
    ),
    (
        "wrapped.json",
        json.dumps({"articles": [{"text": "A."}]}).encode(),
        [("A.", None, None)],
    ),
    (
        "a.jsonl",
        b'{"id": "1", "text": "A.", "published": "2020-01-02"}\n\n'
        b'{"id": 2, "text": "B.", "title": "Bee", "published": "nonsense"}\n',
        [("A.", None, D(2020, 1, 2)), ("B.", "Bee", None)],
    ),
    (
        "a.csv",
        b'id,Title,text,published\n1,T1,"Line one,\nline two",2021-05-06\n2,,B.,\n',
        [("Line one,\nline two", "T1", D(2021, 5, 6)), ("B.", None, None)],
    ),
    (
        "a.html",
        ARTICLE_HTML.encode(),
        [(None, "Talks in Sochi & beyond", D(2019, 9, 12))],
    ),
]


@pytest.mark.parametrize("name, data, expected", GOOD, ids=[g[0] for g in GOOD])
def test_read_good_files(tmp_path: Path, name, data, expected):
    path = tmp_path / name
    path.write_bytes(data)
    articles = list(sources.read_path(path))
    assert [(a.title, a.published) for a in articles] == [(t, p) for _, t, p in expected]
    for article, (text, _, _) in zip(articles, expected, strict=True):
        if text is not None:
            assert article.text == text
        assert article.id
    assert list(sources.read_bytes(data, name)) == articles


def test_read_ids_and_fields(tmp_path: Path):
    path = tmp_path / "a.jsonl"
    path.write_text(
        json.dumps({"id": 7, "text": "A.", "url": "http://e/a", "domain": "e.org", "title": " T "}),
        encoding="utf-8",
    )
    (a,) = sources.read_path(path)
    assert (a.id, a.url, a.source, a.title) == ("7", "http://e/a", "e.org", "T")
    assert a.hash != "7"


def test_jsonl_lines_end_at_newlines_only(tmp_path: Path):
    # json.dumps(ensure_ascii=False) writes U+2028, U+0085 and form feeds raw inside strings:
    # the record is one good line, whether uploaded or ingested from disk
    first = json.dumps({"text": "Troops left Kherson.\u2028The mayor of Odesa\x85said\x0cso."},
                       ensure_ascii=False)  # fmt: skip
    data = (first + "\r\n" + json.dumps({"text": "Then Kyiv."}) + "\n{broken\n").encode()
    result = sources.read_bytes(data, "a.jsonl")
    articles = list(result)
    assert [("Kherson" in a.text and "Odesa" in a.text) for a in articles] == [True, False]
    assert [n for n, _ in result.errors] == [3]
    path = tmp_path / "a.jsonl"
    path.write_bytes(data)
    errors: list = []
    assert [a.text for a in cli._stream_jsonl(path, errors)] == [a.text for a in articles]
    assert [n for n, _ in errors] == [3]


def test_html_main_text_without_boilerplate(tmp_path: Path):
    path = tmp_path / "page.htm"
    path.write_text(ARTICLE_HTML, encoding="utf-8")
    (a,) = sources.read_path(path)
    assert "Benjamin Netanyahu visited Russia" in a.text
    assert "Jordan" in a.text
    assert "All rights reserved" not in a.text


# -- files: the broken -------------------------------------------------------------


BROKEN_RECORDS = [
    (
        "bad.jsonl",
        b'{"text": "A."}\n{not json\n{"text": "C."}\n{"title": "no text"}\n[1, 2]\n{"text": ""}\n',
        ["A.", "C."],
        [2, 4, 5, 6],
    ),
    (
        "bad.json",
        b'[\n  {"text": "A."},\n  {"title": "no text"},\n  {"text": "C."}\n]',
        ["A.", "C."],
        [3],
    ),
    (
        "bad.csv",
        b'text,title\nA.,t\n,empty\n"C.",t\nD.,t,extra\n',
        ["A.", "C."],
        [3, 5],
    ),
]


@pytest.mark.parametrize(
    "name, data, good, lines", BROKEN_RECORDS, ids=[b[0] for b in BROKEN_RECORDS]
)
def test_bad_records_keep_the_good(tmp_path: Path, name, data, good, lines):
    path = tmp_path / name
    path.write_bytes(data)

    # 1. errors list: good records, problems collected, nothing raised
    errors: list = []
    assert [a.text for a in sources.read_path(path, errors=errors)] == good
    assert [line for line, _ in errors] == lines
    assert all(isinstance(m, str) and m for _, m in errors)

    # 2. no list: good records yielded, then ParseError with the same problems
    got = []
    with pytest.raises(ParseError) as info:
        for a in sources.read_path(path):
            got.append(a.text)
    assert got == good
    assert [line for line, _ in info.value.errors] == lines
    assert isinstance(info.value, InputError) and isinstance(info.value, ValueError)

    # 3. uploads: a list with .errors
    result = sources.read_bytes(data, name)
    assert [a.text for a in result] == good
    assert [line for line, _ in result.errors] == lines
    with pytest.raises(ParseError):
        result.raise_for_errors()


WHOLE_FILE_FAILURES = [
    ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", UnsupportedFormatError),
    ("nul.txt", b"abc\x00def\x00ghi", UnsupportedFormatError),
    ("zip.csv", b"PK\x03\x04\x14\x00\x00\x00", UnsupportedFormatError),
    ("report.pdf", b"%PDF-1.4 ...", UnsupportedFormatError),
    ("noext", b"Some text.", UnsupportedFormatError),
    ("empty.txt", b"", EmptyTextError),
    ("blank.jsonl", b"\n  \n", EmptyTextError),
    ("empty.csv", b"", EmptyTextError),
    ("notext.csv", b"id,title,body_text\n1,T,hello\n", ParseError),
    ("broken.json", b'{"text": "A."', ParseError),
    ("scalar.json", b"42", ParseError),
    ("notext.json", b'{"title": "T"}', ParseError),
]


@pytest.mark.parametrize(
    "name, data, error", WHOLE_FILE_FAILURES, ids=[w[0] for w in WHOLE_FILE_FAILURES]
)
def test_whole_file_failures(tmp_path: Path, name, data, error):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(error) as info:
        list(sources.read_path(path, errors=[]))
    assert name in str(info.value) or error is ParseError
    with pytest.raises(error):
        sources.read_bytes(data, name)


def test_csv_without_text_column_names_the_columns(tmp_path: Path):
    path = tmp_path / "x.csv"
    path.write_text("id,headline\n1,Hi\n", encoding="utf-8")
    with pytest.raises(ParseError, match="no 'text' column.*id, headline"):
        list(sources.read_path(path))


# -- several paths -----------------------------------------------------------------


def test_read_paths_dirs_globs_and_failures(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("Alpha.", encoding="utf-8")
    (tmp_path / "sub" / "b.jsonl").write_text('{"text": "Beta."}\nnope\n', encoding="utf-8")
    (tmp_path / "sub" / "c.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "sub" / "ignored.png").write_bytes(b"\x89PNG")

    errors: list = []
    texts = sorted(a.text for a in sources.read_paths([tmp_path], errors=errors))
    assert texts == ["Alpha.", "Beta."]
    assert sorted(line for line, _ in errors) == [0, 2]
    assert any("c.txt" in m and "binary" in m for _, m in errors)
    assert any("b.jsonl" in m for _, m in errors)

    assert [a.text for a in sources.read_paths([str(tmp_path / "*.txt")])] == ["Alpha."]

    result = sources.read_all([tmp_path / "a.txt", tmp_path / "sub" / "b.jsonl"])
    assert [a.text for a in result] == ["Alpha.", "Beta."]
    assert len(result.errors) == 1

    got = []
    with pytest.raises(ParseError) as info:
        for a in sources.read_paths([tmp_path]):
            got.append(a.text)
    assert sorted(got) == ["Alpha.", "Beta."]
    assert len(info.value.errors) == 2

    with pytest.raises(UnsupportedFormatError, match="no such file"):
        list(sources.read_paths([tmp_path / "missing.txt"]))
    with pytest.raises(UnsupportedFormatError, match="no files match"):
        list(sources.read_paths([str(tmp_path / "*.csv")]))


# -- feeds -------------------------------------------------------------------------


def _check_feed(result):
    assert [a.title for a in result] == ["Putin meets Netanyahu", "Kyiv talks"]
    first, second = result
    assert first.text == "Netanyahu flew to Sochi to meet Putin."
    assert first.url == "http://example.org/a"
    assert first.source == "Example World News"
    assert first.published == D(2019, 9, 12)
    assert second.published is None
    assert [line for line, _ in result.errors] == [3]


def test_read_feed_bytes_and_file(tmp_path: Path):
    _check_feed(sources.read_feed(RSS.encode()))
    path = tmp_path / "feed.xml"
    path.write_text(RSS, encoding="utf-8")
    _check_feed(sources.read_feed(path))
    _check_feed(sources.read_feed(str(path)))


def test_read_feed_atom_content():
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom News</title>
<entry><title>Gaza</title><link href="http://e/g"/><updated>2023-10-09T08:00:00Z</updated>
<summary>Short.</summary>
<content type="html">&lt;p&gt;Long text about Gaza.&lt;/p&gt;&lt;p&gt;Second paragraph.&lt;/p&gt;</content>
</entry></feed>"""
    (a,) = sources.read_feed(atom)
    assert a.text == "Long text about Gaza.\n\nSecond paragraph."
    assert (a.title, a.url, a.source, a.published) == (
        "Gaza",
        "http://e/g",
        "Atom News",
        D(2023, 10, 9),
    )


def test_read_feed_garbage():
    with pytest.raises(ParseError):
        sources.read_feed(b"<html><body>not a feed at all</body")
    assert list(sources.read_feed(b"")) == []


# -- URLs against a local server ----------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    routes = {
        "/article": ("text/html; charset=utf-8", ARTICLE_HTML.encode()),
        "/plain": ("text/plain; charset=utf-8", b"Title\nKyiv and Lviv."),
        "/image": ("image/png", b"\x89PNG\r\n\x1a\n"),
        "/feed": ("application/rss+xml", RSS.encode()),
        "/big": ("text/html", b"<p>" + b"x" * 20000 + b"</p>"),
    }

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/article")
            self.end_headers()
            return
        if self.path not in self.routes:
            self.send_error(404)
            return
        ctype, body = self.routes[self.path]
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        if self.path != "/big":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.user_agents.append(self.headers.get("User-Agent"))

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("GEONEWS_FETCH_ALLOW", "127.0.0.1")  # tests' own server; see test_url_safety
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.user_agents = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd
    httpd.shutdown()
    httpd.server_close()


def test_fetch_url_html(server, monkeypatch):
    base, httpd = server
    monkeypatch.setenv("GEONEWS_USER_AGENT", "geonews-test/1")
    a = sources.fetch_url(f"{base}/article")
    assert "Benjamin Netanyahu visited Russia" in a.text
    assert "All rights reserved" not in a.text
    assert a.title == "Talks in Sochi & beyond"
    assert a.url == f"{base}/article"
    assert a.published == D(2019, 9, 12)
    assert a.source
    assert httpd.user_agents == ["geonews-test/1"]


def test_fetch_url_redirect_and_plain(server):
    base, _ = server
    assert sources.fetch_url(f"{base}/redirect").url == f"{base}/article"
    a = sources.fetch_url(f"{base}/plain")
    assert (a.text, a.title) == ("Title\nKyiv and Lviv.", "Title")


def test_fetch_url_failures(server, monkeypatch):
    base, _ = server
    with pytest.raises(FetchError, match="404"):
        sources.fetch_url(f"{base}/missing")
    with pytest.raises(FetchError, match="content type"):
        sources.fetch_url(f"{base}/image")
    monkeypatch.setenv("GEONEWS_FETCH_MAX_BYTES", "500")
    with pytest.raises(FetchError, match="limit"):
        sources.fetch_url(f"{base}/big")
    with pytest.raises(FetchError, match="limit"):
        sources.fetch_url(f"{base}/article")


def test_fetch_url_unreachable(monkeypatch):
    monkeypatch.setenv("GEONEWS_FETCH_ALLOW", "127.0.0.1")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError) as info:
        sources.fetch_url(f"http://127.0.0.1:{port}/")
    assert isinstance(info.value, OSError)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/x", "javascript:alert(1)", "", "http://"]
)
def test_fetch_url_refuses_schemes(url):
    with pytest.raises(BlockedURLError):
        sources.fetch_url(url)


def test_read_feed_url(server):
    base, _ = server
    _check_feed(sources.read_feed(f"{base}/feed"))
