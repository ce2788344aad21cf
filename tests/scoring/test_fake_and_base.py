from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from jobimpact.errors import ConfigError, ScoringError
from jobimpact.measures import MEASURE_NAMES as MEASURES
from jobimpact.measures import ROLES as REQUIRED_KEYS
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
    scores_to_frame,
)
from jobimpact.scoring.fake import FakeScorer, keyword_score


def test_fake_is_deterministic_and_plausible(tasks: list[TaskPrompt]) -> None:
    scorer = get_backend("fake")
    assert isinstance(scorer, FakeScorer) and scorer.backend_name == "fake"
    first, again = scorer.score(tasks), FakeScorer().score(tasks)
    assert [s.p_yes() for s in first] == [s.p_yes() for s in again]
    for s in first:
        assert set(s.answers) == set(REQUIRED_KEYS)
        for a in s.answers.values():
            assert 0.0 < a.p_yes < 1.0 and 0.0 < a.answer_mass <= 1.0
        assert s.feature is not None and s.feature.shape == (8,)
    other_seed = FakeScorer(seed=1).score(tasks)
    assert [s.p_yes() for s in other_seed] != [s.p_yes() for s in first]


def test_fake_information_work_scores_above_physical_work() -> None:
    office = [
        "Analyze sales data and write a monthly report.",
        "Review contracts and prepare summaries for clients.",
        "Research market trends and draft forecasts.",
        "Compile records and document audit findings.",
    ]
    manual = [
        "Lift heavy boxes and load them onto trucks.",
        "Repair engines and install new parts.",
        "Drive a forklift and clean the loading dock.",
        "Dig trenches and pour concrete.",
    ]
    scorer = FakeScorer()
    for seed_word in ("a", "b", "c"):
        hi = scorer.score([TaskPrompt(f"Clerk {seed_word}", t) for t in office])
        lo = scorer.score([TaskPrompt(f"Laborer {seed_word}", t) for t in manual])
        for key in ("direct", "software", "automation"):
            assert (
                np.mean([s.answers[key].p_yes for s in hi])
                > np.mean([s.answers[key].p_yes for s in lo]) + 0.3
            )
    assert keyword_score("Analyze and write reports") > 0 > keyword_score("Lift and repair")


def test_score_keeps_order_chunks_and_reports_progress(tasks: list[TaskPrompt]) -> None:
    seen: list[int] = []
    scores = FakeScorer().score(tasks, batch_size=3, progress=seen.append)
    assert [s.task_id for s in scores] == [t.task_id for t in tasks]
    assert seen == [3, 6, 8]
    with pytest.raises(ConfigError, match="batch_size: got 0"):
        FakeScorer().score(tasks, batch_size=0)


def test_score_rejects_empty_task() -> None:
    with pytest.raises(ScoringError, match="task x: got an empty occupation or task text"):
        FakeScorer().score([TaskPrompt("Cook", "  ", task_id="x")])


def test_registry_custom_backend_and_errors(tasks: list[TaskPrompt]) -> None:
    class Constant(Scorer):
        def __init__(self, *, value: float = 0.5) -> None:
            super().__init__()
            self.value = value

        def score_batch(self, items: Sequence[TaskPrompt]) -> list[TaskScore]:
            answers = {k: QuestionScore(self.value, 1.0) for k in self.rubric.keys}
            return [TaskScore(t.task_id, answers) for t in items]

    class Short(Constant):
        def score_batch(self, items: Sequence[TaskPrompt]) -> list[TaskScore]:
            return super().score_batch(items)[:-1]

    with BACKENDS.registered("test-constant", Constant):
        scorer = get_backend("test-constant", value=0.25)
        assert scorer.backend_name == "test-constant" and "test-constant" in available_backends()
        assert {"fake", "transformers"} <= set(available_backends())
        assert scorer.score(tasks[:2])[0].p_yes()["direct"] == 0.25
    with pytest.raises(ConfigError, match="scoring backend: got 'nope', expected one of"):
        get_backend("nope")

    with (
        BACKENDS.registered("test-not-a-scorer", lambda: object()),
        pytest.raises(ConfigError, match="got a object, expected a Scorer"),
    ):
        get_backend("test-not-a-scorer")

    with (
        BACKENDS.registered("test-short", Short),
        pytest.raises(ScoringError, match="got 1 results, expected 2"),
    ):
        get_backend("test-short").score(tasks[:2])
    assert not {"test-constant", "test-not-a-scorer", "test-short"} & set(available_backends())


def test_frame_and_features(tasks: list[TaskPrompt]) -> None:
    scorer = FakeScorer(feature_dim=5)
    scores = scorer.score(tasks)
    frame = scores_to_frame(scores, rubric=scorer.rubric)
    assert list(frame["task_id"]) == [t.task_id for t in tasks]
    assert {f"p_{k}" for k in REQUIRED_KEYS} | set(MEASURES) <= set(frame.columns)
    assert frame.loc[2, "p_direct"] == scores[2].answers["direct"].p_yes
    assert frame.loc[2, "alpha"] == scores[2].answers["direct"].p_yes
    feats = features_to_array(scores)
    assert feats.shape == (8, 5) and feats.dtype == np.float32
    bare = [TaskScore(s.task_id, s.answers) for s in scores]
    with pytest.raises(ScoringError, match="without a feature vector"):
        features_to_array(bare)


def test_prompt_key_depends_on_text_model_and_rubric() -> None:
    a = TaskPrompt("Cook", "Cook food.", task_id="1")
    key = prompt_key(a, model_id="m", rubric_hash="h")
    assert key == prompt_key(
        TaskPrompt("Cook", " Cook food. ", task_id="2"), model_id="m", rubric_hash="h"
    )
    assert key != prompt_key(a, model_id="m2", rubric_hash="h")
    assert key != prompt_key(a, model_id="m", rubric_hash="h2")
    assert key != prompt_key(a, model_id="m", rubric_hash="h", extra="layer=3")
    assert key != prompt_key(TaskPrompt("Chef", "Cook food."), model_id="m", rubric_hash="h")


def test_importing_scoring_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = "import jobimpact.scoring, jobimpact.scoring.fake, sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
