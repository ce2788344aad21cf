"""Sentence embeddings of task statements: the Embedder interface, deduplication, the
cache protocol, and the registry of embedders.

An :class:`Embedder` has one abstract method, :meth:`Embedder.encode`, that turns a
batch of texts into L2-normalised float32 rows. Everything else lives in
:func:`embed_texts`: identical texts are embedded once (keyed by the SHA-256 of their
UTF-8 bytes), texts already in an :class:`EmbeddingCache` are not embedded again, the
rest go to the model in length-sorted batches (so a batch holds texts of similar length
and little padding), and the output rows follow the input order.

Embedders register under a name in :data:`EMBEDDERS` (:func:`register_embedder`), the
same :class:`~jobimpact.registry.Registry` the scoring backends use; the built-ins
(``sentence-transformers``, ``fake``) are imported on first use, and packages can
advertise one through the ``jobimpact.embedders`` entry-point group.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from jobimpact.errors import ConfigError, DataError, EmbeddingError, StoreError
from jobimpact.registry import Registry

__all__ = [
    "EMBEDDERS",
    "ENTRY_POINT_GROUP",
    "Embedder",
    "EmbeddingCache",
    "MemoryEmbeddingCache",
    "available_embedders",
    "embed_texts",
    "get_embedder",
    "register_embedder",
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
    EmbeddingError
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
        raise EmbeddingError(
            f"embedder {embedder.model_id!r}: got output of shape {out.shape}, "
            f"expected ({len(texts)}, dimension)"
        )
    if not np.isfinite(out).all():
        raise EmbeddingError(f"embedder {embedder.model_id!r}: got NaN or inf, expected finite")
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

EMBEDDERS: Registry[Embedder] = Registry(
    "embedder",
    Embedder,
    entry_point_group=ENTRY_POINT_GROUP,
    builtins={
        "fake": "jobimpact.embedding.fake",
        "sentence-transformers": "jobimpact.embedding.sentence_transformers_backend",
    },
    name_attribute="embedder_name",
)
#: Register an Embedder class (or a factory returning one): ``@register_embedder("x")``.
register_embedder = EMBEDDERS.register


def available_embedders() -> list[str]:
    """Return the embedder names that :func:`get_embedder` knows."""
    return EMBEDDERS.names()


def get_embedder(name: str, **params: Any) -> Embedder:
    """Create the embedder registered as ``name``.

    Parameters
    ----------
    name : str
        ``sentence-transformers``, ``fake`` or any registered name.
    **params
        Keyword arguments for the embedder (e.g. ``model=``, ``dimension=``).

    Raises
    ------
    ConfigError
        When no embedder has that name, or it does not take one of ``params``.
    """
    return EMBEDDERS.create(name, **params)
