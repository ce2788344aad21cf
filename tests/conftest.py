"""Fixtures shared by the stage tests: a store ingested from the fixture release."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures import write_fixture_release

from jobimpact.pipeline import ingest


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store ingested from the tiny fixture release."""
    paths = write_fixture_release(tmp_path / "data")
    store = tmp_path / "store.duckdb"
    ingest(db=store, data_dir=paths.data_dir)
    return store
