"""New work: the status of each task against an earlier O*NET release, on a fixture with
known answers, in the store's views, and on the real mirror."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures import MIRROR, TASK_HISTORY, query_rows, write_fixture_release

from jobimpact.errors import DataError
from jobimpact.history import normalise_task, read_baseline_tasks, read_taxonomy_crosswalk
from jobimpact.pipeline import run_ingest


def test_each_fixture_task_gets_its_known_status(db: Path) -> None:
    rows = query_rows(db, "SELECT task_id, status, new_since FROM task_history ORDER BY 1")
    assert {task_id: status for task_id, status, _ in rows} == TASK_HISTORY
    assert {task_id for task_id, _, since in rows if since == "20.1"} == {19598, 16987}


def test_occupation_and_task_views_count_new_work(db: Path) -> None:
    rows = query_rows(
        db,
        "SELECT onet_soc_code, n_tasks, n_new, share_new, new_occupation, n_emerging_new "
        "FROM occupation_new_work WHERE onet_soc_code IN ('11-1011.03', '15-1252.00', "
        "'15-1253.00') ORDER BY 1",
    )
    assert rows[0][:5] == ("11-1011.03", 1, 1, 1.0, False)
    assert rows[1][:5] == ("15-1252.00", 2, 1, 0.5, False)
    assert rows[2][:5] == ("15-1253.00", 2, 0, 0.0, True)
    new = query_rows(db, "SELECT task_id FROM task_new_work WHERE is_new ORDER BY 1")
    assert new == [(16987,), (19598,)]


def test_texts_compare_without_case_spacing_or_final_stop() -> None:
    assert normalise_task("  Analyze   user needs. ") == normalise_task("analyze user needs")


def test_bad_baseline_and_crosswalk_files_name_file_row_and_field(tmp_path: Path) -> None:
    baseline = tmp_path / "Task Statements.txt"
    baseline.write_text("O*NET-SOC Code\tTask ID\tTask\n11-1011\t1\tA task.\n", encoding="utf-8")
    with pytest.raises(DataError) as error:
        read_baseline_tasks(baseline)
    assert str(error.value).startswith("Task Statements.txt, row 2, field 'O*NET-SOC Code': got")
    crosswalk = tmp_path / "onet_soc_2010_to_2019.csv"
    crosswalk.write_text("O*NET-SOC 2010 Code,2019 Code\n11-1011.00,11-1011.00\n")
    with pytest.raises(DataError, match=r"onet_soc_2010_to_2019\.csv: .*.O\*NET-SOC 2019 Code."):
        read_taxonomy_crosswalk(crosswalk)


def test_ingest_without_the_baseline_says_what_to_fetch(tmp_path: Path) -> None:
    paths = write_fixture_release(tmp_path / "data", omit={"baseline/Task Statements.txt"})
    with pytest.raises(DataError) as error:
        run_ingest(db=tmp_path / "s.duckdb", data_dir=paths.data_dir)
    assert "run `jobimpact fetch --source onet_baseline` first" in str(error.value)


@pytest.mark.slow
def test_new_work_on_the_real_release(mirror_store: Path) -> None:
    if not (MIRROR / "README.md").is_file():
        pytest.skip("the data mirror is not beside the checkout")
    counts = dict(query_rows(mirror_store, "SELECT status, count(*) FROM task_history GROUP BY 1"))
    assert sum(counts.values()) == 18_796
    # 29.3 against 20.1: most new Task IDs are renumbered or reworded statements
    assert counts["established"] == 15_734 and counts["new occupation"] == 376
    assert counts["renumbered"] + counts["revised"] + counts["new"] == 18_796 - 15_734 - 376
    assert 400 < counts["new"] < 700
