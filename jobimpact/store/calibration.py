"""Reads and writes of calibration heads, and the task features they are fitted on."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from jobimpact.store import transaction
from jobimpact.store.runs import now

if TYPE_CHECKING:
    from jobimpact.calibration import CalibrationHead

INSERT_HEAD = """
INSERT INTO calibration_heads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (head_id) DO NOTHING
"""
INSERT_WEIGHTS = """
INSERT INTO calibration_weights VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
"""
INSERT_FOLDS = "INSERT INTO calibration_folds VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
SELECT_HEAD = "SELECT * FROM calibration_heads WHERE head_id = ?"
SELECT_WEIGHTS = "SELECT question, fold, coef, intercept FROM calibration_weights WHERE head_id = ?"
SELECT_FOLDS = "SELECT onet_soc_code, fold FROM calibration_folds WHERE head_id = ?"
SELECT_LATEST_HEAD = """
SELECT head_id FROM calibration_heads
WHERE model_id = ? AND rubric_hash = ? AND feature_spec LIKE ?
ORDER BY created_at DESC LIMIT 1
"""
SELECT_HEADS = """
SELECT head_id, model_id, rubric_hash, feature_spec, n_tasks, n_occupations, n_folds,
       labels_name, created_at
FROM calibration_heads ORDER BY created_at DESC
"""
# The zero-shot prompt of each task carries the feature vector (one per prompt key).
SELECT_TASK_FEATURES = """
SELECT f.task_id, t.onet_soc_code, f.prompt_sha256, f.feature_spec, f.vector
FROM task_features AS f
JOIN tasks AS t ON t.task_id = f.task_id
WHERE f.model_id = ? AND f.rubric_hash = ?
  AND (?::VARCHAR IS NULL OR f.prompt_sha256 NOT IN (
      SELECT prompt_sha256 FROM task_scores WHERE model_id = ? AND head_id = ?
  ))
ORDER BY f.task_id
"""


def write_head(con: duckdb.DuckDBPyConnection, head: CalibrationHead, *, run_id: str) -> None:
    """Store a head with its weights and folds in one transaction (a no-op if stored)."""
    head_id = head.head_id
    with transaction(con):
        con.execute(
            INSERT_HEAD,
            [
                head_id,
                head.model_id,
                head.rubric_hash,
                head.feature_spec,
                head.feature_dim,
                head.labels_name,
                head.labels_sha256,
                head.n_tasks,
                head.n_occupations,
                head.n_folds,
                json.dumps(dict(head.targets)),
                json.dumps({q: dict(m) for q, m in head.cv_metrics.items()}),
                json.dumps(dict(head.params), default=str),
                now(),
                run_id,
            ],
        )
        con.executemany(
            INSERT_WEIGHTS,
            [
                [head_id, question, fold, model.coef.tolist(), float(model.intercept)]
                for (question, fold), model in head.weights.items()
            ],
        )
        con.executemany(
            INSERT_FOLDS, [[head_id, code, fold] for code, fold in sorted(head.folds.items())]
        )


def read_head(con: duckdb.DuckDBPyConnection, head_id: str) -> CalibrationHead | None:
    """The stored head with this id, or None."""
    from jobimpact.calibration import CalibrationHead, LinearModel

    cursor = con.execute(SELECT_HEAD, [head_id])
    row = cursor.fetchone()
    if row is None:
        return None
    record = dict(zip([d[0] for d in cursor.description], row, strict=True))
    weights = {
        (str(q), int(f)): LinearModel(coef=np.asarray(c, dtype=np.float64), intercept=float(b))
        for q, f, c, b in con.execute(SELECT_WEIGHTS, [head_id]).fetchall()
    }
    folds = {str(c): int(f) for c, f in con.execute(SELECT_FOLDS, [head_id]).fetchall()}
    return CalibrationHead(
        model_id=record["model_id"],
        rubric_hash=record["rubric_hash"],
        feature_spec=record["feature_spec"],
        feature_dim=int(record["feature_dim"]),
        labels_name=record["labels_name"],
        labels_sha256=record["labels_sha256"],
        n_tasks=int(record["n_tasks"]),
        n_occupations=int(record["n_occupations"]),
        folds=folds,
        weights=weights,
        targets=json.loads(record["targets"]),
        cv_metrics=json.loads(record["cv_metrics"]),
        params=json.loads(record["params"]),
    )


def latest_head_id(
    con: duckdb.DuckDBPyConnection, *, model_id: str, rubric_hash: str, feature_spec: str = "%"
) -> str | None:
    """Id of the newest head for this model and rubric, or None."""
    row = con.execute(SELECT_LATEST_HEAD, [model_id, rubric_hash, feature_spec]).fetchone()
    return str(row[0]) if row else None


def list_heads(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every stored head, newest first."""
    frame: pd.DataFrame = con.execute(SELECT_HEADS).df()
    return frame


def task_features(
    con: duckdb.DuckDBPyConnection,
    *,
    model_id: str,
    rubric_hash: str,
    skip_head_id: str | None = None,
) -> pd.DataFrame:
    """Feature vectors of the tasks a model computed after a rubric's prefix.

    With ``skip_head_id``, tasks already calibrated by that head are left out, so applying
    a head again does only new work.
    """
    frame: pd.DataFrame = con.execute(
        SELECT_TASK_FEATURES,
        [model_id, rubric_hash, skip_head_id, model_id, skip_head_id],
    ).df()
    return frame
