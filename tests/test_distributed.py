"""``ingest --engine dask``: a real 2-worker LocalCluster on loopback stores exactly
what the single-process ingest stores."""

from __future__ import annotations

from pathlib import Path

import pytest
import test_ingest
from test_ingest import contents, read, sample

from geonews import cli, distributed
from geonews.store import Store

pytest.importorskip("distributed")

reference = test_ingest.reference  # the single-process ingest of the same articles


@pytest.fixture(scope="module")
def client():
    c = distributed.start_client(workers=2)
    try:
        yield c
    finally:
        distributed.close_client(c)


def test_local_cluster_on_loopback(client):
    workers = client.scheduler_info()["workers"]
    assert len(workers) == 2
    assert all(addr.startswith("tcp://127.0.0.1:") for addr in workers)
    assert all(w["nthreads"] == 1 for w in workers.values())


def test_dask_stores_what_the_local_path_stores(tmp_path: Path, reference, client):
    db = tmp_path / "dask.duckdb"
    parquet = tmp_path / "parquet"
    with Store.open(db) as store:
        result = distributed.ingest(
            read(sample(tmp_path)), store, partition_size=7, parquet_dir=parquet, client=client
        )
        assert (result.added, result.skipped, result.failed) == (30, 0, 0)
        again = distributed.ingest(read(sample(tmp_path)), store, client=client)
        assert (again.added, again.skipped) == (0, 30)  # checked before analysis
    got = contents(db)
    for table, rows in reference[1].items():
        assert got[table] == rows, table
    (run,) = parquet.iterdir()  # kept when --parquet-dir is given
    assert len(list((run / "articles").glob("part-*.parquet"))) == 5


def test_cli_engine_dask_starts_its_own_cluster(tmp_path: Path, reference, capsys):
    db = tmp_path / "cli.duckdb"
    path = sample(tmp_path, 10)
    argv = ["ingest", str(path), "--db", str(db), "--engine", "dask", "--workers", "2", "-q"]
    assert cli.main([*argv, "--partition-size", "4"]) == 0
    assert "added 10, skipped 0 (already stored), failed 0" in capsys.readouterr().out
    assert not any(tmp_path.glob("*.parquet"))  # the default Parquet folder is removed
    refs = {r[0] for r in reference[1]["articles"]}
    assert {r[0] for r in contents(db)["articles"]} < refs


def test_nothing_new_needs_no_cluster(tmp_path: Path, nlp_model, gazetteer):
    """A re-run of stored articles is answered from the store: no scheduler is contacted."""
    db = tmp_path / "again.duckdb"
    path = sample(tmp_path, 10)
    assert cli.main(["ingest", str(path), "--db", str(db), "-q"]) == 0
    with Store.open(db) as store:
        result = distributed.ingest(read(path), store, scheduler="tcp://127.0.0.1:9")
    assert (result.added, result.skipped, result.failed) == (0, 10, 0)
