"""The CoNLL NER evaluation: document building, scoring and the CLI."""

from __future__ import annotations

import json

from geonews import eval_ner

CONLL = """-DOCSTART- -X- -X- O

LONDON NNP B-NP B-LOC
1996-08-30 CD I-NP O

Vladimir NNP B-NP B-PER
Putin NNP I-NP I-PER
met VBD B-VP O
Reuters NNP B-NP B-ORG
. . O O

-DOCSTART- -X- -X- O

Peter NNP B-NP I-PER
Blackburn NNP I-NP I-PER
"""


def test_build_documents_like_the_reference_scorer():
    docs = eval_ner.build_documents(eval_ner.parse_conll(CONLL.splitlines()))
    assert [d["id"] for d in docs] == ["doc-0", "doc-1"]
    assert docs[0]["text"] == "LONDON 1996-08-30\nVladimir Putin met Reuters ."
    assert docs[0]["entities"] == {(0, 6, "LOC"), (18, 32, "PER"), (37, 44, "ORG")}
    assert docs[1]["entities"] == {(0, 15, "PER")}  # IOB1: I- opens a chunk


def test_score_exact_match():
    docs = eval_ner.build_documents(eval_ner.parse_conll(CONLL.splitlines()))
    preds = [
        {
            "id": "doc-0",
            "entities": [
                {"start": 0, "end": 6, "label": "GPE"},
                {"start": 18, "end": 32, "label": "PERSON"},
                {"start": 37, "end": 44, "label": "PERSON"},
                {"start": 7, "end": 17, "label": "DATE"},
            ],
        },
    ]
    m = eval_ner.score(docs, preds)
    assert m["per_class"]["LOC"]["f1"] == 1.0
    assert m["per_class"]["ORG"]["recall"] == 0.0
    micro = m["micro_PER_ORG_LOC"]
    assert (micro["tp"], micro["n_pred"], micro["n_gold"]) == (2, 3, 4)


def test_main_writes_predictions(tmp_path, capsys, nlp_model):
    gold = tmp_path / "gold.txt"
    gold.write_text(CONLL)
    out = tmp_path / "pred.jsonl"
    assert eval_ner.main([str(gold), "--json", "--output", str(out)]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert 0.0 <= metrics["micro_PER_ORG_LOC"]["f1"] <= 1.0
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in recs] == ["doc-0", "doc-1"]
    text = "LONDON 1996-08-30\nVladimir Putin met Reuters ."
    for e in recs[0]["entities"]:
        assert text[e["start"] : e["end"]] == e["text"]


def test_main_missing_file(tmp_path):
    assert eval_ner.main([str(tmp_path / "absent.txt")]) == 2


def test_conllpp_dev_cross_checks_with_reference_scorer(eval_dir, tmp_path, capsys, nlp_model):
    """Our score agrees with score_ner.py on the same predictions (first 40 documents)."""
    import subprocess
    import sys

    gold = eval_dir / "conllpp_dev.txt"
    docs = eval_ner.read_documents(gold)[:40]
    preds = eval_ner.predict(docs, nlp_model)
    ours = eval_ner.score(docs, preds)
    pred_file = tmp_path / "pred.jsonl"
    pred_file.write_text("".join(json.dumps(p) + "\n" for p in preds))
    res = subprocess.run(
        [sys.executable, str(eval_dir / "score_ner.py"), str(gold), str(pred_file), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    theirs = json.loads(res.stdout)
    # the reference scores all documents: missing ones count as empty predictions
    assert theirs["micro_PER_ORG_LOC"]["tp"] == ours["micro_PER_ORG_LOC"]["tp"]
    assert theirs["micro_PER_ORG_LOC"]["n_pred"] == ours["micro_PER_ORG_LOC"]["n_pred"]
    assert ours["micro_PER_ORG_LOC"]["f1"] > 0.6
