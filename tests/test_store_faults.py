"""What other processes, damaged files and mistyped paths do to the store, and what the
user sees: one line, a non-zero exit, and a store (or file) left as it was."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from fixtures import cli_process, query_rows

from jobimpact.cli import cli
from jobimpact.errors import StoreBusyError, StoreError
from jobimpact.pipeline import run_score
from jobimpact.scoring.fake import FakeScorer
from jobimpact.store import open_store
from jobimpact.store.connection import map_error
from jobimpact.store.read import query

# Every command that needs an ingested store, with what else it needs to get that far.
NEEDS_A_STORE = {
    "score": ["score", "--backend", "fake"],
    "embed": ["embed", "--embedder", "fake"],
    "cluster": ["cluster", "--embedder", "fake", "--k", "2"],
    "calibrate": ["calibrate", "--labels", "labels.tsv"],
    "aggregate": ["aggregate"],
    "validate": ["validate", "--labels", "labels.tsv"],
    "report": ["report", "--format", "html"],
    "sql": ["sql", "SELECT count(*) FROM tasks"],
    "status": ["status"],
    "export": ["export", "--parquet", "exported"],
}


def invoke(tmp_path: Path, args: list[str], db: Path) -> tuple[int, str]:
    """Run a command from ``tmp_path`` (relative outputs land there) on the store ``db``."""
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(cli, [*args, "--db", str(db), *_out(args)])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.output


def _out(args: list[str]) -> list[str]:
    return ["--out", "reports"] if args[0] == "report" else []


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- a mistyped --db ---------------------------------------------------------------------


@pytest.mark.parametrize("command", NEEDS_A_STORE)
def test_a_mistyped_store_path_is_refused_and_not_created(tmp_path: Path, command: str) -> None:
    missing = tmp_path / "typo" / "store.duckdb"
    code, output = invoke(tmp_path, NEEDS_A_STORE[command], missing)
    assert (code, output) == (
        1,
        f"Error: {missing}: got no such file, expected a jobimpact store; check --db or "
        "JOBIMPACT_DB, or run `jobimpact ingest` first\n",
    )
    assert not missing.parent.exists()


def test_the_library_refuses_a_missing_store_unless_asked_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="got no such file"), open_store(tmp_path / "a.duckdb"):
        pass
    assert not (tmp_path / "a.duckdb").exists()
    with open_store(tmp_path / "new" / "b.duckdb", create=True):
        pass
    assert (tmp_path / "new" / "b.duckdb").is_file()


# --- a damaged store ---------------------------------------------------------------------


@pytest.fixture
def scored(db: Path) -> Path:
    """The fixture store with every task scored by the fake scorer."""
    run_score(db=db, scorer=FakeScorer())
    return db


def test_a_store_cut_to_half_its_size_is_reported_damaged_by_every_command(
    scored: Path, tmp_path: Path
) -> None:
    damaged = tmp_path / "half.duckdb"
    data = scored.read_bytes()
    damaged.write_bytes(data[: len(data) // 2])
    before = sha256(damaged)
    commands = {**NEEDS_A_STORE, "ingest": ["ingest", "--data-dir", str(tmp_path / "data")]}
    for command, args in commands.items():
        code, output = invoke(tmp_path, args, damaged)
        assert code == 1, (command, output)
        # found at open (shorter than its header says) or at the first read of a lost block
        assert output.startswith(f"Error: {damaged}: the store is damaged ("), (
            command,
            output,
        )
        assert output.endswith(
            "it was left as it is: restore it from a backup, or move it aside and rebuild it "
            "(jobimpact ingest, then the later stages)\n"
        )
        assert output.count("\n") == 1, (command, output)
    assert sha256(damaged) == before
    assert sorted(p.name for p in tmp_path.glob("half.duckdb*")) == ["half.duckdb"]


def test_a_block_overwritten_in_place_is_reported_damaged_where_it_is_read(
    scored: Path, tmp_path: Path
) -> None:
    damaged = tmp_path / "bad.duckdb"
    data = bytearray(scored.read_bytes())
    middle = len(data) // 2
    data[middle:] = os.urandom(len(data) - middle)  # same size, second half garbage
    damaged.write_bytes(bytes(data))
    before = sha256(damaged)
    query = "SELECT * FROM task_scores, task_features, tasks, occupations, oews"
    for args in (["sql", query], ["export", "--parquet", "exported"], ["aggregate"]):
        code, output = invoke(tmp_path, args, damaged)
        assert code == 1, (args, output)
        assert output.startswith(f"Error: {damaged}: the store is damaged ("), (args, output)
        assert output.count("\n") == 1
    assert sha256(damaged) == before


def test_damage_and_a_full_disk_met_by_duckdb_become_one_line(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    store.write_bytes(b"\0" * 100)
    cases = {
        'IO Error: Could not read enough bytes from file "x": attempted to read 262144 '
        "bytes from location 4730880": "a read at byte 4,730,880 is past its end at 100",
        "Corrupt database file: computed checksum 1 does not match stored checksum 0 in "
        "block at location 5517312": "a checksum mismatch in the block at byte 5,517,312",
    }
    for text, detail in cases.items():
        mapped = map_error(store, duckdb.IOException(text))
        assert isinstance(mapped, StoreError)
        assert str(mapped).startswith(f"{store}: the store is damaged ({detail}); ")
    full = duckdb.TransactionException(
        f'Failed to commit: Could not write file "{store}.wal": No space left on device'
    )
    assert map_error(store, StoreError("store write failed")) is None  # no DuckDB cause
    wrapped = StoreError("store write failed: Failed to commit")
    wrapped.__cause__ = full
    assert str(map_error(store, wrapped)) == (
        f"{store}.wal: no space left on device; the store keeps everything written before "
        "this write: free some space and run the command again"
    )
    assert isinstance(map_error(store, RuntimeError("Query interrupted")), KeyboardInterrupt)
    assert map_error(store, RuntimeError("something else")) is None


# --- another process has the store open ---------------------------------------------------

HOLD = """
import sys, time, duckdb
for attempt in range(1000):  # the store may be in use for a moment
    try:
        con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "reader")
        break
    except duckdb.IOException:
        time.sleep(0.01)
print("open", flush=True)
time.sleep(float(sys.argv[3]))
con.close()
"""


def hold(db: Path, role: str, seconds: float) -> subprocess.Popen[str]:
    """A process holding the store open as a reader or a writer for ``seconds``."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db), role, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "open\n"
    return holder


def program() -> str:
    """The name DuckDB gives a Python process holding a lock."""
    return Path(os.path.realpath(sys.executable)).name


@pytest.mark.parametrize("role", ["reader", "writer"])
def test_a_store_held_too_long_names_the_holder_and_its_process_id(db: Path, role: str) -> None:
    holder = hold(db, role, 30)
    try:
        for read_only in (False, True) if role == "writer" else (False,):
            started = time.monotonic()
            with (
                pytest.raises(StoreBusyError) as caught,
                open_store(db, read_only=read_only, wait=1),
            ):
                pass
            assert time.monotonic() - started >= 1
            advice = (
                "close that connection (in a notebook, read with jobimpact.query, which opens "
                "the store per query) and run the command again"
                if role == "reader"
                else "run the command again when that process ends"
            )
            assert str(caught.value) == (
                f"{db}: the store is open in another process, a {role} (PID {holder.pid}, "
                f"{program()}); waited 1 s for it; {advice}"
            )
    finally:
        holder.kill()
        holder.wait()


def test_a_short_lock_is_waited_for(db: Path) -> None:
    holder = hold(db, "writer", 1.0)
    started = time.monotonic()
    with open_store(db, wait=20) as con:
        waited = time.monotonic() - started
        assert con.execute("SELECT count(*) FROM tasks").fetchone() == (12,)
    holder.wait()
    assert 0.5 < waited < 10


def test_a_score_run_outlasted_by_a_reader_keeps_its_batches_and_says_who(
    db: Path, tmp_path: Path
) -> None:
    """The reader opens after the first batches: they stay stored; the run stops with one line
    naming the reader, and shows as interrupted once its process is gone."""
    scoring = cli_process(
        "score", "--db", str(db), "--backend", "slow-fake", "--batch-size", "2",
        env={"JOBIMPACT_LOCK_WAIT": "2"},
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # read as an analyst would: waiting for short locks
        if query(db, "SELECT count(DISTINCT task_id) AS n FROM task_scores")["n"][0] >= 2:
            break
        time.sleep(0.05)
    holder = hold(db, "reader", 30)
    try:
        _, stderr = scoring.communicate(timeout=60)
    finally:
        holder.kill()
        holder.wait()
    assert scoring.returncode == 1
    assert stderr == (
        f"Error: {db}: the store is open in another process, a reader (PID {holder.pid}, "
        f"{program()}); waited 2 s for it; close that connection (in a notebook, read with "
        "jobimpact.query, which opens the store per query) and run the command again\n"
    )
    kept = query_rows(db, "SELECT count(DISTINCT task_id) FROM task_scores")[0][0]
    assert kept >= 2 and kept % 2 == 0
    code, output = invoke(tmp_path, ["status"], db)
    assert code == 0
    assert "score      interrupted" in output


READER_LOOP = """
import sys, time, duckdb
reads = 0
while True:  # a notebook cell run every second: open, read, close
    try:
        con = duckdb.connect(sys.argv[1], read_only=True)
        con.execute("SELECT count(*) FROM task_scores").fetchall()
        time.sleep(0.2)
        con.close()
        reads += 1
        print(reads, flush=True)
    except duckdb.IOException:
        pass
    time.sleep(1)
"""
# `jobimpact sql` run again and again until a stop file appears (in one process, so that
# twenty of them query the store many times a second without the start-up of a process).
SQL_READER = """
import sys, time
from pathlib import Path
from click.testing import CliRunner
from jobimpact.cli import cli
query = ["sql", "SELECT count(*) AS n FROM task_scores", "--db", sys.argv[1]]
while not Path(sys.argv[2]).exists():
    result = CliRunner().invoke(cli, query)
    print(result.exit_code, repr(result.output), flush=True)
    time.sleep(0.05)
"""


@pytest.mark.slow
def test_a_scoring_run_survives_a_reader_loop_and_twenty_sql_readers(
    mirror_store: Path, tmp_path: Path
) -> None:
    db = tmp_path / "store.duckdb"
    db.write_bytes(mirror_store.read_bytes())
    stop = tmp_path / "stop"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(db), str(stop)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for code in [READER_LOOP] + [SQL_READER] * 20
    ]
    started = time.monotonic()
    scoring = cli_process(
        "score", "--db", str(db), "--backend", "fake", "--limit", "120", "--batch-size", "4"
    )
    out, err = scoring.communicate(timeout=600)
    seconds = time.monotonic() - started
    stop.touch()
    readers[0].kill()
    outputs = [reader.communicate(timeout=120)[0].splitlines() for reader in readers]
    assert (scoring.returncode, err) == (0, ""), err
    assert "120 tasks scored, 0 already scored, 0 failed (of 120 selected)" in out
    assert query_rows(db, "SELECT count(DISTINCT task_id) FROM task_scores") == [(120,)]
    runs = "SELECT status, counts->>'scored' FROM runs WHERE stage = 'score'"
    assert query_rows(db, runs) == [("done", "120")]
    queries = [line for lines in outputs[1:] for line in lines]
    refused = [line for line in queries if not line.startswith("0 ")]
    assert not refused, refused[:3]
    assert outputs[0] and len(queries) >= 100  # the loop and the readers did read
    print(f"{seconds:.0f} s, {len(queries)} sql queries, {len(outputs[0])} loop reads")
