"""The one place that knows the order of the stages and persists each stage's output."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from jobimpact import config
from jobimpact.aggregate import Weighting
from jobimpact.errors import ConfigError, DataError, ScoringError
from jobimpact.sources.checks import sha256_file

if TYPE_CHECKING:
    import duckdb

    from jobimpact.calibration import CalibrationHead
    from jobimpact.embedding import Embedder
    from jobimpact.scoring.base import Scorer, TaskScore

log = logging.getLogger(__name__)

# Task measures an occupation roll-up needs (see the task_measures view).
MEASURES = ["alpha", "beta", "zeta", "displacement", "augmentation", "creation"]
# Sources whose files ingest reads, with the version used when the caller gives none.
INGESTED_SOURCES = ("onet", "oews", "onet_soc_crosswalk", "soc_structure")


@dataclass(frozen=True)
class IngestResult:
    """What an ingest did: whether it wrote, rows per table, employment coverage."""

    changed: bool
    counts: dict[str, int] = field(default_factory=dict)
    coverage: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None


def _fetched_files(data_dir: Path, versions: dict[str, str]) -> dict[str, list[Path]]:
    """The files of each ingested source as fetched, or a DataError saying what to fetch."""
    from jobimpact.sources import get_source

    found: dict[str, list[Path]] = {}
    for name in INGESTED_SOURCES:
        source = get_source(name)
        version = versions.get(name) or source.default_version
        folder = config.raw_dir(data_dir, name, version)
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
    from jobimpact.store.io import now

    rows = []
    for name, paths in files.items():
        folder = paths[0].parent
        manifest_path = folder / "manifest.json"
        manifest = read_manifest(manifest_path) if manifest_path.exists() else None
        origin = manifest.origin if manifest else str(folder)
        n_rows = {f.name: f.n_rows for f in manifest.files} if manifest else {}
        for path in paths:
            rows.append(
                {
                    "source": name,
                    "version": folder.name,
                    "file": path.name,
                    "origin": origin,
                    "sha256": sha256_file(path),
                    "n_rows": n_rows.get(path.name),
                    "ingested_at": now(),
                }
            )
    return pd.DataFrame(rows)


def build_reference_tables(files: dict[str, list[Path]]) -> dict[str, pd.DataFrame]:
    """Parse the fetched files into the reference tables (pure: no store access)."""
    from jobimpact import employment, onet

    onet_dir = files["onet"][0].parent
    tables = onet.read_onet(onet_dir)
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
    }


def ingest(
    *,
    db: str | Path,
    data_dir: str | Path,
    onet_version: str = config.DEFAULT_ONET_VERSION,
    oews_version: str = config.DEFAULT_OEWS_VERSION,
    force: bool = False,
) -> IngestResult:
    """Parse the fetched sources and replace the store's reference tables in one transaction.

    Does nothing when the store was built from exactly these files (same sha256), unless
    ``force``. On any error the store is left as it was.
    """
    from jobimpact.employment import employment_coverage
    from jobimpact.store import open_store
    from jobimpact.store.io import now, recorded_source_files, replace_reference_data

    started = now()
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
    with open_store(db) as con:
        run_id = replace_reference_data(
            con,
            tables,
            records,
            run={
                "stage": "ingest",
                "parameters": {"data_dir": str(data_dir), **versions, "force": force},
                "counts": {**counts, **coverage},
                "started_at": started,
            },
        )
    log.info("ingested %s", counts)
    return IngestResult(changed=True, counts=counts, coverage=coverage, run_id=run_id)


@dataclass(frozen=True)
class ScoreResult:
    """What a scoring run did."""

    run_id: str | None
    model_id: str
    rubric_hash: str
    selected: int
    already_scored: int
    scored: int
    failed: int
    head_id: str = ""  # the calibration head applied to the new scores, '' for none


def select_tasks(
    tasks: pd.DataFrame,
    *,
    occupations: Sequence[str] | None = None,
    sample: int | None = None,
    limit: int | None = None,
    random_state: int = 0,
) -> pd.DataFrame:
    """Choose the tasks to score: named occupations, a stratified sample of occupations, or
    the first ``limit`` tasks.

    ``sample`` draws that many occupations spread over the SOC major groups in proportion
    to their number of occupations (at least one per group while the sample allows).
    """
    chosen = tasks
    if occupations:
        unknown = sorted(set(occupations) - set(tasks["onet_soc_code"]))
        if unknown:
            raise ConfigError(
                f"--occupations: got {', '.join(unknown)}, expected O*NET-SOC codes with tasks"
            )
        chosen = chosen[chosen["onet_soc_code"].isin(occupations)]
    if sample is not None:
        codes = chosen.drop_duplicates("onet_soc_code")[["onet_soc_code", "soc_major"]]
        if not 0 < sample <= len(codes):
            raise ConfigError(f"--sample: got {sample}, expected 1 to {len(codes)} occupations")
        shuffled = codes.sample(frac=1.0, random_state=random_state)
        # Round-robin over major groups: every group is represented before any repeats.
        shuffled = shuffled.assign(rank=shuffled.groupby("soc_major").cumcount())
        picked = shuffled.sort_values(["rank", "soc_major"]).head(sample)
        chosen = chosen[chosen["onet_soc_code"].isin(picked["onet_soc_code"])]
    if limit is not None:
        chosen = chosen.head(limit)
    return chosen


def _score_rows(
    batch: pd.DataFrame,
    results: Sequence[TaskScore],
    keys: Sequence[str],
    *,
    scorer: Scorer,
    run_id: str,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """One batch of results as task_scores rows and task_features rows."""
    from jobimpact.store.io import now

    at = now()
    rows = [
        {
            "task_id": int(task_id),
            "prompt_sha256": key,
            "model_id": scorer.model_id,
            "rubric_hash": scorer.rubric.hash,
            "question": question,
            "method": "zero-shot",
            "head_id": "",
            "p_yes": answer.p_yes,
            "answer_mass": answer.answer_mass,
            "run_id": run_id,
            "scored_at": at,
        }
        for task_id, key, result in zip(batch["task_id"], keys, results, strict=True)
        for question, answer in result.answers.items()
    ]
    features = [r.feature for r in results]
    if any(f is None for f in features):
        return pd.DataFrame(rows), None
    feature_rows = pd.DataFrame(
        {
            "prompt_sha256": list(keys),
            "model_id": scorer.model_id,
            "feature_spec": f"task-token-mean;dim={len(features[0])}",  # type: ignore[arg-type]
            "vector": [f.tolist() for f in features],  # type: ignore[union-attr]
        }
    )
    return pd.DataFrame(rows), feature_rows


def score(
    *,
    db: str | Path,
    scorer: Scorer,
    occupations: Sequence[str] | None = None,
    sample: int | None = None,
    limit: int | None = None,
    batch_size: int = 16,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ScoreResult:
    """Score the selected tasks that this model and rubric have not scored yet.

    Each batch is written in its own short transaction, so an interrupted run loses at most
    the batch in flight and a rerun picks up where it stopped; ``force`` scores again.
    A batch the backend fails on is recorded in ``scoring_failures`` and skipped.
    ``progress`` is called with (tasks done, tasks to do) after every batch.
    """
    from jobimpact.scoring.base import TaskPrompt, prompt_key
    from jobimpact.store import open_store
    from jobimpact.store import scores as store_scores
    from jobimpact.store.io import finish_run, start_run

    with open_store(db) as con:
        tasks = select_tasks(
            store_scores.tasks_to_score(con), occupations=occupations, sample=sample, limit=limit
        )
        done = store_scores.scored_keys(
            con, model_id=scorer.model_id, rubric_hash=scorer.rubric.hash
        )
        head = _head_for(con, model_id=scorer.model_id, rubric_hash=scorer.rubric.hash)
    prompts = [
        TaskPrompt(occupation=o, task=t, task_id=str(i))
        for i, o, t in zip(tasks["task_id"], tasks["occupation"], tasks["task"], strict=True)
    ]
    keys = [
        prompt_key(p, model_id=scorer.model_id, rubric_hash=scorer.rubric.hash) for p in prompts
    ]
    todo = [i for i, key in enumerate(keys) if force or key not in done]
    result = ScoreResult(
        run_id=None,
        model_id=scorer.model_id,
        rubric_hash=scorer.rubric.hash,
        selected=len(tasks),
        already_scored=len(tasks) - len(todo),
        scored=0,
        failed=0,
        head_id=head.head_id if head else "",
    )
    if not todo:
        return result
    with open_store(db) as con:
        store_scores.record_rubric(
            con,
            rubric_hash=scorer.rubric.hash,
            name=scorer.rubric.name,
            version=scorer.rubric.version,
            definition=json.loads(scorer.rubric.canonical()),
        )
        run_id = start_run(
            con,
            stage="score",
            parameters={
                "backend": scorer.backend_name,
                "model_id": scorer.model_id,
                "rubric": scorer.rubric.name,
                "rubric_hash": scorer.rubric.hash,
                "occupations": list(occupations or []),
                "sample": sample,
                "limit": limit,
                "batch_size": batch_size,
                "force": force,
                "selected": len(tasks),
                "head_id": head.head_id if head else "",
            },
        )
    scored = failed = 0
    status, error = "done", None
    try:
        for start in range(0, len(todo), batch_size):
            index = todo[start : start + batch_size]
            batch = tasks.iloc[index]
            batch_keys = [keys[i] for i in index]
            try:
                results = scorer.score([prompts[i] for i in index], batch_size=len(index))
            except ScoringError as failure:
                with open_store(db) as con:
                    store_scores.record_failures(
                        con,
                        run_id=run_id,
                        task_ids=batch["task_id"].tolist(),
                        model_id=scorer.model_id,
                        rubric_hash=scorer.rubric.hash,
                        reason=str(failure),
                    )
                failed += len(index)
                log.warning("batch of %d tasks failed: %s", len(index), failure)
                continue
            score_rows, feature_rows = _score_rows(
                batch, results, batch_keys, scorer=scorer, run_id=run_id
            )
            if head is not None and feature_rows is not None:
                calibrated = calibrated_rows(
                    head,
                    batch.assign(prompt_sha256=batch_keys, vector=feature_rows["vector"].to_list()),
                    run_id=run_id,
                )
                score_rows = pd.concat([score_rows, calibrated], ignore_index=True)
            with open_store(db) as con:
                store_scores.write_score_batch(con, score_rows, feature_rows)
            scored += len(index)
            if progress is not None:
                progress(scored + failed, len(todo))
    except KeyboardInterrupt:
        status, error = "interrupted", "stopped by the user after the last complete batch"
        raise
    except BaseException as failure:
        status, error = "failed", str(failure)
        raise
    finally:
        with open_store(db) as con:
            finish_run(
                con,
                run_id,
                status=status,
                error=error,
                counts={
                    "selected": len(tasks),
                    "scored": scored,
                    "failed": failed,
                    "already_scored": result.already_scored,
                },
            )
    return ScoreResult(
        run_id=run_id,
        model_id=scorer.model_id,
        rubric_hash=scorer.rubric.hash,
        selected=len(tasks),
        already_scored=result.already_scored,
        scored=scored,
        failed=failed,
        head_id=head.head_id if head else "",
    )


def _head_for(
    con: duckdb.DuckDBPyConnection, *, model_id: str, rubric_hash: str
) -> CalibrationHead | None:
    """The newest stored head for this model and rubric, else a packaged one (then stored)."""
    from jobimpact.calibration import packaged_head
    from jobimpact.store import calibration as store_heads
    from jobimpact.store.io import now, record_run

    head_id = store_heads.latest_head_id(con, model_id=model_id, rubric_hash=rubric_hash)
    if head_id is not None:
        return store_heads.read_head(con, head_id)
    head = packaged_head(model_id=model_id, rubric_hash=rubric_hash)
    if head is not None:
        run_id = record_run(
            con,
            stage="calibrate",
            parameters={"packaged_head": head.head_id, "model_id": model_id},
            counts={"tasks": head.n_tasks, "occupations": head.n_occupations},
            started_at=now(),
        )
        store_heads.write_head(con, head, run_id=run_id)
    return head


def calibrated_rows(head: CalibrationHead, features: pd.DataFrame, *, run_id: str) -> pd.DataFrame:
    """task_scores rows of a head's P(Yes) for tasks with feature vectors.

    ``features`` has ``task_id``, ``onet_soc_code``, ``prompt_sha256`` and ``vector``.
    Tasks of the head's training occupations are scored by the fold model that never saw
    them.
    """
    from jobimpact.store.io import now

    if features.empty:
        return pd.DataFrame()
    matrix = np.stack([np.asarray(v, dtype=np.float64) for v in features["vector"]])
    predicted = head.predict(matrix, features["onet_soc_code"].astype(str).tolist())
    at = now()
    return pd.DataFrame(
        [
            {
                "task_id": int(task_id),
                "prompt_sha256": key,
                "model_id": head.model_id,
                "rubric_hash": head.rubric_hash,
                "question": question,
                "method": "calibrated",
                "head_id": head.head_id,
                "p_yes": float(p),
                "answer_mass": None,
                "run_id": run_id,
                "scored_at": at,
            }
            for task_id, key, (_, row) in zip(
                features["task_id"], features["prompt_sha256"], predicted.iterrows(), strict=True
            )
            for question, p in row.items()
        ]
    )


@dataclass(frozen=True)
class CalibrateResult:
    """A fitted head, how its labels matched, and how many tasks it then scored."""

    run_id: str
    head_id: str
    model_id: str
    rubric_hash: str
    n_labelled: int
    n_matched_id: int
    n_matched_text: int
    n_tasks: int
    n_occupations: int
    cv_metrics: dict[str, dict[str, float]]
    applied: int


def _zero_shot_scoring(
    con: duckdb.DuckDBPyConnection, model_id: str | None, rubric_hash: str | None
) -> tuple[str, str]:
    from jobimpact.store import scores as store_scores

    if model_id is not None and rubric_hash is not None:
        return model_id, rubric_hash
    latest = store_scores.latest_scoring(con)
    if latest is None:
        raise ConfigError("got a store with no scores, expected `jobimpact score` first")
    return model_id or latest[0], rubric_hash or latest[1]


def calibrate(
    *,
    db: str | Path,
    labels: Path,
    model_id: str | None = None,
    rubric_hash: str | None = None,
    n_folds: int = 5,
    random_state: int = 0,
) -> CalibrateResult:
    """Fit a calibration head on the labelled tasks that have features, store it and score
    every featured task of the model with it (labelled occupations out of fold).

    The scoring defaults to the most recently scored model and rubric.
    """
    from jobimpact.calibration import fit_head
    from jobimpact.labels import match_labels, read_labels
    from jobimpact.store import calibration as store_heads
    from jobimpact.store import open_store
    from jobimpact.store import scores as store_scores
    from jobimpact.store.io import finish_run, start_run

    labelled = read_labels(labels)
    with open_store(db) as con:
        model_id, rubric_hash = _zero_shot_scoring(con, model_id, rubric_hash)
        matched = match_labels(labelled, store_scores.tasks_to_score(con))
        features = store_heads.task_features(con, model_id=model_id, rubric_hash=rubric_hash)
    if features.empty:
        raise ConfigError(
            f"calibrate: got no feature vectors for model {model_id!r}, expected a backend that "
            "keeps per-task features (e.g. transformers)"
        )
    train = matched.frame.drop(columns="onet_soc_code").merge(features, on="task_id")
    matrix = (
        np.stack([np.asarray(v, dtype=np.float64) for v in train["vector"]])
        if len(train)
        else np.zeros((0, 0))
    )
    head, _ = fit_head(
        matrix,
        train,
        model_id=model_id,
        rubric_hash=rubric_hash,
        feature_spec=str(features["feature_spec"].iloc[0]),
        labels_name=labelled.name,
        labels_sha256=labelled.sha256,
        n_folds=n_folds,
        random_state=random_state,
    )
    with open_store(db) as con:
        run_id = start_run(
            con,
            stage="calibrate",
            parameters={
                "labels": labelled.name,
                "labels_sha256": labelled.sha256,
                "model_id": model_id,
                "rubric_hash": rubric_hash,
                "n_folds": n_folds,
                "random_state": random_state,
            },
        )
        store_heads.write_head(con, head, run_id=run_id)
    applied = apply_head(db=db, head_id=head.head_id, run_id=run_id)
    with open_store(db) as con:
        finish_run(
            con,
            run_id,
            status="done",
            counts={"trained_on": len(train), "applied": applied, "head_id": head.head_id},
        )
    return CalibrateResult(
        run_id=run_id,
        head_id=head.head_id,
        model_id=model_id,
        rubric_hash=rubric_hash,
        n_labelled=matched.n_labelled,
        n_matched_id=matched.n_by_id,
        n_matched_text=matched.n_by_text,
        n_tasks=head.n_tasks,
        n_occupations=head.n_occupations,
        cv_metrics={q: dict(m) for q, m in head.cv_metrics.items()},
        applied=applied,
    )


def apply_head(*, db: str | Path, head_id: str, run_id: str, batch_size: int = 2048) -> int:
    """Score with a stored head every featured task of its model not yet scored by it."""
    from jobimpact.store import calibration as store_heads
    from jobimpact.store import open_store
    from jobimpact.store import scores as store_scores

    with open_store(db) as con:
        head = store_heads.read_head(con, head_id)
        if head is None:
            raise ConfigError(f"calibration head: got {head_id!r}, expected a stored head id")
        features = store_heads.task_features(
            con, model_id=head.model_id, rubric_hash=head.rubric_hash, skip_head_id=head_id
        )
    for start in range(0, len(features), batch_size):
        rows = calibrated_rows(head, features.iloc[start : start + batch_size], run_id=run_id)
        with open_store(db) as con:
            store_scores.write_score_batch(con, rows)
    return len(features)


@dataclass(frozen=True)
class AggregateResult:
    """Which scoring was rolled up, and how many occupations it covered."""

    run_id: str
    model_id: str
    rubric_hash: str
    head_id: str
    weighting: str
    n_occupations: int
    n_tasks: int


def aggregate(
    *,
    db: str | Path,
    model_id: str | None = None,
    rubric_hash: str | None = None,
    head_id: str | None = None,
    weighting: Weighting = "rating",
    creation_axis: str = "augmentation",
    n_boot: int = 200,
) -> AggregateResult:
    """Roll one scoring's task measures up to occupations and store them.

    The scoring defaults to the most recently scored model and rubric, calibrated by the
    head that last scored it when there is one (``head_id=""`` asks for the zero-shot
    scores). Rerunning replaces the roll-up of the same scoring and weighting, so it is
    idempotent.
    """
    from jobimpact import aggregate as rollup
    from jobimpact.store import open_store
    from jobimpact.store import scores as store_scores
    from jobimpact.store.io import finish_run, start_run

    with open_store(db) as con:
        if model_id is None or rubric_hash is None:
            latest = store_scores.latest_scoring(con)
            if latest is None:
                raise ConfigError(
                    "aggregate: got a store with no scores, expected `jobimpact score` first"
                )
            model_id = model_id or latest[0]
            rubric_hash = rubric_hash or latest[1]
        if head_id is None:
            head_id = store_scores.scored_head(con, model_id=model_id, rubric_hash=rubric_hash)
        measures = store_scores.task_measures(
            con, model_id=model_id, rubric_hash=rubric_hash, head_id=head_id
        )
        employment = store_scores.occupation_employment(con)
        if measures.empty:
            raise ConfigError(
                f"aggregate: got no scores for model {model_id!r} and rubric {rubric_hash[:12]}, "
                "expected a scored model and rubric"
            )
        run_id = start_run(
            con,
            stage="aggregate",
            parameters={
                "model_id": model_id,
                "rubric_hash": rubric_hash,
                "head_id": head_id,
                "weighting": weighting,
                "creation_axis": creation_axis,
                "n_boot": n_boot,
            },
        )
    # One row per task: the latest prompt wins when a task's text was scored twice.
    measures = measures.sort_values("scored_at").drop_duplicates("task_id", keep="last")
    # Tasks asked only some questions (score --questions) have no measures to roll up.
    complete = measures[MEASURES].notna().all(axis=1)
    if not complete.all():
        log.warning(
            "aggregate: %d of %d tasks lack some rubric answers (scored with --questions); "
            "they are left out of the roll-up",
            int((~complete).sum()),
            len(measures),
        )
        measures = measures[complete]
        if measures.empty:
            raise ConfigError(
                f"aggregate: got no task with answers to every rubric question for model "
                f"{model_id!r}, expected some (score without --questions, or calibrate)"
            )
    occupations = rollup.occupation_scores(measures, weighting=weighting, n_boot=n_boot)
    occupations = occupations.merge(employment, on="onet_soc_code", how="left")
    occupations = rollup.quadrants(occupations, creation_axis=creation_axis)
    occupations = occupations.drop(columns=["employment"]).assign(
        model_id=model_id, rubric_hash=rubric_hash, head_id=head_id, run_id=run_id
    )
    with open_store(db) as con:
        store_scores.replace_occupation_scores(
            con,
            occupations,
            model_id=model_id,
            rubric_hash=rubric_hash,
            head_id=head_id,
            weighting=weighting,
        )
        finish_run(
            con,
            run_id,
            status="done",
            counts={"occupations": len(occupations), "tasks": len(measures)},
        )
    return AggregateResult(
        run_id=run_id,
        model_id=model_id,
        rubric_hash=rubric_hash,
        head_id=head_id,
        weighting=weighting,
        n_occupations=len(occupations),
        n_tasks=len(measures),
    )


EMBEDDED_KINDS = ("tasks", "dwas", "emerging")


def embed(
    *,
    db: str | Path,
    embedder: Embedder,
    kinds: Sequence[str] = EMBEDDED_KINDS,
    batch_size: int = 1024,
    progress: bool = False,
) -> dict[str, int]:
    """Embed task statements, DWA titles and emerging tasks into the store's cache.

    Identical texts are embedded once; a rerun embeds only texts not cached for this model.
    Returns the number of texts of each kind now embedded.
    """
    from jobimpact.embedding import embed_texts
    from jobimpact.store import families as store_families
    from jobimpact.store import open_store
    from jobimpact.store.io import now, record_run

    started_texts = {}
    with open_store(db) as con:
        for kind in kinds:
            if kind not in EMBEDDED_KINDS:
                raise ConfigError(f"embed: got kind {kind!r}, expected one of {EMBEDDED_KINDS}")
            started_texts[kind] = store_families.texts(con, kind)["task"].tolist()
    cache = store_families.DuckDBEmbeddingCache(str(db))
    started = now()
    for texts in started_texts.values():
        embed_texts(texts, embedder=embedder, cache=cache, batch_size=batch_size, progress=progress)
    counts = {kind: len(texts) for kind, texts in started_texts.items()}
    with open_store(db) as con:
        record_run(
            con,
            stage="embed",
            parameters={"model_id": embedder.model_id, "kinds": list(kinds)},
            counts=counts,
            started_at=started,
        )
    return counts


@dataclass(frozen=True)
class ClusterSummary:
    """A stored clustering: its id, size and quality."""

    clustering_id: str
    n_clusters: int
    silhouette: float
    reused: bool


def cluster(
    *,
    db: str | Path,
    embedder: Embedder,
    estimator: Any = None,
    random_state: int = 0,
    force: bool = False,
) -> ClusterSummary:
    """Cluster the task embeddings into task families and store labels, map and emerging links.

    The clustering is content-addressed by the embedding model, the estimator and the task
    texts: a rerun on the same inputs reuses it unless ``force``.
    """
    from jobimpact import clustering
    from jobimpact.embedding import embed_texts
    from jobimpact.store import families as store_families
    from jobimpact.store import open_store
    from jobimpact.store.io import finish_run, start_run

    with open_store(db) as con:
        tasks = store_families.texts(con, "tasks")
        emerging = store_families.texts(con, "emerging")
    if tasks.empty:
        raise ConfigError("cluster: got a store with no tasks, expected `jobimpact ingest` first")
    method = "default" if estimator is None else repr(estimator)
    identity = [embedder.model_id, method, random_state, *tasks["text_sha256"]]
    clustering_id = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:16]
    with open_store(db) as con:
        stored = store_families.stored_clustering(con, clustering_id)
        if stored is not None and not force:
            return ClusterSummary(clustering_id, *stored, reused=True)
        run_id = start_run(
            con,
            stage="cluster",
            parameters={"model_id": embedder.model_id, "method": method, "seed": random_state},
        )
    cache = store_families.DuckDBEmbeddingCache(str(db))
    vectors = embed_texts(tasks["task"].tolist(), embedder=embedder, cache=cache)
    result = clustering.cluster_embeddings(vectors, estimator=estimator, random_state=random_state)
    labels = clustering.label_clusters(tasks["task"].tolist(), result.labels, vectors)
    coords = clustering.project_2d(vectors, random_state=random_state)
    task_rows = pd.DataFrame(
        {
            "clustering_id": clustering_id,
            "task_id": tasks["task_id"],
            "cluster_id": result.labels,
            "x": coords[:, 0],
            "y": coords[:, 1],
        }
    )
    label_rows = labels[["cluster_id", "size", "label", "terms", "examples"]].assign(
        clustering_id=clustering_id
    )
    emerging_rows = pd.DataFrame(
        columns=["clustering_id", "emerging_id", "cluster_id", "similarity"]
    )
    if not emerging.empty:
        emerging_vectors = embed_texts(emerging["task"].tolist(), embedder=embedder, cache=cache)
        nearest, similarity = clustering.nearest_cluster(emerging_vectors, result.centroids)
        emerging_rows = pd.DataFrame(
            {
                "clustering_id": clustering_id,
                "emerging_id": emerging["emerging_id"],
                "cluster_id": nearest,
                "similarity": similarity,
            }
        )
    with open_store(db) as con:
        store_families.write_clustering(
            con,
            clustering={
                "clustering_id": clustering_id,
                "model_id": embedder.model_id,
                "method": result.method,
                "n_clusters": result.n_clusters,
                "silhouette": result.silhouette,
                "k_scores": {str(k): v for k, v in result.k_scores.items()},
                "run_id": run_id,
            },
            task_clusters=task_rows,
            labels=label_rows,
            emerging=emerging_rows,
        )
        finish_run(
            con,
            run_id,
            status="done",
            counts={
                "tasks": len(tasks),
                "clusters": result.n_clusters,
                "emerging_tasks": len(emerging_rows),
            },
        )
    return ClusterSummary(clustering_id, result.n_clusters, result.silhouette, reused=False)


def export_head(*, db: str | Path, head_id: str, path: Path) -> None:
    """Write a stored head as JSON, the form :func:`~jobimpact.calibration.packaged_head` reads."""
    from jobimpact.calibration import head_to_dict
    from jobimpact.store import calibration as store_heads
    from jobimpact.store import open_store

    with open_store(db, read_only=True) as con:
        head = store_heads.read_head(con, head_id)
    if head is None:
        raise ConfigError(f"calibration head: got {head_id!r}, expected a stored head id")
    path.write_text(json.dumps(head_to_dict(head)), encoding="utf-8")


@dataclass(frozen=True)
class ValidateResult:
    """Agreement of one scoring with reference labels, as stored."""

    validation_id: str
    run_id: str
    model_id: str
    rubric_hash: str
    head_id: str
    mode: str  # zero-shot | out-of-fold | held-out
    labels_name: str
    n_labelled: int
    n_matched_id: int
    n_matched_text: int
    n_scored: int
    metrics: pd.DataFrame
    reliability: pd.DataFrame
    seconds: float


def _validation_mode(head: CalibrationHead | None, codes: pd.Series) -> str:
    """How the compared scores were made, for the reader of the figures."""
    if head is None:
        return "zero-shot"
    seen = codes.isin(list(head.folds)).any()
    return "out-of-fold" if seen else "held-out"


def validate(
    *,
    db: str | Path,
    labels: Path,
    model_id: str | None = None,
    rubric_hash: str | None = None,
    head_id: str | None = None,
    n_boot: int = 1000,
) -> ValidateResult:
    """Compare a scoring with reference labels and store the figures.

    The scoring defaults to the latest model and rubric, calibrated by the head that last
    scored it (``head_id=""``: the zero-shot scores). Tasks of the head's training
    occupations carry out-of-fold scores, so no task is judged by a head that saw it.
    """
    import time
    import uuid

    from jobimpact.labels import match_labels, read_labels
    from jobimpact.store import calibration as store_heads
    from jobimpact.store import open_store
    from jobimpact.store import scores as store_scores
    from jobimpact.store.io import finish_run, now, start_run
    from jobimpact.store.validation import write_validation
    from jobimpact.validation import validate_scores

    started = time.perf_counter()
    labelled = read_labels(labels)
    with open_store(db) as con:
        model_id, rubric_hash = _zero_shot_scoring(con, model_id, rubric_hash)
        if head_id is None:
            head_id = store_scores.scored_head(con, model_id=model_id, rubric_hash=rubric_hash)
        head = store_heads.read_head(con, head_id) if head_id else None
        matched = match_labels(labelled, store_scores.tasks_to_score(con))
        measures = store_scores.task_measures(
            con, model_id=model_id, rubric_hash=rubric_hash, head_id=head_id
        )
    measures = measures.sort_values("scored_at").drop_duplicates("task_id", keep="last")
    # tasks asked only some questions zero-shot (score --questions) cannot be compared
    measures = measures.dropna(subset=["alpha", "beta", "zeta", "displacement"])
    scored = matched.frame.drop(columns=["task_type", "onet_soc_code"]).merge(
        measures[
            ["task_id", "onet_soc_code", "task_type", "alpha", "beta", "zeta", "displacement"]
        ],
        on="task_id",
    )
    if len(scored) < 20 or scored["onet_soc_code"].nunique() < 3:
        raise ConfigError(
            f"validate: got {len(scored)} labelled tasks with scores of {model_id!r}, expected at "
            "least 20 in 3 occupations (score the labelled occupations: jobimpact score --labelled)"
        )
    tables = validate_scores(scored, n_boot=n_boot)
    mode = _validation_mode(head, scored["onet_soc_code"])
    with open_store(db) as con:
        run_id = start_run(
            con,
            stage="validate",
            parameters={"labels": labelled.name, "model_id": model_id, "head_id": head_id},
        )
        validation_id = uuid.uuid4().hex
        write_validation(
            con,
            {
                "validation_id": validation_id,
                "run_id": run_id,
                "model_id": model_id,
                "rubric_hash": rubric_hash,
                "head_id": head_id,
                "mode": mode,
                "labels_name": labelled.name,
                "labels_sha256": labelled.sha256,
                "n_labelled": matched.n_labelled,
                "n_matched_id": matched.n_by_id,
                "n_matched_text": matched.n_by_text,
                "n_scored": len(scored),
                "created_at": now(),
            },
            tables.metrics,
            tables.reliability,
        )
        finish_run(con, run_id, status="done", counts={"tasks": len(scored), "mode": mode})
    return ValidateResult(
        validation_id=validation_id,
        run_id=run_id,
        model_id=model_id,
        rubric_hash=rubric_hash,
        head_id=head_id,
        mode=mode,
        labels_name=labelled.name,
        n_labelled=matched.n_labelled,
        n_matched_id=matched.n_by_id,
        n_matched_text=matched.n_by_text,
        n_scored=len(scored),
        metrics=tables.metrics,
        reliability=tables.reliability,
        seconds=time.perf_counter() - started,
    )
