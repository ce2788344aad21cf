"""The DuckDB store: the only package that reads and writes the database file.

Open it with :func:`open_store`; pending migrations are applied on a writable open, and a
read-only open refuses a store that lacks them. Connections are meant to be short: open,
read or write a batch, close, so an analyst can open the file between writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from jobimpact.errors import StoreError
from jobimpact.store.migrations import check_not_newer, known_migrations, migrate
from jobimpact.store.views import stale_derived_views

__all__ = ["first_line", "open_store", "transaction"]


def _connect(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the file, turning DuckDB's errors into one-line StoreErrors."""
    if read_only and not path.exists():
        raise StoreError(
            f"{path}: got no such file, expected a jobimpact store; run `jobimpact ingest` first"
        )
    if path.exists() and path.is_dir():
        raise StoreError(f"{path}: got a directory, expected a DuckDB database file")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as error:
        message = str(error)
        if "not a valid DuckDB database file" in message:
            raise StoreError(
                f"{path}: got a file that is not a DuckDB database, expected a jobimpact store "
                "(choose another path with --db or JOBIMPACT_DB)"
            ) from error
        if "lock" in message.lower():
            raise StoreError(
                f"{path}: the store is being written by another process; try again when it ends"
            ) from error
        raise StoreError(f"{path}: cannot open the store: {message}") from error


@contextmanager
def open_store(path: str | Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the store at ``path``, migrated to this jobimpact's schema, and close it after.

    Parameters
    ----------
    path
        The DuckDB file; created (with its parent folder) on a writable open.
    read_only
        Open without taking the write lock; the store must already be fully migrated.
    """
    path = Path(path)
    con = _connect(path, read_only=read_only)
    try:
        if read_only:
            applied = check_not_newer(con, str(path))
            if len(applied) < len(known_migrations()):
                raise StoreError(
                    f"{path}: got schema version {applied[-1] if applied else 0}, expected "
                    f"{known_migrations()[-1].version}; run `jobimpact ingest` to upgrade it"
                )
            stale = stale_derived_views(con)
            if stale:
                raise StoreError(
                    f"{path}: got out-of-date views ({', '.join(stale)}), expected the "
                    "definitions of this jobimpact; run `jobimpact ingest` to upgrade them"
                )
        else:
            migrate(con, str(path))
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction: all of it is written, or none.

    A DuckDB error inside the block or at commit becomes a one-line :class:`StoreError`
    (the rollback leaves the store as it was); other exceptions pass through unchanged.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except duckdb.Error as error:
        _rollback(con)
        raise StoreError(f"store write failed: {first_line(error)}") from error
    except BaseException:
        _rollback(con)
        raise


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back, ignoring the error of a transaction DuckDB already aborted."""
    with suppress(duckdb.Error):
        con.execute("ROLLBACK")


def first_line(error: BaseException) -> str:
    """DuckDB errors span lines (with a caret under the SQL); users get the first one."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
