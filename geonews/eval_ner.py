"""Score the NER stage on a CoNLL-2003 / CoNLL++ file: ``python -m geonews eval-ner FILE``.

Documents are built as the reference scorer (``score_ner.py --dump-docs``) builds them:
tokens joined by single spaces, sentences by "\\n", the k-th document has id ``doc-<k>``.
The real pipeline runs on each text; its mentions are mapped to CoNLL classes
(PERSON -> PER, ORG -> ORG, GPE/LOC/FAC -> LOC, NORP/EVENT/... -> MISC) and scored by
exact (start, end, class) match. The headline is the micro average over PER, ORG and LOC.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

LABEL_MAP = {
    "PERSON": "PER",
    "PER": "PER",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "NORP": "MISC",
    "EVENT": "MISC",
    "PRODUCT": "MISC",
    "WORK_OF_ART": "MISC",
    "LAW": "MISC",
    "LANGUAGE": "MISC",
    "MISC": "MISC",
}
CLASSES = ("PER", "ORG", "LOC", "MISC")
HEADLINE = ("PER", "ORG", "LOC")


def _chunks(tags: list[str]) -> list[tuple[int, int, str]]:
    """(start, end_exclusive, type) chunks of an IOB1/IOB2 tag sequence (conlleval rules)."""
    out: list[tuple[int, int, str]] = []
    start, cur = 0, None
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, typ = tag.partition("-")
        begins = prefix == "B" or (prefix == "I" and typ != cur)
        if cur is not None and (prefix == "O" or begins):
            out.append((start, i, cur))
            cur = None
        if begins:
            start, cur = i, typ
    return out


def parse_conll(lines: Iterable[str]) -> list[list[list[tuple[str, str]]]]:
    """Documents, each a list of sentences, each a list of (token, tag)."""
    docs: list[list[list[tuple[str, str]]]] = []
    doc: list[list[tuple[str, str]]] | None = None
    sent: list[tuple[str, str]] = []
    for line in lines:
        parts = line.split()
        if not parts or parts[0] == "-DOCSTART-":
            if sent:
                doc = [] if doc is None else doc
                doc.append(sent)
                sent = []
            if parts:
                if doc is not None:
                    docs.append(doc)
                doc = []
        else:
            sent.append((parts[0], parts[-1]))
    if sent:
        doc = [] if doc is None else doc
        doc.append(sent)
    if doc is not None:
        docs.append(doc)
    return docs


def build_documents(docs) -> list[dict]:
    """``[{"id", "text", "entities": {(start, end, class)}}]`` with character offsets."""
    out = []
    for k, doc in enumerate(docs):
        pieces: list[str] = []
        ents: set[tuple[int, int, str]] = set()
        pos = 0
        for si, sent in enumerate(doc):
            if si:
                pieces.append("\n")
                pos += 1
            offsets = []
            for ti, (tok, _) in enumerate(sent):
                if ti:
                    pieces.append(" ")
                    pos += 1
                offsets.append((pos, pos + len(tok)))
                pieces.append(tok)
                pos += len(tok)
            for a, b, typ in _chunks([t for _, t in sent]):
                ents.add((offsets[a][0], offsets[b - 1][1], typ))
        out.append({"id": f"doc-{k}", "text": "".join(pieces), "entities": ents})
    return out


def read_documents(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return build_documents(parse_conll(fh))


def predict(documents: list[dict], nlp=None, *, batch_size: int = 32) -> list[dict]:
    """Run the real pipeline: ``[{"id", "entities": [{"start", "end", "label", "text"}]}]``."""
    from geonews import nlp as nlp_mod

    nlp = nlp if nlp is not None else nlp_mod.load_pipeline()
    out = []
    texts = ((d["text"], d["id"]) for d in documents)
    for doc, doc_id in nlp.pipe(texts, as_tuples=True, batch_size=batch_size):
        ents = [
            {"start": m.start, "end": m.end, "label": m.label, "text": m.text}
            for m in nlp_mod.extract_mentions(doc)
            if m.label in LABEL_MAP
        ]
        out.append({"id": doc_id, "entities": ents})
    return out


def _prf(tp: int, n_pred: int, n_gold: int) -> dict:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "n_pred": n_pred, "n_gold": n_gold}


def score(documents: list[dict], predictions: list[dict]) -> dict:
    """Exact-match P/R/F1 per class, micro over PER+ORG+LOC and over all four."""
    by_id = {p["id"]: p for p in predictions}
    tp, npred, ngold = Counter(), Counter(), Counter()
    for d in documents:
        gold = d["entities"]
        pred = {
            (e["start"], e["end"], LABEL_MAP[e["label"]])
            for e in by_id.get(d["id"], {}).get("entities", [])
            if e["label"] in LABEL_MAP
        }
        for *_, c in gold:
            ngold[c] += 1
        for *_, c in pred:
            npred[c] += 1
        for *_, c in gold & pred:
            tp[c] += 1
    out = {"per_class": {c: _prf(tp[c], npred[c], ngold[c]) for c in CLASSES}}
    out["micro_PER_ORG_LOC"] = _prf(*(sum(x[c] for c in HEADLINE) for x in (tp, npred, ngold)))
    out["micro_all4"] = _prf(*(sum(x[c] for c in CLASSES) for x in (tp, npred, ngold)))
    return out


def summary_line(m: dict) -> str:
    mi, pc = m["micro_PER_ORG_LOC"], m["per_class"]
    return (
        f"SUMMARY ner P={mi['precision']:.4f} R={mi['recall']:.4f} F1={mi['f1']:.4f} "
        f"(PER F1={pc['PER']['f1']:.4f} ORG F1={pc['ORG']['f1']:.4f} "
        f"LOC F1={pc['LOC']['f1']:.4f})"
    )


def report(m: dict) -> str:
    lines = [
        f"model: {m['model']}  documents: {m['n_docs']}  seconds: {m['seconds']:.1f}",
        "",
        "class              P       R       F1      TP  n_pred  n_gold",
    ]
    rows = [(c, m["per_class"][c]) for c in CLASSES]
    rows += [("micro P+O+L", m["micro_PER_ORG_LOC"]), ("micro all 4", m["micro_all4"])]
    for name, d in rows:
        lines.append(
            f"{name:<14}{d['precision']:8.4f}{d['recall']:8.4f}{d['f1']:8.4f}"
            f"{d['tp']:8d}{d['n_pred']:8d}{d['n_gold']:8d}"
        )
    lines += ["", summary_line(m)]
    return "\n".join(lines)


def evaluate(path: str | Path, *, model: str | None = None, limit: int | None = None) -> tuple:
    """(metrics, predictions) of the pipeline on a CoNLL file."""
    from geonews import nlp as nlp_mod

    documents = read_documents(path)[:limit]
    pipeline = nlp_mod.load_pipeline(model)
    t0 = time.perf_counter()
    predictions = predict(documents, pipeline)
    seconds = time.perf_counter() - t0
    m = score(documents, predictions)
    m.update(model=model or nlp_mod.model_name(), n_docs=len(documents), seconds=seconds)
    m["summary"] = summary_line(m)
    return m, predictions


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="geonews eval-ner", description=__doc__.split("\n\n")[0].strip()
    )
    ap.add_argument("conll_file", help="CoNLL-2003 format file (token ... tag columns)")
    ap.add_argument("--json", action="store_true", help="print the metrics as JSON")
    ap.add_argument(
        "--output", metavar="PRED.jsonl", help="write predictions for score_ner.py to cross-check"
    )
    ap.add_argument("--model", help="spaCy model (default: GEONEWS_SPACY_MODEL or sm)")
    ap.add_argument("--limit", type=int, help="score only the first N documents")
    args = ap.parse_args(argv)
    if not Path(args.conll_file).is_file():
        print(f"error: no such file: {args.conll_file}", file=sys.stderr)
        return 2
    metrics, predictions = evaluate(args.conll_file, model=args.model, limit=args.limit)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            for rec in predictions:
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(json.dumps(metrics, indent=1) if args.json else report(metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main())
