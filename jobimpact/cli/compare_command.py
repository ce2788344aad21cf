"""The ``compare`` command: our occupation measures beside published ones."""

from __future__ import annotations

from pathlib import Path

import click

from jobimpact.cli import cli
from jobimpact.cli.options import (
    data_dir_option,
    db_option,
    head_choice,
    head_id_option,
    model_id_option,
    rubric_hash_option,
    settings_from,
)


@cli.command()
@db_option
@data_dir_option
@click.option(
    "--measures",
    default=None,
    help="Published measures to compare, comma-separated (felten_lm_aioe, frey_osborne, "
    "ms_ai_applicability, gpts_human_beta, gpts_gpt4_beta) or 'none' [default: every one "
    "fetched].",
)
@click.option(
    "--measure",
    "measure_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also compare your own measure: a CSV (or .tsv) file with one row per occupation.",
)
@click.option("--key-column", default=None, help="Column of --measure holding the codes.")
@click.option("--value-column", default=None, help="Column of --measure holding the values.")
@click.option(
    "--code-system",
    type=click.Choice(["soc2010", "soc2018", "onet2019"]),
    default="soc2018",
    show_default=True,
    help="Code system of --measure's codes.",
)
@model_id_option
@rubric_hash_option
@head_id_option
@click.option(
    "--weighting",
    type=click.Choice(["rating", "type"]),
    default=None,
    help="Task weighting of the roll-up to compare [default: rating].",
)
@click.option("--n-boot", type=int, default=1000, show_default=True, help="Bootstrap resamples.")
def compare(
    db: Path | None,
    data_dir: Path | None,
    measures: str | None,
    measure_file: Path | None,
    key_column: str | None,
    value_column: str | None,
    code_system: str,
    model_id: str | None,
    rubric_hash: str | None,
    head_id: str | None,
    weighting: str | None,
    n_boot: int,
) -> None:
    """Correlate our occupation measures (beta, displacement, creation) with published
    ones, and list the occupations where they disagree most, with the tasks behind ours."""
    from jobimpact.comparison import user_measure
    from jobimpact.comparison.text import (
        MATRICES,
        format_coverage,
        format_disagreements,
        format_matrix,
    )
    from jobimpact.pipeline import run_compare

    settings = settings_from(db=db, data_dir=data_dir)
    users = []
    if measure_file is not None:
        if not key_column or not value_column:
            raise click.UsageError("--measure needs --key-column and --value-column")
        users.append(
            user_measure(
                measure_file,
                key_column=key_column,
                value_column=value_column,
                code_system=code_system,
            )
        )
    elif key_column or value_column:
        raise click.UsageError("--key-column and --value-column go with --measure FILE")
    names = None
    if measures is not None:
        names = (
            []
            if measures.strip() == "none"
            else [m.strip() for m in measures.split(",") if m.strip()]
        )
    if n_boot < 0:
        raise click.BadParameter(f"got {n_boot}, expected 0 or more", param_hint="--n-boot")
    result = run_compare(
        db=settings.db,
        data_dir=settings.data_dir,
        measures=names,
        user_measures=users,
        model_id=model_id,
        rubric_hash=rubric_hash,
        head_id=head_choice(head_id),
        weighting=weighting,
        n_boot=n_boot,
    )
    click.echo(f"compared with {result.scoring.describe()}")
    if result.skipped:
        click.echo("not fetched, left out: " + ", ".join(result.skipped) + " (run jobimpact fetch)")
    click.echo("\ncoverage (occupations with tasks; employment matched to them)")
    click.echo(format_coverage(result.coverage))
    for method, weights, title in MATRICES:
        click.echo("")
        click.echo(
            format_matrix(
                result.correlations, result.measures, method=method, weights=weights, title=title
            )
        )
    click.echo("\nlargest disagreements")
    click.echo(format_disagreements(result.disagreements, result.drivers))
    click.echo(f"\ncomparison {result.comparison_id} stored ({result.seconds:.1f} s)")
