"""Ingest: parse the fetched public sources into the store's reference tables."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from jobimpact.errors import DataError
from jobimpact.sources.base import raw_dir
from jobimpact.sources.checks import sha256_file

__all__ = ["INGESTED_SOURCES", "IngestResult", "build_reference_tables", "run_ingest"]

log = logging.getLogger(__name__)

# Sources whose files ingest reads.
INGESTED_SOURCES = (
    "onet",
    "oews",
    "onet_soc_crosswalk",
    "soc_structure",
    "onet_baseline",
    "onet_soc_2010_crosswalk",
)


@dataclass(frozen=True)
class IngestResult:
    """What an ingest did: whether it wrote, rows per table, employment coverage."""

    changed: bool
    counts: dict[str, int] = field(default_factory=dict)
    coverage: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None


def _fetched_files(data_dir: Path, versions: Mapping[str, str | None]) -> dict[str, list[Path]]:
    """The files of each ingested source as fetched, or a DataError saying what to fetch."""
    from jobimpact.sources import get_source

    found: dict[str, list[Path]] = {}
    for name in INGESTED_SOURCES:
        source = get_source(name)
        version = versions.get(name) or source.default_version
        folder = raw_dir(data_dir, name, version)
        paths = [folder / spec.name for spec in source.files(version) if not spec.optional]
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            raise DataError(
                folder,
                f"got no {', '.join(repr(m) for m in missing)}, expected the fetched "
                f"{name} {version} release; run `jobimpact fetch --source {name}` first",
            )
        found[name] = paths
    return found


def _source_file_records(files: dict[str, list[Path]]) -> pd.DataFrame:
    """One row per input file with its checksum, origin and rows, for the source_files table."""
    from jobimpact.sources import read_manifest
    from jobimpact.store.runs import now

    rows = []
    for name, paths in files.items():
        folder = paths[0].parent
        manifest_path = folder / "manifest.json"
        manifest = read_manifest(manifest_path) if manifest_path.exists() else None
        origin = manifest.origin if manifest else str(folder)
        n_rows = {f.name: f.n_rows for f in manifest.files} if manifest else {}
        rows += [
            {
                "source": name,
                "version": folder.name,
                "file": path.name,
                "origin": origin,
                "sha256": sha256_file(path),
                "n_rows": n_rows.get(path.name),
                "ingested_at": now(),
            }
            for path in paths
        ]
    return pd.DataFrame(rows)


def build_reference_tables(files: dict[str, list[Path]]) -> dict[str, pd.DataFrame]:
    """Parse the fetched files into the reference tables (pure: no store access)."""
    from jobimpact import employment, history, onet

    onet_dir = files["onet"][0].parent
    tables = onet.read_onet(onet_dir)
    baseline_file = files["onet_baseline"][0]
    release = baseline_file.parent.name
    baseline = history.read_baseline_tasks(baseline_file)
    task_history = history.task_history(
        tables.tasks,
        baseline,
        history.read_taxonomy_crosswalk(files["onet_soc_2010_crosswalk"][0]),
        baseline_release=release,
    ).assign(baseline_release=release)
    oews = employment.read_oews(files["oews"][0])
    crosswalk = employment.read_crosswalk(files["onet_soc_crosswalk"][0])
    soc_groups = employment.read_soc_structure(files["soc_structure"][0])
    occupations = employment.occupation_soc(tables.occupations, crosswalk, soc_groups)
    jobs = employment.allocate_employment(occupations, tables.tasks, crosswalk, oews)
    return {
        "soc_groups": soc_groups,
        "occupations": occupations,
        "tasks": tables.tasks,
        "iwas": tables.iwas,
        "dwas": tables.dwas,
        "task_dwas": tables.task_dwas,
        "emerging_tasks": tables.emerging_tasks,
        "oews": oews,
        "employment": jobs,
        "baseline_tasks": baseline.assign(release=release),
        "task_history": task_history,
    }


def run_ingest(
    *,
    db: str | Path,
    data_dir: str | Path,
    onet_version: str | None = None,
    oews_version: str | None = None,
    force: bool = False,
) -> IngestResult:
    """Parse the fetched sources and replace the store's reference tables in one transaction.

    Parameters
    ----------
    db : path of the store (created when missing)
    data_dir : the data folder ``jobimpact fetch`` wrote (``<data_dir>/raw/...``)
    onet_version, oews_version : str, optional
        Releases to read; each source's default (29.3, M2024) when omitted. New work is
        judged against the fetched ``onet_baseline`` release (20.1 by default).
    force : bool
        Ingest again even when the store was built from exactly these files (same sha256).

    Raises
    ------
    DataError
        A file is missing or malformed (named with row and field); the store is unchanged.
    """
    from jobimpact.employment import employment_coverage
    from jobimpact.store import open_store
    from jobimpact.store.reference import recorded_source_files, replace_reference_data
    from jobimpact.store.runs import stage_run

    versions = {"onet": onet_version, "oews": oews_version}
    files = _fetched_files(Path(data_dir), versions)
    records = _source_file_records(files)
    fingerprint = {(r.source, r.version, r.file, r.sha256) for r in records.itertuples(index=False)}
    if Path(db).exists() and not force:
        with open_store(db) as con:
            if recorded_source_files(con) == fingerprint:
                return IngestResult(changed=False)
    # Parse everything before the store is touched: bad input must leave it as it was.
    tables = build_reference_tables(files)
    counts = {name: len(frame) for name, frame in tables.items()}
    counts["occupations_with_tasks"] = int(tables["tasks"]["onet_soc_code"].nunique())
    coverage = employment_coverage(tables["employment"], tables["oews"])
    parameters = {"data_dir": str(data_dir), **versions, "force": force}
    with stage_run(db, stage="ingest", parameters=parameters, create=True) as run:
        with open_store(db) as con:
            replace_reference_data(con, tables, records)
        run.counts = {**counts, **coverage}
    log.info("ingested %s", counts)
    return IngestResult(changed=True, counts=counts, coverage=coverage, run_id=run.run_id)
