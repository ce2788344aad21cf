"""Scorer interface, plain result records, and the registry of scoring backends.

A backend implements one method, :meth:`Scorer.score_batch`. Everything else (input
checks, chunking, turning results into a DataFrame or a feature matrix, cache keys) is
shared code here. Backends register under a name with :func:`register_backend`; the
built-in ones do so exactly like a third-party package would, and third-party packages
can also advertise a backend through the ``jobimpact.scorers`` entry-point group.
"""

from __future__ import annotations

import hashlib
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from jobimpact.errors import ConfigError, ScoringError
from jobimpact.measures import derive_measures
from jobimpact.registry import Registry
from jobimpact.scoring.rubric import DEFAULT_RUBRIC, Rubric, load_rubric

__all__ = [
    "BACKENDS",
    "ENTRY_POINT_GROUP",
    "IncompleteBatchError",
    "QuestionScore",
    "Scorer",
    "TaskPrompt",
    "TaskScore",
    "answer_problem",
    "available_backends",
    "features_to_array",
    "get_backend",
    "prompt_key",
    "register_backend",
    "scores_to_frame",
]

ENTRY_POINT_GROUP = "jobimpact.scorers"
FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class TaskPrompt:
    """One task to score.

    Attributes
    ----------
    occupation : str
        Occupation title, e.g. ``Chief Executives``.
    task : str
        Task statement.
    task_id : str or None
        Caller's identifier, carried through to the result unchanged.
    """

    occupation: str
    task: str
    task_id: str | None = None


@dataclass(frozen=True, slots=True)
class QuestionScore:
    """The answer to one question.

    Every answer is checked when it is made, whatever backend makes it, so that a
    non-finite or impossible value becomes a :class:`ScoringError` (its task or batch
    fails) and never reaches the store.

    Attributes
    ----------
    p_yes : float
        P(Yes) renormalised over the Yes and No answer tokens: a finite number in [0, 1].
    answer_mass : float
        Probability the model put on the Yes and No tokens together before
        renormalising, in [0, 1]; low values mean the model wanted to say something else.
        NaN for an answer read from the text (there was no distribution).
    from_text : bool
        The answer was read from the generated text, not from probabilities: P(Yes) is
        then 0 or 1 and ``answer_mass`` NaN. Stored with ``method = 'zero-shot-text'``.

    Raises
    ------
    ScoringError
        When a value is not finite or lies outside [0, 1].
    """

    p_yes: float
    answer_mass: float
    from_text: bool = False

    def __post_init__(self) -> None:
        problem = answer_problem(self.p_yes, self.answer_mass, from_text=self.from_text)
        if problem:
            raise ScoringError(f"answer: {problem}")


def answer_problem(p_yes: Any, answer_mass: Any, *, from_text: bool) -> str:
    """What is wrong with an answer's values ('got X, expected Y'), or '' when nothing is.

    P(Yes) must be a finite number in [0, 1]; the answer mass too, except for an answer
    read from the text, whose mass is NaN or None (no distribution).
    """
    if not _is_probability(p_yes):
        return f"got P(Yes) {p_yes!r}, expected a finite number in [0, 1]"
    if from_text:
        if answer_mass is None or (_is_number(answer_mass) and math.isnan(answer_mass)):
            return ""
        return f"got answer mass {answer_mass!r} for a text answer, expected NaN (none)"
    if not _is_probability(answer_mass):
        return f"got answer mass {answer_mass!r}, expected a finite number in [0, 1]"
    return ""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool)


def _is_probability(value: Any) -> bool:
    return _is_number(value) and math.isfinite(value) and 0.0 <= value <= 1.0


@dataclass(frozen=True, slots=True)
class TaskScore:
    """The result for one task.

    Attributes
    ----------
    task_id : str or None
        As given in the :class:`TaskPrompt`.
    answers : Mapping[str, QuestionScore]
        Question key → answer, in rubric order.
    feature : ndarray or None
        Per-task feature vector (float32), when the backend produces one.
    """

    task_id: str | None
    answers: Mapping[str, QuestionScore]
    feature: FloatArray | None = field(default=None, compare=False)

    def p_yes(self) -> dict[str, float]:
        """Return question key → P(Yes)."""
        return {key: a.p_yes for key, a in self.answers.items()}


class IncompleteBatchError(ScoringError):
    """Some tasks of a batch could not be scored; the others were, and are kept.

    A backend raises it instead of returning, so that the answers it did get are not
    thrown away with the tasks it could not score.

    Attributes
    ----------
    scores : list of TaskScore or None
        One per task of the batch, in input order; None where the task failed.
    reasons : list of str or None
        One per task: why it failed (one line), None where it was scored.
    """

    def __init__(self, scores: Sequence[TaskScore | None], reasons: Sequence[str | None]) -> None:
        self.scores = list(scores)
        self.reasons = list(reasons)
        failed = [reason for reason in self.reasons if reason is not None]
        first = failed[0] if failed else "no reason given"
        super().__init__(f"{len(failed)} of {len(self.scores)} tasks failed; first: {first}")


class Scorer(ABC):
    """Base class of scoring backends: one abstract method, :meth:`score_batch`.

    Parameters
    ----------
    rubric : Rubric or str, optional
        The rubric or the name/path of one; the packaged default when omitted.
    """

    #: Registered backend name, set by :func:`register_backend`.
    backend_name: str = "unregistered"
    #: True when the backend reads every answer from generated text (no probabilities),
    #: as the HTTP backend does with ``logprobs=False``.
    answers_from_text: bool = False

    def __init__(self, *, rubric: Rubric | str | None = None) -> None:
        self.rubric = (
            rubric if isinstance(rubric, Rubric) else load_rubric(rubric or DEFAULT_RUBRIC)
        )

    @property
    def model_id(self) -> str:
        """Identifier of the model behind the scores, recorded as provenance."""
        return self.backend_name

    @property
    def questions(self) -> list[str]:
        """The rubric questions the backend answers (all by default; none for a backend
        that only computes feature vectors for a calibration head)."""
        return list(self.rubric.keys)

    @property
    def feature_dim(self) -> int | None:
        """Length of the feature vectors, or None when the backend makes none."""
        return None

    @property
    def batch_hint(self) -> int:
        """Tasks per call that suit the backend (the default batch of a scoring run)."""
        return 16

    @property
    def feature_spec(self) -> str:
        """What a feature vector holds, stored with it and with heads fitted on it."""
        return f"{self.backend_name} features;dim={self.feature_dim}"

    def use_embedding_cache(self, cache: Any) -> None:
        """Share a cache of sentence embeddings (an
        :class:`~jobimpact.embedding.EmbeddingCache`) with the run's embed stage. Backends
        whose features include a sentence embedding of the task use it; others ignore it."""
        return None

    @abstractmethod
    def score_batch(self, items: Sequence[TaskPrompt]) -> list[TaskScore]:
        """Score a batch of tasks on every rubric question.

        Parameters
        ----------
        items : sequence of TaskPrompt
            Tasks, already checked by :meth:`score`.

        Returns
        -------
        list of TaskScore
            One per item, in the same order.
        """

    def score(
        self,
        items: Iterable[TaskPrompt],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> list[TaskScore]:
        """Check the tasks and score them in chunks of ``batch_size``.

        Parameters
        ----------
        items : iterable of TaskPrompt
        batch_size : int
            Tasks handed to :meth:`score_batch` at once.
        progress : callable, optional
            Called with the number of tasks done after each chunk.

        Returns
        -------
        list of TaskScore

        Raises
        ------
        IncompleteBatchError
            When some tasks could not be scored: it holds the scores of all the others.
        ScoringError
            When a task is empty or the backend returns the wrong number of results.
        """
        if batch_size < 1:
            raise ConfigError(f"batch_size: got {batch_size}, expected a positive integer")
        tasks = list(items)
        for i, item in enumerate(tasks):
            if not item.task.strip() or not item.occupation.strip():
                raise ScoringError(
                    f"task {item.task_id or i}: got an empty occupation or task text, "
                    "expected both non-empty"
                )
        out: list[TaskScore | None] = []
        reasons: list[str | None] = []
        for start in range(0, len(tasks), batch_size):
            chunk = tasks[start : start + batch_size]
            try:
                scores: Sequence[TaskScore | None] = self.score_batch(chunk)
                failed: Sequence[str | None] = [None] * len(scores)
            except IncompleteBatchError as incomplete:
                # Keep the tasks that were scored and go on with the next chunk.
                scores, failed = incomplete.scores, incomplete.reasons
            if len(scores) != len(chunk):
                raise ScoringError(
                    f"backend {self.backend_name!r}: got {len(scores)} results, "
                    f"expected {len(chunk)}"
                )
            out.extend(scores)
            reasons.extend(failed)
            if progress is not None:
                progress(len(out))
        if any(reason is not None for reason in reasons):
            raise IncompleteBatchError(out, reasons)
        return [score for score in out if score is not None]


def prompt_key(item: TaskPrompt, *, model_id: str, rubric_hash: str, extra: str = "") -> str:
    """Return a content-addressed cache key for scoring ``item`` with a model and rubric.

    Parameters
    ----------
    item : TaskPrompt
    model_id, rubric_hash : str
        What the score depends on besides the text.
    extra : str
        Any further setting the result depends on (e.g. the feature layer).

    Returns
    -------
    str
        Sha256 hex digest; ``task_id`` is not part of it.
    """
    payload = [item.occupation.strip(), item.task.strip(), model_id, rubric_hash, extra]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()


def scores_to_frame(
    scores: Sequence[TaskScore], *, rubric: Rubric, measures: bool = True
) -> pd.DataFrame:
    """Turn results into one row per task.

    Parameters
    ----------
    scores : sequence of TaskScore
    rubric : Rubric
        Gives the question keys and column order.
    measures : bool
        Also add the columns of :func:`~jobimpact.scoring.rubric.derive_measures`
        (needs the four standard questions).

    Returns
    -------
    DataFrame
        ``task_id``, ``p_<key>`` and ``mass_<key>`` per question, then the measures.
    """
    rows: list[dict[str, Any]] = []
    for s in scores:
        row: dict[str, Any] = {"task_id": s.task_id}
        for key in rubric.keys:
            row[f"p_{key}"] = s.answers[key].p_yes
            row[f"mass_{key}"] = s.answers[key].answer_mass
        rows.append(row)
    columns = ["task_id"] + [f"{p}_{k}" for k in rubric.keys for p in ("p", "mass")]
    frame = pd.DataFrame(rows, columns=columns)
    if measures:
        frame = pd.concat([frame, derive_measures(frame)], axis=1)
    return frame


def features_to_array(scores: Sequence[TaskScore]) -> FloatArray:
    """Stack the feature vectors into an (n_tasks, dim) float32 array.

    Raises
    ------
    ScoringError
        When a result has no feature vector or the lengths differ.
    """
    feats = [s.feature for s in scores]
    if any(f is None for f in feats):
        raise ScoringError("features: got a result without a feature vector, expected all")
    if len({f.shape for f in feats if f is not None}) > 1:
        raise ScoringError("features: got vectors of different lengths, expected one length")
    if not feats:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([f for f in feats if f is not None]).astype(np.float32, copy=False)


# --- backend registry -------------------------------------------------------------------

BACKENDS: Registry[Scorer] = Registry(
    "scoring backend",
    Scorer,
    entry_point_group=ENTRY_POINT_GROUP,
    # Built-ins are imported on first use only, so that importing jobimpact stays light.
    builtins={
        "fake": "jobimpact.scoring.fake",
        "http": "jobimpact.scoring.http_backend",
        "transformers": "jobimpact.scoring.transformers_backend",
    },
    name_attribute="backend_name",
)
#: Register a Scorer class (or a factory returning one) under a name: ``@register_backend("x")``.
register_backend = BACKENDS.register


def available_backends() -> list[str]:
    """Return the backend names that :func:`get_backend` knows."""
    return BACKENDS.names()


def get_backend(name: str, **params: Any) -> Scorer:
    """Create the scoring backend registered as ``name``.

    Parameters
    ----------
    name : str
        ``transformers``, ``http``, ``fake`` or any registered name.
    **params
        Keyword arguments for the backend (e.g. ``model=``, ``rubric=``).

    Raises
    ------
    ConfigError
        When no backend has that name or it does not take one of ``params``.
    """
    return BACKENDS.create(name, **params)
