"""Read-only access for analysts: ad-hoc SQL, Parquet export and a status summary.

Files written here (exports, query results) go through
:func:`jobimpact.outputs.write_with`: complete or not at all, never half a file.
"""

from __future__ import annotations

import errno
import json
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from jobimpact.errors import StoreError
from jobimpact.outputs import write_with
from jobimpact.store.connection import first_line, is_interrupt
from jobimpact.store.runs import shown_status

LIST_RELATIONS = """
SELECT table_name, table_type = 'VIEW' AS is_view
FROM information_schema.tables
WHERE table_schema = 'main'
ORDER BY is_view, table_name
"""
SELECT_SOURCES = """
SELECT source, version, count(*) AS files, min(ingested_at) AS ingested_at
FROM source_files GROUP BY ALL ORDER BY source
"""
SELECT_LAST_RUNS = """
SELECT run_id, stage, status, started_at, finished_at, counts, host, pid
FROM runs ORDER BY started_at DESC LIMIT ?
"""
SELECT_SCHEMA_VERSION = "SELECT max(version) FROM schema_migrations"
SELECT_COVERAGE = "SELECT * FROM employment_coverage"
COUNT_OCCUPATIONS_WITH_TASKS = "SELECT count(DISTINCT onet_soc_code) FROM tasks"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# What DuckDB says when a restricted connection (open_store(restricted=True)) refuses.
_REFUSED = ("disabled by configuration", "disabled through configuration", "has been locked")


def run_query(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] | None = None
) -> pd.DataFrame:
    """Run one query on an open connection and return its rows.

    ``params`` are bound to the query's ``?`` placeholders (never paste values into SQL).
    """
    try:
        if params is not None:
            return con.execute(sql, list(params)).df()
        relation = con.sql(sql)
    except duckdb.Error as error:
        if is_interrupt(error):
            raise KeyboardInterrupt from error
        refused = any(text in str(error) for text in _REFUSED)
        hint = "; SQL here reads the store and nothing else" if refused else ""
        raise StoreError(f"query failed: {first_line(error)}{hint}") from error
    if relation is None:
        raise StoreError("query returned no rows: got a statement, expected a SELECT query")
    frame: pd.DataFrame = relation.df()
    return frame


def query(db: str | Path, sql: str, params: Sequence[object] | None = None) -> pd.DataFrame:
    """Run one read-only query on the store at ``db`` and return its rows.

    The store is opened read-only for just this query, so it can be shared with a run
    that is writing between its batches.

    Parameters
    ----------
    db : path of the store
    sql : one SQL query, e.g. on the documented views (see :func:`view_docs`)
    params : values for the query's ``?`` placeholders

    Raises
    ------
    StoreError
        When the store cannot be opened or the query fails (the message is one line).
    """
    from jobimpact.store import open_store

    with open_store(db, read_only=True) as con:
        return run_query(con, sql, params)


_VIEW_HEADER = re.compile(r"^-- view: (\w+)\n((?:--.*\n)*)", re.MULTILINE)


def view_docs() -> dict[str, str]:
    """Each documented view → its header comment, from the SQL that defines it."""
    from jobimpact.store.migrations import known_migrations
    from jobimpact.store.views import rendered_views

    found: dict[str, str] = {}
    # later definitions replace earlier ones; the derived views come last
    for sql in [m.sql for m in known_migrations()] + list(rendered_views().values()):
        for name, body in _VIEW_HEADER.findall(sql):
            found[name] = " ".join(line[2:].strip() for line in body.splitlines())
    return found


def relations(con: duckdb.DuckDBPyConnection) -> list[tuple[str, bool]]:
    """(name, is_view) of every table and view in the store."""
    return [(name, bool(is_view)) for name, is_view in con.execute(LIST_RELATIONS).fetchall()]


def export_parquet(con: duckdb.DuckDBPyConnection, out_dir: str | Path) -> list[Path]:
    """Write every table and view to ``out_dir/<name>.parquet``; return the files written.

    Each file is written whole or not at all; a failed write (a full disk) is an
    :class:`~jobimpact.errors.OutputError` naming the file, and leaves its previous copy.
    """
    out = Path(out_dir)
    written = []
    for name, _ in relations(con):
        if not _IDENTIFIER.match(name):  # names come from the schema; guard the quoting anyway
            raise StoreError(f"cannot export relation {name!r}: got an unusual name")
        relation = con.table(name)
        written.append(write_with(out / f"{name}.parquet", _parquet_writer(relation)))
    return written


def _parquet_writer(relation: duckdb.DuckDBPyRelation) -> Callable[[Path], None]:
    """Writes a relation as Parquet, a DuckDB error on a full disk as the OSError it is."""

    def write(path: Path) -> None:
        try:
            relation.write_parquet(str(path))
        except (duckdb.Error, RuntimeError) as error:
            if is_interrupt(error):
                raise KeyboardInterrupt from error
            if not isinstance(error, duckdb.IOException):
                raise
            text = first_line(error)
            if "No space left on device" in text:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)) from error
            raise OSError(errno.EIO, text) from error

    return write


def write_frame(frame: pd.DataFrame, path: str | Path, *, fmt: str) -> None:
    """Write a query result as csv, json (array of records) or parquet, whole or not at all
    (see :func:`~jobimpact.outputs.write_with`)."""
    writers: dict[str, Callable[[Path], None]] = {
        "csv": lambda temporary: frame.to_csv(temporary, index=False),
        "json": lambda temporary: frame.to_json(
            temporary, orient="records", date_format="iso", indent=1
        ),
        "parquet": lambda temporary: _parquet_writer(duckdb.from_df(frame))(temporary),
    }
    if fmt not in writers:
        raise StoreError(f"unknown output format: got {fmt!r}, expected csv, json or parquet")
    write_with(path, writers[fmt])


def store_status(con: duckdb.DuckDBPyConnection, *, last_runs: int = 5) -> dict[str, Any]:
    """What is in the store: row counts per table, source versions, coverage, last runs."""
    counts = {
        name: con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # type: ignore[index]
        for name, is_view in relations(con)
        if not is_view
    }
    coverage = con.execute(SELECT_COVERAGE).df().iloc[0].to_dict()
    runs = con.execute(SELECT_LAST_RUNS, [last_runs]).df()
    runs["counts"] = runs["counts"].map(lambda c: json.loads(c) if isinstance(c, str) else {})
    # A run whose process died without recording its end shows as what it is.
    runs["status"] = [
        shown_status(str(r.status), host=str(r.host), pid=_integer(r.pid), started_at=r.started_at)
        for r in runs.itertuples(index=False)
    ]
    occupations_with_tasks = con.execute(COUNT_OCCUPATIONS_WITH_TASKS).fetchone()
    return {
        "schema_version": con.execute(SELECT_SCHEMA_VERSION).fetchone()[0],  # type: ignore[index]
        "counts": counts,
        "occupations_with_tasks": occupations_with_tasks[0] if occupations_with_tasks else 0,
        "sources": con.execute(SELECT_SOURCES).df().to_dict("records"),
        "employment_coverage": coverage,
        "last_runs": runs.to_dict("records"),
    }


def _integer(value: Any) -> int | None:
    """A pid read through a DataFrame (NaN or a float where the store had NULL or INTEGER)."""
    return None if value is None or pd.isna(value) else int(value)
