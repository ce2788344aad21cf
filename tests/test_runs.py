"""Every stage records how its run ended: done, failed (with the error) or interrupted."""

from __future__ import annotations

import os
import platform
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fixtures import query_rows

from jobimpact.cli import cli
from jobimpact.embedding.fake import FakeEmbedder
from jobimpact.errors import StoreError
from jobimpact.pipeline import run_aggregate, run_cluster, run_embed, run_score
from jobimpact.scoring.fake import FakeScorer
from jobimpact.store import open_store, transaction
from jobimpact.store.runs import INSERT_RUN, mark_dead_runs, now, shown_status, stage_run

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


# --- runs whose process died --------------------------------------------------------------

STAGE_THEN_SLEEP = """
import sys, time
from jobimpact.store.runs import stage_run
with stage_run(sys.argv[1], stage="cluster", parameters={}):
    print("running", flush=True)
    time.sleep(60)
"""


def test_a_run_killed_with_sigkill_shows_as_interrupted_and_is_recorded_so(
    db: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    killed = subprocess.Popen(
        [sys.executable, "-c", STAGE_THEN_SLEEP, str(db)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert killed.stdout is not None and killed.stdout.readline() == "running\n"
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert query_rows(db, "SELECT status, pid FROM runs WHERE stage = 'cluster'") == [
        ("running", killed.pid)
    ]
    status = CliRunner().invoke(cli, ["status", "--db", str(db)])
    assert status.exit_code == 0, status.output
    assert re.search(r"\n  \S+ \S+ cluster    interrupted \n", status.output), status.output
    with stage_run(db, stage="demo", parameters={}):  # the next stage records what happened
        pass
    assert query_rows(db, "SELECT status, error FROM runs WHERE stage = 'cluster'") == [
        ("interrupted", f"process {killed.pid} ended without recording the end of the run")
    ]


def test_a_running_run_of_a_live_process_or_another_host_keeps_its_status(db: Path) -> None:
    started = now()
    with open_store(db) as con:
        con.execute(INSERT_RUN, ["live", "score", started, "{}", platform.node(), "0", os.getpid()])
        con.execute(INSERT_RUN, ["elsewhere", "score", started, "{}", "another-host", "0", 1])
        # a pid now used by a process that began long after the run: not the run's process
        con.execute(
            INSERT_RUN,
            ["reused", "score", datetime(2000, 1, 1), "{}", platform.node(), "0", os.getpid()],
        )
        assert mark_dead_runs(con) == ["reused"]
    assert query_rows(db, "SELECT run_id, status FROM runs WHERE stage = 'score' ORDER BY 1") == [
        ("elsewhere", "running"),
        ("live", "running"),
        ("reused", "interrupted"),
    ]
    assert shown_status("running", host=platform.node(), pid=2**22 + 12345, started_at=started) == (
        "interrupted"
    )
    assert (
        shown_status("done", host=platform.node(), pid=2**22 + 12345, started_at=started) == "done"
    )


# --- every stage records a failure and an interruption ------------------------------------


class FailingEmbedder(FakeEmbedder):
    def __init__(self, failure: BaseException) -> None:
        super().__init__(dimension=16)
        self.failure = failure

    def encode(self, texts: Any) -> Any:
        raise self.failure


class FailingScorer(FakeScorer):
    def __init__(self, failure: BaseException) -> None:
        super().__init__()
        self.failure = failure

    def score_batch(self, items: Any) -> Any:
        raise self.failure


def _ingest(db: Path, failure: BaseException, monkeypatch: pytest.MonkeyPatch) -> None:
    from jobimpact.pipeline import run_ingest

    def broken(*args: Any, **kwargs: Any) -> None:
        raise failure

    monkeypatch.setattr("jobimpact.store.reference.replace_reference_data", broken)
    run_ingest(db=db, data_dir=db.parent / "data", force=True)


def _aggregate(db: Path, failure: BaseException, monkeypatch: pytest.MonkeyPatch) -> None:
    run_score(db=db, scorer=FakeScorer())

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise failure

    monkeypatch.setattr("jobimpact.aggregate.occupation_scores", broken)
    run_aggregate(db=db)


STAGES: dict[str, Callable[[Path, BaseException, pytest.MonkeyPatch], Any]] = {
    "ingest": _ingest,
    "score": lambda db, failure, _: run_score(db=db, scorer=FailingScorer(failure)),
    "embed": lambda db, failure, _: run_embed(db=db, embedder=FailingEmbedder(failure)),
    "cluster": lambda db, failure, _: run_cluster(db=db, embedder=FailingEmbedder(failure)),
    "aggregate": _aggregate,
}


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize(
    ("failure", "status", "error"),
    [
        (RuntimeError("out of memory"), "failed", "out of memory"),
        (KeyboardInterrupt(), "interrupted", "stopped by the user"),
    ],
)
def test_every_stage_records_a_failure_or_an_interruption(
    db: Path,
    monkeypatch: pytest.MonkeyPatch,
    stage: str,
    failure: BaseException,
    status: str,
    error: str,
) -> None:
    with pytest.raises(type(failure)):
        STAGES[stage](db, failure, monkeypatch)
    last = query_rows(db, "SELECT stage, status, error FROM runs ORDER BY started_at DESC LIMIT 1")
    assert last == [(stage, status, error)]
    assert query_rows(db, "SELECT count(*) FROM runs WHERE status = 'running'") == [(0,)]


@pytest.mark.parametrize("failure", [RuntimeError("singular matrix"), KeyboardInterrupt()])
def test_calibrate_and_validate_record_a_failure_or_an_interruption(
    labelled_scored_store: Path,
    mirror_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    failure: BaseException,
) -> None:
    from jobimpact.labels import default_labels_path
    from jobimpact.pipeline import run_calibrate, run_validate

    store = tmp_path / "store.duckdb"
    store.write_bytes(labelled_scored_store.read_bytes())

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise failure

    monkeypatch.setattr("jobimpact.calibration.fit_head", broken)
    monkeypatch.setattr("jobimpact.validation.validate_scores", broken)
    labels = default_labels_path(mirror_data)
    with pytest.raises(type(failure)):
        run_calibrate(db=store, labels=labels)
    with pytest.raises(type(failure)):
        run_validate(db=store, labels=labels, n_boot=10)
    status, error = (
        ("interrupted", "stopped by the user")
        if isinstance(failure, KeyboardInterrupt)
        else ("failed", str(failure))
    )
    assert query_rows(store, RUNS)[-2:] == [
        ("calibrate", status, error),
        ("validate", status, error),
    ]
