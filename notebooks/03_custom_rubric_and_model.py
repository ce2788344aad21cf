# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 3. A custom rubric, another model, and a calibration head
#
# This notebook changes the wording of one rubric question, scores a sample of tasks
# with another model and that rubric, compares the new scores with the store's scores
# task by task, and fits a calibration head on labelled tasks.
#
# It writes, so it works on a **copy** of the store in a temporary folder; the store
# named by `JOBIMPACT_DB` is only read. Labels come from the GPTs-are-GPTs file that
# `jobimpact fetch` put under `JOBIMPACT_DATA_DIR` (default `../data`).
#
# By default the "other model" is the fake scorer with another seed, so the notebook
# runs in seconds; set `JOBIMPACT_NOTEBOOK_MODEL` to use a real one (see below).

# %% tags=["parameters"]
import os
from pathlib import Path

DB = Path(os.environ.get("JOBIMPACT_DB", "../data/jobimpact.duckdb"))
DATA_DIR = Path(os.environ.get("JOBIMPACT_DATA_DIR", "../data"))
# "fake" (seconds), a local model for the transformers backend (e.g. "smollm2-135m"),
# or "http" for an OpenAI-compatible server (JOBIMPACT_HTTP_BASE_URL, JOBIMPACT_HTTP_MODEL).
MODEL = os.environ.get("JOBIMPACT_NOTEBOOK_MODEL", "fake")
N_OCCUPATIONS = 20  # labelled occupations to score; calibration needs at least 10

# %%
# %matplotlib inline
import dataclasses
import shutil
import tempfile

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from sklearn.metrics import roc_auc_score

import jobimpact

pd.set_option("display.max_colwidth", 90)

# %% [markdown]
# ## A working copy of the store
#
# DuckDB keeps a store in one file (plus a `.wal` file while a writer has unflushed
# changes), so a file copy is a complete copy. Copy a store that no process is writing
# to at that moment. Every query and stage below reads or writes `COPY`.

# %%
WORKDIR = Path(tempfile.mkdtemp(prefix="jobimpact-nb03-"))
COPY = WORKDIR / DB.name
shutil.copy2(DB, COPY)
if DB.with_name(DB.name + ".wal").exists():
    shutil.copy2(DB.with_name(DB.name + ".wal"), COPY.with_name(COPY.name + ".wal"))
ORIGINAL_STAT = (DB.stat().st_size, DB.stat().st_mtime_ns)
print("working copy:", COPY)

# %% [markdown]
# ## A rubric variant
#
# A rubric is data: a system text, templates and Yes/No questions. Its hash covers every
# text, and scores are stored under the hash they were made with, so scores of a variant
# never mix with those of the original. Here the *automation* question is reworded. To
# keep a variant, copy `jobimpact/scoring/rubrics/exposure.toml`, edit it, bump its
# `version`, and load it with `jobimpact.load_rubric("my_rubric.toml")` (or
# `jobimpact score --rubric my_rubric.toml`).

# %%
rubric = jobimpact.load_rubric()  # the packaged default, "exposure"
NEW_WORDING = (
    "Could an LLM-based system complete this whole task on its own, "
    "with a person only checking the result?"
)


def reworded(base: jobimpact.Rubric, key: str, prompt: str) -> jobimpact.Rubric:
    """The rubric with one question's text replaced and a version that says so."""
    questions = tuple(
        dataclasses.replace(q, prompt=prompt) if q.key == key else q for q in base.questions
    )
    return dataclasses.replace(base, version=base.version + "+reworded-" + key, questions=questions)


variant = reworded(rubric, "automation", NEW_WORDING)
pd.DataFrame(
    {
        "rubric": [rubric.version, variant.version],
        "automation question": [
            rubric.question("automation").prompt,
            variant.question("automation").prompt,
        ],
        "hash": [rubric.hash[:16], variant.hash[:16]],
    }
)

# %% [markdown]
# ## Another model
#
# `make_scorer` builds the scorer named by `MODEL` with `jobimpact.get_backend`:
#
# * `fake`: the deterministic fake scorer with seed 1 (the test store uses seed 0). It
#   reads only the question keys, so with it the new wording changes the hash but not
#   the probabilities; with a real model the wording changes the answers.
# * a local model, e.g. `JOBIMPACT_NOTEBOOK_MODEL=smollm2-135m` (see `jobimpact models`):
#   the transformers backend, with the prefix-cached engine; a few tasks per second on a
#   laptop CPU.
# * `http`: any OpenAI-compatible server (vLLM, llama.cpp server, Ollama, a hosted API),
#   e.g. `JOBIMPACT_NOTEBOOK_MODEL=http JOBIMPACT_HTTP_BASE_URL=http://127.0.0.1:8000/v1
#   JOBIMPACT_HTTP_MODEL=<served model>`; an API key, if needed, is read from
#   `JOBIMPACT_HTTP_API_KEY`. It keeps no feature vectors, so a calibration head cannot
#   be fitted on its scores.


# %%
def make_scorer(name: str, rubric: jobimpact.Rubric) -> jobimpact.Scorer:
    """The scorer for MODEL: fake (seed 1), http, or a local transformers model."""
    if name == "fake":
        return jobimpact.get_backend("fake", rubric=rubric, seed=1, feature_dim=16)
    if name == "http":  # base URL, model and API key from the environment
        return jobimpact.get_backend("http", rubric=rubric)
    return jobimpact.get_backend("transformers", model=name, rubric=rubric)


scorer = make_scorer(MODEL, variant)
print("new scorer:", scorer.model_id, "| features:", scorer.feature_dim)

# %% [markdown]
# ## Which tasks to score
#
# The comparison needs tasks that the store's own scoring has already scored, and the
# calibration head needs labelled ones. The baseline is the store's zero-shot scoring of
# the model and rubric scored most recently (`jobimpact.resolve_scoring` with
# `head_id=""`); we draw `N_OCCUPATIONS` occupations that are both labelled and scored by
# it (topped up with other labelled occupations when there are too few).

# %%
with jobimpact.open_store(COPY, read_only=True) as con:
    BASE = jobimpact.resolve_scoring(con, head_id="", where=str(DB))
print("baseline:", BASE.describe())

LABELS = jobimpact.default_labels_path(DATA_DIR)
labels = jobimpact.read_labels(LABELS)
SCORED_OCCUPATIONS = """
SELECT DISTINCT t.onet_soc_code FROM task_scores AS s JOIN tasks AS t USING (task_id)
WHERE s.model_id = ? AND s.rubric_hash = ? AND s.head_id = ?
"""
scored = set(jobimpact.query(COPY, SCORED_OCCUPATIONS, BASE.params)["onet_soc_code"])
all_tasks = jobimpact.query(COPY, "SELECT task_id, onet_soc_code, task FROM tasks")
labelled = set(labels.frame["onet_soc_code"]) & set(all_tasks["onet_soc_code"])
rng = np.random.default_rng(0)
both = sorted(labelled & scored)
codes = [str(c) for c in rng.permutation(both)[:N_OCCUPATIONS]]
if len(codes) < N_OCCUPATIONS:
    others = sorted(labelled - scored)
    codes += [str(c) for c in rng.permutation(others)[: N_OCCUPATIONS - len(codes)]]
print(f"{len(both)} occupations labelled and scored by the baseline; scoring {len(codes)}")

# %%
result = jobimpact.run_score(db=COPY, scorer=scorer, occupations=codes)
result

# %% [markdown]
# ## Comparing the two scorings task by task
#
# For every task scored by both, the zero-shot P(Yes) of each question. Three views of
# agreement:
#
# * **Pearson r**: do the two rank and space the tasks alike?
# * **same side of 0.5**: how often would the two give the same Yes/No answer?
# * **mean |difference|**: how far apart the probabilities are on average.
#
# Two scorings can correlate well and still disagree on the level (one says Yes more
# often): then the roll-ups differ even though the ranking of occupations is similar.

# %%
with jobimpact.open_store(COPY, read_only=True) as con:
    NEW = jobimpact.resolve_scoring(
        con, model_id=scorer.model_id, rubric_hash=variant.hash, head_id="", where=str(COPY)
    )
print("new:", NEW.describe())

MEASURES = """
SELECT m.task_id, t.onet_soc_code, t.task,
       m.p_direct AS direct, m.p_software AS software,
       m.p_automation AS automation, m.p_creation AS creation
FROM task_measures AS m JOIN tasks AS t USING (task_id)
WHERE m.model_id = ? AND m.rubric_hash = ? AND m.head_id = ?
QUALIFY row_number() OVER (PARTITION BY m.task_id ORDER BY m.scored_at DESC) = 1
"""
QUESTIONS = ["direct", "software", "automation", "creation"]
pairs = jobimpact.query(COPY, MEASURES, BASE.params).merge(
    jobimpact.query(COPY, MEASURES, NEW.params),
    on=["task_id", "onet_soc_code", "task"],
    suffixes=("_base", "_new"),
)
agreement = pd.DataFrame(
    {
        q: {
            "Pearson r": pairs[f"{q}_base"].corr(pairs[f"{q}_new"]),
            "same side of 0.5": ((pairs[f"{q}_base"] > 0.5) == (pairs[f"{q}_new"] > 0.5)).mean(),
            "mean |difference|": (pairs[f"{q}_base"] - pairs[f"{q}_new"]).abs().mean(),
            "mean P(Yes), baseline": pairs[f"{q}_base"].mean(),
            "mean P(Yes), new": pairs[f"{q}_new"].mean(),
        }
        for q in QUESTIONS
    }
).T
print(len(pairs), "tasks scored by both")
agreement.round(3)

# %%
figure = Figure(figsize=(10, 2.8))
for ax, q in zip(figure.subplots(1, 4, sharex=True, sharey=True), QUESTIONS, strict=True):
    sns.scatterplot(data=pairs, x=f"{q}_base", y=f"{q}_new", s=10, linewidth=0, ax=ax)
    ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8, linestyle="--")
    ax.set(title=q, xlabel="baseline P(Yes)", ylabel="new P(Yes)", xlim=(0, 1), ylim=(0, 1))
figure.tight_layout()
figure

# %% [markdown]
# The largest disagreements are worth reading: often one model misread the task, or the
# task statement is ambiguous, and that tells you more about the rubric than any
# summary figure.

# %%
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

# %% [markdown]
# ## A calibration head on labelled tasks
#
# Small local models answer rubric questions close to chance zero-shot, but their hidden
# states carry the information: a calibration head is a logistic regression on each
# task's feature vector, fitted to labelled tasks. `jobimpact.run_calibrate` fits one per
# question (direct and software from the human exposure labels, automation from GPT-4's
# automation ratings), stores it, and rescores every featured task of that model with it.
#
# Its metrics are **out of fold**: tasks are split into 5 folds *by occupation*, and each
# fold is predicted by a head that never saw that occupation's tasks, so the AUC
# estimates how the head does on occupations it was not trained on. Any label file with
# the columns of GPTs-are-GPTs' `full_labelset.tsv` can replace `LABELS`.

# %%
CALIBRATED = NEW if scorer.feature_dim else BASE  # the HTTP backend keeps no features
head = jobimpact.run_calibrate(
    db=COPY, labels=LABELS, model_id=CALIBRATED.model_id, rubric_hash=CALIBRATED.rubric_hash
)
print(
    f"head {head.head_id}: {head.n_tasks} labelled tasks in {head.n_occupations} "
    f"occupations ({head.n_matched_id} labels matched by id, {head.n_matched_text} by "
    f"text); {head.applied} tasks rescored"
)
pd.DataFrame(head.cv_metrics).T.round(3)

# %% [markdown]
# For comparison, the zero-shot AUC of the same model's P(Yes) against the same targets
# on the same tasks. A head is worth applying when its out-of-fold AUC is clearly above
# the zero-shot one.

# %%
matched = jobimpact.match_labels(labels, all_tasks)
zero_shot = jobimpact.query(COPY, MEASURES, CALIBRATED.params).merge(
    matched.frame.drop(columns=["onet_soc_code", "task"]), on="task_id"
)
targets = jobimpact.targets_frame(zero_shot, list(head.cv_metrics))
comparison = pd.DataFrame(
    {
        q: {
            "zero-shot AUC": roc_auc_score(
                targets[q][targets[q].notna()], zero_shot[q][targets[q].notna()]
            ),
            "head AUC (out of fold)": head.cv_metrics[q]["auc"],
            "tasks": int(targets[q].notna().sum()),
        }
        for q in head.cv_metrics
        if targets[q].nunique() == 2
    }
).T
comparison.round(3)

# %% [markdown]
# ## Cleaning up
#
# The working copy now holds the variant's scores and the head. Keep it to explore
# further (e.g. `jobimpact.run_aggregate(db=COPY, model_id=..., rubric_hash=...)` and the
# other notebooks with `JOBIMPACT_DB` pointing at it), or delete it. The original store
# was never opened for writing:

# %%
assert (DB.stat().st_size, DB.stat().st_mtime_ns) == ORIGINAL_STAT, "the store changed"
KEEP_COPY = False
if not KEEP_COPY:
    shutil.rmtree(WORKDIR)
print("original store unchanged;", "copy kept at " + str(COPY) if KEEP_COPY else "copy removed")
