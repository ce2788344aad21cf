"""Reads and writes of the embedding and clustering stages."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd

from jobimpact.store import open_store, transaction
from jobimpact.store.runs import now

SELECT_VECTORS = """
SELECT e.text_sha256, e.vector FROM embeddings AS e
JOIN (SELECT unnest(?::VARCHAR[]) AS text_sha256) USING (text_sha256)
WHERE e.model_id = ?
"""
SELECT_TASK_TEXTS = "SELECT task_id, task, text_sha256 FROM tasks ORDER BY task_id"
SELECT_EMERGING_TEXTS = "SELECT emerging_id, task, text_sha256 FROM emerging_tasks ORDER BY 1"
SELECT_DWA_TEXTS = "SELECT dwa_id, dwa_title AS task, text_sha256 FROM dwas ORDER BY 1"
INSERT_CLUSTERING = "INSERT INTO clusterings VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
SELECT_CLUSTERING = "SELECT n_clusters, silhouette FROM clusterings WHERE clustering_id = ?"
CHILD_TABLES = ("task_clusters", "cluster_labels", "emerging_task_clusters")


class DuckDBEmbeddingCache:
    """Embedding cache in the store's ``embeddings`` table, keyed by text sha256 and model.

    Each ``put_many`` opens the store, writes one transaction and closes it, so an
    interrupted run keeps every finished batch and an analyst can read between batches.
    """

    def __init__(self, db: str) -> None:
        self.db = db

    def get_many(self, model_id: str, hashes: Sequence[str]) -> dict[str, npt.NDArray[np.float32]]:
        """Cached vectors of these hashes (missing ones are left out)."""
        with open_store(self.db) as con:
            rows = con.execute(SELECT_VECTORS, [list(hashes), model_id]).fetchall()
        return {key: np.asarray(vector, dtype=np.float32) for key, vector in rows}

    def put_many(self, model_id: str, items: Mapping[str, npt.NDArray[np.float32]]) -> None:
        """Store new vectors."""
        frame = pd.DataFrame(
            {
                "text_sha256": list(items),
                "model_id": model_id,
                "vector": [np.asarray(v, dtype=np.float32).tolist() for v in items.values()],
            }
        )
        with open_store(self.db) as con, transaction(con):
            con.register("_vectors", frame)
            con.execute(
                "INSERT OR REPLACE INTO embeddings "
                "SELECT text_sha256, model_id, vector::FLOAT[] FROM _vectors"
            )
            con.unregister("_vectors")


def texts(con: duckdb.DuckDBPyConnection, kind: str) -> pd.DataFrame:
    """Texts to embed: ``tasks``, ``emerging`` (emerging tasks) or ``dwas``."""
    query = {
        "tasks": SELECT_TASK_TEXTS,
        "emerging": SELECT_EMERGING_TEXTS,
        "dwas": SELECT_DWA_TEXTS,
    }
    frame: pd.DataFrame = con.execute(query[kind]).df()
    return frame


def stored_clustering(
    con: duckdb.DuckDBPyConnection, clustering_id: str
) -> tuple[int, float] | None:
    """(n_clusters, silhouette) of a stored clustering, or None."""
    row = con.execute(SELECT_CLUSTERING, [clustering_id]).fetchone()
    return (int(row[0]), float(row[1])) if row else None


def write_clustering(
    con: duckdb.DuckDBPyConnection,
    *,
    clustering: Mapping[str, Any],
    task_clusters: pd.DataFrame,
    labels: pd.DataFrame,
    emerging: pd.DataFrame,
) -> None:
    """Store one clustering with its assignments, labels and emerging-task links, atomically."""
    with transaction(con):
        for table in CHILD_TABLES:
            con.execute(
                f"DELETE FROM {table} WHERE clustering_id = ?", [clustering["clustering_id"]]
            )
        con.execute(
            "DELETE FROM clusterings WHERE clustering_id = ?", [clustering["clustering_id"]]
        )
        con.execute(
            INSERT_CLUSTERING,
            [
                clustering["clustering_id"],
                clustering["model_id"],
                clustering["method"],
                clustering["n_clusters"],
                clustering["silhouette"],
                json.dumps(clustering["k_scores"]),
                clustering["run_id"],
                now(),
            ],
        )
        for table, frame in zip(CHILD_TABLES, (task_clusters, labels, emerging), strict=True):
            con.register("_rows", frame)
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
            con.unregister("_rows")
