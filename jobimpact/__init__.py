"""jobimpact: measure how large language models change work.

Scores O*NET task statements for exposure, displacement and creation with an LLM,
clusters tasks into families, rolls scores up to occupations and employment, stores
everything with provenance in DuckDB and writes reports.

The public API is what this module exports (``__all__``); it loads lazily, so that
``import jobimpact`` and ``jobimpact --help`` stay instant::

    import jobimpact

    settings = jobimpact.Settings.resolve(sample=40)
    jobimpact.run(settings)                                  # every stage, then the report
    jobimpact.query(settings.db, "SELECT * FROM economy_impact")
    jobimpact.Report.from_store(settings.db)                  # shown inline in a notebook
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name → the module that defines it.
_EXPORTS = {
    # settings and errors
    "Settings": "jobimpact.settings",
    "JobImpactError": "jobimpact.errors",
    "ConfigError": "jobimpact.errors",
    "NotReadyError": "jobimpact.errors",
    "DependencyError": "jobimpact.errors",
    "FetchError": "jobimpact.errors",
    "DataError": "jobimpact.errors",
    "StoreError": "jobimpact.errors",
    "OutputError": "jobimpact.errors",
    "ScoringError": "jobimpact.errors",
    "EmbeddingError": "jobimpact.errors",
    # stages
    "fetch": "jobimpact.sources",
    "run": "jobimpact.pipeline",
    "run_ingest": "jobimpact.pipeline",
    "run_score": "jobimpact.pipeline",
    "run_calibrate": "jobimpact.pipeline",
    "run_embed": "jobimpact.pipeline",
    "run_cluster": "jobimpact.pipeline",
    "run_aggregate": "jobimpact.pipeline",
    "run_validate": "jobimpact.pipeline",
    "run_compare": "jobimpact.pipeline",
    "IngestResult": "jobimpact.pipeline",
    "ScoreResult": "jobimpact.pipeline",
    "CalibrateResult": "jobimpact.pipeline",
    "EmbedResult": "jobimpact.pipeline",
    "ClusterResult": "jobimpact.pipeline",
    "AggregateResult": "jobimpact.pipeline",
    "ValidateResult": "jobimpact.pipeline",
    "RunSummary": "jobimpact.pipeline",
    "CompareResult": "jobimpact.pipeline",
    # the store
    "open_store": "jobimpact.store",
    "query": "jobimpact.store.read",
    "store_status": "jobimpact.store.read",
    "relations": "jobimpact.store.read",
    "export_parquet": "jobimpact.store.read",
    "resolve_scoring": "jobimpact.store.scorings",
    "list_scorings": "jobimpact.store.scorings",
    "ScoringKey": "jobimpact.store.scorings",
    "view_docs": "jobimpact.store.read",
    # scoring backends, rubrics and measures
    "Scorer": "jobimpact.scoring",
    "TaskPrompt": "jobimpact.scoring",
    "TaskScore": "jobimpact.scoring",
    "QuestionScore": "jobimpact.scoring",
    "get_backend": "jobimpact.scoring",
    "register_backend": "jobimpact.scoring",
    "available_backends": "jobimpact.scoring",
    "Rubric": "jobimpact.scoring",
    "Question": "jobimpact.scoring",
    "load_rubric": "jobimpact.scoring",
    "MEASURES": "jobimpact.measures",
    "ROLES": "jobimpact.measures",
    "derive_measures": "jobimpact.measures",
    # embedders and task families
    "Embedder": "jobimpact.embedding",
    "get_embedder": "jobimpact.embedding",
    "register_embedder": "jobimpact.embedding",
    "available_embedders": "jobimpact.embedding",
    "cluster_embeddings": "jobimpact.clustering",
    "label_clusters": "jobimpact.clustering",
    # labels and calibration
    "read_labels": "jobimpact.labels",
    "match_labels": "jobimpact.labels",
    "default_labels_path": "jobimpact.labels",
    "targets_frame": "jobimpact.calibration",
    # comparison with published measures
    "PUBLISHED_MEASURES": "jobimpact.comparison",
    "MeasureSpec": "jobimpact.comparison",
    "user_measure": "jobimpact.comparison",
    # the report
    "Report": "jobimpact.report",
    "build_report": "jobimpact.report",
}

__all__ = [
    "MEASURES",
    "PUBLISHED_MEASURES",
    "ROLES",
    "AggregateResult",
    "CalibrateResult",
    "ClusterResult",
    "CompareResult",
    "ConfigError",
    "DataError",
    "DependencyError",
    "EmbedResult",
    "Embedder",
    "EmbeddingError",
    "FetchError",
    "IngestResult",
    "JobImpactError",
    "MeasureSpec",
    "NotReadyError",
    "OutputError",
    "Question",
    "QuestionScore",
    "Report",
    "Rubric",
    "RunSummary",
    "ScoreResult",
    "Scorer",
    "ScoringError",
    "ScoringKey",
    "Settings",
    "StoreError",
    "TaskPrompt",
    "TaskScore",
    "ValidateResult",
    "__version__",
    "available_backends",
    "available_embedders",
    "build_report",
    "cluster_embeddings",
    "default_labels_path",
    "derive_measures",
    "export_parquet",
    "fetch",
    "get_backend",
    "get_embedder",
    "label_clusters",
    "list_scorings",
    "load_rubric",
    "match_labels",
    "open_store",
    "query",
    "read_labels",
    "register_backend",
    "register_embedder",
    "relations",
    "resolve_scoring",
    "run",
    "run_aggregate",
    "run_calibrate",
    "run_cluster",
    "run_compare",
    "run_embed",
    "run_ingest",
    "run_score",
    "run_validate",
    "store_status",
    "targets_frame",
    "user_measure",
    "view_docs",
]

if TYPE_CHECKING:
    from jobimpact.calibration import targets_frame
    from jobimpact.clustering import cluster_embeddings, label_clusters
    from jobimpact.comparison import PUBLISHED_MEASURES, MeasureSpec, user_measure
    from jobimpact.embedding import (
        Embedder,
        available_embedders,
        get_embedder,
        register_embedder,
    )
    from jobimpact.errors import (
        ConfigError,
        DataError,
        DependencyError,
        EmbeddingError,
        FetchError,
        JobImpactError,
        NotReadyError,
        OutputError,
        ScoringError,
        StoreError,
    )
    from jobimpact.labels import default_labels_path, match_labels, read_labels
    from jobimpact.measures import MEASURES, ROLES, derive_measures
    from jobimpact.pipeline import (
        AggregateResult,
        CalibrateResult,
        ClusterResult,
        CompareResult,
        EmbedResult,
        IngestResult,
        RunSummary,
        ScoreResult,
        ValidateResult,
        run_aggregate,
        run_calibrate,
        run_cluster,
        run_compare,
        run_embed,
        run_ingest,
        run_score,
        run_validate,
    )
    from jobimpact.pipeline.run import run
    from jobimpact.report import Report, build_report
    from jobimpact.scoring import (
        Question,
        QuestionScore,
        Rubric,
        Scorer,
        TaskPrompt,
        TaskScore,
        available_backends,
        get_backend,
        load_rubric,
        register_backend,
    )
    from jobimpact.settings import Settings
    from jobimpact.sources.fetch import fetch
    from jobimpact.store import open_store
    from jobimpact.store.read import export_parquet, query, relations, store_status, view_docs
    from jobimpact.store.scorings import ScoringKey, list_scorings, resolve_scoring


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'jobimpact' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
