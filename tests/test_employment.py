"""Tests of jobimpact.employment: OEWS, crosswalk and SOC parsing, and the employment split."""

from __future__ import annotations

import csv
import logging
import math
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from fixtures import FixturePaths, append_line, replace_in_file, write_fixture_release

from jobimpact import employment
from jobimpact.errors import DataError
from jobimpact.onet import read_onet

MIRROR = Path(__file__).resolve().parents[2] / "shared" / "data"
SCHEMA = Path(__file__).resolve().parents[1] / "jobimpact" / "store" / "sql" / "001_foundation.sql"
NAN = float("nan")


def _all_tables(paths: FixturePaths, *, with_soc_groups: bool = True) -> dict[str, pd.DataFrame]:
    onet = read_onet(paths.onet_dir)
    oews = employment.read_oews(paths.oews)
    crosswalk = employment.read_crosswalk(paths.crosswalk)
    soc_groups = employment.read_soc_structure(paths.soc_structure)
    occupations = employment.occupation_soc(onet.occupations, crosswalk, soc_groups)
    jobs = employment.allocate_employment(
        occupations,
        onet.tasks,
        crosswalk,
        oews,
        soc_groups=soc_groups if with_soc_groups else None,
    )
    return {
        "soc_groups": soc_groups,
        "occupations": occupations,
        "tasks": onet.tasks,
        "iwas": onet.iwas,
        "dwas": onet.dwas,
        "task_dwas": onet.task_dwas,
        "emerging_tasks": onet.emerging_tasks,
        "oews": oews,
        "employment": jobs,
    }


# --- OEWS ------------------------------------------------------------------------------------


def test_oews_marks_become_null_with_the_mark_kept(tmp_path: Path) -> None:
    oews = employment.read_oews(write_fixture_release(tmp_path).oews)
    assert list(oews.columns) == list(employment.OEWS_COLUMNS)
    rows = oews.set_index("occ_code")
    assert rows.at["00-0000", "tot_emp"] == 1_000_000
    assert rows.at["00-0000", "o_group"] == "total"
    assert rows.at["15-1252", "tot_emp"] == 400_000  # written "400,000"
    assert pd.isna(rows.at["15-1253", "tot_emp"])
    assert rows.at["15-1253", "tot_emp_mark"] == "**"
    assert pd.isna(rows.at["15-1253", "emp_prse"])
    assert rows.at["15-1253", "a_mean"] == 100_000.0
    assert pd.isna(rows.at["15-1255", "a_mean"]) and pd.isna(rows.at["15-1255", "a_median"])
    assert (rows.at["15-1255", "a_mean_mark"], rows.at["15-1255", "a_median_mark"]) == ("*", "*")
    assert rows.at["15-1255", "h_mean"] == 45.5
    assert rows.at["11-1011", "a_mean"] == 250_000.0
    assert pd.isna(rows.at["11-1011", "a_median"])
    assert rows.at["11-1011", "a_median_mark"] == "#"
    assert pd.isna(rows.at["11-1011", "a_mean_mark"])
    assert oews["tot_emp_mark"].notna().sum() == 1
    assert str(oews["tot_emp"].dtype) == "Int64"


def test_oews_code_listed_as_broad_and_detailed_is_kept_once(tmp_path: Path) -> None:
    oews = employment.read_oews(write_fixture_release(tmp_path).oews)
    assert len(oews) == 16  # 17 rows, 13-1020 twice
    assert oews["occ_code"].is_unique
    twin = oews[oews["occ_code"] == "13-1020"]
    assert twin["o_group"].tolist() == ["detailed"]
    assert twin["tot_emp"].tolist() == [150_000]


def test_oews_column_names_in_lower_case_are_accepted(tmp_path: Path) -> None:
    paths = write_fixture_release(tmp_path)
    text = paths.oews.read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    paths.oews.write_text(header.lower() + "\n" + rest, encoding="utf-8")
    assert employment.read_oews(paths.oews)["tot_emp"].iloc[0] == 1_000_000


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "All Occupations,total,1000000,",
            "All Occupations,total,n/a,",
            "national_M2024_dl.csv, row 2, field 'TOT_EMP': got 'n/a', "
            "expected a number or one of the marks '#', '**'",
        ),
        (
            'Software Developers,detailed,"400,000"',
            'Software Developers,detailed,"40,00"',
            "national_M2024_dl.csv, row 16, field 'TOT_EMP': got '40,00', "
            "expected a number or one of the marks '#', '**'",
        ),
        (
            "Chief Executives,detailed,200000,1.2,,,,,120.19,250000",
            "Chief Executives,detailed,200000.5,1.2,,,,,120.19,250000",
            "national_M2024_dl.csv, row 6, field 'TOT_EMP': got '200000.5', "
            "expected a whole number",
        ),
        (
            "120.19,250000",
            "120.19,**",
            "national_M2024_dl.csv, row 5, field 'A_MEAN': got '**', "
            "expected a number or one of the marks '#', '*'",
        ),
        (
            "Top Executives,minor",
            "Top Executives,group",
            "national_M2024_dl.csv, row 4, field 'O_GROUP': got 'group', "
            "expected one of total, major, minor, broad, detailed",
        ),
        (
            "1235,11-1021,",
            "1235,11-102,",
            "national_M2024_dl.csv, row 8, field 'OCC_CODE': got '11-102', "
            "expected a SOC code like 11-1011",
        ),
        (
            ",O_GROUP,TOT_EMP,",
            ",O_GROUP,EMPLOYMENT,",
            "national_M2024_dl.csv: missing column 'TOT_EMP' (found: 'AREA', 'AREA_TITLE', "
            "'AREA_TYPE', 'PRIM_STATE', 'NAICS', 'NAICS_TITLE', 'I_GROUP', 'OWN_CODE', "
            "'OCC_CODE', 'OCC_TITLE', 'O_GROUP', 'EMPLOYMENT', 'EMP_PRSE', 'JOBS_1000', "
            "'LOC_QUOTIENT', 'PCT_TOTAL', 'PCT_RPT', 'H_MEAN', 'A_MEAN', 'MEAN_PRSE', "
            "'H_PCT10', 'H_PCT25', 'H_MEDIAN', 'H_PCT75', 'H_PCT90', 'A_PCT10', 'A_PCT25', "
            "'A_MEDIAN', 'A_PCT75', 'A_PCT90', 'ANNUAL', 'HOURLY'); expected the BLS OEWS "
            "national estimates (national_M<year>_dl)",
        ),
    ],
)
def test_oews_errors_name_row_and_field(tmp_path: Path, old: str, new: str, message: str) -> None:
    paths = write_fixture_release(tmp_path)
    replace_in_file(paths.oews, old, new)
    with pytest.raises(DataError) as caught:
        employment.read_oews(paths.oews)
    assert str(caught.value) == message


def test_oews_code_twice_with_different_figures_is_refused(tmp_path: Path) -> None:
    paths = write_fixture_release(tmp_path)
    append_line(
        paths.oews,
        "99,U.S.,1,US,0,Cross-industry,cross-industry,1235,11-1021,General and Operations "
        "Managers,detailed,99,0.4,,,,,57.69,120000,,,,48.08,,,,,100000,,,,",
    )
    with pytest.raises(DataError) as caught:
        employment.read_oews(paths.oews)
    assert str(caught.value) == (
        "national_M2024_dl.csv, row 19, field 'OCC_CODE': got OCC_CODE '11-1021' again "
        "(first at row 8), expected each OCC_CODE (is this the national file?) once"
    )


# --- crosswalk and SOC structure -------------------------------------------------------------


def test_crosswalk_maps_onet_soc_to_soc(tmp_path: Path) -> None:
    crosswalk = employment.read_crosswalk(write_fixture_release(tmp_path).crosswalk)
    assert list(crosswalk.columns) == ["onet_soc_code", "soc_code"]
    assert len(crosswalk) == 11
    mapping = dict(zip(crosswalk["onet_soc_code"], crosswalk["soc_code"], strict=True))
    assert mapping["11-1011.03"] == "11-1011"
    assert mapping["15-1255.01"] == "15-1255"


def test_crosswalk_errors(tmp_path: Path) -> None:
    paths = write_fixture_release(tmp_path)
    replace_in_file(paths.crosswalk, "Chief Sustainability Officers,11-1011", "X,11-1011.03")
    with pytest.raises(DataError) as caught:
        employment.read_crosswalk(paths.crosswalk)
    assert str(caught.value) == (
        "onet_soc_2019_to_soc_2018.csv, row 3, field '2018 SOC Code': got '11-1011.03', "
        "expected a SOC code like 11-1011"
    )


def test_soc_structure_finds_its_header_and_levels(tmp_path: Path) -> None:
    paths = write_fixture_release(tmp_path)
    groups = employment.read_soc_structure(paths.soc_structure)
    assert list(groups.columns) == ["soc_code", "level", "title", "soc_major"]
    assert len(groups) == 22
    assert groups["level"].value_counts().to_dict() == {
        "detailed": 9,
        "broad": 5,
        "major": 4,
        "minor": 4,
    }
    rows = groups.set_index("soc_code")
    assert rows.loc["15-1250"].tolist() == [
        "broad",
        "Software and Web Developers, Programmers, and Testers",
        "15-0000",
    ]
    assert rows.at["45-3031", "soc_major"] == "45-0000"
    # Two more title rows above the header: it is found by content, not by line number.
    text = paths.soc_structure.read_text(encoding="utf-8")
    paths.soc_structure.write_text("Extra title,,,,\n,,,,\n" + text, encoding="utf-8")
    moved = employment.read_soc_structure(paths.soc_structure)
    pd.testing.assert_frame_equal(moved, groups)
    # Column names are matched ignoring case, the title column found after them likewise.
    header = "Major Group,Minor Group,Broad Group,Detailed Occupation"
    paths.soc_structure.write_text(text.replace(header, header.upper()), encoding="utf-8")
    shouted = employment.read_soc_structure(paths.soc_structure)
    pd.testing.assert_frame_equal(shouted, groups)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            ",,,11-1011,Chief Executives",
            ",,11-1011,11-1011,Chief Executives",
            "soc_structure_2018.csv, row 9: got codes 11-1011, 11-1011 on one row, "
            "expected one code per row",
        ),
        (
            ",,,11-1011,Chief Executives",
            ",,,11-1011,",
            "soc_structure_2018.csv, row 9, field 'Unnamed: 4': got an empty cell, "
            "expected the title of the SOC group",
        ),
        (
            ",,11-1020,,",
            ",,11-1010,,",
            "soc_structure_2018.csv, row 10, field 'SOC code': got SOC code '11-1010' again "
            "(first at row 8), expected each SOC code once",
        ),
        (
            "Broad Group,Detailed Occupation",
            "Broad Group,Detailed",
            "soc_structure_2018.csv: missing column 'Detailed Occupation' (found: 'Major Group', "
            "'Minor Group', 'Broad Group', 'Detailed'); expected the BLS SOC 2018 structure",
        ),
    ],
)
def test_soc_structure_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    paths = write_fixture_release(tmp_path)
    replace_in_file(paths.soc_structure, old, new)
    with pytest.raises(DataError) as caught:
        employment.read_soc_structure(paths.soc_structure)
    assert str(caught.value) == message


def test_occupations_get_soc_code_and_major_group(tmp_path: Path) -> None:
    tables = _all_tables(write_fixture_release(tmp_path))
    occupations = tables["occupations"].set_index("onet_soc_code")
    assert occupations.loc["11-1011.03", ["soc_code", "soc_major"]].tolist() == [
        "11-1011",
        "11-0000",
    ]
    assert occupations.loc["45-3031.00", ["soc_code", "soc_major"]].tolist() == [
        "45-3031",
        "45-0000",
    ]
    assert occupations["title"].notna().all()


def test_crosswalk_to_a_code_outside_the_soc_structure_is_refused(tmp_path: Path) -> None:
    paths = write_fixture_release(tmp_path)
    replace_in_file(paths.crosswalk, "Chief Sustainability Officers,11-1011", "X,11-1019")
    onet = read_onet(paths.onet_dir)
    crosswalk = employment.read_crosswalk(paths.crosswalk)
    soc_groups = employment.read_soc_structure(paths.soc_structure)
    with pytest.raises(DataError) as caught:
        employment.occupation_soc(onet.occupations, crosswalk, soc_groups)
    assert str(caught.value) == (
        "onet_soc_2019_to_soc_2018.csv, field '2018 SOC Code': got SOC code '11-1019' for "
        "'11-1011.03', expected a detailed code of the SOC structure"
    )


def test_occupation_missing_from_the_crosswalk_has_no_soc_code(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    paths = write_fixture_release(tmp_path)
    lines = paths.crosswalk.read_text(encoding="utf-8").splitlines(keepends=True)
    paths.crosswalk.write_text("".join(x for x in lines if "45-3031" not in x), encoding="utf-8")
    onet = read_onet(paths.onet_dir)
    crosswalk = employment.read_crosswalk(paths.crosswalk)
    soc_groups = employment.read_soc_structure(paths.soc_structure)
    with caplog.at_level(logging.WARNING, logger="jobimpact.employment"):
        occupations = employment.occupation_soc(onet.occupations, crosswalk, soc_groups)
    row = occupations.set_index("onet_soc_code").loc["45-3031.00"]
    assert pd.isna(row["soc_code"])
    assert row["soc_major"] == "45-0000"
    assert "not in the crosswalk" in caplog.text and "45-3031.00" in caplog.text


# --- employment ------------------------------------------------------------------------------

# onet_soc_code: (soc, oews code, match, oews_tot_emp, n_sharing, emp_share, split, tot_emp,
#                 a_mean, a_median, wage_bill)
EXPECTED: dict[str, tuple[Any, ...]] = {
    "11-1011.00": ("11-1011", "11-1011", "detailed", 200_000, 2, 0.5, "tasks", 100_000.0,
                   250_000.0, NAN, 2.5e10),
    "11-1011.03": ("11-1011", "11-1011", "detailed", 200_000, 2, 0.5, "tasks", 100_000.0,
                   250_000.0, NAN, 2.5e10),
    "11-1021.00": ("11-1021", "11-1021", "detailed", 100_000, 1, 1.0, "tasks", 100_000.0,
                   120_000.0, 100_000.0, 1.2e10),
    "13-1021.00": ("13-1021", "13-1020", "oews_aggregate", 150_000, 2, 0.5, "tasks", 75_000.0,
                   80_000.0, 75_000.0, 6.0e9),
    "13-1022.00": ("13-1022", "13-1020", "oews_aggregate", 150_000, 2, 0.5, "tasks", 75_000.0,
                   80_000.0, 75_000.0, 6.0e9),
    "13-1023.00": ("13-1023", "13-1020", "oews_aggregate", 150_000, 2, 0.0, "tasks", 0.0,
                   80_000.0, 75_000.0, 0.0),
    "15-1252.00": ("15-1252", "15-1252", "detailed", 400_000, 1, 1.0, "tasks", 400_000.0,
                   140_000.0, 130_000.0, 5.6e10),
    "15-1253.00": ("15-1253", "15-1253", "detailed", None, 1, 1.0, "tasks", NAN,
                   100_000.0, 98_000.0, NAN),
    "15-1255.00": ("15-1255", "15-1255", "detailed", 50_000, 2, 0.5, "all", 25_000.0,
                   NAN, NAN, NAN),
    "15-1255.01": ("15-1255", "15-1255", "detailed", 50_000, 2, 0.5, "all", 25_000.0,
                   NAN, NAN, NAN),
    "45-3031.00": ("45-3031", None, "none", None, None, NAN, None, NAN, NAN, NAN, NAN),
}  # fmt: skip
SPLITS = {
    "tasks": employment.SPLIT_WITH_TASKS,
    "all": employment.SPLIT_ALL,
    None: None,
}


def _plain(value: object) -> object:
    """NULLs of any kind as None, numbers as float, for comparison."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


@pytest.mark.parametrize("with_soc_groups", [True, False])
def test_employment_is_split_equally_among_occupations_with_tasks(
    tmp_path: Path, with_soc_groups: bool
) -> None:
    jobs = _all_tables(write_fixture_release(tmp_path), with_soc_groups=with_soc_groups)[
        "employment"
    ]
    assert list(jobs.columns) == list(employment.EMPLOYMENT_COLUMNS)
    assert jobs["onet_soc_code"].tolist() == list(EXPECTED)
    for code, expected in EXPECTED.items():
        row = jobs.set_index("onet_soc_code").loc[code]
        want = [*expected[:6], SPLITS[expected[6]], *expected[7:]]
        got = [_plain(v) for v in row.tolist()]
        assert got == [_plain(v) for v in want], code


def test_coverage_counts_each_oews_worker_once(tmp_path: Path) -> None:
    tables = _all_tables(write_fixture_release(tmp_path))
    coverage = employment.employment_coverage(tables["employment"], tables["oews"])
    assert coverage == {
        "total_employment": 1_000_000,
        # 11-1011 (200k) + 11-1021 (100k) + 13-1020 (150k) + 15-1252 (400k); 15-1253 is
        # suppressed and 15-1255 has no occupation with tasks.
        "matched_employment": 850_000.0,
        "matched_share": 0.85,
        "allocated_employment": 900_000.0,
        "oews_detailed_employment": 900_000,
        "unmatched_oews_codes": [],
        "occupations_by_match": {"detailed": 7, "oews_aggregate": 3, "none": 1},
        "double_counted_employment": 0.0,
    }


def test_competing_oews_aggregates_leave_the_code_unmatched(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    paths = write_fixture_release(tmp_path)
    append_line(
        paths.oews,
        "99,U.S.,1,US,0,Cross-industry,cross-industry,1235,13-1028,Other buyers,detailed,"
        "10,0.4,,,,,57.69,120000,,,,48.08,,,,,100000,,,,",
    )
    with caplog.at_level(logging.WARNING, logger="jobimpact.employment"):
        jobs = _all_tables(paths)["employment"].set_index("onet_soc_code")
    assert jobs.loc[["13-1021.00", "13-1022.00", "13-1023.00"], "oews_match"].tolist() == [
        "none",
        "none",
        "none",
    ]
    assert "SOC 13-1021: OEWS has several aggregates in its broad group (13-1020, 13-1028)" in (
        caplog.text
    )


def test_every_table_fits_the_store_schema(tmp_path: Path) -> None:
    tables = _all_tables(write_fixture_release(tmp_path))
    con = duckdb.connect()
    con.execute(SCHEMA.read_text(encoding="utf-8"))
    for name, frame in tables.items():
        columns = [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]
        assert sorted(frame.columns) == sorted(columns), name
        con.register("incoming", frame)
        con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM incoming")
        con.unregister("incoming")
        assert con.execute(f"SELECT count(*) FROM {name}").fetchone() == (len(frame),)
    assert con.execute(
        "SELECT importance_lower IS NULL, task_type FROM tasks WHERE task_id = 8824"
    ).fetchone() == (True, "Core")
    assert con.execute(
        "SELECT tot_emp, tot_emp_mark FROM oews WHERE occ_code = '15-1253'"
    ).fetchone() == (None, "**")
    con.close()


# --- the real mirror -------------------------------------------------------------------------


def _csv_total(path: Path) -> int:
    """TOT_EMP of the 00-0000 row, read independently of the code under test."""
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["OCC_CODE"] == "00-0000":
                return int(row["TOT_EMP"])
    raise AssertionError("no 00-0000 row")


@pytest.mark.slow
@pytest.mark.skipif(not (MIRROR / "bls" / "oews").is_dir(), reason="no data mirror")
def test_real_employment_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    onet = read_onet(MIRROR / "onet" / "db_29_3_text")
    oews_path = MIRROR / "bls" / "oews" / "national_M2024_dl.csv"
    oews = employment.read_oews(oews_path)
    crosswalk = employment.read_crosswalk(MIRROR / "crosswalks" / "onet_soc_2019_to_soc_2018.csv")
    soc_groups = employment.read_soc_structure(MIRROR / "crosswalks" / "soc_structure_2018.csv")
    occupations = employment.occupation_soc(onet.occupations, crosswalk, soc_groups)
    jobs = employment.allocate_employment(
        occupations, onet.tasks, crosswalk, oews, soc_groups=soc_groups
    )
    coverage = employment.employment_coverage(jobs, oews)
    with capsys.disabled():
        print(f"\nreal-mirror employment coverage: {coverage}")

    assert (soc_groups["level"] == "detailed").sum() == 867
    assert (soc_groups["level"] == "major").sum() == 23
    assert occupations["soc_code"].notna().all()
    assert coverage["total_employment"] == _csv_total(oews_path)
    assert coverage["double_counted_employment"] == 0.0
    assert coverage["unmatched_oews_codes"] == []
    assert coverage["allocated_employment"] == pytest.approx(coverage["oews_detailed_employment"])
    assert 0.95 < coverage["matched_share"] <= 1.0
    aggregates = set(jobs.loc[jobs["oews_match"] == "oews_aggregate", "oews_code"])
    assert aggregates == {
        "13-1020", "13-2020", "21-1018", "25-2052", "25-9045", "29-2010", "31-1120",
        "39-7010", "47-4090", "51-2028", "51-2090", "53-1047",
    }  # fmt: skip
    with_tasks = jobs["onet_soc_code"].isin(set(onet.tasks["onet_soc_code"]))
    unmatched = jobs.loc[with_tasks & (jobs["oews_match"] == "none"), "onet_soc_code"]
    assert unmatched.tolist() == ["45-3031.00"]
    shares = jobs.dropna(subset=["oews_code"]).groupby("oews_code")["emp_share"].sum()
    assert shares.round(9).eq(1.0).all()
    # Without the SOC structure the crosswalk stands for the SOC codes: same result here.
    again = employment.allocate_employment(occupations, onet.tasks, crosswalk, oews)
    pd.testing.assert_frame_equal(again, jobs)
