"""The ``jobimpact`` command: a thin shell over the library.

Each command parses its options, calls one library function and prints the result.
A :class:`~jobimpact.errors.JobImpactError` becomes one line on stderr and exit code 1.
Heavy modules are imported inside the commands so that ``jobimpact --help`` is instant.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from jobimpact import __version__, config
from jobimpact.errors import JobImpactError

log = logging.getLogger("jobimpact")


class _Group(click.Group):
    """Turns user errors into one line and a non-zero exit, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except JobImpactError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=config.ENV_DB,
    default=config.DEFAULT_DB,
    show_default=True,
    help=f"The DuckDB store (or ${config.ENV_DB}).",
)
data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=config.ENV_DATA_DIR,
    default=config.DEFAULT_DATA_DIR,
    show_default=True,
    help=f"Where raw sources are kept, under raw/<source>/<version>/ (or ${config.ENV_DATA_DIR}).",
)
mirror_option = click.option(
    "--mirror",
    envvar=config.ENV_MIRROR,
    default=None,
    help=f"Folder or http(s) URL laid out like the data mirror (or ${config.ENV_MIRROR}).",
)
sample_option = click.option(
    "--sample", type=int, default=None, help="Score N occupations across major groups."
)
backend_option = click.option(
    "--backend", default="transformers", show_default=True, help="Scoring backend."
)
model_option = click.option(
    "--model", default=None, help="Registered model name, folder, .gguf file or hub id."
)
report_out_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Folder for jobimpact_report.html and .pdf.",
)
report_formats_option = click.option(
    "--format", "formats", default="html,pdf", show_default=True, help="html, pdf or both."
)
labels_option = click.option(
    "--labels",
    type=click.Path(path_type=Path),
    default=None,
    help="Label file with GPTs-are-GPTs columns (default: the fetched full_labelset.tsv).",
)
model_id_option = click.option(
    "--model-id", default=None, help="Model of the scoring to use (default: the latest scored)."
)
rubric_hash_option = click.option(
    "--rubric-hash", default=None, help="Rubric of that scoring (default: the latest)."
)
head_id_option = click.option(
    "--head-id",
    default=None,
    help="Calibration head of that scoring (default: the latest applied; 'none': zero-shot).",
)
onet_version_option = click.option(
    "--onet-version",
    default=config.DEFAULT_ONET_VERSION,
    show_default=True,
    help="O*NET database release.",
)
oews_version_option = click.option(
    "--oews-version",
    default=config.DEFAULT_OEWS_VERSION,
    show_default=True,
    help="BLS OEWS national release, e.g. M2024 for May 2024.",
)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="jobimpact")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
def cli(verbose: int, quiet: bool) -> None:
    """Measure how large language models change work, task by task.

    Data flows fetch → ingest → (score → embed → cluster → aggregate → report),
    all kept in one DuckDB store with provenance.
    """
    level = logging.ERROR if quiet else [logging.WARNING, logging.INFO][min(verbose, 1)]
    level = logging.DEBUG if verbose > 1 else level
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


@cli.command()
@click.option(
    "--source",
    "sources",
    multiple=True,
    help="Fetch only this source (repeatable); default: all.",
)
@data_dir_option
@mirror_option
@onet_version_option
@oews_version_option
@click.option("--force", is_flag=True, help="Download again even if a verified copy exists.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def fetch(
    sources: tuple[str, ...],
    data_dir: Path,
    mirror: str | None,
    onet_version: str,
    oews_version: str,
    force: bool,
    progress: bool,
) -> None:
    """Download the public data sources into DATA_DIR/raw/<source>/<version>/."""
    from jobimpact.sources import fetch as fetch_sources

    manifests = fetch_sources(
        list(sources) or None,
        data_dir=data_dir,
        mirror=mirror,
        versions={"onet": onet_version, "oews": oews_version},
        force=force,
        progress=progress and sys.stderr.isatty(),
    )
    for manifest in manifests:
        click.echo(
            f"{manifest.source} {manifest.version}: {len(manifest.files)} files from "
            f"{manifest.origin}"
        )


@cli.command()
@db_option
@data_dir_option
@onet_version_option
@oews_version_option
@click.option("--force", is_flag=True, help="Ingest again even if the files are unchanged.")
def ingest(db: Path, data_dir: Path, onet_version: str, oews_version: str, force: bool) -> None:
    """Parse the fetched sources into the store's reference tables."""
    from jobimpact.pipeline import ingest as run_ingest

    result = run_ingest(
        db=db,
        data_dir=data_dir,
        onet_version=onet_version,
        oews_version=oews_version,
        force=force,
    )
    if not result.changed:
        click.echo(f"{db}: already up to date with these source files; nothing to do.")
        return
    for table, count in result.counts.items():
        click.echo(f"{table:>22}: {count:,}")
    _echo_coverage(result.coverage)


def _echo_coverage(coverage: dict[str, Any]) -> None:
    matched, total = coverage.get("matched_employment"), coverage.get("total_employment")
    if matched is None or not total:
        return
    click.echo(
        f"employment matched to occupations with tasks: {matched:,.0f} of {total:,.0f} "
        f"({matched / total:.1%})"
    )


@cli.command()
@click.argument("query")
@db_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json", "parquet"]),
    default="table",
    show_default=True,
    help="table prints; the others write --output.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write for csv, json or parquet (csv and json print when omitted).",
)
def sql(query: str, db: Path, fmt: str, output: Path | None) -> None:
    """Run a read-only SQL QUERY on the store; see the README for the documented views."""
    from jobimpact.store import open_store
    from jobimpact.store.read import run_query, write_frame

    with open_store(db, read_only=True) as con:
        frame = run_query(con, query)
    if fmt == "table":
        click.echo(frame.to_string(index=False, max_rows=200, max_colwidth=60))
    elif output is not None:
        write_frame(frame, output, fmt=fmt)
        click.echo(f"{len(frame):,} rows written to {output}")
    elif fmt == "csv":
        click.echo(frame.to_csv(index=False), nl=False)
    elif fmt == "json":
        click.echo(frame.to_json(orient="records", date_format="iso", indent=1))
    else:
        raise click.UsageError("--format parquet needs --output FILE")


@cli.command()
@db_option
@click.option(
    "--parquet",
    "parquet_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write one <name>.parquet per table and view.",
)
def export(db: Path, parquet_dir: Path) -> None:
    """Write every table and view of the store as Parquet files."""
    from jobimpact.store import open_store
    from jobimpact.store.read import export_parquet

    with open_store(db, read_only=True) as con:
        written = export_parquet(con, parquet_dir)
    click.echo(f"{len(written)} files written to {parquet_dir}")


@cli.command()
@db_option
def status(db: Path) -> None:
    """Show what is in the store: rows per table, source versions, coverage, last runs."""
    from jobimpact.store import open_store
    from jobimpact.store.read import store_status

    with open_store(db, read_only=True) as con:
        summary = store_status(con)
    click.echo(f"store: {db} (schema version {summary['schema_version']})")
    click.echo("sources:")
    for source in summary["sources"] or [{"source": "(none: run jobimpact fetch and ingest)"}]:
        click.echo(f"  {source['source']} {source.get('version', '')}".rstrip())
    click.echo("rows:")
    for table, count in summary["counts"].items():
        click.echo(f"  {table:>18}: {count:,}")
    click.echo(f"  occupations with tasks: {summary['occupations_with_tasks']:,}")
    _echo_coverage(summary["employment_coverage"])
    click.echo("last runs:")
    for run in summary["last_runs"]:
        counts = ", ".join(
            f"{key} {value:,}" for key, value in (run["counts"] or {}).items() if type(value) is int
        )
        click.echo(
            f"  {run['started_at']:%Y-%m-%d %H:%M} {run['stage']:<10} {run['status']:<8} {counts}"
        )


@cli.command()
@db_option
@backend_option
@model_option
@click.option("--rubric", default=None, help="Rubric name or TOML file (default: exposure).")
@click.option(
    "--questions",
    default=None,
    help="Comma-separated rubric questions to ask zero-shot (default: all; e.g. 'creation' "
    "when a calibration head answers the others).",
)
@click.option("--occupations", default=None, help="Comma-separated O*NET-SOC codes to score.")
@sample_option
@click.option("--limit", type=int, default=None, help="Score at most N tasks.")
@click.option(
    "--labelled",
    is_flag=True,
    help="Also score the occupations of the fetched label set (to fit or validate a head).",
)
@data_dir_option
@click.option("--batch-size", type=int, default=16, show_default=True)
@click.option("--force", is_flag=True, help="Score again tasks that already have scores.")
def score(
    db: Path,
    backend: str,
    model: str | None,
    rubric: str | None,
    questions: str | None,
    occupations: str | None,
    sample: int | None,
    limit: int | None,
    labelled: bool,
    data_dir: Path,
    batch_size: int,
    force: bool,
) -> None:
    """Score tasks with an LLM on the rubric's questions; reruns do only what is missing.

    When a calibration head exists for the model (fitted with `jobimpact calibrate`, or
    shipped for the default model), it also scores the new tasks from their features.
    """
    from tqdm import tqdm

    from jobimpact.pipeline import score as run_score
    from jobimpact.scoring import get_backend

    codes = occupations.split(",") if occupations else None
    if labelled:
        from jobimpact.labels import default_labels_path, read_labels

        labels = read_labels(default_labels_path(data_dir))
        codes = sorted(set(labels.frame["onet_soc_code"]) | set(codes or []))

    params: dict[str, Any] = {"rubric": rubric}
    if model is not None:
        params["model"] = model
    if questions is not None:
        params["questions"] = [q.strip() for q in questions.split(",") if q.strip()]
    scorer = get_backend(backend, **params)
    with tqdm(unit="task", disable=not sys.stderr.isatty(), desc="scoring") as bar:

        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = run_score(
            db=db,
            scorer=scorer,
            occupations=codes,
            sample=sample,
            limit=limit,
            batch_size=batch_size,
            force=force,
            progress=advance,
        )
    click.echo(
        f"{result.model_id} / rubric {result.rubric_hash[:12]}: {result.scored:,} tasks scored, "
        f"{result.already_scored:,} already scored, {result.failed:,} failed "
        f"(of {result.selected:,} selected)"
        + (f"; calibrated by head {result.head_id}" if result.head_id else "")
    )


@cli.command()
@db_option
@data_dir_option
@labels_option
@model_id_option
@rubric_hash_option
@click.option("--folds", type=int, default=5, show_default=True, help="Occupation-grouped folds.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--export",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the head as JSON (the form shipped in jobimpact/heads/).",
)
def calibrate(
    db: Path,
    data_dir: Path,
    labels: Path | None,
    model_id: str | None,
    rubric_hash: str | None,
    folds: int,
    seed: int,
    export: Path | None,
) -> None:
    """Fit a calibration head from task features to labelled probabilities, store it, and
    score every featured task with it (labelled occupations out of fold)."""
    from jobimpact.labels import default_labels_path
    from jobimpact.pipeline import calibrate as run_calibrate

    result = run_calibrate(
        db=db,
        labels=labels or default_labels_path(data_dir),
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
        click.echo(
            f"  {question:<11} AUC {metrics['auc']:.3f}  Brier {metrics['brier']:.3f}  "
            f"positives {metrics['positives']:.1%}"
        )
    if export is not None:
        from jobimpact.pipeline import export_head

        export_head(db=db, head_id=result.head_id, path=export)
        click.echo(f"wrote {export}")


@cli.command()
@db_option
@data_dir_option
@labels_option
@model_id_option
@rubric_hash_option
@head_id_option
@click.option("--n-boot", type=int, default=1000, show_default=True, help="Bootstrap resamples.")
def validate(
    db: Path,
    data_dir: Path,
    labels: Path | None,
    model_id: str | None,
    rubric_hash: str | None,
    head_id: str | None,
    n_boot: int,
) -> None:
    """Compare scores with human and GPT-4 labels (task AUC, kappa, Brier; occupation
    correlations of beta); store and print the figures."""
    from jobimpact.labels import default_labels_path
    from jobimpact.pipeline import validate as run_validate
    from jobimpact.validation import format_metrics

    result = run_validate(
        db=db,
        labels=labels or default_labels_path(data_dir),
        model_id=model_id,
        rubric_hash=rubric_hash,
        head_id="" if head_id == "none" else head_id,
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
    click.echo(f"validation {result.validation_id} stored ({result.seconds:.1f} s)")


@cli.command()
@db_option
@model_id_option
@rubric_hash_option
@head_id_option
@click.option(
    "--weighting",
    type=click.Choice(["rating", "type"]),
    default="rating",
    show_default=True,
    help="Task weights: importance x relevance, or core 2 / supplemental 1.",
)
@click.option(
    "--creation-axis",
    type=click.Choice(["augmentation", "creation"]),
    default="augmentation",
    show_default=True,
    help="Measure on the creation axis of the quadrants.",
)
@click.option("--n-boot", type=int, default=200, show_default=True, help="Bootstrap resamples.")
def aggregate(
    db: Path,
    model_id: str | None,
    rubric_hash: str | None,
    head_id: str | None,
    weighting: str,
    creation_axis: str,
    n_boot: int,
) -> None:
    """Roll task scores up to occupations (then major groups and the economy in views)."""
    from jobimpact.pipeline import aggregate as run_aggregate

    result = run_aggregate(
        db=db,
        model_id=model_id,
        rubric_hash=rubric_hash,
        head_id="" if head_id == "none" else head_id,
        weighting=weighting,  # type: ignore[arg-type]
        creation_axis=creation_axis,
        n_boot=n_boot,
    )
    click.echo(
        f"{result.model_id} / rubric {result.rubric_hash[:12]}"
        f" / {f'head {result.head_id}' if result.head_id else 'zero-shot'}: {result.n_tasks:,} "
        f"tasks rolled up to {result.n_occupations:,} occupations ({result.weighting} weights)"
    )


embedder_option = click.option(
    "--embedder", default="sentence-transformers", show_default=True, help="Embedding backend."
)
embedding_model_option = click.option(
    "--model",
    default=None,
    help="Sentence-transformers model id or folder (default: the embedded MiniLM).",
)


def _embedder(name: str, model: str | None) -> Any:
    from jobimpact.embedding import get_embedder

    return get_embedder(name, **({"model": model} if model else {}))


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
def embed(db: Path, embedder: str, model: str | None, batch_size: int) -> None:
    """Embed task statements, DWA titles and emerging tasks (cached by text and model)."""
    from jobimpact.pipeline import embed as run_embed

    counts = run_embed(
        db=db,
        embedder=_embedder(embedder, model),
        batch_size=batch_size,
        progress=sys.stderr.isatty(),
    )
    click.echo(", ".join(f"{kind}: {n:,}" for kind, n in counts.items()) + " texts embedded")


@cli.command()
@db_option
@embedder_option
@embedding_model_option
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--force", is_flag=True, help="Cluster again even if this clustering is stored.")
def cluster(db: Path, embedder: str, model: str | None, seed: int, force: bool) -> None:
    """Group tasks into task families (k-means, k chosen by silhouette) with labels."""
    from jobimpact.pipeline import cluster as run_cluster

    summary = run_cluster(
        db=db, embedder=_embedder(embedder, model), random_state=seed, force=force
    )
    state = "reused" if summary.reused else "stored"
    click.echo(
        f"clustering {summary.clustering_id} {state}: {summary.n_clusters} task families, "
        f"silhouette {summary.silhouette:.3f}"
    )


@cli.command()
@db_option
@data_dir_option
@mirror_option
@sample_option
@backend_option
@model_option
@embedder_option
@report_out_option
@report_formats_option
@click.option("--batch-size", type=int, default=16, show_default=True)
def run(
    db: Path,
    data_dir: Path,
    mirror: str | None,
    sample: int | None,
    backend: str,
    model: str | None,
    embedder: str,
    out_dir: Path,
    formats: str,
    batch_size: int,
) -> None:
    """Fetch, ingest, score, embed, cluster, aggregate, validate and report in one go;
    rerun to resume (every stage skips work already done)."""
    from tqdm import tqdm

    from jobimpact.end_to_end import STAGES
    from jobimpact.end_to_end import run as run_all

    with tqdm(total=len(STAGES), disable=not sys.stderr.isatty(), unit="stage") as bar:
        finished: set[str] = set()

        def advance(stage: str, done: int, total: int) -> None:
            bar.set_description(f"{stage} {done:,}/{total:,}" if total > 1 else stage)
            if done >= total and stage not in finished:
                finished.add(stage)
                bar.update(1)

        summary = run_all(
            db=db,
            data_dir=data_dir,
            mirror=mirror,
            sample=sample,
            backend=backend,
            model=model,
            embedder=embedder,
            out_dir=out_dir,
            formats=[f.strip() for f in formats.split(",") if f.strip()],
            batch_size=batch_size,
            progress=advance,
        )
    for stage, line in summary.lines.items():
        click.echo(f"{stage:<10} {line}")


@cli.command()
def models() -> None:
    """List scoring backends and registered models with licence and source of the weights."""
    from jobimpact.scoring import MODELS, available_backends

    click.echo("backends: " + ", ".join(available_backends()))
    for name, info in MODELS.items():
        click.echo(f"{name}: {info.upstream} ({info.licence}); weights: {info.weights}")
    from jobimpact.calibration import packaged_heads

    for head in packaged_heads():
        aucs = ", ".join(f"{q} {m['auc']:.3f}" for q, m in sorted(head["cv_metrics"].items()))
        click.echo(
            f"calibration head {head['head_id']} for {head['model_id']}: {head['n_tasks']:,} "
            f"labelled tasks, out-of-fold AUC {aucs}"
        )


@cli.command()
@db_option
@report_out_option
@report_formats_option
@click.option("--title", default=None, help="Report title.")
@click.option(
    "--major-group",
    default=None,
    help="Focus on one SOC major group: its code (15-0000) or part of its title.",
)
@model_id_option
@head_id_option
@click.option(
    "--weighting",
    type=click.Choice(["rating", "type"]),
    default="rating",
    show_default=True,
    help="Task weighting of the roll-up to report.",
)
def report(
    db: Path,
    out_dir: Path,
    formats: str,
    title: str | None,
    major_group: str | None,
    model_id: str | None,
    head_id: str | None,
    weighting: str,
) -> None:
    """Write the displacement-versus-creation report: self-contained HTML and a PDF."""
    from jobimpact.report import build_report

    result = build_report(
        db,
        out_dir=out_dir,
        formats=formats.split(","),
        title=title,
        major_group=major_group,
        model_id=model_id,
        head_id="" if head_id == "none" else head_id,
        weighting=weighting,
    )
    for fmt, path in result.paths.items():
        click.echo(f"{fmt}: {path}")
    pages = f", {result.n_pages} pages" if result.n_pages else ""
    click.echo(
        f"{result.scoring['model_id']} ({result.scoring['method']}){pages}, {result.seconds:.1f} s"
    )


def main() -> None:
    """Entry point of the console script."""
    cli(prog_name="jobimpact")
