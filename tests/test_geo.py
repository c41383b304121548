"""The geoparser: recognition guards, context-driven resolution, the seed article."""

from __future__ import annotations

import datetime as dt
import math
import time

import pytest

from geonews import geo, nlp, pipeline
from geonews.models import Article, Mention


def _km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def _places(text, nlp_model, gazetteer, **kw):
    doc = nlp_model(text)
    return geo.geoparse(doc, nlp.extract_mentions(doc), gazetteer=gazetteer, **kw)


def _find(places, surface):
    for p in places:
        if any(m.text == surface for m in p.mentions):
            return p
    return None


@pytest.mark.parametrize(
    ("text", "surface", "cc"),
    [
        ("Protesters gathered in Tripoli, Lebanon, on Friday.", "Tripoli", "LB"),
        ("Militias fought near Tripoli as Libya's government met in Tunis.", "Tripoli", "LY"),
        ("The governor of Georgia met voters in Atlanta and Savannah.", "Georgia", "US"),
        ("Russia and Georgia fought over South Ossetia; Tbilisi protested.", "Georgia", "GE"),
        ("Officials in the U.S. said talks would resume.", "U.S.", "US"),
        ("The storm hit Springfield, Ill., overnight.", "Springfield", "US"),
    ],
)
def test_context_resolution(nlp_model, gazetteer, text, surface, cc):
    p = _find(_places(text, nlp_model, gazetteer), surface)
    assert p is not None, f"{surface} not recognised in {text!r}"
    assert p.country_code == cc, p.reason


def test_springfield_illinois_state(nlp_model, gazetteer):
    p = _find(
        _places("The storm hit Springfield, Ill., overnight.", nlp_model, gazetteer), "Springfield"
    )
    assert p is not None and _km(p.lat, p.lon, 39.80, -89.64) < 60


def test_one_place_per_location_with_all_mentions(nlp_model, gazetteer):
    text = "Putin flew to Sochi on Monday. Officials in Sochi said talks went well."
    doc = nlp_model(text)
    mentions = [
        Mention("Sochi", "GPE", i, i + 5, "Sochi") for i in (14, 44)
    ]  # both spans given as places: the model's own tagging of this sentence varies
    places = geo.geoparse(doc, mentions, gazetteer=gazetteer)
    sochi = [p for p in places if p.name == "Sochi"]
    assert len(sochi) == 1 and len(sochi[0].mentions) == 2
    assert sochi[0].reason and 0 < sochi[0].confidence <= 1


def test_explain_lists_scored_candidates(nlp_model, gazetteer):
    places = _places("Moscow condemned the plan.", nlp_model, gazetteer, explain=True)
    moscow = _find(places, "Moscow")
    assert moscow.candidates and moscow.candidates[0].id == moscow.id
    assert moscow.candidates[0].score >= moscow.candidates[-1].score


def test_person_named_like_a_place_is_not_a_place(nlp_model, gazetteer):
    places = _places("Chad Johnson scored twice for the visitors.", nlp_model, gazetteer)
    assert not any(p.country_code == "TD" for p in places)


def test_seed_article(seed_text, nlp_model, gazetteer):
    article = Article(seed_text, published=dt.date(2019, 9, 12))
    a = pipeline.analyze(article, nlp_model=nlp_model, gazetteer=gazetteer)
    by_name = {m.text: p for p in a.places for m in p.mentions}
    sochi = by_name["Sochi"]
    assert _km(sochi.lat, sochi.lon, 43.59, 39.72) < 60
    for name, cc in [
        ("West Bank", "PS"),
        ("Moscow", "RU"),
        ("Russia", "RU"),
        ("Israel", "IL"),
        ("Syria", "SY"),
        ("Iran", "IR"),
    ]:
        assert by_name[name].country_code == cc, (name, by_name[name].reason)
    # no "Jordan" carved out of "Jordan Valley"
    assert not any(p.id == "cc:JO" for p in a.places)
    assert not any(m.text == "Jordan" for p in a.places for m in p.mentions)


def test_seed_jordan_valley(seed_text, nlp_model, gazetteer):
    if not any(e.id.startswith("cur:") for e in gazetteer.lookup("Jordan Valley")):
        pytest.skip("regions.csv has no Jordan Valley row yet")
    a = pipeline.analyze(Article(seed_text), nlp_model=nlp_model, gazetteer=gazetteer)
    jv = [p for p in a.places if any(m.text.endswith("Jordan Valley") for m in p.mentions)]
    assert jv and _km(jv[0].lat, jv[0].lon, 32.1, 35.55) < 80


def test_resolution_is_fast(nlp_model, gazetteer):
    doc = nlp_model("Moscow, Paris, Tripoli and Georgia were named, as was Springfield. " * 20)
    mentions = nlp.extract_mentions(doc)
    geo.geoparse(doc, mentions, gazetteer=gazetteer)  # warm the per-name cache
    t = time.perf_counter()
    for _ in range(5):
        geo.geoparse(doc, mentions, gazetteer=gazetteer, recognize=False)
    rate = 5 * len(mentions) / (time.perf_counter() - t)
    assert rate > 5_000


@pytest.mark.parametrize(
    ("text", "surface", "lat", "lon"),
    [
        # a world capital keeps its prior against a namesake in a mentioned country
        (
            "Britain's envoy flew to Washington for talks with the president.",
            "Washington",
            38.9,
            -77.0,
        ),
        # "Minnesota" is the state, not Minneota (a town that has it as an alternate name)
        ("Farmers in Minnesota and Iowa lost their crops.", "Minnesota", 46.0, -94.0),
        # a demonym given as a place name is its country, not a small town called "Canadian"
        ("The Canadian government said the border would stay open.", "Canadian", 60.1, -113.6),
    ],
)
def test_prominence_and_names(nlp_model, gazetteer, text, surface, lat, lon):
    doc = nlp_model(text)
    start = text.index(surface)
    mentions = [Mention(surface, "GPE", start, start + len(surface), surface, 0)]
    places = geo.geoparse(doc, mentions, gazetteer=gazetteer, recognize=False)
    p = _find(places, surface)
    assert p is not None and p.lat is not None, places
    assert _km(p.lat, p.lon, lat, lon) < 600, p.reason


def test_building_missing_from_gazetteer_is_placed_in_its_town(nlp_model, gazetteer):
    text = (
        "Fire crews in Louisville battled a blaze on Monday. The fire started near "
        "Churchill Downs and spread to Louisville homes."
    )
    doc = nlp_model(text)
    mentions = [
        Mention("Louisville", "GPE", m, m + 10, "Louisville", 0)
        for m in (text.index("Louisville"), text.rindex("Louisville"))
    ]
    s = text.index("Churchill Downs")
    mentions.append(Mention("Churchill Downs", "FAC", s, s + 15, "Churchill Downs", 1))
    mentions.append(Mention("Churchill Downs", "GPE", s, s + 15, "Churchill Downs", 1))
    places = geo.geoparse(doc, sorted(mentions, key=lambda m: m.start), gazetteer=gazetteer)
    downs = _find(places, "Churchill Downs")
    assert downs is not None and downs.lat is not None
    assert _km(downs.lat, downs.lon, 38.25, -85.76) < 50
    assert downs.confidence < 0.5 and "main locality" in downs.reason
    # one span, one place: the same words are not reported twice
    spans = [(m.start, m.end) for p in places for m in p.mentions]
    assert len(spans) == len(set(spans))


def test_name_inside_a_longer_name(nlp_model, gazetteer):
    text = "Worshippers gathered at Manila Cathedral on Sunday."
    doc = nlp_model(text)
    s = text.index("Manila Cathedral")
    mentions = [Mention("Manila Cathedral", "FAC", s, s + 16, "Manila Cathedral", 0)]
    mentions[0] = Mention("Manila Cathedral", "GPE", s, s + 16, "Manila Cathedral", 0)
    p = _find(geo.geoparse(doc, mentions, gazetteer=gazetteer), "Manila Cathedral")
    assert p is not None and p.country_code == "PH" and p.confidence <= 0.5


def test_place_tagged_as_person_or_org_is_recognised(nlp_model, gazetteer):
    text = "Floods hit Tamil Nadu again. The EU sent aid."
    doc = nlp_model(text)
    t, e = text.index("Tamil Nadu"), text.index("EU")
    mentions = [
        Mention("Tamil Nadu", "PERSON", t, t + 10, "Tamil Nadu", 0),
        Mention("EU", "ORG", e, e + 2, "European Union", 1),
    ]
    places = geo.geoparse(doc, mentions, gazetteer=gazetteer)
    tn, eu = _find(places, "Tamil Nadu"), _find(places, "EU")
    assert tn is not None and tn.country_code == "IN"
    assert eu is not None and eu.kind == "region" and _km(eu.lat, eu.lon, 50, 10) < 500
    # a person whose surname is a town stays a person
    doc = nlp_model("Joe Kent spoke. Kent said no.")
    ments = [Mention("Kent", "PERSON", 16, 20, "Joe Kent", 1)]
    assert geo.geoparse(doc, ments, gazetteer=gazetteer) == []


def _given(text, surfaces, nlp_model, gazetteer, label="GPE"):
    """Geoparse with the given surfaces as mentions of ``label`` (recognition aside)."""
    doc = nlp_model(text)
    mentions = [m for m in nlp.extract_mentions(doc) if m.text not in surfaces]
    for s in surfaces:
        i = text.index(s)
        mentions.append(Mention(s, label, i, i + len(s), s, 0))
    mentions.sort(key=lambda m: m.start)
    return geo.geoparse(doc, mentions, gazetteer=gazetteer)


@pytest.mark.parametrize(
    ("text", "surface", "lat", "lon"),
    [
        # a district near the other places named wins over the famous namesake
        ("Volunteers from Edmonton, Tottenham and Enfield cleaned the park.", "Edmonton", 51.6, 0),
        (
            "Police in London and St. Thomas said the suspect was seen near Woodstock and "
            "Strathroy.",
            "London",
            42.98,
            -81.23,
        ),
    ],
)
def test_local_places_outweigh_a_famous_namesake(nlp_model, gazetteer, text, surface, lat, lon):
    p = _find(_places(text, nlp_model, gazetteer), surface)
    assert p is not None and _km(p.lat, p.lon, lat, lon) < 60, p and p.reason


def test_world_region_is_not_a_small_namesake_near_other_places(nlp_model, gazetteer):
    text = "Officials in Washington and Baltimore said the Middle East talks would resume."
    p = _find(_given(text, ["Middle East"], nlp_model, gazetteer, "LOC"), "Middle East")
    assert p is not None and p.kind == "region" and p.country_code is None


def test_state_outranks_a_town_that_bore_its_name(nlp_model, gazetteer):
    text = "Lakes Edge, a Delaware limited liability company, bought flats in Richmond, Virginia."
    p = _find(_given(text, ["Delaware"], nlp_model, gazetteer), "Delaware")
    assert p is not None and p.kind == "admin" and _km(p.lat, p.lon, 39.0, -75.5) < 100


def test_name_after_the_comma_that_is_a_country_and_a_state(nlp_model, gazetteer):
    text = "Fans flew in from Indianapolis, Indiana, and Atlanta, Georgia, for the final."
    places = _given(text, ["Indianapolis", "Indiana", "Atlanta", "Georgia"], nlp_model, gazetteer)
    atlanta, georgia = _find(places, "Atlanta"), _find(places, "Georgia")
    assert atlanta is not None and _km(atlanta.lat, atlanta.lon, 33.75, -84.39) < 30
    assert georgia is not None and georgia.country_code == "US" and georgia.kind == "admin"


def test_unknown_town_given_its_state_is_placed_in_that_state(nlp_model, gazetteer):
    # the gazetteer has no Holliday in Missouri, only namesakes in other states; the
    # name repeated without its state means the same town
    text = "The fire started near Holliday, Mo., on Sunday. Volunteers from Holliday helped."
    places = _given(text, ["Holliday"], nlp_model, gazetteer)
    p = _find(places, "Holliday")
    assert p is not None and p.country_code == "US" and p.id is None
    assert _km(p.lat, p.lon, 38.5, -92.5) < 100, p.reason  # Missouri, approximately
    assert p.confidence <= 0.5 and "Missouri" in p.reason


def test_famous_city_given_an_abbreviated_state(nlp_model, gazetteer):
    text = "A tornado touched down outside Cairo, Mont., late on Tuesday."
    p = _find(_given(text, ["Cairo"], nlp_model, gazetteer), "Cairo")
    assert p is not None and p.country_code == "US", p and p.reason


def test_county_does_not_vouch_for_its_own_state(nlp_model, gazetteer):
    # Plymouth County, Massachusetts is the more populous; Iowa, named here, holds the other
    text = (
        "Flooding closed roads across Plymouth County on Monday, and towns in northwest Iowa "
        "braced for more rain. Plymouth County officials opened two shelters."
    )
    p = _find(_given(text, ["Plymouth County", "Iowa"], nlp_model, gazetteer), "Plymouth County")
    assert p is not None and _km(p.lat, p.lon, 42.74, -96.22) < 60, p and p.reason


def test_short_capitals_are_an_abbreviation_not_a_town(nlp_model, gazetteer):
    text = "Bushfires spread across WA on Monday, officials said."
    p = _find(_given(text, ["WA"], nlp_model, gazetteer), "WA")
    assert p is None or p.country_code != "GH"  # not the town of Wa, Ghana


def test_nation_and_region_adjectives(nlp_model, gazetteer):
    text = "English fans, Welsh officials and Central American diplomats watched."
    places = _given(text, ["English", "Welsh", "Central American"], nlp_model, gazetteer, "NORP")
    england, wales = _find(places, "English"), _find(places, "Welsh")
    assert england is not None and england.name == "England"
    assert wales is not None and wales.name == "Wales"
    ca = _find(places, "Central American")
    assert ca is not None and ca.kind == "region" and _km(ca.lat, ca.lon, 13, -86) < 1000
    assert geo._demonym_place(gazetteer, "Israeli") == "cc:IL"
    assert geo._demonym_place(gazetteer, "Republican") is None


def test_confidence_is_calibrated_monotone():
    raws = [i / 100 for i in range(101)]
    cal = [geo.calibrate(r) for r in raws]
    assert all(0 <= c <= 1 for c in cal) and cal == sorted(cal)
    assert geo.calibrate(0.99, "region") <= geo.WIDE_CAP < geo.calibrate(0.99, "city")
