"""Tests of jobimpact.clustering on synthetic embeddings and tiny hand-checked corpora."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from jobimpact.clustering import (
    c_tf_idf,
    cluster_embeddings,
    label_clusters,
    nearest_cluster,
    project_2d,
)
from jobimpact.embedding import embed_texts
from jobimpact.embedding.fake import FakeEmbedder
from jobimpact.errors import ConfigError, DataError

pytest.importorskip("sklearn", reason="scikit-learn is not installed")

TASKS_FILE = (
    Path(__file__).resolve().parents[2] / "shared/data/onet/db_29_3_text/Task Statements.txt"
)

TOPICS = {
    "vehicles": "repair engine brakes truck diesel mechanic tires transmission vehicle",
    "finance": "budget financial report accounts audit ledger invoice tax revenue",
    "kitchen": "cook food kitchen menu recipe bake grill meals ingredients",
}


def _corpus(per_topic: int = 15, seed: int = 3) -> tuple[list[str], list[int]]:
    """Sentences of 5 words drawn from one topic's pool each, with the topic index."""
    rng = np.random.default_rng(seed)
    texts, topics = [], []
    for t, pool in enumerate(TOPICS.values()):
        words = pool.split()
        for _ in range(per_topic):
            texts.append(" ".join(rng.choice(words, size=5, replace=False)))
            topics.append(t)
    return texts, topics


class FixedLabels:
    """A stand-in clusterer whose fit_predict returns given labels."""

    def __init__(self, labels: list[int]) -> None:
        self.labels = labels

    def fit_predict(self, x: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
        return np.asarray(self.labels, dtype=np.int64)

    def __repr__(self) -> str:
        return "FixedLabels()"


def test_default_search_finds_the_topics_and_reruns_identically() -> None:
    texts, topics = _corpus()
    x = embed_texts(texts, embedder=FakeEmbedder(dimension=128))
    first = cluster_embeddings(x, k_range=range(2, 7))
    second = cluster_embeddings(x, k_range=range(2, 7))
    np.testing.assert_array_equal(first.labels, second.labels)
    np.testing.assert_array_equal(first.centroids, second.centroids)
    assert first.n_clusters == 3
    assert set(first.k_scores) == {2, 3, 4, 5, 6}
    assert max(first.k_scores, key=first.k_scores.__getitem__) == 3
    assert pd.crosstab(first.labels, np.asarray(topics)).gt(0).sum(axis=1).eq(1).all()
    assert first.silhouette > 0.1
    assert "KMeans(n_clusters=3" in first.method
    np.testing.assert_allclose(np.linalg.norm(first.centroids, axis=1), 1.0, rtol=1e-5)


def test_any_sklearn_estimator_can_be_passed() -> None:
    from sklearn.cluster import AgglomerativeClustering

    texts, topics = _corpus()
    x = embed_texts(texts, embedder=FakeEmbedder(dimension=128))
    result = cluster_embeddings(x, estimator=AgglomerativeClustering(n_clusters=3))
    assert result.k_scores == {}
    assert result.n_clusters == 3
    assert "AgglomerativeClustering" in result.method
    assert pd.crosstab(result.labels, np.asarray(topics)).gt(0).sum(axis=1).eq(1).all()


def test_labels_are_renumbered_by_size_and_noise_is_kept() -> None:
    x = np.eye(6, dtype=np.float32) + 0.1
    result = cluster_embeddings(x, estimator=FixedLabels([7, 7, 2, 2, 2, -1]))
    assert result.labels.tolist() == [1, 1, 0, 0, 0, -1]
    assert result.n_clusters == 2
    assert result.n_noise == 1
    expected = (x[2:5] / np.linalg.norm(x[2:5], axis=1, keepdims=True)).sum(axis=0)
    np.testing.assert_allclose(result.centroids[0], expected / np.linalg.norm(expected), rtol=1e-5)


def test_c_tf_idf_on_a_hand_checked_corpus() -> None:
    texts = ["apple apple banana", "the apple cherry", "banana banana dog", "dog and cherry"]
    classes, vocab, weights = c_tf_idf(texts, [0, 0, 1, 1])
    assert classes.tolist() == [0, 1]
    assert vocab == ["apple", "banana", "cherry", "dog"]  # "the", "and" are stop words
    # 5 counted words per class, A = 5; f: apple 3, banana 3, cherry 2, dog 2.
    w = {term: weights[:, i] for i, term in enumerate(vocab)}
    assert w["apple"][0] == pytest.approx(3 / 5 * math.log(1 + 5 / 3))
    assert w["dog"][1] == pytest.approx(2 / 5 * math.log(1 + 5 / 2))
    assert w["apple"][1] == 0.0

    frame = label_clusters(texts, [0, 0, 1, 1], np.eye(4), n_terms=3)
    assert frame["terms"].tolist() == [["apple", "cherry", "banana"], ["dog", "banana", "cherry"]]
    assert frame["label"].tolist() == ["apple, cherry, banana", "dog, banana, cherry"]
    assert frame["size"].tolist() == [2, 2]


def test_label_clusters_picks_central_distinct_examples() -> None:
    texts = ["north road", "north north road", "north east", "south", "south", "south west"]
    x = np.array([[1, 0], [0.9, 0.1], [0.6, 0.4], [0, 1], [0, 1], [0.3, 1]], dtype=np.float32)
    frame = label_clusters(texts, [0, 0, 0, 1, 1, 1], x, n_examples=2)
    assert frame["cluster_id"].tolist() == [0, 1]
    # Cluster 0 direction ~ (0.98, 0.20): row 1 is nearest, then row 0.
    assert frame.loc[0, "examples"] == ["north north road", "north road"]
    assert frame.loc[0, "example_rows"] == [1, 0]
    # The duplicate "south" is shown once.
    assert frame.loc[1, "examples"] == ["south", "south west"]
    assert frame.columns.tolist() == [
        "cluster_id",
        "size",
        "label",
        "terms",
        "examples",
        "example_rows",
    ]


def test_project_2d_pca_and_tsne_are_deterministic() -> None:
    texts, _ = _corpus(per_topic=14)
    x = embed_texts(texts, embedder=FakeEmbedder(dimension=64))
    pca = project_2d(x)
    assert pca.shape == (42, 2)
    np.testing.assert_array_equal(pca, project_2d(x, method="pca"))
    tsne = project_2d(x, method="tsne", random_state=1)
    assert tsne.shape == (42, 2)
    np.testing.assert_array_equal(tsne, project_2d(x, method="tsne", random_state=1))
    with pytest.raises(ConfigError, match="projection method: got 'umap'"):
        project_2d(x, method="umap")  # type: ignore[arg-type]


def test_nearest_cluster_uses_cosine_and_ids() -> None:
    centroids = np.array([[1.0, 0.0], [0.0, 1.0]])
    new = np.array([[3.0, 1.0], [0.2, 0.5]])
    labels, similarity = nearest_cluster(new, centroids)
    assert labels.tolist() == [0, 1]
    np.testing.assert_allclose(similarity, [3 / math.sqrt(10), 0.5 / math.sqrt(0.29)], rtol=1e-6)
    labels, _ = nearest_cluster(new, centroids, ids=[10, 20])
    assert labels.tolist() == [10, 20]
    with pytest.raises(DataError, match="embeddings_new: got width 3, expected 2"):
        nearest_cluster(np.ones((1, 3)), centroids)
    with pytest.raises(DataError, match=r"ids: got 1 rows, expected 2 \(one per centroid\)"):
        nearest_cluster(new, centroids, ids=[1])


def test_bad_inputs_raise_user_errors() -> None:
    with pytest.raises(DataError, match=r"embeddings: got shape \(3,\), expected"):
        cluster_embeddings(np.ones(3))
    with pytest.raises(DataError, match="got NaN or inf"):
        cluster_embeddings(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ConfigError, match=r"k_range: got \[50\], expected some k with 2 <= k < 4"):
        cluster_embeddings(np.eye(4), k_range=[50])
    with pytest.raises(DataError, match=r"labels: got 2 rows, expected 3 \(one per text\)"):
        label_clusters(["a b", "c d", "e f"], [0, 1], np.eye(3))
    with pytest.raises(DataError, match="got no words"):
        c_tf_idf(["the", "and"], [0, 1])


@pytest.mark.skipif(not TASKS_FILE.is_file(), reason="O*NET mirror not present")
def test_real_task_statements_get_readable_families() -> None:
    frame = pd.read_csv(TASKS_FILE, sep="\t", dtype=str, usecols=["Task"], nrows=1500)
    texts = frame["Task"].tolist()
    x = embed_texts(texts, embedder=FakeEmbedder(dimension=256))
    result = cluster_embeddings(x, k_range=[10, 20])
    assert result.n_clusters in (10, 20)
    labels = label_clusters(texts, result.labels, x)
    assert labels["size"].sum() == len(texts)
    assert labels["terms"].map(len).eq(6).all()
    assert labels["examples"].map(len).eq(3).all()
    assert labels["label"].str.fullmatch(r"[a-z]+(, [a-z]+){3}").all()


def test_label_skips_inflections_of_earlier_terms() -> None:
    texts = [
        "repair repairs repair pumps",
        "repair repairing valves",
        "teach students student lessons",
        "teach students classes",
    ]
    frame = label_clusters(texts, [0, 0, 1, 1], np.eye(4), n_terms=6)
    assert frame.loc[0, "terms"][:2] == ["repair", "pumps"]
    assert {"repairs", "repairing"} <= set(frame.loc[0, "terms"])
    first = frame.loc[0, "label"].split(", ")
    assert first[0] == "repair"
    assert not {"repairs", "repairing"} & set(first)
    second = frame.loc[1, "label"].split(", ")
    assert len({"student", "students"} & set(second)) == 1
