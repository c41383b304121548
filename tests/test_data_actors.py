"""Validate geonews/data/actors.jsonl, the curated knowledge base of actors."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pycountry
import pytest

ACTORS = Path(__file__).resolve().parent.parent / "geonews" / "data" / "actors.jsonl"

KEYS = {"id", "name", "type", "label", "aliases", "country", "wikidata"}
LABELS = {"PERSON", "ORG", "NORP", "GPE", "FAC", "EVENT", "LOC"}
PERSON_TYPES = {
    "head_of_state",
    "head_of_government",
    "minister",
    "politician",
    "military",
    "royal",
    "religious_leader",
    "business",
    "activist",
    "person",
}
ORG_TYPES = {
    "party",
    "armed_group",
    "international_org",
    "ministry",
    "agency",
    "government_body",
    "legislature",
    "court",
    "military_force",
    "media",
    "company",
    "ngo",
    "alliance",
}
TYPES = PERSON_TYPES | ORG_TYPES | {"event"}
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
QID_RE = re.compile(r"^Q[0-9]+$")

# Aliases a person must never get: country/city names and everyday words.
FORBIDDEN_PERSON_ALIASES = {
    "jordan",
    "chad",
    "georgia",
    "israel",
    "paris",
    "washington",
    "may",
    "will",
    "king",
    "francis",
}


def _load() -> list[dict]:
    rows = []
    with ACTORS.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:  # pragma: no cover - reported below
                pytest.fail(f"line {number} is not valid JSON: {exc}")
    return rows


ROWS = _load()
BY_ID = {row["id"]: row for row in ROWS}


def test_enough_entries():
    assert len(ROWS) >= 500


def test_ids_unique():
    dupes = [i for i, n in Counter(row["id"] for row in ROWS).items() if n > 1]
    assert not dupes


def _row_errors(row: dict) -> list[str]:
    """Everything wrong with one entry, as readable messages."""
    if set(row) != KEYS:
        return [f"keys {sorted(set(row) ^ KEYS)}"]
    errors = []
    if not isinstance(row["id"], str) or not ID_RE.match(row["id"]):
        errors.append(f"bad id {row['id']!r}")
    if not isinstance(row["name"], str) or not row["name"] or row["name"] != row["name"].strip():
        errors.append(f"bad name {row['name']!r}")
    if row["type"] not in TYPES:
        errors.append(f"bad type {row['type']!r}")
    if row["label"] not in LABELS:
        errors.append(f"bad label {row['label']!r}")
    elif row["type"] in PERSON_TYPES and row["label"] != "PERSON":
        errors.append(f"type {row['type']} needs label PERSON")
    elif row["type"] in ORG_TYPES and row["label"] != "ORG":
        errors.append(f"type {row['type']} needs label ORG")
    aliases = row["aliases"]
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
        errors.append(f"bad aliases {aliases!r}")
    else:
        errors += [f"alias {a!r} has spaces around it" for a in aliases if a != a.strip()]
        errors += [
            f"alias {a!r} starts with 'the'" for a in aliases if a.lower().startswith("the ")
        ]
    cc = row["country"]
    if not (cc is None or cc == "XK" or pycountry.countries.get(alpha_2=cc) is not None):
        errors.append(f"bad country {cc!r}")
    qid = row["wikidata"]
    if not (qid is None or (isinstance(qid, str) and QID_RE.match(qid))):
        errors.append(f"bad wikidata {qid!r}")
    return errors


GOOD = {
    "id": "vladimir-putin",
    "name": "Vladimir Putin",
    "type": "head_of_state",
    "label": "PERSON",
    "aliases": ["Putin"],
    "country": "RU",
    "wikidata": "Q7747",
}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, None),
        ({"country": None, "wikidata": None, "aliases": []}, None),
        ({"country": "XK"}, None),
        ({"id": "Vladimir Putin"}, "bad id"),
        ({"type": "tsar"}, "bad type"),
        ({"label": "PER"}, "bad label"),
        ({"label": "ORG"}, "needs label PERSON"),
        ({"type": "party"}, "needs label ORG"),
        ({"aliases": "Putin"}, "bad aliases"),
        ({"aliases": ["the Kremlin"]}, "starts with 'the'"),
        ({"aliases": [" Putin"]}, "spaces around"),
        ({"country": "RUS"}, "bad country"),
        ({"country": "ZZ"}, "bad country"),
        ({"wikidata": "7747"}, "bad wikidata"),
        ({"wikidata": "Q7747x"}, "bad wikidata"),
    ],
)
def test_row_errors(change, expected):
    errors = _row_errors({**GOOD, **change})
    if expected is None:
        assert errors == []
    else:
        assert any(expected in e for e in errors), errors


def test_every_row_is_valid():
    bad = {row.get("id", "?"): errs for row in ROWS if (errs := _row_errors(row))}
    assert not bad


def _fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form, as the entity linker compares names."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"[^\w\s-]", "", text.replace("\u2019", "'"))
    return re.sub(r"[\s-]+", " ", text).strip()


@pytest.mark.parametrize(
    ("a", "b"),
    [("Erdoğan", "erdogan"), ("OPEC+", "OPEC"), ("Ben-Gvir", "Ben Gvir"), ("U.S.", "US")],
)
def test_fold(a, b):
    assert _fold(a) == _fold(b)


def test_no_surface_form_shared_between_entries():
    """A name or alias (folded) belongs to one entry only."""
    owners: dict[str, set[str]] = {}
    for row in ROWS:
        for form in (row["name"], *row["aliases"]):
            owners.setdefault(_fold(form), set()).add(row["id"])
    shared = {form: ids for form, ids in owners.items() if len(ids) > 1}
    assert not shared


def test_wikidata_ids_unique():
    qids = Counter(row["wikidata"] for row in ROWS if row["wikidata"])
    assert not [q for q, n in qids.items() if n > 1]


def test_person_aliases_are_not_places_or_common_words():
    countries = {c.name.lower() for c in pycountry.countries}
    bad = [
        (row["id"], alias)
        for row in ROWS
        if row["label"] == "PERSON"
        for alias in row["aliases"]
        if alias.lower() in FORBIDDEN_PERSON_ALIASES | countries
    ]
    assert not bad


@pytest.mark.parametrize(
    ("actor_id", "label", "type_", "country", "aliases"),
    [
        ("vladimir-putin", "PERSON", "head_of_state", "RU", {"Putin"}),
        ("benjamin-netanyahu", "PERSON", None, "IL", {"Netanyahu"}),
        ("donald-trump", "PERSON", "head_of_state", "US", {"Trump"}),
        ("joe-biden", "PERSON", "head_of_state", "US", {"Biden"}),
        ("sergei-shoigu", "PERSON", None, "RU", {"Shoigu"}),
        ("sergei-lavrov", "PERSON", "minister", "RU", {"Lavrov"}),
        ("bashar-al-assad", "PERSON", "head_of_state", "SY", {"Bashar Assad", "Assad"}),
        ("avigdor-lieberman", "PERSON", None, "IL", {"Lieberman"}),
        ("volodymyr-zelensky", "PERSON", "head_of_state", "UA", {"Zelenskyy", "Zelensky"}),
        ("muammar-gaddafi", "PERSON", "head_of_state", "LY", {"Gaddafi", "Qaddafi"}),
        ("recep-tayyip-erdogan", "PERSON", "head_of_state", "TR", {"Erdogan", "Erdoğan"}),
        ("hassan-nasrallah", "PERSON", None, "LB", {"Nasrallah"}),
        ("yisrael-beitenu", "ORG", "party", "IL", set()),
        ("likud", "ORG", "party", "IL", set()),
        ("hezbollah", "ORG", "armed_group", "LB", set()),
        ("hamas", "ORG", "armed_group", "PS", set()),
        ("houthis", "ORG", "armed_group", "YE", {"Ansar Allah"}),
        ("islamic-state", "ORG", "armed_group", None, {"ISIS", "ISIL", "Daesh"}),
        ("wagner-group", "ORG", "armed_group", "RU", {"Wagner"}),
        ("kremlin", "ORG", None, "RU", set()),
        ("united-nations", "ORG", "international_org", None, {"UN"}),
        ("nato", "ORG", None, None, set()),
        ("european-union", "ORG", "international_org", None, {"EU"}),
        ("irgc", "ORG", "military_force", "IR", {"IRGC"}),
        ("israel-defense-forces", "ORG", "military_force", "IL", {"IDF"}),
        ("tass", "ORG", "media", "RU", set()),
        ("reuters", "ORG", "media", "GB", set()),
    ],
)
def test_required_entries(actor_id, label, type_, country, aliases):
    row = BY_ID.get(actor_id)
    assert row is not None, f"missing {actor_id}"
    assert row["label"] == label
    if type_ is not None:
        assert row["type"] == type_
    assert row["country"] == country
    assert aliases <= set(row["aliases"])


@pytest.mark.parametrize(
    ("actor_id", "qid"),
    [
        ("vladimir-putin", "Q7747"),
        ("donald-trump", "Q22686"),
        ("benjamin-netanyahu", "Q43723"),
        ("united-nations", "Q1065"),
        ("nato", "Q7184"),
    ],
)
def test_known_wikidata_ids(actor_id, qid):
    assert BY_ID[actor_id]["wikidata"] == qid


def test_loads_into_entity_ruler():
    """Every name and alias becomes a phrase pattern of a blank pipeline."""
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [
            {"label": row["label"], "pattern": form, "id": row["id"]}
            for row in ROWS
            for form in (row["name"], *row["aliases"])
        ]
    )
    doc = nlp("Putin met Bashar Assad in the Kremlin while Hezbollah and the UN watched.")
    found = {(ent.text, ent.label_, ent.ent_id_) for ent in doc.ents}
    assert found == {
        ("Putin", "PERSON", "vladimir-putin"),
        ("Bashar Assad", "PERSON", "bashar-al-assad"),
        ("Kremlin", "ORG", "kremlin"),
        ("Hezbollah", "ORG", "hezbollah"),
        ("UN", "ORG", "united-nations"),
    }
