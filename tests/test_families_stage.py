"""Embedding and clustering stages against the store."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from fixtures import query_rows
from sklearn.cluster import KMeans

from jobimpact.embedding.fake import FakeEmbedder
from jobimpact.pipeline import run_cluster, run_embed, run_score
from jobimpact.scoring.fake import FakeScorer


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, counting the texts it is asked to encode."""

    def __init__(self) -> None:
        super().__init__(dimension=64)
        self.encoded = 0

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.encoded += len(texts)
        return super().encode(texts)


def test_embed_caches_each_distinct_text_once(db: Path) -> None:
    embedder = CountingEmbedder()
    counts = run_embed(db=db, embedder=embedder).counts
    distinct = query_rows(
        db,
        "SELECT count(DISTINCT h) FROM (SELECT text_sha256 AS h FROM tasks UNION ALL "
        "SELECT text_sha256 FROM dwas UNION ALL SELECT text_sha256 FROM emerging_tasks)",
    )[0][0]
    assert counts["tasks"] == query_rows(db, "SELECT count(*) FROM tasks")[0][0]
    assert embedder.encoded == distinct
    assert query_rows(db, "SELECT count(*) FROM embeddings") == [(distinct,)]
    again = CountingEmbedder()
    run_embed(db=db, embedder=again)
    assert again.encoded == 0


def test_cluster_stores_families_and_reuses_them(db: Path) -> None:
    embedder = CountingEmbedder()
    first = run_cluster(
        db=db, embedder=embedder, estimator=KMeans(n_clusters=3, n_init=2, random_state=0)
    )
    assert (first.n_clusters, first.reused) == (3, False)
    n_tasks = query_rows(db, "SELECT count(*) FROM tasks")[0][0]
    assert query_rows(db, "SELECT count(*), count(DISTINCT cluster_id) FROM task_clusters") == [
        (n_tasks, 3)
    ]
    labels = query_rows(
        db, "SELECT size, label, len(examples) FROM cluster_labels ORDER BY cluster_id"
    )
    assert sum(size for size, _, _ in labels) == n_tasks
    assert all(label and n_examples >= 1 for _, label, n_examples in labels)
    n_emerging = query_rows(db, "SELECT count(*) FROM emerging_tasks")[0][0]
    assert query_rows(db, "SELECT count(*) FROM emerging_task_clusters") == [(n_emerging,)]
    again = run_cluster(
        db=db, embedder=embedder, estimator=KMeans(n_clusters=3, n_init=2, random_state=0)
    )
    assert again.reused and again.clustering_id == first.clustering_id


def test_family_view_joins_scores_and_emerging_tasks(db: Path) -> None:
    run_score(db=db, scorer=FakeScorer())
    run_cluster(
        db=db,
        embedder=FakeEmbedder(dimension=64),
        estimator=KMeans(n_clusters=2, n_init=2, random_state=0),
    )
    rows = query_rows(
        db,
        "SELECT sum(size), sum(n_emerging_tasks), min(displacement), max(displacement) "
        "FROM task_family_impact",
    )
    size, emerging, low, high = rows[0]
    assert size == query_rows(db, "SELECT count(*) FROM tasks")[0][0]
    assert emerging == query_rows(db, "SELECT count(*) FROM emerging_tasks")[0][0]
    assert 0 <= low <= high <= 1  # type: ignore[operator]
