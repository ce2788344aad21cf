"""Correlations over occupations, unweighted and employment-weighted, with bootstrap
intervals; and the occupations whose ranks differ most between two measures.

Employment-weighted Pearson is the correlation of the weighted covariance; employment-
weighted Spearman is the weighted Pearson of employment percentiles (each occupation's
mid-point in the cumulative employment of the occupations ordered by the measure), so an
occupation counts as much as its workers. Unweighted Spearman is the same with equal
weights, i.e. the Pearson correlation of mid-ranks. Intervals are 95% percentile
intervals over occupations resampled with replacement (ranks recomputed in every
resample); resamples in which a measure is constant are left out.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "MIN_OCCUPATIONS",
    "correlation_rows",
    "disagreements",
    "percentile_ranks",
    "weighted_pearson",
]

FloatArray = npt.NDArray[np.float64]
# Fewest occupations a correlation is computed on.
MIN_OCCUPATIONS = 5
METHODS = ("pearson", "spearman")
WEIGHTS = ("none", "employment")
_CHUNK = 200  # bootstrap resamples computed at once (memory: chunk x occupations)


def weighted_pearson(x: FloatArray, y: FloatArray, w: FloatArray) -> FloatArray:
    """Weighted Pearson correlation of each row of ``x`` and ``y`` (2-D, same shape).

    NaN for a row in which either is constant.
    """
    total = w.sum(axis=1, keepdims=True)
    dx = x - (w * x).sum(axis=1, keepdims=True) / total
    dy = y - (w * y).sum(axis=1, keepdims=True) / total
    cov = (w * dx * dy).sum(axis=1)
    var = (w * dx * dx).sum(axis=1) * (w * dy * dy).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        result: FloatArray = np.where(var > 1e-300, cov / np.sqrt(var), np.nan)
    return result


def weighted_midranks(values: FloatArray, w: FloatArray) -> FloatArray:
    """Each value's weighted mid-rank in its row, in (0, 1): the weight of the smaller
    values plus half the weight of its ties, over the row's total weight."""
    rows, n = values.shape
    order = np.argsort(values, axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, axis=1)
    weights = np.take_along_axis(w, order, axis=1)
    cumulative = np.cumsum(weights, axis=1)
    starts = np.ones((rows, n), dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    # One id per run of ties, unique across rows.
    ids = (np.cumsum(starts, axis=1) - 1 + (np.arange(rows) * n)[:, None]).ravel()
    tie_weight = np.bincount(ids, weights.ravel(), minlength=rows * n)
    tie_start = np.bincount(ids, ((cumulative - weights) * starts).ravel(), minlength=rows * n)
    middle: FloatArray = (tie_start[ids] + tie_weight[ids] / 2).reshape(rows, n)
    middle = middle / cumulative[:, -1:]
    ranks: FloatArray = np.empty_like(middle)
    np.put_along_axis(ranks, order, middle, axis=1)
    return ranks


def _statistic(method: str, x: FloatArray, y: FloatArray, w: FloatArray) -> FloatArray:
    if method == "spearman":
        return weighted_pearson(weighted_midranks(x, w), weighted_midranks(y, w), w)
    return weighted_pearson(x, y, w)


def _resamples(n: int, n_boot: int, rng: np.random.Generator) -> Iterator[npt.NDArray[np.intp]]:
    for start in range(0, n_boot, _CHUNK):
        yield rng.integers(0, n, (min(_CHUNK, n_boot - start), n))


def _one(
    method: str, x: FloatArray, y: FloatArray, w: FloatArray, n_boot: int, seed: int
) -> tuple[float, float, float]:
    """(value, ci_low, ci_high) of one statistic on complete cases."""
    value = float(_statistic(method, x[None], y[None], w[None])[0])
    rng = np.random.default_rng(seed)
    boot = [
        _statistic(method, x[index], y[index], w[index])
        for index in _resamples(len(x), n_boot, rng)
    ]
    draws = np.concatenate(boot) if boot else np.array([])
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return value, float("nan"), float("nan")
    low, high = np.percentile(draws, [2.5, 97.5])
    return value, float(low), float(high)


def correlation_rows(
    x: pd.Series,
    y: pd.Series,
    employment: pd.Series,
    *,
    n_boot: int = 1000,
    random_state: int = 0,
) -> list[dict[str, object]]:
    """Pearson and Spearman of ``x`` and ``y``, unweighted and employment-weighted.

    Parameters
    ----------
    x, y : Series
        One value per occupation, on the same index; occupations missing either are left out.
    employment : Series
        Workers per occupation, same index; the weighted figures leave out occupations
        without employment.
    n_boot : bootstrap resamples of occupations (0: no intervals)
    random_state : seed; the same resamples serve every statistic of a weighting

    Returns
    -------
    list of dict
        ``method, weights, value, ci_low, ci_high, n`` (value NaN with fewer than
        :data:`MIN_OCCUPATIONS` occupations).
    """
    frame = pd.DataFrame({"x": x, "y": y, "w": employment}).dropna(subset=["x", "y"])
    rows: list[dict[str, object]] = []
    for weights in WEIGHTS:
        used = frame if weights == "none" else frame[frame["w"].fillna(0) > 0]
        xs = used["x"].to_numpy(np.float64)
        ys = used["y"].to_numpy(np.float64)
        ws = np.ones(len(used)) if weights == "none" else used["w"].to_numpy(np.float64)
        for method in METHODS:
            if len(used) < MIN_OCCUPATIONS:
                value, low, high = float("nan"), float("nan"), float("nan")
            else:
                value, low, high = _one(method, xs, ys, ws, n_boot, random_state)
            rows.append(
                {
                    "method": method,
                    "weights": weights,
                    "value": value,
                    "ci_low": low,
                    "ci_high": high,
                    "n": len(used),
                }
            )
    return rows


def percentile_ranks(values: pd.Series) -> pd.Series:
    """Mid-rank of each value over the series, in (0, 1) (ties share their mid-rank)."""
    array = values.to_numpy(np.float64)[None]
    ranks = weighted_midranks(array, np.ones_like(array))[0]
    return pd.Series(ranks, index=values.index)


def disagreements(ours: pd.Series, theirs: pd.Series, *, n: int = 5) -> pd.DataFrame:
    """The occupations ranked most differently by two measures, ``n`` in each direction.

    Parameters
    ----------
    ours, theirs : Series
        One value per occupation (the index); occupations missing either are left out.
    n : occupations listed where ours ranks higher, and as many where it ranks lower

    Returns
    -------
    DataFrame
        Index: the occupations; columns ``direction`` (``ours higher`` / ``ours lower``),
        ``position`` (1 = largest gap in that direction), ``ours_value``, ``their_value``,
        ``ours_rank``, ``their_rank`` (percentile ranks, 0-1) and ``rank_difference``.
    """
    both = pd.DataFrame({"ours_value": ours, "their_value": theirs}).dropna()
    columns = [
        "direction",
        "position",
        "ours_value",
        "their_value",
        "ours_rank",
        "their_rank",
        "rank_difference",
    ]
    if len(both) < MIN_OCCUPATIONS:
        return pd.DataFrame(columns=columns)
    both["ours_rank"] = percentile_ranks(both["ours_value"])
    both["their_rank"] = percentile_ranks(both["their_value"])
    both["rank_difference"] = both["ours_rank"] - both["their_rank"]
    # Ties broken by code, so the list is the same on every run.
    ordered = both.sort_index()
    higher = ordered[ordered["rank_difference"] > 0].sort_values(
        "rank_difference", ascending=False, kind="stable"
    )
    lower = ordered[ordered["rank_difference"] < 0].sort_values("rank_difference", kind="stable")
    higher, lower = higher.head(n), lower.head(n)
    parts = [
        part.assign(direction=direction, position=np.arange(1, len(part) + 1))
        for part, direction in ((higher, "ours higher"), (lower, "ours lower"))
    ]
    return pd.concat(parts)[columns]
