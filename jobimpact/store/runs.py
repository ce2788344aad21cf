"""The ``runs`` table: every run of every stage, how it ended, and what it did.

:func:`stage_run` wraps a stage: it records the run as ``running`` when the stage starts
its work and, whatever happens, as ``done``, ``failed`` (with the error) or
``interrupted`` (Ctrl-C) when it ends, with the counts the stage set on the record.
A process killed outright (``kill -9``, a power cut) cannot record its end: a ``running``
run whose process is gone from this host is shown as ``interrupted`` by
:func:`shown_status`, and recorded so when the next stage starts (:func:`mark_dead_runs`).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from jobimpact import __version__
from jobimpact.errors import JobImpactError, StoreBusyError

__all__ = [
    "RunRecord",
    "finish_run",
    "mark_dead_runs",
    "now",
    "process_alive",
    "record_run",
    "shown_status",
    "stage_run",
    "start_run",
]

log = logging.getLogger(__name__)

INSERT_RUN = """
INSERT INTO runs (run_id, stage, status, started_at, parameters, host, jobimpact_version, pid)
VALUES (?, ?, 'running', ?, ?, ?, ?, ?)
"""
FINISH_RUN = """
UPDATE runs SET status = ?, finished_at = ?, counts = ?, error = ? WHERE run_id = ?
"""
SELECT_RUNNING_HERE = """
SELECT run_id, pid, started_at FROM runs
WHERE status = 'running' AND host = ? AND pid IS NOT NULL
"""
MARK_INTERRUPTED = """
UPDATE runs SET status = 'interrupted', finished_at = ?, error = ?
WHERE run_id = ? AND status = 'running'
"""
# A finished run's ending waits this long for a store another process holds, after the
# stage itself gave up waiting: the holder is unlikely to let go within the next seconds.
FINISH_WAIT_AFTER_BUSY = 2.0
# Process start times from /proc count from the boot time, in whole seconds of a wall clock
# that may have been adjusted since: a generous margin (a reused pid comes much later).
_START_SLACK = timedelta(seconds=60)


def now() -> datetime:
    """The current time in UTC, as stored (DuckDB TIMESTAMP has no zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def start_run(
    con: duckdb.DuckDBPyConnection,
    *,
    stage: str,
    parameters: Mapping[str, Any],
    started_at: datetime | None = None,
) -> str:
    """Log the start of a run of a stage; return its id."""
    run_id = uuid.uuid4().hex
    con.execute(
        INSERT_RUN,
        [
            run_id,
            stage,
            started_at or now(),
            json.dumps(dict(parameters), default=str),
            platform.node(),
            __version__,
            os.getpid(),
        ],
    )
    return run_id


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    status: str,
    counts: Mapping[str, Any],
    error: str | None = None,
) -> None:
    """Record how a run ended."""
    con.execute(FINISH_RUN, [status, now(), json.dumps(dict(counts), default=str), error, run_id])


def record_run(
    con: duckdb.DuckDBPyConnection,
    *,
    stage: str,
    parameters: Mapping[str, Any],
    counts: Mapping[str, Any],
    started_at: datetime,
    status: str = "done",
    error: str | None = None,
) -> str:
    """Log a run that has already ended; return its id."""
    run_id = start_run(con, stage=stage, parameters=parameters, started_at=started_at)
    finish_run(con, run_id, status=status, counts=counts, error=error)
    return run_id


@dataclass
class RunRecord:
    """The run of a stage in progress: its id, and the counts to store when it ends."""

    run_id: str
    stage: str
    counts: dict[str, Any] = field(default_factory=dict)


# Reads the counts of a run from what it committed, on the connection that records its end.
Recount = Callable[[duckdb.DuckDBPyConnection, str], Mapping[str, Any]]


@contextmanager
def stage_run(
    db: str | Path,
    *,
    stage: str,
    parameters: Mapping[str, Any],
    create: bool = False,
    recount: Recount | None = None,
) -> Iterator[RunRecord]:
    """Record a run of ``stage``: ``running`` now, and ``done``, ``failed`` or
    ``interrupted`` when the block ends, with the counts set on the yielded record.

    The run is finished in a connection of its own, so a stage that fails on the store
    still gets its ending recorded when the store can be opened again; when it cannot,
    the ending is logged and the stage's own error is what the user sees (the run then
    shows as ``interrupted`` once its process is gone).

    Parameters
    ----------
    create
        Create the store when missing (ingest); other stages need an existing one.
    recount
        Called with the finishing connection and the run id; its counts replace those of
        the record, so an interrupted run stores what it committed, not what it meant to.
    """
    from jobimpact.store import open_store

    with open_store(db, create=create) as con:
        mark_dead_runs(con)
        run_id = start_run(con, stage=stage, parameters=parameters)
    record = RunRecord(run_id=run_id, stage=stage)
    status, error, wait = "done", None, None
    try:
        yield record
    except KeyboardInterrupt:
        status, error = "interrupted", "stopped by the user"
        raise
    except BaseException as failure:
        status, error = "failed", str(failure) or type(failure).__name__
        wait = FINISH_WAIT_AFTER_BUSY if isinstance(failure, StoreBusyError) else None
        raise
    finally:
        _finish(db, record, status=status, error=error, wait=wait, recount=recount)


def _finish(
    db: str | Path,
    record: RunRecord,
    *,
    status: str,
    error: str | None,
    wait: float | None,
    recount: Recount | None,
) -> None:
    """Record the end of a run, or log why it could not be."""
    from jobimpact.store import open_store

    try:
        with open_store(db, wait=wait) as con:
            if recount is not None:
                record.counts.update(recount(con, record.run_id))
            finish_run(con, record.run_id, status=status, counts=record.counts, error=error)
    except (JobImpactError, duckdb.Error) as failure:
        # Info, not a warning: the user sees the stage's own error as its one line.
        log.info(
            "run %s of %s could not be recorded as %s: %s",
            record.run_id,
            record.stage,
            status,
            failure,
        )


def process_alive(pid: int, started_at: datetime) -> bool:
    """Whether the process ``pid`` of this host can still be the one that started a run at
    ``started_at`` (UTC): it exists and did not start after the run (a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by another user
        return True
    started = _process_started(pid)
    return started is None or started <= started_at + _START_SLACK


def _process_started(pid: int) -> datetime | None:
    """When process ``pid`` started (UTC), where /proc tells (Linux); else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            line for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime")
        )
        # the fields after the command name (which may hold spaces) in parentheses
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        seconds = int(boot.split()[1]) + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def _dead(host: str | None, pid: Any, started_at: Any) -> bool:
    """A run's process is known to be gone: it ran on this host and is no longer there."""
    if host != platform.node() or pid is None or started_at is None:
        return False
    return not process_alive(int(pid), started_at)


def shown_status(status: str, *, host: str | None, pid: Any, started_at: Any) -> str:
    """The status to show for a run: ``interrupted`` for a ``running`` run whose process
    on this host is gone (runs of other hosts cannot be checked and keep their status)."""
    if status == "running" and _dead(host, pid, started_at):
        return "interrupted"
    return status


def mark_dead_runs(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Record as ``interrupted`` the ``running`` runs of this host whose process is gone;
    return their ids."""
    rows = con.execute(SELECT_RUNNING_HERE, [platform.node()]).fetchall()
    dead = [(run_id, pid) for run_id, pid, started in rows if _dead(platform.node(), pid, started)]
    if not dead:
        return []
    con.executemany(
        MARK_INTERRUPTED,
        [
            [now(), f"process {pid} ended without recording the end of the run", run_id]
            for run_id, pid in dead
        ],
    )
    return [run_id for run_id, _ in dead]
