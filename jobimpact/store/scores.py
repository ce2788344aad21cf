"""Reads and writes of the scoring stage: tasks to score, scores, features, failures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd

from jobimpact.store import transaction
from jobimpact.store.runs import now

if TYPE_CHECKING:
    from jobimpact.scoring.rubric import Rubric
    from jobimpact.store.scorings import ScoringKey

TASK_SCORE_COLUMNS = [
    "task_id",
    "prompt_sha256",
    "model_id",
    "rubric_hash",
    "question",
    "method",
    "head_id",
    "p_yes",
    "answer_mass",
    "run_id",
    "scored_at",
]

SELECT_TASKS_TO_SCORE = """
SELECT t.task_id, t.onet_soc_code, o.title AS occupation, t.task, o.soc_major, o.soc_code,
       e.oews_code
FROM tasks AS t JOIN occupations AS o USING (onet_soc_code)
LEFT JOIN employment AS e USING (onet_soc_code)
ORDER BY t.task_id
"""
# Prompt keys whose zero-shot answers cover every question asked.
SELECT_SCORED_KEYS = """
SELECT prompt_sha256 FROM task_scores
WHERE model_id = ? AND rubric_hash = ? AND head_id = ''
  AND question IN (SELECT unnest(?::VARCHAR[]))
GROUP BY prompt_sha256
HAVING count(DISTINCT question) = len(?::VARCHAR[])
"""
# Prompt keys that have a feature vector of this model (a scorer asking no question).
SELECT_FEATURED_KEYS = "SELECT prompt_sha256 FROM task_features WHERE model_id = ?"
INSERT_RUBRIC = """
INSERT INTO rubrics VALUES (?, ?, ?, ?, ?) ON CONFLICT (rubric_hash) DO NOTHING
"""
INSERT_RUBRIC_QUESTION = """
INSERT INTO rubric_questions VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING
"""
INSERT_FAILURE = "INSERT INTO scoring_failures VALUES (?, ?, ?, ?, ?, ?)"
# One row per task: the latest prompt wins when a task's text was scored twice.
SELECT_MEASURES = """
SELECT m.*, t.onet_soc_code, t.task_type, t.importance, t.relevance
FROM task_measures AS m JOIN tasks AS t USING (task_id)
WHERE m.model_id = ? AND m.rubric_hash = ? AND m.head_id = ?
QUALIFY row_number() OVER (PARTITION BY m.task_id ORDER BY m.scored_at DESC) = 1
ORDER BY m.task_id
"""


def tasks_to_score(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every task with its occupation title, major group, SOC code and OEWS code."""
    frame: pd.DataFrame = con.execute(SELECT_TASKS_TO_SCORE).df()
    return frame


def scored_keys(
    con: duckdb.DuckDBPyConnection, *, model_id: str, rubric_hash: str, questions: Sequence[str]
) -> set[str]:
    """Prompt keys this model and rubric have already done: answers to every one of
    ``questions`` zero-shot, or, when no question is asked, a feature vector."""
    if not questions:
        rows = con.execute(SELECT_FEATURED_KEYS, [model_id]).fetchall()
    else:
        asked = list(questions)
        rows = con.execute(SELECT_SCORED_KEYS, [model_id, rubric_hash, asked, asked]).fetchall()
    return {key for (key,) in rows}


def record_rubric(con: duckdb.DuckDBPyConnection, rubric: Rubric) -> None:
    """Keep the full text of a rubric and the role of each question, once, so every score's
    rubric can be read back and its answers reach the measures."""
    with transaction(con):
        con.execute(
            INSERT_RUBRIC,
            [rubric.hash, rubric.name, rubric.version, rubric.canonical(), now()],
        )
        con.executemany(
            INSERT_RUBRIC_QUESTION,
            [
                [rubric.hash, q.key, q.measure_role, position]
                for position, q in enumerate(rubric.questions)
            ],
        )


SELECT_ROLES = """
SELECT question, role FROM rubric_questions
WHERE rubric_hash = ? AND role IS NOT NULL ORDER BY position
"""


def rubric_roles(con: duckdb.DuckDBPyConnection, rubric_hash: str) -> dict[str, str]:
    """Question key → role of a stored rubric (questions that feed a measure)."""
    return dict(con.execute(SELECT_ROLES, [rubric_hash]).fetchall())


def task_score_rows(
    tasks: pd.DataFrame,
    answers: Sequence[Mapping[str, tuple[float, float | None]]],
    *,
    model_id: str,
    rubric_hash: str,
    head_id: str,
    run_id: str,
) -> pd.DataFrame:
    """``task_scores`` rows: one per task and question.

    ``tasks`` has ``task_id`` and ``prompt_sha256``; ``answers`` gives, per task, question
    → (P(Yes), answer mass or None). ``head_id`` '' marks zero-shot answers, a head id
    calibrated ones. ``method`` says where P(Yes) came from: ``calibrated`` (a head),
    ``zero-shot`` (the model's next-token probabilities) or ``zero-shot-text`` (a zero-shot
    answer without a mass: read from the model's text, P(Yes) 0 or 1).
    """
    at = now()
    rows = [
        {
            "task_id": int(task_id),
            "prompt_sha256": key,
            "model_id": model_id,
            "rubric_hash": rubric_hash,
            "question": question,
            "method": _method(head_id, mass),
            "head_id": head_id,
            "p_yes": float(p_yes),
            "answer_mass": None if mass is None else float(mass),
            "run_id": run_id,
            "scored_at": at,
        }
        for task_id, key, answer in zip(
            tasks["task_id"], tasks["prompt_sha256"], answers, strict=True
        )
        for question, (p_yes, mass) in answer.items()
    ]
    return pd.DataFrame(rows, columns=TASK_SCORE_COLUMNS)


def _method(head_id: str, mass: float | None) -> str:
    """``task_scores.method`` of an answer (see :func:`task_score_rows`)."""
    if head_id:
        return "calibrated"
    return "zero-shot-text" if mass is None else "zero-shot"


def feature_rows(
    tasks: pd.DataFrame,
    vectors: Sequence[npt.NDArray[np.float32]],
    *,
    model_id: str,
    rubric_hash: str,
    feature_spec: str,
    run_id: str,
) -> pd.DataFrame:
    """``task_features`` rows of a batch: one vector per prompt key, with its task."""
    return pd.DataFrame(
        {
            "prompt_sha256": tasks["prompt_sha256"].to_list(),
            "task_id": tasks["task_id"].astype(int).to_list(),
            "rubric_hash": rubric_hash,
            "model_id": model_id,
            "feature_spec": feature_spec,
            "vector": [np.asarray(v, dtype=np.float32).tolist() for v in vectors],
            "run_id": run_id,
            "computed_at": now(),
        }
    )


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
                "SELECT prompt_sha256, task_id, rubric_hash, model_id, feature_spec, "
                "vector::FLOAT[] AS vector, run_id, computed_at FROM _features"
            )
            con.unregister("_features")


def record_failures(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    task_ids: Sequence[int],
    model_id: str,
    rubric_hash: str,
    reasons: Sequence[str],
) -> None:
    """Record why these tasks could not be scored, one reason per task, in one transaction."""
    at = now()
    with transaction(con):
        con.executemany(
            INSERT_FAILURE,
            [
                [run_id, int(t), model_id, rubric_hash, reason, at]
                for t, reason in zip(task_ids, reasons, strict=True)
            ],
        )


# A task counts once, whether the run stored its answers, its features or both.
COUNT_RUN_SCORED = """
SELECT count(DISTINCT task_id) FROM (
    SELECT task_id FROM task_scores WHERE run_id = $run_id
    UNION ALL
    SELECT task_id FROM task_features WHERE run_id = $run_id
)
"""
COUNT_RUN_FAILED = "SELECT count(DISTINCT task_id) FROM scoring_failures WHERE run_id = ?"


def run_counts(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    """Tasks a scoring run stored scores for, and tasks it recorded as failed: what it
    committed, whatever it was doing when it ended."""
    scored = con.execute(COUNT_RUN_SCORED, {"run_id": run_id}).fetchone()
    failed = con.execute(COUNT_RUN_FAILED, [run_id]).fetchone()
    return {"scored": int(scored[0]) if scored else 0, "failed": int(failed[0]) if failed else 0}


def task_measures(con: duckdb.DuckDBPyConnection, scoring: ScoringKey) -> pd.DataFrame:
    """One scoring's measures, one row per task, with the inputs of the task weights."""
    frame: pd.DataFrame = con.execute(SELECT_MEASURES, scoring.params[:3]).df()
    return frame


# The tasks of some occupations with one scoring's measures and the inputs of their weights
# (one row per task: the latest prompt wins, as in the roll-up).
SELECT_OCCUPATION_TASKS = """
SELECT m.*, t.onet_soc_code, t.task, t.task_type, t.importance, t.relevance
FROM task_measures AS m JOIN tasks AS t USING (task_id)
WHERE m.model_id = ? AND m.rubric_hash = ? AND m.head_id = ?
  AND t.onet_soc_code IN (SELECT unnest(?::VARCHAR[]))
QUALIFY row_number() OVER (PARTITION BY m.task_id ORDER BY m.scored_at DESC) = 1
"""


def occupation_tasks(
    con: duckdb.DuckDBPyConnection, keys: Sequence[str], codes: Sequence[str]
) -> pd.DataFrame:
    """The scored tasks of the occupations ``codes`` under the scoring ``keys`` (model,
    rubric, head): text, type, ratings and measures, one row per task (the latest prompt
    wins when a task's text was scored twice, as in the roll-up)."""
    tasks: pd.DataFrame = con.execute(SELECT_OCCUPATION_TASKS, [*keys[:3], list(codes)]).df()
    return tasks


SELECT_OCCUPATION_EMPLOYMENT = """
SELECT onet_soc_code, n_tasks AS n_tasks_total, employment FROM occupation_overview
"""
DELETE_OCCUPATION_SCORES = """
DELETE FROM occupation_scores
WHERE model_id = ? AND rubric_hash = ? AND head_id = ? AND weighting = ?
"""


def occupation_employment(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each occupation's number of tasks and allocated employment."""
    frame: pd.DataFrame = con.execute(SELECT_OCCUPATION_EMPLOYMENT).df()
    return frame


def replace_occupation_scores(
    con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, scoring: ScoringKey
) -> None:
    """Replace the occupation roll-up of one scoring and weighting in one transaction."""
    with transaction(con):
        con.execute(DELETE_OCCUPATION_SCORES, scoring.params)
        con.register("_occupations", frame)
        con.execute("INSERT INTO occupation_scores BY NAME SELECT * FROM _occupations")
        con.unregister("_occupations")
