"""Score: ask a scoring backend about the tasks it has not answered yet, batch by batch."""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from jobimpact.errors import ConfigError, ScoringError

if TYPE_CHECKING:
    from jobimpact.calibration import CalibrationHead
    from jobimpact.scoring.base import Scorer, TaskScore

__all__ = ["ScoreResult", "run_score", "select_tasks"]

log = logging.getLogger(__name__)

# Feature vectors of a working model are hidden-state means of moderate size; values this
# large mean broken weights (damaged files gave about 4e9), never a real task.
MAX_FEATURE = 1e6


@dataclass(frozen=True)
class ScoreResult:
    """What a scoring run did.

    Attributes
    ----------
    run_id : str or None
        None when there was nothing to score.
    selected, already_scored, scored, failed : int
        Tasks selected, found scored before, scored now, and in batches that failed.
    head_id : str
        The calibration head that also scored the new tasks, '' for none.
    """

    run_id: str | None
    model_id: str
    rubric_hash: str
    selected: int
    already_scored: int
    scored: int
    failed: int
    head_id: str = ""


def select_tasks(
    tasks: pd.DataFrame,
    *,
    occupations: Sequence[str] | None = None,
    sample: int | None = None,
    limit: int | None = None,
    random_state: int = 0,
) -> pd.DataFrame:
    """Choose the tasks to score: named occupations, a stratified sample of occupations, or
    the first ``limit`` tasks.

    ``sample`` draws that many occupations spread over the SOC major groups in proportion
    to their number of occupations (at least one per group while the sample allows).
    """
    chosen = tasks
    if occupations:
        unknown = sorted(set(occupations) - set(tasks["onet_soc_code"]))
        if unknown:
            raise ConfigError(
                f"--occupations: got {', '.join(unknown)}, expected O*NET-SOC codes with tasks"
            )
        chosen = chosen[chosen["onet_soc_code"].isin(occupations)]
    if sample is not None:
        codes = chosen.drop_duplicates("onet_soc_code")[["onet_soc_code", "soc_major"]]
        if not 0 < sample <= len(codes):
            raise ConfigError(f"--sample: got {sample}, expected 1 to {len(codes)} occupations")
        shuffled = codes.sample(frac=1.0, random_state=random_state)
        # Round-robin over major groups: every group is represented before any repeats.
        shuffled = shuffled.assign(rank=shuffled.groupby("soc_major").cumcount())
        picked = shuffled.sort_values(["rank", "soc_major"]).head(sample)
        chosen = chosen[chosen["onet_soc_code"].isin(picked["onet_soc_code"])]
    if limit is not None:
        chosen = chosen.head(limit)
    return chosen


@dataclass(frozen=True)
class _Selection:
    """Which tasks a run was asked to score (see :func:`select_tasks`)."""

    occupations: Sequence[str] | None
    sample: int | None
    limit: int | None


@dataclass
class _Plan:
    """The selected tasks with their prompt keys, and which of them still need scoring."""

    tasks: pd.DataFrame  # task_id, onet_soc_code, occupation, task, prompt_sha256
    todo: list[int]
    head: CalibrationHead | None


def _plan(db: str | Path, scorer: Scorer, selection: _Selection, force: bool) -> _Plan:
    """Read the tasks, their keys, what is scored and the head, in one store visit."""
    from jobimpact.pipeline.calibrate import head_for
    from jobimpact.scoring.base import TaskPrompt, prompt_key
    from jobimpact.store import open_store
    from jobimpact.store import scores as store_scores

    with open_store(db) as con:
        tasks = select_tasks(
            store_scores.tasks_to_score(con),
            occupations=selection.occupations,
            sample=selection.sample,
            limit=selection.limit,
        )
        done = store_scores.scored_keys(
            con, model_id=scorer.model_id, rubric_hash=scorer.rubric.hash
        )
        head = head_for(con, model_id=scorer.model_id, rubric_hash=scorer.rubric.hash)
    keys = [
        prompt_key(
            TaskPrompt(occupation=o, task=t),
            model_id=scorer.model_id,
            rubric_hash=scorer.rubric.hash,
        )
        for o, t in zip(tasks["occupation"], tasks["task"], strict=True)
    ]
    tasks = tasks.assign(prompt_sha256=keys).reset_index(drop=True)
    todo = [i for i, key in enumerate(keys) if force or key not in done]
    return _Plan(tasks=tasks, todo=todo, head=head)


def run_score(
    *,
    db: str | Path,
    scorer: Scorer,
    occupations: Sequence[str] | None = None,
    sample: int | None = None,
    limit: int | None = None,
    batch_size: int = 16,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ScoreResult:
    """Score the selected tasks that this model and rubric have not scored yet.

    Each batch is written in its own short transaction, so an interrupted run loses at most
    the batch in flight and a rerun picks up where it stopped; ``force`` scores again.
    A batch the backend fails on is recorded in ``scoring_failures`` and skipped. When a
    calibration head exists for the model and rubric (stored, or shipped with jobimpact),
    it scores the new tasks from their features as well.

    Parameters
    ----------
    db : path of an ingested store
    scorer : Scorer
        From :func:`jobimpact.get_backend`.
    occupations, sample, limit
        Which tasks (see :func:`select_tasks`); every task by default.
    batch_size : int
        Tasks per backend call and per store transaction.
    progress : callable, optional
        Called with (tasks done, tasks to do) after every batch.
    """
    selection = _Selection(occupations=occupations, sample=sample, limit=limit)
    plan = _plan(db, scorer, selection, force)
    result = ScoreResult(
        run_id=None,
        model_id=scorer.model_id,
        rubric_hash=scorer.rubric.hash,
        selected=len(plan.tasks),
        already_scored=len(plan.tasks) - len(plan.todo),
        scored=0,
        failed=0,
        head_id=plan.head.head_id if plan.head else "",
    )
    if not plan.todo:
        return result
    return _score_todo(
        db,
        scorer,
        plan,
        result,
        batch_size=batch_size,
        force=force,
        selection=selection,
        progress=progress,
    )


def _score_todo(
    db: str | Path,
    scorer: Scorer,
    plan: _Plan,
    result: ScoreResult,
    *,
    batch_size: int,
    force: bool,
    selection: _Selection,
    progress: Callable[[int, int], None] | None,
) -> ScoreResult:
    """Score the tasks of ``plan.todo`` batch by batch inside one recorded run."""
    from jobimpact.store import open_store
    from jobimpact.store import scores as store_scores
    from jobimpact.store.runs import stage_run

    rubric = scorer.rubric
    with open_store(db) as con:
        store_scores.record_rubric(con, rubric)
    parameters = {
        "backend": scorer.backend_name,
        "model_id": scorer.model_id,
        "rubric": rubric.name,
        "rubric_hash": rubric.hash,
        "occupations": list(selection.occupations or []),
        "sample": selection.sample,
        "limit": selection.limit,
        "batch_size": batch_size,
        "force": force,
        "selected": result.selected,
        "head_id": result.head_id,
    }
    scored = failed = 0
    with stage_run(
        db, stage="score", parameters=parameters, recount=store_scores.run_counts
    ) as run:
        run.counts = {"selected": result.selected, "already_scored": result.already_scored}
        for start in range(0, len(plan.todo), batch_size):
            batch = plan.tasks.iloc[plan.todo[start : start + batch_size]]
            if _score_batch(db, scorer, batch, plan.head, run_id=run.run_id):
                scored += len(batch)
            else:
                failed += len(batch)
            run.counts.update(scored=scored, failed=failed)
            if progress is not None:
                progress(scored + failed, len(plan.todo))
    return dataclasses.replace(result, run_id=run.run_id, scored=scored, failed=failed)


def _score_batch(
    db: str | Path,
    scorer: Scorer,
    batch: pd.DataFrame,
    head: CalibrationHead | None,
    *,
    run_id: str,
) -> bool:
    """Score and store one batch; record it as failed and return False on a ScoringError."""
    from jobimpact.pipeline.calibrate import calibrated_rows
    from jobimpact.scoring.base import TaskPrompt
    from jobimpact.store import open_store
    from jobimpact.store import scores as store_scores

    prompts = [
        TaskPrompt(occupation=o, task=t, task_id=str(i))
        for i, o, t in zip(batch["task_id"], batch["occupation"], batch["task"], strict=True)
    ]
    try:
        results = scorer.score(prompts, batch_size=len(prompts))
    except ScoringError as failure:
        with open_store(db) as con:
            store_scores.record_failures(
                con,
                run_id=run_id,
                task_ids=batch["task_id"].tolist(),
                model_id=scorer.model_id,
                rubric_hash=scorer.rubric.hash,
                reason=str(failure),
            )
        log.warning("batch of %d tasks failed: %s", len(prompts), failure)
        return False
    check_results(results, model_id=scorer.model_id)
    rows = store_scores.task_score_rows(
        batch,
        [{q: (a.p_yes, a.answer_mass) for q, a in r.answers.items()} for r in results],
        model_id=scorer.model_id,
        rubric_hash=scorer.rubric.hash,
        head_id="",
        run_id=run_id,
    )
    vectors = [r.feature for r in results if r.feature is not None]
    feature_rows = None
    if len(vectors) == len(results):
        feature_rows = store_scores.feature_rows(batch, vectors, model_id=scorer.model_id)
        if head is not None:
            featured = batch.assign(vector=pd.Series(vectors, index=batch.index, dtype=object))
            rows = pd.concat([rows, calibrated_rows(head, featured, run_id=run_id)])
    with open_store(db) as con:
        store_scores.write_score_batch(con, rows, feature_rows)
    return True


def check_results(results: Sequence[TaskScore], *, model_id: str) -> None:
    """Refuse a batch of results no working model gives, before anything is stored.

    Every P(Yes) and known answer mass must be a finite number in [0, 1], not every P(Yes) may be
    exactly 0.5 (a model whose Yes and No logits are always equal reads nothing), and
    feature vectors must be finite and below :data:`MAX_FEATURE`. These are what damaged
    weights produce, and storing them under the model's id would make later runs skip
    the tasks; so the run stops (:class:`~jobimpact.errors.ScoringError`) instead.
    """
    problem = _bad_result(results)
    if problem is None:
        return
    raise ScoringError(
        f"model {model_id}: got {problem}, expected finite probabilities in [0, 1] and "
        f"features below {MAX_FEATURE:g}; nothing of this batch was stored (check the "
        "model's files, or the server behind it)"
    )


def _bad_result(results: Sequence[TaskScore]) -> str | None:
    """What is wrong with a batch of results, or None."""
    p_yes = []
    for result in results:
        where = f"task {result.task_id}"
        for question, answer in result.answers.items():
            if not (math.isfinite(answer.p_yes) and 0.0 <= answer.p_yes <= 1.0):
                return f"P(Yes) {answer.p_yes!r} for {where}, question {question!r}"
            mass = answer.answer_mass  # None or NaN: not known (an answer read from text)
            known = mass is not None and not math.isnan(mass)
            if known and not (math.isfinite(mass) and 0.0 <= mass <= 1.0 + 1e-6):
                return f"answer mass {mass!r} for {where}, question {question!r}"
            p_yes.append(answer.p_yes)
        if result.feature is not None:
            vector = np.asarray(result.feature, dtype=np.float64)
            if not np.isfinite(vector).all():
                return f"a non-finite feature value for {where}"
            largest = float(np.abs(vector).max(initial=0.0))
            if largest > MAX_FEATURE:
                return f"a feature value of {largest:.3g} for {where}"
    if p_yes and all(p == 0.5 for p in p_yes):
        return f"P(Yes) exactly 0.5 for every answer of {len(results)} tasks"
    return None
