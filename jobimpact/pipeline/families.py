"""Task families: embed task statements, DWA titles and emerging tasks, then cluster the
task embeddings into labelled families with a map and the emerging tasks near each."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from jobimpact.errors import ConfigError, NotReadyError

if TYPE_CHECKING:
    from jobimpact.embedding import Embedder

__all__ = ["EMBEDDED_KINDS", "ClusterResult", "EmbedResult", "run_cluster", "run_embed"]

EMBEDDED_KINDS = ("tasks", "dwas", "emerging")


@dataclass(frozen=True)
class EmbedResult:
    """Texts of each kind now embedded (cached or new), and the run that did it."""

    counts: dict[str, int]
    run_id: str


@dataclass(frozen=True)
class ClusterResult:
    """A stored clustering: its id, size and quality, and whether it was reused."""

    clustering_id: str
    n_clusters: int
    silhouette: float
    reused: bool


def _texts(db: str | Path, kinds: Sequence[str]) -> dict[str, pd.DataFrame]:
    """The texts of each kind, from an ingested store."""
    from jobimpact.store import families as store_families
    from jobimpact.store import open_store

    unknown = [kind for kind in kinds if kind not in EMBEDDED_KINDS]
    if unknown:
        raise ConfigError(f"embed: got kind {unknown[0]!r}, expected one of {EMBEDDED_KINDS}")
    with open_store(db) as con:
        texts = {kind: store_families.texts(con, kind) for kind in kinds}
    if "tasks" in texts and texts["tasks"].empty:
        raise NotReadyError("got a store with no tasks, expected `jobimpact ingest` first")
    return texts


def run_embed(
    *,
    db: str | Path,
    embedder: Embedder,
    kinds: Sequence[str] = EMBEDDED_KINDS,
    batch_size: int = 1024,
    progress: bool = False,
) -> EmbedResult:
    """Embed task statements, DWA titles and emerging tasks into the store's cache.

    Identical texts are embedded once; a rerun embeds only texts not cached for this
    model, and an interrupted run keeps every batch of ``batch_size`` texts it finished.
    """
    from jobimpact.embedding import embed_texts
    from jobimpact.store import families as store_families
    from jobimpact.store.runs import stage_run

    texts = _texts(db, kinds)
    cache = store_families.DuckDBEmbeddingCache(str(db))
    parameters = {"model_id": embedder.model_id, "kinds": list(kinds)}
    with stage_run(db, stage="embed", parameters=parameters) as run:
        for kind, frame in texts.items():
            embed_texts(
                frame["task"].tolist(),
                embedder=embedder,
                cache=cache,
                batch_size=batch_size,
                progress=progress,
            )
            run.counts[kind] = len(frame)
    return EmbedResult(counts=dict(run.counts), run_id=run.run_id)


def run_cluster(
    *,
    db: str | Path,
    embedder: Embedder,
    estimator: Any = None,
    k_range: Sequence[int] | None = None,
    random_state: int = 0,
    force: bool = False,
) -> ClusterResult:
    """Cluster the task embeddings into task families; store labels, map and emerging links.

    The clustering is content-addressed by the embedding model, the estimator and the task
    texts: a rerun on the same inputs reuses it unless ``force``.

    Parameters
    ----------
    estimator : scikit-learn clusterer, optional
        Replaces the default (k-means, k chosen by silhouette; see
        :mod:`jobimpact.clustering`).
    k_range : sequence of int, optional
        Numbers of families the default k-means chooses among (100 to 200 in steps of 20
        by default); one number fixes it.
    """
    from jobimpact.extras import require
    from jobimpact.store import families as store_families
    from jobimpact.store import open_store
    from jobimpact.store.runs import stage_run

    require("sklearn", purpose="clustering task families")
    texts = _texts(db, ("tasks", "emerging"))
    tasks = texts["tasks"]
    if estimator is not None:
        method = repr(estimator)
    else:
        method = "default" if k_range is None else f"kmeans;k={','.join(map(str, k_range))}"
    identity = [embedder.model_id, method, random_state, *tasks["text_sha256"]]
    clustering_id = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:16]
    with open_store(db) as con:
        stored = store_families.stored_clustering(con, clustering_id)
    if stored is not None and not force:
        return ClusterResult(clustering_id, *stored, reused=True)
    parameters = {"model_id": embedder.model_id, "method": method, "seed": random_state}
    with stage_run(db, stage="cluster", parameters=parameters) as run:
        options = {"estimator": estimator, "random_state": random_state}
        if k_range is not None:
            options["k_range"] = list(k_range)
        result = _cluster(db, embedder, texts, clustering_id, options, run.run_id)
        run.counts = {
            "tasks": len(tasks),
            "clusters": result.n_clusters,
            "emerging_tasks": len(texts["emerging"]),
        }
    return result


def _cluster(
    db: str | Path,
    embedder: Embedder,
    texts: dict[str, pd.DataFrame],
    clustering_id: str,
    options: dict[str, Any],
    run_id: str,
) -> ClusterResult:
    """Embed (from the cache), cluster, label, project and store one clustering."""
    from jobimpact import clustering
    from jobimpact.embedding import embed_texts
    from jobimpact.store import families as store_families
    from jobimpact.store import open_store

    tasks, emerging = texts["tasks"], texts["emerging"]
    cache = store_families.DuckDBEmbeddingCache(str(db))
    vectors = embed_texts(tasks["task"].tolist(), embedder=embedder, cache=cache)
    result = clustering.cluster_embeddings(vectors, **options)
    labels = clustering.label_clusters(tasks["task"].tolist(), result.labels, vectors)
    coords = clustering.project_2d(vectors, random_state=options["random_state"])
    task_rows = pd.DataFrame(
        {
            "clustering_id": clustering_id,
            "task_id": tasks["task_id"],
            "cluster_id": result.labels,
            "x": coords[:, 0],
            "y": coords[:, 1],
        }
    )
    label_rows = labels[["cluster_id", "size", "label", "terms", "examples"]].assign(
        clustering_id=clustering_id
    )
    emerging_rows = pd.DataFrame(
        columns=["clustering_id", "emerging_id", "cluster_id", "similarity"]
    )
    if not emerging.empty:
        emerging_vectors = embed_texts(emerging["task"].tolist(), embedder=embedder, cache=cache)
        nearest, similarity = clustering.nearest_cluster(emerging_vectors, result.centroids)
        emerging_rows = pd.DataFrame(
            {
                "clustering_id": clustering_id,
                "emerging_id": emerging["emerging_id"],
                "cluster_id": nearest,
                "similarity": similarity,
            }
        )
    with open_store(db) as con:
        store_families.write_clustering(
            con,
            clustering={
                "clustering_id": clustering_id,
                "model_id": embedder.model_id,
                "method": result.method,
                "n_clusters": result.n_clusters,
                "silhouette": result.silhouette,
                "k_scores": {str(k): v for k, v in result.k_scores.items()},
                "run_id": run_id,
            },
            task_clusters=task_rows,
            labels=label_rows,
            emerging=emerging_rows,
        )
    return ClusterResult(clustering_id, result.n_clusters, result.silhouette, reused=False)
