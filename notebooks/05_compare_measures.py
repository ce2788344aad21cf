# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. Ours beside the published measures
#
# Exposure indices are read against each other: Eloundou et al. set theirs beside
# Felten's and Frey and Osborne's. This notebook does the same for the store's scores:
# it reads the published occupation measures that `jobimpact fetch` put under
# `JOBIMPACT_DATA_DIR`, carries each to O*NET-SOC 2019 occupations, correlates them with
# our exposure (beta), displacement and creation, looks at how the crosswalk rules carried
# them, at the occupations where we disagree most and the tasks behind ours, and adds a
# measure of our own from a CSV file.
#
# `jobimpact.run_compare` writes the measures and the comparison into the store, so the
# notebook works on a **copy** in a temporary folder; the store named by `JOBIMPACT_DB` is
# only read. It needs a store with an occupation roll-up (`jobimpact aggregate`).

# %% tags=["parameters"]
import os
from pathlib import Path

DB = Path(os.environ.get("JOBIMPACT_DB", "../data/jobimpact.duckdb"))
DATA_DIR = Path(os.environ.get("JOBIMPACT_DATA_DIR", "../data"))
N_BOOT = 200  # bootstrap resamples of occupations (the command's default is 1,000)

# %%
# %matplotlib inline
import shutil
import tempfile

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

import jobimpact

pd.set_option("display.max_colwidth", 90)

# %% [markdown]
# ## A working copy, and the scoring it compares
#
# The comparison reads the roll-up the report shows: `jobimpact.resolve_scoring` picks it
# (the latest model and rubric, calibrated before zero-shot). `run_compare` takes
# `model_id=`, `head_id=` and `weighting=` to name another.

# %%
WORKDIR = Path(tempfile.mkdtemp(prefix="jobimpact-nb05-"))
COPY = WORKDIR / DB.name
shutil.copy2(DB, COPY)
if DB.with_name(DB.name + ".wal").exists():
    shutil.copy2(DB.with_name(DB.name + ".wal"), COPY.with_name(COPY.name + ".wal"))
ORIGINAL_STAT = (DB.stat().st_size, DB.stat().st_mtime_ns)

with jobimpact.open_store(COPY, read_only=True) as con:
    SCORING = jobimpact.resolve_scoring(con, aggregated=True)
print("scoring:", SCORING.describe())

# %% [markdown]
# ## The published measures
#
# Each is defined once, with the columns that hold its codes and values, the code system
# of its codes, and the measure of ours it is set against when listing disagreements.

# %%
catalogue = pd.DataFrame(
    [
        {
            "measure": spec.name,
            "label": spec.label,
            "codes": spec.code_system,
            "set against": spec.counterpart,
            "source": spec.source,
            "licence": spec.licence,
        }
        for spec in jobimpact.PUBLISHED_MEASURES.values()
    ]
)
catalogue

# %% [markdown]
# ## Compare
#
# `run_compare` reads every published measure whose source is fetched (`measures=` names
# some), checks every file before it writes, and stores the measures, the code links and
# the comparison in one transaction. Coverage says how much of the occupations with task
# statements, and of their employment, each measure reaches, and by which rule.

# %%
result = jobimpact.run_compare(db=COPY, data_dir=DATA_DIR, n_boot=N_BOOT)
print(f"{len(result.measures)} measures compared in {result.seconds:.1f} s")
result.coverage[
    [
        "measure",
        "code_system",
        "n_codes",
        "n_unknown",
        "occupations_matched",
        "occupation_share",
        "employment_share",
        "n_one_to_one",
        "n_equal_copy",
        "n_merged",
    ]
].round(3)

# %% [markdown]
# ## The correlation matrix
#
# Spearman rank correlations with their 95% bootstrap intervals; ours over the occupations
# of the roll-up, two published measures over every occupation with tasks that both
# reach. The heat map shows the employment-weighted ones beside the unweighted.

# %%
spearman = result.correlations[result.correlations["method"] == "spearman"]
ours_table = spearman[spearman["x"].isin(["beta", "displacement", "creation"])].pivot_table(
    index=["y", "x"], columns="weights", values=["value", "ci_low", "ci_high", "n"]
)
ours_table.round(2)

# %%
figure = Figure(figsize=(11, 4))
axes = figure.subplots(1, 2, sharey=True)
rows = ["beta", "displacement", "creation", *result.measures]
for ax, weights in zip(axes, ["none", "employment"], strict=True):
    chosen = spearman[spearman["weights"] == weights]
    matrix = chosen.pivot(index="x", columns="y", values="value").reindex(
        index=rows, columns=result.measures
    )
    sns.heatmap(matrix, annot=True, fmt=".2f", vmin=-1, vmax=1, cmap="PuOr_r", cbar=False, ax=ax)
    ax.set_title(f"Spearman, weights: {weights}")
    ax.set_xlabel("published measure")
    ax.set_ylabel("")
figure.tight_layout()
figure

# %% [markdown]
# ## How the crosswalk rules carried the measures
#
# The view `external_measure_occupations` holds each measure at each occupation, with the
# rule that put it there: `one to one`, `equal copy` (one code covering several
# occupations), `employment-weighted mean` (several codes merged into one occupation by a
# newer taxonomy). Here, a few occupations of each rule:

# %%
rules = jobimpact.query(
    COPY,
    """
    SELECT measure, crosswalk_rule, onet_soc_code, round(value, 3) AS value, codes,
           n_sharing, match_level, crosswalk_path
    FROM external_measure_occupations
    QUALIFY row_number() OVER (PARTITION BY measure, crosswalk_rule ORDER BY onet_soc_code) = 1
    ORDER BY measure, crosswalk_rule
    """,
)
rules

# %% [markdown]
# ## Where we disagree most, and why
#
# For each measure, the occupations whose percentile rank differs most from ours (in
# each direction), with the tasks that add most to our measure there: the start of an
# explanation, not just a number.

# %%
listed = result.disagreements[result.disagreements["position"] <= 2]
listed[
    ["measure", "ours", "direction", "title", "ours_value", "their_value", "rank_difference"]
].round(3)

# %%
first = listed.iloc[0]
print(f"{first['title']} ({first['onet_soc_code']}): {first['direction']} than {first['measure']}")
result.drivers[first["measure"]][first["onet_soc_code"]].round(3)

# %% [markdown]
# ## A measure of your own
#
# Any table with an occupation code and a value can join the comparison:
# `jobimpact.user_measure(path, key_column=..., value_column=..., code_system=...)` with
# SOC 2010, SOC 2018 or O*NET-SOC 2019 codes (the command line: `jobimpact compare
# --measure FILE --key-column C --value-column V --code-system soc2018`). Here: the OEWS
# annual mean wage of each SOC 2018 code, to ask whether exposure rises with wages.
# Codes a code system does not know, codes listed twice with different values and values
# that are not numbers stop with one line naming the file, row and field.

# %%
wages = jobimpact.query(
    COPY,
    """
    SELECT DISTINCT soc_code AS soc, annual_mean_wage AS wage
    FROM occupation_overview
    WHERE soc_code IS NOT NULL AND annual_mean_wage IS NOT NULL AND oews_match = 'detailed'
    ORDER BY soc
    """,
)
wage_file = WORKDIR / "oews_wage.csv"
wages.to_csv(wage_file, index=False)
mine = jobimpact.user_measure(wage_file, key_column="soc", value_column="wage")
own = jobimpact.run_compare(
    db=COPY, data_dir=DATA_DIR, measures=[], user_measures=[mine], n_boot=N_BOOT
)
own.correlations.round(3)

# %% [markdown]
# ## Cleaning up
#
# The working copy now holds the measures and both comparisons (the report of the copy
# shows the latest in its "How this compares" section). Keep it, or delete it. The
# original store was never opened for writing:

# %%
assert (DB.stat().st_size, DB.stat().st_mtime_ns) == ORIGINAL_STAT, "the store changed"
KEEP_COPY = False
if not KEEP_COPY:
    shutil.rmtree(WORKDIR)
print("original store unchanged;", "copy kept at " + str(COPY) if KEEP_COPY else "copy removed")
