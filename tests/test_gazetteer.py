"""The offline gazetteer: lookups, normalisation, countries and the on-disk index."""

from __future__ import annotations

import pytest

from geonews.gazetteer import GazEntry, normalize


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("U.S.", "us"),
        ("St. Petersburg", "saint petersburg"),
        ("the Netherlands", "netherlands"),
        ("Russia's", "russia"),
        ("Russia\u2019s", "russia"),
        ("Côte d'Ivoire", "cote divoire"),
        ("Guinea-Bissau", "guinea bissau"),
        ("  Sochi ", "sochi"),
    ],
)
def test_normalize(raw, key):
    assert normalize(raw) == key


@pytest.mark.parametrize(
    ("name", "kind", "cc", "lat", "lon"),
    [
        ("Sochi", "city", "RU", 43.59, 39.72),
        ("Moscow", "city", "RU", 55.75, 37.62),
        ("Russia", "country", "RU", 60.0, 100.0),
        ("U.S.", "country", "US", 39.76, -98.5),
        ("Britain", "country", "GB", 54.76, -2.7),
        ("UK", "country", "GB", 54.76, -2.7),
        ("Ivory Coast", "country", "CI", None, None),
        ("the Netherlands", "country", "NL", None, None),
        ("Europe", "continent", None, None, None),
        ("Tamil Nadu", "admin", "IN", None, None),
        ("Black Sea", "water", None, 43.0, 34.0),
    ],
)
def test_lookup_first_of_kind(gazetteer, name, kind, cc, lat, lon):
    hits = [e for e in gazetteer.lookup(name) if e.kind == kind]
    assert hits, f"{name} has no {kind} entry"
    e = hits[0]
    assert isinstance(e, GazEntry)
    assert e.country_code == cc
    assert e.source
    if lat is not None:
        assert abs(e.lat - lat) < 2.5 and abs(e.lon - lon) < 6


def test_country_is_central_point_not_capital(gazetteer):
    ru = gazetteer.country("RU")
    assert ru.id == "cc:RU" and ru.lat == pytest.approx(60, abs=1)
    assert ru.bbox is not None and ru.bbox[0] < 45 < ru.bbox[2]
    assert gazetteer.get("cc:RU") == ru


def test_admin_and_city_share_name(gazetteer):
    ids = {e.id for e in gazetteer.lookup("Georgia")}
    assert {"cc:GE", "a1:US.GA"} <= ids


def test_accents_and_case(gazetteer):
    assert gazetteer.lookup("SOCHI")[0].id == gazetteer.lookup("Sochi")[0].id
    assert any(e.country_code == "CO" for e in gazetteer.lookup("Bogota"))


def test_demonyms(gazetteer):
    assert gazetteer.demonym("Israeli") == "IL"
    assert gazetteer.demonym("Russians") == "RU"
    assert gazetteer.demonym("French") == "FR"


def test_unknown_name(gazetteer):
    assert gazetteer.lookup("Qwxzzy Flarbington") == []
    assert gazetteer.get("gn:does-not-exist") is None


@pytest.mark.parametrize(
    ("name", "cc"),
    [
        ("Zhejiang", "CN"),  # "Zhejiang Sheng" in the source
        ("Guangxi", "CN"),  # "Guangxi Zhuangzu Zizhiqu"
        ("Newfoundland", "CA"),  # "Newfoundland and Labrador"
        ("ACT", "AU"),
    ],
)
def test_admin1_short_names(gazetteer, name, cc):
    assert any(e.id.startswith("a1:") and e.country_code == cc for e in gazetteer.lookup(name))


def test_small_towns_down_to_500_people(gazetteer):
    # Churchill, Manitoba (about 900 people, polar bears) is in GeoNames' cities500 only
    hits = [e for e in gazetteer.lookup("Churchill") if e.country_code == "CA"]
    assert hits and hits[0].kind == "city" and 500 <= hits[0].population < 1000
    assert abs(hits[0].lat - 58.8) < 0.5


def test_province_point_ignores_a_few_misfiled_towns(gazetteer):
    # GeoNames files two Sichuan towns (near 100 E) under Jiangsu (116-122 E)
    js = next(e for e in gazetteer.lookup("Jiangsu") if e.id.startswith("a1:CN"))
    assert 117 < js.lon < 121 and 31 < js.lat < 35
    assert js.bbox is not None and js.bbox[1] < 101  # the extent still holds every town


def test_large_province_point_is_its_middle_not_its_towns(gazetteer):
    on = next(e for e in gazetteer.lookup("Ontario") if e.id.startswith("a1:CA"))
    assert 48 < on.lat < 53  # the towns crowd the southern edge, near 44-45 N


def test_curated_union_and_landmarks(gazetteer):
    assert "cur:european-union" in {e.id for e in gazetteer.lookup("EU")}
    assert any(e.kind == "feature" and e.country_code == "GB" for e in gazetteer.lookup("Heathrow"))
