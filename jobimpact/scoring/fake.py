"""A deterministic, instant scorer for tests and dry runs.

Probabilities come from a keyword score plus a hash of the text: tasks about
information work (analyse, write, report …) get high exposure, hands-on tasks
(lift, repair, drive …) get low exposure, so aggregates built on fake scores look
like real ones. Nothing here means anything about real exposure.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

import numpy as np

from jobimpact.errors import ConfigError
from jobimpact.scoring.base import QuestionScore, Scorer, TaskPrompt, TaskScore, register_backend
from jobimpact.scoring.rubric import Rubric

__all__ = ["FakeScorer", "keyword_score"]

# Word stems; a word counts when it starts with one of them.
_INFO = (
    "analy",
    "write",
    "writ",
    "report",
    "review",
    "prepar",
    "record",
    "document",
    "compil",
    "calculat",
    "plan",
    "research",
    "draft",
    "edit",
    "translat",
    "summar",
    "schedul",
    "evaluat",
    "read",
    "code",
    "program",
    "design",
    "consult",
    "advis",
    "negotiat",
    "budget",
    "forecast",
    "correspond",
    "email",
    "data",
    "monitor",
    "audit",
    "assess",
    "develop",
    "communicat",
)
_PHYSICAL = (
    "lift",
    "repair",
    "driv",
    "install",
    "clean",
    "operat",
    "load",
    "unload",
    "weld",
    "cut",
    "assembl",
    "lay",
    "carry",
    "climb",
    "dig",
    "paint",
    "mov",
    "wash",
    "cook",
    "feed",
    "bath",
    "groom",
    "harvest",
    "plant",
    "fix",
    "mount",
    "drill",
    "sand",
    "pour",
    "lubricat",
    "inject",
    "bandag",
    "massag",
    "restrain",
    "patrol",
    "deliver",
)
# Per question: intercept, slope on the keyword score, noise scale (log-odds units).
_SHAPE = {
    "direct": (-0.2, 1.3, 0.8),
    "software": (0.1, 1.3, 0.8),
    "automation": (-1.3, 1.0, 0.7),
    "creation": (-0.6, 0.6, 0.9),
}
_WORD = re.compile(r"[a-z]+")


def keyword_score(text: str) -> float:
    """Return (#information words − #physical words), scaled into about [-3, 3]."""
    words: list[str] = _WORD.findall(text.lower())
    info = sum(w.startswith(_INFO) for w in words)
    phys = sum(w.startswith(_PHYSICAL) for w in words)
    return max(-3.0, min(3.0, 1.5 * (info - phys)))


def _unit(*parts: str) -> float:
    """Return a deterministic number in [0, 1) from the hash of ``parts``."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def _sigmoid(x: float) -> float:
    """Logistic function."""
    return float(1.0 / (1.0 + math.exp(-x)))


@register_backend("fake")
class FakeScorer(Scorer):
    """Deterministic fake scorer: same text → same probabilities and features.

    Parameters
    ----------
    rubric : Rubric or str, optional
        Rubric whose question keys are answered (unknown keys get a neutral shape).
    feature_dim : int
        Length of the feature vector; its first entry is the keyword score, so a
        classifier trained on fake features can learn something.
    seed : int
        Changes every hash-derived number.
    """

    def __init__(
        self, *, rubric: Rubric | str | None = None, feature_dim: int = 8, seed: int = 0
    ) -> None:
        super().__init__(rubric=rubric)
        if feature_dim < 1:
            raise ConfigError(f"feature_dim: got {feature_dim}, expected a positive integer")
        self._dim = feature_dim
        self._seed = str(seed)

    @property
    def model_id(self) -> str:
        """Identify the fake model and its seed."""
        return f"fake:seed={self._seed}"

    @property
    def feature_dim(self) -> int:
        """Length of the feature vectors."""
        return self._dim

    def score_batch(self, items: Sequence[TaskPrompt]) -> list[TaskScore]:
        """Score each task from its keywords and text hash."""
        return [self._score_one(item) for item in items]

    def _score_one(self, item: TaskPrompt) -> TaskScore:
        """Score one task."""
        text = f"{item.occupation}\n{item.task}"
        kw = keyword_score(item.task)
        answers = {}
        for key in self.rubric.keys:
            a, b, noise = _SHAPE.get(key, (0.0, 0.5, 1.0))
            u = _unit(self._seed, key, text)
            logit = a + b * kw + noise * (2.0 * u - 1.0) * 1.7
            mass = 0.6 + 0.39 * _unit(self._seed, key, "mass", text)
            answers[key] = QuestionScore(p_yes=_sigmoid(logit), answer_mass=mass)
        rng = np.random.default_rng(int(_unit(self._seed, "feature", text) * 2**63))
        feature = rng.standard_normal(self._dim).astype(np.float32)
        feature[0] = kw
        return TaskScore(task_id=item.task_id, answers=answers, feature=feature)
