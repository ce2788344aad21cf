"""Which tasks drive an occupation's score: the report's top lists and ``jobimpact compare``
show them beside an occupation, as the start of an explanation.

An occupation's score is the weighted mean of its tasks' scores; a task's contribution is
its score times its share of the occupation's task weight (the roll-up's weighting), so
the contributions of an occupation's tasks add up to its score.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import duckdb
import pandas as pd

from jobimpact.aggregate import task_weights

__all__ = ["N_DRIVERS", "driving_tasks", "task_drivers", "with_weight_shares"]

# Tasks shown as the drivers of an occupation's score.
N_DRIVERS = 3
DRIVER_COLUMNS = ["task_id", "task", "value", "weight_share", "contribution"]


def with_weight_shares(tasks: pd.DataFrame, *, weighting: str) -> pd.DataFrame:
    """``tasks`` with ``weight_share``: each task's share of its occupation's task weight."""
    if tasks.empty:
        return tasks.assign(weight_share=pd.Series(dtype=float))
    weights = task_weights(tasks, weighting=weighting)  # type: ignore[arg-type]
    share = weights / weights.groupby(tasks["onet_soc_code"]).transform("sum")
    return tasks.assign(weight_share=share)


def task_drivers(
    tasks: pd.DataFrame, codes: Collection[str], measure: str, *, n: int = N_DRIVERS
) -> dict[str, pd.DataFrame]:
    """Per occupation of ``codes``, the ``n`` tasks that add most to its weighted mean of
    ``measure``: ``task_id, task, value, weight_share, contribution``.

    ``tasks`` comes from :func:`with_weight_shares`; occupations without scored tasks
    are absent from the result.
    """
    drivers: dict[str, pd.DataFrame] = {}
    if tasks.empty:
        return drivers
    ranked = tasks.assign(
        value=tasks[measure], contribution=tasks[measure] * tasks["weight_share"]
    ).sort_values("contribution", ascending=False)
    for code, group in ranked[ranked["onet_soc_code"].isin(set(codes))].groupby("onet_soc_code"):
        drivers[str(code)] = group.head(n)[DRIVER_COLUMNS].reset_index(drop=True)
    return drivers


def driving_tasks(
    con: duckdb.DuckDBPyConnection,
    keys: Sequence[str],
    codes: Collection[str],
    measure: str,
    *,
    weighting: str,
    n: int = N_DRIVERS,
) -> dict[str, pd.DataFrame]:
    """:func:`task_drivers` of ``codes`` read from the store for the scoring ``keys``
    (model, rubric, head) and the roll-up's ``weighting``."""
    from jobimpact.store.scores import occupation_tasks

    tasks = occupation_tasks(con, keys, sorted(set(codes)))
    return task_drivers(with_weight_shares(tasks, weighting=weighting), codes, measure, n=n)
