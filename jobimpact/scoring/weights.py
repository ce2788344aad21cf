"""A GGUF model's weights, dequantised once and kept in the cache folder as safetensors.

transformers dequantises a GGUF file to float tensors on every load (about 35 s for the
default model on 2 cores). The float weights are the same every time, so the first load
saves them (with the config and tokenizer) to ``<cache>/converted/<name>-<key>/``, and
later loads read that folder (a few seconds). ``key`` covers what the conversion depends
on: the GGUF file's sha256 and the transformers and gguf versions. The saved weights are
checked against the sha256 recorded when they were written, through a stamp that any
change to the file invalidates (:mod:`jobimpact.scoring.stamps`); a folder that fails the
check is converted again. Only models whose GGUF checksum is known (the registered ones)
are cached: their identity, and so the scores' provenance, does not change.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from jobimpact.scoring.models import ModelRef, cache_root
from jobimpact.scoring.stamps import sha256_of, verified, write_stamp

__all__ = ["converted_folder", "load_cached"]

log = logging.getLogger(__name__)

WEIGHTS = "model.safetensors"
MANIFEST = "jobimpact-conversion.json"
Loader = Callable[[], tuple[Any, Any]]


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "none"


def converted_folder(
    ref: ModelRef, *, dtype: str, cache_dir: str | Path | None = None
) -> Path | None:
    """Where the converted weights of ``ref`` in ``dtype`` are kept, or None when it is not
    cached (a model without a known GGUF checksum)."""
    if ref.gguf_file is None or ref.sha256 is None:
        return None
    what = [ref.sha256, dtype, _version("transformers"), _version("gguf")]
    key = hashlib.sha256(json.dumps(what).encode()).hexdigest()[:16]
    return cache_root(cache_dir) / "converted" / f"{ref.name}-{key}"


def _intact(folder: Path) -> bool:
    """The folder holds weights matching the checksum recorded when they were written."""
    try:
        expected = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return verified(folder / WEIGHTS, str(expected))


def _save(model: Any, tokenizer: Any, folder: Path, ref: ModelRef) -> None:
    """Write the float weights, config and tokenizer to ``folder`` atomically."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        # transformers refuses to save a GGUF-loaded model although its weights are floats
        # by now: clear the quantizer's marks first.
        model.hf_quantizer = None
        model.is_quantized = False
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        digest = sha256_of(staging / WEIGHTS)
        manifest = {"sha256": digest, "source": ref.gguf_file, "source_sha256": ref.sha256}
        (staging / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(staging, folder)
        write_stamp(folder / WEIGHTS, digest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_cached(
    ref: ModelRef,
    *,
    dtype: str,
    load_gguf: Loader,
    cache_dir: str | Path | None = None,
) -> tuple[Any, Any]:
    """(model, tokenizer) from the converted folder of ``ref``, converting it first when
    it is missing or fails its check; ``load_gguf`` loads from the GGUF file.

    A cache folder that cannot be written (read-only home, full disk) is not an error:
    the model is used as loaded from the GGUF, and the next load converts again.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = converted_folder(ref, dtype=dtype, cache_dir=cache_dir)
    if folder is None:
        return load_gguf()
    if _intact(folder):
        tokenizer = AutoTokenizer.from_pretrained(folder)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, dtype))
        return model, tokenizer
    model, tokenizer = load_gguf()
    try:
        _save(model, tokenizer, folder, ref)
    except OSError as error:
        log.warning("converted weights not cached in %s: %s", folder, error)
    return model, tokenizer
