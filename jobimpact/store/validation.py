"""Writes of the validation stage: one validation, its metrics and reliability curve."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb
import pandas as pd

from jobimpact.store import transaction

VALIDATION_COLUMNS = (
    "validation_id",
    "run_id",
    "model_id",
    "rubric_hash",
    "head_id",
    "mode",
    "labels_name",
    "labels_sha256",
    "n_labelled",
    "n_matched_id",
    "n_matched_text",
    "n_scored",
    "created_at",
    "creation_labels_name",
    "creation_labels_sha256",
    "n_creation_labelled",
)
INSERT_VALIDATION = (
    f"INSERT INTO validations ({', '.join(VALIDATION_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in VALIDATION_COLUMNS)})"
)
INSERT_METRICS = "INSERT INTO validation_metrics BY NAME SELECT * FROM _metrics"
INSERT_RELIABILITY = "INSERT INTO validation_reliability BY NAME SELECT * FROM _reliability"


def write_validation(
    con: duckdb.DuckDBPyConnection,
    record: Mapping[str, Any],
    metrics: pd.DataFrame,
    reliability: pd.DataFrame,
) -> None:
    """Store one validation with its metric rows and reliability bins, all or nothing."""
    validation_id = record["validation_id"]
    with transaction(con):
        con.execute(INSERT_VALIDATION, [record.get(c) for c in VALIDATION_COLUMNS])
        con.register("_metrics", metrics.assign(validation_id=validation_id))
        con.register("_reliability", reliability.assign(validation_id=validation_id))
        con.execute(INSERT_METRICS)
        con.execute(INSERT_RELIABILITY)
        con.unregister("_metrics")
        con.unregister("_reliability")


SELECT_CREATION_INPUTS = """
SELECT t.task_id, t.onet_soc_code, t.task, h.status
FROM tasks AS t LEFT JOIN task_history AS h USING (task_id)
"""
SELECT_BASELINE = "SELECT task_id, task FROM baseline_tasks"


def creation_inputs(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every task with its new-work status, and the baseline statements (for matching the
    Economic Index's texts)."""
    tasks: pd.DataFrame = con.execute(SELECT_CREATION_INPUTS).df()
    baseline: pd.DataFrame = con.execute(SELECT_BASELINE).df()
    return tasks, baseline
