"""Calibrate: fit a calibration head on labelled tasks, store it, and score every featured
task with it; and the heads' use by the score stage."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from jobimpact.errors import ConfigError, NotReadyError

if TYPE_CHECKING:
    import duckdb

    from jobimpact.calibration import CalibrationHead
    from jobimpact.labels import Matched
    from jobimpact.store.scorings import ScoringKey

__all__ = [
    "CalibrateResult",
    "apply_head",
    "calibrated_rows",
    "export_head",
    "head_for",
    "run_calibrate",
]


@dataclass(frozen=True)
class CalibrateResult:
    """A fitted head, how its labels matched, and how many tasks it then scored."""

    run_id: str
    head_id: str
    model_id: str
    rubric_hash: str
    n_labelled: int
    n_matched_id: int
    n_matched_text: int
    n_tasks: int
    n_occupations: int
    cv_metrics: dict[str, dict[str, float]]
    applied: int


def head_for(
    con: duckdb.DuckDBPyConnection, *, model_id: str, rubric_hash: str
) -> CalibrationHead | None:
    """The newest stored head for this model and rubric, else a shipped one (then stored)."""
    from jobimpact.calibration import packaged_head
    from jobimpact.store import calibration as store_heads
    from jobimpact.store.runs import now, record_run

    head_id = store_heads.latest_head_id(con, model_id=model_id, rubric_hash=rubric_hash)
    if head_id is not None:
        return store_heads.read_head(con, head_id)
    head = packaged_head(model_id=model_id, rubric_hash=rubric_hash)
    if head is not None:
        run_id = record_run(
            con,
            stage="calibrate",
            parameters={"packaged_head": head.head_id, "model_id": model_id},
            counts={"tasks": head.n_tasks, "occupations": head.n_occupations},
            started_at=now(),
        )
        store_heads.write_head(con, head, run_id=run_id)
    return head


def calibrated_rows(head: CalibrationHead, tasks: pd.DataFrame, *, run_id: str) -> pd.DataFrame:
    """``task_scores`` rows of a head's P(Yes) for tasks with feature vectors.

    ``tasks`` has ``task_id``, ``onet_soc_code``, ``prompt_sha256`` and ``vector``. Tasks
    of the head's training occupations are scored by the fold model that never saw them.
    """
    from jobimpact.store.scores import task_score_rows

    if tasks.empty:
        return pd.DataFrame()
    matrix = np.stack([np.asarray(v, dtype=np.float64) for v in tasks["vector"]])
    predicted = head.predict(matrix, tasks["onet_soc_code"].astype(str).tolist())
    answers: list[dict[str, tuple[float, float | None]]] = [
        {str(q): (float(p), None) for q, p in row.items()} for row in predicted.to_dict("records")
    ]
    return task_score_rows(
        tasks,
        answers,
        model_id=head.model_id,
        rubric_hash=head.rubric_hash,
        head_id=head.head_id,
        run_id=run_id,
    )


@dataclass(frozen=True)
class _TrainingSet:
    """The labelled tasks with features of one zero-shot scoring, ready to fit a head on."""

    scoring: ScoringKey
    matched: Matched
    train: pd.DataFrame
    matrix: npt.NDArray[np.float64]
    feature_spec: str
    questions: dict[str, str]  # question key -> role with a target in the labels
    labels_name: str
    labels_sha256: str


def _creation_targets(
    modes_path: Path, usage_path: Path, tasks: pd.DataFrame, baseline: pd.DataFrame
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The augmentation share of each matched task with enough classified conversations,
    and its ``evidence`` weight: √(usage share × classified share), which is proportional to
    the square root of its classified conversations."""
    from jobimpact.sources.checks import sha256_file
    from jobimpact.usage import MIN_CLASSIFIED, match_modes, read_interaction_modes, read_usage

    modes = read_interaction_modes(modes_path)
    usage = read_usage(usage_path)
    matched = match_modes(modes.frame, tasks, baseline).merge(usage, on="norm", how="left")
    usable = matched[matched["classified"] >= MIN_CLASSIFIED]
    frame = usable[["task_id", "onet_soc_code", "augmentation_share", "classified"]].assign(
        evidence=np.sqrt(usable["pct"].fillna(0.0) * usable["classified"])
    )
    return frame, [modes.name, usage_path.name], [modes.sha256, sha256_file(usage_path)]


def _training_set(
    db: str | Path,
    labels: Path,
    creation_labels: Path | None,
    usage: Path | None,
    model_id: str | None,
    rubric_hash: str | None,
) -> _TrainingSet:
    """Read the labels, match them to the store's tasks and join the features."""
    from jobimpact.calibration import TARGETS
    from jobimpact.labels import match_labels, read_labels
    from jobimpact.store import calibration as store_heads
    from jobimpact.store import open_store, require_store
    from jobimpact.store import scores as store_scores
    from jobimpact.store.scorings import resolve_scoring
    from jobimpact.store.validation import creation_inputs

    require_store(db)  # a mistyped --db is said before anything about the labels
    labelled = read_labels(labels)
    with open_store(db) as con:
        scoring = resolve_scoring(con, model_id=model_id, rubric_hash=rubric_hash, head_id="")
        roles = store_scores.rubric_roles(con, scoring.rubric_hash)
        matched = match_labels(labelled, store_scores.tasks_to_score(con))
        features = store_heads.task_features(
            con, model_id=scoring.model_id, rubric_hash=scoring.rubric_hash
        )
        tasks, baseline = creation_inputs(con)
    if features.empty:
        raise NotReadyError(
            f"calibrate: got no feature vectors for model {scoring.model_id!r}, expected a "
            "backend that keeps per-task features (e.g. transformers)"
        )
    labels_frame = matched.frame
    names, digests = [labelled.name], [labelled.sha256]
    if creation_labels is not None:
        if usage is None:
            raise ConfigError(
                "calibrate: got creation labels without usage shares, expected both files "
                "of the Economic Index (task_pct_v2 weights each task by its evidence)"
            )
        shares, name, digest = _creation_targets(creation_labels, usage, tasks, baseline)
        # Only occupations of the label set: a statement shared with another occupation
        # must not pull that occupation (perhaps of a held-out half) into the head's folds.
        shares = shares[shares["onet_soc_code"].isin(set(labelled.frame["onet_soc_code"]))]
        labels_frame = labels_frame.merge(shares, on=["task_id", "onet_soc_code"], how="outer")
        names, digests = [*names, *name], [*digests, *digest]
    train = labels_frame.merge(features.drop(columns="onet_soc_code"), on="task_id")
    matrix = (
        np.stack([np.asarray(v, dtype=np.float64) for v in train["vector"]])
        if len(train)
        else np.zeros((0, 0))
    )
    present = {
        role for role, target in TARGETS.items()
        if target.column in train and train[target.column].notna().any()
    }  # fmt: skip
    return _TrainingSet(
        scoring=scoring,
        matched=matched,
        train=train,
        matrix=matrix,
        feature_spec=str(features["feature_spec"].iloc[0]),
        questions={key: role for key, role in roles.items() if role in present},
        labels_name=", ".join(names),
        labels_sha256=digests[0] if len(digests) == 1 else _combined(digests),
    )


def _combined(digests: list[str]) -> str:
    """One checksum standing for several label files."""
    return hashlib.sha256("+".join(digests).encode()).hexdigest()


def run_calibrate(
    *,
    db: str | Path,
    labels: Path,
    creation_labels: Path | None = None,
    usage: Path | None = None,
    model_id: str | None = None,
    rubric_hash: str | None = None,
    n_folds: int = 5,
    random_state: int = 0,
) -> CalibrateResult:
    """Fit a calibration head on the labelled tasks that have features, store it and score
    every featured task of the model with it (labelled occupations out of fold).

    Parameters
    ----------
    db : path of a store with zero-shot scores and features
    labels : a label file with the columns of GPTs-are-GPTs' full_labelset.tsv (direct,
        software and automation targets)
    creation_labels, usage : path, optional
        Economic Index interaction modes and usage shares by task (``task_pct_v2.csv``,
        required with the modes): creation learns each task's observed augmentation share,
        weighted by the square root of its classified conversations. Without them creation
        stays the zero-shot answer.
    model_id, rubric_hash : str, optional
        The scoring whose features to use (:func:`~jobimpact.store.scorings.resolve_scoring`).
    n_folds : int
        Outer folds, grouped by occupation.

    Raises
    ------
    NotReadyError
        When the store has no scores or no feature vectors for the model.
    """
    from jobimpact.calibration import fit_head
    from jobimpact.extras import require
    from jobimpact.store import calibration as store_heads
    from jobimpact.store import open_store
    from jobimpact.store.runs import stage_run

    require("sklearn", purpose="calibration heads")
    data = _training_set(db, labels, creation_labels, usage, model_id, rubric_hash)
    scoring = data.scoring
    parameters = {
        **{"labels": data.labels_name, "labels_sha256": data.labels_sha256},
        **{"model_id": scoring.model_id, "rubric_hash": scoring.rubric_hash},
        **{"n_folds": n_folds, "random_state": random_state},
    }
    # The fit is the long step: inside the run, so a failure or Ctrl-C is recorded.
    with stage_run(db, stage="calibrate", parameters=parameters) as run:
        head, _ = fit_head(
            data.matrix,
            data.train,
            model_id=scoring.model_id,
            rubric_hash=scoring.rubric_hash,
            feature_spec=data.feature_spec,
            labels_name=data.labels_name,
            labels_sha256=data.labels_sha256,
            questions=data.questions,
            n_folds=n_folds,
            random_state=random_state,
        )
        with open_store(db) as con:
            store_heads.write_head(con, head, run_id=run.run_id)
        applied = apply_head(db=db, head_id=head.head_id, run_id=run.run_id)
        run.counts = {"trained_on": len(data.train), "applied": applied, "head_id": head.head_id}
    return CalibrateResult(
        run_id=run.run_id,
        head_id=head.head_id,
        model_id=scoring.model_id,
        rubric_hash=scoring.rubric_hash,
        n_labelled=data.matched.n_labelled,
        n_matched_id=data.matched.n_by_id,
        n_matched_text=data.matched.n_by_text,
        n_tasks=head.n_tasks,
        n_occupations=head.n_occupations,
        cv_metrics={q: dict(m) for q, m in head.cv_metrics.items()},
        applied=applied,
    )


def apply_head(*, db: str | Path, head_id: str, run_id: str, batch_size: int = 2048) -> int:
    """Score with a stored head every featured task of its model not yet scored by it.

    Returns the number of tasks scored.
    """
    from jobimpact.store import calibration as store_heads
    from jobimpact.store import open_store
    from jobimpact.store import scores as store_scores

    with open_store(db) as con:
        head = store_heads.read_head(con, head_id)
        if head is None:
            raise ConfigError(f"calibration head: got {head_id!r}, expected a stored head id")
        features = store_heads.task_features(
            con, model_id=head.model_id, rubric_hash=head.rubric_hash, skip_head_id=head_id
        )
    for start in range(0, len(features), batch_size):
        rows = calibrated_rows(head, features.iloc[start : start + batch_size], run_id=run_id)
        with open_store(db) as con:
            store_scores.write_score_batch(con, rows)
    return len(features)


def export_head(*, db: str | Path, head_id: str, path: Path) -> None:
    """Write a stored head as JSON, the form :func:`~jobimpact.calibration.packaged_head`
    reads (written to a temporary file and renamed into place)."""
    from jobimpact.calibration import head_to_dict
    from jobimpact.outputs import write_atomic
    from jobimpact.store import calibration as store_heads
    from jobimpact.store import open_store

    with open_store(db, read_only=True) as con:
        head = store_heads.read_head(con, head_id)
    if head is None:
        raise ConfigError(f"calibration head: got {head_id!r}, expected a stored head id")
    write_atomic(path, json.dumps(head_to_dict(head)).encode("utf-8"))
