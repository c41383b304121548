"""The demo corpus in sample_data/articles.jsonl: format, spread and the hard cases
the geocoder and date resolver are demonstrated on."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent.parent / "sample_data" / "articles.jsonl"
REQUIRED_KEYS = {"id", "title", "text", "source", "url", "published"}

# Each hard case must occur (whole word, case-sensitive) in at least two articles.
HARD_CASES = [
    "Sochi",
    "Jordan Valley",
    "West Bank",
    "Tripoli",
    "Georgia",
    "Tbilisi",
    "Atlanta",
    "Jordan",
    "Bardella",
    "Sahel",
    "Golan Heights",
    "Donbas",
    "Strait of Hormuz",
    "Kashmir",
    "Crimea",
    "Nagorno-Karabakh",
    "Transnistria",
    "Red Sea",
    "Bab el-Mandeb",
    "U.S.",
    "US",
    "United States",
    "Washington",
    "the Kremlin",
    "Moscow said",
]

RECURRING_ACTORS = [
    "Vladimir Putin",
    "Sergei Lavrov",
    "Volodymyr Zelenskyy",
    "Benjamin Netanyahu",
    "Recep Tayyip Erdogan",
    "Xi Jinping",
    "Narendra Modi",
    "Emmanuel Macron",
    "Olaf Scholz",
    "Friedrich Merz",
    "Joe Biden",
    "Donald Trump",
    "Antonio Guterres",
    "Rafael Grossi",
    "Masoud Pezeshkian",
    "Abdel Fattah al-Sisi",
    "Mohammed bin Salman",
    "NATO",
    "European Union",
    "Security Council",
    "Hezbollah",
    "Hamas",
    "Houthi",
    "Wagner",
]


def _has(text: str, phrase: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", text) is not None


@pytest.fixture(scope="module")
def articles() -> list[dict]:
    rows = []
    with CORPUS.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            assert line.strip(), f"blank line {n}"
            row = json.loads(line)
            assert isinstance(row, dict), f"line {n} is not an object"
            rows.append(row)
    return rows


def _with(articles: list[dict], *phrases: str) -> list[dict]:
    return [a for a in articles if all(_has(a["title"] + "\n" + a["text"], p) for p in phrases)]


def test_count_and_unique_ids(articles):
    assert len(articles) >= 60
    ids = [a["id"] for a in articles]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"gn-sample-\d{3}", i) for i in ids)


def test_required_keys_and_types(articles):
    for a in articles:
        assert set(a) == REQUIRED_KEYS, a["id"]
        assert isinstance(a["title"], str) and a["title"].strip(), a["id"]
        assert isinstance(a["source"], str) and a["source"].strip(), a["id"]
        assert a["url"] is None or a["url"].startswith("https://example.org/"), a["id"]
        dt.date.fromisoformat(a["published"])


def test_text_length_and_paragraphs(articles):
    for a in articles:
        words = len(a["text"].split())
        assert 100 <= words <= 450, (a["id"], words)
        assert "\n\n" in a["text"], a["id"]
        assert "\n\n\n" not in a["text"], a["id"]


def test_some_datelines_some_not(articles):
    dateline = re.compile(r"^[A-Z][A-Z'. -]+(, [A-Za-z .,]+)?, [A-Z][a-z]+\.? \d{1,2} ")
    with_dl = [a for a in articles if dateline.match(a["text"])]
    assert 10 <= len(with_dl) <= len(articles) - 10


def test_spread_over_months(articles):
    months = {a["published"][:7] for a in articles}
    assert len(months) >= 12
    dates = sorted(dt.date.fromisoformat(a["published"]) for a in articles)
    assert (dates[-1] - dates[0]).days >= 365


@pytest.mark.parametrize("phrase", HARD_CASES)
def test_hard_case_occurs_in_two_articles(articles, phrase):
    assert len(_with(articles, phrase)) >= 2, phrase


@pytest.mark.parametrize("actor", RECURRING_ACTORS)
def test_recurring_actor(articles, actor):
    assert len(_with(articles, actor)) >= 2, actor


def test_tripoli_both_senses(articles):
    tripoli = _with(articles, "Tripoli")
    libya = [a for a in tripoli if _has(a["text"], "Libya") and not _has(a["text"], "Lebanon")]
    lebanon = [a for a in tripoli if _has(a["text"], "Lebanon") and not _has(a["text"], "Libya")]
    assert len(libya) >= 2
    assert len(lebanon) >= 2


def test_georgia_both_senses(articles):
    georgia = _with(articles, "Georgia")
    country = [a for a in georgia if _has(a["text"], "Tbilisi")]
    state = [a for a in georgia if _has(a["text"], "Atlanta")]
    assert len(country) >= 2
    assert len(state) >= 2
    assert not {a["id"] for a in country} & {a["id"] for a in state}


def test_jordan_person_name_guard(articles):
    # "Jordan" as a first name, in articles where Jordan the country is absent.
    person = _with(articles, "Jordan Bardella")
    assert len(person) >= 2
    country = [a for a in _with(articles, "Jordan") if "King Abdullah II" in a["text"]]
    assert len(country) >= 2


def test_relative_date_expressions(articles):
    text = "\n".join(a["text"] for a in articles)
    for phrase in ["on Monday", "on Thursday", "last week", "last year", "next month"]:
        assert phrase in text, phrase
    assert re.search(
        r"\b\d{1,2} (January|February|March|April|May|June|July|August|"
        r"September|October|November|December) \d{4}\b",
        text,
    )
