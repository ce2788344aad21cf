"""A full disk: one line naming the file that could not be written, a store that stays
consistent (and completes on a rerun once there is space), and output files that are
either complete or not there, never replacing a previous good one with half a file.

The store tests mount a small tmpfs (they need root and are skipped otherwise); the
output tests also run everywhere with the write failing as a full disk fails.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures import cli_process, query_rows, write_fixture_release

from jobimpact.cli import cli
from jobimpact.errors import OutputError
from jobimpact.outputs import write_together
from jobimpact.pipeline import run_aggregate, run_score
from jobimpact.scoring.fake import FakeScorer
from jobimpact.store.read import query

KEEPS = (
    "; the store keeps everything written before this write: free some space and run the "
    "command again\n"
)
NO_SPACE = r": cannot write \(No space left on device\)\n"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """``mount(size)``: a fresh tmpfs of that size (e.g. '2m'); unmounted after the test."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        point = tmp_path / f"disk{len(mounted)}"
        point.mkdir()
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root")
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs: {done.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], check=False)


def resize(point: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(point)], check=True)


def fill(point: Path) -> Path:
    """Take every free byte of the file system at ``point``."""
    filler = point / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# --- the store ----------------------------------------------------------------------------


def test_ingest_on_a_full_disk_is_one_line_and_leaves_a_consistent_store(
    tmp_path: Path, small_disk: Callable[[str], Path]
) -> None:
    data = write_fixture_release(tmp_path / "data").data_dir
    disk = small_disk("1m")
    store = disk / "store.duckdb"
    code, output = invoke("ingest", "--db", str(store), "--data-dir", str(data))
    assert code == 1
    assert re.fullmatch(
        rf"Error: {re.escape(str(store))}(\.wal)?: no space left on device{re.escape(KEEPS)}",
        output,
    ), output
    resize(disk, "64m")
    tasks = query(store, "SELECT count(*) AS n FROM tasks")["n"][0]
    assert tasks == 0  # nothing of the failed ingest, not part of it
    code, output = invoke("ingest", "--db", str(store), "--data-dir", str(data))
    assert code == 0, output
    assert query_rows(store, "SELECT count(*) FROM tasks") == [(12,)]


def test_score_filling_the_disk_mid_run_keeps_whole_batches_and_completes_on_a_rerun(
    db: Path, small_disk: Callable[[str], Path]
) -> None:
    disk = small_disk("64m")
    store = disk / "store.duckdb"
    store.write_bytes(db.read_bytes())
    scoring = cli_process(
        "score", "--db", str(store), "--backend", "slow-fake", "--batch-size", "2",
        env={"SLOW_FAKE_SECONDS": "0.3"},
    )  # fmt: skip
    while query(store, "SELECT count(DISTINCT task_id) AS n FROM task_scores")["n"][0] < 2:
        time.sleep(0.05)
    filler = fill(disk)
    out, err = scoring.communicate(timeout=60)
    assert scoring.returncode == 1, (out, err)
    assert re.fullmatch(
        rf"Error: {re.escape(str(store))}(\.wal)?: no space left on device{re.escape(KEEPS)}", err
    ), err
    filler.unlink()
    kept = query(store, "SELECT task_id, count(*) AS n FROM task_scores GROUP BY ALL")
    assert len(kept) >= 2 and len(kept) % 2 == 0 and set(kept["n"]) == {4}  # whole batches
    code, output = invoke("score", "--db", str(store), "--backend", "fake")
    assert code == 0, output
    assert f"{12 - len(kept)} tasks scored, {len(kept)} already scored, 0 failed" in output
    assert query_rows(store, "SELECT count(*) FROM task_scores") == [(48,)]


# --- output files -------------------------------------------------------------------------


@pytest.fixture
def aggregated(db: Path) -> Path:
    run_score(db=db, scorer=FakeScorer())
    run_aggregate(db=db, n_boot=20)
    return db


def test_a_report_on_a_full_disk_leaves_the_previous_report_in_place(
    aggregated: Path, small_disk: Callable[[str], Path]
) -> None:
    disk = small_disk("32m")
    out = disk / "reports"
    code, output = invoke(
        "report", "--db", str(aggregated), "--out", str(out), "--format", "html,pdf"
    )
    assert code == 0, output
    previous = files(out)
    assert sorted(previous) == ["jobimpact_report.html", "jobimpact_report.pdf"]
    filler = fill(disk)
    code, output = invoke(
        "report",
        "--db",
        str(aggregated),
        "--out",
        str(out),
        "--format",
        "html,pdf",
        "--title",
        "New",
    )
    assert code == 1
    assert re.fullmatch(
        rf"Error: {re.escape(str(out))}/jobimpact_report\.(html|pdf){NO_SPACE}",
        output,
    ), output
    assert files(out) == previous  # no half file, no temporary, the old pair intact
    filler.unlink()


def test_export_and_query_output_on_a_full_disk_write_nothing(
    db: Path, small_disk: Callable[[str], Path]
) -> None:
    disk = small_disk("8m")
    fill(disk)
    code, output = invoke("export", "--db", str(db), "--parquet", str(disk / "pq"))
    assert code == 1
    assert re.fullmatch(
        rf"Error: {re.escape(str(disk))}/pq/\w+\.parquet{NO_SPACE}",
        output,
    ), output
    assert list((disk / "pq").iterdir()) == []
    for fmt in ("csv", "json", "parquet"):
        target = disk / f"q.{fmt}"
        code, output = invoke(
            "sql", "SELECT * FROM tasks", "--db", str(db), "--format", fmt, "-o", str(target)
        )
        assert (code, output) == (1, f"Error: {target}: cannot write (No space left on device)\n")
    assert sorted(p.name for p in disk.iterdir()) == ["filler", "pq"]


def full_disk(temporary: Path) -> None:
    """A writer that fails as a full disk fails, after writing part of its file."""
    temporary.write_bytes(b"half a fi")
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_files_written_together_are_all_replaced_or_none(tmp_path: Path) -> None:
    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    html.write_text("old html")
    pdf.write_text("old pdf")
    with pytest.raises(OutputError) as caught:
        write_together({html: lambda t: t.write_text("new html"), pdf: full_disk})
    assert str(caught.value) == f"{pdf}: cannot write (No space left on device)"
    assert files(tmp_path) == {"r.html": b"old html", "r.pdf": b"old pdf"}
    write_together({html: lambda t: t.write_text("new html"), pdf: lambda t: t.write_text("new")})
    assert files(tmp_path) == {"r.html": b"new html", "r.pdf": b"new"}


def test_a_report_whose_pdf_write_fails_keeps_the_previous_pair(
    aggregated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    (out / "jobimpact_report.html").write_text("previous html")
    (out / "jobimpact_report.pdf").write_text("previous pdf")
    monkeypatch.setattr("jobimpact.report.render.pdf_writer", lambda html: (full_disk, 1))
    code, output = invoke(
        "report", "--db", str(aggregated), "--out", str(out), "--format", "html,pdf"
    )
    assert (code, output) == (
        1,
        f"Error: {out}/jobimpact_report.pdf: cannot write (No space left on device)\n",
    )
    assert files(out) == {
        "jobimpact_report.html": b"previous html",
        "jobimpact_report.pdf": b"previous pdf",
    }


def test_query_output_and_exports_that_fail_leave_no_file(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    def to_csv(self: pd.DataFrame, path: Path, **kwargs: object) -> None:
        full_disk(Path(path))

    monkeypatch.setattr(pd.DataFrame, "to_csv", to_csv)
    target = tmp_path / "q.csv"
    target.write_text("previous")
    code, output = invoke(
        "sql", "SELECT * FROM tasks", "--db", str(db), "--format", "csv", "-o", str(target)
    )
    assert (code, output) == (1, f"Error: {target}: cannot write (No space left on device)\n")
    assert target.read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
