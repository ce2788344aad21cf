"""Ctrl-C during a scoring run: exit 130, the one line `Interrupted.`, and the run's counts
equal to what it committed, wherever the interrupt lands (DuckDB raises its own
RuntimeError('Query interrupted') when it arrives during a query or a commit)."""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from fixtures import cli_process, query_rows

from jobimpact.cli import cli
from jobimpact.store import open_store, transaction
from jobimpact.store.read import query

RUN = "SELECT status, counts, error, run_id FROM runs WHERE stage = 'score'"
STORED = "SELECT count(DISTINCT task_id) FROM task_scores WHERE run_id = ?"


def stored_by(db: Path, run_id: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(STORED, [run_id]).fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0


def interrupt_on_batch(monkeypatch: pytest.MonkeyPatch, batch: int, *, committed: bool) -> None:
    """Make DuckDB's interrupt surface on the ``batch``-th score write: after the commit
    went through (the rows are stored), or inside the transaction (they are not)."""
    from jobimpact.store import scores

    original = scores.write_score_batch
    calls = {"n": 0}

    def write(con: duckdb.DuckDBPyConnection, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] != batch:
            original(con, *args, **kwargs)
        elif committed:
            original(con, *args, **kwargs)
            raise RuntimeError("Query interrupted")
        else:
            with transaction(con):
                con.execute("SELECT 1")
                raise RuntimeError("Query interrupted")

    monkeypatch.setattr(scores, "write_score_batch", write)


@pytest.mark.parametrize("committed", [True, False])
def test_duckdbs_interrupt_at_commit_is_ctrl_c_and_the_counts_match_the_rows(
    db: Path, monkeypatch: pytest.MonkeyPatch, committed: bool
) -> None:
    interrupt_on_batch(monkeypatch, 3, committed=committed)
    result = CliRunner().invoke(
        cli, ["score", "--db", str(db), "--backend", "fake", "--batch-size", "2"]
    )
    assert (result.exit_code, result.output) == (130, "Interrupted.\n")
    ((status, counts, error, run_id),) = query_rows(db, RUN)
    assert (status, error) == ("interrupted", "stopped by the user")
    expected = 6 if committed else 4
    assert stored_by(db, str(run_id)) == expected
    assert json.loads(str(counts)) == {
        "selected": 12,
        "already_scored": 0,
        "scored": expected,
        "failed": 0,
        "text_answers": 0,
    }


def test_ctrl_c_while_duckdb_runs_python_code_is_ctrl_c(db: Path) -> None:
    # Seen from the field: Ctrl-C while DuckDB read a pandas frame of a batch came back as
    # "store write failed: Traceback (most recent call last): ..." and exit 1.
    reported = duckdb.InvalidInputException(
        'Traceback (most recent call last):\n  File "<frame>", line 1\nKeyboardInterrupt'
    )
    with pytest.raises(KeyboardInterrupt), open_store(db) as con, transaction(con):
        raise reported
    with pytest.raises(KeyboardInterrupt), open_store(db, read_only=True):
        raise reported


def test_an_interrupted_query_in_a_read_is_ctrl_c_too(db: Path) -> None:
    with pytest.raises(KeyboardInterrupt), open_store(db, read_only=True):
        raise RuntimeError("Query interrupted")
    with pytest.raises(RuntimeError, match="other"), open_store(db, read_only=True):
        raise RuntimeError("other")


@pytest.mark.slow
def test_ctrl_c_at_any_moment_of_a_scoring_run(mirror_store: Path, tmp_path: Path) -> None:
    """Real SIGINTs at random moments of a run writing small batches: every time exit 130,
    one line, and counts equal to the rows stored."""
    db = tmp_path / "store.duckdb"
    db.write_bytes(mirror_store.read_bytes())
    randomness = random.Random(13)
    for trial in range(6):
        scoring = cli_process(
            "score", "--db", str(db), "--backend", "fake", "--batch-size", "3", "--limit", "3000"
        )
        while not query(db, f"{RUN} AND status = 'running'").shape[0]:  # past start-up
            time.sleep(0.05)
        time.sleep(randomness.uniform(0, 2))
        scoring.send_signal(signal.SIGINT)
        out, err = scoring.communicate(timeout=120)
        assert (scoring.returncode, out, err) == (130, "", "Interrupted.\n"), (trial, err)
        status, counts, _, run_id = query_rows(db, RUN + " ORDER BY started_at DESC")[0]
        assert status == "interrupted"
        assert json.loads(str(counts))["scored"] == stored_by(db, str(run_id)), trial
