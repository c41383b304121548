"""Resolve DATE mentions against the publication date.

``resolve_dates(mentions, published)`` turns every DATE mention into a
:class:`~geonews.models.DateMention` with an ISO date and a precision
(day | month | year; the first day of the month or year for coarser precision).

News conventions on top of dateparser:

- a weekday names the most recent such day on or before publication ("Thursday" in a
  Thursday article is that day; "last Thursday" the one before; "next Thursday" after);
- a day or month without a year is the nearest one to publication ("Sept. 17" a few days
  after a September 12 article, "April" the April before it);
- durations ("three years") resolve to None, decades ("the 1990s") to their first year;
- without a publication date only dates with an explicit year resolve.

Never raises on odd text: unresolvable mentions get ``date=None``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from geonews.models import DateMention, Mention

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_ABBR = {
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
_WEEKDAY_RE = re.compile(
    r"^(?:on\s+)?(?:(?P<rel>last|this|next|past|coming)\s+)?(?P<day>[a-z]+)\.?"
    r"(?:\s+(?:morning|afternoon|evening|night))?$"
)
_NUMBER = (
    r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
    r"twenty|thirty|forty|fifty|a\s+few|few|several|many|some|a\s+couple\s+of|couple\s+of|"
    r"dozens\s+of|hundreds\s+of|\d+\s+or\s+\d+)"
)
_DURATION_RE = re.compile(
    r"^(?:(?:about|around|some|nearly|almost|over|more\s+than|less\s+than|at\s+least|"
    r"up\s+to|the|another|for|the\s+next|the\s+past|the\s+last|recent|previous|those)\s+)*"
    rf"(?:{_NUMBER}[\s-]+)?(?:full\s+|straight\s+|consecutive\s+)?"
    r"(?:days?|weeks?|months?|years?|decades?|centuries|century|hours?|minutes?|"
    r"nights?|weekends?|seasons?)"
    r"(?:[\s-]+(?:old|long|earlier|later|before|after|running|in\s+a\s+row))?$"
)
_DECADE_RE = re.compile(r"^(?:the\s+)?(?:early\s+|mid-?\s*|late\s+)?(?P<y>1\d\d0|20\d0)'?s$")
_SHORT_DECADE_RE = re.compile(r"^(?:the\s+)?(?:early\s+|mid-?\s*|late\s+)?'?(?P<y>[2-9]0)'?s$")
_MODIFIER_RE = re.compile(
    r"^(?:(?:earlier|later|early|late|mid|middle\s+of|the\s+middle\s+of|the\s+end\s+of|"
    r"end\s+of|the\s+beginning\s+of|beginning\s+of|the\s+start\s+of|start\s+of|"
    r"the\s+first\s+half\s+of|the\s+second\s+half\s+of|since|until|by|in|on|of|from|"
    r"during|as\s+of|through|(?:the\s+)?(?:summer|winter|spring|autumn|fall)\s+of)[\s-]+)+"
)
_YEAR_RE = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)|'\d\d\b")
_RELATIVE_RE = re.compile(
    r"\b(ago|last|next|this|past|previous|coming|today|tonight|yesterday|tomorrow|"
    r"recent|recently|now|current|earlier|later)\b"
)
_PERIOD_TO_PRECISION = {
    "day": "day",
    "week": "day",
    "time": "day",
    "month": "month",
    "year": "year",
}


def _weekday(name: str) -> int | None:
    name = name.lower().rstrip(".")
    if name in WEEKDAYS:
        return WEEKDAYS.index(name)
    return _WEEKDAY_ABBR.get(name)


def _resolve_weekday(text: str, published: dt.date) -> dt.date | None:
    m = _WEEKDAY_RE.match(text)
    if not m:
        return None
    day = _weekday(m["day"])
    if day is None:
        return None
    back = (published.weekday() - day) % 7
    rel = m["rel"]
    if rel in ("last", "past"):
        return published - dt.timedelta(days=back or 7)
    if rel in ("next", "coming"):
        return published + dt.timedelta(days=(day - published.weekday()) % 7 or 7)
    return published - dt.timedelta(days=back)


@functools.lru_cache(maxsize=1)
def _dateparser_module():
    import dateparser.date

    return dateparser.date


@functools.lru_cache(maxsize=256)
def _parser(base: dt.date | None):
    """A cached DateDataParser per relative base (English only, past preferred)."""
    settings = {
        "PREFER_DATES_FROM": "past",
        "RETURN_AS_TIMEZONE_AWARE": False,
        "PREFER_DAY_OF_MONTH": "first",
        "STRICT_PARSING": False,
    }
    if base is not None:
        settings["RELATIVE_BASE"] = dt.datetime(base.year, base.month, base.day)
    return _dateparser_module().DateDataParser(languages=["en"], settings=settings)


_BARE_YEAR_RE = re.compile(r"^(1[0-9]|20)[0-9]{2}$")


def _nearest_year(value: dt.date, published: dt.date, precision: str) -> dt.date:
    """Move a year-less date to the year that puts it nearest to publication."""
    anchor = published.replace(day=1) if precision == "month" else published
    best = None
    for year in (published.year - 1, published.year, published.year + 1):
        try:
            cand = value.replace(year=year)
        except ValueError:  # 29 February
            continue
        # past-tense news: a future date must be three times nearer to win
        days = (cand - anchor).days
        key = (days * 3 if days > 0 else -days, days > 0)
        if best is None or key < best[0]:
            best = (key, cand)
    return best[1] if best else value


def _normalise(text: str) -> str:
    text = " ".join(text.replace("’", "'").split()).lower()
    return text.strip(" ,.;:()\"'") if not text.endswith("s'") else text


def _truncate(value: dt.date, precision: str) -> dt.date:
    if precision == "year":
        return value.replace(month=1, day=1)
    if precision == "month":
        return value.replace(day=1)
    return value


_MONTHS = {
    name: i
    for i, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>[a-z]+)\.?"
_MONTH_DAY_RE = re.compile(
    rf"^(?:{_MONTH}(?:\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?)?|(?P<day2>\d{{1,2}})\s+{_MONTH.replace('month', 'month2')})"
    r"(?:,?\s+(?P<year>1[5-9]\d\d|20\d\d))?$"
)
_REL_PERIOD_RE = re.compile(r"^(?P<rel>last|this|next)\s+(?P<unit>week|month|year)$")


def _fast_path(text: str, published: dt.date | None) -> tuple[dt.date, str] | None:
    """The commonest news expressions, computed as dateparser would compute them
    ("last week", "this month", "next year", "Sept. 17", "February 2022", "17 March
    2019"), without its milliseconds per call; None hands the text to dateparser.
    tests/test_dates.py checks both give the same answers."""
    if published is not None and (m := _REL_PERIOD_RE.match(text)):
        step = {"last": -1, "this": 0, "next": 1}[m["rel"]]
        if m["unit"] == "week":
            return published + dt.timedelta(days=7 * step), "day"
        if m["unit"] == "year":
            return dt.date(published.year + step, 1, 1), "year"
        month = published.month - 1 + step
        return dt.date(published.year + month // 12, month % 12 + 1, 1), "month"
    m = _MONTH_DAY_RE.match(text)
    if m is None:
        return None
    month = _MONTHS.get(m["month"] or m["month2"])
    if month is None:
        return None
    day = m["day"] or m["day2"]
    if m["year"]:
        year = int(m["year"])
    elif published is not None:
        year = published.year
    else:
        return None
    try:
        value = dt.date(year, month, int(day) if day else 1)
    except ValueError:  # 31 September, 29 February: dateparser decides
        return None
    return value, "day" if day else "month"


def resolve_date(text: str, published: dt.date | None) -> tuple[str | None, str | None]:
    """(ISO date, precision) of one DATE expression, or (None, None)."""
    try:
        return _resolve(text, published)
    except Exception:  # noqa: BLE001 - dateparser may raise on odd input; never propagate
        return None, None


# Texts without digits that dateparser finds no date in ("the year", "winter", "the
# coming weeks"): whether it finds one depends on the words, not on the publication date
# it resolves against, so such a text is not handed to it again (tests/test_dates.py).
# With digits it can depend on it ("31", "February 29"): those are not kept.
_UNPARSED: set[str] = set()


# A pure function of (text, publication date): news repeats the same expressions
# ("Thursday", "last year", "2019") across the articles of a day, and dateparser costs
# milliseconds a call, so results are memoised (exact, bounded).
@functools.lru_cache(maxsize=65536)
def _resolve(
    text: str, published: dt.date | None, fast: bool = True
) -> tuple[str | None, str | None]:
    norm = _normalise(text)
    if not norm:
        return None, None
    if _BARE_YEAR_RE.match(norm):
        return f"{norm}-01-01", "year"
    if m := _DECADE_RE.match(norm):
        return f"{m['y']}-01-01", "year"
    if m := _SHORT_DECADE_RE.match(norm):
        century = 1900 if published is None or int(m["y"]) > published.year % 100 else 2000
        return f"{century + int(m['y'])}-01-01", "year"
    if _DURATION_RE.match(norm):
        return None, None
    stripped = _MODIFIER_RE.sub("", norm) or norm
    has_year = bool(_YEAR_RE.search(stripped))
    relative = bool(_RELATIVE_RE.search(stripped))
    if published is None and (not has_year or relative):
        return None, None
    if published is not None and (day := _resolve_weekday(stripped, published)):
        return day.isoformat(), "day"
    quick = _fast_path(stripped, published) if fast else None
    if quick is not None:
        value, precision = quick
    else:
        if stripped in _UNPARSED:
            return None, None
        data = _parser(published if published is not None else None).get_date_data(stripped)
        if data is None or data.date_obj is None:
            if not any(c.isdigit() for c in stripped):  # "31": a day some months lack
                if len(_UNPARSED) > 65536:
                    _UNPARSED.clear()
                _UNPARSED.add(stripped)
            return None, None
        precision = _PERIOD_TO_PRECISION.get(data.period or "day", "day")
        value = data.date_obj.date()
    if published is not None and not has_year and not relative and precision in ("day", "month"):
        value = _nearest_year(value, published, precision)
    return _truncate(value, precision).isoformat(), precision


def resolve_dates(
    mentions: list[Mention], published: dt.date | None, *, text: str = ""
) -> list[DateMention]:
    """Resolve every DATE mention; ``text`` is the article (unused today, kept for context)."""
    if isinstance(published, dt.datetime):
        published = published.date()
    out = []
    for m in mentions:
        if m.label != "DATE":
            continue
        date, precision = resolve_date(m.text, published)
        out.append(DateMention(m.text, m.start, m.end, date, precision))
    return out
