import datetime as dt

import pytest

from geonews.filters import Filters, from_query_params

FULL = Filters(
    entities=("Vladimir Putin", "Hezbollah"),
    types=("PERSON", "ORG"),
    places=("gn:491422",),
    countries=("RU", "IL"),
    date_from=dt.date(2024, 6, 1),
    date_to=dt.date(2024, 12, 31),
    sources=("Meridian Wire",),
    text="ceasefire",
)


@pytest.mark.parametrize("filters", [Filters(), FULL, Filters(countries=("PS",))])
def test_round_trip_through_query_params(filters):
    assert from_query_params(filters.to_query_params()) == filters


@pytest.mark.parametrize(
    ("params", "expected", "note"),
    [
        ({"from": "yesterday"}, Filters(), "not a date"),
        ({"type": "PERSON,WIZARD"}, Filters(types=("PERSON",)), "WIZARD"),
        ({"country": "Russia"}, Filters(), "two-letter"),
        ({"country": "ru"}, Filters(countries=("RU",)), None),
        ({"zoom": "3"}, Filters(), "unknown parameter"),
        (
            {"from": "2025-01-01", "to": "2024-01-01"},
            Filters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2025, 1, 1)),
            "swapped",
        ),
        (
            {"entity": ["Putin", "Putin,  Xi Jinping "]},
            Filters(entities=("Putin", "Xi Jinping")),
            None,
        ),
    ],
)
def test_bad_parameters_are_ignored_with_a_note(params, expected, note):
    got = from_query_params(params)
    assert got == expected
    if note:
        assert any(note in n for n in got.notes)
    else:
        assert not got.notes


def test_hostile_parameters_are_bounded():
    got = from_query_params({"entity": ",".join(f"e{i}" for i in range(500)), "q": "x" * 10_000})
    assert len(got.entities) == 50
    assert len(got.text) == 200


def test_cleared_and_empty():
    assert FULL.cleared("text").text == ""
    assert not FULL.is_empty
    assert Filters().is_empty
