"""Sentence embeddings of task statements, with deduplication, a pluggable cache and a
registry of embedders (see :mod:`jobimpact.embedding.base`).

Built-ins, imported on first use:

``sentence-transformers``
    Any sentence-transformers model; the default is the embedded all-MiniLM-L6-v2.
``fake``
    Hashed bag of words: deterministic and instant, for tests and dry runs.
"""

from __future__ import annotations

from jobimpact.embedding.base import (
    EMBEDDERS,
    ENTRY_POINT_GROUP,
    Embedder,
    EmbeddingCache,
    MemoryEmbeddingCache,
    available_embedders,
    embed_texts,
    get_embedder,
    register_embedder,
    text_hash,
)

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
