"""Commands that run the stages: score, calibrate, validate, aggregate, embed, cluster,
report, run, and models (what can score)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from jobimpact.cli import cli
from jobimpact.cli.options import (
    backend_option,
    batch_size_option,
    creation_labels_option,
    data_dir_option,
    db_option,
    embedder_option,
    embedding_model_option,
    endpoint_option,
    formats_option,
    head_choice,
    head_id_option,
    labels_option,
    mirror_option,
    model_id_option,
    model_option,
    no_logprobs_option,
    out_dir_option,
    rubric_hash_option,
    sample_option,
    setting,
    settings_from,
    usage_option,
)
from jobimpact.settings import Settings

weighting_option = click.option(
    "--weighting",
    type=click.Choice(["rating", "type"]),
    default="rating",
    show_default=True,
    help="Task weights: importance x relevance, or core 2 / supplemental 1.",
)


@contextmanager
def _progress_bar(desc: str, unit: str) -> Iterator[Any]:
    """A tqdm bar on a terminal, a silent one otherwise; call it with (done, total)."""
    from tqdm import tqdm

    with tqdm(unit=unit, disable=not sys.stderr.isatty(), desc=desc) as bar:

        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield advance


def _labels(labels: Path | None, settings: Settings) -> Path:
    from jobimpact.labels import default_labels_path

    return labels or default_labels_path(settings.data_dir)


@cli.command()
@db_option
@backend_option
@model_option
@endpoint_option
@no_logprobs_option
@setting("rubric", "--rubric", help="Rubric name or TOML file.")
@click.option(
    "--questions",
    default=None,
    help="Comma-separated rubric questions to ask zero-shot, or 'none' for the feature pass "
    "(default: none when a shipped calibration head answers every question, else all).",
)
@click.option(
    "--layer",
    type=int,
    default=None,
    help="Block whose task-token mean is the feature vector (transformers backend; default: "
    "the model's registered feature layer).",
)
@click.option(
    "--compute",
    default=None,
    help="Precision of the feature pass: float32, int8 or int8-partial (transformers "
    "backend; default: the model's registered one). Part of the model id.",
)
@click.option(
    "--occupations",
    default=None,
    help="Comma-separated codes to score: O*NET-SOC (15-1252.00) or SOC (15-1252, or a group "
    "such as 15-1250), each SOC code expanded to its O*NET-SOC occupations.",
)
@sample_option
@click.option("--limit", type=int, default=None, help="Score at most N tasks.")
@click.option(
    "--labelled",
    is_flag=True,
    help="Also score the occupations of the fetched label set (to fit or validate a head).",
)
@data_dir_option
@batch_size_option
@click.option("--force", is_flag=True, help="Score again tasks that already have scores.")
def score(
    questions: str | None,
    layer: int | None,
    compute: str | None,
    occupations: str | None,
    limit: int | None,
    labelled: bool,
    force: bool,
    **options: Any,
) -> None:
    """Score tasks with an LLM on the rubric's questions; reruns do only what is missing.

    When a calibration head exists for the model (fitted with `jobimpact calibrate`, or
    shipped for the default model), it also scores the new tasks from their features.
    Exits 1 when there were tasks to score and none could be, or when the server refuses
    the requests themselves.
    """
    from jobimpact.pipeline import make_scorer, run_score

    settings = settings_from(**options)
    codes = occupations.split(",") if occupations else None
    if labelled:
        from jobimpact.labels import read_labels

        labels = read_labels(_labels(None, settings))
        codes = sorted(set(labels.frame["onet_soc_code"]) | set(codes or []))
    chosen = {"layer": layer, "compute": compute}
    extra: dict[str, Any] = {k: v for k, v in chosen.items() if v is not None}
    if questions is not None:
        asked = [q.strip() for q in questions.split(",") if q.strip()]
        extra["questions"] = [] if asked == ["none"] else asked
    scorer = make_scorer(settings, **extra)
    with _progress_bar("scoring", "task") as advance:
        result = run_score(
            db=settings.db,
            scorer=scorer,
            occupations=codes,
            sample=settings.sample,
            limit=limit,
            batch_size=settings.batch_size,
            force=force,
            progress=advance,
        )
    for soc_code, onet_codes in result.expanded.items():
        click.echo(f"--occupations: SOC code {soc_code} stands for {', '.join(onet_codes)}")
    click.echo(
        f"{result.model_id} / rubric {result.rubric_hash[:12]}: {result.scored:,} tasks scored, "
        f"{result.already_scored:,} already scored, {result.failed:,} failed "
        f"(of {result.selected:,} selected)"
        + (f"; calibrated by head {result.head_id}" if result.head_id else "")
        + (
            f"; {result.text_answers:,} answers read from text, not log-probabilities"
            if result.text_answers
            else ""
        )
    )


@cli.command()
@db_option
@data_dir_option
@labels_option
@model_id_option
@rubric_hash_option
@click.option(
    "--creation",
    type=click.Choice(["head", "zero-shot"]),
    default="head",
    show_default=True,
    help="Learn creation from observed augmentation (head), or keep the zero-shot answer.",
)
@creation_labels_option
@usage_option
@click.option("--folds", type=int, default=5, show_default=True, help="Occupation-grouped folds.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--export",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the head as JSON (the form shipped in jobimpact/heads/).",
)
def calibrate(
    db: Path | None,
    data_dir: Path | None,
    labels: Path | None,
    model_id: str | None,
    rubric_hash: str | None,
    creation: str,
    creation_labels: Path | None,
    usage: Path | None,
    folds: int,
    seed: int,
    export: Path | None,
) -> None:
    """Fit a calibration head from task features to labelled probabilities, store it, and
    score every featured task with it (labelled occupations out of fold)."""
    from jobimpact.pipeline import export_head, run_calibrate
    from jobimpact.usage import default_modes_path, default_usage_path

    settings = settings_from(db=db, data_dir=data_dir)
    if creation == "head":
        creation_labels = creation_labels or default_modes_path(settings.data_dir)
        usage = usage or default_usage_path(settings.data_dir)
    result = run_calibrate(
        db=settings.db,
        labels=_labels(labels, settings),
        creation_labels=creation_labels if creation == "head" else None,
        usage=usage if creation == "head" else None,
        model_id=model_id,
        rubric_hash=rubric_hash,
        n_folds=folds,
        random_state=seed,
    )
    click.echo(
        f"head {result.head_id} for {result.model_id}: fitted on {result.n_tasks:,} labelled "
        f"tasks in {result.n_occupations:,} occupations ({result.n_matched_id:,} of "
        f"{result.n_labelled:,} labels matched by id, {result.n_matched_text:,} by text); "
        f"{result.applied:,} tasks scored with it"
    )
    click.echo("out-of-fold (occupation-grouped):")
    for question, metrics in result.cv_metrics.items():
        spearman = f"  Spearman {metrics['spearman']:.3f}" if "spearman" in metrics else ""
        click.echo(
            f"  {question:<11} AUC {metrics['auc']:.3f}  Brier {metrics['brier']:.3f}  "
            f"positives {metrics['positives']:.1%}{spearman}"
        )
    if export is not None:
        export_head(db=settings.db, head_id=result.head_id, path=export)
        click.echo(f"wrote {export}")


@cli.command()
@db_option
@data_dir_option
@labels_option
@model_id_option
@rubric_hash_option
@head_id_option
@creation_labels_option
@usage_option
@click.option("--n-boot", type=int, default=1000, show_default=True, help="Bootstrap resamples.")
def validate(
    db: Path | None,
    data_dir: Path | None,
    labels: Path | None,
    model_id: str | None,
    rubric_hash: str | None,
    head_id: str | None,
    creation_labels: Path | None,
    usage: Path | None,
    n_boot: int,
) -> None:
    """Compare scores with reference data and store the figures: exposure with human and
    GPT-4 labels (task AUC, kappa, Brier; occupation correlations of beta), creation with
    observed augmentation and new work, exposure with observed use."""
    from jobimpact.pipeline import run_validate
    from jobimpact.usage import default_modes_path, default_usage_path
    from jobimpact.validation import format_creation, format_metrics

    settings = settings_from(db=db, data_dir=data_dir)
    result = run_validate(
        db=settings.db,
        labels=_labels(labels, settings),
        model_id=model_id,
        rubric_hash=rubric_hash,
        head_id=head_choice(head_id),
        creation_labels=creation_labels or default_modes_path(settings.data_dir),
        usage=usage or default_usage_path(settings.data_dir),
        n_boot=n_boot,
    )
    scoring = f"head {result.head_id}" if result.head_id else "zero-shot"
    click.echo(
        f"{result.model_id} / rubric {result.rubric_hash[:12]} / {scoring}, mode {result.mode}"
    )
    click.echo(
        f"{result.labels_name}: {result.n_matched_id:,} of {result.n_labelled:,} labelled tasks "
        f"matched by (O*NET-SOC Code, Task ID), {result.n_matched_text:,} by text; "
        f"{result.n_scored:,} have scores"
    )
    click.echo(format_metrics(result.metrics))
    creation = format_creation(result.metrics)
    if creation:
        click.echo(creation)
    click.echo(f"validation {result.validation_id} stored ({result.seconds:.1f} s)")


@cli.command()
@db_option
@model_id_option
@rubric_hash_option
@head_id_option
@weighting_option
@click.option(
    "--displacement-threshold",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Quadrant line on the displacement axis (probability scale).",
)
@click.option(
    "--creation-threshold",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Quadrant line on the creation axis (probability scale).",
)
@click.option("--n-boot", type=int, default=200, show_default=True, help="Bootstrap resamples.")
def aggregate(
    db: Path | None,
    model_id: str | None,
    rubric_hash: str | None,
    head_id: str | None,
    weighting: str,
    displacement_threshold: float,
    creation_threshold: float,
    n_boot: int,
) -> None:
    """Roll task scores up to occupations (then major groups and the economy in views)."""
    from jobimpact.pipeline import run_aggregate

    result = run_aggregate(
        db=settings_from(db=db).db,
        model_id=model_id,
        rubric_hash=rubric_hash,
        head_id=head_choice(head_id),
        weighting=weighting,  # type: ignore[arg-type]
        displacement_threshold=displacement_threshold,
        creation_threshold=creation_threshold,
        n_boot=n_boot,
    )
    click.echo(
        f"{result.model_id} / rubric {result.rubric_hash[:12]}"
        f" / {f'head {result.head_id}' if result.head_id else 'zero-shot'}: {result.n_tasks:,} "
        f"tasks rolled up to {result.n_occupations:,} occupations ({result.weighting} weights)"
    )


@cli.command()
@db_option
@embedder_option
@embedding_model_option
@click.option(
    "--batch-size",
    type=int,
    default=1024,
    show_default=True,
    help="Texts per cache write (the model batches within it).",
)
def embed(batch_size: int, **options: Any) -> None:
    """Embed task statements, DWA titles and emerging tasks (cached by text and model)."""
    from jobimpact.pipeline import make_embedder, run_embed

    settings = settings_from(**options)
    result = run_embed(
        db=settings.db,
        embedder=make_embedder(settings),
        batch_size=batch_size,
        progress=sys.stderr.isatty(),
    )
    click.echo(", ".join(f"{kind}: {n:,}" for kind, n in result.counts.items()) + " texts embedded")


@cli.command()
@db_option
@embedder_option
@embedding_model_option
@click.option(
    "--k",
    "k_values",
    default=None,
    help="Numbers of families to choose among by silhouette, comma-separated, or one to fix "
    "it [default: 100,120,...,200].",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--force", is_flag=True, help="Cluster again even if this clustering is stored.")
def cluster(k_values: str | None, seed: int, force: bool, **options: Any) -> None:
    """Group tasks into task families (k-means, k chosen by silhouette) with labels."""
    from jobimpact.pipeline import make_embedder, run_cluster

    settings = settings_from(**options)
    result = run_cluster(
        db=settings.db,
        embedder=make_embedder(settings),
        k_range=_integers("--k", k_values),
        random_state=seed,
        force=force,
    )
    state = "reused" if result.reused else "stored"
    click.echo(
        f"clustering {result.clustering_id} {state}: {result.n_clusters} task families, "
        f"silhouette {result.silhouette:.3f}"
    )


def _integers(option: str, text: str | None) -> list[int] | None:
    """A comma-separated list of positive integers, or None when not given."""
    if text is None:
        return None
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 2:
        raise click.BadParameter(f"got {text!r}, expected integers >= 2 like 150 or 100,150,200")
    return values


@cli.command()
@db_option
@data_dir_option
@mirror_option
@sample_option
@backend_option
@model_option
@endpoint_option
@no_logprobs_option
@embedder_option
@out_dir_option
@formats_option
@batch_size_option
def run(**options: Any) -> None:
    """Fetch, ingest, score, embed, cluster, aggregate, validate and report in one go;
    rerun to resume (every stage skips work already done). Stops with exit 1 when
    scoring had tasks to score and scored none."""
    from tqdm import tqdm

    from jobimpact.pipeline import STAGES
    from jobimpact.pipeline import run as run_all

    settings = settings_from(**options)
    with tqdm(total=len(STAGES), disable=not sys.stderr.isatty(), unit="stage") as bar:
        finished: set[str] = set()

        def advance(stage: str, done: int, total: int) -> None:
            bar.set_description(f"{stage} {done:,}/{total:,}" if total > 1 else stage)
            if done >= total and stage not in finished:
                finished.add(stage)
                bar.update(1)

        summary = run_all(settings, progress=advance)
    for stage, line in summary.lines.items():
        click.echo(f"{stage:<10} {line}")


@cli.command()
def models() -> None:
    """List scoring backends and registered models with licence and source of the weights."""
    from jobimpact.calibration import packaged_heads
    from jobimpact.scoring import MODELS, available_backends

    click.echo("backends: " + ", ".join(available_backends()))
    for name, info in MODELS.items():
        click.echo(f"{name}: {info.upstream} ({info.licence}); weights: {info.weights}")
    for head in packaged_heads():
        aucs = ", ".join(f"{q} {m['auc']:.3f}" for q, m in sorted(head["cv_metrics"].items()))
        click.echo(
            f"calibration head {head['head_id']} for {head['model_id']}: {head['n_tasks']:,} "
            f"labelled tasks, out-of-fold AUC {aucs}"
        )


@cli.command()
@db_option
@out_dir_option
@formats_option
@click.option("--title", default=None, help="Report title.")
@click.option(
    "--major-group",
    default=None,
    help="Focus on one SOC major group: its code (15-0000) or part of its title.",
)
@model_id_option
@rubric_hash_option
@head_id_option
@weighting_option
def report(
    title: str | None,
    major_group: str | None,
    model_id: str | None,
    rubric_hash: str | None,
    head_id: str | None,
    weighting: str,
    **options: Any,
) -> None:
    """Write the displacement-versus-creation report: self-contained HTML and a PDF."""
    from jobimpact.report import build_report

    settings = settings_from(**options)
    result = build_report(
        settings.db,
        out_dir=settings.out_dir,
        formats=settings.formats,
        title=title,
        major_group=major_group,
        model_id=model_id,
        rubric_hash=rubric_hash,
        head_id=head_choice(head_id),
        weighting=weighting,
    )
    for fmt, path in result.paths.items():
        click.echo(f"{fmt}: {path}")
    pages = f", {result.n_pages} pages" if result.n_pages else ""
    click.echo(
        f"{result.scoring['model_id']} ({result.scoring['method']}){pages}, {result.seconds:.1f} s"
    )
