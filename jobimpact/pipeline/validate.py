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


@dataclass(frozen=True)
class _CreationCheck:
    """The creation checks of one validation: metric rows and the label file behind them."""

    rows: list[dict[str, object]]
    labels_name: str | None = None
    labels_sha256: str | None = None
    n_labelled: int | None = None


def _creation_check(
    db: str | Path,
    scoring: ScoringKey,
    labelled: Matched,
    creation_labels: Path | None,
    usage: Path | None,
    n_boot: int,
) -> _CreationCheck:
    """Creation against observed augmentation and new work; exposure against observed use."""
    from jobimpact import creation_validation as checks
    from jobimpact.store import open_store
    from jobimpact.store import scores as store_scores
    from jobimpact.store.scorings import ScoringKey
    from jobimpact.store.validation import creation_inputs
    from jobimpact.usage import MIN_CLASSIFIED, match_modes, read_interaction_modes, read_usage

    with open_store(db) as con:
        tasks, baseline = creation_inputs(con)
        ours = store_scores.task_measures(con, scoring)
        zero_shot = store_scores.task_measures(
            con, ScoringKey(scoring.model_id, scoring.rubric_hash, "")
        )
    scores = ours[["task_id", "onet_soc_code", "creation", "zeta", "displacement"]].merge(
        zero_shot[["task_id", "creation"]].rename(columns={"creation": "creation_zero_shot"}),
        on="task_id",
        how="left",
    )
    scores = scores.assign(formula=scores["zeta"] * (1 - scores["displacement"]))
    rows = checks.new_work_rows(
        scores.merge(tasks[["task_id", "status"]], on="task_id"), n_boot=n_boot
    )
    check = _CreationCheck(rows=rows)
    if usage is not None and usage.is_file():
        in_use = match_modes(read_usage(usage), tasks, baseline)
        rows += checks.usage_rows(_usage_frame(scores, in_use, labelled), n_boot=n_boot)
    if creation_labels is None or not creation_labels.is_file():
        return check
    modes = read_interaction_modes(creation_labels)
    matched = match_modes(modes.frame, tasks, baseline)
    usable = matched[matched["classified"] >= MIN_CLASSIFIED]
    frame = usable[["task_id", "augmentation_share"]].merge(scores, on="task_id")
    sources = {"ours": "creation", "zero-shot": "creation_zero_shot", "formula": "formula"}
    rows += checks.augmentation_rows(frame, sources, n_boot=n_boot)
    return _CreationCheck(
        rows=rows, labels_name=modes.name, labels_sha256=modes.sha256, n_labelled=len(frame)
    )


def _usage_frame(scores: pd.DataFrame, in_use: pd.DataFrame, labelled: Matched) -> pd.DataFrame:
    """Tasks of the occupations the usage file covers, whether each appears in use, our zeta
    and, where labelled, the human exposure label as a 0/1 score."""
    covered = scores[scores["onet_soc_code"].isin(set(in_use["onet_soc_code"]))]
    human = labelled.frame[["task_id", "human"]].assign(
        human_exposed=lambda f: f["human"].isin(["E1", "E2"]).astype(float)
    )
    return covered.assign(in_use=covered["task_id"].isin(set(in_use["task_id"]))).merge(
        human[["task_id", "human_exposed"]], on="task_id", how="left"
    )


def run_validate(
    *,
    db: str | Path,
    labels: Path,
    model_id: str | None = None,
    rubric_hash: str | None = None,
    head_id: str | None = None,
    creation_labels: Path | None = None,
    usage: Path | None = None,
    n_boot: int = 1000,
) -> ValidateResult:
    """Compare a scoring with reference labels and store the figures.

    Exposure against the GPTs-are-GPTs labels (``labels``); creation against the observed
    augmentation of the Economic Index (``creation_labels``, any file with its columns) and
    against new work since the baseline O*NET release; exposure against observed use
    (``usage``). The files default to none; the CLI passes the fetched ones. The scoring is
    chosen by :func:`~jobimpact.store.scorings.resolve_scoring` (``head_id=""``: zero-shot);
    tasks of the head's training occupations carry out-of-fold scores.

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
        creation = _creation_check(db, scoring, matched, creation_labels, usage, n_boot)
        metrics = pd.concat([tables.metrics, pd.DataFrame(creation.rows)], ignore_index=True)
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
            "creation_labels_name": creation.labels_name,
            "creation_labels_sha256": creation.labels_sha256,
            "n_creation_labelled": creation.n_labelled,
        }
        with open_store(db) as con:
            write_validation(con, record, metrics, tables.reliability)
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
        metrics=metrics,
        reliability=tables.reliability,
        seconds=time.perf_counter() - started,
    )
