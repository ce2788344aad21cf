"""Scoring backend for local causal LMs loaded with Hugging Face transformers.

The model can be a registered name (:data:`jobimpact.scoring.models.MODELS`), a folder, a
``.gguf`` file (dequantised to float on load) or a hub id. torch and transformers are
imported only when a model is loaded. Questions asked zero-shot go through
:class:`~jobimpact.scoring.engine.PrefixTreeEngine`; features for a calibration head alone
through :class:`~jobimpact.scoring.feature_pass.FeaturePass`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from jobimpact.errors import ConfigError, ScoringError
from jobimpact.extras import require
from jobimpact.scoring.base import Scorer, TaskPrompt, TaskScore, register_backend
from jobimpact.scoring.engine import EngineStats, PrefixTreeEngine
from jobimpact.scoring.feature_pass import FeaturePass
from jobimpact.scoring.models import DEFAULT_MODEL, MODELS, ModelInfo, ModelRef, resolve_model
from jobimpact.scoring.rubric import Rubric
from jobimpact.scoring.weights import load_cached

if TYPE_CHECKING:
    from jobimpact.embedding import Embedder

__all__ = ["REGISTERED", "TransformersScorer", "load_model"]

#: ``embedding=REGISTERED``: the sentence embedding registered with the model, if any.
REGISTERED = "registered"

_DTYPES = ("float32", "bfloat16", "float16")


def load_model(
    ref: ModelRef,
    *,
    dtype: str = "float32",
    device: str = "cpu",
    threads: int | None = None,
    cache_dir: str | Path | None = None,
) -> tuple[Any, Any]:
    """Load a causal LM and its tokenizer.

    A registered GGUF model is dequantised once and its float weights kept in the cache
    folder (:mod:`jobimpact.scoring.weights`): later loads take seconds.

    Parameters
    ----------
    ref : ModelRef
        From :func:`~jobimpact.scoring.models.resolve_model`.
    dtype : str
        ``float32`` (default), ``bfloat16`` or ``float16``.
    device : str
        torch device, e.g. ``cpu`` or ``cuda``.
    threads : int, optional
        torch CPU threads; torch's default (all cores) when omitted.
    cache_dir : str or Path, optional
        Where converted weights are kept; see :func:`~jobimpact.scoring.models.cache_root`.

    Returns
    -------
    (model, tokenizer)

    Raises
    ------
    ConfigError
        For an unknown dtype.
    ScoringError
        When transformers cannot load the model.
    """
    if dtype not in _DTYPES:
        raise ConfigError(f"dtype: got {dtype!r}, expected one of {', '.join(_DTYPES)}")
    torch = require("torch", purpose="the transformers backend")
    transformers = require("transformers", purpose="the transformers backend")
    AutoModelForCausalLM, AutoTokenizer = (
        transformers.AutoModelForCausalLM,
        transformers.AutoTokenizer,
    )
    if threads is not None:
        torch.set_num_threads(threads)
    kwargs: dict[str, Any] = {"gguf_file": ref.gguf_file} if ref.gguf_file else {}

    def from_source() -> tuple[Any, Any]:
        tokenizer = AutoTokenizer.from_pretrained(ref.location, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(
            ref.location, dtype=getattr(torch, dtype), **kwargs
        )
        return model, tokenizer

    try:
        model, tokenizer = load_cached(ref, dtype=dtype, load_gguf=from_source, cache_dir=cache_dir)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScoringError(
            f"model {ref.name!r}: could not load from {ref.location} ({first}); "
            "expected a causal LM folder, GGUF file or reachable hub id"
        ) from exc
    # typed loosely: transformers' own hints do not cover a loaded model's methods
    loaded: Any = model
    loaded.to(device)
    loaded.eval()
    return loaded, tokenizer


@register_backend("transformers")
class TransformersScorer(Scorer):
    """Score tasks with a local causal LM: the feature pass, or the prefix-tree engine.

    Asking no question (``questions=[]``), the scorer only computes each task's feature
    vector with :class:`~jobimpact.scoring.feature_pass.FeaturePass`, and a calibration
    head gives every probability. Asking questions, it runs
    :class:`~jobimpact.scoring.engine.PrefixTreeEngine`, which reads P(Yes) from the
    next-token distribution and computes the same features along the way.

    Parameters
    ----------
    model : str, Path or ModelRef
        Registered name, folder, ``.gguf`` file or hub id; default
        :data:`~jobimpact.scoring.models.DEFAULT_MODEL`.
    rubric : Rubric or str, optional
        Rubric or its name/path; the packaged default when omitted.
    layer : int, optional
        Block whose task-token mean is the feature vector; the registered model's
        feature layer, else two thirds of the depth.
    compute : {"float32", "int8", "int8-partial"}, optional
        Precision of the feature pass (the engine runs float32); the registered model's by
        default. It is part of the model id: features of another precision differ.
    questions : sequence of str, optional
        Rubric questions to ask zero-shot. By default none when a calibration head shipped
        with jobimpact answers every question for these features (the feature pass), else
        all of them.
    embedding : str or None, optional
        A sentence-embedding model (see :mod:`jobimpact.embedding`) whose vector of the
        task statement is appended to each feature vector; ``"registered"`` (default) takes
        the registered model's, None appends nothing. Heads learn augmentation better from
        both than from the sentence embedding alone (README, "The feature layer").
    batch_size : int
        Tasks per forward pass.
    dtype, device, threads
        See :func:`load_model`.
    use_chat_template : bool, optional
        Use the model's chat template (default: when it has one).
    cache_dir : str or Path, optional
        Where registered models are joined and converted weights kept.
    """

    def __init__(
        self,
        *,
        model: str | Path | ModelRef = DEFAULT_MODEL,
        rubric: Rubric | str | None = None,
        layer: int | None = None,
        compute: str | None = None,
        questions: Sequence[str] | None = None,
        embedding: str | None = REGISTERED,
        batch_size: int = 16,
        dtype: str = "float32",
        device: str = "cpu",
        threads: int | None = None,
        use_chat_template: bool | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        super().__init__(rubric=rubric)
        self.ref = resolve_model(model, cache_dir=cache_dir)
        info = MODELS.get(self.ref.name)
        lm, tokenizer = load_model(
            self.ref, dtype=dtype, device=device, threads=threads, cache_dir=cache_dir
        )
        depth = int(lm.config.get_text_config().num_hidden_layers)
        self.layer = layer if layer is not None else _default_layer(info, depth)
        self.embedder = _embedder(embedding, info)
        self.embedding_cache: Any = None
        if questions is None:
            feature_id = _model_id(
                self.ref, self.layer, _feature_compute(compute, info), self.embedder
            )
            questions = [] if _head_answers_all(feature_id, self.rubric) else None
        self.asked = list(self.rubric.keys if questions is None else questions)
        self.compute = _feature_compute(compute, info) if not self.asked else "float32"
        if self.asked and compute not in (None, "float32"):
            raise ConfigError(
                f"compute: got {compute!r} with questions to ask, expected float32 (only the "
                "feature pass, with no question, runs int8)"
            )
        self.engine: PrefixTreeEngine | None = None
        self.features: FeaturePass | None = None
        if self.asked:
            self.engine = PrefixTreeEngine(
                lm,
                tokenizer,
                self.rubric,
                layer=self.layer,
                batch_size=batch_size,
                use_chat_template=use_chat_template,
                questions=self.asked,
            )
        else:
            self.features = FeaturePass(
                lm,
                tokenizer,
                self.rubric,
                layer=self.layer,
                batch_size=max(batch_size, 32),
                compute=self.compute,
                use_chat_template=use_chat_template,
            )
        self.hidden_size = int(lm.config.get_text_config().hidden_size)

    @property
    def model_id(self) -> str:
        """Model name (with checksum prefix when known), feature layer and precision, and
        the sentence-embedding model appended to the features."""
        return _model_id(self.ref, self.layer, self.compute, self.embedder)

    @property
    def feature_spec(self) -> str:
        """The blocks of a feature vector, in order."""
        spec = f"layer-{self.layer} task-token mean ({self.hidden_size}, {self.compute})"
        if self.embedder is not None:
            spec += f" + {self.embedder.model_id} of the task statement ({self._embedding_dim})"
        return spec

    @property
    def batch_hint(self) -> int:
        """512 tasks for the feature pass (whole occupations share their header and batches
        sort by length), 16 for the engine."""
        return 16 if self.engine is not None else 512

    def use_embedding_cache(self, cache: Any) -> None:
        """Reuse and fill ``cache`` with the task statements' sentence embeddings."""
        self.embedding_cache = cache

    @property
    def questions(self) -> list[str]:
        """The rubric questions asked zero-shot (none: the feature pass)."""
        return list(self.asked)

    @property
    def feature_dim(self) -> int:
        """Hidden size of the model, plus the width of the sentence embedding."""
        return self.hidden_size + self._embedding_dim

    @property
    def _embedding_dim(self) -> int:
        if self.embedder is None:
            return 0
        # the width is known once the embedder has loaded; one text loads it
        return self.embedder.dimension or int(self.embedder.encode(["width"]).shape[1])

    @property
    def stats(self) -> EngineStats:
        """Token counts computed so far by the engine (empty for the feature pass)."""
        return self.engine.stats if self.engine is not None else EngineStats()

    def score_batch(self, items: Sequence[TaskPrompt]) -> list[TaskScore]:
        """Score tasks: features only, or the rubric's questions with the engine."""
        if self.engine is not None:
            scored = self.engine.score(items)
        else:
            assert self.features is not None
            vectors = self.features.features(items)
            scored = [TaskScore(t.task_id, {}, v) for t, v in zip(items, vectors, strict=True)]
        return self._with_embeddings(items, scored)

    def _with_embeddings(
        self, items: Sequence[TaskPrompt], scored: list[TaskScore]
    ) -> list[TaskScore]:
        """Append each task statement's sentence embedding to its feature vector."""
        if self.embedder is None:
            return scored
        embedded = self._embed([item.task for item in items])
        return [
            replace(s, feature=np.concatenate([s.feature, row]).astype(np.float32))
            if s.feature is not None
            else s
            for s, row in zip(scored, embedded, strict=True)
        ]

    def _embed(self, texts: list[str]) -> Any:
        from jobimpact.embedding import embed_texts

        assert self.embedder is not None
        return embed_texts(texts, embedder=self.embedder, cache=self.embedding_cache)

    def score_naive(self, items: Sequence[TaskPrompt]) -> list[TaskScore]:
        """Score tasks one full prompt at a time (reference path of the engine, slow)."""
        if self.engine is None:
            raise ConfigError("score_naive: got a feature-pass scorer, expected questions")
        return self._with_embeddings(items, self.engine.score_naive(items))


def _default_layer(info: ModelInfo | None, depth: int) -> int:
    """The registered feature layer, else two thirds of the depth."""
    if info is not None and info.feature_layer is not None:
        return info.feature_layer
    return (2 * depth) // 3


def _feature_compute(compute: str | None, info: ModelInfo | None) -> str:
    if compute is not None:
        return compute
    return info.feature_compute if info is not None else "float32"


def _model_id(ref: ModelRef, layer: int, compute: str, embedder: Embedder | None) -> str:
    """``<name>@<sha12>#layer=<n>``, ``;int8`` for int8 features, ``+<embedding model>``."""
    suffix = "" if compute == "float32" else f";{compute}"
    embedded = "" if embedder is None else f"+{embedder.model_id}"
    return f"{ref.model_id}#layer={layer}{suffix}{embedded}"


def _embedder(embedding: str | None, info: ModelInfo | None) -> Embedder | None:
    """The sentence embedder whose vectors extend the features (constructing it is cheap:
    the model loads on first use)."""
    from jobimpact.embedding import get_embedder

    if embedding == REGISTERED:
        embedding = info.feature_embedding if info is not None else None
    if embedding is None:
        return None
    return get_embedder("sentence-transformers", model=embedding)


def _head_answers_all(model_id: str, rubric: Rubric) -> bool:
    """A head shipped for these features answers every question of the rubric."""
    from jobimpact.calibration import packaged_heads

    for data in packaged_heads():
        if data["model_id"] == model_id and data["rubric_hash"] == rubric.hash:
            answered = {w["question"] for w in data["weights"]}
            return set(rubric.keys) <= answered
    return False
