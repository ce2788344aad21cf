"""Reads and writes of the ingest stage: the reference tables and the files they came from.

The tables are replaced together in one transaction: a failure leaves the store as it was.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import pandas as pd

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
    "baseline_tasks",
    "task_history",
)

SELECT_SOURCE_FILES = "SELECT source, version, file, sha256 FROM source_files ORDER BY ALL"


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
) -> None:
    """Replace every reference table and the source file records, atomically."""
    missing = set(REFERENCE_TABLES) - set(tables)
    if missing:
        raise ValueError(f"reference tables missing from the ingest: {sorted(missing)}")
    with transaction(con):
        for table in REFERENCE_TABLES:
            _replace_table(con, table, tables[table])
        _replace_table(con, "source_files", source_files)
