"""Shared fixtures: the real spaCy model and gazetteer, loaded once per session;
a fresh DuckDB file per test; the seed article when ../shared is present."""

from __future__ import annotations

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
