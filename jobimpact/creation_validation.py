"""Agreement of the creation score with what it claims to measure.

Three checks, each against data the score was not fitted on (the creation head's training
occupations are scored out of fold):

- **Observed augmentation** (Anthropic Economic Index): Spearman correlation of the score with
  each task's augmentation share, and ROC AUC for "mostly augmentative" (share > 0.5), over
  the tasks with at least half their conversations classified; the same for the zero-shot
  creation answer and for the old formula zeta·(1 − displacement), side by side.
- **New work** (O*NET, the current release against the baseline): does the score rank the
  tasks that are new since the baseline above the established tasks *of the same
  occupation* (a within-occupation AUC), and does an occupation's mean score go with its
  share of new tasks?
- **Observed use** (an exposure check): ROC AUC of zeta for "the task appears in observed LLM
  use", with the human exposure labels' own AUC as the ceiling to compare with.

Intervals are 95% percentile bootstraps over occupations. Pure functions on DataFrames.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["augmentation_rows", "new_work_rows", "usage_rows", "within_group_auc"]

FloatArray = npt.NDArray[np.float64]
Row = dict[str, object]
AUGMENTATIVE = 0.5  # a task is mostly augmentative when its augmentation share exceeds this


def _spearman(score: FloatArray, target: FloatArray) -> float:
    a = pd.Series(score).rank().to_numpy()
    b = pd.Series(target).rank().to_numpy()
    return float(np.corrcoef(a, b)[0, 1]) if np.ptp(a) > 0 and np.ptp(b) > 0 else float("nan")


def _pearson(score: FloatArray, target: FloatArray) -> float:
    ok = np.ptp(score) > 0 and np.ptp(target) > 0
    return float(np.corrcoef(score, target)[0, 1]) if ok else float("nan")


def _auc(score: FloatArray, positive: npt.NDArray[np.bool_]) -> float:
    """ROC AUC by ranks (ties count half); NaN without both classes."""
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = pd.Series(score).rank().to_numpy()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def within_group_auc(
    score: FloatArray, positive: npt.NDArray[np.bool_], groups: npt.NDArray[np.object_]
) -> float:
    """AUC over the (positive, negative) pairs of the same group only: how often a positive
    task outranks a negative one of its own occupation (ties count half)."""
    counts = group_pairs(score, positive, groups)
    pairs = counts["pairs"].sum()
    return float(counts["wins"].sum() / pairs) if pairs else float("nan")


def group_pairs(
    score: FloatArray, positive: npt.NDArray[np.bool_], groups: npt.NDArray[np.object_]
) -> pd.DataFrame:
    """Per group (``onet_soc_code``): ``wins`` of its positive tasks over its negative ones
    (ties count half) and the number of such ``pairs``. Summed, they give the within-group
    AUC of any resample of whole groups."""
    codes, inverse = np.unique(groups, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(codes) + 1))
    wins, pairs = np.zeros(len(codes)), np.zeros(len(codes))
    for k in range(len(codes)):
        inside = order[bounds[k] : bounds[k + 1]]
        pos, neg = score[inside][positive[inside]], score[inside][~positive[inside]]
        if len(pos) and len(neg):
            diff = pos[:, None] - neg[None, :]
            wins[k] = (diff > 0).sum() + 0.5 * (diff == 0).sum()
            pairs[k] = diff.size
    return pd.DataFrame({"onet_soc_code": codes, "wins": wins, "pairs": pairs})


def _bootstrap(
    frame: pd.DataFrame, metric: Callable[[pd.DataFrame], float], n_boot: int, seed: int
) -> tuple[float, float]:
    """95% percentile interval of ``metric`` over occupations resampled with replacement."""
    if n_boot == 0:
        return float("nan"), float("nan")
    codes = frame["onet_soc_code"].to_numpy()
    unique = np.unique(codes)
    position = {code: np.flatnonzero(codes == code) for code in unique}
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        drawn = rng.choice(unique, size=len(unique), replace=True)
        rows = np.concatenate([position[code] for code in drawn])
        value = metric(frame.iloc[rows])
        if np.isfinite(value):
            values.append(value)
    if not values:
        return float("nan"), float("nan")
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def _row(
    source: str,
    reference: str,
    level: str,
    metric: str,
    value: float,
    ci: tuple[float, float],
    n: int,
) -> Row:
    return {
        "source": source,
        "reference": reference,
        "level": level,
        "metric": metric,
        "value": value,
        "ci_low": ci[0],
        "ci_high": ci[1],
        "n": n,
    }


def augmentation_rows(
    tasks: pd.DataFrame, scores: dict[str, str], *, n_boot: int = 1000, seed: int = 0
) -> list[Row]:
    """Spearman and AUC of each score against the observed augmentation share.

    Parameters
    ----------
    tasks : DataFrame
        One row per labelled task: ``onet_soc_code``, ``augmentation_share`` and the score
        columns named in ``scores`` (tasks with too few classified conversations removed).
    scores : dict
        Source name (``ours``, ``zero-shot``, ``formula``) → column of ``tasks``.
    """
    rows: list[Row] = []
    for source, column in scores.items():
        frame = tasks.dropna(subset=[column, "augmentation_share"])
        if len(frame) < 3:
            continue
        for name, metric in _augmentation_metrics(column).items():
            ci = _bootstrap(frame, metric, n_boot, seed)
            rows.append(_row(source, "economic_index", "task", name, metric(frame), ci, len(frame)))
    return rows


def _augmentation_metrics(column: str) -> dict[str, Callable[[pd.DataFrame], float]]:
    """Metric name → function of a frame holding ``column`` and ``augmentation_share``."""

    def spearman(frame: pd.DataFrame) -> float:
        share = frame["augmentation_share"].to_numpy(float)
        return _spearman(frame[column].to_numpy(float), share)

    def auc(frame: pd.DataFrame) -> float:
        share = frame["augmentation_share"].to_numpy(float)
        return _auc(frame[column].to_numpy(float), share > AUGMENTATIVE)

    return {"spearman_augmentation": spearman, "auc_augmentation": auc}


def new_work_rows(tasks: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0) -> list[Row]:
    """Does the creation score go with new work?

    ``tasks``: one row per scored task with ``onet_soc_code``, ``status`` (see
    :mod:`jobimpact.history`) and ``creation``. Rows: the within-occupation AUC of new
    against established tasks, and the occupation-level Pearson and Spearman correlation of
    mean creation with the share of new tasks (occupations that existed in the baseline).
    """
    frame = tasks[tasks["status"].isin(["new", "established"])].dropna(subset=["creation"])
    if frame.empty:
        return []

    # Resampling whole occupations resamples their pair counts: one row per occupation.
    counts = group_pairs(
        frame["creation"].to_numpy(float),
        (frame["status"] == "new").to_numpy(),
        frame["onet_soc_code"].to_numpy(object),
    )

    def auc(f: pd.DataFrame) -> float:
        pairs = f["pairs"].sum()
        return float(f["wins"].sum() / pairs) if pairs else float("nan")

    n_pairs = int((counts["pairs"] > 0).sum())
    rows = [_row("ours", "new_work", "task", "auc_new_vs_established", auc(counts),
                 _bootstrap(counts, auc, n_boot, seed), n_pairs)]  # fmt: skip
    by_occupation = (
        tasks[tasks["status"] != "new occupation"]
        .assign(is_new=lambda f: (f["status"] == "new").astype(float))
        .groupby("onet_soc_code")[["creation", "is_new"]]
        .mean()
        .dropna()
        .reset_index()
    )
    for name, function in (("pearson_new_share", _pearson), ("spearman_new_share", _spearman)):

        def metric(
            f: pd.DataFrame, fn: Callable[[FloatArray, FloatArray], float] = function
        ) -> float:
            return fn(f["creation"].to_numpy(float), f["is_new"].to_numpy(float))

        ci = _bootstrap(by_occupation, metric, n_boot, seed)
        value = metric(by_occupation)
        rows.append(_row("ours", "new_work", "occupation", name, value, ci, len(by_occupation)))
    return rows


def usage_rows(tasks: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0) -> list[Row]:
    """ROC AUC of exposure for "appears in observed use".

    ``tasks``: the tasks of occupations the usage file covers, with ``onet_soc_code``,
    ``in_use`` (bool), ``zeta`` (ours) and, when labelled, ``human_exposed`` (1.0 for E1/E2,
    0.0 for E0, NaN unlabelled) — the human labels' own AUC, the ceiling to compare with.
    """
    rows: list[Row] = []
    for source, column in (("ours", "zeta"), ("human", "human_exposed")):
        if column not in tasks:
            continue
        frame = tasks.dropna(subset=[column])
        if frame.empty:
            continue

        def metric(f: pd.DataFrame, c: str = column) -> float:
            return _auc(f[c].to_numpy(float), f["in_use"].to_numpy(bool))

        ci = _bootstrap(frame, metric, n_boot, seed)
        rows.append(_row(source, "usage", "task", "auc_in_use", metric(frame), ci, len(frame)))
    return rows
