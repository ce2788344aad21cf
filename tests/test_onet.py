"""Tests of jobimpact.onet (and the shared readers of jobimpact.tabular) on a tiny release."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from fixtures import append_line, replace_in_file, write_fixture_release

from jobimpact.errors import DataError
from jobimpact.onet import FILES, read_onet
from jobimpact.tabular import read_table, text_sha256, to_float, to_int

WHAT = "the O*NET 29.x text release"
MIRROR = Path(__file__).resolve().parents[2] / "shared" / "data"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- parsing ---------------------------------------------------------------------------------


def test_occupations_carry_titles_and_job_zones(tmp_path: Path) -> None:
    occupations = read_onet(write_fixture_release(tmp_path).onet_dir).occupations
    assert list(occupations.columns) == ["onet_soc_code", "title", "description", "job_zone"]
    assert len(occupations) == 11
    by_code = occupations.set_index("onet_soc_code")
    assert by_code.at["11-1011.03", "title"] == "Chief Sustainability Officers"
    assert by_code.at["45-3031.00", "description"] == "Catch fish and hunt animals."
    assert by_code.at["11-1011.00", "job_zone"] == 5
    assert by_code.at["45-3031.00", "job_zone"] == 1
    assert by_code["job_zone"].isna().sum() == 2
    assert pd.isna(by_code.at["13-1023.00", "job_zone"])
    assert str(occupations["job_zone"].dtype) == "Int64"


def test_tasks_join_importance_and_relevance_from_the_long_ratings(tmp_path: Path) -> None:
    tasks = read_onet(write_fixture_release(tmp_path).onet_dir).tasks
    assert len(tasks) == 12
    assert tasks["task_id"].tolist()[:4] == [8823, 8824, 8827, 19598]
    assert str(tasks["task_id"].dtype) == "Int64"
    first = tasks.set_index("task_id").loc[8823]
    assert first["onet_soc_code"] == "11-1011.00"
    assert first["task_type"] == "Core"
    assert first["incumbents_responding"] == 95.0
    assert (first["importance"], first["importance_lower"], first["importance_upper"]) == (
        4.52,
        4.3146,
        4.735,
    )
    assert (first["relevance"], first["relevance_lower"], first["relevance_upper"]) == (
        74.44,
        57.6139,
        86.1881,
    )
    assert first["date"] == "08/2023"
    assert first["domain_source"] == "Incumbent"
    # Empty confidence bounds are NULL, not zero.
    second = tasks.set_index("task_id").loc[8824]
    assert second["importance"] == 4.32
    assert pd.isna(second["importance_lower"]) and pd.isna(second["importance_upper"])
    assert second["relevance"] == 100.0


def test_unrated_task_has_null_type_and_ratings(tmp_path: Path) -> None:
    tasks = read_onet(write_fixture_release(tmp_path).onet_dir).tasks.set_index("task_id")
    new = tasks.loc[21601]
    assert pd.isna(new["task_type"])
    assert pd.isna(new["incumbents_responding"])
    assert new[["importance", "relevance", "relevance_upper"]].isna().all()
    assert tasks["importance"].notna().sum() == 11
    assert new["domain_source"] == "Analyst"


def test_the_release_missing_value_mark_is_null_where_the_dictionary_allows_it(
    tmp_path: Path,
) -> None:
    # The O*NET data dictionary's text form writes n/a where the database forms hold NULL:
    # here in every nullable column the ingest reads or skips, in upper and lower case.
    paths = write_fixture_release(tmp_path)
    replace_in_file(
        paths.onet("Task Ratings.txt"),
        "8823\tIM\tn/a\t4.52\t\t\t4.3146\t4.735\t\t\t",
        "8823\tIM\tn/a\t4.52\tn/a\tn/a\tn/a\tN/A\tn/a\t08/2023\tIncumbent",
    )
    replace_in_file(
        paths.onet("Task Statements.txt"),
        "Document software defects.\t\t\t05/2025",
        "Document software defects.\tn/a\tn/a\t05/2025",
    )
    replace_in_file(
        paths.onet("Emerging Tasks.txt"), "New\t\t\t08/2024", "New\tn/a\t n/a \t08/2024"
    )
    tables = read_onet(paths.onet_dir)
    tasks = tables.tasks.set_index("task_id")
    rated = tasks.loc[8823]
    assert rated["importance"] == 4.52
    assert pd.isna(rated["importance_lower"]) and pd.isna(rated["importance_upper"])
    assert (rated["relevance_lower"], rated["relevance_upper"]) == (57.6139, 86.1881)
    new = tasks.loc[21601]
    assert pd.isna(new["task_type"]) and pd.isna(new["incumbents_responding"])
    assert pd.isna(tables.emerging_tasks.at[0, "original_task_id"])
    assert pd.isna(tables.emerging_tasks.at[0, "original_task"])
    assert len(tasks) == 12 and tasks["importance"].notna().sum() == 11


def test_task_text_is_kept_exactly_and_hashed(tmp_path: Path) -> None:
    tasks = read_onet(write_fixture_release(tmp_path).onet_dir).tasks.set_index("task_id")
    quoted = tasks.at[19598, "task"]
    assert quoted == 'Identify "green" opportunities.'
    accented = tasks.at[2242, "task"]
    assert accented == "Négocier — negotiate with suppliers’ agents."
    assert tasks.at[2242, "text_sha256"] == _sha(accented)
    assert text_sha256(quoted) == _sha(quoted)
    assert tasks["text_sha256"].str.fullmatch(r"[0-9a-f]{64}").all()


def test_work_activities_and_their_links(tmp_path: Path) -> None:
    tables = read_onet(write_fixture_release(tmp_path).onet_dir)
    iwas = tables.iwas.set_index("iwa_id")
    assert len(iwas) == 3
    assert iwas.loc["4.A.3.b.1.I06"].tolist() == [
        "Program computer systems or production equipment.",
        "4.A.3.b.1",
        "Working with Computers",
    ]
    dwas = tables.dwas.set_index("dwa_id")
    assert len(dwas) == 4
    assert dwas.at["4.A.3.b.1.I06.D04", "dwa_title"] == "Test software performance."
    assert dwas.at["4.A.3.b.1.I06.D04", "iwa_id"] == "4.A.3.b.1.I06"
    assert dwas.at["4.A.3.b.1.I06.D04", "text_sha256"] == _sha("Test software performance.")
    links = tables.task_dwas
    assert list(links.columns) == ["task_id", "dwa_id", "date", "domain_source"]
    assert sorted(zip(links["task_id"], links["dwa_id"], strict=True)) == [
        (8823, "4.A.4.b.4.I09.D02"),
        (8824, "4.A.4.a.2.I03.D14"),
        (16363, "4.A.3.b.1.I06.D01"),
        (16987, "4.A.3.b.1.I06.D01"),
        (21600, "4.A.3.b.1.I06.D04"),
    ]


def test_emerging_tasks_number_rows_and_read_float_task_ids(tmp_path: Path) -> None:
    emerging = read_onet(write_fixture_release(tmp_path).onet_dir).emerging_tasks
    assert emerging["emerging_id"].tolist() == [1, 2]
    assert emerging["category"].tolist() == ["New", "Revision"]
    assert pd.isna(emerging.at[0, "original_task_id"])
    assert emerging.at[1, "original_task_id"] == 16987  # written "16987.0"
    assert str(emerging["original_task_id"].dtype) == "Int64"
    assert pd.isna(emerging.at[0, "original_task"])
    assert emerging.at[1, "original_task"] == "Modify software to correct errors."
    assert emerging.at[1, "text_sha256"] == _sha(emerging.at[1, "task"])


def test_files_may_start_with_a_byte_order_mark_and_use_crlf(tmp_path: Path) -> None:
    paths = write_fixture_release(tmp_path)
    path = paths.onet("Occupation Data.txt")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    occupations = read_onet(paths.onet_dir).occupations
    assert occupations["onet_soc_code"].iloc[0] == "11-1011.00"
    assert occupations["description"].iloc[0] == "Determine and formulate policies."


# --- errors ----------------------------------------------------------------------------------


def test_a_missing_file_is_named_with_its_folder(tmp_path: Path) -> None:
    paths = write_fixture_release(tmp_path, omit={"Job Zones.txt", "Tasks to DWAs.txt"})
    with pytest.raises(DataError) as caught:
        read_onet(paths.onet_dir)
    assert str(caught.value) == (
        f"{paths.onet_dir}: got no 'Tasks to DWAs.txt', 'Job Zones.txt' in this folder, "
        f"expected the 8 files of {WHAT}: " + ", ".join(FILES)
    )


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nowhere: got no such folder, expected the O\*NET"):
        read_onet(tmp_path / "nowhere")


def _corrupt(tmp_path: Path, name: str, old: str, new: str) -> Path:
    paths = write_fixture_release(tmp_path)
    replace_in_file(paths.onet(name), old, new)
    return paths.onet_dir


def _appended(tmp_path: Path, name: str, line: str) -> Path:
    paths = write_fixture_release(tmp_path)
    append_line(paths.onet(name), line)
    return paths.onet_dir


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (
            "Task Statements.txt",
            "\tTask ID\t",
            "\tTaskID\t",
            "Task Statements.txt: missing column 'Task ID' (found: 'O*NET-SOC Code', 'Title', "
            "'TaskID', 'Task', 'Task Type', 'Incumbents Responding', 'Date', 'Domain Source'); "
            f"expected {WHAT}",
        ),
        (
            "Task Ratings.txt",
            "Scale ID\tCategory\tData Value",
            "Scale\tCategory\tValue",
            "Task Ratings.txt: missing columns 'Scale ID', 'Data Value' (found: 'O*NET-SOC Code', "
            "'Task ID', 'Scale', 'Category', 'Value', 'N', 'Standard Error', 'Lower CI Bound', "
            "'Upper CI Bound', 'Recommend Suppress', 'Date', 'Domain Source'); "
            f"expected {WHAT}",
        ),
        (
            "Task Statements.txt",
            "\t8827\t",
            "\t88x27\t",
            "Task Statements.txt, row 4, field 'Task ID': got '88x27', expected an integer",
        ),
        (
            "Task Statements.txt",
            "\t2007\tOversee",
            "\t8824\tOversee",
            "Task Statements.txt, row 6, field 'Task ID': got Task ID 8824 for '11-1021.00', "
            "already used for '11-1011.00' at row 3; expected a Task ID unique across occupations",
        ),
        (
            "Task Statements.txt",
            "Core\t95.0\t08/2023",
            "Main\t95.0\t08/2023",
            "Task Statements.txt, row 2, field 'Task Type': got 'Main', expected 'Core', "
            "'Supplemental' or an empty cell",
        ),
        (
            "Task Statements.txt",
            "Core\t111.0",
            "Core\tmany",
            "Task Statements.txt, row 6, field 'Incumbents Responding': got 'many', "
            "expected a number",
        ),
        (
            "Occupation Data.txt",
            "11-1011.03\t",
            "11-1011.3\t",
            "Occupation Data.txt, row 3, field 'O*NET-SOC Code': got '11-1011.3', "
            "expected an O*NET-SOC code like 11-1011.00",
        ),
        (
            "Task Ratings.txt",
            "IM\tn/a\t4.52",
            "IM\tn/a\thigh",
            "Task Ratings.txt, row 2, field 'Data Value': got 'high', expected a number",
        ),
        (
            "Task Ratings.txt",
            "11-1011.00\t8827\tRT",
            "11-1021.00\t8827\tRT",
            "Task Ratings.txt, row 7, field 'O*NET-SOC Code': got '11-1021.00' for Task ID 8827, "
            "expected '11-1011.00' as in Task Statements.txt",
        ),
        (
            "Job Zones.txt",
            "Chief Executives\t5",
            "Chief Executives\t7",
            "Job Zones.txt, row 2, field 'Job Zone': got '7', expected a job zone 1 to 5",
        ),
        (
            "Emerging Tasks.txt",
            "16987.0",
            "16987.5",
            "Emerging Tasks.txt, row 3, field 'Original Task ID': got '16987.5', "
            "expected an integer or an empty cell",
        ),
        (
            "Emerging Tasks.txt",
            "\tNew\t",
            "\tNovel\t",
            "Emerging Tasks.txt, row 2, field 'Category': got 'Novel', expected 'New' or "
            "'Revision'",
        ),
        (
            "Tasks to DWAs.txt",
            "\t4.A.4.a.2.I03.D14\t",
            "\t4.A.4.a.2.I03.D99\t",
            "Tasks to DWAs.txt, row 3, field 'DWA ID': got '4.A.4.a.2.I03.D99', "
            "expected a code listed in DWA Reference.txt",
        ),
        (
            "DWA Reference.txt",
            "4.A.4.b.4.I09\tDirect financial operations or activities.\t4.A.4.b.4.I09.D02",
            "4.A.4.b.4.I77\tDirect financial operations or activities.\t4.A.4.b.4.I09.D02",
            "DWA Reference.txt, row 2, field 'IWA ID': got '4.A.4.b.4.I77', "
            "expected a code listed in IWA Reference.txt",
        ),
    ],
)
def test_malformed_cells_name_file_row_and_field(
    tmp_path: Path, name: str, old: str, new: str, message: str
) -> None:
    folder = _corrupt(tmp_path, name, old, new)
    with pytest.raises(DataError) as caught:
        read_onet(folder)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (
            "Task Ratings.txt",
            "IM\tn/a\t4.52",
            "IM\tn/a\tn/a",
            "Task Ratings.txt, row 2, field 'Data Value': got 'n/a', expected a number",
        ),
        (
            "Task Statements.txt",
            "\t8827\t",
            "\tn/a\t",
            "Task Statements.txt, row 4, field 'Task ID': got 'n/a', expected an integer",
        ),
        (
            "Job Zones.txt",
            "Chief Executives\t5",
            "Chief Executives\tn/a",
            "Job Zones.txt, row 2, field 'Job Zone': got 'n/a', expected a job zone 1 to 5",
        ),
        (
            "Emerging Tasks.txt",
            "\tNew\t",
            "\tn/a\t",
            "Emerging Tasks.txt, row 2, field 'Category': got 'n/a', expected 'New' or 'Revision'",
        ),
    ],
)
def test_the_missing_value_mark_is_refused_where_a_value_is_required(
    tmp_path: Path, name: str, old: str, new: str, message: str
) -> None:
    with pytest.raises(DataError) as caught:
        read_onet(_corrupt(tmp_path, name, old, new))
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        (
            "Task Statements.txt",
            "11-1011.00\tChief Executives\t8823\tAgain.\tCore\t1.0\t08/2023\tIncumbent",
            "Task Statements.txt, row 14: got O*NET-SOC Code '11-1011.00', Task ID '8823' "
            "again (first at row 2), expected each (O*NET-SOC Code, Task ID) pair once",
        ),
        (
            "Task Statements.txt",
            "99-9999.00\tNobody\t99999\tNothing.\tCore\t1.0\t08/2023\tIncumbent",
            "Task Statements.txt, row 14, field 'O*NET-SOC Code': got '99-9999.00', "
            "expected a code listed in Occupation Data.txt",
        ),
        (
            "Task Statements.txt",
            "45-3031.00\tFishing\t5671\tNet fish.\tCore\t1.0\t06/2014\tIncumbent\textra",
            "Task Statements.txt, row 14: got 9 fields, expected at most 8 (the header's columns)",
        ),
        (
            "Task Ratings.txt",
            "45-3031.00\t5999\tIM\tn/a\t3.0\t\t\t\t\t\t\t",
            "Task Ratings.txt, row 27, field 'Task ID': got '5999', "
            "expected a code listed in Task Statements.txt",
        ),
        (
            "Task Ratings.txt",
            "45-3031.00\t5670\tIM\tn/a\t3.0\t\t\t\t\t\t\t",
            "Task Ratings.txt, row 27: got Task ID '5670', Scale ID 'IM' again (first at row 22), "
            "expected each (Task ID, Scale ID) pair once",
        ),
        (
            "Occupation Data.txt",
            "11-1011.00\tChief Executives again\tSame code.",
            "Occupation Data.txt, row 13, field 'O*NET-SOC Code': got O*NET-SOC Code "
            "'11-1011.00' again (first at row 2), expected each O*NET-SOC Code once",
        ),
        (
            "Emerging Tasks.txt",
            "55-1011.00\tAir Crew Officers\tFly.\tNew\t\t\t08/2024\tIncumbent",
            "Emerging Tasks.txt, row 4, field 'O*NET-SOC Code': got '55-1011.00', "
            "expected a code listed in Occupation Data.txt",
        ),
    ],
)
def test_inconsistent_rows_name_both_places(
    tmp_path: Path, name: str, line: str, message: str
) -> None:
    folder = _appended(tmp_path, name, line)
    with pytest.raises(DataError) as caught:
        read_onet(folder)
    assert str(caught.value) == message


def test_bytes_that_are_not_utf8_name_the_row(tmp_path: Path) -> None:
    paths = write_fixture_release(tmp_path)
    path = paths.onet("Task Statements.txt")
    data = path.read_bytes().replace("Négocier".encode(), "Négocier".encode("latin-1"))
    path.write_bytes(data)
    offset = data.index(b"N\xe9g") + 1
    with pytest.raises(DataError) as caught:
        read_onet(paths.onet_dir)
    assert str(caught.value) == (
        f"Task Statements.txt, row 8: got bytes that are not UTF-8 (b'\\xe9' at byte {offset}), "
        f"expected UTF-8 text of {WHAT}"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", f"Occupation Data.txt: got an empty file, expected a header row and data of {WHAT}"),
        (
            "O*NET-SOC Code\tTitle\tDescription\n",
            f"Occupation Data.txt: got a header and no data rows, expected the rows of {WHAT}",
        ),
        (
            "\n\n",
            "Occupation Data.txt: missing columns 'O*NET-SOC Code', 'Title', 'Description' "
            f"(found: nothing); expected {WHAT}",
        ),
    ],
)
def test_empty_files_are_refused(tmp_path: Path, content: str, message: str) -> None:
    paths = write_fixture_release(tmp_path, overrides={"Occupation Data.txt": content})
    with pytest.raises(DataError) as caught:
        read_onet(paths.onet_dir)
    assert str(caught.value) == message


# --- shared readers --------------------------------------------------------------------------


def test_read_table_finds_a_header_below_a_title_block_and_numbers_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('Title block,\n,\nCode,Value,Note\nA,1,x\n\nB,"2,500",\n', encoding="utf-8")
    frame = read_table(
        path,
        required=("Value", "Code"),
        optional=("Missing",),
        what="t",
        delimiter=",",
        header_scan=5,
    )
    assert list(frame.columns) == ["Value", "Code", "Missing"]
    assert frame.index.tolist() == [4, 6]  # spreadsheet rows; the blank row 5 is skipped
    assert frame["Missing"].tolist() == ["", ""]
    values, marks = to_float(frame, "Value", thousands=True)
    assert values.tolist() == [1.0, 2500.0]
    assert marks.isna().all()
    with pytest.raises(DataError) as caught:
        read_table(path, required=("Code",), what="a test table", delimiter=",", header_scan=2)
    assert str(caught.value) == (
        "t.csv: missing column 'Code' (found: 'Title block'); expected a test table"
    )


def test_read_table_matches_column_names_regardless_of_case(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("occ_code, Tot_Emp \n11-1011,5\n", encoding="utf-8")
    frame = read_table(path, required=("OCC_CODE", "TOT_EMP"), what="t", delimiter=",")
    assert list(frame.columns) == ["OCC_CODE", "TOT_EMP"]
    assert to_int(frame, "TOT_EMP").tolist() == [5]
    with pytest.raises(DataError) as caught:
        read_table(path, required=("OCC_CODE", "A_MEAN"), what="t", delimiter=",")
    assert (
        str(caught.value)
        == "t.csv: missing column 'A_MEAN' (found: 'occ_code', 'Tot_Emp'); expected t"
    )


def test_numbers_refuse_infinity_and_nan_text(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("v\n1.5\nnan\n", encoding="utf-8")
    frame = read_table(path, required=("v",), what="t", delimiter=",")
    with pytest.raises(DataError) as caught:
        to_float(frame, "v", marks=("*",))
    assert (
        str(caught.value)
        == "t.csv, row 3, field 'v': got 'nan', expected a number or one of the marks '*'"
    )


def test_text_sha256_is_the_utf8_digest() -> None:
    assert text_sha256("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert text_sha256("é") == hashlib.sha256("é".encode()).hexdigest()


# --- the real mirror -------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not (MIRROR / "onet" / "db_29_3_text").is_dir(), reason="no data mirror")
def test_real_onet_release_counts() -> None:
    tables = read_onet(MIRROR / "onet" / "db_29_3_text")
    tasks = tables.tasks
    assert len(tasks) == 18_796
    assert tasks["task_id"].is_unique
    assert tasks["onet_soc_code"].nunique() == 923
    assert len(tables.occupations) == 1_016
    assert tasks["importance"].notna().sum() == 17_639
    assert tasks["relevance"].notna().sum() == 17_639
    # Tasks without a type are the unrated ones.
    assert (tasks["task_type"].isna() == tasks["importance"].isna()).all()
    assert tasks["importance"].dropna().between(1, 5).all()
    assert tasks["relevance"].dropna().between(0, 100).all()
    assert (
        tables.emerging_tasks["original_task_id"].notna().sum()
        == (tables.emerging_tasks["category"] == "Revision").sum()
    )
    assert set(tables.task_dwas["task_id"]) <= set(tasks["task_id"])
