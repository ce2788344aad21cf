"""`jobimpact sql` reads the store and nothing else: statements that would write files,
change other databases, fetch extensions or read system files are refused in one line,
with nothing written; SELECTs on tables and views work, and `export` keeps its own path."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures import query_rows

from jobimpact.cli import cli


def sql(db: Path, query: str, *options: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["sql", query, "--db", str(db), *options])
    return result.exit_code, result.output


def files_under(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_selects_on_tables_and_views_still_work(db: Path) -> None:
    code, output = sql(db, "SELECT count(*) AS n FROM tasks")
    assert (code, output.split()) == (0, ["n", "12"])
    code, output = sql(
        db,
        "SELECT onet_soc_code, n_tasks FROM occupation_overview ORDER BY 1 LIMIT 1",
        "--format",
        "csv",
    )
    assert (code, output) == (0, "onet_soc_code,n_tasks\n11-1011.00,3\n")


REFUSED = "disabled by configuration; SQL here reads the store and nothing else\n"


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        (
            "COPY (SELECT * FROM tasks) TO '{out}/tasks.csv'",
            'Permission Error: Cannot access file "{out}/tasks.csv" - file system operations are ',
        ),
        (
            "COPY tasks TO '{other}'",
            'Permission Error: Cannot access file "{other}" - file system operations are ',
        ),
        (
            "ATTACH '{other}' AS other (READ_WRITE); DELETE FROM other.tasks",
            'Permission Error: Cannot access file "{other}" - file system operations are ',
        ),
        (
            "ATTACH '{other}' AS other (READ_WRITE); DROP TABLE other.tasks",
            'Permission Error: Cannot access file "{other}" - file system operations are ',
        ),
        (
            "SELECT * FROM read_csv('/etc/passwd')",
            'Permission Error: Cannot access file "/etc/passwd" - file system operations are ',
        ),
        (
            "SELECT * FROM read_text('{other}')",
            'Permission Error: Cannot access file "{other}" - file system operations are ',
        ),
    ],
)
def test_statements_reaching_outside_the_store_are_refused_and_write_nothing(
    db: Path, tmp_path: Path, statement: str, refusal: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    other = tmp_path / "other.duckdb"
    other.write_bytes(db.read_bytes())
    before = files_under(tmp_path)
    code, output = sql(db, statement.format(out=out, other=other))
    assert code == 1
    assert output == f"Error: query failed: {refusal.format(out=out, other=other)}{REFUSED}"
    assert files_under(tmp_path) == before
    assert query_rows(other, "SELECT count(*) FROM tasks") == [(12,)]


def test_extensions_cannot_be_installed_or_loaded(db: Path, tmp_path: Path) -> None:
    home = Path(os.path.expanduser("~")) / ".duckdb"
    before = files_under(home) if home.is_dir() else {}
    code, output = sql(db, "INSTALL httpfs")
    assert code == 1 and output.count("\n") == 1
    assert output.startswith("Error: query failed: Permission Error: Cannot access directory ")
    assert output.endswith(REFUSED)
    code, output = sql(db, "LOAD httpfs")
    assert (code, output) == (
        1,
        "Error: query failed: Permission Error: Loading external extensions is disabled through "
        "configuration; SQL here reads the store and nothing else\n",
    )
    assert (files_under(home) if home.is_dir() else {}) == before


def test_the_restrictions_cannot_be_lifted(db: Path) -> None:
    for statement in (
        "SET enable_external_access = true",
        "RESET enable_external_access",
        "SET lock_configuration = false",
        "SET autoinstall_known_extensions = true",
    ):
        code, output = sql(db, statement)
        assert code == 1 and output.startswith("Error: query failed: Invalid Input Error: ")
        assert output.endswith(
            "the configuration has been locked; SQL here reads the store and nothing else\n"
        )


def test_the_store_itself_cannot_be_written(db: Path) -> None:
    before = query_rows(db, "SELECT count(*) FROM tasks")
    code, output = sql(db, "DELETE FROM tasks")
    assert code == 1 and output.count("\n") == 1 and "read-only" in output
    assert query_rows(db, "SELECT count(*) FROM tasks") == before


def test_export_and_query_output_files_keep_working(db: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["export", "--db", str(db), "--parquet", str(tmp_path / "pq")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "pq" / "tasks.parquet").is_file()
    assert (tmp_path / "pq" / "occupation_overview.parquet").is_file()
    target = tmp_path / "q" / "tasks.parquet"
    code, output = sql(db, "SELECT * FROM tasks", "--format", "parquet", "--output", str(target))
    assert (code, output) == (0, f"12 rows written to {target}\n")
    assert query_rows(db, f"SELECT count(*) FROM '{target}'") == [(12,)]
    assert sorted(p.name for p in target.parent.iterdir()) == ["tasks.parquet"]
