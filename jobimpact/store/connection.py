"""Opening the DuckDB file, and DuckDB's errors as one line a user can act on.

A store is shared by short connections: a run opens it per batch, an analyst per query.
DuckDB lets one process write or any number read, and refuses a conflicting open at once,
so :func:`connect` waits for a short lock with a bounded, jittered backoff before it gives
up, naming the holder (a reader or a writer, with DuckDB's process id); a waiting writer
goes before readers that come after it (:mod:`jobimpact.store.gate`). A file cut short
or with a bad block is reported as damaged and never written to. A full disk and Ctrl-C
inside DuckDB (which DuckDB raises as ``RuntimeError('Query interrupted')``) are mapped
by :func:`map_error`, used by :func:`jobimpact.store.open_store` for everything done on a
connection.
"""

from __future__ import annotations

import random
import re
import time
from pathlib import Path
from typing import Any

import duckdb

from jobimpact.errors import StoreBusyError, StoreError
from jobimpact.store.gate import pass_gate, writer_waiting

__all__ = [
    "QUERY_CONFIG",
    "check_intact",
    "check_path",
    "connect",
    "first_line",
    "is_interrupt",
    "map_error",
]

# Ad-hoc SQL reads the store and nothing else: no other file (COPY, ATTACH, read_csv),
# no extension installed or loaded, and no way to switch these back on.
QUERY_CONFIG: dict[str, Any] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}
# DuckDB's text when another process holds the file, e.g. 'Conflicting lock is held in
# /usr/bin/python3.11 (PID 4242)'; it adds the read-only hint when the holder only reads.
_LOCKED = "Could not set lock on file"
_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")
_HOLDER_READS = "would be able to open this database in read-only mode"
_SHORT_READ = re.compile(r"Could not read enough bytes from file .*? from location (\d+)")
_BAD_BLOCK = re.compile(r"Corrupt database file: .*?(?:block at location (\d+))?$")
_DISK_FULL = ("No space left on device", "Disk quota exceeded")
_WRITE_TARGET = re.compile(r'Could not write (?:to )?file "([^"]+)"')
_INTERRUPTED = "Query interrupted"
# Backoff while waiting for a lock: short first waits (a batch write or a query takes
# milliseconds), growing to at most MAX_DELAY, each jittered so waiters do not collide.
FIRST_DELAY, MAX_DELAY = 0.01, 0.25


def first_line(error: BaseException) -> str:
    """DuckDB errors span lines (with a caret under the SQL); users get the first one."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def connect(
    path: Path, *, read_only: bool, create: bool, wait: float, config: dict[str, Any]
) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting up to ``wait`` seconds for another process's lock.

    Readers wait at the gate of a writer that is waiting (see :mod:`.gate`); a writer
    that finds the store in use holds that gate while it waits.
    """
    check_path(path, create=create)
    deadline = time.monotonic() + wait
    if read_only:
        return _keep_trying(path, read_only, config, deadline, wait)
    try:
        return duckdb.connect(str(path), read_only=False, config=config)
    except duckdb.Error as error:
        if _LOCKED not in str(error):
            raise _open_error(path, error) from error
    with writer_waiting(path, deadline):
        return _keep_trying(path, read_only, config, deadline, wait)


def _keep_trying(
    path: Path, read_only: bool, config: dict[str, Any], deadline: float, wait: float
) -> duckdb.DuckDBPyConnection:
    """Try to open until ``deadline``, with a growing, jittered pause between tries."""
    delay = FIRST_DELAY
    while True:
        if read_only:
            pass_gate(path, deadline)
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.Error as error:
            message = str(error)
            if _LOCKED not in message:
                raise _open_error(path, error) from error
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StoreBusyError(_busy_message(path, message, read_only, wait)) from error
            time.sleep(min(remaining, delay * random.uniform(0.5, 1.5)))
            delay = min(MAX_DELAY, delay * 2)


def check_path(path: Path, *, create: bool) -> None:
    """Refuse a missing store (unless creating one) and a folder, before DuckDB makes one."""
    if path.is_dir():
        raise StoreError(f"{path}: got a directory, expected a DuckDB database file")
    if not path.exists():
        if not create:
            raise StoreError(
                f"{path}: got no such file, expected a jobimpact store; check --db or "
                "JOBIMPACT_DB, or run `jobimpact ingest` first"
            )
        path.parent.mkdir(parents=True, exist_ok=True)


def _busy_message(path: Path, message: str, read_only: bool, wait: float) -> str:
    """Who holds the store and what to do, from DuckDB's lock error."""
    # A reader conflicts only with a writer; a writer is told when the holder only reads.
    reader = not read_only and _HOLDER_READS in message
    found = _HOLDER.search(message)
    who = "a reader" if reader else "a writer"
    if found:
        who += f" (PID {found['pid']}, {Path(found['program']).name})"
    advice = (
        "close that connection (in a notebook, read with jobimpact.query, which opens the "
        "store per query) and run the command again"
        if reader
        else "run the command again when that process ends"
    )
    return (
        f"{path}: the store is open in another process, {who}; waited {wait:g} s for it; {advice}"
    )


def _open_error(path: Path, error: duckdb.Error) -> StoreError:
    """A DuckDB error at open as one line."""
    message = str(error)
    if "not a valid DuckDB database file" in message:
        return StoreError(
            f"{path}: got a file that is not a DuckDB database, expected a jobimpact store "
            "(choose another path with --db or JOBIMPACT_DB)"
        )
    return _classified(path, error) or StoreError(
        f"{path}: cannot open the store: {first_line(error)}"
    )


SELECT_SIZE = "SELECT block_size, used_blocks FROM pragma_database_size()"


def check_intact(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a file too short to hold the blocks its header lists as in use (a truncated
    copy), before anything reads or writes it; other damage is found by DuckDB's block
    checksums when a block is read, and reported by :func:`map_error`."""
    row = con.execute(SELECT_SIZE).fetchone()
    if row is None:
        return
    block_size, blocks = int(row[0]), int(row[1])
    size = path.stat().st_size
    # Each block in use has a place of its own in the file (free blocks at its end may have
    # been cut off), and the headers come on top: a lower bound, never a false alarm.
    if size < block_size * blocks:
        raise StoreError(
            _damaged(
                path,
                f"the file has {size:,} bytes, too few for the {blocks:,} blocks of "
                f"{block_size:,} bytes its header lists as in use",
            )
        )


def _damaged(path: Path, detail: str) -> str:
    return (
        f"{path}: the store is damaged ({detail}); it was left as it is: restore it from a "
        "backup, or move it aside and rebuild it (jobimpact ingest, then the later stages)"
    )


def _classified(path: Path, error: BaseException) -> StoreError | None:
    """A damaged file or a full disk as one line; None for other errors."""
    message = first_line(error)
    short = _SHORT_READ.search(message)
    if short:
        size = path.stat().st_size if path.exists() else 0
        return StoreError(
            _damaged(path, f"a read at byte {int(short[1]):,} is past its end at {size:,}")
        )
    bad = _BAD_BLOCK.search(message)
    if bad:
        where = f"a checksum mismatch in the block at byte {int(bad[1]):,}" if bad[1] else ""
        return StoreError(_damaged(path, where or "a checksum mismatch"))
    reason = next((text for text in _DISK_FULL if text in message), None)
    if reason:
        target = _WRITE_TARGET.search(message)
        written = target[1] if target else str(path)
        return StoreError(
            f"{written}: {reason.lower()}; the store keeps everything written before this "
            "write: free some space and run the command again"
        )
    return None


def is_interrupt(error: BaseException) -> bool:
    """Ctrl-C as DuckDB reports it when it arrives during a query or a commit, or while
    DuckDB runs Python code (reading a pandas frame), which it reports as an error whose
    text holds the Python traceback of the KeyboardInterrupt."""
    if isinstance(error, duckdb.InterruptException):
        return True
    if type(error) is RuntimeError and str(error) == _INTERRUPTED:
        return True
    return isinstance(error, duckdb.Error) and "KeyboardInterrupt" in str(error)


def map_error(path: Path, error: BaseException) -> BaseException | None:
    """What to raise instead of ``error`` met on a connection to ``path``, or None to keep
    it: KeyboardInterrupt for Ctrl-C inside DuckDB, one line for a damaged file or a full
    disk (also when :func:`~jobimpact.store.transaction` already wrapped the error)."""
    if is_interrupt(error):
        return KeyboardInterrupt()
    cause = error.__cause__ if isinstance(error, StoreError) else error
    if isinstance(cause, duckdb.Error):
        return _classified(path, cause)
    return None
