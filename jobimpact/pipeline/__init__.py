"""The stages of jobimpact, one module each, and the end-to-end run.

Each stage is one function taking plain inputs (a store path, a backend, options) and
returning a frozen result; it persists its output through :mod:`jobimpact.store` and
records its run (done, failed or interrupted) with
:func:`~jobimpact.store.runs.stage_run`. :mod:`jobimpact.pipeline.run` is the one place
that knows their order.

=================  ====================================  ==========================
stage              function                              result
=================  ====================================  ==========================
ingest             :func:`run_ingest`                    :class:`IngestResult`
score              :func:`run_score`                     :class:`ScoreResult`
calibrate          :func:`run_calibrate`                 :class:`CalibrateResult`
embed              :func:`run_embed`                     :class:`EmbedResult`
cluster            :func:`run_cluster`                   :class:`ClusterResult`
aggregate          :func:`run_aggregate`                 :class:`AggregateResult`
validate           :func:`run_validate`                  :class:`ValidateResult`
compare            :func:`run_compare`                   :class:`CompareResult`
all of them        :func:`run`                           :class:`RunSummary`
=================  ====================================  ==========================
"""

from __future__ import annotations

from jobimpact.pipeline.aggregate import AggregateResult, run_aggregate
from jobimpact.pipeline.calibrate import CalibrateResult, apply_head, export_head, run_calibrate
from jobimpact.pipeline.compare import CompareResult, run_compare
from jobimpact.pipeline.families import ClusterResult, EmbedResult, run_cluster, run_embed
from jobimpact.pipeline.ingest import IngestResult, run_ingest
from jobimpact.pipeline.run import STAGES, RunSummary, make_embedder, make_scorer, run
from jobimpact.pipeline.score import ScoreResult, resolve_occupations, run_score, select_tasks
from jobimpact.pipeline.validate import ValidateResult, run_validate

__all__ = [
    "STAGES",
    "AggregateResult",
    "CalibrateResult",
    "ClusterResult",
    "CompareResult",
    "EmbedResult",
    "IngestResult",
    "RunSummary",
    "ScoreResult",
    "ValidateResult",
    "apply_head",
    "export_head",
    "make_embedder",
    "make_scorer",
    "resolve_occupations",
    "run",
    "run_aggregate",
    "run_calibrate",
    "run_cluster",
    "run_compare",
    "run_embed",
    "run_ingest",
    "run_score",
    "run_validate",
    "select_tasks",
]
