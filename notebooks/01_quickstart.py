# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. Quickstart: what is in a jobimpact store
#
# This notebook opens a store read-only and shows the headline figures, the map of
# occupations by displacement and creation, and the scored tasks of one occupation.
#
# Set `JOBIMPACT_DB` to the store to read (default `../data/jobimpact.duckdb`, the one
# `make run` builds). Nothing here writes to it.

# %% tags=["parameters"]
import os
from pathlib import Path

DB = Path(os.environ.get("JOBIMPACT_DB", "../data/jobimpact.duckdb"))

# %%
# %matplotlib inline
import pandas as pd

import jobimpact

pd.set_option("display.max_colwidth", 100)

# %% [markdown]
# ## The store at a glance
#
# Row counts of the main tables and the share of US employment (BLS OEWS) that the
# store's occupations account for. Occupations without O*NET task statements cannot be
# scored, so coverage is a little below 100% even when every task is scored.

# %%
with jobimpact.open_store(DB, read_only=True) as con:
    status = jobimpact.store_status(con)
counts = pd.Series(status["counts"])
print(
    f"schema version {status['schema_version']}; "
    f"{status['occupations_with_tasks']} occupations with tasks"
)
print(pd.Series(status["employment_coverage"]).to_string())
counts[["occupations", "tasks", "task_scores", "occupation_scores", "task_clusters"]]

# %% [markdown]
# ## Which scoring to read
#
# A store can hold several scorings: different models, rubric versions, calibration
# heads (`head_id`; empty means zero-shot) and task weightings. Every figure below is for
# one of them, and figures from different scorings should not be mixed.
#
# `jobimpact.resolve_scoring` chooses it with the rule the report and every command use:
# the model and rubric aggregated most recently, its calibrated scores before its
# zero-shot ones (a head's scores are the validated ones), then the latest roll-up. Name
# what you want to read another one, e.g. `head_id=""` for the zero-shot scores or
# `model_id=...` for another model; the table lists what the store holds.

# %%
with jobimpact.open_store(DB, read_only=True) as con:
    SCORING = jobimpact.resolve_scoring(con, aggregated=True, where=str(DB))
    ROLLUPS = jobimpact.list_scorings(con, aggregated=True)  # in the order of preference
# bind in WHERE model_id = ? AND rubric_hash = ? AND head_id = ? AND weighting = ?
KEY = SCORING.params
print("scoring:", SCORING.describe())
ROLLUPS

# %% [markdown]
# ## Headline numbers
#
# From the `economy_impact` view, employment-weighted over the scored occupations:
#
# * **workers_10pct_exposed / workers_50pct_exposed**: share of workers in occupations
#   with at least 10% / 50% of their tasks exposed (an occupation's share of exposed
#   tasks is its beta, the measure of Eloundou et al. 2023, who report about 80% and 19%).
# * **quadrants**: occupations are split at displacement 0.5 and creation 0.5 ("more
#   likely than not"), lines with a stated meaning; `quadrant_relative` in
#   `occupation_impact` splits at the employment-weighted medians instead.
#
# The figures describe the workers of the *scored* occupations only (`n_occupations`
# below); after `--sample`, that is a sample, not the US economy. Zero-shot scores of
# small local models are close to chance (see the README): read them as a test of the
# pipeline until a calibration head has been applied.

# %%
ECONOMY = """
SELECT * FROM economy_impact
WHERE model_id = ? AND rubric_hash = ? AND head_id = ? AND weighting = ?
"""
economy = jobimpact.query(DB, ECONOMY, KEY).iloc[0]
headline = pd.Series(
    {
        "occupations scored": int(economy["n_occupations"]),
        "tasks scored": int(economy["n_tasks_scored"]),
        "workers in scored occupations (millions)": round(economy["employment"] / 1e6, 2),
        "workers with >= 10% of tasks exposed": f"{economy['workers_10pct_exposed']:.1%}",
        "workers with >= 50% of tasks exposed": f"{economy['workers_50pct_exposed']:.1%}",
        "mean exposure (beta)": round(economy["beta"], 3),
        "mean displacement": round(economy["displacement"], 3),
        "mean creation": round(economy["creation"], 3),
    }
)
headline

# %%
QUADRANTS = {  # quadrant → its suffix in economy_impact's column names
    "at risk": "at_risk",
    "transforming": "transforming",
    "augmented/growing": "augmented",
    "little change": "little_change",
}
quadrants = pd.DataFrame(
    {
        "quadrant": list(QUADRANTS),
        "share of employment": [economy[f"share_{q}"] for q in QUADRANTS.values()],
        "wage bill ($ billions)": [economy[f"wage_bill_{q}"] / 1e9 for q in QUADRANTS.values()],
    }
)
quadrants["workers (millions)"] = quadrants["share of employment"] * economy["employment"] / 1e6
quadrants.round(3)

# %% [markdown]
# ## Displacement versus creation, by occupation
#
# Each marker is an occupation (area: employment; colour and shape: major group). The
# x axis is displacement (could an LLM system do its tasks end to end), the y axis
# creation (when people use an LLM for the task, do they keep the work and iterate,
# validate, learn with it: a head learnt from observed use in the Economic Index).
# The dashed lines are the quadrant thresholds. Occupations far to the right and low
# are where a model sees tasks being taken over rather than assisted.
#
# Read the axis ranges before the picture: the axes fit the data, so occupations that
# differ by a few hundredths can look far apart. A model that barely separates
# occupations (as small models do zero-shot) still fills the whole plot.
#
# The figure is the report's own (`jobimpact.Report`), for the same scoring; the report
# object also holds every number the report shows (`report.summary`), and displays as
# the whole report when it is the last line of a cell.

# %%
report = jobimpact.Report.from_store(
    DB,
    model_id=SCORING.model_id,
    rubric_hash=SCORING.rubric_hash,
    head_id=SCORING.head_id,
    weighting=SCORING.weighting or "rating",
)
print(report.source_line())
report.figures()["scatter"]

# %% [markdown]
# The largest occupations of each quadrant, with the 95% bootstrap interval of their
# displacement over their tasks. A wide interval means the occupation's tasks disagree
# with each other, or that it has few tasks: its position on the map is uncertain.

# %%
OCCUPATIONS = """
SELECT * FROM occupation_impact
WHERE model_id = ? AND rubric_hash = ? AND head_id = ? AND weighting = ?
"""
occupations = jobimpact.query(DB, OCCUPATIONS, KEY)
columns = [
    "title",
    "quadrant",
    "employment",
    "n_tasks",
    "displacement",
    "displacement_low",
    "displacement_high",
    "creation",
    "beta",
]
(
    occupations.sort_values("employment", ascending=False)
    .groupby("quadrant")
    .head(3)[columns]
    .sort_values(["quadrant", "employment"], ascending=[True, False])
    .round(3)
)

# %% [markdown]
# ## One occupation's tasks
#
# An occupation's measures are weighted means over its tasks (weights: importance ×
# relevance, or core 2 / supplemental 1). Here are the tasks of the scored occupation
# with the most workers, each with its P(Yes) per rubric question and the derived
# measures. `min_answer_mass` is the smallest probability the model put on "Yes" or "No"
# over the questions: a low value means the model wanted to answer something else, and
# its P(Yes) is less trustworthy. Set `OCCUPATION` to an O*NET-SOC code to look at
# another one.

# %%
OCCUPATION = str(occupations.sort_values("employment", ascending=False)["onet_soc_code"].iloc[0])
TASKS = """
SELECT t.task, t.task_type, t.importance, t.relevance,
       m.p_direct, m.p_software, m.p_automation, m.p_creation,
       m.beta, m.displacement, m.creation, m.min_answer_mass
FROM task_measures AS m JOIN tasks AS t USING (task_id)
WHERE m.model_id = ? AND m.rubric_hash = ? AND m.head_id = ? AND t.onet_soc_code = ?
QUALIFY row_number() OVER (PARTITION BY m.task_id ORDER BY m.scored_at DESC) = 1
ORDER BY t.importance DESC NULLS LAST
"""
tasks = jobimpact.query(
    DB, TASKS, [SCORING.model_id, SCORING.rubric_hash, SCORING.head_id, OCCUPATION]
)
by_code = occupations.set_index("onet_soc_code")
print(by_code.loc[OCCUPATION, "title"], f"({OCCUPATION}):", len(tasks), "tasks")
tasks.round(3)

# %%
by_code.loc[
    OCCUPATION,
    [
        "n_tasks",
        "beta",
        "beta_low",
        "beta_high",
        "displacement",
        "displacement_low",
        "displacement_high",
        "creation",
        "creation_low",
        "creation_high",
        "quadrant",
        "employment",
    ],
]

# %% [markdown]
# ## Where to go next
#
# * `02_task_families`: the same scores grouped into task families that cut across
#   occupations.
# * `03_custom_rubric_and_model`: change a question, score with another model, compare
#   the two, and fit a calibration head.
# * `04_sql_for_researchers`: the views, Parquet export, and joining your own tables.
