"""Task families: clustering of task embeddings, c-TF-IDF labels, 2-D maps.

All functions take and return plain arrays and DataFrames; persisting them is the
store's job. Rows of ``embeddings`` are compared by cosine similarity: they are
L2-normalised before clustering, so k-means on them is spherical k-means in effect.

Default clusterer (measured)
----------------------------
On the 18,796 O*NET 29.3 task statements embedded with all-MiniLM-L6-v2: cosine
silhouette on a fixed 6,000-task sample (seed 0), and adjusted mutual information
(AMI) with the O*NET intermediate work activity (IWA, 332 of them) of each task's
first detailed work activity, as an outside check of whether families read as
activities:

==========================  ======  ======  ======  ======  ======  ======
silhouette                  k=20    k=60    k=100   k=160   k=200   k=300
==========================  ======  ======  ======  ======  ======  ======
KMeans (n_init=3)           0.069   0.058   0.067   0.078   0.079   0.088
MiniBatchKMeans (n_init=3)  0.052   0.056   0.058   0.068   0.071   0.060
Agglomerative, Ward         0.018   0.015   0.007   0.025   0.032   0.039
Agglomerative, average cos  -0.066  -0.041  -0.030  -0.013  -0.005  -0.004
KMeans: AMI with IWA        0.324   0.370   0.371   0.368   0.364   0.354
==========================  ======  ======  ======  ======  ======  ======

HDBSCAN (on PCA-50, min_cluster_size 10/25/50) scores 0.37/0.30/0.19 on the rows it
clusters but leaves 83-88 % of tasks as noise, so most tasks get no family.
MiniBatchKMeans leaves clusters of a single task; average linkage makes one giant
cluster. KMeans has the best silhouette at every k. Its silhouette keeps rising past
k=60 because O*NET repeats near-identical tasks across occupations (e.g. the
postsecondary teachers' "office hours", "committees"), which finer k isolates; the
agreement with IWAs is flat from k=60 to 200 and falls after (0.353 at k=240). The default therefore
searches k in 100..200 (step 20) by silhouette of k-means fitted on the 6,000-task
sample (these track the full fits within 0.004) and fits the chosen k on all rows;
on the O*NET tasks it picks k=200, about 94 tasks per family, with labels such as
"complaints, resolve, customer, respond" or "funeral, deceased, death, home".
At k=20 labels stay readable but too broad to be task families (one "patients,
health, care, medical" cluster holds 1,070 tasks).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from jobimpact.errors import ConfigError, DataError

__all__ = [
    "DEFAULT_K_RANGE",
    "ClusterResult",
    "c_tf_idf",
    "cluster_embeddings",
    "label_clusters",
    "nearest_cluster",
    "project_2d",
]

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

#: Candidate numbers of clusters of the default k-means search.
DEFAULT_K_RANGE = range(100, 201, 20)
#: Rows used to pick k and to compute silhouettes (all rows when fewer).
SAMPLE_SIZE = 6000
_N_INIT = 3
_TOKENS = r"(?u)\b[a-zA-Z][a-zA-Z]+\b"  # words of 2+ letters: drop numbers and codes


@dataclass(frozen=True)
class ClusterResult:
    """Cluster assignment of a set of embeddings.

    Attributes
    ----------
    labels : numpy.ndarray
        int64 cluster id per row; ids run 0..n_clusters-1 from the largest cluster
        down, -1 marks rows a density clusterer left unassigned.
    centroids : numpy.ndarray
        float32 ``(n_clusters, dim)``, unit-length mean direction of each cluster, row
        ``i`` for cluster ``i``.
    silhouette : float
        Cosine silhouette on a fixed sample of the clustered rows (NaN below 2 clusters).
    method : str
        The fitted estimator with its parameters, for provenance.
    k_scores : dict[int, float]
        Silhouette per candidate k of the default search (empty for a given estimator).
    """

    labels: IntArray
    centroids: FloatArray
    silhouette: float
    method: str
    k_scores: dict[int, float] = field(default_factory=dict)

    @property
    def n_clusters(self) -> int:
        """Number of clusters, not counting the -1 noise label."""
        return int(self.centroids.shape[0])

    @property
    def n_noise(self) -> int:
        """Rows left without a cluster (label -1)."""
        return int(np.sum(self.labels < 0))


def cluster_embeddings(
    embeddings: npt.ArrayLike,
    *,
    estimator: Any = None,
    k_range: Iterable[int] = DEFAULT_K_RANGE,
    random_state: int = 0,
) -> ClusterResult:
    """Group embeddings into task families.

    Parameters
    ----------
    embeddings : array-like
        ``(n, dim)`` vectors; rows are L2-normalised before clustering.
    estimator : scikit-learn clusterer, optional
        Any object with ``fit_predict`` (KMeans, AgglomerativeClustering, HDBSCAN …),
        used as given. Default: k-means with k picked from ``k_range`` by silhouette
        (see the module docstring for why).
    k_range : iterable of int, default range(100, 201, 20)
        Candidate numbers of clusters for the default search; ignored with ``estimator``.
    random_state : int, default 0
        Seed of k-means, of the sample for k and of the silhouette sample: a rerun on
        the same input gives the same labels.

    Returns
    -------
    ClusterResult

    Raises
    ------
    DataError
        When ``embeddings`` is not a 2-D array of finite numbers with at least 2 rows.
    ConfigError
        When ``k_range`` holds no usable k (2 <= k < number of rows).
    """
    x = _normalised(embeddings)
    k_scores: dict[int, float] = {}
    if estimator is None:
        k, k_scores = _pick_k(x, _usable_ks(k_range, len(x)), random_state)
        estimator = _kmeans(k, random_state, n_init=_N_INIT)
    raw = np.asarray(estimator.fit_predict(x), dtype=np.int64)
    labels = _relabel_by_size(raw)
    return ClusterResult(
        labels=labels,
        centroids=_centroids(x, labels),
        silhouette=_silhouette(x, labels, random_state),
        method=repr(estimator),
        k_scores=k_scores,
    )


def _normalised(embeddings: npt.ArrayLike, name: str = "embeddings") -> FloatArray:
    """Return float32 unit-length rows, raising DataError on bad shapes or values."""
    x = np.asarray(embeddings, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise DataError(name, f"got shape {x.shape}, expected (rows >= 2, dim >= 1)")
    if not np.isfinite(x).all():
        raise DataError(name, "got NaN or inf, expected finite numbers")
    return _unit(x)


def _usable_ks(k_range: Iterable[int], n: int) -> list[int]:
    """Return the candidate k in [2, n) in ascending order, or raise ConfigError."""
    given = sorted({int(k) for k in k_range})
    usable = [k for k in given if 2 <= k < n]
    if not usable:
        raise ConfigError(f"k_range: got {given}, expected some k with 2 <= k < {n} (rows)")
    return usable


def _kmeans(k: int, random_state: int, *, n_init: int) -> Any:
    """Return an unfitted KMeans with fixed seed."""
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=n_init, random_state=random_state)


def _sample_rows(n: int, random_state: int) -> IntArray:
    """Return a fixed, sorted sample of at most SAMPLE_SIZE row indices."""
    if n <= SAMPLE_SIZE:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n, SAMPLE_SIZE, replace=False)).astype(np.int64)


def _pick_k(x: FloatArray, ks: list[int], random_state: int) -> tuple[int, dict[int, float]]:
    """Fit k-means on a sample for each k; return the best k by silhouette and all scores."""
    from sklearn.metrics import silhouette_score

    sample = x[_sample_rows(len(x), random_state)]
    scores: dict[int, float] = {}
    for k in ks:
        if k >= len(sample):
            continue
        labels = _kmeans(k, random_state, n_init=1).fit_predict(sample)
        scores[k] = float(silhouette_score(sample, labels, metric="cosine"))
    if not scores:
        return ks[0], scores
    best = max(scores.items(), key=lambda item: (item[1], -item[0]))  # ties: fewer clusters
    return best[0], scores


def _relabel_by_size(raw: IntArray) -> IntArray:
    """Renumber clusters 0.. by size (largest first, ties by first row); keep -1 as noise."""
    ids = [c for c in np.unique(raw) if c >= 0]
    first = {c: int(np.argmax(raw == c)) for c in ids}
    sizes = {c: int(np.sum(raw == c)) for c in ids}
    order = sorted(ids, key=lambda c: (-sizes[c], first[c]))
    mapping = np.full(int(raw.max(initial=-1)) + 2, -1, dtype=np.int64)
    for new, old in enumerate(order):
        mapping[old + 1] = new
    return mapping[raw + 1]


def _centroids(x: FloatArray, labels: IntArray) -> FloatArray:
    """Return the unit-length mean direction of each cluster 0..max(labels)."""
    k = int(labels.max(initial=-1)) + 1
    sums = np.zeros((k, x.shape[1]), dtype=np.float64)
    keep = labels >= 0
    np.add.at(sums, labels[keep], x[keep])
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: FloatArray = (sums / norms).astype(np.float32)
    return out


def _silhouette(x: FloatArray, labels: IntArray, random_state: int) -> float:
    """Cosine silhouette of the clustered rows on a fixed sample (NaN if undefined)."""
    from sklearn.metrics import silhouette_score

    rows = np.flatnonzero(labels >= 0)
    rows = rows[_sample_rows(len(rows), random_state)]
    n_labels = len(np.unique(labels[rows]))
    if n_labels < 2 or n_labels >= len(rows):
        return float("nan")
    return float(silhouette_score(x[rows], labels[rows], metric="cosine"))


def c_tf_idf(
    texts: Sequence[str], labels: npt.ArrayLike
) -> tuple[npt.NDArray[np.int64], list[str], npt.NDArray[np.float64]]:
    """Class-based TF-IDF: how distinctive each word is of each cluster.

    All texts of a cluster form one document. For term t and cluster c,
    ``w(t, c) = tf(t, c) / words(c) * log(1 + A / f(t))`` where ``tf`` counts t in c,
    ``words(c)`` is the number of counted words in c, ``f(t)`` counts t over all
    clusters and ``A`` is the mean number of words per cluster. English stop words and
    tokens with digits are dropped; words are lower-cased.

    Parameters
    ----------
    texts : Sequence[str]
        One text per row.
    labels : array-like of int
        Cluster id per row.

    Returns
    -------
    tuple
        Sorted cluster ids, the vocabulary, and the dense ``(clusters, terms)`` weights.

    Raises
    ------
    DataError
        When the lengths differ or no cluster has a countable word.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    ids = np.asarray(labels, dtype=np.int64)
    _check_rows("labels", len(ids), len(texts))
    classes = np.unique(ids)
    docs = [" ".join(texts[int(i)] for i in np.flatnonzero(ids == c)) for c in classes]
    vectorizer = CountVectorizer(stop_words="english", token_pattern=_TOKENS, lowercase=True)
    try:
        counts = vectorizer.fit_transform(docs).toarray().astype(np.float64)
    except ValueError as exc:  # empty vocabulary
        raise DataError("texts", "got no words after stop-word removal, expected text") from exc
    words = counts.sum(axis=1, keepdims=True)
    words[words == 0] = 1.0
    idf = np.log1p(counts.sum() / len(classes) / counts.sum(axis=0))
    return classes, list(vectorizer.get_feature_names_out()), counts / words * idf


def label_clusters(
    texts: Sequence[str],
    labels: npt.ArrayLike,
    embeddings: npt.ArrayLike,
    *,
    n_terms: int = 6,
    n_examples: int = 3,
) -> pd.DataFrame:
    """Describe each cluster by its distinctive words and its most central texts.

    Parameters
    ----------
    texts : Sequence[str]
        Task statement per row.
    labels : array-like of int
        Cluster id per row (-1 = noise, described like a cluster).
    embeddings : array-like
        ``(n, dim)`` vectors of the rows, used to find central examples.
    n_terms : int, default 6
        Distinctive terms per cluster (c-TF-IDF, see :func:`c_tf_idf`).
    n_examples : int, default 3
        Distinct texts closest to the cluster's mean direction.

    Returns
    -------
    pandas.DataFrame
        One row per cluster id, ascending: ``cluster_id``, ``size``, ``label`` (the top
        four terms joined by ", ", inflections of an earlier term such as "repairs"
        after "repair" left out), ``terms`` (list of str, most distinctive first),
        ``examples`` (list of str, most central first) and ``example_rows`` (their
        row positions in the input).

    Raises
    ------
    DataError
        When the inputs have different numbers of rows.
    """
    x = _normalised(embeddings)
    ids = np.asarray(labels, dtype=np.int64)
    _check_rows("labels", len(ids), len(texts))
    _check_rows("embeddings", len(x), len(texts))
    classes, vocab, weights = c_tf_idf(texts, ids)
    records = []
    for row, cluster in enumerate(classes):
        terms = _top_terms(weights[row], vocab, n_terms)
        members = np.flatnonzero(ids == cluster)
        central = _central_rows(x, members, texts, n_examples)
        records.append(
            {
                "cluster_id": int(cluster),
                "size": len(members),
                "label": _readable_label(terms),
                "terms": terms,
                "examples": [texts[i] for i in central],
                "example_rows": central,
            }
        )
    columns = ["cluster_id", "size", "label", "terms", "examples", "example_rows"]
    return pd.DataFrame.from_records(records, columns=columns)


def _check_rows(name: str, got: int, expected: int, per: str = "text") -> None:
    """Raise DataError unless an input has one row per text (or per ``per``)."""
    if got != expected:
        raise DataError(name, f"got {got} rows, expected {expected} (one per {per})")


def _readable_label(terms: list[str], n: int = 4) -> str:
    """Join the first ``n`` terms, skipping inflections of an earlier one (repair/repairs)."""
    kept: list[str] = []
    for term in terms:
        if not any(_same_stem(term, k) for k in kept):
            kept.append(term)
    return ", ".join(kept[:n])


def _same_stem(a: str, b: str) -> bool:
    """Crude stem match: the words share their first five letters (or all of the shorter)."""
    size = min(5, len(a), len(b))
    return a[:size] == b[:size]


def _top_terms(weights: npt.NDArray[np.float64], vocab: list[str], n: int) -> list[str]:
    """Return the ``n`` highest-weighted terms (ties alphabetical), skipping zero weights."""
    order = np.lexsort((np.asarray(vocab), -weights))  # last key sorts first
    return [vocab[i] for i in order[:n] if weights[i] > 0]


def _central_rows(x: FloatArray, members: IntArray, texts: Sequence[str], n: int) -> list[int]:
    """Return up to ``n`` members with distinct texts, closest to the cluster direction."""
    direction = x[members].sum(axis=0)
    similarity = x[members] @ direction
    chosen: list[int] = []
    seen: set[str] = set()
    for i in members[np.argsort(-similarity, kind="stable")]:
        if texts[i] not in seen:
            seen.add(texts[i])
            chosen.append(int(i))
        if len(chosen) == n:
            break
    return chosen


def project_2d(
    embeddings: npt.ArrayLike,
    *,
    method: Literal["pca", "tsne"] = "pca",
    random_state: int = 0,
) -> npt.NDArray[np.float64]:
    """Map embeddings to 2-D for a scatter plot.

    Parameters
    ----------
    embeddings : array-like
        ``(n, dim)`` vectors, n >= 2; rows are L2-normalised first.
    method : {"pca", "tsne"}, default "pca"
        PCA keeps global structure and is instant; t-SNE (after PCA to 50 dimensions)
        separates local groups, about a minute for 20,000 rows.
    random_state : int, default 0
        Seed: the same input gives the same map.

    Returns
    -------
    numpy.ndarray
        float64 ``(n, 2)``.

    Raises
    ------
    ConfigError
        When ``method`` is unknown.
    DataError
        When ``embeddings`` is not a 2-D array with at least 2 rows.
    """
    if method not in ("pca", "tsne"):
        raise ConfigError(f"projection method: got {method!r}, expected 'pca' or 'tsne'")
    from sklearn.decomposition import PCA

    x = _normalised(embeddings)
    if method == "pca":
        pca = PCA(n_components=min(2, *x.shape), random_state=random_state)
        return _pad_2d(pca.fit_transform(x))
    from sklearn.manifold import TSNE

    if x.shape[1] > 50 and x.shape[0] > 50:
        x = PCA(n_components=50, random_state=random_state).fit_transform(x).astype(np.float32)
    tsne = TSNE(
        n_components=2,
        perplexity=float(min(30.0, max(1.0, (len(x) - 1) / 3))),
        init="pca",
        # Exact gradients are quicker than Barnes-Hut's tree on small inputs.
        method="exact" if len(x) <= 1000 else "barnes_hut",
        random_state=random_state,
    )
    return np.asarray(tsne.fit_transform(x), dtype=np.float64)


def _pad_2d(coords: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Return ``coords`` as float64 with exactly two columns (zeros when fewer)."""
    arr = np.asarray(coords, dtype=np.float64)
    out = np.zeros((arr.shape[0], 2), dtype=np.float64)
    out[:, : arr.shape[1]] = arr
    return out


def nearest_cluster(
    embeddings_new: npt.ArrayLike,
    centroids: npt.ArrayLike,
    *,
    ids: Sequence[int] | None = None,
) -> tuple[IntArray, FloatArray]:
    """Assign new rows (e.g. O*NET emerging tasks) to the most similar cluster.

    Parameters
    ----------
    embeddings_new : array-like
        ``(m, dim)`` vectors of the new texts, from the same embedder as the clusters.
    centroids : array-like
        ``(k, dim)`` cluster directions, e.g. :attr:`ClusterResult.centroids`.
    ids : Sequence[int], optional
        Cluster id of each centroid row; default the row number.

    Returns
    -------
    labels : numpy.ndarray
        int64 cluster id per new row.
    similarity : numpy.ndarray
        float32 cosine similarity to that cluster's centroid.

    Raises
    ------
    DataError
        When the widths differ, ``ids`` has the wrong length, or there are no centroids.
    """
    new = np.atleast_2d(np.asarray(embeddings_new, dtype=np.float32))
    cents = np.atleast_2d(np.asarray(centroids, dtype=np.float32))
    if cents.shape[0] == 0 or new.ndim != 2 or cents.ndim != 2:
        raise DataError("centroids", f"got shape {cents.shape}, expected (clusters >= 1, dim)")
    if new.shape[1] != cents.shape[1]:
        raise DataError(
            "embeddings_new", f"got width {new.shape[1]}, expected {cents.shape[1]} (centroids)"
        )
    id_array = np.arange(len(cents), dtype=np.int64) if ids is None else np.asarray(ids, np.int64)
    _check_rows("ids", len(id_array), len(cents), per="centroid")
    similarity = _unit(new) @ _unit(cents).T
    best = np.argmax(similarity, axis=1)
    return id_array[best], similarity[np.arange(len(new)), best].astype(np.float32)


def _unit(x: FloatArray) -> FloatArray:
    """Scale rows to unit length, leaving zero rows at zero."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0  # zero rows stay zero rather than NaN
    out: FloatArray = (x / norms).astype(np.float32, copy=False)
    return out
