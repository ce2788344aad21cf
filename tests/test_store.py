from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from jobimpact.cli import cli
from jobimpact.errors import StoreError
from jobimpact.store import open_store, transaction
from jobimpact.store.migrations import known_migrations
from jobimpact.store.read import export_parquet, relations, run_query, view_docs


def test_migrations_are_applied_once_and_recorded(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    with open_store(db, create=True) as con:
        first = con.execute("SELECT version, name, applied_at FROM schema_migrations").fetchall()
    with open_store(db) as con:
        second = con.execute("SELECT version, name, applied_at FROM schema_migrations").fetchall()
    assert [v for v, _, _ in first] == [m.version for m in known_migrations()]
    assert first == second


# Migration numbers taken by work on other branches; once merged, their files fill the gap.
def test_every_migration_file_is_numbered_in_sequence() -> None:
    versions = [m.version for m in known_migrations()]
    assert len(set(versions)) == len(versions)
    assert sorted(versions) == list(range(1, len(versions) + 1))


def test_a_file_that_is_not_duckdb_is_refused_and_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "notes.duckdb"
    db.write_text("these are my notes, not a database\n" * 200)
    before = db.read_bytes()
    with (
        pytest.raises(StoreError, match="got a file that is not a DuckDB database"),
        open_store(db),
    ):
        pass
    assert db.read_bytes() == before


def test_a_store_from_a_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    with open_store(db, create=True) as con:
        con.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x', now())")
    for read_only in (False, True):
        with pytest.raises(StoreError) as caught, open_store(db, read_only=read_only):
            pass
        assert str(caught.value) == (
            f"{db}: got schema version 999, expected at most {known_migrations()[-1].version}; "
            "the store was written by a newer jobimpact, upgrade jobimpact to open it"
        )
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT max(version) FROM schema_migrations").fetchone() == (999,)
    con.close()


def test_read_only_open_of_a_missing_store_says_what_to_do(tmp_path: Path) -> None:
    missing = tmp_path / "missing.duckdb"
    with (
        pytest.raises(StoreError, match="run `jobimpact ingest` first"),
        open_store(missing, read_only=True),
    ):
        pass
    assert not (tmp_path / "missing.duckdb").exists()


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.duckdb", create=True) as con:
        with pytest.raises(RuntimeError), transaction(con):
            con.execute("INSERT INTO soc_groups VALUES ('11-0000', 'major', 'M', '11-0000')")
            raise RuntimeError("boom")
        assert con.execute("SELECT count(*) FROM soc_groups").fetchone() == (0,)


def test_queries_cannot_write(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with open_store(db, create=True):
        pass
    with open_store(db, read_only=True) as con, pytest.raises(StoreError, match="read-only"):
        run_query(con, "INSERT INTO soc_groups VALUES ('11-0000', 'major', 'M', '11-0000')")


def test_export_writes_every_table_and_view(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with open_store(db, create=True) as con:
        names = {name for name, _ in relations(con)}
        written = export_parquet(con, tmp_path / "out")
    assert {p.stem for p in written} == names
    assert {"tasks", "occupation_overview", "employment_coverage"} <= names


def test_cli_reports_a_bad_store_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "notes.duckdb"
    db.write_text("not a database\n" * 300)
    result = CliRunner().invoke(cli, ["status", "--db", str(db)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {db}: got a file that is not a DuckDB database, expected a jobimpact store "
        "(choose another path with --db or JOBIMPACT_DB)\n"
    )


def test_cli_sql_reports_a_bad_query_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with open_store(db, create=True):
        pass
    result = CliRunner().invoke(cli, ["sql", "SELECT nope FROM tasks", "--db", str(db)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: query failed: Binder Error: Referenced column")
    assert result.output.count("\n") == 1


def test_every_view_is_documented_in_its_sql_and_the_readme(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    docs = view_docs()
    with open_store(tmp_path / "s.duckdb", create=True) as con:
        views = [name for name, is_view in relations(con) if is_view]
    assert views
    for view in views:
        assert len(docs.get(view, "")) > 40, f"{view} has no '-- view:' header comment"
        assert f"| `{view}` |" in readme, f"{view} is missing from the README's table of views"
