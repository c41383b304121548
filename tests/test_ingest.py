"""Bulk ingest: worker processes give the local path's results; re-runs and interrupted
runs resume without duplicates. Real model, real DuckDB files, real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from geonews import cli, pipeline
from geonews.errors import AnalysisProcessError
from geonews.store import TABLES, Store

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "articles.jsonl"


def sample(tmp_path: Path, n: int = 30, name: str = "articles.jsonl", start: int = 0) -> Path:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[start:n]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def contents(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table an analysis is written to, sorted; without added_at."""
    with Store.open(db, read_only=True) as store:
        out = {}
        for table, schema in TABLES.items():
            cols = ", ".join(f'"{c}"' for c in schema.names if c != "added_at")
            out[table] = (
                store.cursor().execute(f"SELECT {cols} FROM {table} ORDER BY ALL").fetchall()
            )
    return out


def read(path: Path) -> list:
    return list(cli._stream_articles([], [path], []))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, nlp_model, gazetteer) -> tuple[Path, dict]:
    """30 sample articles ingested in this process, one worker."""
    tmp = tmp_path_factory.mktemp("reference")
    db = tmp / "reference.duckdb"
    with Store.open(db) as store:
        result = pipeline.ingest(
            read(sample(tmp)), store, batch_size=8, nlp_model=nlp_model, gazetteer=gazetteer
        )
    assert (result.added, result.skipped, result.failed) == (30, 0, 0)
    return db, contents(db)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_command_stores_what_one_process_stores(tmp_path: Path, reference, capsys, workers):
    """One worker (the default: the model in a process of its own while this one geoparses
    and writes) and two (each analysing whole batches): the store is the same, row for
    row, as the analysis all in one process."""
    db = tmp_path / "ingested.duckdb"
    path = sample(tmp_path)
    code = cli.main(["ingest", str(path), "--db", str(db), "--workers", workers, "-q"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "added 30, skipped 0 (already stored), failed 0" in out
    got = contents(db)
    for table, rows in reference[1].items():
        assert got[table] == rows, table
    assert all(reference[1][t] for t in ("articles", "entities", "mentions", "places", "dates"))


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
def test_on_one_core_one_worker_stores_the_same(tmp_path: Path, reference):
    """Given one core, one worker analyses in the command's process (a model process
    beside it would only add the packing to the work): the store is the same."""
    db = tmp_path / "one-core.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "geonews", "ingest", str(sample(tmp_path)), "--db", str(db),
         "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        preexec_fn=lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "added 30, skipped 0 (already stored), failed 0" in done.stdout
    got = contents(db)
    for table, rows in reference[1].items():
        assert got[table] == rows, table


def test_a_killed_model_process_is_a_clear_error_and_keeps_what_was_stored(
    tmp_path: Path, gazetteer
):
    db = tmp_path / "killed.duckdb"
    with Store.open(db) as store, pipeline.NerProcess() as ner:
        first = pipeline.ingest(read(sample(tmp_path, 8)), store, ner=ner, gazetteer=gazetteer)
        assert first.added == 8 and ner.pid is not None
        os.kill(ner.pid, signal.SIGKILL)
        more = read(sample(tmp_path, 16, "more.jsonl", start=8))
        with pytest.raises(AnalysisProcessError, match="run the same command again"):
            pipeline.ingest(more, store, ner=ner, gazetteer=gazetteer)
        assert store.stats()["articles"] == 8
    with Store.open(db) as store:  # the command again resumes
        again = pipeline.ingest(read(sample(tmp_path, 16)), store, batch_size=4)
        assert (again.added, again.skipped, again.failed) == (8, 8, 0)


def test_a_missing_model_is_a_clear_error_with_workers(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("GEONEWS_SPACY_MODEL", "no_such_model")
    db = tmp_path / "none.duckdb"
    for workers in ("1", "2"):
        code = cli.main(["ingest", str(sample(tmp_path, 4)), "--db", str(db), "-q",
                         "--workers", workers])  # fmt: skip
        err = capsys.readouterr().err
        assert code != 0
        assert "spaCy model 'no_such_model' is not installed" in err
        assert "Traceback" not in err


def test_resume_after_half_and_after_an_interruption(
    tmp_path: Path, reference, nlp_model, gazetteer
):
    db = tmp_path / "resume.duckdb"
    res = {"nlp_model": nlp_model, "gazetteer": gazetteer}
    with Store.open(db) as store:
        half = pipeline.ingest(read(sample(tmp_path, 15, "half.jsonl")), store, **res)
        assert (half.added, half.skipped) == (15, 0)

        def stop_after_first_batch(n: int) -> None:  # Ctrl-C once a batch is written
            raise KeyboardInterrupt

        cut = pipeline.ingest(
            read(sample(tmp_path, 25, "more.jsonl", start=15)),
            store,
            batch_size=4,
            progress=stop_after_first_batch,
            **res,
        )
        assert cut.interrupted and cut.added == 4
        assert store.stats()["articles"] == 19  # the batch under way is not half-written

        everything = read(sample(tmp_path))
        rest = pipeline.ingest(everything + everything, store, batch_size=4, **res)
        assert (rest.added, rest.skipped, rest.failed) == (11, 49, 0)
        assert not rest.interrupted
    got = contents(db)
    for table, rows in reference[1].items():
        assert got[table] == rows, table
    assert len(set(got["articles"])) == len(got["articles"]) == 30


def test_stream_jsonl_line_by_line_with_bad_lines(tmp_path: Path):
    path = tmp_path / "big.jsonl"
    good = json.dumps({"text": "Talks in Kyiv ended on Monday.", "published": "2022-03-01"})
    path.write_bytes(
        b"\xef\xbb\xbf" + (good + "\n\nnot json\n" + json.dumps({"x": 1}) + "\n").encode()
    )
    errors: list = []
    stream = cli._stream_articles([], [path], errors)
    first = next(stream)
    assert first.text.startswith("Talks in Kyiv") and not errors  # nothing read ahead
    assert list(stream) == []
    assert [n for n, _ in errors] == [3, 4]
    assert cli._count_articles([path]) == 3
