"""Settings resolved once: command-line argument > ``JOBIMPACT_*`` environment > default."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB = Path("data") / "jobimpact.duckdb"
DEFAULT_DATA_DIR = Path("data")
DEFAULT_ONET_VERSION = "29.3"
DEFAULT_OEWS_VERSION = "M2024"

ENV_DB = "JOBIMPACT_DB"
ENV_DATA_DIR = "JOBIMPACT_DATA_DIR"
ENV_MIRROR = "JOBIMPACT_MIRROR"


def resolve_db(path: str | Path | None = None) -> Path:
    """Return the store path: ``path``, else ``$JOBIMPACT_DB``, else ``data/jobimpact.duckdb``."""
    return Path(path or os.environ.get(ENV_DB) or DEFAULT_DB)


def resolve_data_dir(path: str | Path | None = None) -> Path:
    """Return the data folder: ``path``, else ``$JOBIMPACT_DATA_DIR``, else ``data``."""
    return Path(path or os.environ.get(ENV_DATA_DIR) or DEFAULT_DATA_DIR)


def resolve_mirror(path: str | Path | None = None) -> Path | None:
    """Return the mirror folder to read sources from, or None to use the official URLs."""
    value = path or os.environ.get(ENV_MIRROR)
    return Path(value) if value else None


def raw_dir(data_dir: Path, source: str, version: str) -> Path:
    """Where a fetched source lives: ``<data_dir>/raw/<source>/<version>/``."""
    return data_dir / "raw" / source / version
