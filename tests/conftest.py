"""Shared fixtures: the real spaCy model and gazetteer, loaded once per session;
a fresh DuckDB file per test; the seed article when ../shared is present."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def nlp_model():
    from geonews import nlp

    return nlp.load_pipeline()


@pytest.fixture(scope="session")
def gazetteer():
    from geonews import geo

    return geo.load_gazetteer()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "corpus.duckdb"


@pytest.fixture(scope="session")
def seed_text() -> str:
    path = SHARED / "seed" / "netanyahu-sochi.txt"
    if not path.exists():
        pytest.skip("../shared/seed is not present beside this checkout")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    path = SHARED / "eval"
    if not path.exists():
        pytest.skip("../shared/eval is not present beside this checkout")
    return path


# -- a small analysed corpus, shared by the dashboard's tests --------------------------

SAMPLE = ROOT / "sample_data" / "articles.jsonl"
SAMPLE_STORED = 20  # the first articles of the sample corpus, stored
SAMPLE_HELD_OUT = 2  # the next ones, analysed but not stored (to ingest in a test)


@pytest.fixture(scope="session")
def sample_analyses(nlp_model, gazetteer):
    """The real analyses of the first 22 sample articles (spaCy + gazetteer, once)."""
    from geonews import pipeline, sources

    articles = list(sources.read_path(SAMPLE))[: SAMPLE_STORED + SAMPLE_HELD_OUT]
    return list(pipeline.analyze_many(articles, nlp_model=nlp_model, gazetteer=gazetteer))


@pytest.fixture(scope="session")
def sample_db_file(sample_analyses, tmp_path_factory) -> Path:
    """A DuckDB store holding the first 20 analysed sample articles (do not write to it)."""
    from geonews.store import Store

    path = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    with Store.open(path) as store:
        store.add_many(sample_analyses[:SAMPLE_STORED])
    return path


@pytest.fixture
def sample_db(sample_db_file, tmp_path) -> Path:
    """A private copy of the sample store for one test."""
    import shutil

    path = tmp_path / "sample.duckdb"
    shutil.copyfile(sample_db_file, path)
    return path


@pytest.fixture
def sample_store(sample_db):
    """The private sample store, open."""
    from geonews.store import Store

    with Store.open(sample_db) as store:
        yield store


@pytest.fixture(autouse=True)
def _keep_main_module():
    """Streamlit's AppTest runs its script as ``__main__`` and leaves it there; a process
    spawned later (a Dask worker, a pool worker) would then re-run that script on start
    ("Nanny failed to start"). Put the real ``__main__`` back after every test."""
    main = sys.modules.get("__main__")
    yield
    if main is not None and sys.modules.get("__main__") is not main:
        sys.modules["__main__"] = main
