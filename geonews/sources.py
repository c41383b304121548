"""Read articles from text, files, uploads, URLs and RSS/Atom feeds.

Every reader returns :class:`~geonews.models.Article` records.

Bad records. Files holding many records (.json, .jsonl, .csv) may have some
that cannot be read. The good ones are still returned; the bad ones are
reported as ``(line, message)`` pairs, in one of two ways:

- pass ``errors=[]`` and the pairs are appended to that list (nothing raised);
- pass nothing and, after the last good record has been yielded,
  :class:`~geonews.errors.ParseError` is raised with the pairs in ``.errors``.

``read_bytes`` (uploads) and ``read_all`` return a :class:`ReadResult`: a list
of articles with the problems in ``.errors``.

A file geonews cannot read at all raises: unknown extension or binary data ->
``UnsupportedFormatError``; an empty file -> ``EmptyTextError``; a JSON or CSV
file that is malformed as a whole -> ``ParseError``. Network failures raise
``FetchError`` (``BlockedURLError`` for refused URLs).
"""

from __future__ import annotations

import csv
import datetime as dt
import email.utils
import glob
import html
import io
import json
import re
import time
import unicodedata
import warnings
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from geonews import netsafe, settings
from geonews.errors import (
    EmptyTextError,
    FetchError,
    GeonewsError,
    ParseError,
    TextTooLargeError,
    UnsupportedFormatError,
)
from geonews.models import Article

TEXT_SUFFIXES = (".txt", ".text", ".md")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
SUFFIXES = (*TEXT_SUFFIXES, *HTML_SUFFIXES, ".json", ".jsonl", ".ndjson", ".csv")

HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/plain",)
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
)

# Field names accepted in JSON, JSONL and CSV records (first one present wins).
TEXT_FIELDS = ("text", "content", "body")
TITLE_FIELDS = ("title", "headline")
URL_FIELDS = ("url", "link")
SOURCE_FIELDS = ("source", "domain", "publisher")
PUBLISHED_FIELDS = ("published", "date", "published_at", "pubdate")

_BINARY_MAGIC = (
    b"%PDF",
    b"PK\x03\x04",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"\x1f\x8b",
    b"BZh",
    b"\x7fELF",
    b"MZ",
    b"SQLite format 3",
    b"DUCK",
)


class ReadResult(list):
    """A list of articles that also carries ``errors``: ``[(line, message)]``."""

    def __init__(self, articles: Iterable[Article] = (), errors=None):
        super().__init__(articles)
        self.errors: list[tuple[int, str]] = list(errors or [])

    @property
    def articles(self) -> list[Article]:
        return list(self)

    def raise_for_errors(self, what: str = "input") -> None:
        """Raise ParseError if any record failed."""
        if self.errors:
            raise ParseError(_summary(what, self.errors), errors=self.errors)


# -- dates ---------------------------------------------------------------------

_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y%m%d",
    "%d %B %Y",
    "%d %b %Y",
    "%d %b. %Y",
    "%B %d, %Y",
    "%B %d %Y",
    "%b %d, %Y",
    "%b. %d, %Y",
    "%b %d %Y",
    "%A, %d %B %Y",
    "%A, %B %d, %Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m/%d/%Y",
    "%d/%m/%Y",
)


def parse_date(value) -> dt.date | None:
    """A publication date from a date, datetime, timestamp or string; None if unreadable.

    Accepts ISO 8601 (with or without a time and zone), RFC 2822 (feeds, HTTP)
    and common written forms ("5 March 2024", "March 5, 2024", "05.03.2024").
    Slashed dates are read month first (US) when ambiguous.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, time.struct_time):
        try:
            return dt.date(value.tm_year, value.tm_mon, value.tm_mday)
        except ValueError:
            return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            seconds = value / 1000 if value > 1e11 else value
            return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).date()
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    s = " ".join(value.split())
    if not s:
        return None
    try:
        return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    m = re.match(r"^(\d{4}-\d{2}-\d{2})[T ]", s)
    if m:
        try:
            return dt.date.fromisoformat(m.group(1))
        except ValueError:
            return None
    try:
        parsed = email.utils.parsedate_to_datetime(s)
        if parsed is not None:
            return parsed.date()
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    s = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", s)
    s = re.sub(r"\bSept\b", "Sep", s)
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    return None


# -- decoding ------------------------------------------------------------------


def looks_binary(data: bytes) -> bool:
    """True for data that is not text in any encoding geonews reads."""
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return False
    if data.startswith(_BINARY_MAGIC):
        return True
    head = data[:8192]
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return bool(head) and controls / len(head) > 0.1


def _bomless_utf16(data: bytes) -> str | None:
    """utf-16-le/be for text saved as UTF-16 without a byte-order mark, else None.

    Its ASCII characters (spaces, digits, line breaks, Latin letters) have a NUL
    high byte, so nearly all NULs fall on one side (odd bytes: little-endian).
    The text must then decode strictly and look like text (:func:`_plausible`).
    """
    head = data[: 1 << 16]
    if len(data) < 4 or len(data) % 2 or b"\x00" not in head:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if max(even, odd) < max(2, len(head) // 100):  # a stray NUL is no evidence
        return None
    if odd >= 4 * even:
        codec = "utf-16-le"
    elif even >= 4 * odd:
        codec = "utf-16-be"
    else:
        return None
    try:
        sample = head.decode(codec, errors="strict")
    except UnicodeDecodeError:
        return None
    return codec if _plausible(sample) else None


_TEXT_CONTROLS = frozenset("\t\n\r\f\x0b\x1b")


def _plausible(text: str, *, min_ascii: float = 0.0) -> bool:
    """Whether decoded data reads as text: no control, unassigned or private-use
    characters (beyond a stray few), and at least ``min_ascii`` of it ASCII."""
    sample = text[:20000]
    if not sample:
        return True
    bad = sum(
        1
        for c in sample
        if (c < " " and c not in _TEXT_CONTROLS)
        or ("\x7f" <= c <= "\x9f")
        or unicodedata.category(c) in ("Cn", "Co", "Cs")
    )
    ascii_share = sum(1 for c in sample if c < "\x80") / len(sample)
    return bad <= 0.01 * len(sample) and ascii_share >= min_ascii


def decode(data: bytes, *, name: str = "input") -> str:
    """Bytes to text: UTF-8 (BOM or not), UTF-16/32 with a BOM, UTF-16 without one
    (when it has ASCII characters), else Windows-1252/Latin-1 (mostly-ASCII text).

    The byte-order mark is dropped. Raises UnsupportedFormatError for binary data
    and for text in another legacy encoding (it would only be read as mojibake).
    """
    text = _decode(data, name)
    return text[1:] if text.startswith("\ufeff") else text


def _decode(data: bytes, name: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    for bom, codec in (
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                raise UnsupportedFormatError(f"{name}: not valid {codec} text: {exc}") from exc
    codec = _bomless_utf16(data)
    if codec is not None:
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
    if looks_binary(data):
        raise UnsupportedFormatError(f"{name}: binary data, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    # Western European text is mostly ASCII; anything else here is binary data or
    # text in an encoding geonews does not guess (cp1251, GBK, ...): mojibake if read.
    if not _plausible(text, min_ascii=0.6):
        raise UnsupportedFormatError(
            f"{name}: not text in an encoding geonews reads (UTF-8, UTF-16, "
            f"Windows-1252/Latin-1); binary data, or save it as UTF-8."
        )
    return text


# -- size limits ---------------------------------------------------------------


def check_chars(text: str, *, name: str = "The article") -> None:
    """TextTooLargeError when ``text`` is over ``max_chars`` (GEONEWS_MAX_CHARS)."""
    limit = settings.get_int("max_chars")
    if len(text) > limit:
        raise TextTooLargeError(
            f"{name} has {len(text):,} characters; the limit is {limit:,} "
            f"(set GEONEWS_MAX_CHARS to change it).",
            size=len(text),
            limit=limit,
        )


def check_file_size(size: int, name: str, *, single: bool = False) -> None:
    """TextTooLargeError, before reading, for a file over ``max_file_bytes``; a
    one-article text file also when it cannot fit in ``max_chars``."""
    limit = settings.get_int("max_file_bytes")
    if size > limit:
        raise TextTooLargeError(
            f"{name}: {size:,} bytes; files up to {limit:,} bytes are read "
            f"(set GEONEWS_MAX_FILE_BYTES to change it).",
            size=size,
            limit=limit,
        )
    chars = settings.get_int("max_chars")
    if single and size > 4 * chars + 4:  # no encoding takes more than 4 bytes a character
        raise TextTooLargeError(
            f"{name}: {size:,} bytes is more than an article of {chars:,} characters "
            f"(set GEONEWS_MAX_CHARS to change it).",
            size=size,
            limit=4 * chars + 4,
        )


# -- language and script --------------------------------------------------------

_ENGLISH = frozenset(
    "the of and to in a is that for on with as was by he it at from his said are "
    "be has have an not they who its were will this but been their which had".split()
)
_WORD = re.compile(r"[^\W\d_]+")


def _script(ch: str) -> str:
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return "OTHER"
    first = name.split(" ", 1)[0]
    return {"CJK": "Chinese/Japanese (CJK)", "HANGUL": "Korean (Hangul)"}.get(
        first, first.capitalize()
    )


def script_note(text: str, *, sample: int = 20000) -> str | None:
    """A note for text that is probably not English; None when it looks English.

    geonews's language models are English-only. Text mostly in another script
    (Cyrillic, Arabic, CJK, ...) or in Latin script without common English
    words is still analysed; this says why few entities may be found.
    """
    letters = [c for c in text[: sample * 4] if c.isalpha()][:sample]
    if len(letters) < 20:
        return None
    counts: dict[str, int] = {}
    for c in letters:
        script = "Latin" if c.isascii() else _script(c)
        counts[script] = counts.get(script, 0) + 1
    latin = counts.get("Latin", 0)
    if latin < 0.5 * len(letters):
        main = max(counts, key=counts.get)
        return (
            f"This text is mostly in {main} script. geonews's language models are "
            f"English-only: it is still analysed, but expect few people, organisations "
            f"and places to be found."
        )
    words = [w.lower() for w in _WORD.findall(text[: sample * 4])]
    if len(words) >= 40 and sum(w in _ENGLISH for w in words) < 0.05 * len(words):
        return (
            "This text does not look like English. geonews's language models are "
            "English-only: it is still analysed, but expect entities to be missed."
        )
    return None


# -- text and HTML -------------------------------------------------------------


def _first_line(text: str, limit: int = 300) -> str | None:
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line[:limit]
    return None


def read_text(
    text: str,
    *,
    title: str | None = None,
    published=None,
    source: str | None = None,
    url: str | None = None,
    id: str = "",
) -> Article:
    """An Article from pasted text (kept exactly as given, so offsets index it).

    ``published`` may be a date or any string :func:`parse_date` reads.
    Raises EmptyTextError for empty text, TextTooLargeError over ``max_chars``.
    """
    if not isinstance(text, str) or not text.strip():
        raise EmptyTextError("The article has no text: paste or upload some text to analyse.")
    check_chars(text)
    return Article(
        text=clean_text(text),
        id=id or "",
        title=clean_text(title or None),
        url=safe_url(url),
        source=source or None,
        published=parse_date(published),
    )


class _HTMLText(HTMLParser):
    """Plain text of an HTML fragment: block elements become line breaks."""

    BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section"}
    SKIP = {"script", "style", "noscript", "head", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self._in_title = True
        elif tag in self.SKIP:
            self._skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if self._in_title:
            self.title.append(data)
        elif not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of HTML without boilerplate removal (used for feed entries)."""
    p = _HTMLText()
    p.feed(markup)
    p.close()
    lines = (" ".join(line.split()) for line in "".join(p.parts).splitlines())
    return "\n\n".join(line for line in lines if line)


def html_title(markup: str) -> str | None:
    m = re.search(r"<title[^>]*>(.*?)</title\s*>", markup, flags=re.I | re.S)
    if not m:
        return None
    title = " ".join(html.unescape(re.sub(r"<[^>]+>", "", m.group(1))).split())
    return title or None


def _without_hidden(markup: str) -> str:
    """The page without the elements a reader never sees as text (script, style, ...)."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        tree = lxml_html.document_fromstring(markup)
    except (etree.LxmlError, ValueError):
        return markup
    for element in tree.xpath("//script|//style|//noscript|//template"):
        element.drop_tree()
    return lxml_html.tostring(tree, encoding="unicode")


def parse_html(markup: str, *, url: str | None = None, name: str = "page") -> Article:
    """The main text of an HTML page (trafilatura), its title, date and site name.

    Scripts, styles, ``<noscript>`` and ``<template>`` never become article text.
    """
    import trafilatura

    text = None
    meta = None
    try:
        meta = trafilatura.extract_metadata(markup, default_url=url)  # reads JSON-LD
        text = trafilatura.extract(
            _without_hidden(markup),
            url=url,
            include_comments=False,
            include_tables=False,
            favor_recall=True,
        )
    except Exception:  # trafilatura raises assorted errors on odd markup
        text = None
    if not text or not text.strip():
        text = html_to_text(markup)
    if not text.strip():
        raise EmptyTextError(f"{name}: no article text found in the HTML")
    title = html_title(markup) or (meta.title if meta else None)
    published = parse_date(meta.date) if meta and meta.date else None
    source = (meta.sitename if meta else None) or (urlsplit(url).hostname if url else None)
    return Article(text=text, title=title, url=url, source=source, published=published)


# -- records: JSON, JSONL, CSV -------------------------------------------------


def _field(record: dict, names: tuple[str, ...]):
    for n in names:
        v = record.get(n)
        if v is not None and v != "":
            return v
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text):
    """``text`` with unpaired surrogates (JSON ``"\\ud800"``; not text, and not
    storable as UTF-8) replaced by U+FFFD, one for one, so offsets still index it."""
    if not text or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text)


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an http(s) address, else None (``javascript:``, ``data:``, ...
    are never an article's address, and the dashboard links to it)."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


def _opt_str(value) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def article_from_record(record) -> Article:
    """An Article from a mapping with ``text`` and optional id, title, url, source, published.

    Raises ValueError (with a readable message) for a record without text.
    """
    if not isinstance(record, dict):
        raise ValueError(f"expected an object, got {type(record).__name__}")
    text = _field(record, TEXT_FIELDS)
    if text is None:
        raise ValueError("no 'text' field")
    if not isinstance(text, str):
        raise ValueError("'text' is not a string")
    if not text.strip():
        raise ValueError("'text' is empty")
    limit = settings.get_int("max_chars")
    if len(text) > limit:
        raise ValueError(f"'text' has {len(text):,} characters; the limit is {limit:,}")
    return Article(
        text=clean_text(text),
        id=clean_text(_opt_str(record.get("id")) or ""),
        title=clean_text(_opt_str(_field(record, TITLE_FIELDS))),
        url=safe_url(clean_text(_opt_str(_field(record, URL_FIELDS)))),
        source=_opt_str(_field(record, SOURCE_FIELDS)),
        published=parse_date(_field(record, PUBLISHED_FIELDS)),
    )


def parse_jsonl(text: str, errors: list) -> Iterator[Article]:
    """One article per line; bad lines go to ``errors`` as (line, message).

    Lines end at "\n" only, as in ``ingest``'s streaming reader: ``str.splitlines``
    would also cut at U+2028, U+0085 and form feeds, which are valid inside a JSON string
    (``json.dumps(..., ensure_ascii=False)`` writes them raw), and turn one good record
    into two bad lines. A "\r" before the "\n" is whitespace to JSON.
    """
    return jsonl_articles(text.split("\n"), errors)


def jsonl_articles(
    lines: Iterable[str | bytes], errors: list, *, where: str = ""
) -> Iterator[Article]:
    """One article per JSONL line: text lines, or the byte lines of a file read as it
    streams (a UTF-8 byte-order mark on the first is skipped). A bad line goes to
    ``errors`` as (line number, message), the message prefixed with ``where``."""
    for n, line in enumerate(lines, start=1):
        if n == 1 and isinstance(line, bytes) and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append((n, f"{where}invalid JSON: {exc.msg} (column {exc.colno})"))
            continue
        except UnicodeDecodeError as exc:  # bytes that are not UTF-8
            errors.append((n, f"{where}invalid JSON: {exc}"))
            continue
        except RecursionError:
            errors.append((n, f"{where}invalid JSON: nested too deeply"))
            continue
        try:
            yield article_from_record(record)
        except ValueError as exc:
            errors.append((n, f"{where}{exc}"))


def _record_lines(text: str) -> list[int]:
    """Best-effort line numbers of the top-level values in a JSON array."""
    lines, depth, in_str, esc, line, expect = [], 0, False, False, 1, False
    for ch in text:
        if ch == "\n":
            line += 1
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            continue
        if depth == 1 and expect and not ch.isspace() and ch not in ",]":
            lines.append(line)
            expect = False
        if ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            expect = depth == 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 1:
            expect = True
    return lines


def parse_json(text: str, errors: list) -> Iterator[Article]:
    """An article object, a list of them, or ``{"articles": [...]}``.

    A malformed document raises ParseError (there are no good records to keep);
    bad records in a list go to ``errors`` with their line number.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"invalid JSON at line {exc.lineno}: {exc.msg}", errors=[(exc.lineno, exc.msg)]
        ) from exc
    except RecursionError:
        raise ParseError(
            "invalid JSON: nested too deeply", errors=[(1, "nested too deeply")]
        ) from None
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    if isinstance(data, dict):
        try:
            yield article_from_record(data)
        except ValueError as exc:
            raise ParseError(f"bad article: {exc}", errors=[(1, str(exc))]) from exc
        return
    if not isinstance(data, list):
        raise ParseError("JSON must be an article object or a list of them", errors=[(1, "")])
    lines = _record_lines(text)
    for i, record in enumerate(data):
        try:
            yield article_from_record(record)
        except ValueError as exc:
            line = lines[i] if i < len(lines) else 1
            errors.append((line, f"record {i + 1}: {exc}"))


def parse_csv(text: str, errors: list) -> Iterator[Article]:
    """A header row with a ``text`` column (and optional id, title, url, source, published)."""
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames
    except csv.Error as exc:
        raise ParseError(f"invalid CSV: {exc}", errors=[(1, str(exc))]) from exc
    if not header:
        raise ParseError("CSV has no header row", errors=[(1, "no header row")])
    reader.fieldnames = [(h or "").strip().lower() for h in header]
    if not any(f in reader.fieldnames for f in TEXT_FIELDS):
        raise ParseError(
            f"CSV has no 'text' column (columns: {', '.join(h for h in header if h)})",
            errors=[(1, "no 'text' column")],
        )
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.append((reader.line_num, f"invalid CSV: {exc}"))
            return
        if None in row:  # more cells than header columns
            errors.append((reader.line_num, "more cells than columns"))
            continue
        try:
            yield article_from_record(row)
        except ValueError as exc:
            errors.append((reader.line_num, str(exc)))


# -- files and uploads ---------------------------------------------------------


def _suffix(filename: str) -> str:
    return Path(filename).suffix.lower()


def _parse(data: bytes, filename: str, errors: list) -> Iterator[Article]:
    suffix = _suffix(filename)
    if suffix not in SUFFIXES:
        raise UnsupportedFormatError(
            f"{filename}: unsupported file type {suffix or '(none)'!r}; "
            f"geonews reads {', '.join(SUFFIXES)}"
        )
    text = decode(data, name=filename)
    if not text.strip():
        raise EmptyTextError(f"{filename}: the file is empty")
    if suffix in TEXT_SUFFIXES:
        check_chars(text, name=filename)
        yield Article(text=text, title=_first_line(text))
    elif suffix in HTML_SUFFIXES:
        yield parse_html(text, name=filename)
    elif suffix == ".json":
        yield from parse_json(text, errors)
    elif suffix in (".jsonl", ".ndjson"):
        yield from parse_jsonl(text, errors)
    else:
        yield from parse_csv(text, errors)


def _summary(name: str, errors: list) -> str:
    first = "; ".join(f"line {n}: {m}" for n, m in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return f"{name}: {len(errors)} bad record(s): {first}{more}"


def _read(data: bytes, filename: str, errors: list | None) -> Iterator[Article]:
    sink: list = [] if errors is None else errors
    try:
        yield from _parse(data, filename, sink)
    except ParseError as exc:
        if filename in str(exc):
            raise
        raise ParseError(f"{filename}: {exc}", errors=exc.errors) from exc
    if errors is None and sink:
        raise ParseError(_summary(filename, sink), errors=sink)


def read_path(path, *, errors: list | None = None) -> Iterator[Article]:
    """Articles in one file (.txt, .html, .json, .jsonl, .csv).

    A .txt file is one article: its text exactly as in the file, the title its
    first non-empty line. See the module docstring for ``errors``.
    """
    path = Path(path)
    if _suffix(path.name) not in SUFFIXES:
        raise UnsupportedFormatError(
            f"{path}: unsupported file type {path.suffix or '(none)'!r}; "
            f"geonews reads {', '.join(SUFFIXES)}"
        )
    try:
        if not path.is_file():
            raise UnsupportedFormatError(f"{path}: not a regular file")
        check_file_size(path.stat().st_size, str(path), single=_suffix(path.name) in TEXT_SUFFIXES)
        with path.open("rb") as f:  # never more than the limit, even if the file grows
            data = f.read(settings.get_int("max_file_bytes") + 1)
    except OSError as exc:
        raise UnsupportedFormatError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    check_file_size(len(data), str(path))
    yield from _read(data, str(path), errors)


def expand_paths(paths: Iterable) -> list[Path]:
    """Files named by ``paths``: files as given, directories walked (readable types only), globs."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(
                sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES)
            )
        elif p.exists():
            out.append(p)
        elif glob.has_magic(str(p)):
            matches = sorted(Path(m) for m in glob.glob(str(p), recursive=True))
            files = [m for m in matches if m.is_file()]
            if not files:
                raise UnsupportedFormatError(f"{p}: no files match")
            out.extend(files)
        else:
            raise UnsupportedFormatError(f"{p}: no such file or directory")
    return out


def read_paths(paths: Iterable, *, errors: list | None = None) -> Iterator[Article]:
    """Articles in files, directories (walked for readable types) and glob patterns.

    A file that cannot be read at all does not stop the others: with ``errors``
    given it is reported there as ``(0, "path: message")``; bad records as
    ``(line, "path: message")``. Without ``errors``, ParseError is raised at the
    end listing them all. Paths that do not exist raise at once.
    """
    sink: list = [] if errors is None else errors
    for path in expand_paths(paths):
        file_errors: list = []
        try:
            yield from read_path(path, errors=file_errors)
        except GeonewsError as exc:
            sink.append((0, str(exc) if str(path) in str(exc) else f"{path}: {exc}"))
        sink.extend((n, f"{path}: {m}") for n, m in file_errors)
    if errors is None and sink:
        raise ParseError(_summary("input", sink), errors=sink)


def read_all(paths: Iterable) -> ReadResult:
    """``read_paths`` collected: the articles, and the problems in ``.errors``."""
    errors: list = []
    return ReadResult(read_paths(paths, errors=errors), errors)


def read_bytes(data: bytes, filename: str) -> ReadResult:
    """Articles in an uploaded file; its name's extension picks the format.

    Returns a ReadResult (a list of articles with ``.errors``). A file that
    cannot be read at all raises (UnsupportedFormatError, EmptyTextError, ParseError,
    TextTooLargeError).
    """
    check_file_size(len(data), filename, single=_suffix(filename) in TEXT_SUFFIXES)
    errors: list = []
    return ReadResult(_read(bytes(data), filename, errors), errors)


# -- network -------------------------------------------------------------------


def _download(
    url: str, *, accept: tuple[str, ...], resolver=None
) -> tuple[bytes, str, str, str | None]:
    """GET a URL under the fetch policy (:mod:`geonews.netsafe`):
    (body, final url, content type, charset). Raises FetchError / BlockedURLError."""
    result = netsafe.fetch(url, accept=accept, resolver=resolver)
    return result.body, result.url, result.mime, result.charset


def _decode_http(body: bytes, charset: str | None, url: str) -> str:
    if charset:
        try:
            return body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode(body, name=url)


def fetch_url(url: str, *, resolver=None) -> Article:
    """Fetch a web page and extract its article (text, title, site, date).

    Only public http(s) addresses unless allow-listed; redirects re-checked;
    timeouts, size cap and user agent from settings (see :mod:`geonews.netsafe`).
    ``resolver(host, port) -> [ip, ...]`` replaces DNS.
    """
    body, final, mime, charset = _download(
        url, accept=(*HTML_TYPES, *TEXT_TYPES), resolver=resolver
    )
    try:
        text = _decode_http(body, charset, final)
    except UnsupportedFormatError as exc:
        raise FetchError(f"{url}: {exc}") from exc
    if mime in TEXT_TYPES:
        return read_text(text, title=_first_line(text), url=final, source=urlsplit(final).hostname)
    article = parse_html(text, url=final, name=url)
    return article


def _entry_text(entry) -> str:
    for content in entry.get("content") or []:
        value = content.get("value") or ""
        if value.strip():
            return html_to_text(value) if "html" in (content.get("type") or "html") else value
    summary = entry.get("summary") or entry.get("description") or ""
    return html_to_text(summary) if summary else ""


def parse_feed(data: bytes | str, *, url: str | None = None) -> ReadResult:
    """Articles from RSS/Atom: each entry's content (or summary), title, link, date.

    Entries without text go to ``.errors`` as (entry number, message).
    """
    import feedparser

    # not sanitised by feedparser (it keeps the text of tags it drops, e.g. <template>):
    # html_to_text skips scripts, styles, <noscript> and <template>, and keeps text only
    feed = feedparser.parse(data, sanitize_html=False)
    if not feed.entries:
        if feed.get("bozo"):
            exc = feed.get("bozo_exception")
            raise ParseError(f"{url or 'feed'}: not a valid RSS/Atom feed: {exc}")
        return ReadResult()
    source = _opt_str(feed.feed.get("title")) or (urlsplit(url).hostname if url else None)
    out = ReadResult()
    for i, entry in enumerate(feed.entries, start=1):
        text = _entry_text(entry).strip()
        if not text:
            out.errors.append((i, f"entry {i} has no text"))
            continue
        with warnings.catch_warnings():  # feedparser's updated/published fallback notice
            warnings.simplefilter("ignore", DeprecationWarning)
            published = (
                parse_date(entry.get("published_parsed"))
                or parse_date(entry.get("updated_parsed"))
                or parse_date(entry.get("published"))
            )
        out.append(
            Article(
                text=text,
                title=_opt_str(html_to_text(entry.get("title") or "")),
                url=_opt_str(entry.get("link")),
                source=source,
                published=published,
            )
        )
    return out


def read_feed(url_or_bytes, *, resolver=None) -> ReadResult:
    """Articles of an RSS/Atom feed given as an http(s) URL, a file path or the raw bytes.

    Returns a ReadResult (a list of articles; entries without text in ``.errors``).
    """
    if isinstance(url_or_bytes, bytes | bytearray):
        return parse_feed(bytes(url_or_bytes))
    if isinstance(url_or_bytes, Path) or (
        isinstance(url_or_bytes, str) and "://" not in url_or_bytes and "<" not in url_or_bytes
    ):
        path = Path(url_or_bytes)
        try:
            return parse_feed(path.read_bytes())
        except OSError as exc:
            raise FetchError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if isinstance(url_or_bytes, str) and url_or_bytes.lstrip().startswith("<"):
        return parse_feed(url_or_bytes)
    body, final, _mime, _charset = _download(
        url_or_bytes, accept=(*FEED_TYPES, "text/html", "text/plain"), resolver=resolver
    )
    return parse_feed(body, url=final)
