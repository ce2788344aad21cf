"""Views generated from code: ``sql/views/<name>.sql`` rendered with the measure definitions.

A view that spells out the measures (``task_measures``) is not written by hand in a
migration: its template names placeholders (``$measures``, ``$role_columns`` …) that are
filled from :mod:`jobimpact.measures`. Each rendered definition is recorded with its
sha256 in ``derived_views``; a writable open recreates the views whose definition
changed, and a read-only open refuses a store whose views are out of date.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from string import Template

import duckdb

from jobimpact.measures import MEASURES, ROLES, measure_sql

__all__ = ["refresh_derived_views", "rendered_views", "stale_derived_views"]

SELECT_RECORDED = "SELECT name, sha256 FROM derived_views"
UPSERT_RECORDED = "INSERT OR REPLACE INTO derived_views VALUES (?, ?, ?)"
_PAD = 12  # width of the measure name column in the view's header comment


def _substitutions() -> dict[str, str]:
    """What each placeholder of a view template stands for."""
    roles = ",\n           ".join(
        f"max(p_yes) FILTER (WHERE role = '{role}') AS p_{role}" for role in ROLES
    )
    filled = ",\n           ".join(f"coalesce(c.p_{r}, z.p_{r}) AS p_{r}" for r in ROLES)
    docs = "\n".join(
        f"--   {m.name:<{_PAD}} = {m.expression}\n--   {'':<{_PAD}}   {m.description}"
        for m in MEASURES
    )
    return {
        "measures": measure_sql(indent="    "),
        "role_columns": roles,
        "filled_columns": filled,
        "measure_docs": docs,
    }


@cache
def rendered_views() -> dict[str, str]:
    """Name → rendered ``CREATE OR REPLACE VIEW`` statement of every derived view."""
    folder = resources.files("jobimpact.store").joinpath("sql").joinpath("views")
    values = _substitutions()
    return {
        entry.name.removesuffix(".sql"): Template(entry.read_text(encoding="utf-8")).substitute(
            values
        )
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".sql")
    }


def _sha256(sql: str) -> str:
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()


def stale_derived_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of derived views missing from the store or recorded with another definition."""
    recorded = dict(con.execute(SELECT_RECORDED).fetchall())
    return [name for name, sql in rendered_views().items() if recorded.get(name) != _sha256(sql)]


def refresh_derived_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Recreate the stale derived views (the caller holds the transaction); return them."""
    views = rendered_views()
    stale = stale_derived_views(con)
    for name in stale:
        con.execute(views[name])
        con.execute(UPSERT_RECORDED, [name, _sha256(views[name]), datetime.now(UTC)])
    return stale
