"""Agreement of task scores with reference labels (human and GPT-4 labels of Eloundou et al.).

Task level: ROC AUC of zeta for exposed (E1 or E2) against E0 and of alpha for E1 against
the rest, Cohen's kappa of a three-class label read off the probabilities by a fixed rule
(never a threshold tuned on the data being scored), Brier scores and a reliability curve.
Occupation level: Pearson and Spearman correlation of beta with the labels' beta, core
tasks weighted 2 and the others 1 as in the paper, with bootstrap intervals over
occupations. GPT-4's own labels of the same tasks are scored the same way, as reference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "EXPOSURE_BETA",
    "ValidationTables",
    "occupation_beta",
    "three_class",
    "validate_scores",
]

FloatArray = npt.NDArray[np.float64]
EXPOSURE_BETA = {"E0": 0.0, "E1": 1.0, "E2": 0.5}
METRIC_ORDER = (
    "auc_exposed",
    "auc_e1",
    "kappa",
    "brier_exposed",
    "auc_automation",
    "pearson_beta",
    "spearman_beta",
)


def three_class(alpha: FloatArray, zeta: FloatArray) -> npt.NDArray[np.str_]:
    """E0/E1/E2 as the most probable class: P(E1) = alpha, P(E2) = zeta - alpha,
    P(E0) = 1 - zeta. A fixed rule, so kappa involves no tuned threshold."""
    probabilities = np.column_stack([1.0 - zeta, alpha, np.clip(zeta - alpha, 0.0, None)])
    classes: npt.NDArray[np.str_] = np.array(["E0", "E1", "E2"])[probabilities.argmax(axis=1)]
    return classes


def _task_weight(task_type: pd.Series) -> pd.Series:
    """Core tasks weigh 2, supplemental or unrated ones 1 (Eloundou et al.)."""
    return task_type.map(lambda t: 2.0 if t == "Core" else 1.0).astype(float)


def occupation_beta(frame: pd.DataFrame, column: str) -> pd.Series:
    """Core-2/other-1 weighted mean of ``column`` per occupation."""
    weights = _task_weight(frame["task_type"])
    weighted = (frame[column] * weights).groupby(frame["onet_soc_code"]).sum()
    return weighted / weights.groupby(frame["onet_soc_code"]).sum()


def _auc(y: FloatArray, p: FloatArray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if 0 < y.mean() < 1 else float("nan")


def _kappa(a: npt.NDArray[np.str_], b: npt.NDArray[np.str_]) -> float:
    from sklearn.metrics import cohen_kappa_score

    return float(cohen_kappa_score(a, b))


def _brier(y: FloatArray, p: FloatArray) -> float:
    return float(np.mean((p - y) ** 2))


def _pearson(a: FloatArray, b: FloatArray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def _ranks(values: FloatArray) -> FloatArray:
    """Ranks with ties averaged, as Spearman's coefficient needs."""
    return np.asarray(pd.Series(values).rank(method="average"), dtype=np.float64)


def _correlations(
    ours: pd.Series, reference: pd.Series, n_boot: int, seed: int
) -> dict[str, tuple[float, float, float]]:
    """Pearson and Spearman with percentile bootstrap intervals over occupations."""
    x, y = np.asarray(ours, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    functions: dict[str, Callable[[FloatArray, FloatArray], float]] = {
        "pearson_beta": _pearson,
        "spearman_beta": lambda a, b: _pearson(_ranks(a), _ranks(b)),
    }
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, len(x), len(x)) for _ in range(n_boot)]
    out = {}
    for name, function in functions.items():
        value = function(x, y)
        boot = [function(x[i], y[i]) for i in draws if np.ptp(x[i]) > 0 and np.ptp(y[i]) > 0]
        low, high = np.percentile(boot, [2.5, 97.5]) if boot else (np.nan, np.nan)
        out[name] = (value, float(low), float(high))
    return out


@dataclass(frozen=True)
class ValidationTables:
    """Metrics in long form (source, reference, level, metric, value, ci_low, ci_high, n)
    and the reliability curve of our P(exposed)."""

    metrics: pd.DataFrame
    reliability: pd.DataFrame


def _task_rows(
    source: str, reference: str, y: pd.DataFrame, alpha: FloatArray, zeta: FloatArray
) -> list[dict[str, object]]:
    """Task-level metrics of one source's probabilities against one reference's labels."""
    exposed = np.asarray(y["label"].isin(["E1", "E2"]), dtype=np.float64)
    direct = np.asarray(y["label"] == "E1", dtype=np.float64)
    values = {
        "auc_exposed": _auc(exposed, zeta),
        "auc_e1": _auc(direct, alpha),
        "kappa": _kappa(three_class(alpha, zeta), y["label"].to_numpy(str)),
        "brier_exposed": _brier(exposed, zeta),
    }
    return [
        {
            "source": source,
            "reference": reference,
            "level": "task",
            "metric": k,
            "value": v,
            "ci_low": None,
            "ci_high": None,
            "n": len(y),
        }
        for k, v in values.items()
    ]


def _occupation_rows(
    source: str, reference: str, frame: pd.DataFrame, ours: str, n_boot: int, seed: int
) -> list[dict[str, object]]:
    by_occupation = pd.DataFrame(
        {"ours": occupation_beta(frame, ours), "reference": occupation_beta(frame, "ref_beta")}
    ).dropna()
    if len(by_occupation) < 3:
        return []
    stats = _correlations(by_occupation["ours"], by_occupation["reference"], n_boot, seed)
    return [
        {
            "source": source,
            "reference": reference,
            "level": "occupation",
            "metric": k,
            "value": v,
            "ci_low": lo,
            "ci_high": hi,
            "n": len(by_occupation),
        }
        for k, (v, lo, hi) in stats.items()
    ]


def reliability_curve(y: FloatArray, p: FloatArray, n_bins: int = 10) -> pd.DataFrame:
    """Tasks in equal-width bins of predicted probability: mean prediction vs observed rate."""
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    frame = pd.DataFrame({"bin": bins, "p": p, "y": y})
    grouped = frame.groupby("bin").agg(
        mean_predicted=("p", "mean"), observed_rate=("y", "mean"), n=("y", "size")
    )
    return grouped.reset_index()


def validate_scores(
    scored: pd.DataFrame, *, n_boot: int = 1000, random_state: int = 0
) -> ValidationTables:
    """Compare our probabilities, and GPT-4's labels, with the human and GPT-4 labels.

    Parameters
    ----------
    scored : DataFrame
        One row per labelled, scored task: ``onet_soc_code``, ``task_type``, ``human``,
        ``gpt4`` (may be NULL), ``gpt4_automation`` (may be NULL) and our ``alpha``,
        ``beta``, ``zeta``, ``displacement``.
    n_boot : int
        Bootstrap resamples of occupations for the correlation intervals.
    """
    rows: list[dict[str, object]] = []
    alpha, zeta = (
        np.asarray(scored["alpha"], dtype=np.float64),
        np.asarray(scored["zeta"], dtype=np.float64),
    )
    references = {"human": scored["human"]}
    if scored["gpt4"].notna().any():
        references["gpt4"] = scored["gpt4"]
    for reference, label in references.items():
        has = label.notna().to_numpy()
        sub = scored[has].assign(label=label[has], ref_beta=label[has].map(EXPOSURE_BETA))
        rows += _task_rows("ours", reference, sub, alpha[has], zeta[has])
        rows += _occupation_rows("ours", reference, sub, "beta", n_boot, random_state)
    if "gpt4" in references:
        # GPT-4's labels as 0/1 probabilities, the paper's own agreement with humans
        sub = scored[scored["gpt4"].notna()].assign(
            label=lambda f: f["human"], ref_beta=lambda f: f["human"].map(EXPOSURE_BETA)
        )
        g_alpha = np.asarray(sub["gpt4"] == "E1", dtype=np.float64)
        g_zeta = np.asarray(sub["gpt4"].isin(["E1", "E2"]), dtype=np.float64)
        sub = sub.assign(gpt4_beta=sub["gpt4"].map(EXPOSURE_BETA))
        rows += _task_rows("gpt4", "human", sub, g_alpha, g_zeta)
        rows += _occupation_rows("gpt4", "human", sub, "gpt4_beta", n_boot, random_state)
    automation = scored["gpt4_automation"]
    if automation.notna().any():
        has = automation.notna().to_numpy()
        y = np.asarray(automation[has].isin(["T3", "T4"]), dtype=np.float64)
        rows.append(
            {
                "source": "ours",
                "reference": "gpt4",
                "level": "task",
                "metric": "auc_automation",
                "value": _auc(y, np.asarray(scored["displacement"], dtype=np.float64)[has]),
                "ci_low": None,
                "ci_high": None,
                "n": int(has.sum()),
            }
        )
    metrics = pd.DataFrame(rows)
    exposed = np.asarray(scored["human"].isin(["E1", "E2"]), dtype=np.float64)
    return ValidationTables(
        metrics=metrics, reliability=reliability_curve(exposed, zeta).assign(source="ours")
    )


_LABELS = {
    "auc_exposed": ("task", "AUC exposed (zeta)"),
    "auc_e1": ("task", "AUC E1 (alpha)"),
    "kappa": ("task", "kappa, 3 classes"),
    "brier_exposed": ("task", "Brier exposed"),
    "auc_automation": ("task", "AUC automation T3+"),
    "pearson_beta": ("occupation", "Pearson beta"),
    "spearman_beta": ("occupation", "Spearman beta"),
}
_COLUMNS = (("ours", "human"), ("gpt4", "human"), ("ours", "gpt4"))
_HEADERS = ("ours vs human", "GPT-4 vs human", "ours vs GPT-4")


def format_metrics(metrics: pd.DataFrame) -> str:
    """The metrics as a plain-text table: one row per metric, one column per comparison."""
    index = {(r.source, r.reference, r.metric): r for r in metrics.itertuples(index=False)}
    width = 22
    lines = [f"{'level':<11}{'metric':<20}" + "".join(f"{h:>{width}}" for h in _HEADERS)]
    for metric, (level, label) in _LABELS.items():
        cells = []
        for source, reference in _COLUMNS:
            row = index.get((source, reference, metric))
            cells.append(_cell(row) if row is not None else "—")
        if any(c != "—" for c in cells):
            lines.append(f"{level:<11}{label:<20}" + "".join(f"{c:>{width}}" for c in cells))
    return "\n".join(lines)


_CREATION_LABELS = {
    ("economic_index", "spearman_augmentation"): "Spearman vs observed augmentation share",
    ("economic_index", "auc_augmentation"): "AUC: mostly augmentative (share > 0.5)",
    ("new_work", "auc_new_vs_established"): "AUC: new vs established tasks, within occupations",
    ("new_work", "pearson_new_share"): "Pearson: occupation mean vs share of new tasks",
    ("new_work", "spearman_new_share"): "Spearman: occupation mean vs share of new tasks",
    ("usage", "auc_in_use"): "AUC of exposure (zeta): task appears in observed use",
}
_CREATION_SOURCES = ("ours", "zero-shot", "formula", "human")
_CREATION_HEADERS = ("creation head", "zero-shot answer", "zeta·(1−displ.)", "human labels")


def format_creation(metrics: pd.DataFrame) -> str:
    """The creation checks as a plain-text table: one row per check, one column per score
    compared (our creation score, the zero-shot answer, the old formula; for the usage
    check, our zeta and the human labels). Empty when no check ran."""
    index = {(r.source, r.reference, r.metric): r for r in metrics.itertuples(index=False)}
    width = 20
    lines = []
    for (reference, metric), label in _CREATION_LABELS.items():
        cells = []
        for source in _CREATION_SOURCES:
            row = index.get((source, reference, metric))
            cells.append(_cell(row) if row is not None else "—")
        if any(c != "—" for c in cells):
            lines.append(f"{label:<52}" + "".join(f"{c:>{width}}" for c in cells))
    if not lines:
        return ""
    header = f"{'creation and new work':<52}" + "".join(f"{h:>{width}}" for h in _CREATION_HEADERS)
    return "\n".join([header, *lines])


def _cell(row: object) -> str:
    value = getattr(row, "value")  # noqa: B009 - itertuples rows are untyped
    low, high = getattr(row, "ci_low"), getattr(row, "ci_high")  # noqa: B009
    if value is None or pd.isna(value):
        return "n/a"
    if low is None or pd.isna(low):
        return f"{value:.3f}"
    return f"{value:.3f} [{low:.2f}, {high:.2f}]"
