"""Validate: compare one scoring with reference labels and store the figures."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from jobimpact.errors import NotReadyError

if TYPE_CHECKING:
    from jobimpact.calibration import CalibrationHead
    from jobimpact.labels import Labels, Matched
    from jobimpact.store.scorings import ScoringKey

__all__ = ["ValidateResult", "run_validate"]

# Fewest labelled, scored tasks and occupations a validation is worth running on.
MIN_TASKS, MIN_OCCUPATIONS = 20, 3


@dataclass(frozen=True)
class ValidateResult:
    """Agreement of one scoring with reference labels, as stored.

    Attributes
    ----------
    mode : str
        ``zero-shot``, ``out-of-fold`` (a head scored its own training occupations with
        the fold model that never saw them) or ``held-out`` (occupations the head never
        saw).
    metrics : DataFrame
        Long form: source, reference, level, metric, value, ci_low, ci_high, n.
    """

    validation_id: str
    run_id: str
    model_id: str
    rubric_hash: str
    head_id: str
    mode: str
    labels_name: str
    n_labelled: int
    n_matched_id: int
    n_matched_text: int
    n_scored: int
    metrics: pd.DataFrame
    reliability: pd.DataFrame
    seconds: float


def _validation_mode(head: CalibrationHead | None, codes: pd.Series) -> str:
    """How the compared scores were made, for the reader of the figures."""
    if head is None:
        return "zero-shot"
    seen = codes.isin(list(head.folds)).any()
    return "out-of-fold" if seen else "held-out"


def _scored_labels(
    db: str | Path,
    labels: Path,
    model_id: str | None,
    rubric_hash: str | None,
    head_id: str | None,
) -> tuple[ScoringKey, CalibrationHead | None, Labels, Matched, pd.DataFrame]:
    """The scoring, its head, the labels, how they matched, and the labelled scored tasks."""
    from jobimpact.labels import match_labels, read_labels
    from jobimpact.store import calibration as store_heads
    from jobimpact.store import open_store, require_store
    from jobimpact.store import scores as store_scores
    from jobimpact.store.scorings import resolve_scoring

    require_store(db)  # a mistyped --db is said before anything about the labels
    labelled = read_labels(labels)
    with open_store(db) as con:
        scoring = resolve_scoring(con, model_id=model_id, rubric_hash=rubric_hash, head_id=head_id)
        head = store_heads.read_head(con, scoring.head_id) if scoring.head_id else None
        matched = match_labels(labelled, store_scores.tasks_to_score(con))
        measures = store_scores.task_measures(con, scoring)
    # tasks asked only some questions zero-shot (score --questions) cannot be compared
    columns = ["task_id", "onet_soc_code", "task_type", "alpha", "beta", "zeta", "displacement"]
    measures = measures.dropna(subset=columns[3:])[columns]
    scored = matched.frame.drop(columns=["task_type", "onet_soc_code"]).merge(
        measures, on="task_id"
    )
    if len(scored) < MIN_TASKS or scored["onet_soc_code"].nunique() < MIN_OCCUPATIONS:
        raise NotReadyError(
            f"validate: got {len(scored)} labelled tasks with scores of {scoring.model_id!r}, "
            f"expected at least {MIN_TASKS} in {MIN_OCCUPATIONS} occupations (score the "
            "labelled occupations: jobimpact score --labelled)"
        )
    return scoring, head, labelled, matched, scored


def run_validate(
    *,
    db: str | Path,
    labels: Path,
    model_id: str | None = None,
    rubric_hash: str | None = None,
    head_id: str | None = None,
    n_boot: int = 1000,
) -> ValidateResult:
    """Compare a scoring with reference labels and store the figures.

    The scoring is chosen by :func:`~jobimpact.store.scorings.resolve_scoring`
    (``head_id=""``: the zero-shot scores). Tasks of the head's training occupations carry
    out-of-fold scores, so no task is judged by a head that saw it.

    Raises
    ------
    NotReadyError
        When fewer than 20 labelled tasks in 3 occupations have scores.
    """
    from jobimpact.extras import require
    from jobimpact.store import open_store
    from jobimpact.store.runs import now, stage_run
    from jobimpact.store.validation import write_validation
    from jobimpact.validation import validate_scores

    require("sklearn", purpose="validation")
    started = time.perf_counter()
    scoring, head, labelled, matched, scored = _scored_labels(
        db, labels, model_id, rubric_hash, head_id
    )
    mode = _validation_mode(head, scored["onet_soc_code"])
    parameters = {"labels": labelled.name, "model_id": scoring.model_id, "head_id": scoring.head_id}
    with stage_run(db, stage="validate", parameters=parameters) as run:
        tables = validate_scores(scored, n_boot=n_boot)
        record = {
            "validation_id": uuid.uuid4().hex,
            "run_id": run.run_id,
            "model_id": scoring.model_id,
            "rubric_hash": scoring.rubric_hash,
            "head_id": scoring.head_id,
            "mode": mode,
            "labels_name": labelled.name,
            "labels_sha256": labelled.sha256,
            "n_labelled": matched.n_labelled,
            "n_matched_id": matched.n_by_id,
            "n_matched_text": matched.n_by_text,
            "n_scored": len(scored),
            "created_at": now(),
        }
        with open_store(db) as con:
            write_validation(con, record, tables.metrics, tables.reliability)
        run.counts = {"tasks": len(scored), "mode": mode}
    return ValidateResult(
        validation_id=str(record["validation_id"]),
        run_id=run.run_id,
        model_id=scoring.model_id,
        rubric_hash=scoring.rubric_hash,
        head_id=scoring.head_id,
        mode=mode,
        labels_name=labelled.name,
        n_labelled=matched.n_labelled,
        n_matched_id=matched.n_by_id,
        n_matched_text=matched.n_by_text,
        n_scored=len(scored),
        metrics=tables.metrics,
        reliability=tables.reliability,
        seconds=time.perf_counter() - started,
    )
