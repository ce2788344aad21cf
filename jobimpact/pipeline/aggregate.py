"""Aggregate: roll one scoring's task measures up to occupations and store them; the views
roll them up further to major groups and the economy."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jobimpact.aggregate import CREATION_THRESHOLD, DISPLACEMENT_THRESHOLD, Weighting
from jobimpact.errors import NotReadyError
from jobimpact.measures import MEASURE_NAMES

if TYPE_CHECKING:
    import pandas as pd

    from jobimpact.store.scorings import ScoringKey

__all__ = ["AggregateResult", "run_aggregate"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AggregateResult:
    """Which scoring was rolled up, and how many occupations it covered."""

    run_id: str
    model_id: str
    rubric_hash: str
    head_id: str
    weighting: str
    n_occupations: int
    n_tasks: int


def run_aggregate(
    *,
    db: str | Path,
    model_id: str | None = None,
    rubric_hash: str | None = None,
    head_id: str | None = None,
    weighting: Weighting = "rating",
    displacement_threshold: float = DISPLACEMENT_THRESHOLD,
    creation_threshold: float = CREATION_THRESHOLD,
    n_boot: int = 200,
) -> AggregateResult:
    """Roll one scoring's task measures up to occupations and store them.

    The scoring is chosen by :func:`~jobimpact.store.scorings.resolve_scoring` (the latest
    model and rubric, calibrated by its latest head when there is one; ``head_id=""`` for
    the zero-shot scores). Rerunning replaces the roll-up of the same scoring and
    weighting, so it is idempotent. The quadrant lines default to 0.5 on both axes (see
    :data:`jobimpact.aggregate.DISPLACEMENT_THRESHOLD`); the employment-weighted medians
    give the relative quadrants beside them.

    Raises
    ------
    NotReadyError
        When the store has no scores, or no task with every measure.
    """
    from jobimpact import aggregate as rollup
    from jobimpact.store import open_store
    from jobimpact.store import scores as store_scores
    from jobimpact.store.runs import stage_run
    from jobimpact.store.scorings import resolve_scoring

    with open_store(db) as con:
        scoring = resolve_scoring(con, model_id=model_id, rubric_hash=rubric_hash, head_id=head_id)
        measures = store_scores.task_measures(con, scoring)
        employment = store_scores.occupation_employment(con)
    measures = _complete(measures, scoring)
    scoring = dataclasses.replace(scoring, weighting=weighting)
    parameters = {
        "model_id": scoring.model_id,
        "rubric_hash": scoring.rubric_hash,
        "head_id": scoring.head_id,
        "weighting": weighting,
        "displacement_threshold": displacement_threshold,
        "creation_threshold": creation_threshold,
        "n_boot": n_boot,
    }
    with stage_run(db, stage="aggregate", parameters=parameters) as run:
        occupations = rollup.occupation_scores(measures, weighting=weighting, n_boot=n_boot)
        occupations = occupations.merge(employment, on="onet_soc_code", how="left")
        occupations = rollup.quadrants(
            occupations,
            displacement_threshold=displacement_threshold,
            creation_threshold=creation_threshold,
        )
        occupations = occupations.drop(columns=["employment"]).assign(
            model_id=scoring.model_id,
            rubric_hash=scoring.rubric_hash,
            head_id=scoring.head_id,
            run_id=run.run_id,
        )
        with open_store(db) as con:
            store_scores.replace_occupation_scores(con, occupations, scoring)
        run.counts = {"occupations": len(occupations), "tasks": len(measures)}
    return AggregateResult(
        run_id=run.run_id,
        model_id=scoring.model_id,
        rubric_hash=scoring.rubric_hash,
        head_id=scoring.head_id,
        weighting=weighting,
        n_occupations=len(occupations),
        n_tasks=len(measures),
    )


def _complete(measures: pd.DataFrame, scoring: ScoringKey) -> pd.DataFrame:
    """The tasks with every measure; NotReadyError when there are none."""
    # Tasks asked only some questions (score --questions) have no measures to roll up.
    complete = measures[list(MEASURE_NAMES)].notna().all(axis=1)
    if not complete.all():
        log.warning(
            "aggregate: %d of %d tasks lack some rubric answers (scored with --questions); "
            "they are left out of the roll-up",
            int((~complete).sum()),
            len(measures),
        )
    if not complete.any():
        raise NotReadyError(
            f"aggregate: got no task with every measure for {scoring.describe()}, expected "
            "some (score without --questions, or calibrate)"
        )
    return measures[complete]
