"""Score: ask a scoring backend about the tasks it has not answered yet, batch by batch."""

from __future__ import annotations

import dataclasses
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from jobimpact.errors import ConfigError, ScoringError, ScoringRefusedError

if TYPE_CHECKING:
    from jobimpact.calibration import CalibrationHead
    from jobimpact.scoring.base import Scorer, TaskScore

__all__ = ["ScoreResult", "resolve_occupations", "run_score", "select_tasks"]

log = logging.getLogger(__name__)

_ONET_SOC = re.compile(r"\d{2}-\d{4}\.\d{2}")
_SOC = re.compile(r"\d{2}-\d{4}")
_N_SUGGESTED = 5
_EXPECTED = (
    "expected O*NET-SOC codes like 15-1252.00 or SOC codes like 15-1252 of occupations "
    "with task statements"
)
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
        Tasks selected, found scored before, scored now, and failed now.
    head_id : str
        The calibration head that also scored the new tasks, '' for none.
    expanded : mapping of str to tuple of str
        Each SOC code given in ``occupations`` and the O*NET-SOC codes it stood for.
    text_answers : int
        Answers of the tasks scored now that were read from the model's text, not from
        probabilities (stored with ``method = 'zero-shot-text'``).
    """

    run_id: str | None
    model_id: str
    rubric_hash: str
    selected: int
    already_scored: int
    scored: int
    failed: int
    head_id: str = ""
    expanded: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    text_answers: int = 0


def resolve_occupations(
    tasks: pd.DataFrame, codes: Sequence[str]
) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """The O*NET-SOC codes that ``codes`` name, and how each SOC code among them expanded.

    Users hold codes in two forms: O*NET-SOC (``15-1252.00``, what O*NET uses) and SOC
    (``15-1252``, what BLS data uses). An O*NET-SOC code stands for itself. A SOC code
    stands for every O*NET-SOC occupation with tasks that the crosswalk maps to it or whose
    employment OEWS counts under it (e.g. the aggregate ``13-1020``); a SOC group code
    (ending in 0: ``15-1250``, ``15-1200``, ``15-0000``) for every occupation in the group.

    Parameters
    ----------
    tasks : DataFrame
        ``onet_soc_code`` and ``occupation`` (title) of every task, with ``soc_code`` and
        ``oews_code`` when known (as :func:`jobimpact.store.scores.tasks_to_score` reads
        them); without ``soc_code`` the first seven characters of the code are used.
    codes : sequence of str
        The codes given; blanks around them are ignored.

    Returns
    -------
    tuple
        The O*NET-SOC codes in the order given, each once, and ``{SOC code: O*NET-SOC codes}``
        for every SOC code that was expanded.

    Raises
    ------
    ConfigError
        Naming every value that is not a code or names no occupation with tasks, quoted,
        with the nearest occupations that have tasks where there are any.
    """
    occupations = tasks.drop_duplicates("onet_soc_code").set_index("onet_soc_code")
    soc = _soc_codes(occupations)
    resolved: dict[str, None] = {}
    expanded: dict[str, tuple[str, ...]] = {}
    offending: list[str] = []
    for code in dict.fromkeys(c.strip() for c in codes if c.strip()):
        if _ONET_SOC.fullmatch(code) and code in occupations.index:
            resolved[code] = None
        elif _SOC.fullmatch(code) and (matched := _soc_members(occupations, soc, code)):
            expanded[code] = matched
            resolved.update(dict.fromkeys(matched))
        else:
            offending.append(code)
    if offending:
        raise ConfigError(_occupations_message(occupations, soc, offending))
    return list(resolved), expanded


def _soc_codes(occupations: pd.DataFrame) -> pd.Series:
    """The SOC code of each occupation: the crosswalk's, else the O*NET-SOC code's prefix."""
    prefix = occupations.index.to_series().str[:7]
    if "soc_code" not in occupations:
        return prefix
    return occupations["soc_code"].astype("string").fillna(prefix.astype("string"))


def _soc_members(occupations: pd.DataFrame, soc: pd.Series, code: str) -> tuple[str, ...]:
    """O*NET-SOC codes that a SOC code (detailed, OEWS aggregate or group) stands for."""
    hit = soc.eq(code).fillna(False).to_numpy(dtype=bool)
    if "oews_code" in occupations:
        oews = occupations["oews_code"].astype("string")
        hit |= oews.eq(code).fillna(False).to_numpy(dtype=bool)
    if code.endswith("0"):
        # SOC numbers groups with trailing zeros: 15-1250 broad, 15-1200 minor, 15-0000 major.
        hit |= soc.str.startswith(code.rstrip("0")).fillna(False).to_numpy(dtype=bool)
    return tuple(sorted(str(c) for c in occupations.index[hit]))


def _occupations_message(occupations: pd.DataFrame, soc: pd.Series, offending: list[str]) -> str:
    """One line naming every offending value, quoted, and what to try instead."""
    listed = ", ".join(repr(code) for code in offending)
    message = f"--occupations: got {listed}, {_EXPECTED}"
    for code in offending:
        nearest = _nearest(occupations, soc, code)
        if nearest:
            message += f"; for {code!r} try " + ", ".join(
                c + " (" + str(occupations.at[c, "occupation"]) + ")" for c in nearest
            )
    return message


def _nearest(occupations: pd.DataFrame, soc: pd.Series, code: str) -> list[str]:
    """Occupations with tasks that share the longest SOC prefix with ``code`` (a few)."""
    if not _SOC.match(code):
        return []
    # Same detailed SOC code, then the same broad, minor and major group.
    for length in (7, 6, 5, 3):
        near = occupations.index[soc.str.startswith(code[:length]).fillna(False).to_numpy(bool)]
        if len(near):
            return sorted(str(c) for c in near)[:_N_SUGGESTED]
    return []


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

    ``occupations`` may hold O*NET-SOC and SOC codes (see :func:`resolve_occupations`).

    ``sample`` draws that many occupations spread over the SOC major groups in proportion
    to their number of occupations (at least one per group while the sample allows).
    """
    chosen = tasks
    if occupations:
        named, _ = resolve_occupations(tasks, occupations)
        chosen = chosen[chosen["onet_soc_code"].isin(named)]
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
    expanded: dict[str, tuple[str, ...]]


def _plan(db: str | Path, scorer: Scorer, selection: _Selection, force: bool) -> _Plan:
    """Read the tasks, their keys, what is scored and the head, in one store visit."""
    from jobimpact.pipeline.calibrate import head_for
    from jobimpact.scoring.base import TaskPrompt, prompt_key
    from jobimpact.store import open_store
    from jobimpact.store import scores as store_scores

    with open_store(db) as con:
        every_task = store_scores.tasks_to_score(con)
        codes, expanded = (
            resolve_occupations(every_task, selection.occupations)
            if selection.occupations
            else (None, {})
        )
        for soc_code, onet_codes in expanded.items():
            log.info("--occupations: SOC %s stands for %s", soc_code, ", ".join(onet_codes))
        tasks = select_tasks(
            every_task, occupations=codes, sample=selection.sample, limit=selection.limit
        )
        done = store_scores.scored_keys(
            con,
            model_id=scorer.model_id,
            rubric_hash=scorer.rubric.hash,
            questions=scorer.questions,
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
    return _Plan(tasks=tasks, todo=todo, head=head, expanded=expanded)


def run_score(
    *,
    db: str | Path,
    scorer: Scorer,
    occupations: Sequence[str] | None = None,
    sample: int | None = None,
    limit: int | None = None,
    batch_size: int | None = None,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ScoreResult:
    """Score the selected tasks that this model and rubric have not scored yet.

    Each batch is written in its own short transaction, so an interrupted run loses at most
    the batch in flight and a rerun picks up where it stopped; ``force`` scores again.
    Tasks the backend fails on are recorded in ``scoring_failures`` with the reason and
    skipped; the other tasks of their batch are stored. Every answer is checked before it
    is written (P(Yes) and answer mass finite and in [0, 1], features finite), whatever
    the backend. When a calibration head exists for the model and rubric (stored, or
    shipped with jobimpact), it scores the new tasks from their features as well.

    Answers read from the model's text rather than from probabilities are counted
    (``runs.counts.text_answers``, :attr:`ScoreResult.text_answers`) and, unless the
    backend was asked to read text only, warned about.

    Raises
    ------
    ScoringRefusedError
        When the backend's server refuses the requests themselves; what was scored before
        is kept, and the run is recorded as failed.
    ScoringError
        When there were tasks to score and none could be: the run is recorded as failed
        and the reasons are in ``scoring_failures``.

    Parameters
    ----------
    db : path of an ingested store
    scorer : Scorer
        From :func:`jobimpact.get_backend`.
    occupations, sample, limit
        Which tasks (see :func:`select_tasks`); every task by default. ``occupations`` may
        hold SOC codes, each expanded to its O*NET-SOC codes (logged, and in the result).
    batch_size : int, optional
        Tasks per backend call and per store transaction; the backend's
        :attr:`~jobimpact.scoring.Scorer.batch_hint` by default.
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
        expanded=plan.expanded,
    )
    if not plan.todo:
        return result
    return _score_todo(
        db,
        scorer,
        plan,
        result,
        batch_size=batch_size or scorer.batch_hint,
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
    from jobimpact.store.families import DuckDBEmbeddingCache
    from jobimpact.store.runs import stage_run

    rubric = scorer.rubric
    with open_store(db) as con:
        store_scores.record_rubric(con, rubric)
    # Sentence embeddings made for the features are the embed stage's: computed once.
    scorer.use_embedding_cache(DuckDBEmbeddingCache(str(db)))
    parameters = {
        "backend": scorer.backend_name,
        "model_id": scorer.model_id,
        "rubric": rubric.name,
        "rubric_hash": rubric.hash,
        "occupations": list(selection.occupations or []),
        "expanded": {code: list(codes) for code, codes in result.expanded.items()},
        "sample": selection.sample,
        "limit": selection.limit,
        "batch_size": batch_size,
        "force": force,
        "selected": result.selected,
        "head_id": result.head_id,
        "answers_from_text": scorer.answers_from_text,
    }
    total = _BatchOutcome()
    with stage_run(
        db, stage="score", parameters=parameters, recount=store_scores.run_counts
    ) as run:
        run.counts = {"selected": result.selected, "already_scored": result.already_scored}
        for start in range(0, len(plan.todo), batch_size):
            batch = plan.tasks.iloc[plan.todo[start : start + batch_size]]
            total.add(_score_batch(db, scorer, batch, plan.head, run_id=run.run_id))
            run.counts.update(
                scored=total.scored, failed=total.failed, text_answers=total.text_answers
            )
            if progress is not None:
                progress(total.scored + total.failed, len(plan.todo))
        if total.scored == 0:
            raise ScoringError(
                f"{scorer.model_id}: got 0 of {len(plan.todo):,} tasks scored, expected at "
                f"least one; first reason: {total.first_failure} (every reason: "
                f"scoring_failures, run {run.run_id})"
            )
    _warn_text_answers(scorer, total)
    return dataclasses.replace(
        result,
        run_id=run.run_id,
        scored=total.scored,
        failed=total.failed,
        text_answers=total.text_answers,
    )


@dataclass
class _BatchOutcome:
    """Tasks scored and failed, answers read from text, and the first failure's reason."""

    scored: int = 0
    failed: int = 0
    text_answers: int = 0
    answers: int = 0
    first_failure: str | None = None

    def add(self, other: _BatchOutcome) -> None:
        self.scored += other.scored
        self.failed += other.failed
        self.text_answers += other.text_answers
        self.answers += other.answers
        self.first_failure = self.first_failure or other.first_failure


def _warn_text_answers(scorer: Scorer, total: _BatchOutcome) -> None:
    """Say how many answers came from text when probabilities were asked for."""
    if total.text_answers and not scorer.answers_from_text:
        log.warning(
            "%s: %d of %d answers were read from the text, not from log-probabilities (the "
            "server sent none for them): their P(Yes) is 0 or 1, stored with method "
            "'zero-shot-text' and answer_mass NULL",
            scorer.model_id,
            total.text_answers,
            total.answers,
        )


def _score_batch(
    db: str | Path,
    scorer: Scorer,
    batch: pd.DataFrame,
    head: CalibrationHead | None,
    *,
    run_id: str,
) -> _BatchOutcome:
    """Score one batch, store the tasks that were scored and record the others as failed.

    ScoringRefusedError is not caught: the run stops on it.
    """
    from jobimpact.scoring.base import IncompleteBatchError, TaskPrompt

    prompts = [
        TaskPrompt(occupation=o, task=t, task_id=str(i))
        for i, o, t in zip(batch["task_id"], batch["occupation"], batch["task"], strict=True)
    ]
    results: list[TaskScore | None]
    try:
        results = list(scorer.score(prompts, batch_size=len(prompts)))
        reasons: list[str | None] = [None] * len(results)
    except IncompleteBatchError as incomplete:
        results, reasons = incomplete.scores, incomplete.reasons
    except ScoringRefusedError:
        raise
    except ScoringError as failure:
        results, reasons = [None] * len(prompts), [str(failure)] * len(prompts)
    for i, (prompt, scored) in enumerate(zip(prompts, results, strict=True)):
        problem = _result_problem(scorer.model_id, prompt.task_id, scored)
        if problem:
            results[i], reasons[i] = None, problem
    kept = [i for i, scored in enumerate(results) if scored is not None]
    failed = [i for i in range(len(results)) if results[i] is None]
    if failed:
        _record_failures(db, scorer, batch.iloc[failed], [reasons[i] or "" for i in failed], run_id)
    answers = [r.answers for r in results if r is not None]
    if kept:
        stored = [r for r in results if r is not None]
        check_results(stored, model_id=scorer.model_id)
        _store(db, scorer, batch.iloc[kept], stored, head, run_id)
    return _BatchOutcome(
        scored=len(kept),
        failed=len(failed),
        text_answers=sum(a.from_text for task in answers for a in task.values()),
        answers=sum(len(task) for task in answers),
        first_failure=reasons[failed[0]] if failed else None,
    )


def _result_problem(model_id: str, task_id: str | None, result: TaskScore | None) -> str:
    """Why a backend's result must not be stored ('got X, expected Y'), or ''."""
    import numpy as np

    from jobimpact.scoring.base import answer_problem

    if result is None:
        return ""
    for question, answer in result.answers.items():
        problem = answer_problem(answer.p_yes, answer.answer_mass, from_text=answer.from_text)
        if problem:
            return f"{model_id}, task {task_id}, question {question!r}: {problem}"
    if result.feature is not None:
        bad = int(np.size(result.feature) - np.isfinite(result.feature).sum())
        if bad:
            return (
                f"{model_id}, task {task_id}: got a feature vector with {bad} non-finite "
                "values, expected finite numbers"
            )
    return ""


def _record_failures(
    db: str | Path, scorer: Scorer, batch: pd.DataFrame, reasons: list[str], run_id: str
) -> None:
    """Record why each of these tasks could not be scored, in one transaction."""
    from jobimpact.store import open_store
    from jobimpact.store import scores as store_scores

    with open_store(db) as con:
        store_scores.record_failures(
            con,
            run_id=run_id,
            task_ids=batch["task_id"].tolist(),
            model_id=scorer.model_id,
            rubric_hash=scorer.rubric.hash,
            reasons=reasons,
        )
    log.warning("%d tasks of a batch failed; first: %s", len(reasons), reasons[0])


def _store(
    db: str | Path,
    scorer: Scorer,
    batch: pd.DataFrame,
    results: list[TaskScore],
    head: CalibrationHead | None,
    run_id: str,
) -> None:
    """Write the scores (and features, and the head's scores) of these tasks at once."""
    from jobimpact.pipeline.calibrate import calibrated_rows
    from jobimpact.store import open_store
    from jobimpact.store import scores as store_scores

    rows = store_scores.task_score_rows(
        batch,
        [
            {q: (a.p_yes, None if a.from_text else a.answer_mass) for q, a in r.answers.items()}
            for r in results
        ],
        model_id=scorer.model_id,
        rubric_hash=scorer.rubric.hash,
        head_id="",
        run_id=run_id,
    )
    vectors = [r.feature for r in results if r.feature is not None]
    feature_rows = None
    if len(vectors) == len(results):
        feature_rows = store_scores.feature_rows(
            batch,
            vectors,
            model_id=scorer.model_id,
            rubric_hash=scorer.rubric.hash,
            feature_spec=scorer.feature_spec,
            run_id=run_id,
        )
        if head is not None:
            featured = batch.assign(vector=pd.Series(vectors, index=batch.index, dtype=object))
            rows = pd.concat([rows, calibrated_rows(head, featured, run_id=run_id)])
    with open_store(db) as con:
        store_scores.write_score_batch(con, rows, feature_rows)


def check_results(results: Sequence[TaskScore], *, model_id: str) -> None:
    """Refuse a batch no working model gives, before anything of it is stored.

    Each answer's values are checked where it is made (a malformed answer fails its own
    task); what is left to see is the batch as a whole: every P(Yes) exactly 0.5 (a model
    whose Yes and No logits are always equal reads nothing) or feature values above
    :data:`MAX_FEATURE`. Damaged weights give these, and storing them under the model's id
    would make later runs skip the tasks, so the run stops
    (:class:`~jobimpact.errors.ScoringError`) instead.
    """
    p_yes = [a.p_yes for r in results for a in r.answers.values() if not a.from_text]
    problem = None
    if p_yes and all(p == 0.5 for p in p_yes):
        problem = f"P(Yes) exactly 0.5 for every answer of {len(results)} tasks"
    for result in results:
        if result.feature is not None:
            largest = float(np.abs(np.asarray(result.feature, dtype=np.float64)).max(initial=0.0))
            if not math.isfinite(largest) or largest > MAX_FEATURE:
                problem = f"a feature value of {largest:.3g} for task {result.task_id}"
                break
    if problem is not None:
        raise ScoringError(
            f"model {model_id}: got {problem}, expected probabilities that vary and features "
            f"below {MAX_FEATURE:g}; nothing of this batch was stored (check the model's "
            "files, or the server behind it)"
        )
