"""Every stage records how its run ended: done, failed (with the error) or interrupted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fixtures import query_rows

from jobimpact.embedding.fake import FakeEmbedder
from jobimpact.errors import StoreError
from jobimpact.pipeline import run_aggregate, run_cluster, run_score
from jobimpact.scoring.fake import FakeScorer
from jobimpact.store import open_store, transaction
from jobimpact.store.runs import stage_run

RUNS = "SELECT stage, status, error FROM runs WHERE stage <> 'ingest' ORDER BY started_at"


class BrokenEstimator:
    """A clusterer that fails the way a real one can (out of memory, bad parameter)."""

    def fit_predict(self, vectors: Any) -> Any:
        raise MemoryError("cannot allocate the distance matrix")


def test_stage_run_records_done_failed_and_interrupted(db: Path) -> None:
    with stage_run(db, stage="demo", parameters={"x": 1}) as run:
        run.counts = {"rows": 3}
    with pytest.raises(ValueError), stage_run(db, stage="demo", parameters={}):
        raise ValueError("bad value")
    with pytest.raises(KeyboardInterrupt), stage_run(db, stage="demo", parameters={}):
        raise KeyboardInterrupt
    rows = query_rows(
        db, "SELECT status, counts, error FROM runs WHERE stage = 'demo' ORDER BY started_at"
    )
    assert rows == [
        ("done", '{"rows": 3}', None),
        ("failed", "{}", "bad value"),
        ("interrupted", "{}", "stopped by the user"),
    ]
    assert query_rows(db, "SELECT count(*) FROM runs WHERE pid IS NULL") == [(0,)]


def test_a_failing_cluster_leaves_its_run_failed(db: Path) -> None:
    with pytest.raises(MemoryError):
        run_cluster(db=db, embedder=FakeEmbedder(dimension=16), estimator=BrokenEstimator())
    assert query_rows(db, RUNS) == [("cluster", "failed", "cannot allocate the distance matrix")]


def test_a_failing_aggregate_leaves_its_run_failed(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_score(db=db, scorer=FakeScorer())

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("weights do not sum")

    monkeypatch.setattr("jobimpact.aggregate.quadrants", broken)
    with pytest.raises(RuntimeError):
        run_aggregate(db=db)
    assert query_rows(db, RUNS)[-1] == ("aggregate", "failed", "weights do not sum")
    assert query_rows(db, "SELECT count(*) FROM occupation_scores") == [(0,)]


def test_a_database_error_in_a_write_is_one_line_and_rolls_back(db: Path) -> None:
    with open_store(db) as con:
        before = con.execute("SELECT count(*) FROM tasks").fetchone()
        with pytest.raises(StoreError) as error, transaction(con):
            con.execute("DELETE FROM tasks")
            con.execute("INSERT INTO tasks (task_id) VALUES (NULL)")
        assert con.execute("SELECT count(*) FROM tasks").fetchone() == before
    message = str(error.value)
    assert message.startswith("store write failed: ") and "\n" not in message


def test_a_failing_calibrate_leaves_its_run_failed(
    labelled_scored_store: Path, mirror_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobimpact.labels import default_labels_path
    from jobimpact.pipeline import run_calibrate

    store = tmp_path / "store.duckdb"
    store.write_bytes(labelled_scored_store.read_bytes())

    def broken(**kwargs: Any) -> int:
        raise StoreError("disk full")

    monkeypatch.setattr("jobimpact.pipeline.calibrate.apply_head", broken)
    with pytest.raises(StoreError):
        run_calibrate(db=store, labels=default_labels_path(mirror_data))
    assert query_rows(store, RUNS)[-1] == ("calibrate", "failed", "disk full")
