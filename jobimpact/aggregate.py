"""Roll task scores up to occupations, major groups and the economy.

Pure functions on DataFrames; the pipeline reads their inputs from the store and writes
their outputs back.

Task weights (``weighting``):

- ``"rating"``: importance (1-5) x relevance (0-100) / 100 from O*NET Task Ratings; tasks
  without ratings (new tasks) get the median weight of their occupation's rated tasks, or 1
  when none is rated.
- ``"type"``: core tasks 2, supplemental and unrated tasks 1 (Eloundou et al. 2023).

An occupation's uncertainty is given two ways: a percentile bootstrap over its tasks (the
spread from which tasks O*NET lists) and the mean Bernoulli variance p(1-p) of its task
probabilities (how unsure the model is about each task).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from jobimpact.measures import MEASURE_NAMES

Weighting = Literal["rating", "type"]
# share_tasks_above_half counts a task when its beta exceeds this.
EXPOSED_THRESHOLD = 0.5
QUADRANTS = ("at risk", "transforming", "augmented/growing", "little change")
# The quadrant lines, on the probability scale. An occupation's displacement is the expected
# share of its (importance-weighted) task content that an LLM system could carry out end to
# end; above one half, most of its work could be handed over. Its creation is the expected
# share of LLM use on its tasks that keeps the worker in the work (iterating, validating,
# learning); above one half, use mostly augments. Both lines mean "more likely than not".
DISPLACEMENT_THRESHOLD = 0.5
CREATION_THRESHOLD = 0.5
# Lines tried by the sensitivity table of the report.
SENSITIVITY_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def task_weights(tasks: pd.DataFrame, *, weighting: Weighting = "rating") -> pd.Series:
    """Weight of each task within its occupation.

    Parameters
    ----------
    tasks
        Columns ``onet_soc_code``, ``task_type``, ``importance``, ``relevance``.
    weighting
        ``"rating"`` (importance x relevance) or ``"type"`` (core 2, others 1).
    """
    if weighting == "type":
        return pd.Series(
            np.where(tasks["task_type"] == "Core", 2.0, 1.0), index=tasks.index, name="weight"
        )
    if weighting != "rating":
        raise ValueError(f"weighting: got {weighting!r}, expected 'rating' or 'type'")
    rating = tasks["importance"].astype(float) * tasks["relevance"].astype(float) / 100.0
    fallback = rating.groupby(tasks["onet_soc_code"]).transform("median").fillna(1.0)
    return rating.fillna(fallback).rename("weight")


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    total = weights.sum()
    return float((values * weights).sum() / total) if total > 0 else float("nan")


def _bootstrap_interval(
    values: np.ndarray, weights: np.ndarray, rng: np.random.Generator, n_boot: int
) -> tuple[float, float]:
    """95% percentile interval of the weighted mean, resampling tasks."""
    if len(values) < 2 or n_boot == 0:
        return (float("nan"), float("nan"))
    idx = rng.integers(0, len(values), size=(n_boot, len(values)))
    w = weights[idx]
    means = (values[idx] * w).sum(axis=1) / w.sum(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def occupation_scores(
    task_scores: pd.DataFrame,
    *,
    weighting: Weighting = "rating",
    measures: Sequence[str] = MEASURE_NAMES,
    n_boot: int = 200,
    random_state: int = 0,
) -> pd.DataFrame:
    """Weighted means of the task measures per occupation, with intervals.

    Parameters
    ----------
    task_scores
        One row per task: ``onet_soc_code``, ``task_type``, ``importance``, ``relevance``
        and the probability columns in ``measures``.
    weighting
        How tasks are weighted within an occupation (see the module docstring).
    n_boot
        Bootstrap resamples per occupation for the intervals (0 to skip them).

    Returns
    -------
    DataFrame
        One row per occupation: ``n_tasks``, ``weighting``, each measure, its
        ``<measure>_low`` / ``<measure>_high`` bootstrap bounds and ``<measure>_bernoulli_var``,
        ``share_exposed`` (the expected share of exposed tasks, i.e. beta, the measure behind
        Eloundou et al.'s headline) and ``share_tasks_above_half`` (weighted share of tasks
        whose beta exceeds 0.5).
    """
    frame = task_scores.assign(weight=task_weights(task_scores, weighting=weighting))
    rng = np.random.default_rng(random_state)
    rows = []
    for code, group in frame.groupby("onet_soc_code", sort=True):
        weights = group["weight"].to_numpy(float)
        row: dict[str, object] = {
            "onet_soc_code": code,
            "n_tasks": len(group),
            "weighting": weighting,
        }
        for measure in measures:
            values = group[measure].to_numpy(float)
            row[measure] = _weighted_mean(values, weights)
            row[f"{measure}_low"], row[f"{measure}_high"] = _bootstrap_interval(
                values, weights, rng, n_boot
            )
            row[f"{measure}_bernoulli_var"] = float(np.mean(values * (1 - values)))
        if "beta" in group:
            above = (group["beta"].to_numpy(float) > EXPOSED_THRESHOLD).astype(float)
            row["share_tasks_above_half"] = _weighted_mean(above, weights)
            # Eloundou et al.'s share of exposed tasks counts E1 fully and E2 half: beta.
            row["share_exposed"] = row["beta"]
        rows.append(row)
    return pd.DataFrame(rows)


def group_scores(
    occupations: pd.DataFrame,
    *,
    by: str | None = "soc_major",
    weight: str = "employment",
    measures: Sequence[str] = MEASURE_NAMES,
) -> pd.DataFrame:
    """Employment- (or wage-bill-) weighted means of occupation measures per group.

    Parameters
    ----------
    occupations
        One row per occupation with the ``measures``, the grouping column ``by`` and the
        weight column (``employment`` or ``wage_bill``). Rows with no weight are left out.
    by
        Column to group by; None for one row over the whole economy.
    """
    frame = occupations.dropna(subset=[weight])
    frame = frame[frame[weight] > 0]
    keys = frame[by] if by else pd.Series("all", index=frame.index, name="group")

    def summarise(group: pd.DataFrame) -> pd.Series:
        w = group[weight].to_numpy(float)
        values = {m: _weighted_mean(group[m].to_numpy(float), w) for m in measures}
        return pd.Series({"n_occupations": len(group), weight: w.sum(), **values}, dtype="object")

    result = frame.groupby(keys, sort=True)[list(frame.columns)].apply(summarise)
    return result.reset_index().rename(columns={"index": by or "group"})


def exposed_worker_shares(
    occupations: pd.DataFrame, *, thresholds: Sequence[float] = (0.1, 0.5)
) -> dict[float, float]:
    """Share of workers in occupations with at least each threshold of tasks exposed.

    ``occupations`` needs ``share_exposed`` and ``employment``; the literature's headline
    (Eloundou et al.: about 80% of US workers with 10%+ of tasks exposed, 19% with 50%+).
    Computed this way from the human labels of the development half, with OEWS May 2024
    employment, it gives 80.3% and 18.5% (importance x relevance weights).
    """
    frame = occupations.dropna(subset=["employment", "share_exposed"])
    total = frame["employment"].sum()
    return {
        t: float(frame.loc[frame["share_exposed"] >= t, "employment"].sum() / total)
        for t in thresholds
    }


def weighted_median(values: pd.Series, weights: pd.Series) -> float:
    """The value below which half of the weight lies."""
    order = np.argsort(values.to_numpy(float))
    v, w = values.to_numpy(float)[order], weights.to_numpy(float)[order]
    cumulative = np.cumsum(w)
    return float(v[np.searchsorted(cumulative, cumulative[-1] / 2)])


def quadrant_of(
    displacement: pd.Series, creation: pd.Series, d_line: float, c_line: float
) -> npt.NDArray[np.str_]:
    """The quadrant of each occupation for the given lines (a value on a line is low)."""
    high_d, high_c = displacement > d_line, creation > c_line
    chosen: npt.NDArray[np.str_] = np.select(
        [high_d & ~high_c, high_d & high_c, ~high_d & high_c], list(QUADRANTS[:3]), QUADRANTS[3]
    )
    return chosen


def quadrants(
    occupations: pd.DataFrame,
    *,
    displacement_threshold: float = DISPLACEMENT_THRESHOLD,
    creation_threshold: float = CREATION_THRESHOLD,
) -> pd.DataFrame:
    """Place each occupation in a displacement-versus-creation quadrant.

    ``quadrant`` uses lines with a stated meaning (see :data:`DISPLACEMENT_THRESHOLD`): high
    displacement and low creation is "at risk", high and high "transforming", low
    displacement and high creation "augmented/growing", low and low "little change".
    ``quadrant_relative`` splits at the employment-weighted medians instead, so each side of
    each line holds about half the workers by construction: a relative view, not a finding.
    """
    frame = occupations.dropna(subset=["displacement", "creation"])
    weighted = frame.dropna(subset=["employment"])
    d_median = weighted_median(weighted["displacement"], weighted["employment"])
    c_median = weighted_median(weighted["creation"], weighted["employment"])
    return frame.assign(
        quadrant=quadrant_of(
            frame["displacement"], frame["creation"], displacement_threshold, creation_threshold
        ),
        displacement_threshold=displacement_threshold,
        creation_threshold=creation_threshold,
        quadrant_relative=quadrant_of(frame["displacement"], frame["creation"], d_median, c_median),
        displacement_median=d_median,
        creation_median=c_median,
    )


def quadrant_sensitivity(
    occupations: pd.DataFrame, *, thresholds: Sequence[float] = SENSITIVITY_THRESHOLDS
) -> pd.DataFrame:
    """The share of employment in each quadrant as both lines move together.

    Returns
    -------
    DataFrame
        One row per threshold (used for both lines): the employment share per quadrant.
    """
    frame = occupations.dropna(subset=["displacement", "creation", "employment"])
    frame = frame[frame["employment"] > 0]
    total = float(frame["employment"].sum())
    rows = []
    for line in thresholds:
        placed = quadrant_of(frame["displacement"], frame["creation"], line, line)
        shares = {q: float(frame["employment"][placed == q].sum() / total) for q in QUADRANTS}
        rows.append({"threshold": line, **shares})
    return pd.DataFrame(rows, columns=["threshold", *QUADRANTS])
