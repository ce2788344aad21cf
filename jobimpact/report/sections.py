"""Report sections read from the store beside the roll-up: task families, validation,
and provenance (rubric, head, data sources, runs). Read-only; named queries with bound
parameters, like :mod:`jobimpact.report.summarize` which calls them."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd

__all__ = ["as_float", "families", "provenance", "validation"]

# Largest task families in the families table; emerging tasks shown per family.
N_FAMILIES = 10
N_EMERGING = 2


def as_float(value: Any) -> float | None:
    """A plain float, or None for NULL / NaN."""
    if value is None or pd.isna(value):
        return None
    return float(value)


SELECT_LATEST_CLUSTERING = """
SELECT clustering_id, model_id, method, n_clusters, silhouette, run_id, created_at
FROM clusterings ORDER BY created_at DESC LIMIT 1
"""
SELECT_FAMILIES = """
SELECT DISTINCT cluster_id, label, size, terms, examples, n_occupations, n_emerging_tasks
FROM task_family_impact WHERE clustering_id = ?
"""
SELECT_FAMILY_SCORES = """
SELECT cluster_id, n_tasks_scored, displacement, creation, employment, share_new
FROM task_family_impact
WHERE clustering_id = ? AND model_id = ? AND rubric_hash = ? AND head_id = ?
"""
SELECT_FAMILY_CENTRES = """
SELECT cluster_id, avg(x) AS x, avg(y) AS y, count(*) AS n_tasks
FROM task_clusters WHERE clustering_id = ? AND cluster_id >= 0
GROUP BY cluster_id
"""
SELECT_EMERGING_BY_FAMILY = """
SELECT c.cluster_id, e.task, e.category, c.similarity
FROM emerging_task_clusters AS c JOIN emerging_tasks AS e USING (emerging_id)
WHERE c.clustering_id = ?
ORDER BY c.cluster_id, c.similarity DESC
"""
SELECT_VALIDATION = """
SELECT * FROM validation_summary WHERE model_id = ? AND rubric_hash = ? AND head_id = ?
ORDER BY level DESC, metric, reference DESC, source DESC
"""
SELECT_RELIABILITY = """
SELECT source, bin, mean_predicted, observed_rate, n FROM validation_reliability
WHERE validation_id = ? ORDER BY source, bin
"""
SELECT_RUBRIC = "SELECT name, version, definition, created_at FROM rubrics WHERE rubric_hash = ?"
SELECT_HEAD = """
SELECT head_id, feature_spec, labels_name, n_tasks, n_occupations, n_folds, cv_metrics,
       created_at, run_id
FROM calibration_heads WHERE head_id = ?
"""
SELECT_SOURCES = """
SELECT source, version, count(*) AS n_files, min(origin) AS origin, min(ingested_at) AS ingested_at
FROM source_files GROUP BY ALL ORDER BY source
"""
SELECT_RUNS = """
SELECT run_id, stage, status, started_at, finished_at, parameters, counts, jobimpact_version
FROM runs
WHERE (stage = 'score'
       AND json_extract_string(parameters, '$.model_id') = ?
       AND json_extract_string(parameters, '$.rubric_hash') = ?)
   OR run_id IN (SELECT unnest(?::VARCHAR[]))
   OR run_id = (SELECT run_id FROM runs WHERE stage = 'ingest' AND status = 'done'
                ORDER BY started_at DESC LIMIT 1)
ORDER BY started_at
"""

# Where the zero-shot answers of a scoring came from: probabilities, or the model's text
# (servers that return no log-probabilities; task_scores.method = 'zero-shot-text').
COUNT_ANSWER_SOURCES = """
SELECT count(*) AS answers,
       count(*) FILTER (WHERE method = 'zero-shot-text') AS text_answers,
       count(DISTINCT task_id) FILTER (WHERE method = 'zero-shot-text') AS text_tasks
FROM task_scores
WHERE model_id = ? AND rubric_hash = ? AND head_id = ''
"""


def families(con: duckdb.DuckDBPyConnection, keys: Sequence[str]) -> dict[str, Any]:
    """The latest clustering's families with this scoring's measures, map and emerging tasks."""
    clustering = con.execute(SELECT_LATEST_CLUSTERING).df()
    if clustering.empty:
        return {"available": False, "clustering": None}
    info = clustering.iloc[0].to_dict()
    clustering_id = str(info["clustering_id"])
    families = con.execute(SELECT_FAMILIES, [clustering_id]).df()
    scores = con.execute(SELECT_FAMILY_SCORES, [clustering_id, *keys]).df()
    centres = con.execute(SELECT_FAMILY_CENTRES, [clustering_id]).df()
    emerging = con.execute(SELECT_EMERGING_BY_FAMILY, [clustering_id]).df()
    table = (
        families.merge(scores, on="cluster_id", how="left")
        .merge(centres, on="cluster_id", how="left")
        .sort_values(["size", "cluster_id"], ascending=[False, True])
        .reset_index(drop=True)
    )
    table["n_tasks_scored"] = table["n_tasks_scored"].fillna(0).astype(int)
    table["examples"] = table["examples"].map(_as_list)
    table["terms"] = table["terms"].map(_as_list)
    emerging_lists = emerging.groupby("cluster_id")["task"].apply(list).to_dict()
    table["emerging"] = [emerging_lists.get(c, [])[:N_EMERGING] for c in table["cluster_id"]]
    return {
        "available": True,
        "clustering": {
            "clustering_id": clustering_id,
            "model_id": str(info["model_id"]),
            "method": str(info["method"]),
            "n_clusters": int(info["n_clusters"]),
            "silhouette": as_float(info["silhouette"]),
            "run_id": str(info["run_id"]),
            "created_at": info["created_at"],
        },
        "table": table,
        "largest": table.head(N_FAMILIES),
        "n_scored": int((table["n_tasks_scored"] > 0).sum()),
        "n_emerging": len(emerging),
    }


def _as_list(value: Any) -> list[str]:
    """A DuckDB list column value as a plain list of strings."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    return [str(item) for item in value]


def validation(con: duckdb.DuckDBPyConnection, keys: Sequence[str]) -> dict[str, Any]:
    """The latest validation of this scoring: metrics and reliability curve, if any."""
    metrics = con.execute(SELECT_VALIDATION, list(keys)).df()
    if metrics.empty:
        return {"available": False}
    first = metrics.iloc[0]
    reliability = con.execute(SELECT_RELIABILITY, [str(first["validation_id"])]).df()
    return {
        "available": True,
        # exposure against the labels of Eloundou et al.; the creation checks (other
        # references) are read by jobimpact.report.creation
        "table": _validation_table(metrics[metrics["reference"].isin(EXPOSURE_REFERENCES)]),
        "validation_id": str(first["validation_id"]),
        "run_id": str(first["run_id"]),
        "mode": str(first["mode"]),
        "labels_name": str(first["labels_name"]),
        "created_at": first["created_at"],
        "metrics": metrics,
        "reliability": reliability,
    }


METRIC_NAMES = {
    "auc_exposed": "AUC: exposed (E1 or E2) against not, from zeta",
    "auc_e1": "AUC: directly exposed (E1) against not, from alpha",
    "kappa": "Cohen's kappa, three exposure classes",
    "brier_exposed": "Brier score of P(exposed) (lower is better)",
    "auc_automation": "AUC: automation (GPT-4 T3 or above)",
    "pearson_beta": "Pearson r of occupation beta",
    "spearman_beta": "Spearman rank correlation of occupation beta",
}
EXPOSURE_REFERENCES = ("human", "gpt4")
# (source of the scores, reference labels) → column of the validation table.
VALIDATION_COLUMNS = {
    ("ours", "human"): "ours_human",
    ("gpt4", "human"): "gpt4_human",
    ("ours", "gpt4"): "ours_gpt4",
}


def _validation_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per level and metric: ours against the human labels (with its interval),
    GPT-4's labels against the human labels (the paper's reference), ours against GPT-4."""
    rows = []
    for (level, metric), group in metrics.groupby(["level", "metric"], sort=False):
        row: dict[str, Any] = {
            "level": level,
            "metric": metric,
            "name": METRIC_NAMES.get(str(metric), str(metric)),
            "n": int(group["n"].max()),
        }
        for column in VALIDATION_COLUMNS.values():
            row.update({column: None, f"{column}_low": None, f"{column}_high": None})
        for found in group.to_dict("records"):
            name = VALIDATION_COLUMNS.get((str(found["source"]), str(found["reference"])))
            if name is not None:
                row[name] = as_float(found["value"])
                row[f"{name}_low"] = as_float(found["ci_low"])
                row[f"{name}_high"] = as_float(found["ci_high"])
        rows.append(row)
    return pd.DataFrame(rows)


def _json(value: Any) -> Any:
    """A JSON column value (DuckDB returns text) as Python data."""
    if isinstance(value, str):
        return json.loads(value)
    return value


def provenance(
    con: duckdb.DuckDBPyConnection, scoring: dict[str, Any], clustering: dict[str, Any] | None
) -> dict[str, Any]:
    """Rubric, calibration head, data sources, the runs behind the report, and how many
    zero-shot answers were read from text rather than probabilities (``answer_sources``)."""
    rubric_row = con.execute(SELECT_RUBRIC, [scoring["rubric_hash"]]).fetchone()
    rubric = None
    if rubric_row is not None:
        definition = _json(rubric_row[2])
        rubric = {
            "name": rubric_row[0],
            "version": rubric_row[1],
            "hash": scoring["rubric_hash"],
            "system": definition.get("system", ""),
            "questions": definition.get("questions", []),
            "task_template": definition.get("task_template", ""),
            "question_template": definition.get("question_template", ""),
        }
    head = None
    if scoring["head_id"]:
        heads = con.execute(SELECT_HEAD, [scoring["head_id"]]).df()
        if not heads.empty:
            head = heads.iloc[0].to_dict()
            head["cv_metrics"] = _json(head["cv_metrics"])
    extra_runs = [
        run for run in (scoring.get("aggregate_run_id"), clustering and clustering["run_id"]) if run
    ]
    runs = con.execute(SELECT_RUNS, [scoring["model_id"], scoring["rubric_hash"], extra_runs]).df()
    runs["parameters"] = runs["parameters"].map(_json)
    runs["counts"] = runs["counts"].map(_json)
    backends = sorted(
        {
            str(p.get("backend"))
            for stage, p in zip(runs["stage"], runs["parameters"], strict=True)
            if stage == "score" and isinstance(p, dict) and p.get("backend")
        }
    )
    sources = con.execute(SELECT_SOURCES).df()
    counted = con.execute(
        COUNT_ANSWER_SOURCES, [scoring["model_id"], scoring["rubric_hash"]]
    ).fetchone()
    answers, text_answers, text_tasks = counted if counted else (0, 0, 0)
    return {
        "rubric": rubric,
        "head": head,
        "runs": runs,
        "backends": backends,
        "answer_sources": {
            "answers": int(answers),
            "text_answers": int(text_answers),
            "text_tasks": int(text_tasks),
        },
        "sources": sources,
        "versions": dict(zip(sources["source"], sources["version"], strict=True)),
    }
