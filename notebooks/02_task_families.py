# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2. Task families
#
# O*NET repeats similar work in many occupations ("prepare reports", "schedule
# appointments"). jobimpact clusters the embeddings of all task statements into task
# families, labels each family by its most distinctive words and its most central tasks,
# places it on a 2-D map, and attaches each O*NET *emerging task* (new work O*NET has
# proposed for an occupation) to its nearest family. This notebook reads those results
# and reclusters with another estimator to see how much the families depend on that
# choice.
#
# Set `JOBIMPACT_DB` to the store to read. Nothing here writes to it.

# %% tags=["parameters"]
import os
from pathlib import Path

DB = Path(os.environ.get("JOBIMPACT_DB", "../data/jobimpact.duckdb"))

# %%
# %matplotlib inline
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.metrics import adjusted_mutual_info_score

import jobimpact

pd.set_option("display.max_colwidth", 90)

# %% [markdown]
# ## The stored clustering
#
# A clustering is identified by the embedding model, the estimator and the task texts.
# The silhouette (cosine, on a fixed sample) is low for text embeddings of short
# statements; it is useful for comparing settings, not as an absolute grade.

# %%
clusterings = jobimpact.query(
    DB,
    "SELECT clustering_id, model_id, method, n_clusters, silhouette, created_at "
    "FROM clusterings ORDER BY created_at DESC",
)
if clusterings.empty:
    raise RuntimeError(f"{DB} has no task families yet: run `jobimpact embed` and `cluster`")
clustering = clusterings.iloc[0]  # the latest
CLUSTERING = str(clustering["clustering_id"])
clusterings

# %% [markdown]
# Family scores come from the task scores of one scoring (model, rubric, head): the one
# the report shows, chosen by `jobimpact.resolve_scoring` (see the quickstart notebook).
# A family's displacement and creation are means over its scored tasks,
# each weighted by its occupation's employment divided among the occupation's tasks.
# After a `--sample` run most families have only a few scored tasks (`n_tasks_scored`):
# their means are noisy.

# %%
with jobimpact.open_store(DB, read_only=True) as con:
    SCORING = jobimpact.resolve_scoring(con, aggregated=True, where=str(DB))
print("scoring:", SCORING.describe())

FAMILY_LABELS = """
SELECT DISTINCT cluster_id, label, size, n_occupations, n_emerging_tasks, share_new
FROM task_family_impact WHERE clustering_id = ?
"""
FAMILY_SCORES = """
SELECT cluster_id, n_tasks_scored, displacement, creation
FROM task_family_impact
WHERE clustering_id = ? AND model_id = ? AND rubric_hash = ? AND head_id = ?
"""
family_scores = jobimpact.query(
    DB, FAMILY_SCORES, [CLUSTERING, SCORING.model_id, SCORING.rubric_hash, SCORING.head_id]
)
families = (
    jobimpact.query(DB, FAMILY_LABELS, [CLUSTERING])
    .merge(family_scores, on="cluster_id", how="left")
    .sort_values("size", ascending=False)
    .reset_index(drop=True)
)
families.head(12).round(3)

# %% [markdown]
# Families that span many occupations are the shared building blocks of work; a score
# that changes for such a family changes many occupations at once. Below, the families
# with the highest displacement among those with at least a few scored tasks.

# %%
MIN_SCORED = 5
(
    families[families["n_tasks_scored"] >= MIN_SCORED]
    .sort_values("displacement", ascending=False)
    .head(10)[
        [
            "label",
            "size",
            "n_occupations",
            "n_tasks_scored",
            "displacement",
            "creation",
        ]
    ]
    .round(3)
)

# %% [markdown]
# ## The map
#
# Each point is a task statement, placed by a PCA projection of its embedding: nearby
# points have similar wording and meaning. The ten largest families are coloured, the
# rest grey. Families that overlap on the map can still be separate in the full
# embedding space; two dimensions show only its broadest directions.

# %%
points = jobimpact.query(
    DB,
    "SELECT task_id, cluster_id, x, y FROM task_clusters WHERE clustering_id = ?",
    [CLUSTERING],
)
largest = families.head(10).set_index("cluster_id")["label"]
points["family"] = points["cluster_id"].map(
    lambda c: ", ".join(str(largest[c]).split(", ")[:3]) if c in largest.index else "other"
)
shown = points.sample(min(len(points), 6000), random_state=0)
figure = Figure(figsize=(9, 6))
ax = figure.subplots()
sns.scatterplot(
    data=shown[shown["family"] == "other"],
    x="x",
    y="y",
    color="#cccccc",
    s=6,
    linewidth=0,
    ax=ax,
    legend=False,
)
sns.scatterplot(
    data=shown[shown["family"] != "other"],
    x="x",
    y="y",
    hue="family",
    s=9,
    linewidth=0,
    palette="tab10",
    ax=ax,
)
ax.set(title="Task statements on the embedding map (PCA)", xlabel="map axis 1", ylabel="map axis 2")
ax.legend(fontsize=7, markerscale=2, loc="center left", bbox_to_anchor=(1, 0.5))
figure.tight_layout()
figure

# %% [markdown]
# The same map with one bubble per family, at the mean position of its tasks, sized by
# its number of tasks and coloured by its displacement and creation (the report's
# figure, for the latest clustering and the same scoring). Families without scored
# tasks are drawn hollow.

# %%
report = jobimpact.Report.from_store(
    DB,
    model_id=SCORING.model_id,
    rubric_hash=SCORING.rubric_hash,
    head_id=SCORING.head_id,
    weighting=SCORING.weighting or "rating",
)
report.figures()["families"]

# %% [markdown]
# ## Emerging tasks near each family
#
# O*NET's emerging tasks are statements that incumbents or analysts proposed as new for
# an occupation. Each is attached to the family whose mean direction it is most similar
# to (cosine similarity). A family that attracts many emerging tasks is where new work
# is appearing; a low similarity means the new task fits no existing family well, which
# can itself be a sign of new kinds of work.

# %%
EMERGING = """
SELECT c.cluster_id, l.label AS family, e.onet_soc_code, e.task AS emerging_task,
       e.category, c.similarity
FROM emerging_task_clusters AS c
JOIN emerging_tasks AS e USING (emerging_id)
JOIN cluster_labels AS l USING (clustering_id, cluster_id)
WHERE c.clustering_id = ?
"""
emerging = jobimpact.query(DB, EMERGING, [CLUSTERING])
busiest = families.sort_values("n_emerging_tasks", ascending=False).head(5)["cluster_id"]
(
    emerging[emerging["cluster_id"].isin(busiest)]
    .sort_values(["cluster_id", "similarity"], ascending=[True, False])
    .groupby("cluster_id")
    .head(2)
    .round(3)
)

# %%
print("emerging tasks that fit no family well (lowest similarity):")
emerging.nsmallest(5, "similarity")[["family", "emerging_task", "similarity"]].round(3)

# %% [markdown]
# ## Reclustering with another estimator
#
# How much do the families depend on the clustering method? We take the stored
# embeddings of a fixed random sample of tasks, recluster them in memory with
# agglomerative clustering (Ward linkage) into as many clusters as the stored
# clustering has, and compare the two partitions with the adjusted mutual information
# (AMI): 1 means the same partition, 0 no more agreement than chance. As a yardstick,
# k-means with another seed shows how much agreement to expect from the same method.
#
# A sample keeps this quick: agglomerative clustering needs memory and time growing with
# the square of the number of rows. Nothing is written to the store; to store a
# clustering from another estimator, run
# `jobimpact.run_cluster(db=..., embedder=..., estimator=...)` on a copy of the store
# with the embedder that made these vectors (`jobimpact.get_embedder`).

# %%
SAMPLE = 3000
VECTORS = """
SELECT c.task_id, c.cluster_id, t.task, e.vector
FROM task_clusters AS c
JOIN tasks AS t USING (task_id)
JOIN embeddings AS e ON e.text_sha256 = t.text_sha256 AND e.model_id = ?
WHERE c.clustering_id = ?
  AND c.task_id IN (SELECT unnest(?::INTEGER[]))
ORDER BY c.task_id
"""
chosen = np.sort(points["task_id"].sample(min(SAMPLE, len(points)), random_state=0))
sample = jobimpact.query(DB, VECTORS, [clustering["model_id"], CLUSTERING, chosen.tolist()])
vectors = np.stack([np.asarray(v, dtype=np.float32) for v in sample["vector"]])
k = int(min(clustering["n_clusters"], len(sample) - 1))
print(f"{len(sample)} tasks, {vectors.shape[1]}-dimensional embeddings, k = {k}")

# %%
stored = sample["cluster_id"].to_numpy()
ward = jobimpact.cluster_embeddings(vectors, estimator=AgglomerativeClustering(n_clusters=k))
reseeded = jobimpact.cluster_embeddings(
    vectors, estimator=KMeans(n_clusters=k, n_init=1, random_state=1)
)
agreement = pd.DataFrame(
    {
        "compared with the stored families": ["agglomerative (Ward)", "k-means, another seed"],
        "AMI": [
            adjusted_mutual_info_score(stored, ward.labels),
            adjusted_mutual_info_score(stored, reseeded.labels),
        ],
        "silhouette": [ward.silhouette, reseeded.silhouette],
    }
)
agreement.round(3)

# %% [markdown]
# If the AMI with the other estimator is close to the k-means yardstick, the families are
# a property of the embeddings rather than of the method. Below, the largest
# agglomerative clusters with their labels and the stored family most of their tasks
# come from: clusters drawn from one family mean both methods found the same group.

# %%
ward_labels = jobimpact.label_clusters(sample["task"].tolist(), ward.labels, vectors)
overlap = pd.crosstab(ward.labels, stored)
ward_labels["main stored family"] = overlap.idxmax(axis=1).map(
    families.set_index("cluster_id")["label"]
)
ward_labels["share of its tasks"] = (overlap.max(axis=1) / overlap.sum(axis=1)).round(2)
(
    ward_labels.sort_values("size", ascending=False).head(10)[
        ["size", "label", "main stored family", "share of its tasks"]
    ]
)
