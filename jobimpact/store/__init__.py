"""The DuckDB store: the only package that reads and writes the database file.

Open it with :func:`open_store`; pending migrations are applied on a writable open, and a
read-only open refuses a store that lacks them. Connections are meant to be short: open,
read or write a batch, close, so an analyst can open the file between writes; an open
waits a few seconds for another process's lock (see :mod:`jobimpact.store.connection`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from jobimpact.errors import StoreError
from jobimpact.store.connection import (
    QUERY_CONFIG,
    check_intact,
    connect,
    first_line,
    is_interrupt,
    map_error,
)
from jobimpact.store.migrations import check_not_newer, known_migrations, migrate
from jobimpact.store.views import stale_derived_views

__all__ = ["first_line", "open_store", "require_store", "transaction"]


def require_store(path: str | Path) -> Path:
    """Open and close the store, so that a stage that reads other inputs first (labels)
    says first what is wrong with the store (a mistyped --db, a damaged file)."""
    with open_store(path):
        pass
    return Path(path)


@contextmanager
def open_store(
    path: str | Path,
    *,
    read_only: bool = False,
    create: bool = False,
    wait: float | None = None,
    restricted: bool = False,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the store at ``path``, migrated to this jobimpact's schema, and close it after.

    Errors raised on the connection inside the block come out as one line: a damaged file
    or a full disk as a :class:`~jobimpact.errors.StoreError` naming the file, Ctrl-C
    inside DuckDB as :class:`KeyboardInterrupt`.

    Parameters
    ----------
    path
        The DuckDB file.
    read_only
        Open without taking the write lock; the store must already be fully migrated.
    create
        Create a missing store (with its parent folder); otherwise a missing file is
        refused, so a mistyped path never becomes an empty store.
    wait
        Seconds to wait while another process holds a conflicting lock (the
        ``lock_wait`` setting, ``$JOBIMPACT_LOCK_WAIT``, by default).
    restricted
        For untrusted SQL (``jobimpact sql``): the connection can read the store and
        nothing else (no other file, no extension, no setting changed). Read-only only.

    Raises
    ------
    StoreBusyError
        When another process holds the store for longer than ``wait``; the message says
        whether it reads or writes, with its process id.
    StoreError
        When the file is missing, not a DuckDB store, damaged, or of another schema.
    """
    path = Path(path)
    if restricted and not read_only:
        raise StoreError(f"{path}: a restricted connection must be read-only")
    if wait is None:
        from jobimpact.settings import Settings

        wait = float(Settings.resolve().lock_wait)
    config = dict(QUERY_CONFIG) if restricted else {}
    con = connect(path, read_only=read_only, create=create, wait=wait, config=config)
    try:
        check_intact(con, path)
        if read_only:
            _check_schema(con, path)
        else:
            migrate(con, str(path))
        yield con
    except BaseException as error:
        with suppress(duckdb.Error, RuntimeError):
            con.close()
        mapped = map_error(path, error)
        if mapped is None:
            raise
        raise mapped from error
    _close(con, path)


def _check_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse, on a read-only open, a store this jobimpact cannot read as it is."""
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


def _close(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Close after a block that succeeded; the checkpoint at close can still fail."""
    try:
        con.close()
    except (duckdb.Error, RuntimeError) as error:
        mapped = map_error(path, error)
        if mapped is None:
            raise StoreError(f"{path}: closing the store failed: {first_line(error)}") from error
        raise mapped from error


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction: all of it is written, or none.

    A DuckDB error inside the block or at commit becomes a one-line :class:`StoreError`
    (the rollback leaves the store as it was), Ctrl-C inside DuckDB a
    :class:`KeyboardInterrupt`; other exceptions pass through unchanged.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException as error:
        _rollback(con)
        if is_interrupt(error):
            raise KeyboardInterrupt from error
        if isinstance(error, duckdb.Error):
            raise StoreError(f"store write failed: {first_line(error)}") from error
        raise


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back, ignoring the error of a transaction DuckDB already aborted."""
    with suppress(duckdb.Error, RuntimeError):
        con.execute("ROLLBACK")
