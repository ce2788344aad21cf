"""Errors that jobimpact raises for its users.

Every error a user can cause (bad input, a failed download, a store that cannot be
opened, a stage run before the one it needs) is a :class:`JobImpactError`; the CLI prints
it as one line and exits non-zero. Errors of other libraries are mapped to these at the
boundary where they happen (DuckDB in ``store/``, HTTP in the backends, file writes in
:func:`jobimpact.outputs.write_atomic`). Anything else is a bug and keeps its traceback.

::

    JobImpactError
    ├── ConfigError        an option or environment variable has a wrong value
    ├── NotReadyError      an earlier stage has not run yet (e.g. aggregate before score)
    ├── DependencyError    an optional library is missing; names the extra to install
    ├── FetchError         a download or mirror copy failed or did not verify
    ├── DataError          an input file is missing, malformed or inconsistent
    ├── StoreError         the DuckDB store cannot be opened, migrated, read or written
    │   └── StoreBusyError another process held the store longer than jobimpact waits
    ├── OutputError        an output file (report, export, head) cannot be written
    ├── ScoringError       a scoring backend or model failed
    │   └── ScoringRefusedError  a server refuses the requests themselves: stop the run
    └── EmbeddingError     an embedding model failed or returned unusable vectors

A backend that scores only part of a batch raises
:class:`jobimpact.scoring.base.IncompleteBatchError` (a ScoringError holding the scores
it did get).
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ConfigError",
    "DataError",
    "DependencyError",
    "EmbeddingError",
    "FetchError",
    "JobImpactError",
    "NotReadyError",
    "OutputError",
    "ScoringError",
    "ScoringRefusedError",
    "StoreBusyError",
    "StoreError",
]


class JobImpactError(Exception):
    """Base class of every error meant for a user of jobimpact."""


class ConfigError(JobImpactError):
    """An option or environment variable has a value jobimpact cannot use."""


class NotReadyError(JobImpactError):
    """A stage needs the output of an earlier one that has not run; the message names it."""


class DependencyError(JobImpactError):
    """An optional library is not installed; the message names the extra that brings it."""


class FetchError(JobImpactError):
    """A public source could not be downloaded, copied or verified."""


class StoreError(JobImpactError):
    """The DuckDB store could not be opened, migrated, read or written."""


class StoreBusyError(StoreError):
    """Another process held the store's lock for longer than jobimpact waits for it; the
    message says whether that process reads or writes, with its process id."""


class OutputError(JobImpactError):
    """An output file could not be written; the previous file, if any, is left in place."""


class ScoringError(JobImpactError):
    """A scoring backend or model failed."""


class ScoringRefusedError(ScoringError):
    """A server refuses the requests themselves (a 4xx that will not change, a model that
    thinks before it answers): scoring further batches cannot help, so the run stops.
    The message says what came back and what to do."""


class EmbeddingError(JobImpactError):
    """An embedding model failed or returned vectors of the wrong shape or values."""


class DataError(JobImpactError):
    """An input file is missing, malformed or inconsistent.

    The message names the file, and the row and field when they are known, then says
    what was found and what was expected, e.g.
    ``Task Statements.txt, row 12, field 'Task ID': got 'abc', expected an integer``.
    Row numbers count the header as row 1, as a spreadsheet shows them.
    """

    def __init__(
        self,
        file: str | Path,
        message: str,
        *,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = Path(file).name if isinstance(file, Path) else file
        self.row = row
        self.field = field
        self.detail = message
        where = self.file
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")
