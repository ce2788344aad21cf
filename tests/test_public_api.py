"""The public API: what `import jobimpact` exports, loaded lazily."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import jobimpact

# Frozen: adding or removing a public name is a decision, made here on purpose.
PUBLIC = {
    "__version__",
    "AggregateResult", "CalibrateResult", "ClusterResult", "CompareResult", "ConfigError",
    "DataError", "DependencyError", "EmbedResult", "Embedder", "EmbeddingError", "FetchError",
    "IngestResult", "JobImpactError", "MEASURES", "MeasureSpec", "NotReadyError", "OutputError",
    "PUBLISHED_MEASURES", "Question", "QuestionScore", "ROLES", "Report", "Rubric", "RunSummary",
    "ScoreResult", "Scorer", "ScoringError", "ScoringKey", "Settings", "StoreError", "TaskPrompt",
    "TaskScore", "ValidateResult", "available_backends", "available_embedders", "build_report",
    "cluster_embeddings", "default_labels_path", "derive_measures", "export_parquet", "fetch",
    "get_backend", "get_embedder", "label_clusters", "list_scorings", "load_rubric", "match_labels",
    "open_store", "query", "read_labels", "register_backend", "register_embedder", "relations",
    "resolve_scoring", "run", "run_aggregate", "run_calibrate", "run_cluster", "run_compare",
    "run_embed", "run_ingest", "run_score", "run_validate", "store_status", "targets_frame",
    "user_measure", "view_docs",
}  # fmt: skip


def test_all_is_frozen_and_every_name_resolves() -> None:
    assert set(jobimpact.__all__) == PUBLIC
    assert len(jobimpact.__all__) == len(PUBLIC)
    for name in jobimpact.__all__:
        assert getattr(jobimpact, name) is not None, name
    assert jobimpact.run.__module__ == "jobimpact.pipeline.run"


def test_importing_jobimpact_and_its_cli_loads_no_heavy_library() -> None:
    heavy = ("pandas", "numpy", "duckdb", "torch", "sklearn", "transformers", "matplotlib")
    code = (
        f"import sys, jobimpact, jobimpact.cli\nprint([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_help_lists_every_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "jobimpact", "--help"], capture_output=True, text=True, check=True
    )
    commands = ("fetch", "ingest", "score", "calibrate", "validate", "embed", "cluster", "compare")
    for command in commands:
        assert f"  {command} " in out.stdout


def test_resolve_scoring_given_a_path_says_what_it_expects(tmp_path: Path) -> None:
    with pytest.raises(jobimpact.ConfigError) as raised:
        jobimpact.resolve_scoring(tmp_path / "store.duckdb")  # type: ignore[arg-type]
    assert str(raised.value) == (
        f"got PosixPath {tmp_path / 'store.duckdb'!r}, expected an open store connection: "
        "with jobimpact.open_store(db, read_only=True) as con: ..."
    )
