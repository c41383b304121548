"""Evaluate the geoparser on gold toponym corpora (GeoWebNews, TR-News JSONL).

    python -m geonews eval GOLD.jsonl [--gold-spans] [--gwn-literal] [--json] [--output PRED.jsonl]

Recognition P/R/F1 (overlap and exact), accuracy@161 km, mean/median error, AUC, end to end
@161 km and a per-kind error table, with the conventions of the reference scorer
(``score_geoparse.py``): one-to-one overlap matching, haversine errors, CamCoder's AUC.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

from geonews import geo, nlp, pipeline
from geonews.models import Analysis, Article, Mention

GWN_LITERAL_TYPES = frozenset(
    "Literal Literal_Modifier Literal_Expression Mixed Coercion Embedded_Literal Metonymic "
    "Non_Lit_Expression Non_Literal_Modifier".split()
)
MAX_ERROR_KM = 20039.0


def read_gold(path: Path | str, *, limit: int | None = None) -> list[dict]:
    """Gold articles: ``{"id", "text", "toponyms": [{start, end, name, lat, lon, ...}]}``."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                out.append(json.loads(line))
                if limit and len(out) >= limit:
                    break
    return out


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def match_spans(gold: list[tuple[int, int]], pred: list[tuple[int, int]]) -> dict[int, int]:
    """One-to-one overlap matching (augmenting paths; exact partner, then largest overlap)."""
    cands = []
    for g in gold:
        c = [j for j, p in enumerate(pred) if _overlap(g, p) > 0]
        c.sort(key=lambda j: (pred[j] != g, -_overlap(g, pred[j]), pred[j]))
        cands.append(c)
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in cands[i]:
            if j not in seen:
                seen.add(j)
                if j not in owner or augment(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    for i in range(len(gold)):
        if cands[i]:
            augment(i, set())
    return {g: p for p, g in owner.items()}


def auc(errors: list[float]) -> float | None:
    """CamCoder's AUC of log(1+error)/log(20039), trapezoid over sorted errors (lower is better)."""
    if not errors:
        return None
    ys = sorted(math.log(e + 1) / math.log(MAX_ERROR_KM) for e in errors)
    if len(ys) == 1:
        return ys[0]
    return sum((a + b) / 2 for a, b in zip(ys, ys[1:], strict=False)) / (len(ys) - 1)


def _pred_spans(rec: dict) -> list[tuple[int, int, float | None, float | None, str]]:
    seen: dict[tuple[int, int], tuple] = {}
    for p in rec.get("places") or []:
        for m in p.get("mentions") or []:
            k = (m["start"], m["end"])
            seen.setdefault(
                k,
                (
                    m["start"],
                    m["end"],
                    p.get("lat"),
                    p.get("lon"),
                    p.get("kind"),
                    p.get("confidence"),
                ),
            )
    return sorted(seen.values())


def score(
    gold: list[dict], preds: dict[str, dict], *, gwn_literal: bool = False, km: float = 161.0
) -> dict:
    """All metrics of predictions (analyze JSON by article id) against gold articles."""
    tp = tp_exact = n_gold = n_pred = ignored = n_coords = e2e = 0
    errors: list[float] = []
    by_kind: dict[str, list[float]] = defaultdict(list)
    by_conf: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    causes: Counter = Counter()
    for art in gold:
        pred = _pred_spans(preds.get(art["id"], {}))
        ps = [(p[0], p[1]) for p in pred]
        tops = art.get("toponyms") or []
        keep = [t for t in tops if not gwn_literal or t.get("type") in GWN_LITERAL_TYPES]
        left = [(t["start"], t["end"]) for t in tops if t not in keep]
        gs = [(t["start"], t["end"]) for t in keep]
        m = match_spans(gs, ps)
        used = set(m.values())
        ignored += sum(
            1 for j, p in enumerate(ps) if j not in used and any(_overlap(p, x) for x in left)
        )
        tp += len(m)
        tp_exact += len(set(gs) & set(ps))
        n_gold += len(gs)
        n_pred += len(ps)
        for i, t in enumerate(keep):
            if t.get("lat") is None or t.get("lon") is None:
                continue
            n_coords += 1
            j = m.get(i)
            if j is None:
                causes["recognition miss"] += 1
                continue
            _, _, lat, lon, kind, conf = pred[j]
            err = MAX_ERROR_KM if lat is None else haversine_km(t["lat"], t["lon"], lat, lon)
            errors.append(err)
            by_kind[kind or "none"].append(err)
            if lat is not None and conf is not None:
                by_conf[_bucket(conf)].append((conf, err <= km))
            if lat is None:
                causes["unresolved (abstained or not in gazetteer)"] += 1
            elif err > km:
                causes[f"wrong place, resolved as {kind or 'none'}"] += 1
            e2e += err <= km
    n_pred_eff = n_pred - ignored

    def prf(t: int) -> dict:
        p = t / n_pred_eff if n_pred_eff else 0.0
        r = t / n_gold if n_gold else 0.0
        return {"P": p, "R": r, "F1": 2 * p * r / (p + r) if p + r else 0.0}

    return {
        "n_articles": len(gold),
        "n_gold": n_gold,
        "n_pred": n_pred_eff,
        "recognition": prf(tp),
        "recognition_exact": prf(tp_exact),
        "resolution": {
            "n": len(errors),
            "acc161": sum(e <= km for e in errors) / len(errors) if errors else None,
            "mean_km": statistics.fmean(errors) if errors else None,
            "median_km": statistics.median(errors) if errors else None,
            "auc": auc(errors),
        },
        "e2e161": e2e / n_coords if n_coords else None,
        "by_kind": {
            k: {
                "n": len(v),
                "acc161": sum(e <= km for e in v) / len(v),
                "median_km": statistics.median(v),
            }
            for k, v in sorted(by_kind.items(), key=lambda kv: -len(kv[1]))
        },
        "errors": dict(causes.most_common()),
        # calibration: how often a place given with this confidence is within the radius
        "by_confidence": {
            k: {
                "n": len(v),
                "mean_conf": statistics.fmean(c for c, _ in v),
                "acc161": sum(ok for _, ok in v) / len(v),
            }
            for k, v in sorted(by_conf.items())
        },
        "calibration": calibration([x for v in by_conf.values() for x in v]),
    }


def calibration(pairs: list[tuple[float, bool]]) -> dict:
    """Expected calibration error over the confidence buckets, and the ROC AUC of confidence
    as a predictor of a correct place (0.5: no better than chance)."""
    if not pairs:
        return {"n": 0, "ece": None, "auc": None}
    buckets: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for c, ok in pairs:
        buckets[_bucket(c)].append((c, ok))
    ece = sum(abs(sum(c for c, _ in v) - sum(ok for _, ok in v)) for v in buckets.values()) / len(
        pairs
    )
    pos = sorted(c for c, ok in pairs if ok)
    neg = sorted(c for c, ok in pairs if not ok)
    auc_conf = None
    if pos and neg:
        wins = sum(
            bisect.bisect_left(neg, c)
            + 0.5 * (bisect.bisect_right(neg, c) - bisect.bisect_left(neg, c))
            for c in pos
        )
        auc_conf = wins / (len(pos) * len(neg))
    return {"n": len(pairs), "ece": ece, "auc": auc_conf}


CONF_BUCKETS = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.01)


def _bucket(conf: float) -> str:
    for lo, hi in zip(CONF_BUCKETS, CONF_BUCKETS[1:], strict=False):
        if conf < hi:
            return f"{lo:.2f}-{min(hi, 1.0):.2f}"
    return "0.95-1.00"


def _articles(gold: list[dict]) -> Iterator[Article]:
    for a in gold:
        yield Article(text=a["text"], id=a["id"], title=a.get("title"))


def predict(gold: list[dict], *, gold_spans: bool = False) -> Iterator[Analysis]:
    """Run the pipeline over gold articles (or resolve the gold spans only)."""
    if not gold_spans:
        yield from pipeline.analyze_many(_articles(gold), batch_size=8)
        return
    model = nlp.load_pipeline()
    gaz = geo.load_gazetteer()
    by_id = {a["id"]: a for a in gold}
    pairs = ((a.text, a) for a in _articles(gold))
    for doc, article in model.pipe(pairs, as_tuples=True, batch_size=8):
        ments = gold_span_mentions(by_id[article.id], nlp.extract_mentions(doc))
        places = geo.geoparse(doc, ments, gazetteer=gaz, recognize=False)
        yield Analysis(article=article, entities=ments, places=places)


def gold_span_mentions(gold_article: dict, mentions: list[Mention]) -> list[Mention]:
    """The article's other entities (context) plus its gold toponyms as GPE mentions."""
    text = gold_article["text"]
    ments = [m for m in mentions if m.label not in ("GPE", "LOC", "FAC")]
    for t in gold_article.get("toponyms") or []:
        name = text[t["start"] : t["end"]]
        ments.append(Mention(name, "GPE", t["start"], t["end"], name, 0))
    ments.sort(key=lambda m: m.start)
    return ments


def report(metrics: dict, *, name: str) -> str:
    """A short human-readable report."""
    r, x, res = metrics["recognition"], metrics["recognition_exact"], metrics["resolution"]

    def f(v: float | None, nd: int = 3) -> str:
        return "NA" if v is None else f"{v:.{nd}f}"

    lines = [
        f"{name}: {metrics['n_articles']} articles, {metrics['n_gold']} gold toponyms, "
        f"{metrics['n_pred']} predicted",
        f"recognition (overlap)  P={f(r['P'])} R={f(r['R'])} F1={f(r['F1'])}",
        f"recognition (exact)    P={f(x['P'])} R={f(x['R'])} F1={f(x['F1'])}",
        f"resolution (n={res['n']})  acc@161={f(res['acc161'])} mean={f(res['mean_km'], 0)} km "
        f"median={f(res['median_km'], 0)} km AUC={f(res['auc'])}",
        f"end to end @161km      {f(metrics['e2e161'])}",
        "",
        f"{'kind':<12}{'n':>6}{'acc@161':>9}{'median km':>11}",
    ]
    for k, v in metrics["by_kind"].items():
        lines.append(f"{k:<12}{v['n']:>6}{v['acc161']:>9.3f}{v['median_km']:>11.0f}")
    lines += ["", f"{'error cause':<45}{'n':>6}"]
    for k, v in metrics.get("errors", {}).items():
        lines.append(f"{k:<45}{v:>6}")
    lines += ["", f"{'confidence':<12}{'n':>6}{'mean':>7}{'acc@161':>9}"]
    for k, v in metrics.get("by_confidence", {}).items():
        lines.append(f"{k:<12}{v['n']:>6}{v['mean_conf']:>7.3f}{v['acc161']:>9.3f}")
    cal = metrics.get("calibration") or {}
    if cal.get("n"):
        lines.append(f"calibration: ECE={f(cal['ece'])} AUC(confidence)={f(cal['auc'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m geonews eval``."""
    ap = argparse.ArgumentParser(prog="geonews eval", description=__doc__.splitlines()[0])
    ap.add_argument("gold", help="gold JSONL (id, text, toponyms with start/end/lat/lon)")
    ap.add_argument("--gold-spans", action="store_true", help="resolve the gold names only")
    ap.add_argument("--gwn-literal", action="store_true", help="GeoWebNews literal/place types")
    ap.add_argument("--json", action="store_true", help="print metrics as JSON")
    ap.add_argument("--output", help="write predictions (analyze JSON lines) to this file")
    ap.add_argument("--limit", type=int, help="only the first N articles")
    ap.add_argument("--km", type=float, default=161.0, help="accuracy radius (default 161)")
    args = ap.parse_args(argv)
    gold = read_gold(args.gold, limit=args.limit)
    t0 = time.perf_counter()
    preds: dict[str, dict] = {}
    out = open(args.output, "w", encoding="utf-8") if args.output else None  # noqa: SIM115
    try:
        for analysis in predict(gold, gold_spans=args.gold_spans):
            rec = analysis.to_json()
            preds[rec["id"]] = rec
            if out:
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    finally:
        if out:
            out.close()
    metrics = score(gold, preds, gwn_literal=args.gwn_literal, km=args.km)
    metrics["seconds"] = round(time.perf_counter() - t0, 2)
    metrics["gold_spans"] = args.gold_spans
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print(
            report(
                metrics, name=Path(args.gold).stem + (" (gold spans)" if args.gold_spans else "")
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
