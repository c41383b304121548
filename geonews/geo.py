"""Geo stage: recognise place names in an article and resolve them with the offline gazetteer.

Recognition: spaCy GPE/LOC mentions (FAC when the gazetteer knows a feature of that name),
plus a gazetteer matcher over capitalised runs the model missed, with guards against
sub-spans of longer names, people, organisations and ordinary capitalised words.

Resolution: every candidate gets a score from its prominence (kind, population, capital),
how the name matched (main or alternate name) and the article's context (countries named
or implied by demonyms, "X, Y" and "X in Y" patterns, admin-1 coherence, distance to the
other places). The best candidate wins when it is clearly ahead; otherwise the place is
kept without coordinates (abstention). One Place per distinct location.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from geonews import gazetteer as gz
from geonews.gazetteer import GazEntry, Gazetteer, normalize
from geonews.models import Candidate, Mention, Place, Span, doc_text, word_table

PLACE_LABELS = frozenset({"GPE", "LOC"})
BLOCK_LABELS = frozenset({"PERSON", "ORG", "NORP", "WORK_OF_ART", "PRODUCT", "EVENT", "LAW"})
MAX_CANDIDATES = 25
TOP_K = 5

# Words that end a longer geographic name: "Jordan Valley" is not "Jordan".
GENERIC_TAILS = frozenset(
    "valley river basin mountains mountain mount heights hills hill strip sea gulf bay lake "
    "island islands peninsula desert plateau plain plains coast canal straits strait county "
    "province region district city street avenue road square airport station bridge park "
    "university college school hospital church mosque temple cathedral palace tower stadium "
    "forest delta falls beach harbour harbor port club fc party times post herald journal "
    "news tribune council court house senate ministry army police bank".split()
)
# Words that may be dropped from a name: "the Sochi region" is Sochi.
ADMIN_WORDS = frozenset("region province district city county state governorate oblast".split())
# Capitalised words that open a sentence or a title but are no places.
_TITLES = frozenset(
    "mr mrs ms dr president prime minister king queen prince princess general gen sen "
    "senator rep governor gov mayor judge pope saint sheikh lord lady sir".split()
)

# AP-style US state abbreviations used in datelines and "City, St." patterns.
US_STATE_ABBR = {
    "ala": "AL", "ariz": "AZ", "ark": "AR", "calif": "CA", "cal": "CA", "colo": "CO",
    "conn": "CT", "del": "DE", "fla": "FL", "ga": "GA", "ill": "IL", "ind": "IN", "kan": "KS",
    "kans": "KS", "ky": "KY", "la": "LA", "md": "MD", "mass": "MA", "mich": "MI", "minn": "MN",
    "miss": "MS", "mo": "MO", "mont": "MT", "neb": "NE", "nebr": "NE", "nev": "NV",
    "nh": "NH", "nj": "NJ", "nm": "NM", "ny": "NY", "nc": "NC", "nd": "ND", "okla": "OK",
    "ore": "OR", "pa": "PA", "ri": "RI", "sc": "SC", "sd": "SD", "tenn": "TN", "tex": "TX",
    "vt": "VT", "va": "VA", "wash": "WA", "wva": "WV", "wis": "WI", "wyo": "WY", "dc": "DC",
}  # fmt: skip

KIND_PRIOR = {
    "country": 8.5,
    "continent": 8.0,
    "water": 6.5,
    "region": 6.8,
    "historical": 5.0,
    "feature": 6.0,
    "admin": -0.5,  # its population is the sum of its towns: "New York" is the city
    "city": 0.0,
}


@functools.lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """The offline gazetteer, built on first use and cached for the process."""
    return gz.load()


# --------------------------------------------------------------------------- recognition


@dataclass
class _Toponym:
    start: int
    end: int
    text: str
    key: str
    label: str
    sentence: int = 0
    alt: str | None = None  # canonical entity name to try when the text finds nothing
    fixed: str | None = None  # gazetteer id a demonym stands for


@dataclass
class _Resolved:
    entry: GazEntry | None
    confidence: float
    reason: str
    candidates: list[Candidate] = field(default_factory=list)
    approximate: bool = False  # the entry contains the place, it is not the place itself


_POSS = re.compile(r"(?:['\u2019]s?|\s+)$")
_LEAD = re.compile(r"^(?:the|The|THE)\s+")


def _clean_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim a leading "the", a trailing possessive and punctuation from a span."""
    s = text[start:end]
    m = _LEAD.match(s)
    if m:
        start += m.end()
    while end > start:
        s = text[start:end]
        m = _POSS.search(s)
        if m and m.start() > 0:
            end = start + m.start()
            continue
        if s[-1] in ",;:!?)\"'\u201d":
            end -= 1
            continue
        break
    while start < end and text[start] in "(\"'\u201c":
        start += 1
    return start, end


def _next_word(text: str, end: int) -> str:
    m = re.match(r"[ \t]+([A-Z][\w\-]*)", text[end : end + 40])
    return m.group(1) if m else ""


def _strong_place(e: GazEntry) -> bool:
    if e.kind == "city":
        return e.population >= 100_000
    if e.kind == "admin":
        return e.id.startswith("a1:")
    return e.kind == "country" or e.source.startswith("curated")


def _mislabelled(gaz: Gazetteer, text: str, m: Mention) -> bool:
    """A whole person/organisation span that is a prominent place name the knowledge base
    does not know as an actor: "Tamil Nadu" tagged PERSON, "EU" tagged ORG."""
    surface = text[m.start : m.end]
    if m.label not in ("PERSON", "ORG", "NORP", "PRODUCT") or not surface[:1].isupper():
        return False
    hits = [
        e
        for e in gaz.lookup(surface)[:MAX_CANDIDATES]
        if gaz.is_primary(e.id, surface) and _strong_place(e)
    ]
    if not hits:
        return False
    if m.entity and normalize(m.entity) != normalize(surface):
        # the entity resolved to something else: the same place, or an actor ("Joe Kent")
        ids = {e.id for e in hits}
        return any(e.id in ids for e in gaz.lookup(m.entity)[:3])
    if m.label == "PERSON" and " " not in surface and hits[0].kind == "city":
        return False  # a lone surname that is also a town
    return True


def _prominent(entries: list[GazEntry]) -> bool:
    """Some entry is more than a small town (which a demonym would outrank)."""
    return any(e.kind != "city" or e.population >= 100_000 for e in entries[:MAX_CANDIDATES])


def _usable(entries: list[GazEntry], *, strict: bool) -> bool:
    """Whether a name is worth proposing as a place the model missed."""
    for e in entries[:MAX_CANDIDATES]:
        if e.kind in ("country", "continent", "water", "region", "historical", "feature"):
            return True
        if e.kind == "admin" and e.id.startswith("a1:"):
            return True
        if e.kind == "city" and e.population >= (100_000 if strict else 15_000):
            return True
    return False


def _recognise(doc, mentions: list[Mention], gaz: Gazetteer, *, match: bool) -> list[_Toponym]:
    text = doc_text(doc)
    out: list[_Toponym] = []
    covered = bytearray(len(text) + 1)
    for m in mentions:
        if m.label in PLACE_LABELS or m.label == "FAC":
            s, e = _clean_span(text, m.start, m.end)
            if e <= s:
                continue
            surface = text[s:e]
            key = normalize(surface)
            if not key:
                continue
            if m.label == "FAC":
                hits = gaz.lookup(surface)
                if not any(h.kind in ("water", "feature", "region") for h in hits):
                    continue
            tail = _next_word(text, e)
            if tail and tail.lower() in GENERIC_TAILS:
                longer = f"{surface} {tail}"
                if gaz.lookup(longer):
                    e = e + text[e:].index(tail) + len(tail)
                    surface, key = text[s:e], normalize(longer)
                else:
                    continue  # "Jordan" of "Jordan Valley": not the country
            alt = m.entity if m.entity and normalize(m.entity) != key else None
            fixed = None
            hits = gaz.lookup(surface)
            if not _prominent(hits) and (not alt or not _prominent(gaz.lookup(alt))):
                fixed = _demonym_place(gaz, surface)  # "Canadian" tagged as a place
            out.append(_Toponym(s, e, surface, fixed or key, m.label, m.sentence, alt, fixed))
            covered[m.start : m.end] = b"\x01" * (m.end - m.start)
        elif m.label == "NORP" and (fixed := _demonym_place(gaz, m.text)):
            s, e = _clean_span(text, m.start, m.end)
            out.append(_Toponym(s, e, text[s:e], fixed, "NORP", m.sentence, fixed=fixed))
            covered[m.start : m.end] = b"\x01" * (m.end - m.start)
        elif match and m.label in BLOCK_LABELS and _mislabelled(gaz, text, m):
            s, e = _clean_span(text, m.start, m.end)
            out.append(_Toponym(s, e, text[s:e], normalize(text[s:e]), "RESCUE", m.sentence))
            covered[m.start : m.end] = b"\x01" * (m.end - m.start)
        elif m.label in BLOCK_LABELS:
            covered[m.start : m.end] = b"\x01" * (m.end - m.start)
    if match:
        out.extend(_match_missed(doc, gaz, covered, mentions))
    return _dedupe(out)


def _dedupe(tops: list[_Toponym]) -> list[_Toponym]:
    """One toponym per stretch of text: a GPE/LOC span wins over a demonym on the same words."""
    rank = {"GPE": 0, "LOC": 0, "FAC": 1, "MATCH": 2, "NORP": 3}
    kept: list[_Toponym] = []
    for t in sorted(tops, key=lambda t: (t.start, rank.get(t.label, 2))):
        if kept and t.start < kept[-1].end:
            if rank.get(t.label, 2) < rank.get(kept[-1].label, 2):
                kept[-1] = t
            continue
        kept.append(t)
    return kept


CONTINENT_DEMONYMS = {
    "european": "ct:EU",
    "african": "ct:AF",
    "asian": "ct:AS",
    "north american": "ct:NA",
    "south american": "ct:SA",
}


# Demonyms of the nations inside a state: "English" football is England's, not the UK's.
NATION_DEMONYMS = {
    "english": "England",
    "scottish": "Scotland",
    "scots": "Scotland",
    "welsh": "Wales",
    "northern irish": "Northern Ireland",
}
# How a region's adjective is formed from its name: "Central American" <- "Central America",
# "Eastern European" <- "Eastern Europe", "Middle Eastern" <- "Middle East".
_REGION_ADJ = (("ean", "e"), ("an", "a"), ("ern", ""))


def _demonym_place(gaz: Gazetteer, text: str) -> str | None:
    """Gazetteer id of the country (or continent, nation, region) a demonym names:
    "Israeli" -> "cc:IL", "Welsh" -> Wales, "Latin American" -> Latin America."""
    k = normalize(text)
    if k in CONTINENT_DEMONYMS or k.rstrip("s") in CONTINENT_DEMONYMS:
        return CONTINENT_DEMONYMS.get(k) or CONTINENT_DEMONYMS[k.rstrip("s")]
    return _adjective_place(gaz, k)


@functools.lru_cache(maxsize=4096)
def _adjective_place(gaz: Gazetteer, k: str) -> str | None:
    if k in NATION_DEMONYMS:
        for e in gaz.lookup(NATION_DEMONYMS[k]):
            if e.kind in ("admin", "country"):
                return e.id
    cc = gaz.demonym(k)
    if cc and gaz.country(cc):
        return f"cc:{cc}"
    for suffix, repl in _REGION_ADJ:  # the adjective of a curated region
        if k.endswith(suffix):
            name = k[: len(k) - len(suffix)] + repl
            for e in gaz.lookup(name):
                if e.kind in ("region", "continent") and gaz.is_primary(e.id, name):
                    return e.id
    return None


def _sentence_of(mentions: list[Mention], pos: int) -> int:
    best = 0
    for m in mentions:
        if m.start <= pos:
            best = m.sentence
        else:
            break
    return best


_CONNECTORS = ("of", "de", "del", "al", "el")


def _word_kinds(doc, orths: list[int]) -> list[int]:
    """What each token is to a run of capitalised words (1 a capitalised word, 2 a
    connector, 0 else); worked out once per word."""
    kinds = word_table(doc.vocab, "runs")
    out = []
    for orth in orths:
        kind = kinds.get(orth)
        if kind is None:
            lex = doc.vocab[orth]
            t = lex.orth_
            if t[:1].isupper() and (lex.is_title or lex.is_upper or "." in t) and not lex.is_punct:
                kind = 1
            else:
                kind = 2 if t.lower() in _CONNECTORS else 0
            kinds[orth] = kind
        out.append(kind)
    return out


def _match_missed(doc, gaz: Gazetteer, covered: bytearray, mentions) -> list[_Toponym]:
    """Capitalised runs the model left untagged that name a prominent place."""
    if not len(doc):
        return []
    text = doc_text(doc)
    strings, vocab = doc.vocab.strings, doc.vocab
    # token columns and a per-word kind: no Token object per token
    orths, idx, sent_starts = doc.to_array(["ORTH", "IDX", "SENT_START"]).T.tolist()
    kinds = _word_kinds(doc, orths)
    out = []

    def flush(run: list[int], *, trim: bool = True) -> None:
        while trim and run and not strings[orths[run[-1]]][:1].isupper():
            run.pop()  # "Bank of": the connector goes
        if not run:
            return
        first = run[0]
        s, e = idx[first], idx[run[-1]] + len(strings[orths[run[-1]]])
        surface = text[s:e]
        if any(covered[s:e]):
            return
        prev = strings[orths[first - 1]] if first > 0 else None
        if prev is not None and prev.lower().rstrip(".") in _TITLES:
            return
        entries = gaz.lookup(surface)
        if not entries:
            return
        single = len(run) == 1
        sent_start = sent_starts[first] == 1 or (prev is not None and prev in "\"'\u201c(-\u2014:")
        if single and vocab[orths[first]].is_stop:  # a lone stop word: "May", "Will"
            return
        # a lone capitalised word opening a sentence may be an ordinary word
        strict = single and sent_start
        if single and len(surface) < 5 and not any(e.kind == "country" for e in entries):
            return
        if not _usable(entries, strict=strict):
            return
        if (
            surface.isupper()
            and len(surface) <= 3
            and not any(e.kind == "country" for e in entries)
        ):
            return
        out.append(_Toponym(s, e, surface, normalize(surface), "MATCH", 0))

    run: list[int] = []
    for i, kind in enumerate(kinds):
        if kind == 1:
            if run and sent_starts[i] == 1:
                flush(run, trim=False)
                run = []
            run.append(i)
        elif run and kind == 2 and len(run) < 3:
            run.append(i)
        elif run:
            flush(run)
            run = []
    flush(run)
    for t in out:
        t.sentence = _sentence_of(mentions, t.start)
    return out


# --------------------------------------------------------------------------- context

_AFTER_COMMA = re.compile(r"\s*,\s*((?:[A-Z][\w.'\-]*\.?)(?:\s+[A-Z][\w.'\-]*)?)")
_IN_BEFORE = re.compile(r"\b(?:in|of|near|outside|from)\s+$")


@dataclass
class _Context:
    countries: Counter = field(default_factory=Counter)
    admins: Counter = field(default_factory=Counter)  # (cc, admin1) named after a comma
    # (cc, admin1) -> names of the text confidently placed as that division or inside it
    admin_keys: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    anchors: list[tuple[str, float, float]] = field(default_factory=list)
    anchors_by_key: dict[str, tuple[float, float]] = field(default_factory=dict)
    anchor_areas: Counter = field(
        default_factory=Counter
    )  # (cc, admin1) of the confidently placed towns
    forced: dict[int, tuple[str, str | None]] = field(default_factory=dict)  # start -> (cc, a1)
    abbreviated: set[str] = field(default_factory=set)  # names given a state as "Mo.", "N.B."
    # other names' possible places on a 1-degree grid: cell -> [(key, lat, lon, weight)]
    grid: dict[tuple[int, int], list[tuple[str, float, float, float]]] = field(default_factory=dict)
    support_cache: dict[tuple[str, str], float] = field(default_factory=dict)


LOCAL_KM = 60.0  # "nearby": within this distance of a candidate
LOCAL_WEIGHT = 1.6  # score per nearby name
LOCAL_CAP = 3.0  # at most this many nearby names count


def _build_grid(ctx: _Context, cands_by_key: dict[str, list[tuple[GazEntry, bool]]]) -> None:
    """Index every town or division the other names of the article could be. A name with a
    single reading weighs 1; one with n readings weighs 1/n per reading."""
    grid: dict[tuple[int, int], list] = defaultdict(list)
    for key, cands in cands_by_key.items():
        local = [e for e, primary in cands if primary and e.kind in _LOCAL_KINDS]
        if not local or any(p and e.kind in _WORLD_KINDS for e, p in cands):
            continue
        w = 1.0 / len(local)
        for e in local:
            grid[(math.floor(e.lat), math.floor(e.lon))].append((key, e.lat, e.lon, w))
    ctx.grid = dict(grid)
    ctx.support_cache = {}


_LOCAL_KINDS = ("city", "admin")


def _in_state(e: GazEntry) -> bool:
    """A town or a county: what a mentioned state or province makes more likely."""
    return e.kind == "city" or e.id.startswith("a2:")


def _local(e: GazEntry) -> bool:
    """A town or a division: the candidates whose score the other places of the text move
    (nearby places, a named state; see ``_score``)."""
    return e.kind in _LOCAL_KINDS or _in_state(e)


_WORLD_KINDS = ("country", "continent", "region", "water", "historical")


def _support(ctx: _Context, e: GazEntry, key: str) -> float:
    """How many other names of the article can be within LOCAL_KM of this candidate (a
    confidently placed name counts 1 where it is, an ambiguous one by its share)."""
    ck = (e.id, key)
    hit = ctx.support_cache.get(ck)
    if hit is not None:
        return hit
    best: dict[str, float] = {}
    for k, (lat, lon) in ctx.anchors_by_key.items():
        if k != key and not _far(e.lat, lat, LOCAL_KM):
            if _haversine(e.lat, e.lon, lat, lon) <= LOCAL_KM:
                best[k] = 1.0
    la, lo = math.floor(e.lat), math.floor(e.lon)
    for i in (la - 1, la, la + 1):
        for j in (lo - 1, lo, lo + 1):
            for k, lat, lon, w in ctx.grid.get((i, j), ()):
                if k == key or k in ctx.anchors_by_key or best.get(k, 0.0) >= w:
                    continue
                if (
                    not _far(e.lat, lat, LOCAL_KM)
                    and _haversine(e.lat, e.lon, lat, lon) <= LOCAL_KM
                ):
                    best[k] = w
    out = sum(best.values())
    ctx.support_cache[ck] = out
    return out


def _state_named(ctx: _Context, area: tuple[str, str], key: str) -> bool:
    """Whether the division is named in the text by another name than ``key`` (a county
    does not vouch for its own state)."""
    return bool(ctx.admins.get(area)) or bool(ctx.admin_keys.get(area, set()) - {key})


def _state_abbreviation(name: str) -> bool:
    """An abbreviated state or province ("Mo.", "N.B."): a container, not a place of a list."""
    head = name.split()[0] if name.split() else ""
    return head.endswith(".") and len(normalize(head).replace(" ", "")) <= 5


def _container(
    gaz: Gazetteer, name: str, inner: str | None = None
) -> tuple[str, str | None] | None:
    """The (country, admin1) a name like "Fla." or "Texas" or "Lebanon" stands for. A name
    that is a country and a state ("Georgia") is the one holding a place called ``inner``:
    "Atlanta, Georgia" is the US state, "Tbilisi, Georgia" the country."""
    k = normalize(name)
    if k.replace(" ", "") in US_STATE_ABBR and (name.endswith(".") or len(k) == 2):
        return ("US", US_STATE_ABBR[k.replace(" ", "")])
    entries = gaz.lookup(name)[:MAX_CANDIDATES]
    areas = [(e.country_code, None) for e in entries if e.kind == "country"]
    areas += [
        (e.country_code, e.admin1) for e in entries if e.kind == "admin" and e.id.startswith("a1:")
    ]
    if inner and len(areas) > 1:
        places = {(e.country_code, e.admin1) for e in gaz.lookup(inner)[:MAX_CANDIDATES]}
        for cc, a1 in areas:
            if any(c == cc and (a1 is None or a == a1) for c, a in places):
                return (cc, a1)
    return areas[0] if areas else None


def _context(doc, mentions, tops: list[_Toponym], gaz: Gazetteer) -> _Context:
    ctx = _Context()
    text = doc_text(doc)
    for m in mentions:
        if m.label == "NORP":
            cc = gaz.demonym(m.text)
            if cc:
                ctx.countries[cc] += 1
    for t in tops:
        entries = gaz.lookup(t.text)
        if entries and entries[0].kind == "country" and _primary_is(entries, t.text):
            ctx.countries[entries[0].country_code] += 2
        m = _AFTER_COMMA.match(text, t.end)
        if m:
            c = _container(gaz, m.group(1).rstrip(","), t.text) or _container(
                gaz, m.group(1).split()[0].rstrip(","), t.text
            )
            if c and normalize(m.group(1)) != t.key:
                ctx.forced[t.start] = c
                if _state_abbreviation(m.group(1)):
                    ctx.abbreviated.add(t.key)
                ctx.countries[c[0]] += 1
                if c[1]:
                    ctx.admins[c] += 1
    return ctx


def _one_sense(tops: list[_Toponym], ctx: _Context) -> None:
    """A name placed once by its container ("Holliday, Mo.") means the same place wherever
    else the article repeats it, unless it is given another container."""
    seen: dict[str, set] = defaultdict(set)
    for t in tops:
        if t.start in ctx.forced:
            seen[t.key].add(ctx.forced[t.start])
    for t in tops:
        if t.start not in ctx.forced and len(seen.get(t.key, ())) == 1:
            ctx.forced[t.start] = next(iter(seen[t.key]))


def _primary_is(entries: list[GazEntry], text: str) -> bool:
    """The first entry is the only entry of a prominent kind (no competing country/admin)."""
    top = entries[0]
    rivals = [e for e in entries[1:] if e.kind in ("country", "admin", "continent")]
    return not rivals and (len(entries) == 1 or top.kind == "country")


# --------------------------------------------------------------------------- resolution


# km per degree of latitude: two points are at least |lat1 - lat2| * _KM_PER_LAT apart, so
# a latitude difference alone can rule out "within d km" without the trigonometry
_KM_PER_LAT = math.radians(1.0) * 6371.0088


def _far(lat1: float, lat2: float, km: float) -> bool:
    """Surely more than ``km`` apart, from the latitudes alone (a margin for rounding)."""
    return abs(lat1 - lat2) * _KM_PER_LAT > km + 1e-6


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


@functools.lru_cache(maxsize=100_000)
def _prior(e: GazEntry, primary: bool) -> tuple[float, tuple[str, ...]]:
    reasons = []
    s = KIND_PRIOR.get(e.kind, 0.0)
    if e.kind == "country":
        reasons.append("a country")
    elif e.kind in ("continent", "water", "region", "historical", "feature"):
        reasons.append(f"a {e.kind}" if e.source.startswith("curated") is False else "curated")
        if e.source.startswith("curated"):
            s += 1.5
    if e.population:
        s += math.log10(e.population + 1)
        if e.kind in ("city", "admin") and e.population > 50_000:
            reasons.append(f"population {e.population:,}")
    if e.kind == "admin":
        reasons.append("first-level division" if e.id.startswith("a1:") else "county")
        if e.id.startswith("a2:"):
            s += 1.0
    if "capital" in e.source:
        s += 1.0
        reasons.append("national capital")
    if e.kind == "city" and ("capital" in e.source or e.population >= 1_000_000):
        # a world city keeps its prior against small namesakes in a mentioned country:
        # only a local pattern ("London, Ontario") or nearby places outweigh it
        s += 1.5
        reasons.append("major city")
    if not primary:
        s -= 1.5
        reasons.append("alternate name")
    return s, tuple(reasons)


def _candidates(gaz: Gazetteer, t: _Toponym) -> list[tuple[GazEntry, bool]]:
    return _candidates_cached(gaz, t.text, t.alt, t.key)


@functools.lru_cache(maxsize=50_000)
def _candidates_cached(
    gaz: Gazetteer, text: str, alt: str | None, key: str
) -> list[tuple[GazEntry, bool]]:
    entries = gaz.lookup(text)
    name = text
    if not entries and alt:
        entries, name = gaz.lookup(alt), alt
    if not entries and " " in key:
        # "the Sochi region" -> try without generic words at the ends
        words = [w for w in key.split() if w not in ADMIN_WORDS]
        if words and len(words) < len(key.split()):
            name = " ".join(words)
            entries = gaz.lookup(name)
    out = [(e, gaz.is_primary(e.id, name)) for e in entries[:MAX_CANDIDATES]]
    if text.isupper() and len(text) <= 3:
        # "WA" is an abbreviation, not the town of Wa: a short all-caps word keeps the
        # places it abbreviates (alternate names: "LA", "NYC") and names written in capitals
        out = [(e, p) for e, p in out if not (p and e.kind == "city" and not e.name.isupper())]
    return out


def _score(
    e: GazEntry,
    primary: bool,
    ctx: _Context,
    forced: tuple[str, str | None] | None,
    key: str = "",
    local: bool = True,
) -> tuple[float, list[str]]:
    s, base = _prior(e, primary)
    reasons = list(base)
    cc = e.country_code
    if forced:
        fcc, fa1 = forced
        if cc == fcc and (fa1 is None or e.admin1 == fa1):
            s += 8.0
            reasons.append("matches the name after the comma")
        elif e.kind not in ("country", "continent"):
            s -= 3.0
    if cc and ctx.countries.get(cc) and e.kind != "country":
        n = ctx.countries[cc]
        s += 1.2 + min(1.0, 0.25 * n)
        reasons.append(f"{gz_country_name(cc)} is mentioned")
    if cc and e.admin1 and _in_state(e) and _state_named(ctx, (cc, e.admin1), key):
        s += 2.0
        reasons.append("its state/province is mentioned")
    if e.kind == "admin" and e.id.startswith("a1:"):
        n = sum(
            v
            for (c, a1, k), v in ctx.anchor_areas.items()
            if c == cc and a1 == e.admin1 and k != key
        )
        if n:
            s += 8.0 + min(3.0, n - 1.0)
            reasons.append(f"contains {n} other place(s) in the text")
    if not local and e.kind == "city" and e.population < 100_000:
        # a small namesake of a country or world region ("Middle East", a Baltimore
        # neighbourhood) is not made likely by other places nearby; only "X, Y" patterns
        return s, reasons
    if e.kind in _LOCAL_KINDS and (ctx.grid or ctx.anchors_by_key):
        n = _support(ctx, e, key)
        if n > 0.2:
            s += LOCAL_WEIGHT * min(LOCAL_CAP, n)
            reasons.append(f"{max(1, round(n))} other place(s) in the text nearby")
    if e.kind in ("city", "admin") and (
        anchors := [(a, b) for k, a, b in ctx.anchors if k != key and not _far(e.lat, a, 1000)]
    ):
        d = min(_haversine(e.lat, e.lon, a, b) for a, b in anchors)
        if d < 1000:
            s += 2.0 * math.exp(-d / 300)
            if d < 300:
                reasons.append(f"{d:.0f} km from other places in the text")
    return s, reasons


_COUNTRY_NAMES: dict[str, str] = {}


def gz_country_name(cc: str) -> str:
    return _COUNTRY_NAMES.get(cc, cc)


def _resolve(
    cands: list[tuple[GazEntry, bool]],
    ctx: _Context,
    forced: tuple[str, str | None] | None,
    *,
    key: str = "",
    explain: bool,
) -> _Resolved:
    if not cands:
        return _Resolved(None, 0.0, "Not in the offline gazetteer.")
    scored = []
    primaries = {e.id: primary for e, primary in cands}
    local = bool(forced) or not any(
        p and (e.kind in _WORLD_KINDS or e.id.startswith("a1:")) for e, p in cands
    )
    # a state or country bearing the name outranks a town that bore it once ("a Delaware
    # company" is not West Point, Virginia, formerly Delaware)
    named_area = any(p and (e.kind == "country" or e.id.startswith("a1:")) for e, p in cands)
    for e, primary in cands:
        s, reasons = _score(e, primary, ctx, forced, key, local)
        if named_area and not primary and e.kind == "city" and not forced:
            s -= 3.0
            reasons.append("an old or alternate name of a state or country")
        scored.append((s, e, reasons))
    scored.sort(key=lambda x: -x[0])
    if scored[0][1].kind == "admin":
        # "Moscow", "New York": the city of the same name inside the division is meant
        a = scored[0][1]
        for i, (sc, e, rs) in enumerate(scored[1:], 1):
            if e.kind == "city" and (e.country_code, e.admin1) == (a.country_code, a.admin1):
                # only a big city, or one that bears the name itself ("Minnesota" is
                # not Minneota)
                if (primaries.get(e.id) or e.population >= 100_000) and sc > scored[0][0] - 3.0:
                    scored[0], scored[i] = (scored[0][0] + 0.01, e, rs), (sc, a, scored[0][2])
                break
    top = scored[0][0]
    z = sum(math.exp(s - top) for s, _, _ in scored)
    probs = [math.exp(s - top) / z for s, _, _ in scored]
    best_s, best, reasons = scored[0]
    # candidates close to the winner agree with it (Moscow the city and the region)
    conf = sum(
        p
        for (_, e, _), p in zip(scored, probs, strict=True)
        if e is best
        or (not _far(e.lat, best.lat, 100) and _haversine(e.lat, e.lon, best.lat, best.lon) < 100)
    )
    # a lone weak candidate: a tiny place known only by an alternate name
    if len(scored) == 1:
        conf = min(0.95, 0.5 + best_s / 20)
    cands_out = []
    if explain:
        for (_s, e, rs), p in zip(scored[:TOP_K], probs[:TOP_K], strict=False):
            cands_out.append(
                Candidate(e.id, e.name, e.lat, e.lon, e.kind, e.country_code, p, tuple(rs))
            )
    if conf < 0.15 or best_s < 2.0:
        return _Resolved(
            None,
            conf,
            f"Unsure: {len(scored)} candidates, best {best.name} ({best.country_code}) "
            f"at {conf:.0%}.",
            cands_out,
        )
    why = ", ".join(reasons[:3]) or "only candidate"
    where = f"{best.name}, {gz_country_name(best.country_code)}" if best.country_code else best.name
    if best.kind == "country":
        where = best.name
    reason = f"{where} ({best.kind}): {why}"
    if len(scored) > 1:
        reason += f"; chosen over {len(scored) - 1} other candidate(s)"
    return _Resolved(best, conf, reason + ".", cands_out)


# `confidence` is a probability that the place is within 161 km of the one meant: the raw
# score share is mapped through an isotonic fit (knots, linear in between) made on GeoWebNews
# (own recognition and gold names) and checked on TR-News (docs/benchmarks.md).
CALIBRATION = (
    (0.0, 0.0), (0.21, 0.2), (0.35, 0.48), (0.53, 0.54), (0.85, 0.86), (0.976, 0.983),
    (1.0, 0.99),
)  # fmt: skip
# A wide area's point is a convention (the middle of a sea or a region): capped.
WIDE_KINDS = ("region", "water", "historical")
WIDE_CAP = 0.7


def calibrate(raw: float, kind: str | None = None) -> float:
    """The calibrated confidence of a raw score share (see CALIBRATION)."""
    out = CALIBRATION[-1][1]
    for (x0, y0), (x1, y1) in zip(CALIBRATION, CALIBRATION[1:], strict=False):
        if raw <= x1:
            out = y0 + (y1 - y0) * (max(raw, x0) - x0) / (x1 - x0)
            break
    if kind in WIDE_KINDS:
        out = min(out, WIDE_CAP)
    return round(out, 3)


_FOCUS_KINDS = ("city", "admin")
# Words that name no place on their own when cut out of a longer name.
_SUB_STOP = (
    GENERIC_TAILS
    | ADMIN_WORDS
    | frozenset(
        "north south east west northern southern eastern western central upper lower new old "
        "great greater saint san santa royal national international metro center centre "
        "memorial union victoria albert".split()
    )
)


def _focus(by_key: dict[tuple, list[_Toponym]], results: dict[tuple, _Resolved]) -> GazEntry | None:
    """The article's main locality: the most mentioned confidently placed town or division."""
    counts: Counter = Counter()
    first: dict[str, int] = {}
    entries: dict[str, GazEntry] = {}
    for k, ts in by_key.items():
        r = results[k]
        e = r.entry
        if e is None or r.approximate or e.kind not in _FOCUS_KINDS or r.confidence < 0.5:
            continue
        counts[e.id] += len(ts)
        first[e.id] = min(first.get(e.id, 1 << 30), ts[0].start)
        entries[e.id] = e
    if not counts:
        return None
    best = max(counts, key=lambda i: (counts[i], entries[i].kind == "city", -first[i]))
    return entries[best]


def _sub_names(text: str) -> list[str]:
    """Shorter names inside a longer one, longest first: "Manila Cathedral" -> "Manila"."""
    words = re.findall(r"[A-Z][\w'’.&-]*", text)
    words = [w for w in words if w.lower().strip(".") not in _TITLES]
    out = []
    for n in range(len(words) - 1, 0, -1):
        for i in range(len(words) - n + 1):
            out.append(" ".join(words[i : i + n]))
    for part in re.split(r"[/\-]", text):
        if part and part != text and part not in out:
            out.append(part.strip())
    return out


def _contained(results: dict[tuple, _Resolved], ctx: _Context, gaz: Gazetteer) -> None:
    """A town the gazetteer lacks in the state it is given ("Holliday, Mo.") is placed in
    that state, approximately, rather than at a namesake elsewhere (or nowhere)."""
    for (key, forced), r in results.items():
        e = r.entry
        if not forced or not forced[1] or (e is not None and e.kind != "city"):
            continue
        if e is not None and (e.country_code, e.admin1) == forced:
            continue
        if e is None and "Not in the offline gazetteer" in r.reason and key not in ctx.abbreviated:
            continue  # "Ramor Theatre, Virginia": maybe another Virginia
        if e is not None and key not in ctx.abbreviated:
            if _strong_place(e) or "capital" in e.source:
                continue  # a known city is rather in a list ("Miami, New York and ...")
        area = gaz.get(f"a1:{forced[0]}.{forced[1]}")
        if area is not None:
            results[(key, forced)] = _Resolved(
                area,
                0.5,
                f"Not in the gazetteer in {area.name}; placed in {area.name}, named after it.",
                r.candidates,
                approximate=True,
            )


def _fallbacks(
    by_key: dict[tuple, list[_Toponym]],
    results: dict[tuple, _Resolved],
    ctx: _Context,
    gaz: Gazetteer,
    *,
    explain: bool,
) -> None:
    """Place names the gazetteer lacks ("Manila Cathedral", "Third Street") approximately:
    at a known place named inside them, else at the article's main locality."""
    focus = _focus(by_key, results)
    for k, ts in by_key.items():
        r = results[k]
        if r.entry is not None or r.candidates or "Not in the offline gazetteer" not in r.reason:
            continue
        text = ts[0].alt if ts[0].alt and not gaz.lookup(ts[0].text) else ts[0].text
        done = False
        for sub in _sub_names(text):
            if len(sub) < 3 or normalize(sub) in _SUB_STOP:
                continue
            entries = gaz.lookup(sub)
            if not entries or not _usable(entries, strict=True):
                continue
            cands = [(e, gaz.is_primary(e.id, sub)) for e in entries[:MAX_CANDIDATES]]
            sr = _resolve(cands, ctx, k[1], key=normalize(sub), explain=explain)
            if sr.entry is not None:
                results[k] = _Resolved(
                    sr.entry,
                    round(min(0.5, sr.confidence * 0.5), 3),
                    f"Not in the gazetteer; placed at {sr.entry.name}, named in it.",
                    sr.candidates,
                    approximate=True,
                )
                done = True
                break
        if not done and focus is not None:
            results[k] = _Resolved(
                focus,
                0.35,
                f"Not in the gazetteer; placed at {focus.name}, the article's main locality.",
                [],
                approximate=True,
            )


def geoparse(
    doc,
    mentions: list[Mention],
    *,
    gazetteer: Gazetteer | None,
    explain: bool = False,
    recognize: bool = True,
) -> list[Place]:
    """Places of an article: one per distinct location, with every mention span.

    ``recognize=False`` resolves only the given GPE/LOC mentions (no gazetteer matcher).
    """
    if gazetteer is None:
        gazetteer = load_gazetteer()
    gaz = gazetteer
    if not _COUNTRY_NAMES:
        _COUNTRY_NAMES.update({e.country_code: e.name for e in gaz.countries()})
    mentions = sorted(mentions, key=lambda m: m.start)
    tops = _recognise(doc, mentions, gaz, match=recognize)
    if not tops:
        return []
    ctx = _context(doc, mentions, tops, gaz)
    # the preceding "X in Y" pattern: "Tripoli in Lebanon"
    text = doc_text(doc)
    for t in tops:
        m = re.match(
            r"\s+in\s+((?:[A-Z][\w.'\-]*)(?:\s+[A-Z][\w.'\-]*)?)", text[t.end : t.end + 60]
        )
        if m and t.start not in ctx.forced:
            c = _container(gaz, m.group(1))
            if c and c[1] is None and normalize(m.group(1)) != t.key:
                ctx.forced[t.start] = c
    _one_sense(tops, ctx)
    by_key: dict[tuple, list[_Toponym]] = defaultdict(list)
    for t in tops:
        by_key[(t.key, ctx.forced.get(t.start))].append(t)
    # pass 1: names with strong priors build the anchors; pass 2 uses them
    results: dict[tuple, _Resolved] = {}
    cand_cache: dict[str, list] = {}
    for (key, _forced), ts in by_key.items():
        if key not in cand_cache:
            fixed = gaz.get(ts[0].fixed) if ts[0].fixed else None
            if fixed is not None:
                cand_cache[key] = [(fixed, True)]
            else:
                cand_cache[key] = [] if ts[0].fixed else _candidates(gaz, ts[0])
    _build_grid(ctx, cand_cache)
    worldwide = {k for k, cands in cand_cache.items() if not any(_local(e) for e, _ in cands)}
    for again in (False, True):
        anchors = []
        areas: Counter = Counter()
        for key, forced in by_key:
            if again and key in worldwide:
                continue  # no town or division: its scores ignore the anchors, as is
            r = _resolve(cand_cache[key], ctx, forced, key=key, explain=explain)
            results[(key, forced)] = r
            if r.entry is not None and r.entry.kind in ("city", "admin") and r.confidence > 0.6:
                anchors.append((key, r.entry.lat, r.entry.lon))
                if r.entry.kind == "city":
                    areas[(r.entry.country_code, r.entry.admin1, key)] += 1
        if not anchors:
            break
        ctx.anchors = anchors
        ctx.anchors_by_key = {k: (a, b) for k, a, b in anchors}
        ctx.anchor_areas = areas
        ctx.support_cache = {}
        for (key, _f), r in results.items():
            if r.entry is not None and r.entry.kind != "country" and r.confidence > 0.6:
                if r.entry.country_code and r.entry.kind == "admin":
                    # a state vouches for all its towns (New York City in New York); a
                    # county for the other places of its state, not for itself
                    area = (r.entry.country_code, r.entry.admin1)
                    ctx.admin_keys.setdefault(area, set()).add(
                        key if r.entry.id.startswith("a2:") else ""
                    )
    _contained(results, ctx, gaz)
    _fallbacks(by_key, results, ctx, gaz, explain=explain)
    places: dict[str, Place] = {}
    for (key, forced), ts in by_key.items():
        r = results[(key, forced)]
        spans = [Span(t.start, t.end, t.text) for t in ts]
        if r.entry is not None and r.approximate:
            # a facility or district the gazetteer lacks, placed at the town it is in
            e = r.entry
            pid = f"~:{key}"
            if pid not in places:
                places[pid] = Place(
                    name=ts[0].text,
                    lat=e.lat,
                    lon=e.lon,
                    country_code=e.country_code,
                    kind=e.kind,
                    confidence=round(r.confidence, 3),
                    mentions=[],
                    id=None,
                    reason=r.reason,
                    candidates=r.candidates,
                )
            places[pid].mentions.extend(spans)
            continue
        if r.entry is None:
            pid = f"?:{key}"
            if pid not in places:
                places[pid] = Place(
                    name=ts[0].text,
                    lat=None,
                    lon=None,
                    country_code=None,
                    kind="unresolved",
                    confidence=round(r.confidence, 3),
                    mentions=[],
                    id=None,
                    reason=r.reason,
                    candidates=r.candidates,
                )
            places[pid].mentions.extend(spans)
            continue
        e = r.entry
        p = places.get(e.id)
        if p is None:
            p = places[e.id] = Place(
                name=e.name,
                lat=e.lat,
                lon=e.lon,
                country_code=e.country_code,
                kind=e.kind,
                confidence=r.confidence,
                mentions=[],
                id=e.id,
                reason=r.reason,
                candidates=r.candidates,
            )
        p.confidence = max(p.confidence, r.confidence)
        p.mentions.extend(spans)
    out = list(places.values())
    for p in out:
        p.mentions.sort(key=lambda s: s.start)
        p.confidence = calibrate(p.confidence, p.kind)
        if p.id is None and p.lat is not None:
            p.confidence = min(p.confidence, 0.5)  # placed at a town it is in, approximately
    out.sort(key=lambda p: p.mentions[0].start)
    return out
