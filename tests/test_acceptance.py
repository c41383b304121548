"""The foundation's acceptance, checked through the public `analyze` contract.

Runs `python -m geonews analyze` on the seed article as a user would and
checks the JSON line it prints.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


@pytest.fixture(scope="module")
def seed_result(seed_text, tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("seed") / "netanyahu-sochi.txt"
    path.write_text(seed_text, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "geonews", "analyze", str(path), "--published", "2019-09-12"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    result = json.loads(lines[0])
    result["_text"] = seed_text
    return result


def place_named(result: dict, name: str) -> dict:
    for place in result["places"]:
        if any(m["text"] == name for m in place["mentions"]) or place["name"] == name:
            return place
    raise AssertionError(f"no place for {name!r}: {[p['name'] for p in result['places']]}")


def test_contract_shape(seed_result):
    assert seed_result["published"] == "2019-09-12"
    text = seed_result["_text"]
    for ent in seed_result["entities"]:
        assert set(ent) >= {"text", "label", "start", "end", "entity"}
        assert text[ent["start"] : ent["end"]] == ent["text"]
    for place in seed_result["places"]:
        assert set(place) >= {
            "name",
            "lat",
            "lon",
            "country_code",
            "kind",
            "confidence",
            "mentions",
        }
        for m in place["mentions"]:
            assert text[m["start"] : m["end"]] == m["text"]
    for d in seed_result["dates"]:
        assert set(d) >= {"text", "start", "end", "date", "precision"}
        assert text[d["start"] : d["end"]] == d["text"]


@pytest.mark.parametrize(
    ("name", "lat", "lon", "radius_km"),
    [("Sochi", 43.59, 39.72, 60), ("Jordan Valley", 32.1, 35.55, 80)],
)
def test_hard_places_land_right(seed_result, name, lat, lon, radius_km):
    place = place_named(seed_result, name)
    assert km(place["lat"], place["lon"], lat, lon) <= radius_km


@pytest.mark.parametrize(
    ("name", "country_code"),
    [
        ("West Bank", "PS"),
        ("Moscow", "RU"),
        ("Russia", "RU"),
        ("Israel", "IL"),
        ("Syria", "SY"),
        ("Iran", "IR"),
    ],
)
def test_places_have_the_right_country(seed_result, name, country_code):
    assert place_named(seed_result, name)["country_code"] == country_code


def test_jordan_valley_does_not_make_jordan(seed_result):
    text = seed_result["_text"]
    for place in seed_result["places"]:
        if place["country_code"] == "JO" and place["kind"] == "country":
            spans = [text[m["start"] : m["end"]] for m in place["mentions"]]
            raise AssertionError(f"the country Jordan was made from {spans}")


PERSONS = [
    "Benjamin Netanyahu",
    "Vladimir Putin",
    "Donald Trump",
    "Sergei Shoigu",
    "Avigdor Lieberman",
]


@pytest.mark.parametrize("person", PERSONS)
def test_persons_found_with_canonical_names(seed_result, person):
    names = {e["entity"] for e in seed_result["entities"] if e["label"] == "PERSON"}
    assert person in names


def test_assad_is_a_person(seed_result):
    names = {e["entity"] for e in seed_result["entities"] if e["label"] == "PERSON"}
    assert names & {"Bashar Assad", "Bashar al-Assad"}


@pytest.mark.parametrize(
    ("bare", "full"), [("Putin", "Vladimir Putin"), ("Netanyahu", "Benjamin Netanyahu")]
)
def test_bare_surnames_carry_the_full_name(seed_result, bare, full):
    bare_mentions = [e for e in seed_result["entities"] if e["text"] == bare]
    assert bare_mentions
    assert {e["entity"] for e in bare_mentions} == {full}


def test_party_is_not_a_person(seed_result):
    for e in seed_result["entities"]:
        if "Yisrael Beitenu" in e["text"]:
            assert e["label"] != "PERSON"


@pytest.mark.parametrize(
    ("text", "date", "precision"),
    [("Thursday", "2019-09-12", "day"), ("Sept. 17", "2019-09-17", "day")],
)
def test_dates_resolve_against_publication(seed_result, text, date, precision):
    found = [d for d in seed_result["dates"] if text in d["text"]]
    assert found, [d["text"] for d in seed_result["dates"]]
    assert found[0]["date"] == date
    assert found[0]["precision"] == precision


def test_last_year_is_2018(seed_result):
    found = [d for d in seed_result["dates"] if "last year" in d["text"]]
    assert found
    assert found[0]["date"].startswith("2018")
    assert found[0]["precision"] == "year"
