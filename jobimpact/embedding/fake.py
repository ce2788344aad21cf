"""The ``fake`` embedder: hashed bag of words into a fixed dimension. Deterministic,
instant, and texts that share words get similar vectors. For tests and dry runs only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from jobimpact.embedding.base import Embedder, FloatArray, register_embedder
from jobimpact.errors import ConfigError

__all__ = ["FakeEmbedder"]

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
