"""`jobimpact compare`: crosswalk rules with known answers, correlations, a user's measure
file, bad input as one exact line with the store untouched, the CLI, the report section,
and coverage on the real mirror."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from fixtures import query_rows, write_fixture_release

from jobimpact.cli import cli
from jobimpact.comparison import user_measure
from jobimpact.comparison.correlation import correlation_rows, percentile_ranks
from jobimpact.comparison.files import read_measure
from jobimpact.errors import DataError, NotReadyError
from jobimpact.pipeline import run_aggregate, run_compare, run_ingest, run_score
from jobimpact.report import Report
from jobimpact.scoring import get_backend
from jobimpact.sources import fetch

# O*NET-SOC 2010 → 2019 pairs of the fixture crosswalk: 15-1132 and 15-1133 merge into
# 15-1252.00, 15-1133 also reaches 15-1255.00, and 15-1151 and 15-1152 merge into
# 15-1253.00 (no employment figure: suppressed in the fixture OEWS).
CROSSWALK_2010 = [
    ("11-1011.00", "11-1011.00"),
    ("11-1011.03", "11-1011.03"),
    ("15-1132.00", "15-1252.00"),
    ("15-1133.00", "15-1252.00"),
    ("15-1133.00", "15-1255.00"),
    ("15-1151.00", "15-1253.00"),
    ("15-1152.00", "15-1253.00"),
]
# Fixture employment (see tests/fixtures.py): 11-1011.00 and .03 100,000 each, 11-1021.00
# 100,000, 13-1021.00 and 13-1022.00 75,000 each, 15-1252.00 400,000, 15-1255.00 25,000;
# 850,000 in the 8 occupations with tasks.
MATCHED_EMPLOYMENT = 850_000.0
WITH_TASKS = [
    "11-1011.00", "11-1011.03", "11-1021.00", "13-1021.00", "13-1022.00", "15-1252.00",
    "15-1253.00", "45-3031.00",
]  # fmt: skip


def _csv(path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _crosswalk_mirror(root: Path) -> Path:
    header = ["O*NET-SOC 2010 Code", "O*NET-SOC 2010 Title", "O*NET-SOC 2019 Code", "Title"]
    (root / "crosswalks").mkdir(parents=True)
    _csv(
        root / "crosswalks/onet_soc_2010_to_2019.csv",
        [header, *[[a, "", b, ""] for a, b in CROSSWALK_2010]],
    )
    return root


@pytest.fixture(scope="module")
def compare_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(store, data folder): the fixture release scored by the fake scorer and rolled up,
    with the fixture 2010 crosswalk fetched (no published measure)."""
    root = tmp_path_factory.mktemp("compare")
    paths = write_fixture_release(root / "data")
    db = root / "store.duckdb"
    run_ingest(db=db, data_dir=paths.data_dir)
    run_score(db=db, scorer=get_backend("fake"))
    run_aggregate(db=db, n_boot=20)
    fetch(
        ["onet_soc_2010_crosswalk"],
        data_dir=paths.data_dir,
        mirror=_crosswalk_mirror(root / "mirror"),
        progress=False,
    )
    return db, paths.data_dir


@pytest.fixture
def store(compare_store: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the compare store that a test may write to, and the data folder."""
    db = tmp_path / "store.duckdb"
    shutil.copy(compare_store[0], db)
    return db, compare_store[1]


def _carried(db: Path, measure: str) -> dict[str, tuple[object, ...]]:
    rows = query_rows(
        db,
        "SELECT onet_soc_code, round(value, 6), crosswalk_rule, n_codes, codes, n_sharing, "
        f"match_level FROM external_measure_occupations WHERE measure = '{measure}'",
    )
    return {str(row[0]): tuple(row[1:]) for row in rows}


def test_soc2018_codes_are_copied_equally_and_the_most_specific_wins(
    store: tuple[Path, Path], tmp_path: Path
) -> None:
    db, data = store
    rows = [["soc", "score"], ["11-1011", "0.4"], ["13-1020", "0.6"], ["15-1252", "0.8"],
            ["11-1021", "0.2"], ["15-1200", "0.5"]]  # fmt: skip
    spec = user_measure(
        _csv(tmp_path / "exposure.csv", rows), key_column="soc", value_column="score"
    )
    run_compare(db=db, data_dir=data, measures=[], user_measures=[spec], n_boot=0)
    assert _carried(db, "exposure") == {
        "11-1011.00": (0.4, "equal copy", 1, ["11-1011"], 2, "detailed"),
        "11-1011.03": (0.4, "equal copy", 1, ["11-1011"], 2, "detailed"),
        "11-1021.00": (0.2, "one to one", 1, ["11-1021"], 1, "detailed"),
        # 13-1020 is the OEWS aggregate of the three buyer occupations
        "13-1021.00": (0.6, "equal copy", 1, ["13-1020"], 3, "OEWS aggregate"),
        "13-1022.00": (0.6, "equal copy", 1, ["13-1020"], 3, "OEWS aggregate"),
        "13-1023.00": (0.6, "equal copy", 1, ["13-1020"], 3, "OEWS aggregate"),
        # the minor group 15-1200 reaches the 15-12xx occupations its detailed code does not
        "15-1252.00": (0.8, "one to one", 1, ["15-1252"], 1, "detailed"),
        "15-1253.00": (0.5, "equal copy", 1, ["15-1200"], 3, "minor group"),
        "15-1255.00": (0.5, "equal copy", 1, ["15-1200"], 3, "minor group"),
        "15-1255.01": (0.5, "equal copy", 1, ["15-1200"], 3, "minor group"),
    }
    coverage = query_rows(
        db,
        "SELECT n_codes, n_unknown, n_codes_matched, occupations_matched, occupations_with_tasks, "
        "employment_matched, employment_share, n_one_to_one, n_equal_copy, n_merged "
        "FROM external_measure_coverage",
    )
    assert coverage == [(5, 0, 5, 7, 8, MATCHED_EMPLOYMENT, 1.0, 2, 5, 0)]


def test_soc2010_codes_merge_by_employment_through_the_2010_crosswalk(
    store: tuple[Path, Path], tmp_path: Path
) -> None:
    db, data = store
    rows = [["SOC", "risk"], ["11-1011", "0.3"], ["15-1132", "0.2"], ["15-1133", "0.5"],
            ["15-1151", "0.1"], ["15-1152", "0.3"], ["15-1150", "0.9"]]  # fmt: skip
    path = _csv(tmp_path / "risk.csv", rows)
    spec = user_measure(path, key_column="SOC", value_column="risk", code_system="soc2010")
    run_compare(db=db, data_dir=data, measures=[], user_measures=[spec], n_boot=0)
    # 15-1132 reaches 15-1252.00 (400,000 workers); 15-1133 reaches it and 15-1255.00
    # (25,000): (0.2 * 400,000 + 0.5 * 425,000) / 825,000.
    merged = round((0.2 * 400_000 + 0.5 * 425_000) / 825_000, 6)
    assert merged == 0.354545
    path_2010 = "SOC 2010 → O*NET-SOC 2010 → O*NET-SOC 2019"
    assert _carried(db, "risk") == {
        "11-1011.00": (0.3, "equal copy", 1, ["11-1011"], 2, "detailed"),
        "11-1011.03": (0.3, "equal copy", 1, ["11-1011"], 2, "detailed"),
        "15-1252.00": (
            merged,
            "employment-weighted mean",
            2,
            ["15-1132", "15-1133"],
            2,
            "detailed",
        ),
        "15-1255.00": (0.5, "equal copy", 1, ["15-1133"], 2, "detailed"),
        # two codes, neither reaching any employment: a plain mean; the broad group
        # 15-1150 loses to its detailed codes
        "15-1253.00": (0.2, "mean", 2, ["15-1151", "15-1152"], 1, "detailed"),
    }
    assert query_rows(db, "SELECT DISTINCT crosswalk_path FROM external_measure_occupations") == [
        (path_2010,)
    ]
    coverage = query_rows(
        db,
        "SELECT n_codes, n_codes_matched, occupations_matched, employment_matched, n_merged "
        "FROM external_measure_coverage",
    )
    assert coverage == [(6, 5, 4, 600_000.0, 2)]


def test_a_soc2010_measure_needs_the_fetched_crosswalk(
    store: tuple[Path, Path], tmp_path: Path
) -> None:
    db = store[0]
    path = _csv(tmp_path / "old.csv", [["SOC", "v"], ["11-1011", "1"]])
    spec = user_measure(path, key_column="SOC", value_column="v", code_system="soc2010")
    empty = tmp_path / "empty_data"
    with pytest.raises(DataError) as caught:
        run_compare(db=db, data_dir=empty, measures=[], user_measures=[spec])
    folder = empty / "raw/onet_soc_2010_crosswalk/2019"
    assert str(caught.value) == (
        f"{folder}: got no fetched onet_soc_2010_crosswalk 2019, expected it to compare with; "
        "run `jobimpact fetch --source onet_soc_2010_crosswalk` first"
    )
    _untouched(db)


def test_correlations_match_the_textbook_formulas() -> None:
    rng = np.random.default_rng(3)
    x = pd.Series(rng.normal(size=40))
    y = pd.Series(x + rng.normal(size=40))
    y[5] = y[6]  # a tie
    weights = pd.Series(rng.integers(1, 5, size=40).astype(float))
    rows = {(r["method"], r["weights"]): r for r in correlation_rows(x, y, weights, n_boot=200)}
    assert rows["pearson", "none"]["value"] == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert rows["spearman", "none"]["value"] == pytest.approx(x.corr(y, method="spearman"))
    # Integer weights are the same as repeating each occupation that many times.
    repeated = np.repeat(np.arange(40), weights.astype(int))
    xr, yr = x.iloc[repeated].reset_index(drop=True), y.iloc[repeated].reset_index(drop=True)
    assert rows["pearson", "employment"]["value"] == pytest.approx(np.corrcoef(xr, yr)[0, 1])
    assert rows["spearman", "employment"]["value"] == pytest.approx(xr.corr(yr, method="spearman"))
    for row in rows.values():
        assert row["ci_low"] < row["value"] < row["ci_high"] and row["n"] == 40
    again = correlation_rows(x, y, weights, n_boot=200)
    assert [r["ci_low"] for r in again] == [r["ci_low"] for r in rows.values()]
    few = correlation_rows(x[:4], y[:4], weights[:4], n_boot=10)
    assert all(np.isnan(r["value"]) and r["n"] == 4 for r in few)
    assert list(percentile_ranks(pd.Series([3.0, 1.0, 3.0, 2.0]))) == [0.75, 0.125, 0.75, 0.375]


def _measure_file(tmp_path: Path, name: str = "my_index.tsv") -> Path:
    """An O*NET-SOC keyed measure over the 8 occupations with tasks (tab-separated)."""
    rows = [["code", "index"]] + [[code, str(i / 10)] for i, code in enumerate(WITH_TASKS)]
    path = tmp_path / name
    path.write_text("\n".join("\t".join(row) for row in rows) + "\n", encoding="utf-8")
    return path


def test_a_users_measure_is_compared_and_stored(store: tuple[Path, Path], tmp_path: Path) -> None:
    db, data = store
    spec = user_measure(
        _measure_file(tmp_path, "my_index.tsv"),
        key_column="code",
        value_column="index",
        code_system="onet2019",
    )
    result = run_compare(db=db, data_dir=data, measures=[], user_measures=[spec], n_boot=50)
    assert result.measures == ["my_index"] and result.skipped == []
    assert result.scoring.weighting == "rating" and result.scoring.method == "zero-shot"
    ours = query_rows(
        db, "SELECT onet_soc_code, beta, displacement, creation FROM occupation_impact"
    )
    frame = pd.DataFrame(ours, columns=["code", "beta", "displacement", "creation"]).set_index(
        "code"
    )
    theirs = pd.Series([i / 10 for i in range(8)], index=WITH_TASKS)
    for x in ("beta", "displacement", "creation"):
        stored = result.correlations.set_index(["x", "method", "weights"]).loc[
            (x, "spearman", "none")
        ]
        assert stored["value"] == pytest.approx(frame[x].corr(theirs, method="spearman"))
        assert stored["n"] == 8
    assert query_rows(
        db, "SELECT measure, version, n_rows, n_codes, source FROM external_measure_info"
    ) == [("my_index", result.coverage.loc[0, "sha256"][:12], 8, 8, None)]
    stored = query_rows(
        db, "SELECT count(*), count(DISTINCT comparison_id) FROM comparison_correlations"
    )
    assert stored == [(12, 1)]  # 3 of ours x 2 methods x 2 weightings
    disagreements = result.disagreements
    assert set(disagreements["direction"]) <= {"ours higher", "ours lower"}
    assert (disagreements["rank_difference"].abs() > 0).all()
    for code in disagreements["onet_soc_code"]:
        tasks = result.drivers["my_index"][code]
        assert list(tasks.columns) == ["task_id", "task", "value", "weight_share", "contribution"]
        assert tasks["contribution"].is_monotonic_decreasing
    runs = query_rows(db, "SELECT status, counts->>'measures' FROM runs WHERE stage = 'compare'")
    assert runs == [("done", "1")]


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def _untouched(db: Path) -> None:
    counts = query_rows(
        db,
        "SELECT (SELECT count(*) FROM external_measures), (SELECT count(*) FROM code_links), "
        "(SELECT count(*) FROM comparisons), (SELECT count(*) FROM runs WHERE stage = 'compare')",
    )
    assert counts == [(0, 0, 0, 0)]


BAD_FILES = {
    "unknown code": (
        [["soc", "score"], ["11-1011", "0.4"], ["99-9999", "0.5"]],
        "unknown.csv, row 3, field 'soc': got '99-9999', expected a SOC 2018 code like 11-1011 "
        "known to the SOC 2018 structure, the O*NET crosswalk or OEWS",
    ),
    "duplicate code": (
        [["soc", "score"], ["11-1011", "0.4"], ["11-1021", "0.5"], ["11-1011", "0.7"]],
        "duplicate.csv, row 4, field 'soc': got code '11-1011' again with value 0.7 (first at "
        "row 2 with 0.4), expected each code once",
    ),
    "non-numeric value": (
        [["soc", "score"], ["11-1011", "0.4"], ["11-1021", "high"]],
        "text.csv, row 3, field 'score': got 'high', expected a number",
    ),
    "missing column": (
        [["soc", "points"], ["11-1011", "0.4"]],
        "columns.csv: missing column 'score' (found: 'soc', 'points'); expected a table of "
        "columns: 'soc' codes and 'score' values",
    ),
    "malformed code": (
        [["soc", "score"], ["11-1011.00", "0.4"]],
        "malformed.csv, row 2, field 'soc': got '11-1011.00', expected a SOC 2018 code like "
        "11-1011",
    ),
}
_BAD_NAMES = {"unknown code": "unknown", "duplicate code": "duplicate", "non-numeric value": "text",
              "missing column": "columns", "malformed code": "malformed"}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_input_is_one_line_and_leaves_the_store_as_it_was(
    case: str, store: tuple[Path, Path], tmp_path: Path
) -> None:
    db, data = store
    rows, message = BAD_FILES[case]
    path = _csv(tmp_path / f"{_BAD_NAMES[case]}.csv", rows)
    code, output = _invoke(
        *("compare", "--db", str(db), "--data-dir", str(data), "--measures", "none"),
        *("--measure", str(path), "--key-column", "soc", "--value-column", "score"),
    )
    assert (code, output) == (1, f"Error: {message}\n")
    _untouched(db)


def test_a_published_file_may_leave_unknown_codes_out(tmp_path: Path) -> None:
    from dataclasses import replace

    from jobimpact.comparison import PUBLISHED_MEASURES

    spec = replace(PUBLISHED_MEASURES["frey_osborne"], key_column="soc", value_column="p")
    path = _csv(
        tmp_path / "fo.csv",
        [["soc", "p"], ["11-1011", "0.1"], ["29-9799", "0.5"], ["11-1011", "0.1"]],
    )
    read = read_measure(spec, path, known={"11-1011"})
    assert read.unknown == ("29-9799",) and read.n_rows == 3
    assert read.values.to_dict("list") == {"code": ["11-1011"], "value": [0.1], "source_row": [2]}


def test_cli_prints_coverage_matrices_and_disagreements(
    store: tuple[Path, Path], tmp_path: Path
) -> None:
    db, data = store
    path = _measure_file(tmp_path)
    code, output = _invoke(
        *("compare", "--db", str(db), "--data-dir", str(data), "--measures", "none"),
        *("--measure", str(path), "--key-column", "code", "--value-column", "index"),
        *("--code-system", "onet2019", "--n-boot", "50"),
    )
    assert code == 0, output
    lines = output.splitlines()
    model, rubric = query_rows(db, "SELECT DISTINCT model_id, rubric_hash FROM occupation_scores")[
        0
    ]
    assert (
        lines[0]
        == f"compared with {model} / rubric {str(rubric)[:12]} / zero-shot (rating weights)"
    )
    start = lines.index("coverage (occupations with tasks; employment matched to them)")
    assert lines[start + 1].split() == [
        *("measure", "codes", "kept", "unknown", "matched", "occupations", "employment"),
        *("one-to-one", "/", "copy", "/", "merged"),
    ]
    assert lines[start + 2].split() == [
        *("my_index", "onet2019", "8", "0", "8", "8/8", "(100.0%)", "0.8", "M", "(100.0%)"),
        *("8", "/", "0", "/", "0"),
    ]
    for title in ("Spearman, unweighted", "Spearman, employment-weighted", "Pearson, unweighted",
                  "Pearson, employment-weighted"):  # fmt: skip
        at = lines.index(f"{title} (95% bootstrap interval over occupations)")
        assert lines[at + 1].split() == ["my_index"]
        for offset, ours in enumerate(("beta", "displacement", "creation"), start=2):
            assert lines[at + offset].startswith(f"ours: {ours}")
            assert lines[at + offset].rstrip().endswith("]")
        assert lines[at + 5].startswith("occupations compared with ours: my_index ")
    assert "my_index vs our beta (percentile ranks, ours vs theirs):" in lines
    assert any(line.strip().startswith("top task (beta ") for line in lines)
    assert lines[-1].startswith("comparison ") and lines[-1].endswith(" s)")


def test_cli_usage_and_names_are_checked(store: tuple[Path, Path], tmp_path: Path) -> None:
    db, data = store
    base = ("compare", "--db", str(db), "--data-dir", str(data))
    code, output = _invoke(*base, "--measures", "nope")
    assert (code, output) == (
        1,
        "Error: --measures: got 'nope', expected some of felten_lm_aioe, frey_osborne, "
        "ms_ai_applicability, gpts_human_beta, gpts_gpt4_beta\n",
    )
    code, output = _invoke(*base, "--measure", str(_measure_file(tmp_path)))
    assert code == 2 and "--measure needs --key-column and --value-column" in output
    code, output = _invoke(*base)
    assert (code, output) == (
        1,
        "Error: compare: got no published measure fetched and no --measure file, expected "
        "some; run `jobimpact fetch` (or name a file with --measure)\n",
    )
    _untouched(db)


def test_compare_needs_a_roll_up(db: Path, tmp_path: Path) -> None:
    with pytest.raises(NotReadyError, match="expected a scored and aggregated store"):
        run_compare(db=db, data_dir=tmp_path, measures=[])


def test_report_shows_the_comparison_or_a_sentence(
    store: tuple[Path, Path], tmp_path: Path
) -> None:
    from jobimpact.report.render import render_html

    db, data = store
    summary = Report.from_store(db).summary
    assert summary["comparison"] == {"available": False}
    page = render_html(summary, {})
    assert '<section id="compare"' in page
    assert "No comparison with published measures is stored for this scoring." in page

    spec = user_measure(
        _measure_file(tmp_path), key_column="code", value_column="index", code_system="onet2019"
    )
    result = run_compare(db=db, data_dir=data, measures=[], user_measures=[spec], n_boot=20)
    section = Report.from_store(db).summary["comparison"]
    assert section["available"] and section["comparison_id"] == result.comparison_id
    assert list(section["table"]["ours"]) == ["beta", "displacement", "creation"]
    assert section["table"]["counterpart"].tolist() == [True, False, False]
    assert section["coverage"]["measure"].tolist() == ["my_index"]
    listed = section["disagreements"]
    assert (listed["position"] <= 2).all() and set(listed["measure"]) == {"my_index"}
    for code in listed["onet_soc_code"]:
        assert len(section["drivers"]["my_index"][code]) <= 2
    page = render_html({**summary, "comparison": section}, {})
    assert "No comparison with published measures" not in page
    assert "8 · How this compares" in page and "Where we disagree most" in page
    assert str(listed.iloc[0]["title"]) in page
    assert "my_index</b> (index from my_index.tsv)" in page


@pytest.mark.slow
def test_report_draws_the_heat_map_and_the_small_multiples(
    store: tuple[Path, Path], tmp_path: Path
) -> None:
    db, data = store
    spec = user_measure(
        _measure_file(tmp_path), key_column="code", value_column="index", code_system="onet2019"
    )
    run_compare(db=db, data_dir=data, measures=[], user_measures=[spec], n_boot=20)
    report = Report.from_store(db)
    figures = report.figures()
    assert {"compare_heatmap", "compare_scatter"} <= set(figures)
    heatmap = figures["compare_heatmap"]
    assert heatmap._suptitle is not None
    assert heatmap._suptitle.get_text() == "Rank correlation of occupation measures (Spearman)"
    # ours (3 rows) against the one measure, in both panels
    assert [len(ax.texts) for ax in heatmap.axes[:2]] == [3, 3]
    page = report.to_html()
    assert 'id="fig-compare_heatmap-' in page and 'id="fig-compare_scatter-' in page


@pytest.mark.slow
def test_coverage_of_every_published_measure_on_the_mirror(
    mirror_store: Path, mirror_data: Path, tmp_path: Path
) -> None:
    db = tmp_path / "store.duckdb"
    shutil.copy(mirror_store, db)
    run_score(db=db, scorer=get_backend("fake"), sample=30)
    run_aggregate(db=db, n_boot=0)
    result = run_compare(db=db, data_dir=mirror_data, n_boot=20)
    coverage = result.coverage.set_index("measure")
    columns = [
        *("n_rows", "n_codes", "n_unknown", "n_codes_matched", "occupations_matched"),
        *("occupations_with_tasks", "n_one_to_one", "n_equal_copy", "n_merged"),
    ]
    assert coverage[columns].to_dict("split")["data"] == [
        [774, 774, 0, 767, 912, 923, 650, 229, 33],  # felten_lm_aioe
        [732, 689, 13, 682, 850, 923, 583, 242, 25],  # frey_osborne
        [785, 785, 0, 785, 923, 923, 701, 222, 0],  # ms_ai_applicability
        [459, 459, 0, 459, 459, 923, 459, 0, 0],  # gpts_human_beta
        [459, 459, 0, 459, 459, 923, 459, 0, 0],  # gpts_gpt4_beta
    ]
    assert list(coverage.index) == [
        "felten_lm_aioe", "frey_osborne", "ms_ai_applicability", "gpts_human_beta", "gpts_gpt4_beta"
    ]  # fmt: skip
    shares = coverage["employment_share"].round(3).to_dict()
    assert shares == {"felten_lm_aioe": 0.997, "frey_osborne": 0.914, "ms_ai_applicability": 1.0,
                      "gpts_human_beta": 0.507, "gpts_gpt4_beta": 0.507}  # fmt: skip
    assert sorted(coverage.loc["frey_osborne", "unknown_codes"]) == [
        "13-1078", "15-1179", "15-1799", "25-3999", "29-1111", "29-2037", "29-2799", "29-9799",
        "31-9799", "39-4831", "47-4799", "49-9799", "51-9399",
    ]  # fmt: skip
    assert result.skipped == []
