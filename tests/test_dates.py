"""Resolving DATE mentions against the publication date (table-driven)."""

from __future__ import annotations

import datetime as dt

import pytest

from geonews import dates
from geonews.dates import resolve_date, resolve_dates
from geonews.models import Mention

PUBLISHED = dt.date(2019, 9, 12)  # a Thursday


@pytest.mark.parametrize(
    ("text", "date", "precision"),
    [
        ("Thursday", "2019-09-12", "day"),
        ("Wednesday", "2019-09-11", "day"),
        ("Friday", "2019-09-06", "day"),
        ("on Sunday", "2019-09-08", "day"),
        ("Thursday night", "2019-09-12", "day"),
        ("last Thursday", "2019-09-05", "day"),
        ("next Tuesday", "2019-09-17", "day"),
        ("Sept. 17", "2019-09-17", "day"),
        ("August 30", "2019-08-30", "day"),
        ("Dec. 28", "2018-12-28", "day"),
        ("last year", "2018-01-01", "year"),
        ("this year", "2019-01-01", "year"),
        ("earlier this year", "2019-01-01", "year"),
        ("April", "2019-04-01", "month"),
        ("last month", "2019-08-01", "month"),
        ("earlier this month", "2019-09-01", "month"),
        ("September 2020", "2020-09-01", "month"),
        ("today", "2019-09-12", "day"),
        ("yesterday", "2019-09-11", "day"),
        ("two days ago", "2019-09-10", "day"),
        ("1996-08-30", "1996-08-30", "day"),
        ("Aug. 5, 2019", "2019-08-05", "day"),
        ("2018", "2018-01-01", "year"),
        ("mid-2018", "2018-01-01", "year"),
        ("the summer of 2014", "2014-01-01", "year"),
        ("the 1990s", "1990-01-01", "year"),
        ("the '80s", "1980-01-01", "year"),
        ("three years", None, None),
        ("recent years", None, None),
        ("a few days", None, None),
        ("", None, None),
        ("the ##!! of", None, None),
    ],
)
def test_resolve_with_published(text, date, precision):
    assert resolve_date(text, PUBLISHED) == (date, precision)


@pytest.mark.parametrize(
    ("text", "date", "precision"),
    [
        ("1996-08-30", "1996-08-30", "day"),
        ("Aug. 5, 2019", "2019-08-05", "day"),
        ("2018", "2018-01-01", "year"),
        ("Thursday", None, None),
        ("last year", None, None),
        ("Sept. 17", None, None),
        ("today", None, None),
    ],
)
def test_resolve_without_published(text, date, precision):
    assert resolve_date(text, None) == (date, precision)


def test_resolve_dates_keeps_only_date_mentions_and_offsets():
    text = "Netanyahu met Putin on Thursday."
    mentions = [
        Mention("Netanyahu", "PERSON", 0, 9, "Benjamin Netanyahu"),
        Mention("Thursday", "DATE", 23, 31, "Thursday"),
    ]
    out = resolve_dates(mentions, PUBLISHED, text=text)
    assert [(d.text, d.start, d.end, d.date, d.precision) for d in out] == [
        ("Thursday", 23, 31, "2019-09-12", "day")
    ]
    assert text[out[0].start : out[0].end] == "Thursday"


def test_resolve_dates_accepts_datetime():
    m = Mention("yesterday", "DATE", 0, 9, "yesterday")
    (d,) = resolve_dates([m], dt.datetime(2019, 9, 12, 15, 30))
    assert d.date == "2019-09-11"


@pytest.mark.parametrize("text", ["\x00", "12345678901234567890", "the 99th century", "∞"])
def test_never_raises(text):
    resolve_date(text, PUBLISHED)
    resolve_date(text, None)


FAST_EXPRESSIONS = [
    "last week", "this week", "next week", "last month", "this month", "next month",
    "last year", "this year", "next year", "in December", "December", "Dec. 31", "Jan. 1",
    "Feb. 29", "Sept. 31", "Sept. 17", "sep 9", "March 17th", "17 March", "17 March 2019",
    "June 2024", "Oct 2019", "May", "May 5, 2020", "early March", "mid-October 2021",
    "the end of last month", "Monday", "the 1990s", "2014", "three weeks ago",
]  # fmt: skip


@pytest.mark.parametrize("published", [None, *map(dt.date.fromisoformat, [
    "2019-09-12", "2020-01-03", "2020-12-30", "2024-02-29", "2021-07-01"])])  # fmt: skip
def test_fast_path_answers_as_dateparser_does(published):
    """The regex fast path for common expressions must never change an answer."""
    for text in FAST_EXPRESSIONS:
        assert dates._resolve(text, published, True) == dates._resolve(text, published, False), text


BASES = [dt.date(1996, 8, 30), dt.date(2008, 2, 29), dt.date(2021, 6, 15), dt.date(2025, 1, 1)]


@pytest.mark.parametrize(
    "text", ["the year", "winter", "the autumn", "the coming weeks", "the lean season"]
)
def test_a_text_without_a_date_has_none_at_any_publication_date(text):
    """Why a digit-free text dateparser failed on is not asked again for another date."""
    answers = []
    for published in BASES:
        dates._UNPARSED.clear()
        dates._resolve.cache_clear()
        answers.append(dates._resolve(text, published))
    assert answers == [(None, None)] * len(BASES)
    assert dates._resolve(text, dt.date(2030, 3, 1)) == (None, None)  # from the memo


def test_a_day_number_is_not_memoised_as_dateless():
    """ "31" has no date in June but has one in July: it is asked again every time."""
    dates._UNPARSED.clear()
    dates._resolve.cache_clear()
    june, july = (
        dates._resolve("31", dt.date(2021, 6, 15)),
        dates._resolve("31", dt.date(2021, 7, 15)),
    )
    assert "31" not in dates._UNPARSED
    assert june != july
