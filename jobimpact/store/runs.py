"""The ``runs`` table: every run of every stage, how it ended, and what it did.

:func:`stage_run` wraps a stage: it records the run as ``running`` when the stage starts
its work and, whatever happens, as ``done``, ``failed`` (with the error) or
``interrupted`` (Ctrl-C) when it ends, with the counts the stage set on the record.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from jobimpact import __version__
from jobimpact.errors import JobImpactError

__all__ = ["RunRecord", "finish_run", "now", "record_run", "stage_run", "start_run"]

log = logging.getLogger(__name__)

INSERT_RUN = """
INSERT INTO runs (run_id, stage, status, started_at, parameters, host, jobimpact_version, pid)
VALUES (?, ?, 'running', ?, ?, ?, ?, ?)
"""
FINISH_RUN = """
UPDATE runs SET status = ?, finished_at = ?, counts = ?, error = ? WHERE run_id = ?
"""


def now() -> datetime:
    """The current time in UTC, as stored (DuckDB TIMESTAMP has no zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def start_run(
    con: duckdb.DuckDBPyConnection,
    *,
    stage: str,
    parameters: Mapping[str, Any],
    started_at: datetime | None = None,
) -> str:
    """Log the start of a run of a stage; return its id."""
    run_id = uuid.uuid4().hex
    con.execute(
        INSERT_RUN,
        [
            run_id,
            stage,
            started_at or now(),
            json.dumps(dict(parameters), default=str),
            platform.node(),
            __version__,
            os.getpid(),
        ],
    )
    return run_id


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    status: str,
    counts: Mapping[str, Any],
    error: str | None = None,
) -> None:
    """Record how a run ended."""
    con.execute(FINISH_RUN, [status, now(), json.dumps(dict(counts), default=str), error, run_id])


def record_run(
    con: duckdb.DuckDBPyConnection,
    *,
    stage: str,
    parameters: Mapping[str, Any],
    counts: Mapping[str, Any],
    started_at: datetime,
    status: str = "done",
    error: str | None = None,
) -> str:
    """Log a run that has already ended; return its id."""
    run_id = start_run(con, stage=stage, parameters=parameters, started_at=started_at)
    finish_run(con, run_id, status=status, counts=counts, error=error)
    return run_id


@dataclass
class RunRecord:
    """The run of a stage in progress: its id, and the counts to store when it ends."""

    run_id: str
    stage: str
    counts: dict[str, Any] = field(default_factory=dict)


@contextmanager
def stage_run(db: str | Path, *, stage: str, parameters: Mapping[str, Any]) -> Iterator[RunRecord]:
    """Record a run of ``stage``: ``running`` now, and ``done``, ``failed`` or
    ``interrupted`` when the block ends, with the counts set on the yielded record.

    The run is finished in a connection of its own, so a stage that fails on the store
    still gets its ending recorded when the store can be opened again; when it cannot,
    the ending is logged and the stage's own error is what the user sees.
    """
    from jobimpact.store import open_store

    with open_store(db) as con:
        run_id = start_run(con, stage=stage, parameters=parameters)
    record = RunRecord(run_id=run_id, stage=stage)
    status, error = "done", None
    try:
        yield record
    except KeyboardInterrupt:
        status, error = "interrupted", "stopped by the user"
        raise
    except BaseException as failure:
        status, error = "failed", str(failure) or type(failure).__name__
        raise
    finally:
        try:
            with open_store(db) as con:
                finish_run(con, run_id, status=status, counts=record.counts, error=error)
        except (JobImpactError, duckdb.Error) as failure:
            log.warning(
                "run %s of %s could not be recorded as %s: %s", run_id, stage, status, failure
            )
