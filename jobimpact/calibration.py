"""Calibration heads: logistic regressions from a scoring model's task features to
probabilities learnt from labelled tasks.

A small offline model cannot rate tasks zero-shot, yet its hidden state of a task predicts
the human labels better than GPT-4 agrees with them. A head is fitted per rubric question
with a target built from the labels (:data:`TARGETS`), its regularisation chosen by
cross-validation grouped by occupation, and kept with one model per outer fold: a task of
a training occupation is always scored by the fold model that never saw that occupation
(out of fold), every other task by the model fitted on all labelled tasks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from jobimpact.errors import ConfigError
from jobimpact.extras import require

__all__ = [
    "TARGETS",
    "CalibrationHead",
    "LinearModel",
    "Target",
    "assign_folds",
    "fit_head",
    "head_from_dict",
    "head_to_dict",
    "packaged_head",
    "packaged_heads",
    "targets_frame",
]

FloatArray = npt.NDArray[np.float64]
FULL_MODEL = -1  # fold number of the model fitted on every labelled task
DEFAULT_CS = (0.0003, 0.001, 0.003, 0.01, 0.03)
MIN_TASKS = 100
MIN_OCCUPATIONS = 10


@dataclass(frozen=True)
class Target:
    """How one question's target is read off the labelled tasks.

    A ``label`` target is 1 where ``column`` holds one of ``positive``, else 0. A ``share``
    target is the value of ``column`` itself, a probability (e.g. the observed share of
    augmentative conversations): the head is a logistic regression fitted to it as a
    fractional outcome, each task weighted by ``weight`` (a column, or 1; rescaled to mean 1
    so the regularisation means the same whatever the weights' unit).
    """

    column: str
    positive: tuple[str, ...]
    description: str
    kind: str = "label"
    weight: str | None = None


TARGETS: dict[str, Target] = {
    "direct": Target("human", ("E1",), "human label E1: a chat assistant alone halves the time"),
    "software": Target(
        "human", ("E1", "E2"), "human label E1 or E2: exposed with LLM-powered software"
    ),
    # Human automation labels exist for a handful of tasks only: this target distils GPT-4.
    "automation": Target(
        "gpt4_automation",
        ("T3", "T4"),
        "GPT-4 automation rating T3 or T4 (distils GPT-4's judgement, not human labels)",
    ),
    # Observed use: the share of a task's classified LLM conversations that are augmentative
    # (Anthropic Economic Index), for tasks with at least half their conversations classified,
    # weighted by the square root of its classified conversations: measured best of none,
    # the classified share, usage and its root (README, Creation).
    "creation": Target(
        "augmentation_share",
        (),
        "observed augmentation share of LLM conversations (Anthropic Economic Index)",
        kind="share",
        weight="evidence",
    ),
}


Questions = Mapping[str, str] | Sequence[str]


def question_roles(questions: Questions) -> dict[str, str]:
    """Question key → role: a mapping as given, a sequence of keys that are role names."""
    if isinstance(questions, Mapping):
        return dict(questions)
    return {question: question for question in questions}


def targets_frame(labels: pd.DataFrame, questions: Questions) -> pd.DataFrame:
    """0/1 targets per question (NaN where the label column is empty or absent).

    ``questions``: rubric question keys whose role has a target in :data:`TARGETS`, or a
    mapping of question key → role.
    """
    out = {}
    for question, role in question_roles(questions).items():
        target = TARGETS[role]
        if target.column not in labels:
            out[question] = np.full(len(labels), np.nan)
            continue
        values = labels[target.column]
        if target.kind == "share":
            out[question] = pd.to_numeric(values, errors="coerce").to_numpy(float)
        else:
            out[question] = np.where(
                values.isna(), np.nan, values.isin(target.positive).astype(float)
            )
    return pd.DataFrame(out, index=labels.index)


@dataclass(frozen=True)
class LinearModel:
    """P(Yes) = sigmoid(features · coef + intercept); standardisation is folded in."""

    coef: FloatArray
    intercept: float

    def predict(self, features: FloatArray) -> FloatArray:
        logits = features @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -50, 50)))


def assign_folds(codes: Sequence[str], n_folds: int, random_state: int) -> dict[str, int]:
    """Spread occupations over folds at random, round robin so fold sizes differ by one."""
    unique = np.array(sorted(set(codes)))
    order = np.random.default_rng(random_state).permutation(len(unique))
    return {str(unique[i]): rank % n_folds for rank, i in enumerate(order)}


@dataclass(frozen=True)
class CalibrationHead:
    """A fitted head: per question one linear model per fold plus the full model.

    Attributes
    ----------
    model_id, rubric_hash, feature_spec, feature_dim
        The features it reads: a head applies only to the same model, rubric and spec.
    labels_name, labels_sha256, n_tasks, n_occupations
        The labelled tasks it learnt from.
    folds : Mapping[str, int]
        Training occupation → outer fold.
    weights : Mapping[tuple[str, int], LinearModel]
        (question, fold) → model; fold -1 is fitted on all labelled tasks.
    targets : Mapping[str, str]
        Question → description of its target.
    cv_metrics : Mapping[str, Mapping[str, float]]
        Question → out-of-fold AUC, Brier score, log loss, positives.
    params : Mapping[str, Any]
        Regularisation chosen per question and fold, fold count, seed, library versions.
    """

    model_id: str
    rubric_hash: str
    feature_spec: str
    feature_dim: int
    labels_name: str
    labels_sha256: str
    n_tasks: int
    n_occupations: int
    folds: Mapping[str, int]
    weights: Mapping[tuple[str, int], LinearModel] = field(repr=False)
    targets: Mapping[str, str]
    cv_metrics: Mapping[str, Mapping[str, float]]
    params: Mapping[str, Any]

    @property
    def questions(self) -> list[str]:
        return sorted({question for question, _ in self.weights})

    @property
    def n_folds(self) -> int:
        return len({fold for _, fold in self.weights if fold != FULL_MODEL})

    @property
    def head_id(self) -> str:
        """Content address: the same fit on the same data gives the same id."""
        payload = {
            "model_id": self.model_id,
            "rubric_hash": self.rubric_hash,
            "feature_spec": self.feature_spec,
            "labels_sha256": self.labels_sha256,
            "folds": dict(sorted(self.folds.items())),
            "weights": {
                f"{q}/{f}": [round(float(m.intercept), 8), *np.round(m.coef, 8).tolist()]
                for (q, f), m in sorted(self.weights.items())
            },
        }
        return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:16]

    def predict(self, features: FloatArray, codes: Sequence[str]) -> pd.DataFrame:
        """P(Yes) per question for each task; training occupations are scored out of fold.

        Parameters
        ----------
        features : (n_tasks, feature_dim) array
        codes : O*NET-SOC code of each task
        """
        if features.ndim != 2 or features.shape[1] != self.feature_dim:
            raise ConfigError(
                f"calibration head {self.head_id}: got features of shape {features.shape}, "
                f"expected (n, {self.feature_dim})"
            )
        folds = np.array([self.folds.get(code, FULL_MODEL) for code in codes])
        out = pd.DataFrame(index=range(len(codes)), columns=self.questions, dtype=float)
        for question in self.questions:
            values = np.empty(len(codes))
            for fold in np.unique(folds):
                rows = folds == fold
                values[rows] = self.weights[(question, int(fold))].predict(features[rows])
            out[question] = values
        return out


def _folded_model(scaler: Any, estimator: Any) -> LinearModel:
    """The linear model of a StandardScaler → LogisticRegression pipeline, in raw units."""
    coef = estimator.coef_.ravel() / scaler.scale_
    intercept = float(estimator.intercept_[0]) - float(coef @ scaler.mean_)
    return LinearModel(coef=coef.astype(np.float64), intercept=intercept)


def _fit_one(
    features: FloatArray, y: FloatArray, groups: npt.NDArray[Any], cs: Sequence[float]
) -> tuple[LinearModel, float]:
    """Standardise, then a logistic regression with C chosen by grouped inner CV."""
    require("sklearn", purpose="calibration heads")
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(features)
    inner = GroupKFold(n_splits=min(3, len(set(groups))))
    estimator = LogisticRegressionCV(
        Cs=list(cs),
        cv=list(inner.split(features, y, groups)),
        l1_ratios=(0.0,),
        scoring="neg_log_loss",
        max_iter=3000,
        use_legacy_attributes=False,
    ).fit(scaler.transform(features), y)
    return _folded_model(scaler, estimator), float(np.ravel(estimator.C_)[0])


def _fit_share(
    features: FloatArray,
    share: FloatArray,
    weight: FloatArray,
    groups: npt.NDArray[Any],
    cs: Sequence[float],
) -> tuple[LinearModel, float]:
    """A logistic regression on a fractional outcome: each task enters twice, as a Yes with
    weight ``weight·share`` and a No with ``weight·(1 − share)``; standardised features, C
    chosen by the weighted log loss of a grouped inner cross-validation (computed here:
    scikit-learn's CV scorers do not weight by sample)."""
    require("sklearn", purpose="calibration heads")
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(features)
    x = scaler.transform(features)

    def fit(rows: npt.NDArray[np.int_], c: float) -> Any:
        stacked = np.vstack([x[rows], x[rows]])
        y = np.r_[np.ones(len(rows)), np.zeros(len(rows))]
        w = np.r_[weight[rows] * share[rows], weight[rows] * (1 - share[rows])]
        return LogisticRegression(C=c, max_iter=3000).fit(stacked, y, sample_weight=w)

    def loss(model: Any, rows: npt.NDArray[np.int_]) -> float:
        p = np.clip(model.predict_proba(x[rows])[:, 1], 1e-9, 1 - 1e-9)
        ce = -(share[rows] * np.log(p) + (1 - share[rows]) * np.log(1 - p))
        return float(np.average(ce, weights=weight[rows]))

    inner = list(GroupKFold(n_splits=min(3, len(set(groups)))).split(x, share, groups))
    losses = [np.mean([loss(fit(train, c), test) for train, test in inner]) for c in cs]
    best = float(cs[int(np.argmin(losses))])
    return _folded_model(scaler, fit(np.arange(len(share)), best)), best


def _fit_folds(
    features: FloatArray,
    y: FloatArray,
    has: npt.NDArray[np.bool_],
    codes: npt.NDArray[Any],
    fold_of_row: npt.NDArray[np.int_],
    n_folds: int,
    cs: Sequence[float],
    weight: FloatArray | None = None,
) -> tuple[dict[int, LinearModel], dict[str, float], FloatArray]:
    """One question: a model per outer fold and one on every labelled task (fold -1),
    the C each chose, and every task's out-of-fold prediction. With ``weight``, ``y`` is
    a share (see :func:`_fit_share`)."""
    models: dict[int, LinearModel] = {}
    chosen: dict[str, float] = {}
    predicted = np.full(len(y), np.nan)
    for fold in [*range(n_folds), FULL_MODEL]:
        train = has & (fold_of_row != fold)
        if weight is None:
            fitted = _fit_one(features[train], y[train], codes[train], cs)
        else:
            fitted = _fit_share(features[train], y[train], weight[train], codes[train], cs)
        models[fold], chosen[str(fold)] = fitted
        if fold != FULL_MODEL:
            test = fold_of_row == fold
            predicted[test] = models[fold].predict(features[test])
    return models, chosen, predicted


def _metrics(y: FloatArray, p: FloatArray) -> dict[str, float]:
    """Out-of-fold metrics; for a share target, AUC is for "share above one half"."""
    from sklearn.metrics import roc_auc_score

    positive = y > 0.5
    q = np.clip(p, 1e-9, 1 - 1e-9)
    metrics = {
        "auc": float(roc_auc_score(positive, p)),
        "brier": float(np.mean((p - y) ** 2)),
        "log_loss": float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))),
        "positives": float(positive.mean()),
        "n": float(len(y)),
    }
    if not np.isin(y, (0.0, 1.0)).all():
        metrics["spearman"] = float(pd.Series(p).corr(pd.Series(y), method="spearman"))
    return metrics


def fit_head(
    features: FloatArray,
    labels: pd.DataFrame,
    *,
    model_id: str,
    rubric_hash: str,
    feature_spec: str,
    labels_name: str,
    labels_sha256: str,
    questions: Questions | None = None,
    n_folds: int = 5,
    cs: Sequence[float] = DEFAULT_CS,
    random_state: int = 0,
) -> tuple[CalibrationHead, pd.DataFrame]:
    """Fit a head and return it with its out-of-fold predictions.

    Parameters
    ----------
    features : (n_tasks, dim) array
        One row per labelled task.
    labels : DataFrame
        Rows aligned with ``features``: ``onet_soc_code`` and the label columns named by
        :data:`TARGETS` (``human``, ``gpt4_automation``).
    questions : sequence of str, or mapping of str to str, optional
        Rubric questions to learn: keys that are role names of :data:`TARGETS`, or a
        mapping of question key → role (for rubrics with other keys). By default every
        role whose target column ``labels`` fills.
    n_folds : int
        Outer folds, grouped by occupation.
    cs : sequence of float
        Inverse regularisation strengths tried by the inner grouped CV.

    Returns
    -------
    (CalibrationHead, DataFrame)
        The head, and ``task_id`` (when in ``labels``) with out-of-fold P(Yes) per question.
    """
    sklearn = require("sklearn", purpose="calibration heads")
    roles = question_roles(questions if questions is not None else _labelled_roles(labels))
    _check_fit_inputs(features, labels, roles, n_folds)
    codes = labels["onet_soc_code"].astype(str).to_numpy()
    folds = assign_folds(list(codes), n_folds, random_state)
    fold_of_row = np.array([folds[c] for c in codes])
    targets = targets_frame(labels, roles)
    weights: dict[tuple[str, int], LinearModel] = {}
    chosen_c: dict[str, dict[str, float]] = {}
    metrics: dict[str, dict[str, float]] = {}
    oof = pd.DataFrame(index=labels.index, columns=list(roles), dtype=float)
    for question in roles:
        has = targets[question].notna().to_numpy()
        y = targets[question].to_numpy()
        weight = _target_weight(TARGETS[roles[question]], labels)
        models, chosen_c[question], predicted = _fit_folds(
            features, y, has, codes, fold_of_row, n_folds, cs, weight
        )
        weights.update({(question, fold): model for fold, model in models.items()})
        oof[question] = predicted
        metrics[question] = _metrics(y[has], predicted[has])
    head = CalibrationHead(
        model_id=model_id,
        rubric_hash=rubric_hash,
        feature_spec=feature_spec,
        feature_dim=features.shape[1],
        labels_name=labels_name,
        labels_sha256=labels_sha256,
        n_tasks=len(labels),
        n_occupations=len(folds),
        folds=folds,
        weights=weights,
        targets={q: TARGETS[role].description for q, role in roles.items()},
        cv_metrics=metrics,
        params=_head_params(cs, chosen_c, n_folds, random_state, sklearn.__version__),
    )
    if "task_id" in labels:
        oof.insert(0, "task_id", labels["task_id"].to_numpy())
    return head, oof.reset_index(drop=True)


def _head_params(
    cs: Sequence[float],
    chosen_c: dict[str, dict[str, float]],
    n_folds: int,
    random_state: int,
    sklearn_version: str,
) -> dict[str, Any]:
    """How a head was fitted, stored with it."""
    return {
        "estimator": "StandardScaler + LogisticRegression (L2)",
        "C_grid": list(cs),
        "C_chosen": chosen_c,
        "n_folds": n_folds,
        "inner_folds": 3,
        "random_state": random_state,
        "scikit-learn": sklearn_version,
    }


def _labelled_roles(labels: pd.DataFrame) -> list[str]:
    """The roles whose target column the labels fill."""
    return [
        role
        for role, target in TARGETS.items()
        if target.column in labels and labels[target.column].notna().any()
    ]


def _target_weight(target: Target, labels: pd.DataFrame) -> FloatArray | None:
    """Per-task weights of a share target (None for a label target)."""
    if target.kind != "share":
        return None
    if target.weight is None:
        return np.ones(len(labels))
    weight = pd.to_numeric(labels[target.weight], errors="coerce").fillna(0.0).to_numpy(float)
    has = labels[target.column].notna().to_numpy()
    mean = weight[has].mean() if has.any() else 0.0
    return weight / mean if mean > 0 else weight


def _check_fit_inputs(
    features: FloatArray, labels: pd.DataFrame, roles: Mapping[str, str], n_folds: int
) -> None:
    unknown = sorted(set(roles.values()) - set(TARGETS))
    if unknown:
        raise ConfigError(
            f"calibration questions: got roles {', '.join(unknown)}, "
            f"expected some of {', '.join(TARGETS)}"
        )
    if len(features) != len(labels):
        raise ConfigError(
            f"calibration: got {len(features)} feature rows for {len(labels)} labelled tasks, "
            "expected one per task"
        )
    n_occupations = labels["onet_soc_code"].nunique()
    if len(labels) < MIN_TASKS or n_occupations < max(MIN_OCCUPATIONS, n_folds):
        raise ConfigError(
            f"calibration: got {len(labels)} labelled tasks with features in {n_occupations} "
            f"occupations, expected at least {MIN_TASKS} tasks in {max(MIN_OCCUPATIONS, n_folds)} "
            "occupations (score the labelled occupations first: jobimpact score --labelled)"
        )
    for question, role in roles.items():
        column = TARGETS[role].column
        if column not in labels or labels[column].notna().sum() == 0:
            raise ConfigError(
                f"calibration of {question!r}: got no {column!r} labels, expected that column "
                "filled in the label file"
            )


def head_to_dict(head: CalibrationHead) -> dict[str, Any]:
    """A JSON-ready form of a head (how packaged heads are shipped)."""
    return {
        "head_id": head.head_id,
        "model_id": head.model_id,
        "rubric_hash": head.rubric_hash,
        "feature_spec": head.feature_spec,
        "feature_dim": head.feature_dim,
        "labels_name": head.labels_name,
        "labels_sha256": head.labels_sha256,
        "n_tasks": head.n_tasks,
        "n_occupations": head.n_occupations,
        "folds": dict(sorted(head.folds.items())),
        "targets": dict(head.targets),
        "cv_metrics": {q: dict(m) for q, m in head.cv_metrics.items()},
        "params": dict(head.params),
        "weights": [
            {"question": q, "fold": f, "intercept": m.intercept, "coef": m.coef.tolist()}
            for (q, f), m in sorted(head.weights.items())
        ],
    }


def head_from_dict(data: Mapping[str, Any]) -> CalibrationHead:
    """Inverse of :func:`head_to_dict`; checks the stored id against the content."""
    head = CalibrationHead(
        model_id=data["model_id"],
        rubric_hash=data["rubric_hash"],
        feature_spec=data["feature_spec"],
        feature_dim=int(data["feature_dim"]),
        labels_name=data["labels_name"],
        labels_sha256=data["labels_sha256"],
        n_tasks=int(data["n_tasks"]),
        n_occupations=int(data["n_occupations"]),
        folds={str(k): int(v) for k, v in data["folds"].items()},
        weights={
            (w["question"], int(w["fold"])): LinearModel(
                coef=np.asarray(w["coef"], dtype=np.float64), intercept=float(w["intercept"])
            )
            for w in data["weights"]
        },
        targets=dict(data["targets"]),
        cv_metrics=dict(data["cv_metrics"]),
        params=dict(data["params"]),
    )
    if "head_id" in data and data["head_id"] != head.head_id:
        raise ConfigError(
            f"calibration head: got content with id {head.head_id}, expected {data['head_id']} "
            "(the head was altered or truncated)"
        )
    return head


def packaged_heads() -> list[dict[str, Any]]:
    """The heads shipped with jobimpact (``jobimpact/heads/*.json``), as stored dicts."""
    from importlib import resources

    return [
        json.loads(entry.read_text(encoding="utf-8"))
        for entry in sorted(resources.files("jobimpact.heads").iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".json")
    ]


def packaged_head(*, model_id: str, rubric_hash: str) -> CalibrationHead | None:
    """The shipped head for this model and rubric, or None."""
    for data in packaged_heads():
        if data["model_id"] == model_id and data["rubric_hash"] == rubric_hash:
            return head_from_dict(data)
    return None
