"""The whole job in one call: fetch → ingest → score → embed → cluster → aggregate →
validate → report.

Every stage is idempotent and content-addressed, so running again after an interruption
redoes only what is missing. Validation runs when enough labelled tasks are scored (a
sample may hold too few) and is otherwise skipped with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobimpact import config
from jobimpact.errors import ConfigError

__all__ = ["STAGES", "RunSummary", "run"]

log = logging.getLogger(__name__)

STAGES = ("fetch", "ingest", "score", "embed", "cluster", "aggregate", "validate", "report")
# (stage, done, total): a stage reports its own units (tasks for scoring), others 0/1 → 1/1.
Progress = Callable[[str, int, int], None]


@dataclass
class RunSummary:
    """What each stage did, in one line per stage, and the files the report wrote."""

    lines: dict[str, str] = field(default_factory=dict)
    report_files: list[Path] = field(default_factory=list)


def _quiet(stage: str, done: int, total: int) -> None:
    """Default progress callback: nothing."""


def run(
    *,
    db: Path = config.DEFAULT_DB,
    data_dir: Path = config.DEFAULT_DATA_DIR,
    mirror: str | None = None,
    sample: int | None = None,
    backend: str = "transformers",
    model: str | None = None,
    embedder: str = "sentence-transformers",
    out_dir: Path = Path("reports"),
    formats: Sequence[str] = ("html", "pdf"),
    batch_size: int = 16,
    scorer_params: dict[str, Any] | None = None,
    embedder_params: dict[str, Any] | None = None,
    cluster_estimator: Any = None,
    progress: Progress = _quiet,
) -> RunSummary:
    """Run every stage on the defaults (or the given backends) and write the report.

    Parameters
    ----------
    sample : int, optional
        Score that many occupations, spread over the major groups; all tasks when omitted.
    backend, model
        Scoring backend and model (default: the embedded Qwen2.5-Coder-0.5B).
    embedder
        Embedding backend for task families (default: the embedded MiniLM).
    cluster_estimator : sklearn clusterer, optional
        Replaces the default k-means with k chosen by silhouette.
    progress : callable
        Called with (stage, done, total) as stages advance.
    """
    from jobimpact import pipeline
    from jobimpact.embedding import get_embedder
    from jobimpact.labels import default_labels_path
    from jobimpact.scoring import get_backend
    from jobimpact.sources import fetch

    summary = RunSummary()

    progress("fetch", 0, 1)
    manifests = fetch(data_dir=data_dir, mirror=mirror, progress=False)
    summary.lines["fetch"] = f"{len(manifests)} sources in {data_dir / 'raw'}"
    progress("fetch", 1, 1)

    progress("ingest", 0, 1)
    ingested = pipeline.ingest(db=db, data_dir=data_dir)
    summary.lines["ingest"] = (
        "unchanged"
        if not ingested.changed
        else ", ".join(f"{n:,} {table}" for table, n in ingested.counts.items())
    )
    progress("ingest", 1, 1)

    params = dict(scorer_params or {})
    if model is not None:
        params["model"] = model
    scorer = get_backend(backend, **params)
    scored = pipeline.score(
        db=db,
        scorer=scorer,
        sample=sample,
        batch_size=batch_size,
        progress=lambda done, total: progress("score", done, total),
    )
    summary.lines["score"] = (
        f"{scored.scored:,} tasks scored, {scored.already_scored:,} already scored, "
        f"{scored.failed:,} failed; calibration head {scored.head_id or 'none (zero-shot)'}"
    )
    progress("score", 1, 1)

    encoder = get_embedder(embedder, **(embedder_params or {}))
    progress("embed", 0, 1)
    embedded = pipeline.embed(db=db, embedder=encoder)
    summary.lines["embed"] = ", ".join(f"{n:,} {kind}" for kind, n in embedded.items())
    progress("embed", 1, 1)

    progress("cluster", 0, 1)
    families = pipeline.cluster(db=db, embedder=encoder, estimator=cluster_estimator)
    summary.lines["cluster"] = f"{families.n_clusters} task families"
    progress("cluster", 1, 1)

    progress("aggregate", 0, 1)
    rolled = pipeline.aggregate(db=db, model_id=scored.model_id, rubric_hash=scored.rubric_hash)
    summary.lines["aggregate"] = f"{rolled.n_tasks:,} tasks → {rolled.n_occupations:,} occupations"
    progress("aggregate", 1, 1)

    progress("validate", 0, 1)
    try:
        checked = pipeline.validate(
            db=db,
            labels=default_labels_path(data_dir),
            model_id=scored.model_id,
            rubric_hash=scored.rubric_hash,
        )
        summary.lines["validate"] = f"{checked.n_scored:,} labelled tasks, {checked.mode}"
    except ConfigError as skipped:
        summary.lines["validate"] = f"skipped: {skipped}"
        log.info("validation skipped: %s", skipped)
    progress("validate", 1, 1)

    from jobimpact.report import build_report

    progress("report", 0, 1)
    written = build_report(db, out_dir=out_dir, formats=formats)
    summary.report_files = list(written.paths.values())
    summary.lines["report"] = ", ".join(str(p) for p in summary.report_files)
    progress("report", 1, 1)
    return summary
