"""Scoring backend for local causal LMs loaded with Hugging Face transformers.

The model can be a registered name (:data:`jobimpact.scoring.models.MODELS`), a folder, a
``.gguf`` file (dequantised to float on load) or a hub id. torch and transformers are
imported only when a model is loaded. Scoring goes through
:class:`~jobimpact.scoring.engine.PrefixTreeEngine`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jobimpact.errors import ConfigError, ScoringError
from jobimpact.extras import require
from jobimpact.scoring.base import Scorer, TaskPrompt, TaskScore, register_backend
from jobimpact.scoring.engine import EngineStats, PrefixTreeEngine
from jobimpact.scoring.models import DEFAULT_MODEL, ModelRef, resolve_model
from jobimpact.scoring.rubric import Rubric

__all__ = ["TransformersScorer", "load_model"]

_DTYPES = ("float32", "bfloat16", "float16")


def load_model(
    ref: ModelRef, *, dtype: str = "float32", device: str = "cpu", threads: int | None = None
) -> tuple[Any, Any]:
    """Load a causal LM and its tokenizer.

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
    try:
        tokenizer = AutoTokenizer.from_pretrained(ref.location, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(
            ref.location, dtype=getattr(torch, dtype), **kwargs
        )
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
    """Score tasks with a local causal LM via the prefix-tree engine.

    Parameters
    ----------
    model : str, Path or ModelRef
        Registered name, folder, ``.gguf`` file or hub id; default
        :data:`~jobimpact.scoring.models.DEFAULT_MODEL`.
    rubric : Rubric or str, optional
        Rubric or its name/path; the packaged default when omitted.
    layer : int, optional
        Hidden layer for the feature vector; two thirds of the depth by default.
    batch_size : int
        Tasks per forward pass.
    dtype, device, threads
        See :func:`load_model`.
    use_chat_template : bool, optional
        Use the model's chat template (default: when it has one).
    cache_dir : str or Path, optional
        Where split registered models are joined.
    questions : sequence of str, optional
        Rubric questions to ask zero-shot (default: all); see
        :class:`~jobimpact.scoring.engine.PrefixTreeEngine`.
    """

    def __init__(
        self,
        *,
        model: str | Path | ModelRef = DEFAULT_MODEL,
        rubric: Rubric | str | None = None,
        layer: int | None = None,
        batch_size: int = 16,
        dtype: str = "float32",
        device: str = "cpu",
        threads: int | None = None,
        use_chat_template: bool | None = None,
        cache_dir: str | Path | None = None,
        questions: Sequence[str] | None = None,
    ) -> None:
        super().__init__(rubric=rubric)
        self.ref = resolve_model(model, cache_dir=cache_dir)
        lm, tokenizer = load_model(self.ref, dtype=dtype, device=device, threads=threads)
        self.engine = PrefixTreeEngine(
            lm,
            tokenizer,
            self.rubric,
            layer=layer,
            batch_size=batch_size,
            use_chat_template=use_chat_template,
            questions=questions,
        )

    @property
    def model_id(self) -> str:
        """Model name (with checksum prefix when known) and feature layer."""
        return f"{self.ref.model_id}#layer={self.engine.layer}"

    @property
    def feature_dim(self) -> int:
        """Hidden size of the model."""
        return self.engine.feature_dim

    @property
    def stats(self) -> EngineStats:
        """Token counts computed so far."""
        return self.engine.stats

    def score_batch(self, items: Sequence[TaskPrompt]) -> list[TaskScore]:
        """Score tasks with the prefix-tree engine."""
        return self.engine.score(items)

    def score_naive(self, items: Sequence[TaskPrompt]) -> list[TaskScore]:
        """Score tasks one full prompt at a time (reference path, slow)."""
        return self.engine.score_naive(items)
