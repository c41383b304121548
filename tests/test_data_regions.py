"""Checks for the curated data tables: geonews/data/regions.csv and demonyms.csv."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import pycountry
import pytest

DATA = Path(__file__).resolve().parent.parent / "geonews" / "data"
REGION_HEADER = [
    "id",
    "name",
    "aliases",
    "kind",
    "lat",
    "lon",
    "south",
    "west",
    "north",
    "east",
    "country_codes",
    "source",
]
KINDS = {"region", "disputed", "feature", "water", "historical", "continent"}
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Aliases that two rows may share on purpose (casefolded). Keep this short.
SHARED_ALIASES: set[str] = set()


@cache
def valid_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes, plus XK for Kosovo."""
    return frozenset({c.alpha_2 for c in pycountry.countries} | {"XK"})


def read_csv(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


@cache
def regions() -> list[dict[str, str]]:
    return read_csv("regions.csv")[1]


@cache
def regions_by_id() -> dict[str, dict[str, str]]:
    return {r["id"]: r for r in regions()}


@cache
def demonyms() -> list[dict[str, str]]:
    return read_csv("demonyms.csv")[1]


def split(value: str) -> list[str]:
    return [part for part in value.split("|") if part]


def inside(lat: float, lon: float, south: float, west: float, north: float, east: float) -> bool:
    """True if the point lies in the box; west > east means the box crosses the antimeridian."""
    if not south <= lat <= north:
        return False
    if west <= east:
        return west <= lon <= east
    return lon >= west or lon <= east


# --- the bounding-box rule itself ---------------------------------------------------------


@pytest.mark.parametrize(
    ("point", "box", "expected"),
    [
        ((32.1, 35.55), (31.7, 35.45, 32.75, 35.7), True),
        ((32.1, 36.0), (31.7, 35.45, 32.75, 35.7), False),
        ((30.0, 35.55), (31.7, 35.45, 32.75, 35.7), False),
        ((0.0, -160.0), (-60.0, 117.0, 66.0, -67.0), True),  # Pacific, across the antimeridian
        ((0.0, 170.0), (-60.0, 117.0, 66.0, -67.0), True),
        ((0.0, 0.0), (-60.0, 117.0, 66.0, -67.0), False),
        ((60.0, 180.0), (45.0, 60.0, 77.7, 180.0), True),
    ],
)
def test_inside(point, box, expected):
    assert inside(*point, *box) is expected


# --- regions.csv --------------------------------------------------------------------------


def test_regions_header():
    header, _ = read_csv("regions.csv")
    assert header == REGION_HEADER


def test_regions_row_count():
    assert len(regions()) >= 320


def test_region_ids_are_unique_slugs():
    ids = [r["id"] for r in regions()]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not SLUG.match(i)] == []


def test_region_fields():
    errors = []
    for r in regions():
        rid = r["id"]
        if None in r or len(r) != len(REGION_HEADER):
            errors.append(f"{rid}: wrong number of fields")
            continue
        if r["kind"] not in KINDS:
            errors.append(f"{rid}: kind {r['kind']!r}")
        if r["source"] != "curated":
            errors.append(f"{rid}: source {r['source']!r}")
        if not r["name"].strip() or r["name"] != r["name"].strip():
            errors.append(f"{rid}: name {r['name']!r}")
    assert errors == []


def test_region_coordinates():
    errors = []
    for r in regions():
        lat, lon, south, west, north, east = (
            float(r[k]) for k in ("lat", "lon", "south", "west", "north", "east")
        )
        if not (-90 <= south < north <= 90):
            errors.append(f"{r['id']}: latitudes {south}..{north}")
        if not all(-180 <= v <= 180 for v in (lon, west, east)):
            errors.append(f"{r['id']}: longitude out of range")
        if not inside(lat, lon, south, west, north, east):
            errors.append(f"{r['id']}: point {lat},{lon} outside its box")
    assert errors == []


def test_region_country_codes_are_valid():
    bad = {
        (r["id"], code)
        for r in regions()
        for code in split(r["country_codes"])
        if code not in valid_codes()
    }
    assert bad == set()


def test_rows_without_country_codes_are_seas_or_wide_regions():
    bare = [r["id"] for r in regions() if not r["country_codes"]]
    assert [i for i in bare if regions_by_id()[i]["kind"] not in {"water", "region"}] == []


def test_aliases_are_clean():
    errors = []
    for r in regions():
        aliases = r["aliases"].split("|") if r["aliases"] else []
        names = [a.casefold() for a in [r["name"], *aliases]]
        if len(names) != len(set(names)):
            errors.append(f"{r['id']}: repeated alias")
        for alias in aliases:
            if not alias or alias != alias.strip():
                errors.append(f"{r['id']}: empty or padded alias {alias!r}")
            if alias.casefold().startswith("the "):
                errors.append(f"{r['id']}: alias starts with 'the': {alias!r}")
    assert errors == []


def test_no_alias_shared_between_rows():
    owners: dict[str, set[str]] = defaultdict(set)
    for r in regions():
        for label in [r["name"], *split(r["aliases"])]:
            owners[label.casefold()].add(r["id"])
    shared = {k: v for k, v in owners.items() if len(v) > 1 and k not in SHARED_ALIASES}
    assert shared == {}


REQUIRED = [
    # id, lat, lon, tolerance in degrees, codes that must be listed, kind
    ("jordan-valley", 32.1, 35.55, 0.2, {"PS", "IL", "JO"}, "feature"),
    ("west-bank", 31.9, 35.25, 0.3, {"PS"}, "disputed"),
    ("gaza-strip", 31.42, 34.37, 0.15, {"PS"}, "disputed"),
    ("golan-heights", 33.0, 35.75, 0.3, {"SY"}, "disputed"),
    ("east-jerusalem", 31.78, 35.23, 0.05, {"PS"}, "disputed"),
    ("donbas", 48.2, 38.5, 1.0, {"UA"}, "region"),
    ("crimea", 45.3, 34.4, 0.5, {"UA"}, "disputed"),
    ("kashmir", 34.5, 75.5, 1.5, {"IN", "PK"}, "disputed"),
    ("sahel", 15.0, 5.0, 5.0, {"ML", "NE", "BF"}, "region"),
    ("balkans", 43.0, 21.0, 2.0, {"RS", "BA", "XK"}, "region"),
    ("caucasus", 42.5, 44.5, 2.0, {"GE", "AM", "AZ", "RU"}, "region"),
    ("levant", 33.5, 36.0, 1.5, {"SY", "LB"}, "region"),
    ("kurdistan", 37.0, 43.5, 1.5, {"TR", "IQ", "IR", "SY"}, "region"),
    ("transnistria", 47.25, 29.5, 0.5, {"MD"}, "disputed"),
    ("strait-of-hormuz", 26.57, 56.25, 0.3, {"IR", "OM"}, "water"),
    ("bab-el-mandeb", 12.6, 43.35, 0.3, {"YE", "DJ"}, "water"),
    ("bosporus", 41.1, 29.05, 0.2, {"TR"}, "water"),
    ("suez-canal", 30.6, 32.33, 0.5, {"EG"}, "feature"),
    ("panama-canal", 9.1, -79.7, 0.3, {"PA"}, "feature"),
    ("kerch-strait", 45.3, 36.5, 0.3, {"UA", "RU"}, "water"),
    ("taiwan-strait", 24.5, 119.5, 1.0, {"CN", "TW"}, "water"),
    ("spratly-islands", 10.0, 114.3, 1.5, {"CN", "VN", "PH"}, "disputed"),
    ("western-sahara", 24.5, -13.0, 1.5, {"EH"}, "disputed"),
    ("mount-everest", 27.99, 86.93, 0.05, {"NP", "CN"}, "feature"),
    ("soviet-union", 60.0, 90.0, 10.0, {"RU", "UA"}, "historical"),
    ("yugoslavia", 44.0, 19.0, 2.0, {"RS", "HR"}, "historical"),
    ("antarctica", -82.0, 0.0, 10.0, {"AQ"}, "continent"),
]


@pytest.mark.parametrize(("rid", "lat", "lon", "tol", "codes", "kind"), REQUIRED)
def test_required_rows(rid, lat, lon, tol, codes, kind):
    row = regions_by_id().get(rid)
    assert row is not None, f"{rid} missing"
    assert abs(float(row["lat"]) - lat) <= tol
    assert abs(float(row["lon"]) - lon) <= tol
    assert codes <= set(split(row["country_codes"]))
    assert row["kind"] == kind


@pytest.mark.parametrize(
    ("alias", "rid"),
    [
        ("Judea and Samaria", "west-bank"),
        ("Donbass", "donbas"),
        ("Crimean Peninsula", "crimea"),
        ("USSR", "soviet-union"),
        ("Karabakh", "nagorno-karabakh"),
        ("Pridnestrovie", "transnistria"),
        ("Bosphorus", "bosporus"),
        ("Baltics", "baltic-states"),
        ("DMZ", "korean-dmz"),
        ("Diaoyu Islands", "senkaku-islands"),
        ("Arabian Gulf", "persian-gulf"),
        ("Golan", "golan-heights"),
        ("Transcaucasia", "south-caucasus"),
    ],
)
def test_alias_resolves_to_row(alias, rid):
    assert alias in split(regions_by_id()[rid]["aliases"])


def test_jordan_valley_is_not_oregon():
    row = regions_by_id()["jordan-valley"]
    assert "US" not in split(row["country_codes"])
    assert float(row["lon"]) > 0


# --- demonyms.csv -------------------------------------------------------------------------


def test_demonyms_header_and_size():
    header, rows = read_csv("demonyms.csv")
    assert header == ["demonym", "country_code"]
    assert len(rows) >= 300


def test_demonym_codes_are_valid():
    assert {r["country_code"] for r in demonyms()} <= valid_codes()


def test_each_demonym_maps_to_one_country():
    seen: dict[str, set[str]] = defaultdict(set)
    for r in demonyms():
        assert r["demonym"] == r["demonym"].strip() and r["demonym"]
        seen[r["demonym"].casefold()].add(r["country_code"])
    assert {k: v for k, v in seen.items() if len(v) > 1} == {}
    assert len(seen) == len(demonyms())


@pytest.mark.parametrize(
    ("demonym", "code"),
    [
        ("Israeli", "IL"),
        ("Israelis", "IL"),
        ("Russian", "RU"),
        ("Russians", "RU"),
        ("Syrian", "SY"),
        ("Iranian", "IR"),
        ("American", "US"),
        ("British", "GB"),
        ("Briton", "GB"),
        ("Palestinian", "PS"),
        ("Lebanese", "LB"),
        ("Ukrainian", "UA"),
        ("Chinese", "CN"),
        ("Kosovar", "XK"),
        ("Nigerien", "NE"),
        ("Nigerian", "NG"),
        ("North Korean", "KP"),
        ("South Korean", "KR"),
        ("Dutch", "NL"),
        ("Filipino", "PH"),
    ],
)
def test_demonym_table(demonym, code):
    table = {r["demonym"]: r["country_code"] for r in demonyms()}
    assert table.get(demonym) == code


def test_most_sovereign_states_have_a_demonym():
    covered = {r["country_code"] for r in demonyms()}
    # Congo (CG) and Dominica (DM) share "Congolese" / "Dominican" with CD and DO.
    members = {c.alpha_2 for c in pycountry.countries if c.alpha_2 not in {"CG", "DM", "VA", "AQ"}}
    missing = {code for code in members if code not in covered}
    # Only dependent territories without a common demonym may be missing.
    assert len(missing) <= 20, sorted(missing)
