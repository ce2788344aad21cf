"""Writes of stage outputs, and the reads the pipeline needs to decide what to do.

Every write runs in one transaction: a failure leaves the store as it was.
"""

from __future__ import annotations

import json
import platform
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import duckdb
import pandas as pd

from jobimpact import __version__
from jobimpact.store import transaction

# Replaced together on ingest; order matters only for readability.
REFERENCE_TABLES = (
    "soc_groups",
    "occupations",
    "tasks",
    "iwas",
    "dwas",
    "task_dwas",
    "emerging_tasks",
    "oews",
    "employment",
)

SELECT_SOURCE_FILES = "SELECT source, version, file, sha256 FROM source_files ORDER BY ALL"
INSERT_RUN = """
INSERT INTO runs (run_id, stage, status, started_at, parameters, host, jobimpact_version)
VALUES (?, ?, 'running', ?, ?, ?, ?)
"""
FINISH_RUN = """
UPDATE runs SET status = ?, finished_at = ?, counts = ?, error = ? WHERE run_id = ?
"""


def now() -> datetime:
    """The current time in UTC, as stored (DuckDB TIMESTAMP has no zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def recorded_source_files(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str, str, str]]:
    """(source, version, file, sha256) of every file the store was built from."""
    return {tuple(row) for row in con.execute(SELECT_SOURCE_FILES).fetchall()}


def _replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Delete every row of ``table`` and insert ``frame`` by column name."""
    con.execute(f"DELETE FROM {table}")
    con.register("_incoming", frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _incoming")
    finally:
        con.unregister("_incoming")


def replace_reference_data(
    con: duckdb.DuckDBPyConnection,
    tables: Mapping[str, pd.DataFrame],
    source_files: pd.DataFrame,
    *,
    run: Mapping[str, Any],
) -> str:
    """Replace every reference table and the source file records and log the run, atomically.

    Returns the run id.
    """
    missing = set(REFERENCE_TABLES) - set(tables)
    if missing:
        raise ValueError(f"reference tables missing from the ingest: {sorted(missing)}")
    with transaction(con):
        for table in REFERENCE_TABLES:
            _replace_table(con, table, tables[table])
        _replace_table(con, "source_files", source_files)
        return record_run(con, **run)


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
    """Log a finished run of a stage; return its id."""
    run_id = start_run(con, stage=stage, parameters=parameters, started_at=started_at)
    finish_run(con, run_id, status=status, counts=counts, error=error)
    return run_id


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
