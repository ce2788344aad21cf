"""Defaults and environment variable names (the CLI resolves argument > environment > default)."""

from __future__ import annotations

from pathlib import Path

DEFAULT_DB = Path("data") / "jobimpact.duckdb"
DEFAULT_DATA_DIR = Path("data")
DEFAULT_ONET_VERSION = "29.3"
DEFAULT_OEWS_VERSION = "M2024"

ENV_DB = "JOBIMPACT_DB"
ENV_DATA_DIR = "JOBIMPACT_DATA_DIR"
ENV_MIRROR = "JOBIMPACT_MIRROR"


def raw_dir(data_dir: Path, source: str, version: str) -> Path:
    """Where a fetched source lives: ``<data_dir>/raw/<source>/<version>/``."""
    return data_dir / "raw" / source / version
