"""Fixtures shared by the stage tests: a store ingested from the fixture release."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures import MIRROR, write_fixture_release

from jobimpact.pipeline import ingest


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store ingested from the tiny fixture release."""
    paths = write_fixture_release(tmp_path / "data")
    store = tmp_path / "store.duckdb"
    ingest(db=store, data_dir=paths.data_dir)
    return store


@pytest.fixture(scope="session")
def mirror_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data mirror beside the checkout fetched into a data folder, once per session."""
    if not (MIRROR / "labels" / "gpts-are-gpts" / "full_labelset.tsv").is_file():
        pytest.skip("the data mirror is not beside the checkout")
    from jobimpact.sources import fetch

    data_dir = tmp_path_factory.mktemp("mirror_data")
    fetch(data_dir=data_dir, mirror=MIRROR, progress=False)
    return data_dir


@pytest.fixture(scope="session")
def mirror_store(mirror_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store ingested from the real mirror (copy it before writing to it)."""
    store = tmp_path_factory.mktemp("mirror_store") / "store.duckdb"
    ingest(db=store, data_dir=mirror_data)
    return store
