"""Write the analyst notebooks from the cell sources below, without outputs.

Run from the repository root: ``.venv/bin/python notebooks/_build.py``. Edit the cells here,
not in Jupyter, so that the committed notebooks stay clean and reviewable; cell ids are
fixed so that a rebuild changes only what was edited.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import nbformat
from nbformat.notebooknode import NotebookNode

HERE = Path(__file__).resolve().parent
Cell = tuple[str, str, list[str]]  # kind, source, tags


def md(source: str) -> Cell:
    """A markdown cell."""
    return ("markdown", dedent(source).strip(), [])


def code(source: str, *tags: str) -> Cell:
    """A code cell with these tags."""
    return ("code", dedent(source).strip(), list(tags))


PARAMETERS = """
import os
from pathlib import Path

DB = Path(os.environ.get("JOBIMPACT_DB", "../data/jobimpact.duckdb"))
"""

QUERY_HELPER = '''
def query(sql: str, params: list[object] | None = None) -> pd.DataFrame:
    """Run one query on the store, opened read-only for just this query."""
    with open_store(DB, read_only=True) as con:
        return run_query(con, sql) if params is None else con.execute(sql, params).df()
'''

CHOOSE_SCORING = '''
# Every roll-up in the store: one per model, rubric, calibration head and task weighting.
SCORINGS = """
SELECT s.model_id, s.rubric_hash, s.head_id, s.weighting,
       count(*) AS n_occupations, max(r.started_at) AS aggregated_at
FROM occupation_scores AS s LEFT JOIN runs AS r USING (run_id)
GROUP BY ALL ORDER BY aggregated_at DESC NULLS LAST
"""
scorings = query(SCORINGS)
if scorings.empty:
    raise RuntimeError(f"{DB} has no roll-ups yet: run `jobimpact score` and `jobimpact aggregate`")
scoring = scorings.iloc[0]  # the latest roll-up; pick another row to look at another scoring
KEY = [scoring.model_id, scoring.rubric_hash, scoring.head_id, scoring.weighting]
print("model:", scoring.model_id, "| rubric:", scoring.rubric_hash[:12],
      "| head:", scoring.head_id or "none (zero-shot)", "| weighting:", scoring.weighting)
scorings
'''

# ----------------------------------------------------------------------------- 01

QUICKSTART: list[Cell] = [
    md("""
    # 1. Quickstart: what is in a jobimpact store

    This notebook opens a store read-only and shows the headline figures, the map of
    occupations by displacement and augmentation, and the scored tasks of one occupation.

    Set `JOBIMPACT_DB` to the store to read (default `../data/jobimpact.duckdb`, the one
    `make run` builds). Nothing here writes to it.
    """),
    code(PARAMETERS, "parameters"),
    code("""
    %matplotlib inline
    import pandas as pd

    from jobimpact.report.plots import quadrant_scatter
    from jobimpact.store import open_store
    from jobimpact.store.read import run_query, store_status

    pd.set_option("display.max_colwidth", 100)
    """),
    code(QUERY_HELPER),
    md("""
    ## The store at a glance

    Row counts of the main tables and the share of US employment (BLS OEWS) that the
    store's occupations account for. Occupations without O*NET task statements cannot be
    scored, so coverage is a little below 100% even when every task is scored.
    """),
    code("""
    with open_store(DB, read_only=True) as con:
        status = store_status(con)
    counts = pd.Series(status["counts"])
    print(f"schema version {status['schema_version']}; "
          f"{status['occupations_with_tasks']} occupations with tasks")
    print(pd.Series(status["employment_coverage"]).to_string())
    counts[["occupations", "tasks", "task_scores", "occupation_scores", "task_clusters"]]
    """),
    md("""
    ## Which scoring to read

    A store can hold several scorings: different models, rubric versions, calibration
    heads (`head_id`; empty means zero-shot) and task weightings. Every figure below is for
    one of them, the most recently aggregated by default. Figures from different scorings
    should not be mixed.
    """),
    code(CHOOSE_SCORING),
    md("""
    ## Headline numbers

    From the `economy_impact` view, employment-weighted over the scored occupations:

    * **workers_10pct_exposed / workers_50pct_exposed**: share of workers in occupations
      with at least 10% / 50% of their tasks exposed (an occupation's share of exposed
      tasks is its beta, the measure of Eloundou et al. 2023, who report about 80% and 19%).
    * **quadrants**: occupations are split at the employment-weighted medians of
      displacement and of the creation axis, so the quadrants are relative: by
      construction about half the employment lies on each side of each line.

    The figures describe the workers of the *scored* occupations only (`n_occupations`
    below); after `--sample`, that is a sample, not the US economy. Zero-shot scores of
    small local models are close to chance (see the README): read them as a test of the
    pipeline until a calibration head has been applied.
    """),
    code('''
    ECONOMY = """
    SELECT * FROM economy_impact
    WHERE model_id = ? AND rubric_hash = ? AND head_id = ? AND weighting = ?
    """
    economy = query(ECONOMY, KEY).iloc[0]
    headline = pd.Series({
        "occupations scored": int(economy.n_occupations),
        "tasks scored": int(economy.n_tasks_scored),
        "workers in scored occupations (millions)": round(economy.employment / 1e6, 2),
        "workers with >= 10% of tasks exposed": f"{economy.workers_10pct_exposed:.1%}",
        "workers with >= 50% of tasks exposed": f"{economy.workers_50pct_exposed:.1%}",
        "mean exposure (beta)": round(economy.beta, 3),
        "mean displacement": round(economy.displacement, 3),
        "mean augmentation": round(economy.augmentation, 3),
        "mean creation": round(economy.creation, 3),
    })
    headline
    '''),
    code("""
    quadrants = pd.DataFrame({
        "quadrant": ["at risk", "transforming", "augmented/growing", "little change"],
        "share of employment": [economy.share_at_risk, economy.share_transforming,
                                economy.share_augmented, economy.share_little_change],
        "wage bill ($ billions)": [economy.wage_bill_at_risk, economy.wage_bill_transforming,
                                   economy.wage_bill_augmented,
                                   economy.wage_bill_little_change],
    })
    quadrants["workers (millions)"] = quadrants["share of employment"] * economy.employment / 1e6
    quadrants["wage bill ($ billions)"] /= 1e9
    quadrants.round(3)
    """),
    md("""
    ## Displacement versus augmentation, by occupation

    Each marker is an occupation (area: employment; colour and shape: major group). The
    x axis is displacement (could an LLM system do its tasks end to end), the y axis the
    creation axis of the roll-up (augmentation by default: exposed but not automated).
    The dashed lines are the quadrant thresholds. Occupations far to the right and low
    are where a model sees tasks being taken over rather than assisted.

    Read the axis ranges before the picture: the axes fit the data, so occupations that
    differ by a few hundredths can look far apart. A model that barely separates
    occupations (as small models do zero-shot) still fills the whole plot.
    """),
    code('''
    OCCUPATIONS = """
    SELECT * FROM occupation_impact
    WHERE model_id = ? AND rubric_hash = ? AND head_id = ? AND weighting = ?
    """
    occupations = query(OCCUPATIONS, KEY)
    first = occupations.iloc[0]
    figure = quadrant_scatter(
        occupations,
        creation_axis=first.creation_axis,
        displacement_threshold=first.displacement_threshold,
        creation_threshold=first.creation_threshold,
        source=f"jobimpact store {DB.name}; scores of {scoring.model_id}",
    )
    figure
    '''),
    md("""
    The largest occupations of each quadrant, with the 95% bootstrap interval of their
    displacement over their tasks. A wide interval means the occupation's tasks disagree
    with each other, or that it has few tasks: its position on the map is uncertain.
    """),
    code("""
    columns = ["title", "quadrant", "employment", "n_tasks", "displacement",
               "displacement_low", "displacement_high", first.creation_axis, "beta"]
    (occupations.sort_values("employment", ascending=False)
        .groupby("quadrant").head(3)[columns]
        .sort_values(["quadrant", "employment"], ascending=[True, False])
        .round(3))
    """),
    md("""
    ## One occupation's tasks

    An occupation's measures are weighted means over its tasks (weights: importance ×
    relevance, or core 2 / supplemental 1). Here are the tasks of the scored occupation
    with the most workers, each with its P(Yes) per rubric question and the derived
    measures. `min_answer_mass` is the smallest probability the model put on "Yes" or "No"
    over the questions: a low value means the model wanted to answer something else, and
    its P(Yes) is less trustworthy. Set `OCCUPATION` to an O*NET-SOC code to look at
    another one.
    """),
    code('''
    OCCUPATION = occupations.sort_values("employment", ascending=False).iloc[0].onet_soc_code
    TASKS = """
    SELECT t.task, t.task_type, t.importance, t.relevance,
           m.p_direct, m.p_software, m.p_automation, m.p_creation,
           m.beta, m.displacement, m.augmentation, m.min_answer_mass
    FROM task_measures AS m JOIN tasks AS t USING (task_id)
    WHERE m.model_id = ? AND m.rubric_hash = ? AND m.head_id = ? AND t.onet_soc_code = ?
    QUALIFY row_number() OVER (PARTITION BY m.task_id ORDER BY m.scored_at DESC) = 1
    ORDER BY t.importance DESC NULLS LAST
    """
    tasks = query(TASKS, [*KEY[:3], OCCUPATION])
    print(occupations.set_index("onet_soc_code").loc[OCCUPATION, "title"], f"({OCCUPATION}):",
          len(tasks), "tasks")
    tasks.round(3)
    '''),
    code("""
    occupations.set_index("onet_soc_code").loc[
        OCCUPATION,
        ["n_tasks", "beta", "beta_low", "beta_high", "displacement", "displacement_low",
         "displacement_high", "augmentation", "creation", "quadrant", "employment"],
    ]
    """),
    md("""
    ## Where to go next

    * `02_task_families`: the same scores grouped into task families that cut across
      occupations.
    * `03_custom_rubric_and_model`: change a question, score with another model, compare
      the two, and fit a calibration head.
    * `04_sql_for_researchers`: the views, Parquet export, and joining your own tables.
    """),
]

# ----------------------------------------------------------------------------- 02

FAMILIES: list[Cell] = [
    md("""
    # 2. Task families

    O*NET repeats similar work in many occupations ("prepare reports", "schedule
    appointments"). jobimpact clusters the embeddings of all task statements into task
    families, labels each family by its most distinctive words and its most central tasks,
    places it on a 2-D map, and attaches each O*NET *emerging task* (new work O*NET has
    proposed for an occupation) to its nearest family. This notebook reads those results
    and reclusters with another estimator to see how much the families depend on that
    choice.

    Set `JOBIMPACT_DB` to the store to read. Nothing here writes to it.
    """),
    code(PARAMETERS, "parameters"),
    code("""
    %matplotlib inline
    import numpy as np
    import pandas as pd
    import seaborn as sns
    from matplotlib.figure import Figure
    from sklearn.cluster import AgglomerativeClustering, KMeans
    from sklearn.metrics import adjusted_mutual_info_score

    from jobimpact.clustering import cluster_embeddings, label_clusters
    from jobimpact.report.plots import family_map
    from jobimpact.store import open_store
    from jobimpact.store.read import run_query

    pd.set_option("display.max_colwidth", 90)
    """),
    code(QUERY_HELPER),
    md("""
    ## The stored clustering

    A clustering is identified by the embedding model, the estimator and the task texts.
    The silhouette (cosine, on a fixed sample) is low for text embeddings of short
    statements; it is useful for comparing settings, not as an absolute grade.
    """),
    code("""
    clusterings = query(
        "SELECT clustering_id, model_id, method, n_clusters, silhouette, created_at "
        "FROM clusterings ORDER BY created_at DESC"
    )
    if clusterings.empty:
        raise RuntimeError(f"{DB} has no task families yet: run `jobimpact embed` and `cluster`")
    clustering = clusterings.iloc[0]  # the latest
    CLUSTERING = clustering.clustering_id
    clusterings
    """),
    md("""
    Family scores come from the task scores of one scoring (model, rubric, head): the
    latest one, by default. A family's displacement, augmentation and creation are means
    over its scored tasks, each weighted by its occupation's employment divided among the
    occupation's tasks. After a `--sample` run most families have only a few scored
    tasks (`n_tasks_scored`): their means are noisy.
    """),
    code('''
    SCORINGS = """
    SELECT model_id, rubric_hash, head_id, count(DISTINCT task_id) AS n_tasks,
           max(scored_at) AS scored_at
    FROM task_measures GROUP BY ALL ORDER BY scored_at DESC
    """
    scorings = query(SCORINGS)
    if scorings.empty:
        raise RuntimeError(f"{DB} has no task scores yet: run `jobimpact score`")
    scoring = scorings.iloc[0]
    SCORING = [scoring.model_id, scoring.rubric_hash, scoring.head_id]
    print("scores of", scoring.model_id, "| head:", scoring.head_id or "none (zero-shot)")

    FAMILY_LABELS = """
    SELECT DISTINCT cluster_id, label, size, n_occupations, n_emerging_tasks
    FROM task_family_impact WHERE clustering_id = ?
    """
    FAMILY_SCORES = """
    SELECT cluster_id, n_tasks_scored, displacement, augmentation, creation
    FROM task_family_impact
    WHERE clustering_id = ? AND model_id = ? AND rubric_hash = ? AND head_id = ?
    """
    families = (
        query(FAMILY_LABELS, [CLUSTERING])
        .merge(query(FAMILY_SCORES, [CLUSTERING, *SCORING]), on="cluster_id", how="left")
        .sort_values("size", ascending=False)
        .reset_index(drop=True)
    )
    families.head(12).round(3)
    '''),
    md("""
    Families that span many occupations are the shared building blocks of work; a score
    that changes for such a family changes many occupations at once. Below, the families
    with the highest displacement among those with at least a few scored tasks.
    """),
    code("""
    MIN_SCORED = 5
    (families[families["n_tasks_scored"] >= MIN_SCORED]
        .sort_values("displacement", ascending=False)
        .head(10)[["label", "size", "n_occupations", "n_tasks_scored", "displacement",
                   "augmentation", "creation"]]
        .round(3))
    """),
    md("""
    ## The map

    Each point is a task statement, placed by a PCA projection of its embedding: nearby
    points have similar wording and meaning. The ten largest families are coloured, the
    rest grey. Families that overlap on the map can still be separate in the full
    embedding space; two dimensions show only its broadest directions.
    """),
    code("""
    points = query(
        "SELECT task_id, cluster_id, x, y FROM task_clusters WHERE clustering_id = ?",
        [CLUSTERING],
    )
    largest = families.head(10).set_index("cluster_id")["label"]
    points["family"] = points["cluster_id"].map(
        lambda c: ", ".join(largest[c].split(", ")[:3]) if c in largest.index else "other"
    )
    shown = points.sample(min(len(points), 6000), random_state=0)
    figure = Figure(figsize=(9, 6))
    ax = figure.subplots()
    sns.scatterplot(data=shown[shown.family == "other"], x="x", y="y", color="#cccccc", s=6,
                    linewidth=0, ax=ax, legend=False)
    sns.scatterplot(data=shown[shown.family != "other"], x="x", y="y", hue="family", s=9,
                    linewidth=0, palette="tab10", ax=ax)
    ax.set(title="Task statements on the embedding map (PCA)", xlabel="map axis 1",
           ylabel="map axis 2")
    ax.legend(fontsize=7, markerscale=2, loc="center left", bbox_to_anchor=(1, 0.5))
    figure.tight_layout()
    figure
    """),
    md("""
    The same map with one bubble per family, at the mean position of its tasks, sized by
    its number of tasks and coloured by its displacement and augmentation. Families
    without scored tasks are drawn hollow.
    """),
    code("""
    centres = points.groupby("cluster_id")[["x", "y"]].mean().reset_index()
    family_map(
        families.merge(centres, on="cluster_id"),
        creation_axis="augmentation",
        source=f"jobimpact store {DB.name}; clustering {CLUSTERING}",
    )
    """),
    md("""
    ## Emerging tasks near each family

    O*NET's emerging tasks are statements that incumbents or analysts proposed as new for
    an occupation. Each is attached to the family whose mean direction it is most similar
    to (cosine similarity). A family that attracts many emerging tasks is where new work
    is appearing; a low similarity means the new task fits no existing family well, which
    can itself be a sign of new kinds of work.
    """),
    code('''
    EMERGING = """
    SELECT c.cluster_id, l.label AS family, e.onet_soc_code, e.task AS emerging_task,
           e.category, c.similarity
    FROM emerging_task_clusters AS c
    JOIN emerging_tasks AS e USING (emerging_id)
    JOIN cluster_labels AS l USING (clustering_id, cluster_id)
    WHERE c.clustering_id = ?
    """
    emerging = query(EMERGING, [CLUSTERING])
    busiest = families.sort_values("n_emerging_tasks", ascending=False).head(5)["cluster_id"]
    (emerging[emerging.cluster_id.isin(busiest)]
        .sort_values(["cluster_id", "similarity"], ascending=[True, False])
        .groupby("cluster_id").head(2)
        .round(3))
    '''),
    code("""
    print("emerging tasks that fit no family well (lowest similarity):")
    emerging.nsmallest(5, "similarity")[["family", "emerging_task", "similarity"]].round(3)
    """),
    md("""
    ## Reclustering with another estimator

    How much do the families depend on the clustering method? We take the stored
    embeddings of a fixed random sample of tasks, recluster them in memory with
    agglomerative clustering (Ward linkage) into as many clusters as the stored
    clustering has, and compare the two partitions with the adjusted mutual information
    (AMI): 1 means the same partition, 0 no more agreement than chance. As a yardstick,
    k-means with another seed shows how much agreement to expect from the same method.

    A sample keeps this quick: agglomerative clustering needs memory and time growing with
    the square of the number of rows. Nothing is written to the store; to store a
    clustering from another estimator, run
    `jobimpact.pipeline.cluster(db=..., embedder=..., estimator=...)` on a copy of the
    store with the embedder that made these vectors.
    """),
    code('''
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
    sample = query(VECTORS, [clustering.model_id, CLUSTERING, chosen.tolist()])
    vectors = np.stack(sample["vector"].map(np.asarray)).astype(np.float32)
    k = int(min(clustering.n_clusters, len(sample) - 1))
    print(f"{len(sample)} tasks, {vectors.shape[1]}-dimensional embeddings, k = {k}")
    '''),
    code("""
    stored = sample["cluster_id"].to_numpy()
    ward = cluster_embeddings(vectors, estimator=AgglomerativeClustering(n_clusters=k))
    reseeded = cluster_embeddings(vectors, estimator=KMeans(n_clusters=k, n_init=1,
                                                            random_state=1))
    agreement = pd.DataFrame({
        "compared with the stored families": ["agglomerative (Ward)", "k-means, another seed"],
        "AMI": [adjusted_mutual_info_score(stored, ward.labels),
                adjusted_mutual_info_score(stored, reseeded.labels)],
        "silhouette": [ward.silhouette, reseeded.silhouette],
    })
    agreement.round(3)
    """),
    md("""
    If the AMI with the other estimator is close to the k-means yardstick, the families are
    a property of the embeddings rather than of the method. Below, the largest
    agglomerative clusters with their labels and the stored family most of their tasks
    come from: clusters drawn from one family mean both methods found the same group.
    """),
    code("""
    ward_labels = label_clusters(sample["task"].tolist(), ward.labels, vectors)
    overlap = pd.crosstab(ward.labels, stored)
    ward_labels["main stored family"] = overlap.idxmax(axis=1).map(
        families.set_index("cluster_id")["label"])
    ward_labels["share of its tasks"] = (overlap.max(axis=1) / overlap.sum(axis=1)).round(2)
    (ward_labels.sort_values("size", ascending=False)
        .head(10)[["size", "label", "main stored family", "share of its tasks"]])
    """),
]

# ----------------------------------------------------------------------------- 03

CUSTOM: list[Cell] = [
    md("""
    # 3. A custom rubric, another model, and a calibration head

    This notebook changes the wording of one rubric question, scores a sample of tasks
    with another model and that rubric, compares the new scores with the store's scores
    task by task, and fits a calibration head on labelled tasks.

    It writes, so it works on a **copy** of the store in a temporary folder; the store
    named by `JOBIMPACT_DB` is only read. Labels come from the GPTs-are-GPTs file that
    `jobimpact fetch` put under `JOBIMPACT_DATA_DIR` (default `../data`).

    By default the "other model" is the fake scorer with another seed, so the notebook
    runs in seconds; set `JOBIMPACT_NOTEBOOK_MODEL` to use a real one (see below).
    """),
    code(
        PARAMETERS
        + """
DATA_DIR = Path(os.environ.get("JOBIMPACT_DATA_DIR", "../data"))
# "fake" (seconds), a local model for the transformers backend (e.g. "smollm2-135m"),
# or "http" for an OpenAI-compatible server (JOBIMPACT_HTTP_BASE_URL, JOBIMPACT_HTTP_MODEL).
MODEL = os.environ.get("JOBIMPACT_NOTEBOOK_MODEL", "fake")
N_OCCUPATIONS = 20  # labelled occupations to score; calibration needs at least 10
""",
        "parameters",
    ),
    code("""
    %matplotlib inline
    import dataclasses
    import shutil
    import tempfile

    import numpy as np
    import pandas as pd
    import seaborn as sns
    from matplotlib.figure import Figure
    from sklearn.metrics import roc_auc_score

    from jobimpact import pipeline
    from jobimpact.calibration import targets_frame
    from jobimpact.labels import default_labels_path, match_labels, read_labels
    from jobimpact.scoring import Rubric, Scorer, get_backend, load_rubric
    from jobimpact.store import open_store
    from jobimpact.store.read import run_query

    pd.set_option("display.max_colwidth", 90)
    """),
    md("""
    ## A working copy of the store

    DuckDB keeps a store in one file (plus a `.wal` file while a writer has unflushed
    changes), so a file copy is a complete copy. Copy a store that no process is writing
    to at that moment.
    """),
    code('''
    WORKDIR = Path(tempfile.mkdtemp(prefix="jobimpact-nb03-"))
    COPY = WORKDIR / DB.name
    shutil.copy2(DB, COPY)
    if DB.with_name(DB.name + ".wal").exists():
        shutil.copy2(DB.with_name(DB.name + ".wal"), COPY.with_name(COPY.name + ".wal"))
    ORIGINAL_STAT = (DB.stat().st_size, DB.stat().st_mtime_ns)


    def query(sql: str, params: list[object] | None = None) -> pd.DataFrame:
        """Run one query on the working copy, opened read-only for just this query."""
        with open_store(COPY, read_only=True) as con:
            return run_query(con, sql) if params is None else con.execute(sql, params).df()


    print("working copy:", COPY)
    '''),
    md("""
    ## A rubric variant

    A rubric is data: a system text, templates and Yes/No questions. Its hash covers every
    text, and scores are stored under the hash they were made with, so scores of a variant
    never mix with those of the original. Here the *automation* question is reworded. To
    keep a variant, copy `jobimpact/scoring/rubrics/exposure.toml`, edit it, bump its
    `version`, and load it with `load_rubric("my_rubric.toml")` (or
    `jobimpact score --rubric my_rubric.toml`).
    """),
    code('''
    rubric = load_rubric()  # the packaged default, "exposure"
    NEW_WORDING = ("Could an LLM-based system complete this whole task on its own, "
                   "with a person only checking the result?")


    def reworded(base: Rubric, key: str, prompt: str) -> Rubric:
        """The rubric with one question's text replaced and a version that says so."""
        questions = tuple(
            dataclasses.replace(q, prompt=prompt) if q.key == key else q for q in base.questions
        )
        return dataclasses.replace(base, version=base.version + "+reworded-" + key,
                                   questions=questions)


    variant = reworded(rubric, "automation", NEW_WORDING)
    pd.DataFrame({
        "rubric": [rubric.version, variant.version],
        "automation question": [rubric.question("automation").prompt,
                                variant.question("automation").prompt],
        "hash": [rubric.hash[:16], variant.hash[:16]],
    })
    '''),
    md("""
    ## Another model

    `make_scorer` builds the scorer named by `MODEL`:

    * `fake`: the deterministic fake scorer with seed 1 (the test store uses seed 0). It
      reads only the question keys, so with it the new wording changes the hash but not
      the probabilities; with a real model the wording changes the answers.
    * a local model, e.g. `JOBIMPACT_NOTEBOOK_MODEL=smollm2-135m` (see `jobimpact models`):
      the transformers backend, with the prefix-cached engine; a few tasks per second on a
      laptop CPU.
    * `http`: any OpenAI-compatible server (vLLM, llama.cpp server, Ollama, a hosted API),
      e.g. `JOBIMPACT_NOTEBOOK_MODEL=http JOBIMPACT_HTTP_BASE_URL=http://127.0.0.1:8000/v1
      JOBIMPACT_HTTP_MODEL=<served model>`; an API key, if needed, is read from
      `JOBIMPACT_HTTP_API_KEY`. It keeps no feature vectors, so a calibration head cannot
      be fitted on its scores.
    """),
    code('''
    def make_scorer(name: str, rubric: Rubric) -> Scorer:
        """The scorer for MODEL: fake (seed 1), http, or a local transformers model."""
        if name == "fake":
            return get_backend("fake", rubric=rubric, seed=1, feature_dim=16)
        if name == "http":
            from jobimpact.scoring.http_backend import HTTPScorer

            return HTTPScorer(rubric=rubric)  # base URL and model from the environment
        return get_backend("transformers", model=name, rubric=rubric)


    scorer = make_scorer(MODEL, variant)
    print("new scorer:", scorer.model_id, "| features:", scorer.feature_dim)
    '''),
    md("""
    ## Which tasks to score

    The comparison needs tasks that the store's own scoring has already scored, and the
    calibration head needs labelled ones. The baseline is the store's latest zero-shot
    scoring; we draw `N_OCCUPATIONS` occupations that are both labelled and scored by it
    (topped up with other labelled occupations when there are too few).
    """),
    code('''
    BASELINES = """
    SELECT model_id, rubric_hash, count(DISTINCT task_id) AS n_tasks,
           max(scored_at) AS scored_at
    FROM task_scores WHERE head_id = '' GROUP BY ALL ORDER BY scored_at DESC
    """
    baseline = query(BASELINES).iloc[0]
    BASE = [baseline.model_id, baseline.rubric_hash]
    print("baseline:", baseline.model_id, "| rubric", baseline.rubric_hash[:12], "|",
          baseline.n_tasks, "tasks")

    LABELS = default_labels_path(DATA_DIR)
    labels = read_labels(LABELS)
    SCORED_OCCUPATIONS = """
    SELECT DISTINCT t.onet_soc_code FROM task_scores AS s JOIN tasks AS t USING (task_id)
    WHERE s.model_id = ? AND s.rubric_hash = ? AND s.head_id = ''
    """
    scored = set(query(SCORED_OCCUPATIONS, BASE)["onet_soc_code"])
    with_tasks = set(query("SELECT DISTINCT onet_soc_code FROM tasks")["onet_soc_code"])
    labelled = set(labels.frame["onet_soc_code"]) & with_tasks
    rng = np.random.default_rng(0)
    both = sorted(labelled & scored)
    codes = [str(c) for c in rng.permutation(both)[:N_OCCUPATIONS]]
    if len(codes) < N_OCCUPATIONS:
        others = sorted(labelled - scored)
        codes += [str(c) for c in rng.permutation(others)[: N_OCCUPATIONS - len(codes)]]
    print(f"{len(both)} occupations labelled and scored by the baseline; scoring {len(codes)}")
    '''),
    code("""
    result = pipeline.score(db=COPY, scorer=scorer, occupations=codes)
    result
    """),
    md("""
    ## Comparing the two scorings task by task

    For every task scored by both, the zero-shot P(Yes) of each question. Three views of
    agreement:

    * **Pearson r**: do the two rank and space the tasks alike?
    * **same side of 0.5**: how often would the two give the same Yes/No answer?
    * **mean |difference|**: how far apart the probabilities are on average.

    Two scorings can correlate well and still disagree on the level (one says Yes more
    often): then the roll-ups differ even though the ranking of occupations is similar.
    """),
    code('''
    MEASURES = """
    SELECT m.task_id, t.onet_soc_code, t.task,
           m.p_direct AS direct, m.p_software AS software,
           m.p_automation AS automation, m.p_creation AS creation
    FROM task_measures AS m JOIN tasks AS t USING (task_id)
    WHERE m.model_id = ? AND m.rubric_hash = ? AND m.head_id = ''
    QUALIFY row_number() OVER (PARTITION BY m.task_id ORDER BY m.scored_at DESC) = 1
    """
    QUESTIONS = ["direct", "software", "automation", "creation"]
    pairs = query(MEASURES, BASE).merge(
        query(MEASURES, [scorer.model_id, variant.hash]),
        on=["task_id", "onet_soc_code", "task"], suffixes=("_base", "_new"),
    )
    agreement = pd.DataFrame({
        q: {
            "Pearson r": pairs[f"{q}_base"].corr(pairs[f"{q}_new"]),
            "same side of 0.5": ((pairs[f"{q}_base"] > 0.5) == (pairs[f"{q}_new"] > 0.5)).mean(),
            "mean |difference|": (pairs[f"{q}_base"] - pairs[f"{q}_new"]).abs().mean(),
            "mean P(Yes), baseline": pairs[f"{q}_base"].mean(),
            "mean P(Yes), new": pairs[f"{q}_new"].mean(),
        }
        for q in QUESTIONS
    }).T
    print(len(pairs), "tasks scored by both")
    agreement.round(3)
    '''),
    code("""
    figure = Figure(figsize=(10, 2.8))
    for ax, q in zip(figure.subplots(1, 4, sharex=True, sharey=True), QUESTIONS, strict=True):
        sns.scatterplot(data=pairs, x=f"{q}_base", y=f"{q}_new", s=10, linewidth=0, ax=ax)
        ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8, linestyle="--")
        ax.set(title=q, xlabel="baseline P(Yes)", ylabel="new P(Yes)", xlim=(0, 1), ylim=(0, 1))
    figure.tight_layout()
    figure
    """),
    md("""
    The largest disagreements are worth reading: often one model misread the task, or the
    task statement is ambiguous, and that tells you more about the rubric than any
    summary figure.
    """),
    code("""
    long = pd.concat(
        (
            pairs[["onet_soc_code", "task", f"{q}_base", f"{q}_new"]]
            .rename(columns={f"{q}_base": "baseline", f"{q}_new": "new"})
            .assign(question=q)
            for q in QUESTIONS
        ),
        ignore_index=True,
    )
    long["difference"] = long["new"] - long["baseline"]
    largest = long["difference"].abs().nlargest(10).index
    shown = ["onet_soc_code", "task", "question", "baseline", "new", "difference"]
    long.loc[largest, shown].round(3)
    """),
    md("""
    ## A calibration head on labelled tasks

    Small local models answer rubric questions close to chance zero-shot, but their hidden
    states carry the information: a calibration head is a logistic regression on each
    task's feature vector, fitted to labelled tasks. `pipeline.calibrate` fits one per
    question (direct and software from the human exposure labels, automation from GPT-4's
    automation ratings), stores it, and rescores every featured task of that model with it.

    Its metrics are **out of fold**: tasks are split into 5 folds *by occupation*, and each
    fold is predicted by a head that never saw that occupation's tasks, so the AUC
    estimates how the head does on occupations it was not trained on. Any label file with
    the columns of GPTs-are-GPTs' `full_labelset.tsv` can replace `LABELS`.
    """),
    code("""
    CALIBRATED = [scorer.model_id, variant.hash] if scorer.feature_dim else BASE
    head = pipeline.calibrate(db=COPY, labels=LABELS, model_id=CALIBRATED[0],
                              rubric_hash=CALIBRATED[1])
    print(f"head {head.head_id}: {head.n_tasks} labelled tasks in {head.n_occupations} "
          f"occupations ({head.n_matched_id} labels matched by id, {head.n_matched_text} by "
          f"text); {head.applied} tasks rescored")
    pd.DataFrame(head.cv_metrics).T.round(3)
    """),
    md("""
    For comparison, the zero-shot AUC of the same model's P(Yes) against the same targets
    on the same tasks. A head is worth applying when its out-of-fold AUC is clearly above
    the zero-shot one.
    """),
    code("""
    matched = match_labels(labels, query("SELECT task_id, onet_soc_code, task FROM tasks"))
    zero_shot = query(MEASURES, CALIBRATED).merge(
        matched.frame.drop(columns=["onet_soc_code", "task"]), on="task_id")
    targets = targets_frame(zero_shot, list(head.cv_metrics))
    comparison = pd.DataFrame({
        q: {
            "zero-shot AUC": roc_auc_score(targets[q][targets[q].notna()],
                                           zero_shot[q][targets[q].notna()]),
            "head AUC (out of fold)": head.cv_metrics[q]["auc"],
            "tasks": int(targets[q].notna().sum()),
        }
        for q in head.cv_metrics
        if targets[q].nunique() == 2
    }).T
    comparison.round(3)
    """),
    md("""
    ## Cleaning up

    The working copy now holds the variant's scores and the head. Keep it to explore
    further (e.g. `pipeline.aggregate(db=COPY, model_id=..., rubric_hash=...)` and the
    other notebooks with `JOBIMPACT_DB` pointing at it), or delete it. The original store
    was never opened for writing:
    """),
    code("""
    assert (DB.stat().st_size, DB.stat().st_mtime_ns) == ORIGINAL_STAT, "the store changed"
    KEEP_COPY = False
    if not KEEP_COPY:
        shutil.rmtree(WORKDIR)
    print("original store unchanged;", "copy kept at " + str(COPY) if KEEP_COPY else "copy removed")
    """),
]

# ----------------------------------------------------------------------------- 04

SQL: list[Cell] = [
    md("""
    # 4. SQL for researchers

    A jobimpact store is an ordinary DuckDB file: any DuckDB client (Python, R, the
    `duckdb` command line, DBeaver) can read it. This notebook queries it with SQL through
    the documented views, exports Parquet, and joins an outside table.

    Open the file **read-only**: several readers can then share it, and nothing you run
    can change it. Set `JOBIMPACT_DB` to the store to read.
    """),
    code(PARAMETERS, "parameters"),
    code("""
    import re
    import tempfile

    import duckdb
    import pandas as pd

    from jobimpact.store import open_store
    from jobimpact.store.migrations import known_migrations
    from jobimpact.store.read import export_parquet, relations, run_query

    pd.set_option("display.max_colwidth", 110)
    """),
    md("""
    ## Plain DuckDB

    `duckdb.connect(path, read_only=True)` is all it takes. Keep connections short (open,
    query, close) while a pipeline may be writing to the store: a writer needs the file to
    itself for a moment between its batches.
    """),
    code('''
    con = duckdb.connect(str(DB), read_only=True)
    print(con.execute("SELECT max(version) FROM schema_migrations").fetchone())
    counts = con.execute("""
        SELECT table_name, estimated_size AS approx_rows, column_count
        FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY table_name
    """).df()
    con.close()
    counts
    '''),
    md("""
    ## The documented views

    The views are the stable interface: tables may gain columns or change with a schema
    migration, the views keep their meaning. Each is documented by a header comment in the
    migration that creates it; the README has the same table.
    """),
    code('''
    def view_comments() -> dict[str, str]:
        """The header comment of each view, from the migrations that define them."""
        found: dict[str, str] = {}
        header = re.compile(r"^-- view: (\\w+)\\n((?:--.*\\n)*)", re.MULTILINE)
        for migration in known_migrations():  # later definitions replace earlier ones
            for name, body in header.findall(migration.sql):
                found[name] = " ".join(line[2:].strip() for line in body.splitlines())
        return found


    with open_store(DB, read_only=True) as con:
        views = [name for name, is_view in relations(con) if is_view]
    comments = view_comments()
    pd.DataFrame({"view": views, "what it holds": [comments.get(v, "") for v in views]})
    '''),
    md("""
    ## Queries

    Pass values as bound parameters (`?`), never by pasting them into the SQL text: it
    is safe for any string, and DuckDB can reuse the plan. First, the scoring to read:
    the latest roll-up (a store can hold several).
    """),
    code(QUERY_HELPER),
    code(CHOOSE_SCORING),
    md("""
    Employment-weighted measures by SOC major group (`major_group_impact`), with the share
    of each group's employment in the "at risk" quadrant.
    """),
    code('''
    GROUPS = """
    SELECT major_group, n_occupations, employment / 1e6 AS employment_millions,
           beta, displacement, augmentation, creation,
           employment_at_risk / employment AS share_at_risk
    FROM major_group_impact
    WHERE model_id = ? AND rubric_hash = ? AND head_id = ? AND weighting = ?
    ORDER BY displacement DESC
    """
    query(GROUPS, KEY).round(3)
    '''),
    md("""
    Window functions answer "the top n per group" questions in one query: the most
    displaced occupation of each major group, with its interval.
    """),
    code('''
    TOP_PER_GROUP = """
    SELECT major_group, title, employment, displacement, displacement_low, displacement_high
    FROM occupation_impact
    WHERE model_id = ? AND rubric_hash = ? AND head_id = ? AND weighting = ?
    QUALIFY row_number() OVER (PARTITION BY soc_major ORDER BY displacement DESC) = 1
    ORDER BY displacement DESC
    """
    query(TOP_PER_GROUP, KEY).round(3)
    '''),
    md("""
    Provenance: every stage records a run with its parameters and counts (JSON), so you can
    tell what produced the numbers you are reading.
    """),
    code('''
    RUNS = """
    SELECT stage, status, started_at, finished_at,
           json_extract_string(parameters, '$.model_id') AS model_id,
           counts, jobimpact_version
    FROM runs ORDER BY started_at DESC LIMIT 8
    """
    query(RUNS)
    '''),
    md("""
    ## Exporting Parquet

    Parquet files keep the column types and read fast in pandas, polars, R (arrow) or
    Spark. `export_parquet` writes every table and view; `COPY (query) TO` writes one
    query's result. Both only write files outside the store, so they work on a read-only
    connection.
    """),
    code("""
    OUT = Path(tempfile.mkdtemp(prefix="jobimpact-nb04-"))
    with open_store(DB, read_only=True) as con:
        written = export_parquet(con, OUT / "all")
        target = OUT / "occupation_impact_latest.parquet"
        con.execute(
            f"COPY (SELECT * FROM occupation_impact WHERE model_id = ? AND rubric_hash = ? "
            f"AND head_id = ? AND weighting = ?) TO '{target}' (FORMAT parquet)",
            KEY,
        )
    sizes = pd.DataFrame({"file": [p.name for p in written],
                          "kB": [round(p.stat().st_size / 1e3, 1) for p in written]})
    print(len(written), "files in", OUT / "all")
    sizes.sort_values("kB", ascending=False).head(8)
    """),
    code("""
    # pandas reads Parquet too (pd.read_parquet) when pyarrow is installed
    back = duckdb.connect().execute("SELECT * FROM read_parquet(?)", [str(target)]).df()
    print(len(back), "occupations read back from", target.name)
    back[["onet_soc_code", "title", "displacement", "augmentation", "quadrant"]].head()
    """),
    md("""
    ## Joining an outside table

    Outside data is usually keyed by the 6-digit SOC 2018 code (e.g. `15-1252`), while
    jobimpact's occupations are O*NET-SOC codes (e.g. `15-1252.00`); several O*NET-SOC
    occupations can share one SOC code. `occupation_overview.soc_code` holds each
    occupation's SOC 2018 code (from the official crosswalk, not just the code's first
    seven characters). Join on it, and combine the O*NET-SOC occupations of a SOC code with
    their national employment as weights.

    The state table below is **made up for illustration** (three states, the five scored
    SOC codes with the most workers, invented employment figures). Replace it with a real
    file, such as the BLS OEWS state estimates.
    """),
    code('''
    SOC_MEASURES = """
    SELECT v.soc_code,
           any_value(i.title) AS example_title,
           sum(i.employment) AS national_employment,
           sum(i.displacement * i.employment) / sum(i.employment) AS displacement,
           sum(i.augmentation * i.employment) / sum(i.employment) AS augmentation
    FROM occupation_impact AS i JOIN occupation_overview AS v USING (onet_soc_code)
    WHERE i.model_id = ? AND i.rubric_hash = ? AND i.head_id = ? AND i.weighting = ?
      AND i.employment > 0
    GROUP BY v.soc_code
    """
    by_soc = query(SOC_MEASURES, KEY)
    top_codes = by_soc.nlargest(5, "national_employment")["soc_code"].tolist()

    # ILLUSTRATIVE NUMBERS ONLY: invented state employment, not real data. Each state has a
    # different mix of the five occupations, which is what makes their figures differ.
    invented = {"CA": [52000, 61000, 18000, 9000, 30000],
                "TX": [41000, 20000, 35000, 22000, 8000],
                "NY": [30000, 15000, 9000, 26000, 24000]}
    made_up = pd.DataFrame(
        [(state, code, workers)
         for state, numbers in invented.items()
         for code, workers in zip(top_codes, numbers, strict=False)],
        columns=["state", "soc_code", "employment"],
    )
    STATE_FILE = OUT / "state_employment_ILLUSTRATIVE.csv"
    made_up.to_csv(STATE_FILE, index=False)
    print("\\n".join(STATE_FILE.read_text().splitlines()[:4]))
    '''),
    md("""
    DuckDB reads the CSV file directly in SQL (`read_csv`), and a pandas DataFrame can be
    registered as a table (`con.register`). First the row-level join: a left join keeps
    the rows of the outside file that found no scored occupation, so you can see what
    would silently drop out of an inner join (codes the store does not score, or codes of
    another SOC vintage).
    """),
    code('''
    STATE_ROWS = """
    SELECT s.state, s.soc_code, m.example_title, s.employment, m.displacement, m.augmentation
    FROM read_csv(?) AS s LEFT JOIN soc_measures AS m USING (soc_code)
    ORDER BY s.state, s.soc_code
    """
    STATE_TOTALS = """
    SELECT s.state,
           sum(s.employment) AS employment,
           sum(s.employment * m.displacement) / sum(s.employment) AS displacement,
           sum(s.employment * m.augmentation) / sum(s.employment) AS augmentation
    FROM read_csv(?) AS s JOIN soc_measures AS m USING (soc_code)
    GROUP BY s.state ORDER BY displacement DESC
    """
    with duckdb.connect(str(DB), read_only=True) as con:
        con.register("soc_measures", by_soc)
        rows = con.execute(STATE_ROWS, [str(STATE_FILE)]).df()
        states = con.execute(STATE_TOTALS, [str(STATE_FILE)]).df()
    print(f"{rows['displacement'].isna().sum()} of {len(rows)} rows found no scored occupation")
    rows.round(3)
    '''),
    md("""
    Each state's employment-weighted displacement and augmentation over these occupations.
    The states differ only through their mix of occupations: the calculation assumes an
    occupation's tasks, and so its scores, are the same in every state.
    """),
    code("states.round(3)"),
    md("""
    The files written above are in a temporary folder; they are removed here. Point `OUT`
    at a folder of your own to keep them.
    """),
    code("""
    import shutil

    shutil.rmtree(OUT)
    """),
]

NOTEBOOKS = {
    "01_quickstart.ipynb": QUICKSTART,
    "02_task_families.ipynb": FAMILIES,
    "03_custom_rubric_and_model.ipynb": CUSTOM,
    "04_sql_for_researchers.ipynb": SQL,
}


def build(cells: list[Cell], stem: str) -> NotebookNode:
    """A notebook with these cells, no outputs, and cell ids that do not change."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for number, (kind, source, tags) in enumerate(cells, start=1):
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(source)
        else:
            cell = nbformat.v4.new_code_cell(source)
        cell.id = f"{stem[:2]}-{number:02d}"
        if tags:
            cell.metadata["tags"] = tags
        notebook.cells.append(cell)
    nbformat.validate(notebook)
    return notebook


def write_notebooks(folder: Path = HERE) -> list[Path]:
    """Write every notebook into ``folder`` and return their paths."""
    paths = [folder / name for name in NOTEBOOKS]
    for path, cells in zip(paths, NOTEBOOKS.values(), strict=True):
        nbformat.write(build(cells, path.name), path)
    # The cells are written for reading here; ruff gives them the project's code style.
    config = HERE.parent / "pyproject.toml"
    command = [sys.executable, "-m", "ruff", "format", "--quiet", "--config", str(config)]
    subprocess.run([*command, *map(str, paths)], check=True)
    return paths


if __name__ == "__main__":
    write_notebooks()
