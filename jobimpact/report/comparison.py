"""The report's "How this compares" section: the latest stored comparison of the reported
roll-up with published occupation measures (``jobimpact compare``), read-only.

Returns plain data for the figures (:mod:`jobimpact.report.comparison_plots`) and the
template: the correlation matrices, a table of ours against each measure, the values of
every compared occupation for the scatter, and the largest disagreements with the tasks
driving our measure there (:func:`jobimpact.drivers.driving_tasks`, as the top lists).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd

from jobimpact.comparison.catalog import OURS
from jobimpact.report.sections import as_float

__all__ = ["comparison", "correlation_matrix"]

# Occupations listed per measure and direction in the report, and tasks shown for each.
N_LISTED = 2
N_TASKS = 2
OUR_LABELS = {"beta": "ours: exposure (beta)", "displacement": "ours: displacement",
              "creation": "ours: creation"}  # fmt: skip


def comparison(
    con: duckdb.DuckDBPyConnection, params: Sequence[str], *, weighting: str
) -> dict[str, Any]:
    """The latest comparison of the roll-up ``params`` (model, rubric, head, weighting), or
    ``{"available": False}`` when none is stored."""
    from jobimpact.drivers import driving_tasks
    from jobimpact.store.comparisons import latest_comparison

    found = latest_comparison(con, params)
    if found is None:
        return {"available": False}
    measures: list[str] = found["measures"]
    coverage: pd.DataFrame = found["coverage"]
    labels = dict(zip(coverage["measure"], coverage["label"], strict=True))
    correlations: pd.DataFrame = found["correlations"]
    disagreements: pd.DataFrame = found["disagreements"]
    listed = disagreements[disagreements["position"] <= N_LISTED]
    drivers = {
        str(measure): driving_tasks(
            con,
            params,
            list(group["onet_soc_code"]),
            str(group["ours"].iloc[0]),
            weighting=weighting,
            n=N_TASKS,
        )
        for measure, group in listed.groupby("measure", sort=False)
    }
    record = found["record"]
    return {
        "available": True,
        "comparison_id": str(record["comparison_id"]),
        "run_id": str(record["run_id"]),
        "created_at": record["created_at"],
        "n_boot": int(record["n_boot"]),
        "measures": measures,
        "labels": labels,
        "coverage": coverage,
        "correlations": correlations,
        "table": _ours_table(correlations, coverage),
        "pairs": found["pairs"],
        "disagreements": listed.reset_index(drop=True),
        "drivers": drivers,
    }


def correlation_matrix(
    correlations: pd.DataFrame, measures: Sequence[str], *, method: str, weights: str
) -> pd.DataFrame:
    """Rows ours then each measure, columns the measures; symmetric among the measures,
    NaN on the diagonal and where a pair was not computed."""
    chosen = correlations[(correlations["method"] == method) & (correlations["weights"] == weights)]
    values = {(str(r.x), str(r.y)): as_float(r.value) for r in chosen.itertuples(index=False)}
    rows = [*OURS, *measures]
    matrix = pd.DataFrame(index=rows, columns=list(measures), dtype=float)
    for x in rows:
        for y in measures:
            value = values.get((x, y), values.get((y, x)))
            matrix.loc[x, y] = float("nan") if value is None else value
    return matrix


def _ours_table(correlations: pd.DataFrame, coverage: pd.DataFrame) -> pd.DataFrame:
    """One row per measure and one of ours: Spearman and Pearson, unweighted and
    employment-weighted, each with its interval, and the occupations compared."""
    ours = correlations[correlations["x"].isin(OURS)]
    rows = []
    for info in coverage.to_dict("records"):
        for x in OURS:
            part = ours[(ours["y"] == info["measure"]) & (ours["x"] == x)]
            row: dict[str, Any] = {
                "measure": info["measure"],
                "label": info["label"],
                "ours": x,
                "counterpart": x == info["counterpart"],
            }
            for found in part.to_dict("records"):
                key = f"{found['method']}_{found['weights']}"
                row[key] = as_float(found["value"])
                row[f"{key}_low"] = as_float(found["ci_low"])
                row[f"{key}_high"] = as_float(found["ci_high"])
                row[f"n_{found['weights']}"] = int(found["n"])
            rows.append(row)
    return pd.DataFrame(rows)
