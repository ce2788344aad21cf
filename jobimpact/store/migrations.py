"""Numbered schema migrations, recorded in the table ``schema_migrations``.

A migration is a file ``sql/NNN_name.sql``; it runs once, in a transaction, and its
number, name and sha256 are recorded. A store whose newest recorded migration is newer
than this jobimpact knows is refused rather than guessed at.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources

import duckdb

from jobimpact.errors import StoreError
from jobimpact.store.views import refresh_derived_views, stale_derived_views

_MIGRATION_FILE = re.compile(r"^(\d{3})_(\w+)\.sql$")

CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       VARCHAR NOT NULL,
    sha256     VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL
)
"""
SELECT_APPLIED = "SELECT version FROM schema_migrations ORDER BY version"
INSERT_APPLIED = "INSERT INTO schema_migrations VALUES (?, ?, ?, ?)"
MIGRATIONS_TABLE_EXISTS = (
    "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
)


@dataclass(frozen=True)
class Migration:
    """One numbered schema change."""

    version: int
    name: str
    sql: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


@cache
def known_migrations() -> tuple[Migration, ...]:
    """The migrations shipped with this jobimpact, in order."""
    found = []
    for entry in resources.files("jobimpact.store").joinpath("sql").iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return tuple(sorted(found, key=lambda m: m.version))


def applied_versions(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Versions recorded in the store (empty for a new store)."""
    row = con.execute(MIGRATIONS_TABLE_EXISTS).fetchone()
    if not row or not row[0]:
        return []
    return [version for (version,) in con.execute(SELECT_APPLIED).fetchall()]


def check_not_newer(con: duckdb.DuckDBPyConnection, where: str) -> list[int]:
    """Refuse a store written by a newer jobimpact; return the versions it has."""
    applied = applied_versions(con)
    newest_known = known_migrations()[-1].version
    if applied and applied[-1] > newest_known:
        raise StoreError(
            f"{where}: got schema version {applied[-1]}, expected at most {newest_known}; "
            "the store was written by a newer jobimpact, upgrade jobimpact to open it"
        )
    return applied


def migrate(con: duckdb.DuckDBPyConnection, where: str) -> list[Migration]:
    """Apply the migrations the store lacks, then recreate the derived views whose
    definition changed; return the migrations applied."""
    applied = set(check_not_newer(con, where))
    pending = [m for m in known_migrations() if m.version not in applied]
    for migration in pending:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(CREATE_MIGRATIONS_TABLE)
            con.execute(migration.sql)
            con.execute(
                INSERT_APPLIED,
                [migration.version, migration.name, migration.sha256, datetime.now(UTC)],
            )
            con.execute("COMMIT")
        except duckdb.Error as error:
            con.execute("ROLLBACK")
            raise StoreError(
                f"{where}: migration {migration.version:03d}_{migration.name} failed: {error}"
            ) from error
    if stale_derived_views(con):
        con.execute("BEGIN TRANSACTION")
        try:
            refresh_derived_views(con)
            con.execute("COMMIT")
        except duckdb.Error as error:
            con.execute("ROLLBACK")
            raise StoreError(f"{where}: derived views could not be created: {error}") from error
    return pending
