"""Fixtures shared by the stage tests: a store ingested from the fixture release."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fixtures import MIRROR, write_fixture_release

from jobimpact.pipeline import run_ingest


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store ingested from the tiny fixture release."""
    paths = write_fixture_release(tmp_path / "data")
    store = tmp_path / "store.duckdb"
    run_ingest(db=store, data_dir=paths.data_dir)
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
    run_ingest(db=store, data_dir=mirror_data)
    return store


@pytest.fixture(scope="session")
def labelled_scored_store(
    mirror_store: Path, mirror_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The mirror store with 30 labelled occupations scored by the fake scorer (copy it
    before writing to it)."""
    from jobimpact.labels import default_labels_path, read_labels
    from jobimpact.pipeline import run_score
    from jobimpact.scoring import get_backend

    store = tmp_path_factory.mktemp("labelled") / "store.duckdb"
    shutil.copy(mirror_store, store)
    codes = sorted(read_labels(default_labels_path(mirror_data)).frame["onet_soc_code"].unique())
    run_score(db=store, scorer=get_backend("fake", feature_dim=16), occupations=codes[:30])
    return store


@pytest.fixture(scope="session")
def labelled_calibrated_store(
    labelled_scored_store: Path, mirror_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """:func:`labelled_scored_store` with a calibration head fitted and applied (copy it)."""
    from jobimpact.labels import default_labels_path
    from jobimpact.pipeline import run_calibrate

    store = tmp_path_factory.mktemp("calibrated") / "store.duckdb"
    shutil.copy(labelled_scored_store, store)
    run_calibrate(db=store, labels=default_labels_path(mirror_data))
    return store
