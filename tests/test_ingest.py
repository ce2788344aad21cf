"""Ingest end to end through the CLI: counts, reruns, bad input leaving the store alone."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from fixtures import append_line, replace_in_file, write_fixture_release

from jobimpact.cli import cli

SNAPSHOT_QUERY = """
SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM occupations),
       (SELECT count(*) FROM runs),
       (SELECT string_agg(sha256, ',' ORDER BY file) FROM source_files),
       (SELECT sum(tot_emp) FROM employment)
"""


def _ingest(data_dir: Path, db: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["ingest", "--data-dir", str(data_dir), "--db", str(db), *extra]
    )
    return result.exit_code, result.output


def _snapshot(db: Path) -> tuple[object, ...]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(SNAPSHOT_QUERY).fetchone()
    finally:
        con.close()
    assert row is not None
    return tuple(row)


@pytest.fixture
def ingested(tmp_path: Path) -> tuple[Path, Path]:
    paths = write_fixture_release(tmp_path / "data")
    db = tmp_path / "store.duckdb"
    code, output = _ingest(paths.data_dir, db)
    assert code == 0, output
    return paths.data_dir, db


def test_ingest_reports_counts_and_a_rerun_changes_nothing(ingested: tuple[Path, Path]) -> None:
    data_dir, db = ingested
    before = _snapshot(db)
    assert before[0] > 0 and before[2] == 1
    code, output = _ingest(data_dir, db)
    assert (code, output) == (
        0,
        f"{db}: already up to date with these source files; nothing to do.\n",
    )
    assert _snapshot(db) == before
    code, _ = _ingest(data_dir, db, "--force")
    assert code == 0
    assert _snapshot(db)[:2] == before[:2] and _snapshot(db)[2] == 2


def test_status_and_sql_answer_from_the_views(ingested: tuple[Path, Path]) -> None:
    _, db = ingested
    runner = CliRunner()
    status = runner.invoke(cli, ["status", "--db", str(db)])
    assert status.exit_code == 0
    tasks = _snapshot(db)[0]
    assert f"tasks: {tasks:,}" in status.output
    assert "employment matched to occupations with tasks:" in status.output
    query = "SELECT soc_major, n_tasks FROM major_group_summary WHERE n_tasks > 0 ORDER BY 1"
    result = runner.invoke(cli, ["sql", query, "--db", str(db), "--format", "csv"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "soc_major,n_tasks"
    assert sum(int(line.split(",")[1]) for line in lines[1:]) == tasks


def test_sql_writes_parquet_and_export_writes_every_relation(
    ingested: tuple[Path, Path], tmp_path: Path
) -> None:
    _, db = ingested
    runner = CliRunner()
    out = tmp_path / "q.parquet"
    result = runner.invoke(
        cli,
        [
            "sql",
            "SELECT * FROM task_overview",
            "--db",
            str(db),
            "--format",
            "parquet",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert duckdb.sql(f"SELECT count(*) FROM '{out}'").fetchall() == [(_snapshot(db)[0],)]
    result = runner.invoke(cli, ["export", "--db", str(db), "--parquet", str(tmp_path / "pq")])
    assert result.exit_code == 0
    assert (tmp_path / "pq" / "occupation_overview.parquet").is_file()


BAD_INPUTS = [
    pytest.param(
        lambda p: p.onet("Task Statements.txt").unlink(),
        "Task Statements.txt",
        id="missing file",
    ),
    pytest.param(
        lambda p: replace_in_file(p.onet("Task Statements.txt"), "\tTask ID\t", "\tTaskID\t"),
        "missing column 'Task ID'",
        id="renamed column",
    ),
    pytest.param(
        lambda p: p.onet("Occupation Data.txt").write_bytes(
            p.onet("Occupation Data.txt").read_bytes().replace(b"Chief", b"Chi\xe9f", 1)
        ),
        "UTF-8",
        id="non-utf8 bytes",
    ),
    pytest.param(
        lambda p: p.onet("Task Ratings.txt").write_text(""),
        "Task Ratings.txt",
        id="empty file",
    ),
    pytest.param(
        lambda p: append_line(
            p.onet("Task Statements.txt"),
            p.onet("Task Statements.txt").read_text().splitlines()[1],
        ),
        "Task Statements.txt",
        id="duplicate task",
    ),
    pytest.param(
        lambda p: replace_in_file(p.onet("Task Statements.txt"), "11-1011.00\t", "11-9999.00\t"),
        "11-9999.00",
        id="unknown occupation",
    ),
]


@pytest.mark.parametrize(("corrupt", "named"), BAD_INPUTS)
def test_bad_input_is_one_line_and_leaves_the_store_as_it_was(
    ingested: tuple[Path, Path], corrupt: object, named: str
) -> None:
    data_dir, db = ingested
    before = _snapshot(db)
    paths = write_fixture_release(data_dir)
    corrupt(paths)  # type: ignore[operator]
    code, output = _ingest(data_dir, db)
    assert code == 1
    assert output.startswith("Error: ") and output.count("\n") == 1, output
    assert named in output
    assert "Traceback" not in output
    assert _snapshot(db) == before


def test_ingest_before_fetch_says_what_to_run(tmp_path: Path) -> None:
    code, output = _ingest(tmp_path / "empty", tmp_path / "s.duckdb")
    assert code == 1
    assert "run `jobimpact fetch --source onet` first" in output
    assert not (tmp_path / "s.duckdb").exists()
