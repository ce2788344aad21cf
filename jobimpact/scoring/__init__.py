"""LLM scoring of O*NET tasks: rubric, backends, prefix-tree engine, model registry.

Importing this package is light: torch and transformers load only when the
``transformers`` backend builds a model.
"""

from __future__ import annotations

from jobimpact.scoring.base import (
    BACKENDS,
    QuestionScore,
    Scorer,
    TaskPrompt,
    TaskScore,
    available_backends,
    features_to_array,
    get_backend,
    prompt_key,
    register_backend,
    scores_to_frame,
)
from jobimpact.scoring.models import DEFAULT_MODEL, MODELS, ModelRef, resolve_model
from jobimpact.scoring.rubric import Question, Rubric, available_rubrics, load_rubric

__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL",
    "MODELS",
    "ModelRef",
    "Question",
    "QuestionScore",
    "Rubric",
    "Scorer",
    "TaskPrompt",
    "TaskScore",
    "available_backends",
    "available_rubrics",
    "features_to_array",
    "get_backend",
    "load_rubric",
    "prompt_key",
    "register_backend",
    "resolve_model",
    "scores_to_frame",
]
