"""The whole job in one call, and the one place that knows the order of the stages:
fetch → ingest → score → embed → cluster → aggregate → validate → report.

Every stage is idempotent and content-addressed, so running again after an interruption
redoes only what is missing. Validation runs when enough labelled tasks are scored (a
sample may hold too few) and is otherwise skipped with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobimpact.errors import NotReadyError
from jobimpact.settings import Settings

if TYPE_CHECKING:
    from jobimpact.embedding import Embedder
    from jobimpact.scoring.base import Scorer

__all__ = ["STAGES", "RunSummary", "make_embedder", "make_scorer", "run"]

log = logging.getLogger(__name__)

STAGES = ("fetch", "ingest", "score", "embed", "cluster", "aggregate", "validate", "report")
# (stage, done, total): a stage reports its own units (tasks for scoring), others 0/1 → 1/1.
Progress = Callable[[str, int, int], None]


@dataclass
class RunSummary:
    """What each stage did, in one line per stage, and the files the report wrote."""

    lines: dict[str, str] = field(default_factory=dict)
    report_files: list[Path] = field(default_factory=list)


def make_scorer(settings: Settings, **options: Any) -> Scorer:
    """The scoring backend the settings name, with their model, rubric and server."""
    from jobimpact.scoring import get_backend

    params: dict[str, Any] = dict(options)
    if settings.rubric is not None:
        params.setdefault("rubric", settings.rubric)
    if settings.backend == "http":
        params.setdefault("model", settings.model or settings.http_model)
        params.setdefault("base_url", settings.http_base_url)
        params.setdefault("api_key", settings.http_api_key)
        params.setdefault("endpoint", settings.http_endpoint)
    elif settings.model is not None:
        params.setdefault("model", settings.model)
    if not settings.logprobs:
        # Only backends that can read answers from text take it; others refuse it by name.
        params.setdefault("logprobs", False)
    if settings.backend == "transformers":
        params.setdefault("cache_dir", settings.cache_dir)
    return get_backend(settings.backend, **{k: v for k, v in params.items() if v is not None})


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name, with their embedding model."""
    from jobimpact.embedding import get_embedder

    params = {"model": settings.embedding_model} if settings.embedding_model else {}
    return get_embedder(settings.embedder, **params)


def _quiet(stage: str, done: int, total: int) -> None:
    """Default progress callback: nothing."""


def run(
    settings: Settings | None = None,
    *,
    scorer: Scorer | None = None,
    embedder: Embedder | None = None,
    cluster_estimator: Any = None,
    progress: Progress = _quiet,
) -> RunSummary:
    """Run every stage and write the report.

    Parameters
    ----------
    settings : Settings, optional
        Store, data folder, mirror, sample, backends and report options;
        ``Settings.resolve()`` (environment, then defaults) when omitted.
    scorer, embedder : optional
        Backends to use instead of the ones the settings name.
    cluster_estimator : scikit-learn clusterer, optional
        Replaces the default k-means with k chosen by silhouette.
    progress : callable
        Called with (stage, done, total) as stages advance.
    """
    settings = settings or Settings.resolve()
    summary = RunSummary()
    progress("fetch", 0, 1)
    summary.lines["fetch"] = _fetch(settings)
    progress("fetch", 1, 1)
    progress("ingest", 0, 1)
    summary.lines["ingest"] = _ingest(settings)
    progress("ingest", 1, 1)
    scorer = scorer or make_scorer(settings)
    summary.lines["score"] = _score(settings, scorer, progress)
    progress("score", 1, 1)
    summary.lines.update(_families(settings, embedder, cluster_estimator, progress))
    scoring = (scorer.model_id, scorer.rubric.hash)
    progress("aggregate", 0, 1)
    summary.lines["aggregate"] = _aggregate(settings, scoring)
    progress("aggregate", 1, 1)
    progress("validate", 0, 1)
    summary.lines["validate"] = _validate(settings, scoring)
    progress("validate", 1, 1)
    progress("report", 0, 1)
    summary.report_files = _report(settings)
    summary.lines["report"] = ", ".join(str(p) for p in summary.report_files)
    progress("report", 1, 1)
    return summary


def _fetch(settings: Settings) -> str:
    from jobimpact.sources import fetch

    versions = {"onet": settings.onet_version, "oews": settings.oews_version}
    manifests = fetch(
        data_dir=settings.data_dir,
        mirror=settings.mirror,
        versions={k: v for k, v in versions.items() if v},
        progress=False,
    )
    return f"{len(manifests)} sources in {settings.data_dir / 'raw'}"


def _ingest(settings: Settings) -> str:
    from jobimpact.pipeline.ingest import run_ingest

    ingested = run_ingest(
        db=settings.db,
        data_dir=settings.data_dir,
        onet_version=settings.onet_version,
        oews_version=settings.oews_version,
    )
    if not ingested.changed:
        return "unchanged"
    return ", ".join(f"{n:,} {table}" for table, n in ingested.counts.items())


def _score(settings: Settings, scorer: Scorer, progress: Progress) -> str:
    from jobimpact.pipeline.score import run_score

    scored = run_score(
        db=settings.db,
        scorer=scorer,
        sample=settings.sample,
        batch_size=settings.batch_size,
        progress=lambda done, total: progress("score", done, total),
    )
    text = f", {scored.text_answers:,} answers read from text" if scored.text_answers else ""
    return (
        f"{scored.scored:,} tasks scored, {scored.already_scored:,} already scored, "
        f"{scored.failed:,} failed{text}; calibration head "
        f"{scored.head_id or 'none (zero-shot)'}"
    )


def _families(
    settings: Settings, embedder: Embedder | None, estimator: Any, progress: Progress
) -> dict[str, str]:
    from jobimpact.pipeline.families import run_cluster, run_embed

    encoder = embedder or make_embedder(settings)
    progress("embed", 0, 1)
    embedded = run_embed(db=settings.db, embedder=encoder)
    progress("embed", 1, 1)
    progress("cluster", 0, 1)
    families = run_cluster(db=settings.db, embedder=encoder, estimator=estimator)
    progress("cluster", 1, 1)
    return {
        "embed": ", ".join(f"{n:,} {kind}" for kind, n in embedded.counts.items()),
        "cluster": f"{families.n_clusters} task families",
    }


def _aggregate(settings: Settings, scoring: tuple[str, str]) -> str:
    from jobimpact.pipeline.aggregate import run_aggregate

    rolled = run_aggregate(db=settings.db, model_id=scoring[0], rubric_hash=scoring[1])
    return f"{rolled.n_tasks:,} tasks → {rolled.n_occupations:,} occupations"


def _validate(settings: Settings, scoring: tuple[str, str]) -> str:
    from jobimpact.labels import default_labels_path
    from jobimpact.pipeline.validate import run_validate
    from jobimpact.usage import default_modes_path, default_usage_path

    try:
        checked = run_validate(
            db=settings.db,
            labels=default_labels_path(settings.data_dir),
            model_id=scoring[0],
            rubric_hash=scoring[1],
            creation_labels=default_modes_path(settings.data_dir),
            usage=default_usage_path(settings.data_dir),
        )
    except NotReadyError as skipped:
        log.info("validation skipped: %s", skipped)
        return f"skipped: {skipped}"
    return f"{checked.n_scored:,} labelled tasks, {checked.mode}"


def _report(settings: Settings) -> list[Path]:
    from jobimpact.report import build_report

    written = build_report(settings.db, out_dir=settings.out_dir, formats=settings.formats)
    return [Path(p) for p in written.paths.values()]
