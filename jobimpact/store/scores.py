"""Reads and writes of the scoring stage: tasks to score, scores, features, failures."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from jobimpact.store import transaction
from jobimpact.store.io import now

SELECT_TASKS_TO_SCORE = """
SELECT t.task_id, t.onet_soc_code, o.title AS occupation, t.task, o.soc_major
FROM tasks AS t JOIN occupations AS o USING (onet_soc_code)
ORDER BY t.task_id
"""
SELECT_SCORED_KEYS = """
SELECT DISTINCT prompt_sha256 FROM task_scores
WHERE model_id = ? AND rubric_hash = ? AND head_id = ''
"""
INSERT_RUBRIC = """
INSERT INTO rubrics VALUES (?, ?, ?, ?, ?) ON CONFLICT (rubric_hash) DO NOTHING
"""
INSERT_FAILURE = "INSERT INTO scoring_failures VALUES (?, ?, ?, ?, ?, ?)"
SELECT_MEASURES = """
SELECT m.*, t.onet_soc_code, t.task_type, t.importance, t.relevance
FROM task_measures AS m JOIN tasks AS t USING (task_id)
WHERE m.model_id = ? AND m.rubric_hash = ? AND m.head_id = ?
"""


def tasks_to_score(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every task with its occupation title and major group."""
    frame: pd.DataFrame = con.execute(SELECT_TASKS_TO_SCORE).df()
    return frame


def scored_keys(con: duckdb.DuckDBPyConnection, *, model_id: str, rubric_hash: str) -> set[str]:
    """Prompt keys already scored zero-shot by this model and rubric."""
    rows = con.execute(SELECT_SCORED_KEYS, [model_id, rubric_hash]).fetchall()
    return {key for (key,) in rows}


def record_rubric(
    con: duckdb.DuckDBPyConnection, *, rubric_hash: str, name: str, version: str, definition: Any
) -> None:
    """Keep the full text of a rubric once, so every score's rubric can be read back."""
    con.execute(INSERT_RUBRIC, [rubric_hash, name, version, json.dumps(definition), now()])


def write_score_batch(
    con: duckdb.DuckDBPyConnection,
    scores: pd.DataFrame,
    features: pd.DataFrame | None = None,
) -> None:
    """Insert one batch of scores (and features) in one transaction; reruns replace rows."""
    with transaction(con):
        con.register("_scores", scores)
        con.execute("INSERT OR REPLACE INTO task_scores BY NAME SELECT * FROM _scores")
        con.unregister("_scores")
        if features is not None and len(features):
            con.register("_features", features)
            con.execute(
                "INSERT OR REPLACE INTO task_features BY NAME "
                "SELECT prompt_sha256, model_id, feature_spec, vector::FLOAT[] AS vector "
                "FROM _features"
            )
            con.unregister("_features")


def record_failures(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    task_ids: Sequence[int],
    model_id: str,
    rubric_hash: str,
    reason: str,
) -> None:
    """Record why these tasks could not be scored."""
    at = now()
    con.executemany(
        INSERT_FAILURE, [[run_id, int(t), model_id, rubric_hash, reason, at] for t in task_ids]
    )


def task_measures(
    con: duckdb.DuckDBPyConnection, *, model_id: str, rubric_hash: str, head_id: str = ""
) -> pd.DataFrame:
    """Per-task measures of one model and rubric, with the task's weights' inputs."""
    frame: pd.DataFrame = con.execute(SELECT_MEASURES, [model_id, rubric_hash, head_id]).df()
    return frame


def feature_matrix(vectors: Sequence[np.ndarray]) -> list[list[float]]:
    """Feature vectors as plain lists, the form DuckDB takes for FLOAT[]."""
    return [np.asarray(v, dtype=np.float32).tolist() for v in vectors]


SELECT_LATEST_SCORING = """
SELECT model_id, rubric_hash FROM task_scores WHERE head_id = ''
GROUP BY ALL ORDER BY max(scored_at) DESC LIMIT 1
"""
SELECT_OCCUPATION_EMPLOYMENT = """
SELECT onet_soc_code, n_tasks AS n_tasks_total, employment FROM occupation_overview
"""
DELETE_OCCUPATION_SCORES = """
DELETE FROM occupation_scores
WHERE model_id = ? AND rubric_hash = ? AND head_id = ? AND weighting = ?
"""


SELECT_SCORED_HEAD = """
SELECT head_id FROM task_scores
WHERE model_id = ? AND rubric_hash = ? AND head_id <> ''
GROUP BY head_id ORDER BY max(scored_at) DESC LIMIT 1
"""


def scored_head(con: duckdb.DuckDBPyConnection, *, model_id: str, rubric_hash: str) -> str:
    """The calibration head that most recently scored this model and rubric, else ''."""
    row = con.execute(SELECT_SCORED_HEAD, [model_id, rubric_hash]).fetchone()
    return str(row[0]) if row else ""


def latest_scoring(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """(model_id, rubric_hash) of the most recent scores, or None when nothing is scored."""
    row = con.execute(SELECT_LATEST_SCORING).fetchone()
    return (str(row[0]), str(row[1])) if row else None


def occupation_employment(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each occupation's number of tasks and allocated employment."""
    frame: pd.DataFrame = con.execute(SELECT_OCCUPATION_EMPLOYMENT).df()
    return frame


def replace_occupation_scores(
    con: duckdb.DuckDBPyConnection,
    frame: pd.DataFrame,
    *,
    model_id: str,
    rubric_hash: str,
    head_id: str,
    weighting: str,
) -> None:
    """Replace the occupation roll-up of one scoring in one transaction."""
    with transaction(con):
        con.execute(DELETE_OCCUPATION_SCORES, [model_id, rubric_hash, head_id, weighting])
        con.register("_occupations", frame)
        con.execute("INSERT INTO occupation_scores BY NAME SELECT * FROM _occupations")
        con.unregister("_occupations")
