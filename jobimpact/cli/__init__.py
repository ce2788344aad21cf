"""The ``jobimpact`` command: a thin shell over the library.

Each command parses its options, builds one :class:`~jobimpact.settings.Settings`, calls
one library function and prints the result. A :class:`~jobimpact.errors.JobImpactError`
becomes one line on stderr and exit code 1; Ctrl-C exits with 130. Heavy modules are
imported inside the commands so that ``jobimpact --help`` is instant.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from jobimpact import __version__
from jobimpact.errors import JobImpactError

__all__ = ["cli", "main"]


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


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="jobimpact")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
def cli(verbose: int, quiet: bool) -> None:
    """Measure how large language models change work, task by task.

    Data flows fetch → ingest → score → embed → cluster → aggregate → report, all kept in
    one DuckDB store with provenance. Every option with an environment variable resolves
    as: the option, else $JOBIMPACT_*, else the default.
    """
    level = logging.ERROR if quiet else [logging.WARNING, logging.INFO][min(verbose, 1)]
    level = logging.DEBUG if verbose > 1 else level
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def main() -> None:
    """Entry point of the console script."""
    cli(prog_name="jobimpact")


# The commands register themselves on `cli` when their modules are imported.
from jobimpact.cli import compare_command, data_commands, stage_commands  # noqa: E402, F401
