# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. SQL for researchers
#
# A jobimpact store is an ordinary DuckDB file: any DuckDB client (Python, R, the
# `duckdb` command line, DBeaver) can read it. This notebook queries it with SQL through
# the documented views, exports Parquet, and joins an outside table.
#
# Open the file **read-only**: several readers can then share it, and nothing you run
# can change it. Set `JOBIMPACT_DB` to the store to read.

# %% tags=["parameters"]
import os
from pathlib import Path

DB = Path(os.environ.get("JOBIMPACT_DB", "../data/jobimpact.duckdb"))

# %%
import shutil
import tempfile

import duckdb
import pandas as pd

import jobimpact

pd.set_option("display.max_colwidth", 110)

# %% [markdown]
# ## Plain DuckDB
#
# `duckdb.connect(path, read_only=True)` is all it takes. Keep connections short (open,
# query, close) while a pipeline may be writing to the store: a writer needs the file to
# itself for a moment between its batches.

# %%
con = duckdb.connect(str(DB), read_only=True)
print(con.execute("SELECT max(version) FROM schema_migrations").fetchone())
counts = con.execute("""
    SELECT table_name, estimated_size AS approx_rows, column_count
    FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY table_name
""").df()
con.close()
counts

# %% [markdown]
# ## The documented views
#
# The views are the stable interface: tables may gain columns or change with a schema
# migration, the views keep their meaning. Each is documented by a header comment in the
# SQL that defines it (`jobimpact.view_docs()` collects them); the README has the same
# table.

# %%
with jobimpact.open_store(DB, read_only=True) as con:
    views = [name for name, is_view in jobimpact.relations(con) if is_view]
docs = jobimpact.view_docs()
pd.DataFrame({"view": views, "what it holds": [docs.get(v, "") for v in views]})

# %% [markdown]
# ## Queries
#
# `jobimpact.query(db, sql, params)` opens the store read-only for just one query and
# returns a DataFrame. Pass values as bound parameters (`?`), never by pasting them into
# the SQL text: it is safe for any string, and DuckDB can reuse the plan.
#
# First, the scoring to read (a store can hold several roll-ups, listed below):
# `jobimpact.resolve_scoring` picks the one the report shows, and its `params` are the
# values to bind for `model_id = ? AND rubric_hash = ? AND head_id = ? AND weighting = ?`.

# %%
with jobimpact.open_store(DB, read_only=True) as con:
    SCORING = jobimpact.resolve_scoring(con, aggregated=True, where=str(DB))
    ROLLUPS = jobimpact.list_scorings(con, aggregated=True)  # in the order of preference
KEY = SCORING.params
print("scoring:", SCORING.describe())
ROLLUPS

# %% [markdown]
# Employment-weighted measures by SOC major group (`major_group_impact`), with the share
# of each group's employment in the "at risk" quadrant.

# %%
GROUPS = """
SELECT major_group, n_occupations, employment / 1e6 AS employment_millions,
       beta, displacement, creation,
       employment_at_risk / employment AS share_at_risk
FROM major_group_impact
WHERE model_id = ? AND rubric_hash = ? AND head_id = ? AND weighting = ?
ORDER BY displacement DESC
"""
jobimpact.query(DB, GROUPS, KEY).round(3)

# %% [markdown]
# Window functions answer "the top n per group" questions in one query: the most
# displaced occupation of each major group, with its interval.

# %%
TOP_PER_GROUP = """
SELECT major_group, title, employment, displacement, displacement_low, displacement_high
FROM occupation_impact
WHERE model_id = ? AND rubric_hash = ? AND head_id = ? AND weighting = ?
QUALIFY row_number() OVER (PARTITION BY soc_major ORDER BY displacement DESC) = 1
ORDER BY displacement DESC
"""
jobimpact.query(DB, TOP_PER_GROUP, KEY).round(3)

# %% [markdown]
# Provenance: every stage records a run with its parameters and counts (JSON), so you can
# tell what produced the numbers you are reading.

# %%
RUNS = """
SELECT stage, status, started_at, finished_at,
       json_extract_string(parameters, '$.model_id') AS model_id,
       counts, jobimpact_version
FROM runs ORDER BY started_at DESC LIMIT 8
"""
jobimpact.query(DB, RUNS)

# %% [markdown]
# ## Exporting Parquet
#
# Parquet files keep the column types and read fast in pandas, polars, R (arrow) or
# Spark. `jobimpact.export_parquet` writes every table and view; `COPY (query) TO` writes
# one query's result. Both only write files outside the store, so they work on a
# read-only connection.

# %%
OUT = Path(tempfile.mkdtemp(prefix="jobimpact-nb04-"))
target = OUT / "occupation_impact_latest.parquet"
with jobimpact.open_store(DB, read_only=True) as con:
    written = jobimpact.export_parquet(con, OUT / "all")
    con.execute(
        f"COPY (SELECT * FROM occupation_impact WHERE model_id = ? AND rubric_hash = ? "
        f"AND head_id = ? AND weighting = ?) TO '{target}' (FORMAT parquet)",
        KEY,
    )
sizes = pd.DataFrame(
    {
        "file": [p.name for p in written],
        "kB": [round(p.stat().st_size / 1e3, 1) for p in written],
    }
)
print(len(written), "files in", OUT / "all")
sizes.sort_values("kB", ascending=False).head(8)

# %%
# pandas reads Parquet too (pd.read_parquet) when pyarrow is installed
back = duckdb.connect().execute("SELECT * FROM read_parquet(?)", [str(target)]).df()
print(len(back), "occupations read back from", target.name)
back[["onet_soc_code", "title", "displacement", "creation", "quadrant"]].head()

# %% [markdown]
# ## Joining an outside table
#
# Outside data is usually keyed by the 6-digit SOC 2018 code (e.g. `15-1252`), while
# jobimpact's occupations are O*NET-SOC codes (e.g. `15-1252.00`); several O*NET-SOC
# occupations can share one SOC code. `occupation_overview.soc_code` holds each
# occupation's SOC 2018 code (from the official crosswalk, not just the code's first
# seven characters). Join on it, and combine the O*NET-SOC occupations of a SOC code with
# their national employment as weights.
#
# The state table below is **made up for illustration** (three states, the five scored
# SOC codes with the most workers, invented employment figures). Replace it with a real
# file, such as the BLS OEWS state estimates.

# %%
SOC_MEASURES = """
SELECT v.soc_code,
       any_value(i.title) AS example_title,
       sum(i.employment) AS national_employment,
       sum(i.displacement * i.employment) / sum(i.employment) AS displacement,
       sum(i.creation * i.employment) / sum(i.employment) AS creation
FROM occupation_impact AS i JOIN occupation_overview AS v USING (onet_soc_code)
WHERE i.model_id = ? AND i.rubric_hash = ? AND i.head_id = ? AND i.weighting = ?
  AND i.employment > 0
GROUP BY v.soc_code
"""
by_soc = jobimpact.query(DB, SOC_MEASURES, KEY)
top_codes = by_soc.nlargest(5, "national_employment")["soc_code"].tolist()

# ILLUSTRATIVE NUMBERS ONLY: invented state employment, not real data. Each state has a
# different mix of the five occupations, which is what makes their figures differ.
invented = {
    "CA": [52000, 61000, 18000, 9000, 30000],
    "TX": [41000, 20000, 35000, 22000, 8000],
    "NY": [30000, 15000, 9000, 26000, 24000],
}
made_up = pd.DataFrame(
    [
        (state, code, workers)
        for state, numbers in invented.items()
        for code, workers in zip(top_codes, numbers, strict=False)
    ],
    columns=["state", "soc_code", "employment"],
)
STATE_FILE = OUT / "state_employment_ILLUSTRATIVE.csv"
made_up.to_csv(STATE_FILE, index=False)
print("\n".join(STATE_FILE.read_text().splitlines()[:4]))

# %% [markdown]
# DuckDB reads the CSV file directly in SQL (`read_csv`), and a pandas DataFrame can be
# registered as a table (`con.register`). First the row-level join: a left join keeps
# the rows of the outside file that found no scored occupation, so you can see what
# would silently drop out of an inner join (codes the store does not score, or codes of
# another SOC vintage).

# %%
STATE_ROWS = """
SELECT s.state, s.soc_code, m.example_title, s.employment, m.displacement, m.creation
FROM read_csv(?) AS s LEFT JOIN soc_measures AS m USING (soc_code)
ORDER BY s.state, s.soc_code
"""
STATE_TOTALS = """
SELECT s.state,
       sum(s.employment) AS employment,
       sum(s.employment * m.displacement) / sum(s.employment) AS displacement,
       sum(s.employment * m.creation) / sum(s.employment) AS creation
FROM read_csv(?) AS s JOIN soc_measures AS m USING (soc_code)
GROUP BY s.state ORDER BY displacement DESC
"""
with duckdb.connect(str(DB), read_only=True) as con:
    con.register("soc_measures", by_soc)
    rows = con.execute(STATE_ROWS, [str(STATE_FILE)]).df()
    states = con.execute(STATE_TOTALS, [str(STATE_FILE)]).df()
print(f"{rows['displacement'].isna().sum()} of {len(rows)} rows found no scored occupation")
rows.round(3)

# %% [markdown]
# Each state's employment-weighted displacement and creation over these occupations.
# The states differ only through their mix of occupations: the calculation assumes an
# occupation's tasks, and so its scores, are the same in every state.

# %%
states.round(3)

# %% [markdown]
# The files written above are in a temporary folder; they are removed here. Point `OUT`
# at a folder of your own to keep them.

# %%
shutil.rmtree(OUT)
