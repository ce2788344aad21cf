"""Commands on the data and the store: fetch, ingest, sql, export, status."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from jobimpact.cli import cli
from jobimpact.cli.options import (
    data_dir_option,
    db_option,
    mirror_option,
    oews_version_option,
    onet_version_option,
    settings_from,
)


@cli.command()
@click.option(
    "--source", "sources", multiple=True, help="Fetch only this source (repeatable); default: all."
)
@data_dir_option
@mirror_option
@onet_version_option
@oews_version_option
@click.option("--force", is_flag=True, help="Download again even if a verified copy exists.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def fetch(
    sources: tuple[str, ...],
    data_dir: Path | None,
    mirror: str | None,
    onet_version: str | None,
    oews_version: str | None,
    force: bool,
    progress: bool,
) -> None:
    """Download the public data sources into DATA_DIR/raw/<source>/<version>/."""
    from jobimpact.sources import fetch as fetch_sources

    settings = settings_from(
        data_dir=data_dir, mirror=mirror, onet_version=onet_version, oews_version=oews_version
    )
    versions = {"onet": settings.onet_version, "oews": settings.oews_version}
    manifests = fetch_sources(
        list(sources) or None,
        data_dir=settings.data_dir,
        mirror=settings.mirror,
        versions={name: v for name, v in versions.items() if v},
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
def ingest(
    db: Path | None,
    data_dir: Path | None,
    onet_version: str | None,
    oews_version: str | None,
    force: bool,
) -> None:
    """Parse the fetched sources into the store's reference tables."""
    from jobimpact.pipeline import run_ingest

    settings = settings_from(
        db=db, data_dir=data_dir, onet_version=onet_version, oews_version=oews_version
    )
    result = run_ingest(
        db=settings.db,
        data_dir=settings.data_dir,
        onet_version=settings.onet_version,
        oews_version=settings.oews_version,
        force=force,
    )
    if not result.changed:
        click.echo(f"{settings.db}: already up to date with these source files; nothing to do.")
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
def sql(query: str, db: Path | None, fmt: str, output: Path | None) -> None:
    """Run a read-only SQL QUERY on the store; see the README for the documented views.

    The query reads the store and nothing else: files outside it, other databases,
    extensions and settings are out of its reach (see "Security" in the README).
    """
    from jobimpact.store import open_store
    from jobimpact.store.read import run_query, write_frame

    if fmt == "parquet" and output is None:
        raise click.UsageError("--format parquet needs --output FILE")
    with open_store(settings_from(db=db).db, read_only=True, restricted=True) as con:
        frame = run_query(con, query)
    if fmt == "table":
        click.echo(frame.to_string(index=False, max_rows=200, max_colwidth=60))
    elif output is not None:
        write_frame(frame, output, fmt=fmt)
        click.echo(f"{len(frame):,} rows written to {output}")
    elif fmt == "csv":
        click.echo(frame.to_csv(index=False), nl=False)
    else:
        click.echo(frame.to_json(orient="records", date_format="iso", indent=1))


@cli.command()
@db_option
@click.option(
    "--parquet",
    "parquet_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write one <name>.parquet per table and view.",
)
def export(db: Path | None, parquet_dir: Path) -> None:
    """Write every table and view of the store as Parquet files."""
    from jobimpact.store import open_store
    from jobimpact.store.read import export_parquet

    with open_store(settings_from(db=db).db, read_only=True) as con:
        written = export_parquet(con, parquet_dir)
    click.echo(f"{len(written)} files written to {parquet_dir}")


@cli.command()
@db_option
def status(db: Path | None) -> None:
    """Show what is in the store: rows per table, source versions, coverage, last runs."""
    from jobimpact.store import open_store
    from jobimpact.store.read import store_status

    path = settings_from(db=db).db
    with open_store(path, read_only=True) as con:
        summary = store_status(con)
    click.echo(f"store: {path} (schema version {summary['schema_version']})")
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
