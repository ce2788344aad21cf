"""Reads of the creation evidence for the report: where a scoring's creation answers came
from, the new-work views (``occupation_new_work``, ``family_new_work``, ``task_new_work``)
with example new and emerging tasks, and the observed-use files a validation compared the
creation score with. Read-only; named queries with bound parameters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd

__all__ = [
    "creation_answers",
    "emerging_task_examples",
    "family_new_task_examples",
    "family_new_work",
    "new_task_examples",
    "occupation_new_work",
    "validation_creation_record",
]

# Answers to the question playing the creation role: calibrated by the scoring's head
# (head_id $3) or zero-shot (head_id '').
COUNT_CREATION_ANSWERS = """
SELECT count(*) FILTER (WHERE s.head_id = $3 AND $3 <> '') AS calibrated,
       count(*) FILTER (WHERE s.head_id = '') AS zero_shot
FROM task_scores AS s
JOIN rubric_questions AS q ON q.rubric_hash = s.rubric_hash AND q.question = s.question
WHERE s.model_id = $1 AND s.rubric_hash = $2 AND q.role = 'creation'
"""
SELECT_OCCUPATION_NEW_WORK = """
SELECT onet_soc_code, n_tasks, n_new, n_revised, n_renumbered, share_new, new_occupation,
       baseline_release, n_emerging_new, n_emerging_revision, emerging_per_task
FROM occupation_new_work
WHERE onet_soc_code IN (SELECT unnest($1::VARCHAR[]))
"""
# New tasks since the baseline release, core tasks first, then the highest Task IDs (the
# latest added).
SELECT_NEW_TASKS = """
SELECT onet_soc_code, task_id, task, new_since
FROM task_new_work
WHERE is_new AND onet_soc_code IN (SELECT unnest($1::VARCHAR[]))
QUALIFY row_number() OVER (
    PARTITION BY onet_soc_code
    ORDER BY coalesce(task_type = 'Core', false) DESC, task_id DESC
) <= $2
ORDER BY onet_soc_code, coalesce(task_type = 'Core', false) DESC, task_id DESC
"""
# O*NET emerging tasks (incumbents' proposed new and revised statements), new ones first.
SELECT_EMERGING_TASKS = """
SELECT onet_soc_code, task, category
FROM emerging_tasks
WHERE onet_soc_code IN (SELECT unnest($1::VARCHAR[]))
QUALIFY row_number() OVER (
    PARTITION BY onet_soc_code ORDER BY category = 'New' DESC, emerging_id
) <= $2
ORDER BY onet_soc_code, category = 'New' DESC, emerging_id
"""
SELECT_FAMILY_NEW_WORK = """
SELECT cluster_id, n_tasks, n_new, share_new, n_emerging_tasks
FROM family_new_work WHERE clustering_id = $1
"""
SELECT_FAMILY_NEW_TASKS = """
SELECT c.cluster_id, n.task_id, n.task, n.title
FROM task_clusters AS c JOIN task_new_work AS n USING (task_id)
WHERE c.clustering_id = $1 AND n.is_new AND c.cluster_id IN (SELECT unnest($2::INTEGER[]))
QUALIFY row_number() OVER (PARTITION BY c.cluster_id ORDER BY n.task_id DESC) <= $3
ORDER BY c.cluster_id, n.task_id DESC
"""
SELECT_VALIDATION_CREATION = """
SELECT creation_labels_name, creation_labels_sha256, n_creation_labelled
FROM validations WHERE validation_id = ?
"""


def creation_answers(con: duckdb.DuckDBPyConnection, keys: Sequence[str]) -> dict[str, int]:
    """How many creation answers of the scoring ``keys`` (model, rubric, head) are the
    head's calibrated probabilities and how many the zero-shot answers."""
    row = con.execute(COUNT_CREATION_ANSWERS, list(keys[:3])).fetchone()
    calibrated, zero_shot = row if row else (0, 0)
    return {"calibrated": int(calibrated), "zero_shot": int(zero_shot)}


def occupation_new_work(con: duckdb.DuckDBPyConnection, codes: Sequence[str]) -> pd.DataFrame:
    """The ``occupation_new_work`` rows of the occupations ``codes``."""
    frame: pd.DataFrame = con.execute(SELECT_OCCUPATION_NEW_WORK, [list(codes)]).df()
    return frame


def new_task_examples(
    con: duckdb.DuckDBPyConnection, codes: Sequence[str], n: int
) -> dict[str, list[str]]:
    """Up to ``n`` task statements new since the baseline release per occupation."""
    frame = con.execute(SELECT_NEW_TASKS, [list(codes), n]).df()
    return _grouped(frame, "onet_soc_code", "task")


def emerging_task_examples(
    con: duckdb.DuckDBPyConnection, codes: Sequence[str], n: int
) -> dict[str, list[str]]:
    """Up to ``n`` O*NET emerging tasks per occupation (new ones before revisions)."""
    frame = con.execute(SELECT_EMERGING_TASKS, [list(codes), n]).df()
    return _grouped(frame, "onet_soc_code", "task")


def family_new_work(con: duckdb.DuckDBPyConnection, clustering_id: str) -> pd.DataFrame:
    """The ``family_new_work`` rows of one clustering."""
    frame: pd.DataFrame = con.execute(SELECT_FAMILY_NEW_WORK, [clustering_id]).df()
    return frame


def family_new_task_examples(
    con: duckdb.DuckDBPyConnection, clustering_id: str, cluster_ids: Sequence[int], n: int
) -> dict[int, list[str]]:
    """Up to ``n`` new task statements per family, with their occupation's title."""
    frame = con.execute(
        SELECT_FAMILY_NEW_TASKS, [clustering_id, [int(c) for c in cluster_ids], n]
    ).df()
    frame = frame.assign(shown=frame["task"] + " (" + frame["title"] + ")")
    return {int(k): v for k, v in _grouped(frame, "cluster_id", "shown").items()}


def validation_creation_record(
    con: duckdb.DuckDBPyConnection, validation_id: str
) -> dict[str, Any]:
    """The observed-augmentation file a validation used, and how many tasks it matched."""
    row = con.execute(SELECT_VALIDATION_CREATION, [validation_id]).fetchone()
    if row is None:
        return {"labels_name": None, "labels_sha256": None, "n_labelled": None}
    name, digest, n = row
    return {"labels_name": name, "labels_sha256": digest, "n_labelled": n}


def _grouped(frame: pd.DataFrame, key: str, column: str) -> dict[Any, list[str]]:
    return {k: [str(v) for v in group[column]] for k, group in frame.groupby(key, sort=False)}
